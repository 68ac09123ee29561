//! Hostile peers, lengths and framing: PDU and item lengths that are zero, too large, past the
//! end or short, unknown PDU types. Each is a protocol violation (exit 69) judged at once, and
//! echoprobe answers it with an A-ABORT and nothing else.

use echoprobe_core::wire::uid;
use echoprobe_tests::scripted::pdu::{
    ac_context_1, echo_rsp, header, raw, ABORT, ASSOCIATE_AC, ASSOCIATE_RJ, P_DATA,
};
use echoprobe_tests::scripted::{after_echo, after_rq, peer, violation};

#[test]
fn ac_with_zero_length() {
    violation(after_rq(|_| header(ASSOCIATE_AC, 0)));
}

#[test]
fn ac_claiming_4_gib() {
    // Must be judged from the header alone: nothing follows it.
    violation(after_rq(|_| header(ASSOCIATE_AC, u32::MAX)));
}

#[test]
fn rj_with_zero_length() {
    // A-ASSOCIATE-RJ is 4 bytes after its header; 0 is malformed, not a rejection.
    violation(after_rq(|_| header(ASSOCIATE_RJ, 0)));
}

#[test]
fn abort_with_a_wrong_length() {
    // An "A-ABORT" of 2 bytes is malformed: a violation, not the peer's abort.
    violation(after_echo(|_, _| raw(ABORT, &[0, 0])));
}

#[test]
fn pdata_claiming_4_gib() {
    violation(after_echo(|_, _| header(P_DATA, u32::MAX)));
}

#[test]
fn ac_longer_than_our_max_pdu() {
    // 20000 > the 16384 echoprobe announces; refused before the body arrives.
    violation(after_rq(|_| header(ASSOCIATE_AC, 20_000)));
}

#[test]
fn ac_item_overruns_the_pdu() {
    violation(after_rq(|rq| {
        let mut ac = ac_context_1(rq, 16_384);
        // The presentation context item (0x21) after the 68-byte fixed part and the
        // application context item: make its length run past the end.
        let at = 6 + 68 + 4 + uid::APPLICATION_CONTEXT.len();
        assert_eq!(ac[at], 0x21);
        ac[at + 2..at + 4].copy_from_slice(&0x4000u16.to_be_bytes());
        ac
    }));
}

#[test]
fn ac_without_items() {
    // A PDU length that covers only the fixed fields: no application context, no contexts.
    violation(after_rq(|rq| {
        let ac = ac_context_1(rq, 16_384);
        let mut cut = ac[..6 + 68].to_vec();
        cut[2..6].copy_from_slice(&68u32.to_be_bytes());
        cut
    }));
}

#[test]
fn ac_with_trailing_garbage_beyond_its_length() {
    // The AC is fine; 4 junk bytes follow it, which frame as the start of a bogus PDU of an
    // unknown type (0xee).
    violation(peer(|c| {
        let rq = c.read_rq();
        let mut ac = ac_context_1(&rq, 16_384);
        ac.extend_from_slice(&[0xee, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        c.send(&ac);
        c.read_echo();
        c.rest()
    }));
}

#[test]
fn unknown_pdu_type_instead_of_ac() {
    violation(after_rq(|_| raw(0x08, &[0, 0, 0, 0])));
}

#[test]
fn unknown_pdu_type_instead_of_response() {
    violation(after_echo(|_, _| raw(0xff, &[0, 0, 0, 0])));
}

#[test]
fn pdv_longer_than_its_pdu() {
    violation(after_echo(|pc, id| {
        let mut rsp = echo_rsp(pc, id, 0);
        rsp[6..10].copy_from_slice(&0x1000u32.to_be_bytes());
        rsp
    }));
}

#[test]
fn pdv_item_length_below_two() {
    violation(after_echo(|_, _| raw(P_DATA, &[0, 0, 0, 1, 1])));
}

#[test]
fn empty_pdata() {
    violation(after_echo(|_, _| header(P_DATA, 0)));
}
