//! What a network engineer meets on the first day of swapping DCMTK's echoscu for echoprobe: long AE titles,
//! TLS messages, `+ps` under a deadline, shell completion of DCMTK's spellings, DCMTK's own logger.cfg.
//!
//! Tests that start DCMTK's storescp (it listens on every interface) run only in a loopback-only namespace
//! (`echoprobe_tests::setup` checks it): `unshare -n bash -c 'ip link set lo up && cargo test -p echoprobe'`.

use core::time::Duration;
use std::process::Command;

use echoprobe_tests::env::dcmtk;
use echoprobe_tests::peers::storescp;
use echoprobe_tests::run;

mod common;

const LIMIT: Duration = Duration::from_secs(20);

fn echoprobe(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(args);
    cmd
}

/// DCMTK's echoscu cuts a calling or called AE title over 16 characters to its first 16 and goes on (exit 0);
/// echoprobe does the same, with one warning per option, so that swapping the binary cannot turn a check DOWN.
#[test]
fn long_ae_titles_are_truncated_as_dcmtk_does() {
    let scp = storescp("STORESCP");
    let port = scp.port_arg();
    let (calling, called) = ("12345678901234567890", "ABCDEFGHIJKLMNOPQRSTUV");
    let args = ["-aet", calling, "-aec", called, "127.0.0.1", &port];

    let out = run(Command::new(dcmtk("echoscu")).args(args), LIMIT);
    out.assert_code(0);
    let out = run(&mut echoprobe(&args), LIMIT);
    out.assert_code(0);
    assert_eq!(
        out.stderr,
        "echoprobe: warning: -aet/--aetitle: AE title '12345678901234567890' has 20 characters, truncated to 16 \
         as DCMTK does: '1234567890123456'\n\
         echoprobe: warning: -aec/--call: AE title 'ABCDEFGHIJKLMNOPQRSTUV' has 22 characters, truncated to 16 \
         as DCMTK does: 'ABCDEFGHIJKLMNOP'\n",
        "{out}"
    );
    // Both put the same titles on the wire (storescp -d prints each A-ASSOCIATE-RQ's titles twice).
    let log = scp.log();
    assert_eq!(
        log.matches("Calling Application Name:    1234567890123456\n")
            .count(),
        4,
        "{log}"
    );
    assert_eq!(
        log.matches("Called Application Name:     ABCDEFGHIJKLMNOP\n")
            .count(),
        4,
        "{log}"
    );

    // -q: no warning.
    let out = run(
        &mut echoprobe(&["-q", "-aet", calling, "127.0.0.1", &port]),
        LIMIT,
    );
    out.assert_code(0);
    assert_eq!(out.stderr, "", "{out}");
}

/// Other invalid titles stay errors (exit 1), also when they are long.
#[test]
fn other_invalid_ae_titles_stay_errors() {
    for (option, title, says) in [
        ("-aet", "", "1 to 16 characters"),
        ("-aet", "   ", "1 to 16 characters"),
        ("-aec", "A\\B", "'\\\\' is not allowed"),
        ("-aet", "A\tB", "'\\t' is not allowed"),
        ("-aec", "ABCDEFGHIJKLMNOPQRST\\", "'\\\\' is not allowed"),
    ] {
        let out = run(&mut echoprobe(&[option, title, "127.0.0.1", "104"]), LIMIT);
        out.assert_code(1).assert_stderr(says);
        assert!(!out.stderr.contains("warning"), "{out}");
    }
}

/// The SCP's own title: storescp takes a long one too; `echoprobe scp` cuts it and answers to the first 16.
#[test]
fn scp_ae_title_is_truncated_too() {
    let mut cmd = echoprobe(&[
        "scp",
        "-aet",
        "ECHOPROBE-SCP-LONG-NAME",
        "--require-called-aet",
        "--bind",
        "127.0.0.1",
        "--exit-after",
        "1",
        "0",
    ]);
    let scp = echoprobe_tests::Peer::spawn("echoprobe-scp", &mut cmd);
    let (log, addr) = common::listening(&scp, LIMIT);
    assert!(
        log.contains(
            "echoprobe: warning: -aet/--aetitle: AE title 'ECHOPROBE-SCP-LONG-NAME' has 23 characters, truncated \
             to 16 as DCMTK does: 'ECHOPROBE-SCP-LO'"
        ),
        "{log}"
    );
    let port = addr.port().to_string();
    let out = run(
        &mut echoprobe(&["-aec", "ECHOPROBE-SCP-LO", "127.0.0.1", &port]),
        LIMIT,
    );
    out.assert_code(0);
}
