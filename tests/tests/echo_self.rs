//! echoprobe against `echoprobe scp`.

use core::time::Duration;
use echoprobe_tests::codes::{FAILURE_STATUS, HEALTHY, REJECTED};

use echoprobe_tests::fixtures::check;
use echoprobe_tests::peers::echoprobe_scp;

const QUICK: Duration = Duration::from_secs(5);

/// `echoprobe scp -aet PROBESCP [scp_args]` checked with `-aec called`: `code` fast, the error naming `words`.
fn fails_fast(scp_args: &[&str], called: &str, code: impl Into<i32>, words: &str) {
    let scp = echoprobe_scp(&[&["-aet", "PROBESCP"], scp_args].concat());
    check(called, scp.port, &[])
        .assert_code(code)
        .assert_mentions(words)
        .assert_within(QUICK);
}

#[test]
fn echoprobe_to_echoprobe_scp() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--require-called-aet"]);
    check("PROBESCP", scp.port, &[])
        .assert_code(HEALTHY)
        .assert_within(QUICK);
    check("PROBESCP", scp.port, &["--repeat", "50"])
        .assert_code(HEALTHY)
        .assert_within(QUICK);
    let log = scp
        .peer
        .wait_log("PROBESCP <- LOADBALANCER: accepted, 50 echoes", QUICK);
    assert_eq!(
        log.matches("PROBESCP <- LOADBALANCER: accepted").count(),
        2,
        "scp log:\n{log}"
    );
}

#[test]
fn non_success_status_exits_68() {
    fails_fast(
        &["--status", "0x0110"],
        "PROBESCP",
        FAILURE_STATUS,
        "0x0110",
    );
}

#[test]
fn calling_ae_not_allowed_exits_61() {
    fails_fast(&["--allow-calling", "OTHER"], "PROBESCP", REJECTED, "1/1/3");
}

#[test]
fn wrong_called_ae_exits_61() {
    fails_fast(&["--require-called-aet"], "WRONG", REJECTED, "1/1/7");
}
