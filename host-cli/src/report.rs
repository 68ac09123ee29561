//! The `--json` result: [`Report`], one JSON object per run, made with serde (binding: README "JSON output", which
//! documents every field; a test reads that table and checks it against the binary's output). The probe daemon
//! serves the same type. Also the check's [`Timeline`] and the RFC 3339 timestamp.

use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::exit::Failure;

/// How long each phase of a check took, as a [`Duration`] or (in [`TimelineMs`]) in milliseconds; a phase not reached
/// (or not ended, for the release) is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline<T = Duration> {
    /// The TCP connect (of the address that answered).
    pub connect: Option<T>,
    /// The TLS handshake (checks over TLS only).
    pub tls: Option<T>,
    /// From sending A-ASSOCIATE-RQ to receiving A-ASSOCIATE-AC.
    pub associate: Option<T>,
    /// The round trip of each C-ECHO-RQ answered by a C-ECHO-RSP (whatever its status), in order; an echo not
    /// answered has no entry.
    pub echoes: Vec<T>,
    /// A find check's query: from A-ASSOCIATE-AC (when the C-FIND-RQ goes out) to the final C-FIND-RSP; `None` for
    /// an echo, or a find without a final C-FIND-RSP. Not in `--json`'s `timeline_ms` (a find's JSON has it as
    /// `find.query`), so an echo's JSON stays as it was.
    #[serde(skip)]
    pub find: Option<T>,
    /// From the last C-ECHO-RSP (when we send A-RELEASE-RQ) to the peer's A-RELEASE-RP, or the close or A-ABORT
    /// that ended the release; `None` when we aborted (`--abort`) or the peer did not answer in time.
    pub release: Option<T>,
}

/// One run's result as `--json` prints it. Every field is documented in README "JSON output"; times are
/// milliseconds with microsecond resolution (at most 3 decimals).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// When the check started (RFC 3339, UTC, milliseconds): `2025-01-31T12:00:00.123Z`.
    pub timestamp: String,
    /// `host:port` as given (IPv6 in brackets); `None` for a usage error.
    pub peer: Option<String>,
    /// The address connected to (or the first one resolved); `None` before resolution.
    pub address: Option<String>,
    /// Called AE title; `None` for a usage error.
    pub called: Option<String>,
    /// Calling AE title; `None` for a usage error.
    pub calling: Option<String>,
    /// `exit_code == 0`.
    pub healthy: bool,
    /// The process exit code.
    pub exit_code: u8,
    /// The name of the exit-code table's row ([`crate::exit::ROWS`]): `healthy`, `unreachable`, `usage`, ...
    pub result: &'static str,
    /// The summary line (healthy) or the error message printed on stderr.
    pub message: String,
    /// A healthy check's warning about the release (also printed on stderr).
    pub warning: Option<String>,
    /// C-ECHO-RQs sent.
    pub echoes_sent: u32,
    /// C-ECHO-RSPs with status 0x0000.
    pub echoes_ok: u32,
    /// C-ECHO-RSPs received, whatever their status.
    pub echoes_answered: u32,
    /// Round trips over every C-ECHO-RSP received; `None` when none was.
    pub rtt_ms: Option<Rtt>,
    /// The status of the last C-ECHO-RSP; `None` when none was received.
    pub dimse_status: Option<u16>,
    /// The same as `0xNNNN` (4 upper-case hex digits).
    pub dimse_status_hex: Option<String>,
    /// The peer's max PDU length (0: unlimited), once associated.
    pub peer_max_pdu: Option<u32>,
    /// The accepted transfer syntax UID, once associated.
    pub transfer_syntax: Option<String>,
    /// The peer's implementation class UID, once associated.
    pub peer_implementation_class_uid: Option<String>,
    /// The peer's implementation version name, once associated.
    pub peer_implementation_version: Option<String>,
    /// The TLS session, for a check over TLS that got through the handshake.
    pub tls: Option<Tls>,
    /// From start to verdict; `None` for a usage error.
    pub total_ms: Option<f64>,
    /// How long each phase took.
    pub timeline_ms: TimelineMs,
}

