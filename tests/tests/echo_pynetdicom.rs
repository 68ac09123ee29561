//! echoprobe against pynetdicom, both directions.

use core::time::Duration;
use echoprobe_tests::codes::{FAILURE_STATUS, HEALTHY, REJECTED};

use echoprobe_tests::fixtures::{assert_scp_counted, check_as, strict_scp, HARD};
use echoprobe_tests::peers::{echoprobe_scp, py_echoscp, py_echoscu, PyScpOptions};
use echoprobe_tests::{echoprobe, run, CALLING_AE};

const QUICK: Duration = Duration::from_secs(5);
/// pynetdicom's echoscu needs ~0.5 s to import before it connects.
const PY_QUICK: Duration = Duration::from_secs(10);

fn checking_scp() -> echoprobe_tests::peers::Server {
    py_echoscp(&PyScpOptions {
        ae: Some("PYSCP"),
        require_called_aet: true,
        require_calling_aet: &[CALLING_AE],
        status: None,
    })
}

#[test]
fn echoprobe_to_pynetdicom() {
    let scp = checking_scp();
    check_as(CALLING_AE, "PYSCP", scp.port, &[])
        .assert_code(HEALTHY)
        .assert_within(QUICK);
    scp.peer
        .wait_log("accepted calling=LOADBALANCER called=PYSCP", QUICK);
    scp.peer.wait_log("echo msg_id=1", QUICK);
    scp.peer.wait_log("released", QUICK);
}

#[test]
fn echoprobe_wrong_called_ae_is_rejected_1_1_7() {
    let scp = checking_scp();
    check_as(CALLING_AE, "WRONG", scp.port, &[])
        .assert_code(REJECTED)
        .assert_mentions("1/1/7")
        .assert_within(QUICK);
}

#[test]
fn echoprobe_unknown_calling_ae_is_rejected_1_1_3() {
    let scp = checking_scp();
    check_as("STRANGER", "PYSCP", scp.port, &[])
        .assert_code(REJECTED)
        .assert_mentions("1/1/3")
        .assert_within(QUICK);
}

#[test]
fn echoprobe_reports_a_non_success_status() {
    let scp = py_echoscp(&PyScpOptions {
        status: Some(0x0110),
        ..PyScpOptions::default()
    });
    run(
        &mut echoprobe(["-aet", CALLING_AE, "127.0.0.1", &scp.port_arg()]),
        HARD,
    )
    .assert_code(FAILURE_STATUS)
    .assert_mentions("0x0110")
    .assert_within(QUICK);
}

#[test]
fn pynetdicom_echoscu_to_echoprobe_scp() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP"]);
    run(
        &mut py_echoscu(
            scp.port,
            &["--aet", "PYSCU", "--aec", "PROBESCP", "--repeat", "3"],
        ),
        HARD,
    )
    .assert_code(0)
    .assert_mentions("echo 3: status 0x0000")
    .assert_mentions("released")
    .assert_within(PY_QUICK);
    assert_scp_counted(&scp, "PYSCU", 3, QUICK);
}

#[test]
fn pynetdicom_echoscu_is_rejected_by_echoprobe_scp() {
    let scp = strict_scp();
    run(
        &mut py_echoscu(scp.port, &["--aet", "STRANGER", "--aec", "PROBESCP"]),
        HARD,
    )
    .assert_code(2)
    .assert_mentions("result=1 source=1 reason=3")
    .assert_within(PY_QUICK);
    run(
        &mut py_echoscu(scp.port, &["--aet", CALLING_AE, "--aec", "WRONG"]),
        HARD,
    )
    .assert_code(2)
    .assert_mentions("result=1 source=1 reason=7")
    .assert_within(PY_QUICK);
    run(
        &mut py_echoscu(scp.port, &["--aet", CALLING_AE, "--aec", "PROBESCP"]),
        HARD,
    )
    .assert_code(0)
    .assert_mentions("echo 1: status 0x0000")
    .assert_within(PY_QUICK);
}

#[test]
fn pynetdicom_echoscu_sees_the_status_echoprobe_scp_answers() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--status", "0x0110"]);
    run(
        &mut py_echoscu(scp.port, &["--aet", CALLING_AE, "--aec", "PROBESCP"]),
        HARD,
    )
    .assert_code(5)
    .assert_mentions("echo 1: status 0x0110")
    .assert_within(PY_QUICK);
}
