//! The find mode: `echoprobe find [options] peer port`, a C-FIND as the health check. The connection is the echo's
//! (`echo::open`: resolve, connect, TLS, each bounded); the association proposes Verification and the FIND context
//! of the model (`-W`/`-P`/`-S`) with Implicit and Explicit VR Little Endian; one C-FIND-RQ with the query keys;
//! C-CANCEL-RQ after `--max-matches`; the core's find verdict (final status, match count, required value) mapped to
//! the exit-code table; one line or one JSON object.

use core::time::Duration;

use echoprobe_core::assoc::{Config, Event};
use echoprobe_core::check::Release;
use echoprobe_core::dimse::dataset::{self, DataSet};
use echoprobe_core::find::{
    self as core_find, FindContext, FindEvent, FindOutcome, FindStats, Model,
};
use echoprobe_core::io::{blocking, Error as DriverError};
use echoprobe_core::wire::Uid;
use serde::Serialize;

use crate::cli::{keyword_of, model_name, tag_text, FindOptions, Key, TRANSFER_SYNTAXES};
use crate::echo::{self, CheckResult, Exchange};
use crate::exit::Failure;
use crate::log::{core_ms, ms, Log};
use crate::net::{self, Clock};
use crate::report::{self, Report};

/// The buffer a match is reassembled in (and the query encoded in): far above any sane Q/R identifier.
const FIND_BUFFER: usize = 64 * 1024;
/// How many matches' keys are kept for `-v` and `--json` (the count goes on).
const KEPT_MATCHES: usize = 100;

/// What one find check found: the echo's [`CheckResult`] for the link and the association (its `stats` stay zero;
/// its timeline's `find` is the query's time), and the query's own results.
#[derive(Debug)]
pub struct FindResult {
    /// Peer, address, negotiation, TLS, timeline, total; its `verdict` is the find's.
    pub check: CheckResult,
    /// Matches, responses, the final status, whether we cancelled.
    pub stats: FindStats,
    /// The FIND presentation context accepted, if one was.
    pub context: Option<FindContext>,
    /// The keys of each match (name as `-k` takes it, value trimmed), the first 100.
    pub matches: Vec<Vec<(String, String)>>,
    /// Each C-FIND-RSP's wait (from the request or the previous response).
    pub responses: Vec<Duration>,
}

impl FindResult {
    /// A find check of `options`'s peer starting now, with no verdict yet.
    pub(crate) fn starting(options: &FindOptions) -> Self {
        FindResult {
            check: CheckResult::starting(&options.link),
            stats: FindStats::default(),
            context: None,
            matches: Vec::new(),
            responses: Vec::new(),
        }
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        self.check.code()
    }
}

/// A value as text: trailing padding trimmed, non-printable bytes escaped.
fn value_text(value: &[u8]) -> String {
    dataset::trim(value)
        .escape_ascii()
        .to_string()
        .replace("\\\\", "\\")
}

/// The keys of a match, by `-k` name.
fn match_keys(set: &DataSet<'_>) -> Vec<(String, String)> {
    set.elements()
        .map_while(Result::ok)
        .map(|e| {
            let name = keyword_of(e.tag).map_or_else(|| tag_text(e.tag), str::to_string);
            (name, value_text(e.value))
        })
        .collect()
}

/// What the observer saw, with when.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    accepted: Option<Duration>,
    last_response: Option<Duration>,
    responses: Vec<Duration>,
    matches: Vec<Vec<(String, String)>>,
    released: Option<Duration>,
}

/// Runs the find mode as the command does: the check, then its verdict printed. Returns the exit code.
pub fn run(prog: &str, options: &FindOptions, translated: &[String]) -> u8 {
    let log = Log::new(prog, options.link.verbosity);
    if let Some(config) = &options.link.log_config {
        if let Err(f) = crate::log::configure(&log, config) {
            log.error(&f);
            return f.code();
        }
    }
    if options.link.show_arguments {
        let list: Vec<String> = translated.iter().map(|a| format!("'{a}'")).collect();
        crate::log::stderr_line(format_args!(
            "I: calling '{prog} find' with {} arguments: {}",
            translated.len(),
            list.join(" ")
        ));
    }
    let result = check_with(&Clock::start(), options, &log);
    print_result(&log, options, &result);
    result.code()
}

