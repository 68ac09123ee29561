//! The harness and the reference peers, checked against each other without echoprobe: if these
//! fail, the interop tests' failures say nothing about echoprobe.

use core::time::Duration;
use std::process::Command;

use echoprobe_tests::env::interfaces;
use echoprobe_tests::peers::{
    self, dcmqrscp, haproxy, py_echoscp, py_echoscu, storescp, PyScpOptions, SilentPeer,
};
use echoprobe_tests::{free_port, run, setup, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);

/// DCMTK's echoscu calling as [`CALLING_AE`].
fn dcmtk_echoscu(aec: &str, port: u16, extra: &[&str]) -> Command {
    peers::dcmtk_echoscu(CALLING_AE, aec, port, extra)
}

#[test]
fn namespace_is_loopback_only() {
    setup();
    assert_eq!(interfaces().unwrap(), ["lo"]);
}

#[test]
fn dcmtk_echoscu_to_storescp() {
    let scp = storescp("STORESCP");
    run(
        &mut dcmtk_echoscu("STORESCP", scp.port, &["--repeat", "3"]),
        HARD,
    )
    .assert_code(0)
    .assert_within(Duration::from_secs(10));
    scp.peer
        .wait_log("Received Echo Request", Duration::from_secs(5));
}

#[test]
fn dcmtk_echoscu_wrong_called_ae_to_dcmqrscp_is_rejected() {
    let scp = dcmqrscp("QRSCP");
    run(&mut dcmtk_echoscu("QRSCP", scp.port, &[]), HARD).assert_code(0);
    run(&mut dcmtk_echoscu("WRONG", scp.port, &[]), HARD)
        .assert_code(1)
        .assert_mentions("Called AE Title Not Recognized");
}

#[test]
fn pynetdicom_pair_and_checks() {
    let scp = py_echoscp(&PyScpOptions {
        ae: Some("PYSCP"),
        require_called_aet: true,
        require_calling_aet: &[CALLING_AE],
        status: None,
    });
    let ok = ["--aet", CALLING_AE, "--aec", "PYSCP", "--repeat", "2"];
    run(&mut py_echoscu(scp.port, &ok), HARD)
        .assert_code(0)
        .assert_mentions("echo 2: status 0x0000");
    run(
        &mut py_echoscu(scp.port, &["--aet", CALLING_AE, "--aec", "WRONG"]),
        HARD,
    )
    .assert_code(2)
    .assert_mentions("result=1 source=1 reason=7");
    run(
        &mut py_echoscu(scp.port, &["--aet", "OTHER", "--aec", "PYSCP"]),
        HARD,
    )
    .assert_code(2)
    .assert_mentions("result=1 source=1 reason=3");
    scp.peer.wait_log(
        "accepted calling=LOADBALANCER called=PYSCP",
        Duration::from_secs(5),
    );
}

#[test]
fn dcmtk_echoscu_times_out_on_a_silent_peer() {
    let silent = SilentPeer::start();
    let out = run(
        &mut dcmtk_echoscu("ANY-SCP", silent.port, &["-ta", "1"]),
        HARD,
    );
    out.assert_code(1).assert_within(Duration::from_secs(5));
    assert_eq!(silent.accepted(), 1);
}

#[test]
fn free_port_is_refused() {
    setup();
    let port = free_port();
    run(&mut dcmtk_echoscu("ANY-SCP", port, &[]), HARD)
        .assert_code(1)
        .assert_within(Duration::from_secs(5));
}

#[test]
fn dcmtk_echoscu_through_haproxy_to_storescp() {
    let scp = storescp("STORESCP");
    let port = free_port();
    let config = format!(
        "global\n    log stdout format raw local0\n\
         defaults\n    mode tcp\n    log global\n    option tcplog\n    \
         timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\
         frontend dicom\n    bind 127.0.0.1:{port}\n    default_backend pacs\n\
         backend pacs\n    server storescp 127.0.0.1:{}\n",
        scp.port
    );
    let lb = haproxy(&config, port);
    run(&mut dcmtk_echoscu("STORESCP", lb.port, &[]), HARD)
        .assert_code(0)
        .assert_within(Duration::from_secs(10));
    scp.peer
        .wait_log("Received Echo Request", Duration::from_secs(5));
    lb.peer.wait_log("pacs/storescp", Duration::from_secs(5));
}
