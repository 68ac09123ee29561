//! The command line as a user meets it, through the built binary: help, version, syntax errors, refused options,
//! the `echoscu` name, and the demo (which only talks to itself on 127.0.0.1).

use core::time::Duration;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Instant;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_echoprobe"))
}

fn run_with(program: &PathBuf, args: &[&str]) -> (i32, String, String, Duration) {
    let start = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(program)
        .args(args)
        .output()
        .expect("run echoprobe");
    let took = start.elapsed();
    (
        status.code().expect("exited by signal"),
        String::from_utf8(stdout).expect("utf-8 stdout"),
        String::from_utf8(stderr).expect("utf-8 stderr"),
        took,
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    let (code, out, err, _) = run_with(&bin(), args);
    (code, out, err)
}

/// Runs `args`, expecting exit code `code` and each of `needles` on stderr.
#[track_caller]
fn assert_fails(args: &[&str], code: i32, needles: &[&str]) {
    let (got, _, err) = run(args);
    assert_eq!(got, code, "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} missing from:\n{err}");
    }
}

#[test]
fn help_is_grouped_like_echoscu_and_lists_exit_codes() {
    for flag in ["-h", "--help"] {
        let (code, out, err) = run(&[flag]);
        assert_eq!(code, 0, "{err}");
        assert!(err.is_empty(), "{err}");
        for needle in [
            "usage: echoprobe [options] peer port",
            "general options:",
            "network options:",
            "  application entity titles:",
            "    -aet  --aetitle",
            "    -aec  --call",
            "    -pts  --propose-ts",
            "    -to   --timeout",
            "    -ta   --acse-timeout",
            "    -td   --dimse-timeout",
            "    -pdu  --max-pdu",
            "--deadline",
            "transport layer security (TLS) options:",
            "exit codes:",
            "  61  association rejected",
            "  72  overall deadline",
        ] {
            assert!(out.contains(needle), "help lacks {needle:?}:\n{out}");
        }
    }
    // --help wins over anything else on the line, as in DCMTK.
    let (code, out, _) = run(&["-aet", "X", "--help", "-pts", "99"]);
    assert_eq!(code, 0);
    assert!(out.contains("usage:"));
}

