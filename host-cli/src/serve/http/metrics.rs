//! The daemon's Prometheus series (encoded with prometheus-client), one set per target, all labelled `target`:
//!
//! - `echoprobe_target_up`: 1 up, 0 down (after `rise`/`fall`). Present from the moment the target is configured
//!   (0 until it rises), so that an alert on `echoprobe_target_up == 0` sees a target that never answered.
//! - `echoprobe_check_duration_seconds{phase}`: each phase of each scheduled check: `connect`, `tls` (over TLS
//!   only), `associate`, `echo` (each C-ECHO round trip) or `find` (a find check's query, C-FIND-RQ to the final
//!   C-FIND-RSP) and `release`; a phase not reached is not observed.
//! - `echoprobe_check_total_duration_seconds`: the whole check, start to verdict. The total is its own histogram,
//!   not a `phase="total"`, so that summing over `phase` stays meaningful.
//! - `echoprobe_checks_total{outcome}`: checks finished, by the exit-code table's row name (`healthy`, `rejected`,
//!   `acse-timeout`, ...). An outcome's series appears with its first check (none before the first check).
//! - `echoprobe_last_check_timestamp_seconds`: when the last check ended (Unix time); absent before the first check.
//!
//! And one daemon-wide: `echoprobe_schedule_lag_seconds`, a histogram of how late each scheduled check started
//! against its planned start (waiting for the concurrency cap included).
//!
//! Each target's series live in one small [`Series`] (fixed arrays, no per-series label strings, no locks per
//! series); `/metrics` is encoded by prometheus-client's encoder a few dozen targets at a time and streamed as the
//! response body ([`stream`]), so a scrape of 10,000 targets never holds the whole text.
//!
//! Served in the OpenMetrics text format to a client that asks for it (Prometheus asks first), else in Prometheus's
//! text format 0.0.4 (what `promtool check metrics` reads, and every scraper): see [`Format::asked`].

use core::ops::Bound;
use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse as _, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::serve::model::{CheckRecord, Health, MetricsSink};

/// The `Content-Type` of [`Metrics::encode`]'s text (OpenMetrics).
pub(super) const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The `Content-Type` of Prometheus's text format.
pub(super) const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Histogram bucket bounds in seconds: a LAN echo takes about a millisecond, a timeout up to tens of seconds.
const BUCKETS: [f64; 9] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0];

/// The schedule lag's bucket bounds in seconds (the goal is a p99 under 100 ms).
const LAG_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// The phases of `echoprobe_check_duration_seconds`, in [`Series::phases`] order (and of `/probe`'s
/// `probe_dicom_phase_duration_seconds`).
pub(super) const PHASES: [&str; 6] = ["connect", "tls", "associate", "echo", "find", "release"];

/// Targets encoded per chunk of a streamed `/metrics` body (a target's phase histograms are some 4 KB of text: a
/// chunk stays near 100 KB).
const CHUNK_TARGETS: usize = 32;

/// A classic histogram over [`BUCKETS`] (its count is the sum of its buckets).
#[derive(Debug, Clone, Copy, Default)]
struct Hist {
    sum: f64,
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    buckets: [u64; BUCKETS.len() + 1],
}

impl Hist {
    fn observe(&mut self, d: Duration) {
        let v = d.as_secs_f64();
        self.sum += v;
        let i = BUCKETS
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(BUCKETS.len());
        if let Some(b) = self.buckets.get_mut(i) {
            *b += 1;
        }
    }

    fn encode(&self, encoder: &mut MetricEncoder<'_>) -> Result<(), core::fmt::Error> {
        let mut buckets = [(0.0, 0); BUCKETS.len() + 1];
        for ((slot, bound), n) in buckets
            .iter_mut()
            .zip(BUCKETS.iter().chain([f64::INFINITY].iter()))
            .zip(self.buckets)
        {
            *slot = (*bound, n);
        }
        let count = self.buckets.iter().sum();
        encoder.encode_histogram::<NoLabelSet>(self.sum, count, &buckets, None)
    }
}

/// One target's series (boxed in [`Metrics::targets`]; about 600 bytes for a plain echo check's four phases).
#[derive(Debug, Clone, Default)]
struct Series {
    up: bool,
    /// When the last check ended (Unix seconds); `None` before the first (then nothing is observed).
    last: Option<f64>,
    total: Hist,
    /// The phases observed, by index into [`PHASES`], in the order they first came (a phase never reached, TLS
    /// of a plain check or a find of an echo, takes no room).
    phases: Vec<(u8, Hist)>,
    /// Checks by outcome, in the order the outcomes first came.
    checks: Vec<(&'static str, u64)>,
}

impl Series {
    fn phase(&mut self, i: usize) -> &mut Hist {
        let at = match self.phases.iter().position(|(p, _)| usize::from(*p) == i) {
            Some(at) => at,
            None => {
                self.phases.reserve_exact(1);
                self.phases.push((i as u8, Hist::default()));
                self.phases.len() - 1
            }
        };
        &mut self.phases[at].1
    }
}

/// The families, in the order they are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fam {
    Up,
    Phases,
    Total,
    Checks,
    Last,
}

