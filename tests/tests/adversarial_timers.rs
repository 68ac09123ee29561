//! Hostile peers, slow and stalled: bytes dribbled slower than a timer, a PDU cut off midway,
//! silence after the association. Every verdict here comes from a timer (`scripted::SHORT`: 4 s
//! each, the whole check 9 s) and must come between `TIMER_MIN` and `TIMER_MAX`, or from the
//! overall deadline when that is shorter.

use core::time::Duration;

use echoprobe_tests::codes::{ACSE_TIMEOUT, DEADLINE, DIMSE_TIMEOUT, HEALTHY};
use echoprobe_tests::scripted::pdu::{
    ac_context_1, echo_rsp, header, ABORT, ASSOCIATE_AC, RELEASE_RQ,
};
use echoprobe_tests::scripted::{
    after_echo, after_rq, check, peer, timer, ScriptedPeer, TIMER_MAX,
};

/// A peer that reads the A-ASSOCIATE-RQ and dribbles a good AC, 10 bytes a second (the AC would
/// take about 19 s).
fn dribbled_ac() -> ScriptedPeer {
    peer(|c| {
        let rq = c.read_rq();
        c.dribble(&ac_context_1(&rq, 0), Duration::from_millis(100));
        vec![]
    })
}

#[test]
fn ac_dribbled_slower_than_the_acse_timeout() {
    // The ACSE timer does not restart per byte.
    timer(dribbled_ac(), ACSE_TIMEOUT);
}

#[test]
fn dribble_hits_the_overall_deadline() {
    check(
        dribbled_ac(),
        &["-ta", "30", "-td", "30", "--deadline", "2.5"],
        DEADLINE,
        Duration::from_millis(2_400),
        TIMER_MAX,
    );
}

#[test]
fn response_dribbled_slower_than_the_dimse_timeout() {
    timer(
        peer(|c| {
            let (pc, id) = c.up_to_echo();
            c.dribble(&echo_rsp(pc, id, 0), Duration::from_millis(200));
            vec![]
        }),
        DIMSE_TIMEOUT,
    );
}

#[test]
fn response_dribbled_within_the_timeout_is_healthy() {
    let (out, seen) = check(
        peer(|c| {
            let (pc, id) = c.up_to_echo();
            c.dribble(&echo_rsp(pc, id, 0), Duration::from_millis(5));
            c.ending()
        }),
        &[],
        HEALTHY,
        Duration::ZERO,
        TIMER_MAX,
    );
    assert_eq!(seen, [RELEASE_RQ], "{out}");
}

#[test]
fn stall_mid_ac() {
    timer(
        after_rq(|rq| ac_context_1(rq, 0)[..40].to_vec()),
        ACSE_TIMEOUT,
    );
}

#[test]
fn stall_mid_response() {
    let (out, seen) = timer(
        after_echo(|pc, id| echo_rsp(pc, id, 0)[..20].to_vec()),
        DIMSE_TIMEOUT,
    );
    assert_eq!(
        seen,
        [ABORT],
        "after a DIMSE timeout echoprobe aborts\n{out}"
    );
}

#[test]
fn stall_after_ac_header() {
    timer(after_rq(|_| header(ASSOCIATE_AC, 184)), ACSE_TIMEOUT);
}

#[test]
fn no_response_to_the_echo() {
    let (out, seen) = timer(
        peer(|c| {
            c.up_to_echo();
            c.rest()
        }),
        DIMSE_TIMEOUT,
    );
    assert_eq!(seen, [ABORT], "{out}");
}
