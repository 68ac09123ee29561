//! echoprobe against `echoprobe scp`.

use core::time::Duration;
use echoprobe_tests::codes::{FAILURE_STATUS, HEALTHY, REJECTED};

use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::{echoprobe, run, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);

fn check(called: &str, port: u16, extra: &[&str]) -> echoprobe_tests::Outcome {
    let port = port.to_string();
    let mut args = vec!["-aet", CALLING_AE, "-aec", called];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["127.0.0.1", &port]);
    run(&mut echoprobe(args), HARD)
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
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--status", "0x0110"]);
    check("PROBESCP", scp.port, &[])
        .assert_code(FAILURE_STATUS)
        .assert_mentions("0x0110")
        .assert_within(QUICK);
}

#[test]
fn calling_ae_not_allowed_exits_61() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--allow-calling", "OTHER"]);
    check("PROBESCP", scp.port, &[])
        .assert_code(REJECTED)
        .assert_mentions("1/1/3")
        .assert_within(QUICK);
}

#[test]
fn wrong_called_ae_exits_61() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--require-called-aet"]);
    check("WRONG", scp.port, &[])
        .assert_code(REJECTED)
        .assert_mentions("1/1/7")
        .assert_within(QUICK);
}