/// Round-trip statistics in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rtt {
    /// The fastest.
    pub min: f64,
    /// The mean.
    pub avg: f64,
    /// The slowest.
    pub max: f64,
}

/// A TLS session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tls {
    /// `TLS 1.2` or `TLS 1.3`.
    pub version: String,
    /// The cipher suite's IANA name (rustls spelling).
    pub cipher_suite: String,
    /// How many certificates the peer sent.
    pub peer_certificates: usize,
}

/// [`Timeline`] in milliseconds, as `--json` prints it.
pub type TimelineMs = Timeline<f64>;

impl From<&Timeline> for TimelineMs {
    fn from(t: &Timeline) -> Self {
        TimelineMs {
            connect: t.connect.map(millis),
            tls: t.tls.map(millis),
            associate: t.associate.map(millis),
            echoes: t.echoes.iter().copied().map(millis).collect(),
            find: t.find.map(millis),
            release: t.release.map(millis),
        }
    }
}

impl Rtt {
    /// Min, mean and max of `rtts`; `None` when empty.
    pub fn over(rtts: &[Duration]) -> Option<Rtt> {
        let min = rtts.iter().min()?;
        let max = rtts.iter().max()?;
        let sum: u128 = rtts.iter().map(Duration::as_micros).sum();
        let avg = sum / rtts.len() as u128;
        Some(Rtt {
            min: millis(*min),
            avg: micros_as_millis(avg),
            max: millis(*max),
        })
    }
}

impl Report {
    /// The report of a run that ended before any check started (a usage error): what is not known is `None`.
    pub fn before_check(failure: &Failure, timestamp: SystemTime) -> Report {
        Report {
            timestamp: rfc3339(timestamp),
            peer: None,
            address: None,
            called: None,
            calling: None,
            healthy: false,
            exit_code: failure.code(),
            result: failure.kind(),
            message: failure.to_string(),
            warning: None,
            echoes_sent: 0,
            echoes_ok: 0,
            echoes_answered: 0,
            rtt_ms: None,
            dimse_status: None,
            dimse_status_hex: None,
            peer_max_pdu: None,
            transfer_syntax: None,
            peer_implementation_class_uid: None,
            peer_implementation_version: None,
            tls: None,
            total_ms: None,
            timeline_ms: TimelineMs::default(),
        }
    }

