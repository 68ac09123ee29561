//! Hostile peers around the release: a peer that asks for release instead of answering the
//! echo, and one that answers echoprobe's A-RELEASE-RQ with a close, an A-ABORT or nothing (a
//! good echo stays healthy then, with a warning).

use core::time::Duration;
use std::net::Shutdown;

use echoprobe_core::wire::{AbortReason, AbortSource};
use echoprobe_tests::codes::{HEALTHY, VIOLATION};
use echoprobe_tests::scripted::pdu::{abort_pdu, echo_rsp, release_rq, ABORT, RELEASE_RP};
use echoprobe_tests::scripted::{
    check, peer, quick, Conn, ScriptedPeer, FAST, TIMER_MAX, TIMER_MIN,
};

/// A peer that sends an A-RELEASE-RQ instead of the C-ECHO-RSP and then does `then`: a
/// violation within `max`, and echoprobe answered the release with A-RELEASE-RP or A-ABORT.
fn release_rq_instead_of_response_then(then: fn(&mut Conn) -> Vec<u8>, max: Duration) {
    let p = peer(move |c| {
        c.up_to_echo();
        c.send(&release_rq());
        then(c)
    });
    let (out, seen) = check(p, &[], VIOLATION, Duration::ZERO, max);
    assert!(
        seen == [RELEASE_RP] || seen == [ABORT],
        "echoprobe answered the release with {seen:02x?}\n{out}"
    );
}

#[test]
fn release_rq_instead_of_response() {
    // The peer walks away from an outstanding request: the echo did not complete. The core
    // answers the release (A-RELEASE-RP) and the check calls it a violation; the peer then
    // closes, as the releasing side must (PS3.8 AR-3).
    release_rq_instead_of_response_then(
        |c| {
            let seen = c.read_pdu().map(|p| vec![p[0]]).unwrap_or_default();
            c.shutdown(Shutdown::Both);
            seen
        },
        FAST,
    );
}

#[test]
fn release_rq_instead_of_response_then_no_close() {
    // As above, but the peer then keeps the connection open: waiting for it to close (ARTIM)
    // must be bounded like every other wait of a check (-ta here), not just by --deadline.
    release_rq_instead_of_response_then(Conn::rest, TIMER_MAX);
}

/// A good association and echo, then `finish` instead of A-RELEASE-RP.
fn good_echo_then(finish: fn(&mut Conn)) -> ScriptedPeer {
    peer(move |c| {
        let (pc, id) = c.up_to_echo();
        c.send(&echo_rsp(pc, id, 0));
        c.expect_release_rq();
        finish(c);
        vec![]
    })
}

#[test]
fn release_answered_by_close() {
    let (out, _) = quick(good_echo_then(|c| c.shutdown(Shutdown::Both)), &[], HEALTHY);
    out.assert_mentions("warning")
        .assert_stderr("peer closed the connection instead of answering A-RELEASE-RQ");
}

#[test]
fn release_answered_by_abort() {
    let (out, _) = quick(
        good_echo_then(|c| {
            c.send(&abort_pdu(
                AbortSource::ServiceUser,
                AbortReason::NotSpecified,
            ));
        }),
        &[],
        HEALTHY,
    );
    out.assert_mentions("warning");
}

#[test]
fn release_never_answered() {
    // Healthy after good echoes, with a warning, once the release timer (-ta) runs out.
    let p = good_echo_then(|c| {
        let _ = c.rest();
    });
    let (out, _) = check(p, &[], HEALTHY, TIMER_MIN, TIMER_MAX);
    out.assert_mentions("warning");
}