const FAMILIES: [Fam; 5] = [Fam::Up, Fam::Phases, Fam::Total, Fam::Checks, Fam::Last];

impl Fam {
    fn descriptor(self) -> (&'static str, &'static str, Option<Unit>, MetricType) {
        match self {
            Fam::Up => (
                "echoprobe_target_up",
                "Whether the target is up (1) or down (0), after rise/fall",
                None,
                MetricType::Gauge,
            ),
            Fam::Phases => (
                "echoprobe_check_duration",
                "How long each phase of a check took (connect, tls, associate, echo round trip or find, release)",
                Some(Unit::Seconds),
                MetricType::Histogram,
            ),
            Fam::Total => (
                "echoprobe_check_total_duration",
                "How long a whole check took, start to verdict",
                Some(Unit::Seconds),
                MetricType::Histogram,
            ),
            Fam::Checks => (
                "echoprobe_checks",
                "Checks finished, by outcome (the exit-code table's row name)",
                None,
                MetricType::Counter,
            ),
            Fam::Last => (
                "echoprobe_last_check_timestamp",
                "When the last check ended (Unix time)",
                Some(Unit::Seconds),
                MetricType::Gauge,
            ),
        }
    }

    /// `target`'s samples of this family.
    fn encode_target(
        self,
        encoder: &mut MetricEncoder<'_>,
        target: &str,
        s: &Series,
    ) -> Result<(), core::fmt::Error> {
        let labels = [("target", target)];
        match self {
            Fam::Up => encoder
                .encode_family(&labels)?
                .encode_gauge(&i64::from(s.up)),
            Fam::Phases => {
                for (i, phase) in PHASES.iter().enumerate() {
                    if let Some((_, h)) = s.phases.iter().find(|(p, _)| usize::from(*p) == i) {
                        let labels = [("target", target), ("phase", phase)];
                        h.encode(&mut encoder.encode_family(&labels)?)?;
                    }
                }
                Ok(())
            }
            Fam::Total if s.last.is_some() => s.total.encode(&mut encoder.encode_family(&labels)?),
            Fam::Checks => {
                for (outcome, n) in &s.checks {
                    let labels = [("target", target), ("outcome", outcome)];
                    encoder
                        .encode_family(&labels)?
                        .encode_counter::<NoLabelSet, _, u64>(n, None)?;
                }
                Ok(())
            }
            Fam::Last => match s.last {
                Some(t) => encoder.encode_family(&labels)?.encode_gauge(&t),
                None => Ok(()),
            },
            Fam::Total => Ok(()),
        }
    }
}

/// A piece of one family for prometheus-client's encoder: a copy of a few targets' series, taken under the lock
/// and encoded after it.
#[derive(Debug)]
struct Chunk {
    fam: Fam,
    rows: Vec<(Box<str>, Series)>,
}

impl Collector for Chunk {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), core::fmt::Error> {
        let (name, help, unit, kind) = self.fam.descriptor();
        let mut family = encoder.encode_descriptor(name, help, unit.as_ref(), kind)?;
        for (target, series) in &self.rows {
            self.fam.encode_target(&mut family, target, series)?;
        }
        Ok(())
    }
}

/// The Prometheus series of every target; the engine feeds it as a [`MetricsSink`], `GET /metrics` reads it.
pub struct Metrics {
    /// By target name (the scrape's order); boxed, so that the map's nodes stay small.
    targets: Mutex<BTreeMap<Box<str>, Box<Series>>>,
    /// The daemon-wide series (the schedule lag).
    daemon: Registry,
    lag: Histogram,
}

