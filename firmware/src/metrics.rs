//! `GET /metrics`: the probe's series in Prometheus's text format 0.0.4, written one line at a time into a small
//! buffer, so a response of any length streams out through the HTTP socket without being held whole in RAM.
//!
//! The names are the daemon's (`echoprobe serve`) where both exist, so one set of dashboards reads both:
//! `echoprobe_target_up{target}` and `echoprobe_checks_total{target,outcome}` (outcome = the exit-code table's row
//! name). The daemon keeps histograms of each phase's duration; the probe keeps only the last check's, as gauges under
//! their own names. The rest is the probe's own.
//!
//! Pure (only `core`): `tests/metrics-test.sh` builds this file alone for the host and runs its tests.

/// The exit-code table's rows a find check adds.
#[cfg(any(feature = "find", test))]
macro_rules! find_outcomes {
    () => {
        [
            "no-find-context",
            "find-failure-status",
            "too-few-matches",
            "required-value-mismatch",
        ]
    };
}

/// The outcome names, and (with `FIND_OUTCOMES`) the find check's after them. A macro, not a slice of one longer
/// array: a slice would put the whole array (names a build never counts) in flash.
macro_rules! outcomes {
    () => {
        &[
            "healthy",
            "rejected",
            "unreachable",
            "connect-timeout",
            "no-presentation-context",
            "acse-timeout",
            "dimse-timeout",
            "failure-status",
            "protocol-violation",
            "aborted-by-peer",
            "closed-by-peer",
            "deadline",
            "local-error",
        ]
    };
    (FIND_OUTCOMES) => {{
        const ECHO: &[&str] = outcomes!();
        const FIND: [&str; 4] = find_outcomes!();
        const ALL: [&str; 17] = {
            let mut all = [""; 17];
            let mut i = 0;
            while i < 17 {
                all[i] = if i < ECHO.len() {
                    ECHO[i]
                } else {
                    FIND[i - ECHO.len()]
                };
                i += 1;
            }
            all
        };
        &ALL
    }};
}

/// The outcomes the probe counts, by the names of the exit-code table (host-cli `exit::ROWS`, `result`): the tests
/// check each name is there. The find check's four rows count only in a `find` build (a smaller state otherwise).
#[cfg(not(feature = "find"))]
pub const OUTCOMES: &[&str] = outcomes!();
#[cfg(feature = "find")]
pub const OUTCOMES: &[&str] = outcomes!(FIND_OUTCOMES);

/// The phases whose last duration is kept (the daemon's `phase` label values; the probe has no TLS).
pub const PHASES: [&str; 4] = ["connect", "associate", "echo", "release"];

/// A duration that was not measured (the phase was not reached); a measured one is at least 1 microsecond.
pub const NONE: u32 = 0;

/// One target's figures, as `/metrics` shows them.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub name: &'a str,
    pub up: bool,
    /// Checks finished, by [`OUTCOMES`] index.
    pub checks: [u32; OUTCOMES.len()],
    /// The last check's phases, by [`PHASES`] index, in microseconds ([`NONE`]: not reached).
    pub phases: [u32; PHASES.len()],
    /// The last check, start to verdict, in microseconds ([`NONE`]: no check yet).
    pub total: u32,
    /// How late the last check started, in microseconds.
    pub lag: u32,
}

/// The probe's own figures.
#[derive(Clone, Copy)]
pub struct Probe {
    pub uptime_us: u64,
    /// Checks that started later than a tenth of their interval.
    pub late_checks: u32,
    /// The NIC's counters (frames received, sent, dropped, overruns), if the driver keeps them.
    pub nic: Option<[u32; NIC.len()]>,
}

/// The `counter` label values of `echoprobe_probe_nic_frames_total`.
pub const NIC: [&str; 4] = ["rx", "tx", "rx_dropped", "rx_overrun"];

/// What `/metrics` reads.
pub trait Source {
    fn targets(&self) -> usize;
    fn target(&self, i: usize) -> Target<'_>;
    fn probe(&self) -> Probe;
}

/// A line did not fit the buffer (the buffer is too small for the longest line: a bug to fix, not a panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// One metric family: its name, `# HELP` text, `# TYPE`, and how many lines it has per target and per probe.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    per_target: usize,
    per_probe: usize,
}

const fn family(
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    per: (usize, usize),
) -> Family {
    Family {
        name,
        help,
        kind,
        per_target: per.0,
        per_probe: per.1,
    }
}

const FAMILIES: [Family; 8] = [
    family(
        "echoprobe_target_up",
        "1 up, 0 down (after rise/fall)",
        "gauge",
        (1, 0),
    ),
    family(
        "echoprobe_checks_total",
        "Checks by outcome",
        "counter",
        (OUTCOMES.len(), 0),
    ),
    family(
        "echoprobe_last_check_duration_seconds",
        "Last check, by phase",
        "gauge",
        (PHASES.len(), 0),
    ),
    family(
        "echoprobe_last_check_total_duration_seconds",
        "Last check, start to verdict",
        "gauge",
        (1, 0),
    ),
    family(
        "echoprobe_schedule_lag_seconds",
        "How late the last check started",
        "gauge",
        (1, 0),
    ),
    family(
        "echoprobe_probe_late_checks_total",
        "Checks started over interval/10 late",
        "counter",
        (0, 1),
    ),
    family(
        "echoprobe_probe_uptime_seconds",
        "Time since boot",
        "gauge",
        (0, 1),
    ),
    family(
        "echoprobe_probe_nic_frames_total",
        "NIC frame counters",
        "counter",
        (0, NIC.len()),
    ),
];

