//! The daemon's Prometheus series (made with prometheus-client), one set per target, all labelled `target`:
//!
//! - `echoprobe_target_up`: 1 up, 0 down (after `rise`/`fall`).
//! - `echoprobe_check_duration_seconds{phase}`: each phase of each scheduled check: `connect`, `tls` (over TLS
//!   only), `associate`, `echo` (each C-ECHO round trip) or `find` (a find check's query, C-FIND-RQ to the final
//!   C-FIND-RSP) and `release`; a phase not reached is not observed.
//! - `echoprobe_check_total_duration_seconds`: the whole check, start to verdict. The total is its own histogram,
//!   not a `phase="total"`, so that summing over `phase` stays meaningful.
//! - `echoprobe_checks_total{outcome}`: checks finished, by the exit-code table's row name (`healthy`, `rejected`,
//!   `acse-timeout`, ...).
//! - `echoprobe_last_check_timestamp_seconds`: when the last check ended (Unix time).
//!
//! Served in the OpenMetrics text format to a client that asks for it (Prometheus asks first), else in Prometheus's
//! text format 0.0.4 (what `promtool check metrics` reads, and every scraper): see [`respond`].

use core::sync::atomic::AtomicU64;
use core::time::Duration;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse as _, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::serve::model::{CheckRecord, Health, MetricsSink};

/// The `Content-Type` of [`Metrics::encode`]'s text (OpenMetrics).
pub(super) const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The `Content-Type` of Prometheus's text format.
pub(super) const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Histogram bucket bounds in seconds: a LAN echo takes about a millisecond, a timeout up to tens of seconds.
const BUCKETS: [f64; 9] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0];

/// The phases of `echoprobe_check_duration_seconds`.
const PHASES: [&str; 6] = ["connect", "tls", "associate", "echo", "find", "release"];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    target: String,
    phase: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    target: String,
    outcome: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The Prometheus series of every target; the engine feeds it as a [`MetricsSink`], `GET /metrics` reads it.
pub struct Metrics {
    registry: Registry,
    up: Family<TargetLabels, Gauge>,
    phases: Histograms<PhaseLabels>,
    total: Histograms<TargetLabels>,
    checks: Family<OutcomeLabels, Counter>,
    last: Family<TargetLabels, Gauge<f64, AtomicU64>>,
    /// The outcomes each target has a counter for (to forget them).
    outcomes: Mutex<HashMap<String, HashSet<&'static str>>>,
}