    /// The one-line JSON text.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail; a non-finite float would print as null.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Prints a failure that ended the run before any check (a usage error) on stderr, prefixed by the program name, and
/// with `--json` among the arguments also its [`Report`] on stdout (`started`: when the run started).
pub(crate) fn print_failure(prog: &str, failure: &Failure, json: Option<SystemTime>) {
    crate::log::stderr_line(format_args!("{prog}: {failure}"));
    if let Some(started) = json {
        let report = Report::before_check(failure, started);
        crate::log::stdout_line(format_args!("{}", report.to_json()));
    }
}

/// `0xNNNN`.
pub(crate) fn status_hex(status: u16) -> String {
    format!("0x{status:04X}")
}

/// Milliseconds, rounded down to the microsecond.
pub(crate) fn millis(d: Duration) -> f64 {
    micros_as_millis(d.as_micros())
}

fn micros_as_millis(us: u128) -> f64 {
    // Exact below 2^53 µs (285 years); the shortest decimal form of the result has at most 3 decimals.
    u64::try_from(us).unwrap_or(u64::MAX) as f64 / 1000.0
}

/// RFC 3339 in UTC with milliseconds (`1970-01-01T00:00:00.000Z`), for any time, before 1970 too (years outside
/// 0000..=9999 have more digits or a sign, which RFC 3339 cannot express).
pub fn rfc3339(t: SystemTime) -> String {
    // Milliseconds since 1970, floored (also before 1970).
    let ms: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_micros() / 1000) as i128,
        Err(e) => -(e.duration().as_micros().div_ceil(1000) as i128),
    };
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i128) -> (i128, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March is 0
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i128::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix_ms: i64) -> SystemTime {
        let d = Duration::from_millis(unix_ms.unsigned_abs());
        if unix_ms >= 0 {
            UNIX_EPOCH + d
        } else {
            UNIX_EPOCH - d
        }
    }

    /// Expected values from GNU date (`date -u -d @SECONDS +%FT%TZ`).
    #[test]
    fn timestamps() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (-86_400_000, "1969-12-31T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (951_868_800_000, "2000-03-01T00:00:00.000Z"),
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
            (1_735_689_600_000, "2025-01-01T00:00:00.000Z"),
            (4_107_456_000_000, "2100-02-28T00:00:00.000Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (4_294_967_296_000, "2106-02-07T06:28:16.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (-11_676_096_000_000, "1600-01-01T00:00:00.000Z"),
            (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        ] {
            assert_eq!(rfc3339(at(ms)), text, "{ms}");
        }
        // Sub-millisecond parts are cut, not rounded, on both sides of 1970.
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_micros(1_999)),
            "1970-01-01T00:00:00.001Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_micros(1)),
            "1969-12-31T23:59:59.999Z"
        );
    }

    /// Every day for 800 years around 1970 follows the one before it.
    #[test]
    fn dates_are_consecutive() {
        let days_in = |y: i128, m: u32| match m {
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut prev = civil_from_days(-146_097);
        assert_eq!(prev, (1570, 1, 1));
        for day in -146_096..146_097 {
            let next = civil_from_days(day);
            let expected = if prev.2 < days_in(prev.0, prev.1) {
                (prev.0, prev.1, prev.2 + 1)
            } else if prev.1 < 12 {
                (prev.0, prev.1 + 1, 1)
            } else {
                (prev.0 + 1, 1, 1)
            };
            assert_eq!(next, expected, "{day}");
            prev = next;
        }
    }

    #[test]
    fn millis_and_rtt() {
        assert_eq!(millis(Duration::from_micros(250)), 0.25);
        assert_eq!(millis(Duration::from_micros(12_345)), 12.345);
        assert_eq!(
            serde_json::to_string(&millis(Duration::from_micros(1_001))).unwrap(),
            "1.001"
        );
        assert_eq!(Rtt::over(&[]), None);
        let us = Duration::from_micros;
        assert_eq!(
            Rtt::over(&[us(300), us(100), us(200), us(201)]),
            Some(Rtt {
                min: 0.1,
                avg: 0.2,
                max: 0.3
            })
        );
        assert_eq!(status_hex(0x0110), "0x0110");
        assert_eq!(status_hex(0xA7FE), "0xA7FE");
    }

    /// Strings are escaped as JSON wants (this was the hand-written escaper's test).
    #[test]
    fn json_strings() {
        assert_eq!(
            serde_json::to_string("a\"b\\c\n\u{1}").unwrap(),
            "\"a\\\"b\\\\c\\n\\u0001\""
        );
    }

    #[test]
    fn usage_report() {
        let r = Report::before_check(&Failure::Usage("missing parameter peer".into()), at(0));
        let j: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(j["result"], "usage");
        assert_eq!(j["exit_code"], 1);
        assert_eq!(j["healthy"], false);
        assert_eq!(j["message"], "missing parameter peer");
        assert_eq!(j["timestamp"], "1970-01-01T00:00:00.000Z");
        assert!(j["peer"].is_null() && j["rtt_ms"].is_null() && j["total_ms"].is_null());
        assert_eq!(
            serde_json::to_string(&r.timeline_ms).unwrap(),
            "{\"connect\":null,\"tls\":null,\"associate\":null,\"echoes\":[],\"release\":null}"
        );
    }
}