/// One find check as `options` say; prints only the progress `-v`/`-d` ask for.
pub fn check(options: &FindOptions) -> FindResult {
    let log = Log::new("echoprobe", options.link.verbosity);
    check_with(&Clock::start(), options, &log)
}

fn check_with(clock: &Clock, options: &FindOptions, log: &Log) -> FindResult {
    let mut result = FindResult::starting(options);
    result.check.verdict = check_inner(clock, options, log, &mut result);
    result.check.total = clock.elapsed();
    result
}

fn check_inner(
    clock: &Clock,
    options: &FindOptions,
    log: &Log,
    result: &mut FindResult,
) -> Result<Release, Failure> {
    let plan = FindPlan::new(options)?;
    let peer = plan.link.peer.clone();
    let mut transport = echo::open(clock, &plan.link, log, &mut result.check, || {
        plan.announce(log);
    })?;
    let (mut rx, mut tx, mut find_buf) = plan.buffers();
    let mut progress = Progress::default();
    let associating = clock.elapsed();
    let report = blocking::find(
        &mut transport,
        plan.config(),
        plan.query(clock),
        &mut rx,
        &mut tx,
        &mut find_buf,
        |ev, found| observe(log, &mut progress, clock.elapsed(), ev, found),
    );
    transport.close();
    plan.conclude(result, progress, associating, report, |e| {
        transport.failure(&peer, e)
    })
}

/// A find check settled before any traffic: the echo's plan (titles, timeouts, buffers) and the find's own part,
/// the FIND context of the model with Implicit and Explicit VR Little Endian and the query. The CLI's blocking check
/// and the daemon's async one share it; only the I/O differs.
pub(crate) struct FindPlan<'o> {
    /// The link: peer, titles, timeouts, deadline.
    pub(crate) link: echo::Plan<'o>,
    options: &'o FindOptions,
    ts: Vec<Uid<'static>>,
    models: [Model; 1],
    keys: Vec<dataset::Key<'o>>,
}

impl<'o> FindPlan<'o> {
    /// The plan of `options` (a bad AE title is a usage error, before any traffic).
    pub(crate) fn new(options: &'o FindOptions) -> Result<Self, Failure> {
        Ok(FindPlan {
            link: echo::Plan::new(&options.link)?,
            options,
            // Implicit VR Little Endian first (every peer has it), then Explicit VR Little Endian.
            ts: TRANSFER_SYNTAXES
                .iter()
                .take(2)
                .map(|t| Uid::new_unchecked(t.as_bytes()))
                .collect(),
            models: [options.model],
            keys: options.keys.iter().map(Key::as_core).collect(),
        })
    }

    /// Logs the association request about to be made and the query keys.
    pub(crate) fn announce(&self, log: &Log) {
        let (calling, called) = self.link.titles();
        let options = self.options;
        log.info(format_args!(
            "Requesting Association with {}: called {called}, calling {calling}, {} FIND \
             ({}) and Verification, max PDU {}",
            self.link.peer,
            model_name(options.model),
            options.model.uid(),
            options.link.max_pdu,
        ));
        for key in &options.keys {
            log.info(format_args!(
                "  query key {} ({}) {} = '{}'",
                key.name(),
                tag_text(key.tag),
                key.vr,
                key.value
            ));
        }
    }