impl core::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// No series yet.
    pub fn new() -> Self {
        let lag = Histogram::new(LAG_BUCKETS);
        let mut daemon = Registry::default();
        daemon.register_with_unit(
            "echoprobe_schedule_lag",
            "How late scheduled checks started against their planned start",
            Unit::Seconds,
            lag.clone(),
        );
        Metrics {
            targets: Mutex::new(BTreeMap::new()),
            daemon,
            lag,
        }
    }

    /// The OpenMetrics text of every series.
    pub fn encode(&self) -> String {
        self.render(Format::OpenMetrics)
    }

    /// Every series in `format`, as one text (the chunks of [`stream`] joined).
    pub(super) fn render(&self, format: Format) -> String {
        let mut scrape = Scrape::new(format);
        let mut out = String::new();
        while let Some(chunk) = scrape.next(self) {
            out.push_str(&chunk);
        }
        out
    }

    fn targets(&self) -> std::sync::MutexGuard<'_, BTreeMap<Box<str>, Box<Series>>> {
        self.targets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next [`CHUNK_TARGETS`] targets of `fam` after `after` (a copy), and the last one's name.
    fn chunk(&self, fam: Fam, after: Option<&str>) -> Chunk {
        let targets = self.targets();
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let rows = targets
            .range::<str, _>((from, Bound::Unbounded))
            .take(CHUNK_TARGETS)
            .map(|(name, s)| (name.clone(), Series::clone(s)))
            .collect();
        Chunk { fam, rows }
    }
}

impl MetricsSink for Metrics {
    fn observe(&self, target: &str, record: &CheckRecord, health: Health) {
        let ended = (record.at + record.total)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut targets = self.targets();
        let s = match targets.get_mut(target) {
            Some(s) => s,
            None => targets.entry(target.into()).or_default(),
        };
        s.up = health == Health::Up;
        s.last = Some(ended.as_secs_f64());
        s.total.observe(record.total);
        let tl = &record.timeline;
        // In PHASES order.
        for (i, d) in [tl.connect, tl.tls, tl.associate].into_iter().enumerate() {
            if let Some(d) = d {
                s.phase(i).observe(d);
            }
        }
        for d in &tl.echoes {
            s.phase(3).observe(*d);
        }
        for (i, d) in [(4, tl.find), (5, tl.release)] {
            if let Some(d) = d {
                s.phase(i).observe(d);
            }
        }
        match s.checks.iter_mut().find(|(o, _)| *o == record.result) {
            Some((_, n)) => *n += 1,
            None => {
                s.checks.reserve_exact(1);
                s.checks.push((record.result, 1));
            }
        }
    }

    fn forget(&self, target: &str) {
        self.targets().remove(target);
    }

    fn known(&self, target: &str) {
        let mut targets = self.targets();
        match targets.get_mut(target) {
            Some(s) => s.up = false,
            None => {
                targets.insert(target.into(), Box::default());
            }
        }
    }

    fn lag(&self, lag: Duration) {
        self.lag.observe(lag.as_secs_f64());
    }
}

/// Where a scrape is: the daemon-wide series first, then each family a chunk of targets at a time.
struct Scrape {
    format: Format,
    /// The family being encoded (an index into [`FAMILIES`]); `None`: the daemon-wide series are next.
    fam: Option<usize>,
    /// The last target encoded in this family (`None`: the family's first chunk, with its descriptor).
    after: Option<Box<str>>,
    /// The text-format rewriter's state (a `# HELP` waiting for its `# TYPE`).
    text: TextFormat,
    done: bool,
}

impl Scrape {
    fn new(format: Format) -> Self {
        Scrape {
            format,
            fam: None,
            after: None,
            text: TextFormat::default(),
            done: false,
        }
    }

    /// The next piece of the text, or `None` at the end.
    fn next(&mut self, metrics: &Metrics) -> Option<String> {
        if self.done {
            return None;
        }
        let Some(i) = self.fam else {
            self.fam = Some(0);
            return Some(self.encode(&metrics.daemon, false));
        };
        let Some(fam) = FAMILIES.get(i).copied() else {
            self.done = true;
            let mut out = String::new();
            if self.format == Format::OpenMetrics {
                // Writing into a String cannot fail.
                let _ = prometheus_client::encoding::text::encode_eof(&mut out);
            }
            return Some(out);
        };
        let chunk = metrics.chunk(fam, self.after.as_deref());
        let continued = self.after.is_some();
        let last = chunk.rows.last().map(|(name, _)| name.clone());
        let full = chunk.rows.len() == CHUNK_TARGETS;
        let mut registry = Registry::default();
        registry.register_collector(Box::new(chunk));
        let out = self.encode(&registry, continued);
        if full {
            self.after = last;
        } else {
            self.fam = Some(i + 1);
            self.after = None;
        }
        Some(out)
    }

    /// `registry`'s families without `# EOF`; `continued`: without their descriptors (a family's later chunk).
    fn encode(&mut self, registry: &Registry, continued: bool) -> String {
        let mut raw = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut raw, registry);
        let mut out = String::with_capacity(raw.len());
        for line in raw.lines() {
            if continued && line.starts_with("# ") {
                continue;
            }
            match self.format {
                Format::OpenMetrics => {
                    out.push_str(line);
                    out.push('\n');
                }
                Format::Text => self.text.line(line, &mut out),
            }
        }
        if self.format == Format::Text {
            self.text.flush(&mut out);
        }
        out
    }
}

