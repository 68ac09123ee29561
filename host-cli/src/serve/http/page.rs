//! `GET /`: the status page for a person. Every target with its state, since when, and the last reason; a latency
//! chart of its recent checks as inline SVG, a red mark where a check failed. One self-contained document (no
//! script, no external asset: it works with no network) that reloads itself every [`REFRESH_SECS`] seconds. Every
//! value from the configuration or a peer goes through [`esc`].

use core::fmt::Write as _;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::api::{result_name, state, CHUNK_TARGETS};
use super::routes::App;
use crate::log::ms;
use crate::report::rfc3339;
use crate::serve::model::{CheckRecord, Health, TargetStatus};

/// How often the page reloads itself.
const REFRESH_SECS: u32 = 10;
/// The chart's size in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 100.0;
/// Room for the axis labels.
const LEFT: f64 = 60.0;
const PAD: f64 = 8.0;

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#f7f7f7}
.target{background:#fff;border:1px solid #ccc;border-left:8px solid #888;padding:.4em 1em;margin:.8em 0;max-width:64em}
.target.up{border-left-color:#1a8f1a}.target.down{border-left-color:#d01c1c}
h2{margin:.2em 0;font-size:1.2em}.state{text-transform:uppercase;margin-left:.5em}
.up .state{color:#1a8f1a}.down .state{color:#d01c1c}
.reason{font-family:monospace;white-space:pre-wrap;overflow-wrap:anywhere}
.meta{color:#555}
svg{background:#fcfcfc;border:1px solid #eee;max-width:100%;height:auto}
svg .line{fill:none;stroke:#2962c4;stroke-width:1.5}svg .ok{fill:#2962c4}
svg .fail{fill:#d01c1c;stroke:#d01c1c;stroke-width:2}svg text{font-size:11px;fill:#555}
";

/// `s` made safe for HTML text and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page, made [`CHUNK_TARGETS`] targets at a time as the client reads it.
pub(super) async fn page(State(app): State<App>) -> Response {
    let (up, total) = app.daemon.up_count();
    let mut h = head(up, total, SystemTime::now());
    let mut next = Some(0);
    let body = super::stream::body(move || {
        let from = next?;
        let chunk = app.daemon.targets_from(from, CHUNK_TARGETS);
        for t in &chunk {
            target(&mut h, t);
        }
        if chunk.len() == CHUNK_TARGETS {
            next = Some(from + CHUNK_TARGETS);
        } else {
            h.push_str(TAIL);
            next = None;
        }
        Some(core::mem::take(&mut h))
    });
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The whole page at `now`, as [`page`] sends it (made whole: for the tests).
#[cfg(test)]
pub(super) fn render(targets: &[TargetStatus], now: SystemTime) -> String {
    let up = targets.iter().filter(|t| t.health == Health::Up).count();
    let mut h = head(up, targets.len(), now);
    for t in targets {
        target(&mut h, t);
    }
    h.push_str(TAIL);
    h
}

const TAIL: &str = "</body></html>\n";

/// The page up to the first target: `up` of `total` targets up at `now`.
fn head(up: usize, total: usize, now: SystemTime) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <title>echoprobe: {up} of {total} up</title><style>{STYLE}</style></head><body>\n\
         <h1>echoprobe</h1>\n<p class=\"summary\">{up} of {total} targets up &middot; as of {} &middot; \
         this page reloads every {REFRESH_SECS} s</p>\n",
        esc(&rfc3339(now)),
    );
    h
}

fn target(h: &mut String, t: &TargetStatus) {
    let state = state(t.health);
    let _ = write!(
        h,
        "<section class=\"target {state}\" data-target=\"{name}\" data-state=\"{state}\">\n\
         <h2>{name}<span class=\"state\">{state}</span></h2>\n\
         <p class=\"meta\">{peer} &middot; called {called} &middot; calling {calling} &middot; \
         {state} since <time>{since}</time> &middot; exit code {code} ({result}) &middot; {checks} checks</p>\n",
        name = esc(&t.name),
        peer = esc(&t.peer),
        called = esc(&t.called_ae),
        calling = esc(&t.calling_ae),
        since = esc(&rfc3339(t.since)),
        code = t.exit_code,
        result = esc(result_name(t)),
        checks = t.checks,
    );
    let last_failure = t.recent.iter().rev().find(|c| c.exit_code != 0);
    match (t.health, last_failure) {
        (Health::Down, _) => {
            let _ = writeln!(h, "<p class=\"reason\">{}</p>", esc(&t.reason));
        }
        (Health::Up, Some(c)) => {
            let _ = writeln!(
                h,
                "<p class=\"reason\">last failure, <time>{}</time>: {}</p>",
                esc(&rfc3339(c.at)),
                esc(&c.reason)
            );
        }
        (Health::Up, None) => {}
    }
    chart(h, &t.recent);
    h.push_str("</section>\n");
}

/// The latency of each check (total, start to verdict) left to right, oldest first: a line through the good ones,
/// a red bar and dot at each failed one. The scale is set by the good checks (a timeout would flatten them).
fn chart(h: &mut String, recent: &[CheckRecord]) {
    let _ = write!(
        h,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"latency of the last {} checks\">",
        recent.len()
    );
    if recent.is_empty() {
        let _ = writeln!(
            h,
            "<text x=\"{LEFT}\" y=\"{}\">no check completed yet</text></svg>",
            HEIGHT / 2.0
        );
        return;
    }
    let scale = |c: &CheckRecord| c.total.as_secs_f64();
    let good_max = recent
        .iter()
        .filter(|c| c.exit_code == 0)
        .map(scale)
        .fold(0.0, f64::max);
    let max = if good_max > 0.0 {
        good_max
    } else {
        recent.iter().map(scale).fold(0.0, f64::max).max(1e-6)
    };
    let span = WIDTH - LEFT - PAD;
    let x = |i: usize| {
        if recent.len() == 1 {
            LEFT + span / 2.0
        } else {
            LEFT + span * i as f64 / (recent.len() - 1) as f64
        }
    };
    let y = |secs: f64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (secs / max).min(1.0);
    let _ = write!(
        h,
        "<text x=\"2\" y=\"{}\">{}</text><text x=\"2\" y=\"{}\">0 ms</text>",
        PAD + 4.0,
        esc(&ms(core::time::Duration::from_secs_f64(max))),
        HEIGHT - PAD
    );
    let points: Vec<String> = recent
        .iter()
        .enumerate()
        .filter(|(_, c)| c.exit_code == 0)
        .map(|(i, c)| format!("{:.1},{:.1}", x(i), y(scale(c))))
        .collect();
    if points.len() > 1 {
        let _ = write!(
            h,
            "<polyline class=\"line\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    for (i, c) in recent.iter().enumerate() {
        let title = format!(
            "{} {} {}{}{}",
            rfc3339(c.at),
            c.result,
            ms(c.total),
            if c.reason.is_empty() { "" } else { ": " },
            c.reason
        );
        if c.exit_code == 0 {
            let _ = write!(
                h,
                "<circle class=\"ok\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"><title>{}</title></circle>",
                x(i),
                y(scale(c)),
                esc(&title)
            );
        } else {
            let _ = write!(
                h,
                "<g class=\"fail\"><line x1=\"{x:.1}\" y1=\"{PAD}\" x2=\"{x:.1}\" y2=\"{}\"/>\
                 <circle cx=\"{x:.1}\" cy=\"{PAD}\" r=\"4\"/><title>{}</title></g>",
                HEIGHT - PAD,
                esc(&title),
                x = x(i),
            );
        }
    }
    h.push_str("</svg>\n");
}
