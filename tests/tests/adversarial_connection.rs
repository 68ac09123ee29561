//! Hostile peers, connection level: nothing listening, silence, a close or a reset at each point
//! of the association. Each test runs the echoprobe binary against a scripted peer on 127.0.0.1
//! (see `echoprobe_tests::scripted`) and asserts the exit code of README "Exit codes" and a
//! wall-clock bound.

use std::net::Shutdown;

use echoprobe_tests::codes::{ACSE_TIMEOUT, CLOSED, UNREACHABLE};
use echoprobe_tests::scripted::pdu::{ac_context_1, ASSOCIATE_RQ};
use echoprobe_tests::scripted::{fast, peer, timer, FAST, HARD, SHORT};
use echoprobe_tests::{echoprobe, free_port, run, setup};

#[test]
fn connection_refused() {
    setup();
    let port = free_port().to_string();
    let mut args: Vec<&str> = SHORT.to_vec();
    args.extend_from_slice(&["127.0.0.1", &port]);
    run(&mut echoprobe(&args), HARD)
        .assert_code(UNREACHABLE)
        .assert_within(FAST);
}

#[test]
fn silent_peer() {
    let (out, seen) = timer(peer(|c| c.rest()), ACSE_TIMEOUT);
    // It read our RQ and then we gave up with an A-ABORT.
    assert_eq!(seen.first(), Some(&ASSOCIATE_RQ), "{out}");
}

#[test]
fn accept_then_close() {
    fast(
        peer(|c| {
            c.read_rq();
            c.shutdown(Shutdown::Both);
            vec![]
        }),
        CLOSED,
        &[],
    )
    .assert_stderr("before answering the A-ASSOCIATE-RQ");
}

#[test]
fn accept_then_reset_before_reading() {
    // Closing with our RQ unread in the receive buffer makes the kernel send RST.
    fast(
        peer(|c| {
            c.wait_for_data();
            vec![]
        }),
        CLOSED,
        &[],
    );
}

#[test]
fn reset_while_echo_outstanding() {
    fast(
        peer(|c| {
            c.associate();
            c.wait_for_data();
            vec![]
        }),
        CLOSED,
        &[],
    );
}

#[test]
fn close_mid_ac() {
    fast(
        peer(|c| {
            let rq = c.read_rq();
            let ac = ac_context_1(&rq, 16_384);
            // Then the script ends: the connection closes.
            c.send(&ac[..ac.len() / 2]);
            vec![]
        }),
        CLOSED,
        &[],
    );
}
