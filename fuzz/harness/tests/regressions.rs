//! Every input a fuzz target ever crashed on, replayed through the same checks (stable Rust:
//! `cd fuzz && cargo test -p echoprobe-fuzz-harness`).
//!
//! A finding in the core gets two tests: the crashing input through the target's function and a
//! direct test of the correct behaviour.

use echoprobe_core::wire::{Pdu, Uid};
use echoprobe_fuzz_harness::golden::hex;
use echoprobe_fuzz_harness::pdu;

/// F1 (pdu target, first 20 s run): pynetdicom's A-ASSOCIATE-RQ mutated so that its last
/// transfer syntax item is `1.2.840.1000\0\0\0\0\x04\0\0` (19 bytes). Parsed, the UID keeps one
/// of the two trailing NULs; emitted and parsed again, it loses it.
const F1_RQ: &str = "010000000119000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e31200000760100000030000011312e322e3834302e31303030382e312e3140000013312e322e3834302e31303030382e312e322e3140000011312e322e3834302e31303030382e312e3240000016312e322e3834302e31303030382e312e322e312e393940000013312e322e3834302e31303030000000000400000202003e5100000400003ffe52000020312e322e3832362e302e312e333638303034332e392e333831312e332e302e345500000e50594e45544449434f4d5f333035";

#[test]
fn f1_input_passes_the_pdu_target() {
    pdu(&hex(F1_RQ));
}

/// The property F1 breaks, on the crashing input: parse(emit(parse(x))) == parse(x).
#[test]
fn f1_associate_rq_round_trip_is_stable() {
    let bytes = hex(F1_RQ);
    let p = Pdu::parse(&bytes).expect("parses");
    let mut buf = vec![0u8; p.buffer_len()];
    p.emit(&mut buf).expect("emits");
    let q = Pdu::parse(&buf).expect("re-parses");
    assert_eq!(
        p, q,
        "core finding F1: UID trailing NUL padding is not stable"
    );
}

/// F1 at its root: a UID item value with two trailing NULs.
#[test]
fn f1_uid_from_item_is_idempotent() {
    let once = Uid::from_item(b"1.2.840.10008.1.2\0\0");
    let twice = Uid::from_item(once.as_bytes());
    assert_eq!(
        once.as_bytes(),
        twice.as_bytes(),
        "core finding F1: Uid::from_item(Uid::from_item(x)) != Uid::from_item(x)"
    );
}

/// acceptor target, first 20 s run (a harness false alarm, kept as a regression): RQ with a
/// corrupt application context name (rejected, Sta13), then a P-DATA-TF of length 0 and a PDU of
/// type 0x40. The machine answers the first invalid PDU in Sta13 with an A-ABORT (PS3.8 AA-7)
/// and closes (it used to stay in Sta13 and abort again; the harness first assumed nothing may
/// follow an A-ABORT).
const ACCEPTOR_TWO_ABORTS: &str = "080101d30100000000cd000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322ec8c6302e31303030382e332e312e312e312000002e0100ff0030000011312e322e3834302e31303030382e312e3140000011312e32373834302e31303030382e312e325000003a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e375500000f4f464649535f44434d544b5f33363701500400000000004000004a00000846010300000000040000003800000000000200120031303030382e3834302e31303030382e312e3100000000010200000030000000382e312e3140000011312e32373834302e31303030382e312e325000003a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e375500000f4f464649100102000000010000000008020000000101010a0500000000040000000004";

#[test]
fn acceptor_aborts_each_invalid_pdu_in_sta13() {
    use echoprobe_core::wire::PduType;
    let s =
        echoprobe_fuzz_harness::machine(echoprobe_core::Role::Acceptor, &hex(ACCEPTOR_TWO_ABORTS));
    assert_eq!(s.sent, [PduType::AssociateRj, PduType::Abort], "{s:?}");
    assert!(s.closed);
}