/// A sample's value.
enum Value {
    Count(u64),
    /// Microseconds, shown as seconds with 6 decimals.
    Micros(u64),
}

/// Writes part `part` of the response into `out`: a family's header or one sample line (possibly nothing: a counter
/// still at zero, a phase not reached). Returns the bytes written, or `None` after the last part.
pub fn render(part: usize, src: &impl Source, out: &mut [u8]) -> Result<Option<usize>, Overflow> {
    let n = src.targets();
    let mut p = part;
    for (f, fam) in FAMILIES.iter().enumerate() {
        let size = 1 + fam.per_target * n + fam.per_probe;
        if p >= size {
            p -= size;
            continue;
        }
        let mut w = Buf { out, len: 0 };
        if p == 0 {
            for s in [
                "# HELP ",
                fam.name,
                " ",
                fam.help,
                "\n# TYPE ",
                fam.name,
                " ",
                fam.kind,
                "\n",
            ] {
                w.push(s)?;
            }
        } else if let Some(i) = (p - 1).checked_div(fam.per_target) {
            let line = (p - 1) % fam.per_target;
            let t = src.target(i);
            let (label, value) = match f {
                0 => (None, Some(Value::Count(t.up.into()))),
                1 => (
                    Some(("outcome", OUTCOMES[line])),
                    Some(t.checks[line])
                        .filter(|&c| c > 0)
                        .map(|c| Value::Count(c.into())),
                ),
                2 => (Some(("phase", PHASES[line])), micros(t.phases[line])),
                3 => (None, micros(t.total)),
                _ => (None, Some(Value::Micros(t.lag.into()))),
            };
            if let Some(v) = value {
                sample(&mut w, fam.name, Some(("target", t.name)), label, v)?;
            }
        } else {
            let pr = src.probe();
            let value = match f {
                5 => Some(Value::Count(pr.late_checks.into())),
                6 => Some(Value::Micros(pr.uptime_us)),
                _ => pr.nic.map(|c| Value::Count(c[p - 1].into())),
            };
            let label = (f == 7).then(|| ("counter", NIC[p - 1]));
            if let Some(v) = value {
                sample(&mut w, fam.name, label, None, v)?;
            }
        }
        return Ok(Some(w.len));
    }
    Ok(None)
}

fn micros(us: u32) -> Option<Value> {
    (us != NONE).then_some(Value::Micros(us.into()))
}

/// `name{a="x",b="y"} value\n`, by pieces (no formatting machinery: flash is tight).
fn sample(
    w: &mut Buf<'_>,
    name: &str,
    first: Option<(&str, &str)>,
    second: Option<(&str, &str)>,
    value: Value,
) -> Result<(), Overflow> {
    w.push(name)?;
    let mut sep = "{";
    for (k, v) in [first, second].into_iter().flatten() {
        for s in [sep, k, "=\"", v, "\""] {
            w.push(s)?;
        }
        sep = ",";
    }
    if sep == "," {
        w.push("}")?;
    }
    w.push(" ")?;
    match value {
        Value::Count(n) => w.decimal(n, 1)?,
        Value::Micros(us) => {
            w.decimal(us / 1_000_000, 1)?;
            w.push(".")?;
            w.decimal(us % 1_000_000, 6)?;
        }
    }
    w.push("\n")
}

