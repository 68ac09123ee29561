//! Network failures: refused connections, a peer that never answers.

use core::time::Duration;
use echoprobe_tests::codes::{ACSE_TIMEOUT, UNREACHABLE};

use echoprobe_tests::peers::SilentPeer;
use echoprobe_tests::{echoprobe, free_port, run, setup, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);

#[test]
fn connection_refused_exits_63_fast() {
    setup();
    let port = free_port().to_string();
    run(
        &mut echoprobe(["-aet", CALLING_AE, "127.0.0.1", &port]),
        HARD,
    )
    .assert_code(UNREACHABLE)
    .assert_within(Duration::from_secs(2));
}

#[test]
fn silent_peer_acse_timeout_exits_66() {
    let silent = SilentPeer::start();
    let port = silent.port.to_string();
    let out = run(
        &mut echoprobe(["-aet", CALLING_AE, "-ta", "1", "127.0.0.1", &port]),
        HARD,
    );
    out.assert_code(ACSE_TIMEOUT)
        .assert_within(Duration::from_millis(2500));
    assert!(
        out.elapsed >= Duration::from_millis(900),
        "gave up before -ta 1 expired:\n{out}"
    );
    assert_eq!(silent.accepted(), 1, "expected exactly one connection");
}
