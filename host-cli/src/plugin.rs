//! The monitoring-plugin mode: run as `check_dicom` (a symlink) or with `--plugin`, echoprobe follows the Monitoring
//! Plugins Development Guidelines (<https://www.monitoring-plugins.org/doc/guidelines.html>), the contract Nagios,
//! Icinga, Checkmk and Zabbix share:
//!
//! - exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;
//! - one status line, `DICOM OK - PACS@pacs1:104 answered C-ECHO in 1.4 ms`, then `|` and the performance data: the
//!   check time and each phase (connect, tls, associate, echo, release) in seconds (`s`), `U` for a phase the check
//!   did not reach, the `-w`/`-c` ranges on the check time;
//! - `-w RANGE` / `-c RANGE` on the check time in seconds, in the guidelines' range syntax ([`Range`]).
//!
//! Every failure of the check is CRITICAL with the CLI's reason text; a local problem (a bad option, an unusable key
//! file, a name that does not resolve, no socket) is UNKNOWN. Every other option is echoscu's (`-aet`, `-aec`, `-to`,
//! `+tls` ...), parsed by the CLI.

use core::fmt;
use core::time::Duration;
use std::ffi::{OsStr, OsString};

use crate::cli::{self, EchoOptions, Invocation};
use crate::echo::{self, CheckResult};
use crate::exit::{End, Failure};

/// The guidelines' return codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum State {
    /// 0: the check worked and the time is within the thresholds.
    Ok = 0,
    /// 1: above the warning threshold.
    Warning = 1,
    /// 2: the check failed, or above the critical threshold.
    Critical = 2,
    /// 3: bad arguments or a local problem: the plugin could not check.
    Unknown = 3,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        })
    }
}

/// A threshold range of the guidelines: `[@]start:end`, where `start` defaults to 0 (`10` is `0:10`), `~` is minus
/// infinity and a missing `end` is infinity (`10:`). A value outside the range alerts; with `@`, a value inside it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range {
    /// The lower bound (may be minus infinity).
    pub(crate) start: f64,
    /// The upper bound (may be infinity).
    pub(crate) end: f64,
    /// `@`: alert inside the range instead of outside.
    pub(crate) inside: bool,
    /// The text as given, for the performance data.
    pub(crate) text: String,
}

impl Range {
    /// Parses one range; the error says what is wrong.
    pub(crate) fn parse(text: &str) -> Result<Range, String> {
        let bad = |why: &str| format!("threshold '{text}': {why}");
        let (inside, body) = match text.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let number = |s: &str| -> Result<f64, String> {
            let v: f64 = s
                .parse()
                .map_err(|_| bad(&format!("'{s}' is not a number")))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(bad(&format!("'{s}' is not a finite number")))
            }
        };
        let (start, end) = match body.split_once(':') {
            None => (0.0, number(body)?),
            Some((start, end)) => {
                let start = match start {
                    "~" => f64::NEG_INFINITY,
                    "" => 0.0,
                    s => number(s)?,
                };
                let end = match end {
                    "" => f64::INFINITY,
                    s => number(s)?,
                };
                (start, end)
            }
        };
        if start > end {
            return Err(bad("start is above end"));
        }
        Ok(Range {
            start,
            end,
            inside,
            text: text.to_string(),
        })
    }

    /// True when `value` should raise the alert this range stands for.
    pub(crate) fn alerts(&self, value: f64) -> bool {
        let within = self.start <= value && value <= self.end;
        within == self.inside
    }
}

/// The plugin's own options; everything else goes to the echoscu command line.
#[derive(Debug, Default)]
struct Thresholds {
    warning: Option<Range>,
    critical: Option<Range>,
}

const USAGE: &str = "usage: check_dicom [-w RANGE] [-c RANGE] [echoscu options] peer port
       echoprobe --plugin [-w RANGE] [-c RANGE] [echoscu options] peer port

A Nagios/Icinga/Checkmk plugin: one C-ECHO check, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN,
one status line with performance data (seconds).

  -w, --warning RANGE    WARNING when the check time (seconds) is outside RANGE
  -c, --critical RANGE   CRITICAL when the check time (seconds) is outside RANGE
                         RANGE: 10 (0..10), 10: (10..), ~:10 (..10), 10:20, @10:20 (alert inside)

Every other option is echoscu's (-aet, -aec, -to, -ta, -td, +tls ...: see echoprobe -h).
Any failure of the echo is CRITICAL with its reason; a bad option or a local problem is UNKNOWN.
";