/// A byte buffer that refuses what does not fit.
struct Buf<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Buf<'_> {
    fn push(&mut self, s: &str) -> Result<(), Overflow> {
        let end = self.len + s.len();
        let dst = self.out.get_mut(self.len..end).ok_or(Overflow)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }

    /// `n` in decimal, zero-padded to `digits`.
    fn decimal(&mut self, mut n: u64, digits: usize) -> Result<(), Overflow> {
        let mut tmp = [b'0'; 20];
        let mut i = tmp.len();
        while n > 0 || tmp.len() - i < digits {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let end = self.len + tmp.len() - i;
        let dst = self.out.get_mut(self.len..end).ok_or(Overflow)?;
        dst.copy_from_slice(&tmp[i..]);
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    struct Fake(Vec<Target<'static>>, Probe);

    impl Source for Fake {
        fn targets(&self) -> usize {
            self.0.len()
        }
        fn target(&self, i: usize) -> Target<'_> {
            self.0[i]
        }
        fn probe(&self) -> Probe {
            self.1
        }
    }

    fn fake(n: usize) -> Fake {
        let mut checks = [0; OUTCOMES.len()];
        checks[0] = 7;
        checks[2] = 4_000_000_000;
        let t = Target {
            name: "storescp",
            up: true,
            checks,
            phases: [1_234, 2_000_500, NONE, 1],
            total: 12_345_678,
            lag: 0,
        };
        let probe = Probe {
            uptime_us: 86_400_000_001,
            late_checks: 3,
            nic: Some([10, 20, 0, 1]),
        };
        Fake(vec![t; n], probe)
    }

    /// Every part, concatenated, as the HTTP handler sends them; buffer of `cap` bytes.
    fn all(src: &Fake, cap: usize) -> Result<String, Overflow> {
        let mut text = String::new();
        let mut buf = vec![0u8; cap];
        for part in 0.. {
            match render(part, src, &mut buf)? {
                Some(n) => text.push_str(core::str::from_utf8(&buf[..n]).unwrap()),
                None => return Ok(text),
            }
        }
        unreachable!()
    }

    #[test]
    fn test_render_text_format() {
        let text = all(&fake(1), 160).unwrap();
        let want = "\
# HELP echoprobe_target_up 1 up, 0 down (after rise/fall)
# TYPE echoprobe_target_up gauge
echoprobe_target_up{target=\"storescp\"} 1
# HELP echoprobe_checks_total Checks by outcome
# TYPE echoprobe_checks_total counter
echoprobe_checks_total{target=\"storescp\",outcome=\"healthy\"} 7
echoprobe_checks_total{target=\"storescp\",outcome=\"unreachable\"} 4000000000
# HELP echoprobe_last_check_duration_seconds Last check, by phase
# TYPE echoprobe_last_check_duration_seconds gauge
echoprobe_last_check_duration_seconds{target=\"storescp\",phase=\"connect\"} 0.001234
echoprobe_last_check_duration_seconds{target=\"storescp\",phase=\"associate\"} 2.000500
echoprobe_last_check_duration_seconds{target=\"storescp\",phase=\"release\"} 0.000001
# HELP echoprobe_last_check_total_duration_seconds Last check, start to verdict
# TYPE echoprobe_last_check_total_duration_seconds gauge
echoprobe_last_check_total_duration_seconds{target=\"storescp\"} 12.345678
# HELP echoprobe_schedule_lag_seconds How late the last check started
# TYPE echoprobe_schedule_lag_seconds gauge
echoprobe_schedule_lag_seconds{target=\"storescp\"} 0.000000
# HELP echoprobe_probe_late_checks_total Checks started over interval/10 late
# TYPE echoprobe_probe_late_checks_total counter
echoprobe_probe_late_checks_total 3
# HELP echoprobe_probe_uptime_seconds Time since boot
# TYPE echoprobe_probe_uptime_seconds gauge
echoprobe_probe_uptime_seconds 86400.000001
# HELP echoprobe_probe_nic_frames_total NIC frame counters
# TYPE echoprobe_probe_nic_frames_total counter
echoprobe_probe_nic_frames_total{counter=\"rx\"} 10
echoprobe_probe_nic_frames_total{counter=\"tx\"} 20
echoprobe_probe_nic_frames_total{counter=\"rx_dropped\"} 0
echoprobe_probe_nic_frames_total{counter=\"rx_overrun\"} 1
";
        assert_eq!(text, want);
    }

    /// 16 targets with the longest names: far more text than any socket buffer, each line within the 160-byte buffer
    /// the firmware uses; no NIC counters on a board without them.
    #[test]
    fn test_render_many_targets_streams_in_lines() {
        let mut src = fake(16);
        for t in &mut src.0 {
            t.name = "a-target-name-of-32-characters.x";
            t.checks = [u32::MAX; OUTCOMES.len()];
        }
        src.1.nic = None;
        let text = all(&src, 160).unwrap();
        assert!(text.len() > 16 * 1024, "{}", text.len());
        assert_eq!(text.matches("echoprobe_target_up{").count(), 16);
        assert!(!text.contains("nic_frames_total{"));
    }

    /// A line longer than the buffer is an error, never a panic or a cut line; every smaller buffer too.
    #[test]
    fn test_render_overflow_is_an_error() {
        let src = fake(2);
        for cap in 0..120 {
            assert_eq!(all(&src, cap), Err(Overflow), "cap {cap}");
        }
        assert!(all(&src, 160).is_ok());
    }

    /// The outcome names are the daemon's (its exit-code table), so one dashboard reads both.
    #[test]
    fn test_outcome_names_are_the_exit_table_rows() {
        let table = include_str!("../../host-cli/src/exit/mod.rs");
        for name in OUTCOMES.iter().chain(&find_outcomes!()) {
            assert!(
                table.contains(&format!("\"{name}\",")),
                "{name} not in host-cli's exit table"
            );
        }
        let metrics = include_str!("../../host-cli/src/serve/http/metrics.rs");
        for name in [
            "\"echoprobe_target_up\"",
            "\"echoprobe_checks\"",
            "const PHASES",
        ] {
            assert!(metrics.contains(name), "{name} not in the daemon's metrics");
        }
        for phase in PHASES {
            assert!(
                metrics.contains(&format!("\"{phase}\"")),
                "phase {phase} not the daemon's"
            );
        }
    }
}
