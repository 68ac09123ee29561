//! `echoprobe scp` options that shape its behaviour as a server: --max-associations,
//! --idle-timeout, --exit-after, --bind on IPv6 loopback.

use core::time::Duration;
use echoprobe_tests::codes::{HEALTHY, REJECTED};

use echoprobe_tests::peers::{echoprobe_scp, echoprobe_scp_on, py_echoscu};
use echoprobe_tests::{echoprobe, run, Peer, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);
/// pynetdicom needs ~0.5 s to import before it connects.
const PY_START: Duration = Duration::from_secs(15);

/// A pynetdicom association that stays open (idle) for `hold` seconds after one echo.
fn held_association(port: u16, hold: &str) -> Peer {
    let mut cmd = py_echoscu(
        port,
        &["--aet", "HOLDER", "--aec", "PROBESCP", "--hold", hold],
    );
    let peer = Peer::spawn("pynetdicom-holder", &mut cmd);
    peer.wait_log("holding", PY_START);
    peer
}

#[test]
fn max_associations_rejects_the_next_one_2_3_2() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--max-associations", "1"]);
    let port = scp.port_arg();
    let mut holder = held_association(scp.port, "2");
    run(
        &mut echoprobe(["-aet", CALLING_AE, "-aec", "PROBESCP", "127.0.0.1", &port]),
        HARD,
    )
    .assert_code(REJECTED)
    .assert_mentions("2/3/2")
    .assert_within(QUICK);
    // Once the holder released, there is room again.
    let status = holder.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "holder: {status}\n{}", holder.log());
    run(
        &mut echoprobe(["-aet", CALLING_AE, "-aec", "PROBESCP", "127.0.0.1", &port]),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_within(QUICK);
}

#[test]
fn idle_timeout_ends_an_idle_association() {
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--idle-timeout", "1"]);
    let mut holder = held_association(scp.port, "10");
    // The scp ends the association after ~1 s of silence, well before the 10 s hold is over.
    let status = holder.wait_exit(Duration::from_secs(5));
    assert_eq!(
        status.code(),
        Some(6),
        "holder did not lose the association:\n{}",
        holder.log()
    );
    holder.wait_log("lost during hold", QUICK);
}

#[test]
fn exit_after_stops_the_scp() {
    let mut scp = echoprobe_scp(&["-aet", "PROBESCP", "--exit-after", "2"]);
    let port = scp.port_arg();
    for _ in 0..2 {
        run(
            &mut echoprobe(["-aet", CALLING_AE, "-aec", "PROBESCP", "127.0.0.1", &port]),
            HARD,
        )
        .assert_code(HEALTHY)
        .assert_within(QUICK);
    }
    let status = scp.peer.wait_exit(QUICK);
    assert!(status.success(), "scp exit: {status}\n{}", scp.log());
}

#[test]
fn ipv6_loopback() {
    let scp = echoprobe_scp_on("::1", &["-aet", "PROBESCP"]);
    run(
        &mut echoprobe([
            "-aet",
            CALLING_AE,
            "-aec",
            "PROBESCP",
            "::1",
            &scp.port_arg(),
        ]),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_within(QUICK);
}