/// True when this run is the plugin mode: the program is called `check_dicom`, or `--plugin` is an argument (before
/// any `--`).
pub(crate) fn wanted(argv0: Option<&OsStr>, args: &[OsString]) -> bool {
    let called_check_dicom = argv0
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .is_some_and(|s| s == "check_dicom");
    called_check_dicom
        || args
            .iter()
            .take_while(|a| *a != "--")
            .any(|a| a == "--plugin")
}

/// Runs the plugin mode on `args` (without the program name); prints the status line and returns the exit code.
pub(crate) fn run(args: Vec<OsString>) -> u8 {
    let (state, line) = match prepare(args) {
        Ok(Prepared::Help) => (State::Unknown, USAGE.trim_end().to_string()),
        Ok(Prepared::Check(options, thresholds)) => {
            let result = echo::check(&options);
            let state = judge(&result, &thresholds);
            (state, status_line(state, &options, &result, &thresholds))
        }
        Err(why) => (State::Unknown, format!("DICOM UNKNOWN - {why}")),
    };
    crate::log::stdout_line(format_args!("{line}"));
    state as u8
}

enum Prepared {
    Help,
    Check(Box<EchoOptions>, Thresholds),
}

/// Takes `--plugin`, `-w` and `-c` out of `args` and parses the rest as an echoscu command line.
fn prepare(args: Vec<OsString>) -> Result<Prepared, String> {
    let mut thresholds = Thresholds::default();
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|bad| format!("argument {bad:?} is not valid UTF-8"))?;
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let slot = match name.as_str() {
            "--plugin" => continue,
            "-h" | "--help" => return Ok(Prepared::Help),
            "-w" | "--warning" => &mut thresholds.warning,
            "-c" | "--critical" => &mut thresholds.critical,
            "--" => {
                rest.push(arg);
                for a in args.by_ref() {
                    rest.push(
                        a.into_string()
                            .map_err(|bad| format!("argument {bad:?} is not valid UTF-8"))?,
                    );
                }
                break;
            }
            _ => {
                rest.push(arg);
                continue;
            }
        };
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .and_then(|v| v.into_string().ok())
                .ok_or_else(|| format!("{name} needs a range (e.g. {name} 0.5)"))?,
        };
        *slot = Some(Range::parse(&value)?);
    }
    // A plugin checks a peer: "scp", "demo" ... are not modes here.
    if let Some(first) = rest
        .first()
        .filter(|a| ["scp", "demo", "generate"].contains(&a.as_str()))
    {
        return Err(format!(
            "'{first}' is not a plugin mode: check_dicom [-w RANGE] [-c RANGE] [options] peer port"
        ));
    }
    match cli::parse("echoprobe", rest) {
        Ok(Invocation::Echo(options, _)) => Ok(Prepared::Check(Box::new(options), thresholds)),
        Ok(Invocation::Help(_)) | Ok(Invocation::Version(_)) => Ok(Prepared::Help),
        Ok(_) => {
            Err("the plugin mode only checks a peer: check_dicom [options] peer port".to_string())
        }
        Err(failure) => Err(failure.to_string()),
    }
}

/// A failure of this host, not of the peer: the plugin could not check.
fn is_local(failure: &Failure) -> bool {
    matches!(
        failure.end(),
        End::Usage | End::Unsupported | End::Local | End::TlsLocalFiles
    )
}

/// The state of a finished check.
fn judge(result: &CheckResult, thresholds: &Thresholds) -> State {
    match &result.verdict {
        Err(f) if is_local(f) => State::Unknown,
        Err(_) => State::Critical,
        Ok(_) => {
            let secs = result.total.as_secs_f64();
            if thresholds.critical.as_ref().is_some_and(|r| r.alerts(secs)) {
                State::Critical
            } else if thresholds.warning.as_ref().is_some_and(|r| r.alerts(secs)) {
                State::Warning
            } else {
                State::Ok
            }
        }
    }
}

