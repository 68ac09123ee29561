//! echoprobe against DCMTK, both directions.

use core::time::Duration;
use echoprobe_tests::codes::{HEALTHY, REJECTED};

use echoprobe_tests::fixtures::{assert_scp_counted, check, storescp_checked_by, strict_scp, HARD};
use echoprobe_tests::peers::{dcmqrscp, dcmtk_echoscu, echoprobe_scp, storescp};
use echoprobe_tests::{run, CALLING_AE};

/// The limit a healthy check must meet (a command is killed after [`HARD`]).
const QUICK: Duration = Duration::from_secs(5);

/// echoprobe's check of `called` on `port`: healthy, within [`QUICK`].
#[track_caller]
fn assert_healthy_fast(called: &str, port: u16) {
    check(called, port, &[])
        .assert_code(HEALTHY)
        .assert_within(QUICK);
}

#[test]
fn echoprobe_to_storescp() {
    storescp_checked_by(assert_healthy_fast, QUICK);
}

#[test]
fn echoprobe_to_storescp_repeat_100() {
    let scp = storescp("STORESCP");
    check("STORESCP", scp.port, &["--repeat", "100"])
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
    assert_healthy_fast("QRSCP", scp.port);
    check("WRONG", scp.port, &[])
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
    assert_scp_counted(&scp, "DCMTKSCU", 5, QUICK);
}

#[test]
fn dcmtk_echoscu_is_rejected_by_echoprobe_scp() {
    let scp = strict_scp();
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
