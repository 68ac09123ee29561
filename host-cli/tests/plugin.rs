//! The monitoring-plugin mode (`check_dicom`, `--plugin`) from outside: exit codes, the one status line, and its
//! performance data checked against the Monitoring Plugins Development Guidelines' grammar
//! (`'label'=value[UOM];[warn];[crit];[min];[max]`, space separated, ranges `[@][start:][end]`).
//!
//! Runs against `echoprobe scp` on 127.0.0.1 (tests/ peers); the test namespace rules of the other tests apply.

use core::time::Duration;
use std::process::Command;

use echoprobe_tests::net::free_port;
use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::run;

const LIMIT: Duration = Duration::from_secs(20);

fn plugin(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.arg("--plugin").args(args);
    cmd
}

/// One parsed perfdata item.
#[derive(Debug)]
struct Perf {
    label: String,
    value: Option<f64>,
    uom: String,
    warn: String,
    crit: String,
    min: String,
}

/// A threshold field of the grammar: empty, or `[@]start:end` / `end` with numbers, `~` as start, empty end.
fn is_range(s: &str) -> bool {
    let s = s.strip_prefix('@').unwrap_or(s);
    let num = |n: &str| n.parse::<f64>().is_ok_and(f64::is_finite);
    match s.split_once(':') {
        None => s.is_empty() || num(s),
        Some((a, b)) => (a == "~" || num(a)) && (b.is_empty() || num(b)),
    }
}

/// Parses the text after `|` as the guidelines define it; panics with the reason on anything else.
fn parse_perfdata(text: &str) -> Vec<Perf> {
    let mut out = Vec::new();
    for item in text.split(' ').filter(|s| !s.is_empty()) {
        let (label, rest) = item
            .split_once('=')
            .unwrap_or_else(|| panic!("no '=' in {item:?}"));
        let label = label
            .strip_prefix('\'')
            .and_then(|l| l.strip_suffix('\''))
            .unwrap_or(label);
        assert!(
            !label.is_empty() && !label.contains(['=', '\'']),
            "label {label:?}"
        );
        let fields: Vec<&str> = rest.split(';').collect();
        assert!(
            (1..=5).contains(&fields.len()),
            "{item}: {} fields",
            fields.len()
        );
        let field = |i: usize| fields.get(i).copied().unwrap_or("").to_string();
        let raw = fields[0];
        let (value, uom) = if raw == "U" {
            (None, String::new())
        } else {
            let split = raw
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .unwrap_or(raw.len());
            let (num, uom) = raw.split_at(split);
            let v: f64 = num
                .parse()
                .unwrap_or_else(|_| panic!("{item}: value {num:?}"));
            assert!(
                ["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom),
                "{item}: unit {uom:?}"
            );
            (Some(v), uom.to_string())
        };
        for (i, name) in [(1, "warn"), (2, "crit")] {
            assert!(
                is_range(&field(i)),
                "{item}: {name} {:?} is not a range",
                field(i)
            );
        }
        for i in [3, 4] {
            let f = field(i);
            assert!(
                f.is_empty() || f.parse::<f64>().is_ok(),
                "{item}: min/max {f:?}"
            );
        }
        out.push(Perf {
            label: label.to_string(),
            value,
            uom,
            warn: field(1),
            crit: field(2),
            min: field(3),
        });
    }
    out
}

/// The one line: `DICOM STATE - text | perfdata`, and the perfdata parsed.
fn line(stdout: &str, state: &str) -> (String, Vec<Perf>) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stdout:?}");
    let prefix = format!("DICOM {state} - ");
    assert!(lines[0].starts_with(&prefix), "{stdout:?}");
    match lines[0].split_once(" | ") {
        Some((text, perf)) => (text.to_string(), parse_perfdata(perf)),
        None => (lines[0].to_string(), Vec::new()),
    }
}

