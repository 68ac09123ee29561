//! `GET /api/targets` and `GET /api/targets/NAME`: each target as JSON (serde_json): its state, reason, since when
//! (RFC 3339), exit code and result name, and its recent checks with their latencies (total and each phase, in
//! milliseconds, as `--json` gives them). A kept check's times are exact to the microsecond below 4.096 ms and kept
//! to 12 significant bits above (at most 0.025 % off: 12.345 ms may read 12.344; the daemon keeps them in 16 bits);
//! its start to the millisecond. `/api/targets` is streamed a few targets at a time.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::routes::App;
use crate::report::{millis, rfc3339, TimelineMs};
use crate::serve::model::{CheckRecord, Health, TargetStatus};

/// Targets per piece of a streamed `/api/targets` or `/`: a target's full default history is some 25 KB of JSON,
/// so that a piece and what it is made from stay a few hundred KB.
pub(super) const CHUNK_TARGETS: usize = 8;

/// One target.
#[derive(Debug, Serialize)]
pub(super) struct TargetJson<'a> {
    name: &'a str,
    peer: &'a str,
    called_ae: &'a str,
    calling_ae: &'a str,
    /// `up` or `down`.
    state: &'static str,
    /// Why it is down; empty when up.
    reason: &'a str,
    /// Since when it has had this state (RFC 3339, UTC).
    since: String,
    /// The exit code of its verdict (`echoprobe status NAME`).
    exit_code: u8,
    /// That exit code's row name in the exit-code table.
    result: &'static str,
    /// Checks finished.
    checks: u64,
    /// The most recent checks, oldest first.
    recent: Vec<CheckJson<'a>>,
}

/// One check.
#[derive(Debug, Serialize)]
pub(super) struct CheckJson<'a> {
    /// When it started (RFC 3339, UTC).
    at: String,
    result: &'static str,
    exit_code: u8,
    /// Empty when healthy.
    reason: &'a str,
    total_ms: f64,
    timeline_ms: TimelineMs,
}

/// `up` or `down`.
pub(super) fn state(health: Health) -> &'static str {
    match health {
        Health::Up => "up",
        Health::Down => "down",
    }
}

/// The result name of a target's verdict: its last check with that exit code, else the table's first row with it.
pub(super) fn result_name(t: &TargetStatus) -> &'static str {
    t.recent
        .iter()
        .rev()
        .find(|c| c.exit_code == t.exit_code)
        .map(|c| c.result)
        .or_else(|| {
            crate::exit::ROWS
                .iter()
                .find(|r| r.code == t.exit_code)
                .map(|r| r.result)
        })
        .unwrap_or("unknown")
}

impl<'a> TargetJson<'a> {
    pub(super) fn new(t: &'a TargetStatus) -> Self {
        TargetJson {
            name: &t.name,
            peer: &t.peer,
            called_ae: &t.called_ae,
            calling_ae: &t.calling_ae,
            state: state(t.health),
            reason: &t.reason,
            since: rfc3339(t.since),
            exit_code: t.exit_code,
            result: result_name(t),
            checks: t.checks,
            recent: t.recent.iter().map(CheckJson::new).collect(),
        }
    }
}

impl<'a> CheckJson<'a> {
    fn new(c: &'a CheckRecord) -> Self {
        CheckJson {
            at: rfc3339(c.at),
            result: c.result,
            exit_code: c.exit_code,
            reason: &c.reason,
            total_ms: millis(c.total),
            timeline_ms: TimelineMs::from(&c.timeline),
        }
    }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string());
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `{"targets": [...]}`, in configuration order, made [`CHUNK_TARGETS`] targets at a time as the client reads it.
pub(super) async fn targets(State(app): State<App>) -> Response {
    let mut next = Some(0);
    let body = super::stream::body(move || {
        let from = next?;
        let chunk = app.daemon.targets_from(from, CHUNK_TARGETS);
        let mut out = Vec::new();
        if from == 0 {
            out.extend_from_slice(b"{\"targets\":[");
        }
        for (i, t) in chunk.iter().enumerate() {
            if from + i > 0 {
                out.push(b',');
            }
            // Into a Vec<u8>: cannot fail.
            let _ = serde_json::to_writer(&mut out, &TargetJson::new(t));
        }
        if chunk.len() == CHUNK_TARGETS {
            next = Some(from + CHUNK_TARGETS);
        } else {
            out.extend_from_slice(b"]}");
            next = None;
        }
        // serde_json writes UTF-8.
        Some(String::from_utf8(out).unwrap_or_default())
    });
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// One target's object; 404 with `{"error": ...}` for a name not configured.
pub(super) async fn target(State(app): State<App>, Path(name): Path<String>) -> Response {
    #[derive(Serialize)]
    struct Error {
        error: String,
    }
    match app.daemon.target(&name) {
        Some(t) => json(StatusCode::OK, &TargetJson::new(&t)),
        None => json(
            StatusCode::NOT_FOUND,
            &Error {
                error: format!("no such target: {name}"),
            },
        ),
    }
}
