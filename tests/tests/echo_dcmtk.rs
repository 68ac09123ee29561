//! echoprobe against DCMTK, both directions.

use core::time::Duration;
use echoprobe_tests::codes::{HEALTHY, REJECTED};
use std::process::Command;

use echoprobe_tests::env::dcmtk;
use echoprobe_tests::peers::{dcmqrscp, echoprobe_scp, storescp};
use echoprobe_tests::{echoprobe, run, CALLING_AE};

/// Hard limit for one command (it is killed after this), and the limit a healthy check must meet.
const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);

fn dcmtk_echoscu(aet: &str, aec: &str, port: u16, extra: &[&str]) -> Command {
    let mut cmd = Command::new(dcmtk("echoscu"));
    cmd.args(["-aet", aet, "-aec", aec])
        .args(extra)
        .args(["127.0.0.1", &port.to_string()]);
    cmd
}

#[test]
fn echoprobe_to_storescp() {
    let scp = storescp("STORESCP");
    run(
        &mut echoprobe([
            "-aet",
            CALLING_AE,
            "-aec",
            "STORESCP",
            "127.0.0.1",
            &scp.port_arg(),
        ]),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_within(QUICK);
    let log = scp.peer.wait_log("Received Echo Request", QUICK);
    assert!(
        log.contains(CALLING_AE),
        "storescp did not see our calling AE:\n{log}"
    );
}

#[test]
fn echoprobe_to_storescp_repeat_100() {
    let scp = storescp("STORESCP");
    let args = [
        "-aet",
        CALLING_AE,
        "-aec",
        "STORESCP",
        "--repeat",
        "100",
        "127.0.0.1",
        &scp.port_arg(),
    ];
    run(&mut echoprobe(args), HARD)
        .assert_code(HEALTHY)
        .assert_within(Duration::from_secs(15));
    // One association, 100 echoes (storescp logs each request).
    let log = scp.peer.wait_log("Association Release", QUICK);
    assert_eq!(
        log.matches("Received Echo Request").count(),
        100,
        "storescp log:\n{log}"
    );
    assert_eq!(
        log.matches("I: Association Received").count(),
        1,
        "storescp log:\n{log}"
    );
}

#[test]
fn echoprobe_wrong_called_ae_to_dcmqrscp_is_rejected_1_1_7() {
    let scp = dcmqrscp("QRSCP");
    let port = scp.port_arg();
    run(
        &mut echoprobe(["-aet", CALLING_AE, "-aec", "QRSCP", "127.0.0.1", &port]),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_within(QUICK);
    run(
        &mut echoprobe(["-aet", CALLING_AE, "-aec", "WRONG", "127.0.0.1", &port]),
        HARD,
    )
    .assert_code(REJECTED)
    .assert_mentions("1/1/7")
    .assert_within(QUICK);
}

#[test]
fn dcmtk_echoscu_to_echoprobe_scp() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP"]);
    run(
        &mut dcmtk_echoscu("DCMTKSCU", "PROBESCP", scp.port, &[]),
        HARD,
    )
    .assert_code(0)
    .assert_within(QUICK);
    // One summary line per association: "... PROBESCP <- DCMTKSCU: accepted, 1 echoes, released".
    scp.peer.wait_log("PROBESCP <- DCMTKSCU: accepted", QUICK);
}

#[test]
fn dcmtk_echoscu_repeat_5_to_echoprobe_scp() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP"]);
    let out = run(
        &mut dcmtk_echoscu("DCMTKSCU", "PROBESCP", scp.port, &["--repeat", "5", "-v"]),
        HARD,
    );
    out.assert_code(0).assert_within(QUICK);
    // echoscu -v logs each response it got.
    assert_eq!(
        out.output()
            .matches("Received Echo Response (Success)")
            .count(),
        5,
        "{out}"
    );
    let log = scp.peer.wait_log("PROBESCP <- DCMTKSCU: accepted", QUICK);
    assert!(
        log.contains("5 echoes"),
        "scp log does not count 5 echoes:\n{log}"
    );
}

#[test]
fn dcmtk_echoscu_is_rejected_by_echoprobe_scp() {
    let scp = echoprobe_scp(&[
        "-aet",
        "PROBESCP",
        "--require-called-aet",
        "--allow-calling",
        "LOADBALANCER",
    ]);
    // DCMTK's echoscu exits 1 on a rejection; its log names the reason.
    run(
        &mut dcmtk_echoscu("DCMTKSCU", "PROBESCP", scp.port, &[]),
        HARD,
    )
    .assert_code(1)
    .assert_mentions("Calling AE Title Not Recognized")
    .assert_within(QUICK);
    scp.peer.wait_log("(1/1/3)", QUICK);
    run(&mut dcmtk_echoscu(CALLING_AE, "WRONG", scp.port, &[]), HARD)
        .assert_code(1)
        .assert_mentions("Called AE Title Not Recognized")
        .assert_within(QUICK);
    scp.peer.wait_log("(1/1/7)", QUICK);
    run(
        &mut dcmtk_echoscu(CALLING_AE, "PROBESCP", scp.port, &[]),
        HARD,
    )
    .assert_code(0)
    .assert_within(QUICK);
}