    /// The echo's association configuration (titles, timeouts; -ppc is not a find option) with the find's contexts.
    pub(crate) fn config(&self) -> Config<'_> {
        let mut config = self.link.config();
        config.transfer_syntaxes = &self.ts;
        config.find_models = &self.models;
        config
    }

    /// The core's find options: the query, the bounds, the required value, the deadline on `clock`.
    pub(crate) fn query(&self, clock: &Clock) -> core_find::FindOptions<'_> {
        let options = self.options;
        core_find::FindOptions {
            model: options.model,
            keys: &self.keys,
            min_matches: options.min_matches,
            max_matches: Some(options.max_matches),
            required: options
                .require
                .as_ref()
                .map(|k| (k.tag, k.value.as_bytes())),
            deadline: options.link.deadline.map(|d| clock.at(d)),
        }
    }

    /// The receive and transmit buffers (the echo's) and the one a match is reassembled in.
    pub(crate) fn buffers(&self) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (rx, tx) = self.link.buffers();
        (rx, tx, vec![0u8; FIND_BUFFER])
    }

    /// The lengths of [`FindPlan::buffers`].
    pub(crate) fn buffer_lens(&self) -> (usize, usize, usize) {
        let (rx, tx) = self.link.buffer_lens();
        (rx, tx, FIND_BUFFER)
    }

    /// After the driver: the timeline, matches and statistics into `result`, the driver's report as the verdict
    /// (`associating`: when the association began; `transport`: a transport error as a failure).
    pub(crate) fn conclude<E>(
        &self,
        result: &mut FindResult,
        mut progress: Progress,
        associating: Duration,
        report: Result<core_find::FindReport, DriverError<E>>,
        transport: impl FnOnce(&E) -> Failure,
    ) -> Result<Release, Failure> {
        let timeline = &mut result.check.timeline;
        timeline.associate = progress.accepted.map(|t| t.saturating_sub(associating));
        timeline.release = progress
            .released
            .zip(progress.last_response)
            .map(|(end, sent)| end.saturating_sub(sent));
        timeline.find = progress
            .last_response
            .zip(progress.accepted)
            .map(|(end, start)| end.saturating_sub(start));
        result.responses = core::mem::take(&mut progress.responses);
        result.matches = core::mem::take(&mut progress.matches);
        let report = report.map_err(|e| echo::driver_failure(e, transport))?;
        result.stats = report.stats;
        result.context = report.context;
        result.check.negotiated = report.negotiated;
        result.check.status = report.stats.final_status;
        verdict(report.outcome, &self.link.peer, self.options, result)
    }
}

/// Logs one event at -v / -d and keeps the matches' keys and the times.
pub(crate) fn observe(
    log: &Log,
    progress: &mut Progress,
    now: Duration,
    ev: &Event,
    found: Option<&DataSet<'_>>,
) {
    match ev {
        Event::Accepted(n) => {
            progress.accepted = Some(now);
            log.info(format_args!(
                "Association Accepted: {} of {} contexts accepted, peer max PDU {}, our max PDU {}",
                n.accepted_contexts, n.proposed_contexts, n.peer_max_pdu, n.our_max_pdu
            ));
            log.info(format_args!(
                "Peer implementation: class {}, version {}",
                n.peer_implementation_class, n.peer_implementation_version
            ));
        }
        Event::Find(FindEvent::Response {
            message_id,
            status,
            rtt,
            ..
        }) => {
            progress
                .responses
                .push(Duration::from_micros(rtt.as_micros()));
            progress.last_response = Some(now);
            match found {
                Some(set) => {
                    let keys = match_keys(set);
                    let n = progress.responses.len();
                    let text: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    log.info(format_args!(
                        "Find Response {n} (MsgID {message_id}): status 0x{status:04X}, rtt {}: {}",
                        core_ms(*rtt),
                        text.join(" ")
                    ));
                    if progress.matches.len() < KEPT_MATCHES {
                        progress.matches.push(keys);
                    }
                }
                None => log.info(format_args!(
                    "Final Find Response (MsgID {message_id}): status 0x{status:04X} ({}), rtt {}",
                    core_find::describe(*status),
                    core_ms(*rtt)
                )),
            }
        }
        Event::Released | Event::Aborted(_) | Event::Closed if progress.released.is_none() => {
            progress.released = Some(now);
            match ev {
                Event::Released => log.info("Association Released"),
                Event::Aborted(a) => log.info(format_args!("Peer Aborted Association: {a}")),
                _ => log.info("Peer closed the connection"),
            }
        }
        Event::Rejected(rj) => log.info(format_args!("Association Rejected: {rj}")),
        Event::NoPresentationContext => log.info("No Acceptable Presentation Contexts"),
        Event::Violation { kind, abort } => match abort {
            Some(a) => log.info(format_args!(
                "Protocol violation by peer: {kind}; sent A-ABORT {a}"
            )),
            None => log.info(format_args!("Protocol violation by peer: {kind}")),
        },
        Event::Timeout(t) => log.info(format_args!("Timeout: {t}")),
        _ => {}
    }
}