impl core::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// No series yet.
    pub fn new() -> Self {
        let up = Family::default();
        let phases: Histograms<PhaseLabels> = Family::new_with_constructor(histogram);
        let total: Histograms<TargetLabels> = Family::new_with_constructor(histogram);
        let checks = Family::default();
        let last = Family::default();
        let mut registry = Registry::default();
        registry.register(
            "echoprobe_target_up",
            "Whether the target is up (1) or down (0), after rise/fall",
            up.clone(),
        );
        registry.register_with_unit(
            "echoprobe_check_duration",
            "How long each phase of a check took (connect, tls, associate, echo round trip or find, release)",
            Unit::Seconds,
            phases.clone(),
        );
        registry.register_with_unit(
            "echoprobe_check_total_duration",
            "How long a whole check took, start to verdict",
            Unit::Seconds,
            total.clone(),
        );
        registry.register(
            "echoprobe_checks",
            "Checks finished, by outcome (the exit-code table's row name)",
            checks.clone(),
        );
        registry.register_with_unit(
            "echoprobe_last_check_timestamp",
            "When the last check ended (Unix time)",
            Unit::Seconds,
            last.clone(),
        );
        Metrics {
            registry,
            up,
            phases,
            total,
            checks,
            last,
            outcomes: Mutex::new(HashMap::new()),
        }
    }

    /// The OpenMetrics text of every series.
    pub fn encode(&self) -> String {
        render(&self.registry, Format::OpenMetrics)
    }

    /// Every series in `format`.
    pub(super) fn render(&self, format: Format) -> String {
        render(&self.registry, format)
    }

    fn outcomes(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<&'static str>>> {
        self.outcomes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MetricsSink for Metrics {
    fn observe(&self, target: &str, record: &CheckRecord, health: Health) {
        let t = TargetLabels {
            target: target.to_string(),
        };
        self.up
            .get_or_create(&t)
            .set(i64::from(health == Health::Up));
        let ended = (record.at + record.total)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.last.get_or_create(&t).set(ended.as_secs_f64());
        self.total
            .get_or_create(&t)
            .observe(record.total.as_secs_f64());
        let phase = |phase: &'static str, d: Duration| {
            let labels = PhaseLabels {
                target: target.to_string(),
                phase,
            };
            self.phases.get_or_create(&labels).observe(d.as_secs_f64());
        };
        let tl = &record.timeline;
        let reached = [
            ("connect", tl.connect),
            ("tls", tl.tls),
            ("associate", tl.associate),
            ("find", tl.find),
        ];
        for (name, d) in reached {
            if let Some(d) = d {
                phase(name, d);
            }
        }
        for echo in &tl.echoes {
            phase("echo", *echo);
        }
        if let Some(d) = tl.release {
            phase("release", d);
        }
        self.outcomes()
            .entry(target.to_string())
            .or_default()
            .insert(record.result);
        let outcome = OutcomeLabels {
            target: target.to_string(),
            outcome: record.result,
        };
        self.checks.get_or_create(&outcome).inc();
    }

    fn forget(&self, target: &str) {
        let t = TargetLabels {
            target: target.to_string(),
        };
        self.up.remove(&t);
        self.last.remove(&t);
        self.total.remove(&t);
        for phase in PHASES {
            self.phases.remove(&PhaseLabels {
                target: target.to_string(),
                phase,
            });
        }
        for outcome in self.outcomes().remove(target).unwrap_or_default() {
            self.checks.remove(&OutcomeLabels {
                target: target.to_string(),
                outcome,
            });
        }
    }
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

/// `registry` in `format`, written once (no second copy of a large text).
pub(super) fn render(registry: &Registry, format: Format) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    match format {
        Format::OpenMetrics => {
            let _ = prometheus_client::encoding::text::encode(&mut out, registry);
        }
        Format::Text => {
            let mut text = TextFormat {
                out: &mut out,
                line: String::new(),
                help: None,
            };
            let _ = prometheus_client::encoding::text::encode(&mut text, registry);
            text.flush_help();
        }
    }
    out
}

/// A response with `body` in `format`.
pub(super) fn respond(format: Format, body: String) -> Response {
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// Turns OpenMetrics text, as it is written, into Prometheus's text format 0.0.4. The two differ, for what
/// prometheus-client writes, in two things: a counter family's `# HELP`/`# TYPE` name is its samples' name (`x_total`,
/// not `x`), and `# UNIT` and `# EOF` do not exist.
struct TextFormat<'a> {
    out: &'a mut String,
    /// The line being written.
    line: String,
    /// A `# HELP` line held until the next line says whether its family is a counter.
    help: Option<String>,
}

impl TextFormat<'_> {
    fn end_line(&mut self) {
        let line = core::mem::take(&mut self.line);
        if line.starts_with("# UNIT ") || line == "# EOF" {
            return;
        }
        if let Some(help) = self.help.take() {
            let rest = help.strip_prefix("# HELP ").unwrap_or_default();
            let name = rest.split(' ').next().unwrap_or_default();
            if line == format!("# TYPE {name} counter") {
                let text = &rest[name.len()..];
                self.out.push_str(&format!(
                    "# HELP {name}_total{text}\n# TYPE {name}_total counter\n"
                ));
                return;
            }
            self.out.push_str(&help);
            self.out.push('\n');
        }
        if line.starts_with("# HELP ") {
            self.help = Some(line);
            return;
        }
        self.out.push_str(&line);
        self.out.push('\n');
    }

    fn flush_help(&mut self) {
        if !self.line.is_empty() {
            self.end_line();
        }
        if let Some(help) = self.help.take() {
            self.out.push_str(&help);
            self.out.push('\n');
        }
    }
}

impl core::fmt::Write for TextFormat<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find('\n') {
            self.line.push_str(&rest[..i]);
            self.end_line();
            rest = &rest[i + 1..];
        }
        self.line.push_str(rest);
        Ok(())
    }
}