/// The `/metrics` response: encoded a chunk at a time as hyper asks for the body.
pub(super) fn stream(metrics: Arc<Metrics>, format: Format) -> Response {
    let mut scrape = Scrape::new(format);
    let body = super::stream::body(move || scrape.next(&metrics));
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// The two text formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// OpenMetrics 1.0.0, prometheus-client's own.
    OpenMetrics,
    /// Prometheus's text format 0.0.4.
    Text,
}

impl Format {
    /// OpenMetrics when `Accept` names `application/openmetrics-text` (as Prometheus does), else the text format.
    pub(super) fn asked(headers: &HeaderMap) -> Format {
        let openmetrics = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("application/openmetrics-text"));
        if openmetrics {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS,
            Format::Text => TEXT_FORMAT,
        }
    }
}

/// `registry` in `format` (the tests' reference for `/probe`'s text).
#[cfg(test)]
pub(super) fn render(registry: &Registry, format: Format) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    match format {
        Format::OpenMetrics => out,
        Format::Text => {
            let mut text = TextFormat::default();
            let mut rewritten = String::with_capacity(out.len());
            for line in out.lines() {
                text.line(line, &mut rewritten);
            }
            text.flush(&mut rewritten);
            rewritten
        }
    }
}

/// A response with `body` in `format`.
pub(super) fn respond(format: Format, body: String) -> Response {
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// Turns OpenMetrics text, a line at a time, into Prometheus's text format 0.0.4. The two differ, for what
/// prometheus-client writes, in two things: a counter family's `# HELP`/`# TYPE` name is its samples' name (`x_total`,
/// not `x`), and `# UNIT` and `# EOF` do not exist.
#[derive(Debug, Default)]
struct TextFormat {
    /// A `# HELP` line held until the next line says whether its family is a counter.
    help: Option<String>,
}

impl TextFormat {
    fn line(&mut self, line: &str, out: &mut String) {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            return;
        }
        if let Some(help) = self.help.take() {
            let rest = help.strip_prefix("# HELP ").unwrap_or_default();
            let name = rest.split(' ').next().unwrap_or_default();
            if line
                .strip_prefix("# TYPE ")
                .and_then(|t| t.strip_prefix(name))
                == Some(" counter")
            {
                let text = &rest[name.len()..];
                out.push_str(&format!(
                    "# HELP {name}_total{text}\n# TYPE {name}_total counter\n"
                ));
                return;
            }
            out.push_str(&help);
            out.push('\n');
        }
        if line.starts_with("# HELP ") {
            self.help = Some(line.to_string());
            return;
        }
        out.push_str(line);
        out.push('\n');
    }

    fn flush(&mut self, out: &mut String) {
        if let Some(help) = self.help.take() {
            out.push_str(&help);
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_down_before_its_first_check_and_the_lag_is_a_histogram() {
        let m = Metrics::new();
        m.known("fresh");
        m.lag(Duration::from_millis(7));
        let text = m.render(Format::Text);
        let lines: Vec<&str> = text.lines().collect();
        for line in [
            "echoprobe_target_up{target=\"fresh\"} 0",
            "echoprobe_schedule_lag_seconds_count 1",
            "echoprobe_schedule_lag_seconds_bucket{le=\"0.005\"} 0",
            "echoprobe_schedule_lag_seconds_bucket{le=\"0.01\"} 1",
        ] {
            assert!(lines.contains(&line), "no {line:?} in\n{text}");
        }
        // No check yet: no timestamp, no checks counter, no durations.
        assert!(
            !text.contains("echoprobe_last_check_timestamp_seconds{"),
            "{text}"
        );
        assert!(!text.contains("echoprobe_checks_total{"), "{text}");
        assert!(!text.contains("_duration_seconds_count{"), "{text}");
    }

    #[test]
    fn a_streamed_scrape_names_each_family_once() {
        let m = Metrics::new();
        let n = 2 * CHUNK_TARGETS + 7;
        for i in 0..n {
            m.known(&format!("t{i:05}"));
        }
        for format in [Format::Text, Format::OpenMetrics] {
            let text = m.render(format);
            assert_eq!(text.matches("# TYPE echoprobe_target_up gauge").count(), 1);
            assert_eq!(text.matches("echoprobe_target_up{").count(), n);
            assert_eq!(
                text.matches("# EOF").count(),
                usize::from(format == Format::OpenMetrics)
            );
        }
    }
}