#[test]
fn subcommand_help() {
    let (code, out, _) = run(&["scp", "-h"]);
    assert_eq!(code, 0);
    assert!(out.contains("usage: echoprobe scp [options] port"), "{out}");
    assert!(
        out.contains("--require-called-aet") && out.contains("--max-associations"),
        "{out}"
    );
    let (code, out, _) = run(&["demo", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("usage: echoprobe demo"), "{out}");
}

#[test]
fn version() {
    let (code, out, err) = run(&["--version"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("echoprobe {}\n", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
}

#[test]
fn syntax_errors_exit_1_with_one_line_on_stderr() {
    for (args, expected) in [
        (&[][..], "missing parameters peer and port"),
        (&["host"][..], "missing parameter port"),
        (&["host", "0"][..], "invalid port 0"),
        (&["host", "70000"][..], "invalid port 70000"),
        (&["-xx", "host", "104"][..], "unknown option -xx"),
        (&["-aet"][..], "missing value for option --aetitle"),
        (&["-pts", "39", "host", "104"][..], "39 is not in 1..=38"),
        (&["-ppc", "129", "host", "104"][..], "129 is not in 1..=128"),
        (
            &["-pdu", "1000", "host", "104"][..],
            "1000 is not in 4096..=131072",
        ),
        (&["-to", "0", "host", "104"][..], "underflow"),
        (&["--repeat", "0", "host", "104"][..], "at least 1"),
        (
            &["scp", "--allow-calling", "THIS-IS-SEVENTEEN", "0"][..],
            "at most 16 characters",
        ),
        (
            &["-aec", "BACK\\SLASH", "host", "104"][..],
            "not allowed in an AE title",
        ),
        (
            &["-ll", "chatty", "host", "104"][..],
            "fatal, error, warn, info, debug, trace",
        ),
        (&["host", "104", "extra"][..], "unexpected argument 'extra'"),
        (&["scp"][..], "missing parameter port"),
        (
            &["scp", "--bind", "somewhere", "104"][..],
            "invalid value 'somewhere'",
        ),
        (&["demo", "--status", "0xZZ"][..], "not a 16-bit status"),
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: stdout {out:?}");
        assert!(err.starts_with("echoprobe: "), "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected {expected:?} in {err:?}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn tls_options_are_checked_not_ignored() {
    // Options that need TLS without +tls/+tla, unsupported suites, retired profiles, CRLs: exit 1 with a reason.
    for (args, why) in [
        (&["+cf", "ca.pem", "host", "104"][..], "only with +tls"),
        (&["-ic", "host", "104"][..], "only with +tls"),
        (&["+tla", "host", "104"][..], "+cf FILE or +cd DIR"),
        (
            &[
                "+tla",
                "-ic",
                "+cs",
                "TLS1_TXT_RSA_WITH_AES_128_SHA",
                "host",
                "104",
            ][..],
            "ciphersuite 'TLS1_TXT_RSA_WITH_AES_128_SHA' is not supported",
        ),
        (&["+tla", "-ic", "+pa", "host", "104"][..], "retired"),
        (
            &["+tla", "-ic", "+crl", "x.pem", "host", "104"][..],
            "-ic does not verify",
        ),
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(out.is_empty());
        assert!(err.starts_with("echoprobe: "), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: expected {why:?} in {err}");
    }
    // -lc is read at once: a missing file is 1, before any name lookup (log_config.rs tests the rest).
    assert_fails(
        &["-lc", "/nonexistent/logger.cfg", "host.invalid", "104"],
        1,
        &["cannot read --log-config file"],
    );
}

#[test]
fn unreadable_tls_files_are_84_before_any_connection() {
    // The files are read before the name lookup: "host.invalid" is never resolved.
    let (code, out, err) = run(&[
        "+tls",
        "/nonexistent/key.pem",
        "/nonexistent/cert.pem",
        "+cf",
        "/nonexistent/ca.pem",
        "host.invalid",
        "104",
    ]);
    assert_eq!(code, 84, "{err}");
    assert!(out.is_empty());
    assert!(
        err.starts_with("echoprobe: TLS: cannot read certificate /nonexistent/cert.pem"),
        "{err}"
    );
    assert_fails(
        &["+tla", "+cf", "/nonexistent/ca.pem", "host.invalid", "104"],
        84,
        &["cannot read trusted certificate file"],
    );
}

#[test]
fn list_ciphers_exits_0() {
    let (code, out, err) = run(&["+cc"]);
    assert_eq!(code, 0, "{err}");
    for suite in [
        "TLS_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ] {
        assert!(out.contains(suite), "{out}");
    }
}

#[test]
fn runs_as_echoscu_under_that_name() {
    let dir = std::env::temp_dir().join(format!("echoprobe-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("echoscu");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(bin(), &link).unwrap();

    let (code, out, _, _) = run_with(&link, &["-h"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("echoscu: DICOM verification (C-ECHO) SCU"),
        "{out}"
    );
    assert!(out.contains("usage: echoscu [options] peer port"), "{out}");
    let (code, _, err, _) = run_with(&link, &["+tls", "k", "c", "-ic", "host", "104"]);
    assert_eq!(code, 84);
    assert!(err.starts_with("echoscu: TLS: cannot read"), "{err}");
    // No subcommands under that name: "scp" is a host (which does not resolve here: a local error, 60).
    let (code, _, err, _) = run_with(
        &link,
        &["-to", "2", "--deadline", "5", "scp.invalid", "104"],
    );
    assert_eq!(code, 60, "{err}");
    assert!(
        err.starts_with("echoscu: cannot resolve 'scp.invalid'"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refused_connection_exits_63_quickly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (code, out, err, took) = run_with(&bin(), &["127.0.0.1", &port]);
    assert_eq!(code, 63, "{err}");
    assert!(out.is_empty());
    assert!(
        err.starts_with(&format!("echoprobe: cannot connect to 127.0.0.1:{port}: ")),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    // -q keeps the error (DCMTK prints fatal errors with -q too); --json adds the object on stdout.
    let (code, out, err, _) = run_with(&bin(), &["-q", "--json", "127.0.0.1", &port]);
    assert_eq!(code, 63);
    assert!(
        out.starts_with('{')
            && out.contains("\"exit_code\":63")
            && out.contains("\"healthy\":false"),
        "{out}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn demo_is_healthy_and_shows_other_verdicts() {
    let (code, out, err, took) = run_with(&bin(), &["demo"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("healthy, 1 echo, rtt "), "{out}");
    assert!(
        err.contains("I: Association Accepted"),
        "demo is verbose by default: {err}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    let (code, out, err) = run(&["demo", "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty() && err.is_empty(), "{out}{err}");

    assert_fails(
        &["demo", "-q", "--status", "0x0110"],
        68,
        &["has status 0x0110"],
    );
    assert_fails(
        &["demo", "-q", "-aec", "WRONG"],
        61,
        &["called-AE-title-not-recognized (1/1/7)"],
    );

    let (code, out, _) = run(&["demo", "-q", "--json", "--repeat", "3"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"echoes_sent\":3,\"echoes_ok\":3"), "{out}");
}

#[test]
fn accepted_tls_options_without_effect_are_explained_at_v() {
    // Nobody listens on 127.0.0.1:1: the check fails (63) after the options were explained.
    assert_fails(
        &[
            "-v",
            "+tla",
            "-ic",
            "+px",
            "+dp",
            "dh.pem",
            "+rs",
            "seed",
            "+ws",
            "-to",
            "2",
            "127.0.0.1",
            "1",
        ],
        63,
        &[
            "I: TLS: +px (BCP 195)",
            "I: TLS: +dp dh.pem: DH parameters are not used",
            "I: TLS: +rs seed: not read",
            "I: TLS: -ic: the server certificate is NOT verified",
        ],
    );
}