#[test]
fn ok_warning_critical_with_perfdata() {
    let scp = echoprobe_scp(&[]);
    let port = scp.port_arg();
    let out = run(
        &mut plugin(&[
            "-aec",
            "ECHOPROBE",
            "-w",
            "5",
            "-c",
            "10",
            "127.0.0.1",
            &port,
        ]),
        LIMIT,
    );
    out.assert_code(0);
    let (text, perf) = line(&out.stdout, "OK");
    assert!(
        text.starts_with("DICOM OK - ECHOPROBE@127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains(" answered C-ECHO in ") && text.ends_with(" ms"),
        "{text}"
    );
    let labels: Vec<&str> = perf.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["time", "connect", "associate", "echo", "release"]);
    for p in &perf {
        assert_eq!(p.uom, "s", "{p:?}");
        assert!(p.value.is_some_and(|v| (0.0..10.0).contains(&v)), "{p:?}");
        assert_eq!(p.min, "0", "{p:?}");
    }
    assert_eq!((perf[0].warn.as_str(), perf[0].crit.as_str()), ("5", "10"));
    let total = perf[0].value.unwrap_or_default();
    let phases: f64 = perf[1..].iter().filter_map(|p| p.value).sum();
    assert!(phases <= total + 1e-6, "phases {phases} > total {total}");

    // Thresholds: any time is outside 0:0.000000001 ...
    let out = run(
        &mut plugin(&["-w", "0.000000001", "127.0.0.1", &port]),
        LIMIT,
    );
    out.assert_code(1);
    let (_, perf) = line(&out.stdout, "WARNING");
    assert_eq!(perf[0].warn, "0.000000001");
    // ... and inside @0:60.
    let out = run(
        &mut plugin(&["-w", "0.000000001", "--critical=@0:60", "127.0.0.1", &port]),
        LIMIT,
    );
    out.assert_code(2);
    line(&out.stdout, "CRITICAL");
    drop(scp);
}

#[test]
fn failures_are_critical_with_the_cli_reason() {
    let port = free_port().to_string();
    let out = run(&mut plugin(&["127.0.0.1", &port]), LIMIT);
    out.assert_code(2);
    let (text, perf) = line(&out.stdout, "CRITICAL");
    // The CLI's own words for the same failure.
    let cli = run(
        Command::new(env!("CARGO_BIN_EXE_echoprobe")).args(["127.0.0.1", &port]),
        LIMIT,
    );
    let reason = text.trim_start_matches("DICOM CRITICAL - ");
    assert!(
        cli.stderr.contains(reason),
        "{reason:?} not in {:?}",
        cli.stderr
    );
    assert!(perf[0].value.is_some(), "{perf:?}");
    assert!(
        perf[1..].iter().all(|p| p.value.is_none()),
        "unreached phases are U: {perf:?}"
    );
}

#[test]
fn local_problems_are_unknown() {
    for args in [
        &["-bogus", "127.0.0.1", "104"][..],
        &["-w", "20:10", "127.0.0.1", "104"],
        &["-c"],
        &[],
        &["scp", "104"],
        &[
            "+tls",
            "/nonexistent/key.pem",
            "/nonexistent/cert.pem",
            "127.0.0.1",
            "104",
        ],
    ] {
        let out = run(&mut plugin(args), LIMIT);
        out.assert_code(3);
        line(&out.stdout, "UNKNOWN");
    }
}

/// Installed as `check_dicom` (a symlink), no `--plugin` needed.
#[test]
fn check_dicom_symlink() {
    let dir = TempDir::new("check-dicom");
    let link = dir.path().join("check_dicom");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_echoprobe"), &link).expect("symlink");
    let port = free_port().to_string();
    let out = run(Command::new(&link).args(["127.0.0.1", &port]), LIMIT);
    out.assert_code(2);
    line(&out.stdout, "CRITICAL");
    let out = run(Command::new(&link).arg("--bogus"), LIMIT);
    out.assert_code(3);
}
