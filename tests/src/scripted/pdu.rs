//! The PDUs a scripted peer sends: well-formed ones from `echoprobe_core`'s encoders, and the raw
//! pieces (headers, elements) for malformed ones.

use echoprobe_core::dimse::Command;
use echoprobe_core::wire::{
    golden, uid, Abort, AbortReason, AbortSource, AssociateAc, List, PData, PcAc, PcResult, Pdu,
    Pdv, UserInfo,
};

use super::Rq;

/// PDU types (PS3.8 9.3.1).
pub const ASSOCIATE_RQ: u8 = 0x01;
pub const ASSOCIATE_AC: u8 = 0x02;
pub const ASSOCIATE_RJ: u8 = 0x03;
pub const P_DATA: u8 = 0x04;
pub const RELEASE_RQ: u8 = 0x05;
pub const RELEASE_RP: u8 = 0x06;
pub const ABORT: u8 = 0x07;

/// The Verification SOP Class UID as an element value (even length, NUL padded).
pub const VERIFICATION: &[u8] = b"1.2.840.10008.1.1\0";

/// `p` encoded.
pub fn emit(p: &Pdu<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; p.buffer_len()];
    p.emit(&mut buf).expect("emit");
    buf
}

/// A PDU from its type and body, length field computed.
pub fn raw(pdu_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = header(pdu_type, body.len() as u32);
    v.extend_from_slice(body);
    v
}

/// A PDU header alone, claiming `len` bytes.
pub fn header(pdu_type: u8, len: u32) -> Vec<u8> {
    let mut v = vec![pdu_type, 0];
    v.extend_from_slice(&len.to_be_bytes());
    v
}

/// A-RELEASE-RP.
pub fn release_rp() -> Vec<u8> {
    raw(RELEASE_RP, &[0; 4])
}

/// A-RELEASE-RQ.
pub fn release_rq() -> Vec<u8> {
    raw(RELEASE_RQ, &[0; 4])
}

/// A-ASSOCIATE-AC answering `rq` with `results` (context ID, result), each with Implicit VR LE,
/// and `user_info`.
pub fn ac_with(rq: &Rq, results: &[(u8, PcResult)], user_info: UserInfo<'_>) -> Vec<u8> {
    let pcs: Vec<PcAc<'_>> = results
        .iter()
        .map(|&(id, result)| PcAc {
            id,
            result,
            transfer_syntax: uid::IMPLICIT_VR_LE,
        })
        .collect();
    emit(&Pdu::AssociateAc(AssociateAc {
        protocol_version: 1,
        called: rq.called,
        calling: rq.calling,
        application_context: uid::APPLICATION_CONTEXT,
        presentation_contexts: List::Slice(&pcs),
        user_info,
    }))
}

/// [`ac_with`] the user information of a peer announcing `max_len` as its max PDU.
pub fn ac(rq: &Rq, results: &[(u8, PcResult)], max_len: u32) -> Vec<u8> {
    let ui = UserInfo::new(
        max_len,
        uid::Uid::new_unchecked(b"1.2.826.0.1.3680043.2.1143.107"),
        Some(b"ADVERSARY_1"),
    );
    ac_with(rq, results, ui)
}

/// [`ac`] accepting context 1 only.
pub fn ac_context_1(rq: &Rq, max_len: u32) -> Vec<u8> {
    ac(rq, &[(1, PcResult::Acceptance)], max_len)
}

/// `cmd` as a command set.
pub fn command_set(cmd: &Command<'_>) -> Vec<u8> {
    let mut set = vec![0u8; cmd.buffer_len()];
    cmd.emit(&mut set).expect("emit command");
    set
}

/// `set` as P-DATA-TF PDUs on context `pc`: cut into `pieces` PDVs, `per_pdu` PDVs per PDU.
pub fn pdata(pc: u8, set: &[u8], pieces: usize, per_pdu: usize) -> Vec<u8> {
    let pdvs: Vec<Pdv<'_>> = golden::command_pdvs(pc, set, pieces).collect();
    pdvs.chunks(per_pdu)
        .flat_map(|group| emit(&Pdu::PData(PData::new(group))))
        .collect()
}

/// `cmd` as one P-DATA-TF of one PDV on context `pc`.
pub fn command(pc: u8, cmd: &Command<'_>) -> Vec<u8> {
    pdata(pc, &command_set(cmd), 1, 1)
}

/// A C-ECHO-RSP to message `id` on context `pc` with `status`, in one PDV.
pub fn echo_rsp(pc: u8, id: u16, status: u16) -> Vec<u8> {
    command(pc, &Command::echo_rsp(id, status))
}

/// A-ABORT from `source` for `reason`.
pub fn abort_pdu(source: AbortSource, reason: AbortReason) -> Vec<u8> {
    emit(&Pdu::Abort(Abort { source, reason }))
}

/// The implicit VR LE element `tag` with `value`.
pub fn element(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
    v.extend_from_slice(&((tag & 0xffff) as u16).to_le_bytes());
    v.extend_from_slice(&(value.len() as u32).to_le_bytes());
    v.extend_from_slice(value);
    v
}

/// A command set from elements (group length first, computed).
pub fn elements(elems: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = elems.concat();
    let mut set = element(0, &(body.len() as u32).to_le_bytes());
    set.extend_from_slice(&body);
    set
}

/// A US value.
pub fn us(v: u16) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// Offset of the first item of `item_type` among the A-ASSOCIATE items (after 6 + 68 bytes).
pub fn find_item(pdu: &[u8], item_type: u8) -> usize {
    let mut at = 6 + 68;
    while at + 4 <= pdu.len() {
        if pdu[at] == item_type {
            return at;
        }
        at += 4 + u16::from_be_bytes([pdu[at + 2], pdu[at + 3]]) as usize;
    }
    panic!("no item 0x{item_type:02x}");
}