/// Milliseconds with one decimal.
fn millis(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The whole output line: the status text, `|`, the performance data.
fn status_line(
    state: State,
    options: &EchoOptions,
    result: &CheckResult,
    thresholds: &Thresholds,
) -> String {
    let text = match &result.verdict {
        Ok(_) => {
            let why = match state {
                State::Critical => thresholds.critical.as_ref().map(|r| ("critical", r)),
                State::Warning => thresholds.warning.as_ref().map(|r| ("warning", r)),
                _ => None,
            };
            let mut text = format!(
                "{}@{} answered C-ECHO in {} ms",
                options.called,
                result.peer,
                millis(result.total)
            );
            if let Some((name, range)) = why {
                text.push_str(&format!(" ({name} threshold {} s)", range.text));
            }
            text
        }
        Err(failure) => failure.to_string(),
    };
    format!(
        "DICOM {state} - {text} | {}",
        perfdata(options, result, thresholds)
    )
}

/// The performance data: `time` (the check) with the thresholds, then each phase; `U` where a phase was not reached.
fn perfdata(options: &EchoOptions, result: &CheckResult, thresholds: &Thresholds) -> String {
    let range = |r: &Option<Range>| r.as_ref().map_or(String::new(), |r| r.text.clone());
    let value =
        |d: Option<Duration>| d.map_or("U".to_string(), |d| format!("{:.6}s", d.as_secs_f64()));
    let t = &result.timeline;
    let echo = (!t.echoes.is_empty()).then(|| t.echoes.iter().sum());
    let mut items = vec![format!(
        "time={};{};{};0;",
        value(Some(result.total)),
        range(&thresholds.warning),
        range(&thresholds.critical)
    )];
    let mut phases = vec![("connect", t.connect)];
    if options.tls.is_some() {
        phases.push(("tls", t.tls));
    }
    phases.extend([
        ("associate", t.associate),
        ("echo", echo),
        ("release", t.release),
    ]);
    for (label, d) in phases {
        items.push(format!("{label}={};;;0;", value(d)));
    }
    items.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> Range {
        Range::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The guidelines' table of examples, each with values that alert and values that do not.
    #[test]
    fn range_syntax() {
        // 10: alert outside 0..10.
        let r = range("10");
        assert!(r.alerts(-1.0) && r.alerts(10.5));
        assert!(!r.alerts(0.0) && !r.alerts(10.0) && !r.alerts(5.0));
        // 10: alert below 10.
        let r = range("10:");
        assert!(r.alerts(9.9) && !r.alerts(10.0) && !r.alerts(1e9));
        // ~:10 alert above 10.
        let r = range("~:10");
        assert!(r.alerts(10.1) && !r.alerts(10.0) && !r.alerts(-1e9));
        // 10:20 alert outside 10..20.
        let r = range("10:20");
        assert!(r.alerts(9.0) && r.alerts(21.0) && !r.alerts(10.0) && !r.alerts(20.0));
        // @10:20 alert inside 10..20.
        let r = range("@10:20");
        assert!(
            !r.alerts(9.0) && !r.alerts(21.0) && r.alerts(10.0) && r.alerts(15.0) && r.alerts(20.0)
        );
        // Fractions (seconds) and the text kept for the perfdata.
        let r = range("0.25");
        assert!(r.alerts(0.3) && !r.alerts(0.2));
        assert_eq!(r.text, "0.25");
    }

    #[test]
    fn bad_ranges() {
        for bad in ["", "x", "20:10", "1:x", "@", "~", "inf", "NaN", ":~"] {
            assert!(Range::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn plugin_mode_is_chosen_by_name_or_flag() {
        assert!(wanted(
            Some(OsStr::new("/usr/lib/nagios/plugins/check_dicom")),
            &[]
        ));
        assert!(wanted(
            Some(OsStr::new("echoprobe")),
            &os(&["-aec", "X", "--plugin", "h", "1"])
        ));
        assert!(!wanted(Some(OsStr::new("echoprobe")), &os(&["h", "1"])));
        assert!(!wanted(
            Some(OsStr::new("echoscu")),
            &os(&["--", "--plugin", "1"])
        ));
    }

    #[test]
    fn options_are_split() {
        let Ok(Prepared::Check(options, t)) = prepare(os(&[
            "--plugin",
            "-w",
            "0.5",
            "--critical=@1:2",
            "-aec",
            "PACS",
            "h",
            "104",
        ])) else {
            panic!("not a check")
        };
        assert_eq!(options.called, "PACS");
        assert_eq!(options.port, 104);
        assert_eq!(t.warning.map(|r| r.text), Some("0.5".to_string()));
        assert_eq!(
            t.critical.map(|r| (r.start, r.end, r.inside)),
            Some((1.0, 2.0, true))
        );
        for bad in [
            &["-w"][..],
            &["-w", "x", "h", "1"],
            &["-bogus", "h", "1"],
            &["scp", "104"],
            &[],
        ] {
            assert!(prepare(os(bad)).is_err(), "{bad:?}");
        }
        assert!(matches!(prepare(os(&["-h"])), Ok(Prepared::Help)));
    }
}