/// The core's find outcome as our verdict.
fn verdict(
    outcome: FindOutcome,
    peer: &str,
    options: &FindOptions,
    result: &FindResult,
) -> Result<Release, Failure> {
    let peer = peer.to_string();
    let matches = result.stats.matches;
    Err(match outcome {
        FindOutcome::Healthy { release, .. } => return Ok(release),
        FindOutcome::Association(o) => {
            return echo::verdict(
                o,
                &peer,
                &options.link,
                result.check.timeline.associate.is_some(),
                Exchange::Find,
            )
        }
        FindOutcome::NoFindContext => Failure::NoFindContext {
            peer,
            model: model_name(options.model),
        },
        FindOutcome::Identifier(e) => Failure::Usage(format!("query keys: {e}")),
        // Not a violation of the standard, but nothing a health check's query should bring back: 69, as any PDU we
        // cannot take.
        FindOutcome::MatchTooLarge { .. } => Failure::Violation {
            peer,
            detail: format!("{outcome}; sent A-ABORT"),
        },
        FindOutcome::DimseTimeout => Failure::FindTimeout {
            peer,
            timeout: net::to_core(options.link.dimse_timeout),
        },
        FindOutcome::FailureStatus { status } => Failure::FindStatus {
            peer,
            status,
            matches,
        },
        FindOutcome::TooFewMatches { matches, min } => {
            Failure::TooFewMatches { peer, matches, min }
        }
        FindOutcome::RequiredValueMissing { .. } => {
            let (key, want) = options
                .require
                .as_ref()
                .map(|k| (k.name(), k.value.clone()))
                .unwrap_or_default();
            let mut seen: Vec<String> = result
                .matches
                .iter()
                .filter_map(|m| m.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
                .collect();
            seen.dedup();
            seen.truncate(5);
            Failure::RequiredValueMismatch {
                peer,
                key,
                want,
                seen,
            }
        }
    })
}

/// The summary line (without the program name) of a healthy find check.
fn summary(options: &FindOptions, r: &FindResult) -> String {
    let n = r.stats.matches;
    let matches = if n == 1 {
        "1 match".to_string()
    } else {
        format!("{n} matches")
    };
    let cancelled = if r.stats.cancelled {
        format!(", cancelled after {}", options.max_matches)
    } else {
        String::new()
    };
    let required = options
        .require
        .as_ref()
        .map_or_else(String::new, |k| format!(", {}={} found", k.name(), k.value));
    let tls = r
        .check
        .tls
        .as_ref()
        .map_or_else(String::new, |t| format!(", {}", t.version));
    format!(
        "{} {} <- {}: healthy, find {}: {matches}{cancelled}{required}, query {}{tls} (total {})",
        r.check.peer,
        options.link.called,
        options.link.calling,
        model_name(options.model),
        r.check.timeline.find.map_or_else(|| "?".to_string(), ms),
        ms(r.check.total)
    )
}

/// A match's keys as a JSON object, in the order they came.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Keys(pub(crate) Vec<(String, String)>);

impl Serialize for Keys {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The `find` object of the `--json` report (README "JSON output").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FindJson {
    /// `worklist`, `patient root` or `study root`.
    pub(crate) model: &'static str,
    /// Its FIND SOP class UID.
    pub(crate) sop_class_uid: String,
    /// The query keys sent.
    pub(crate) query: Keys,
    /// Whether the accepted FIND context was Explicit VR Little Endian; `None` when none was accepted.
    pub(crate) explicit_vr: Option<bool>,
    /// Matches received.
    pub(crate) matches: u32,
    /// `--min-matches`.
    pub(crate) min_matches: u32,
    /// `--max-matches`.
    pub(crate) max_matches: u32,
    /// Whether we sent C-CANCEL-RQ after `max_matches`.
    pub(crate) cancelled: bool,
    /// The final C-FIND-RSP's status; `None` when none came.
    pub(crate) status: Option<u16>,
    /// The same as `0xNNNN`.
    pub(crate) status_hex: Option<String>,
    /// `--require` as `KEY=VALUE`; `None` without it.
    pub(crate) required: Option<String>,
    /// Whether some match had the required value (false without `--require`).
    pub(crate) required_seen: bool,
    /// Each match's keys (the first 100).
    pub(crate) keys: Vec<Keys>,
    /// Times in milliseconds.
    pub(crate) timeline_ms: FindTimelineMs,
}

/// The find's own phase times in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FindTimelineMs {
    /// From the C-FIND-RQ (sent at A-ASSOCIATE-AC) to the final C-FIND-RSP; `None` without one.
    pub(crate) query: Option<f64>,
    /// The first C-FIND-RSP's wait.
    pub(crate) first_response: Option<f64>,
    /// Each C-FIND-RSP's wait (from the request or the previous response), in order.
    pub(crate) responses: Vec<f64>,
}

/// The `--json` report of a find check: the echo's fields (echo counts zero) and `find`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FindReport {
    /// The fields every report has.
    #[serde(flatten)]
    pub(crate) report: Report,
    /// The query's results.
    pub(crate) find: FindJson,
}

pub(crate) fn to_report(options: &FindOptions, r: &FindResult) -> FindReport {
    let mut report = echo::to_report(&options.link, &r.check);
    if r.check.verdict.is_ok() {
        report.message = summary(options, r);
    }
    let status = r.stats.final_status;
    FindReport {
        report,
        find: FindJson {
            model: model_name(options.model),
            sop_class_uid: options.model.uid().to_string(),
            query: Keys(
                options
                    .keys
                    .iter()
                    .map(|k| (k.name(), k.value.clone()))
                    .collect(),
            ),
            explicit_vr: r.context.map(|c| c.explicit),
            matches: r.stats.matches,
            min_matches: options.min_matches,
            max_matches: options.max_matches,
            cancelled: r.stats.cancelled,
            status,
            status_hex: status.map(report::status_hex),
            required: options
                .require
                .as_ref()
                .map(|k| format!("{}={}", k.name(), k.value)),
            required_seen: r.stats.required_seen,
            keys: r.matches.iter().cloned().map(Keys).collect(),
            timeline_ms: FindTimelineMs {
                query: r.check.timeline.find.map(report::millis),
                first_response: r.responses.first().copied().map(report::millis),
                responses: r.responses.iter().copied().map(report::millis).collect(),
            },
        },
    }
}

/// Prints the verdict: summary or JSON on stdout, warnings and errors on stderr.
fn print_result(log: &Log, options: &FindOptions, r: &FindResult) {
    match &r.check.verdict {
        Ok(_) => {
            if options.link.json {
                crate::log::stdout_line(format_args!(
                    "{}",
                    serde_json::to_string(&to_report(options, r)).unwrap_or_default()
                ));
            } else if log.verbosity > crate::log::Verbosity::Quiet {
                crate::log::stdout_line(format_args!("{}: {}", log.prog, summary(options, r)));
            }
        }
        Err(failure) => {
            log.error(failure);
            if options.link.json {
                crate::log::stdout_line(format_args!(
                    "{}",
                    serde_json::to_string(&to_report(options, r)).unwrap_or_default()
                ));
            }
        }
    }
}
