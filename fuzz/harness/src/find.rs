//! The C-FIND checks (core feature `find`).
//!
//! * [`dataset`]: `DataSet` reading in both encodings, and [`answer`] matching the first half
//!   of the input (query) against the second (record): never a panic, and a written response
//!   always parses.
//! * [`find_requestor`] / [`find_acceptor`]: one machine of each role past negotiation (a
//!   find check / a responder over three records driving it), then fed P-DATA-TF PDUs built
//!   from the input ([`pdus`]): commands (C-FIND-RQ/RSP, C-CANCEL-RQ with fuzzed fields) and
//!   data set fragments on chosen contexts. Checked: no panic, the machine keeps its bounds
//!   (every PDU it sends fits its tx buffer and the peer's maximum, no event after it said
//!   close), and it either takes every byte or ends.

use echoprobe_core::assoc::AcceptPolicy;
use echoprobe_core::dimse::dataset::{encode, DataSet, Key, Vr};
use echoprobe_core::dimse::{tag, CommandWriter};
use echoprobe_core::find::{
    answer, FindChecker, FindEvent, FindOptions, Model, Responder, C_CANCEL_RQ, C_FIND_RQ,
    C_FIND_RSP,
};
use echoprobe_core::io::answer_request;
use echoprobe_core::time::{Duration, Instant};
use echoprobe_core::wire::{
    uid, AssociateAc, AssociateRq, List, PData, PcAc, PcResult, PcRq, Pdu, Pdv, UserInfo,
};
use echoprobe_core::{Association, Config, Event};

use crate::ae;

const MODELS: &[Model] = &[Model::StudyRoot, Model::Worklist];
const LE: &[echoprobe_core::wire::Uid<'static>] = &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];
/// A study-level query returning StudyInstanceUID.
const STUDY_QUERY: [Key<'static>; 2] = [
    Key {
        tag: 0x0008_0052,
        vr: Vr::CS,
        value: b"STUDY",
    },
    Key {
        tag: 0x0020_000D,
        vr: Vr::UI,
        value: b"",
    },
];
/// Peer maximum PDU both machines are told (small, to exercise splitting).
const PEER_MAX: u32 = 256;

/// Data set reading and matching.
pub fn dataset(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let explicit = flags & 1 != 0;
    let ds = DataSet::new(rest, explicit);
    let checked = ds.check();
    let n = ds.elements().count();
    if let Ok(count) = checked {
        assert_eq!(count, n);
    }
    let _ = ds.get(0x0020_000D);
    let (q, r) = rest.split_at(rest.len() / 2);
    let query = DataSet::new(q, explicit);
    let record = DataSet::new(r, flags & 2 != 0);
    let mut out = [0u8; 512];
    if let Ok(Some(len)) = answer(&query, &record, &mut out) {
        assert!(len <= out.len());
        assert!(
            DataSet::new(&out[..len], explicit).check().is_ok(),
            "a written response parses"
        );
    }
}

/// The peer's PDUs from the input: each op is `[kind, a, b, len, bytes...]`.
pub fn pdus(data: &[u8], scu: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pdvs: Vec<(u8, bool, bool, Vec<u8>)> = Vec::new();
    let mut rest = data;
    while let [kind, a, b, len, tail @ ..] = rest {
        // Commands use `len` as a split point; the other ops take `len` bytes of input.
        let n = usize::from(*len).min(tail.len());
        let (bytes, after) = if kind % 6 < 2 {
            (&[][..], tail)
        } else {
            tail.split_at(n)
        };
        let n = if kind % 6 < 2 { usize::from(*len) } else { n };
        rest = after;
        let pc = [1u8, 3, 5, 7, *a | 1][usize::from(*b >> 5) % 5];
        match kind % 6 {
            // A command: C-FIND-RSP / C-FIND-RQ / C-CANCEL-RQ with fuzzed id, status, data flag.
            0 | 1 => {
                let field = [C_FIND_RSP, C_FIND_RQ, C_CANCEL_RQ, 0x8030][usize::from(*a) % 4];
                let field = if scu && *a % 4 < 2 { C_FIND_RSP } else { field };
                let mut cmd = [0u8; 128];
                let mut w = CommandWriter::new(&mut cmd);
                w.begin();
                w.uid(
                    tag::AFFECTED_SOP_CLASS_UID,
                    Model::StudyRoot.uid().as_bytes(),
                );
                w.us(tag::COMMAND_FIELD, field);
                w.us(tag::MESSAGE_ID, 1);
                w.us(tag::MESSAGE_ID_BEING_RESPONDED_TO, u16::from(*b & 3));
                w.us(
                    tag::COMMAND_DATA_SET_TYPE,
                    if *b & 4 != 0 { 0x0101 } else { 0 },
                );
                let status =
                    [0xFF00, 0x0000, 0xFE00, 0xC000, 0xFF01, 0xA900][usize::from(*b >> 3) % 6];
                w.us(tag::STATUS, status);
                let len = w.finish().expect("fits");
                let split = n.min(len);
                pdvs.push((pc, true, split == len, cmd[..split].to_vec()));
                if split < len {
                    pdvs.push((pc, true, true, cmd[split..len].to_vec()));
                }
            }
            // A data set fragment (last or not).
            2 | 3 => pdvs.push((pc, false, *b & 1 != 0, bytes.to_vec())),
            // A well-formed identifier as one fragment.
            4 => {
                let keys = [
                    Key {
                        tag: 0x0008_0052,
                        vr: Vr::CS,
                        value: b"STUDY",
                    },
                    Key {
                        tag: 0x0010_0010,
                        vr: Vr::PN,
                        value: &bytes[..bytes.len().min(16)],
                    },
                    Key {
                        tag: 0x0020_000D,
                        vr: Vr::UI,
                        value: b"",
                    },
                ];
                let mut buf = [0u8; 128];
                if let Ok(len) = encode(&keys, *a & 1 != 0, &mut buf) {
                    pdvs.push((pc, false, true, buf[..len].to_vec()));
                }
            }
            // Flush the PDVs so far as one P-DATA-TF (or raw bytes as a PDU).
            _ => {
                if *a == 0xff {
                    out.push(bytes.to_vec());
                }
                flush(&mut pdvs, &mut out);
            }
        }
        if pdvs.len() >= 4 {
            flush(&mut pdvs, &mut out);
        }
    }
    flush(&mut pdvs, &mut out);
    out
}

fn flush(pdvs: &mut Vec<(u8, bool, bool, Vec<u8>)>, out: &mut Vec<Vec<u8>>) {
    if pdvs.is_empty() {
        return;
    }
    let list: Vec<Pdv<'_>> = pdvs
        .iter()
        .map(|(pc_id, is_command, is_last, f)| Pdv {
            pc_id: *pc_id,
            is_command: *is_command,
            is_last: *is_last,
            fragment: f,
        })
        .collect();
    let pdu = Pdu::PData(PData {
        pdvs: List::Slice(&list),
    });
    let mut buf = vec![0u8; pdu.buffer_len()];
    pdu.emit(&mut buf).expect("emits");
    out.push(buf);
    pdvs.clear();
}

fn user_info() -> UserInfo<'static> {
    UserInfo {
        max_length: PEER_MAX,
        implementation_class_uid: uid::IMPLICIT_VR_LE,
        implementation_version_name: None,
        async_ops: None,
        role_selections: List::Slice(&[]),
    }
}

fn emit(pdu: &Pdu<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; pdu.buffer_len()];
    pdu.emit(&mut buf).expect("emits");
    buf
}

/// A find check fed the input as the peer's responses.
pub fn find_requestor(data: &[u8]) {
    let mut config = Config::requestor(ae("FUZZSCU"), ae("FUZZSCP"));
    config.find_models = MODELS;
    config.transfer_syntaxes = LE;
    let explicit = data.first().is_some_and(|b| b & 1 != 0);
    let ts = if explicit {
        uid::EXPLICIT_VR_LE
    } else {
        uid::IMPLICIT_VR_LE
    };
    let pcs = [
        PcAc {
            id: 1,
            result: PcResult::Acceptance,
            transfer_syntax: uid::IMPLICIT_VR_LE,
        },
        PcAc {
            id: 3,
            result: PcResult::Acceptance,
            transfer_syntax: ts,
        },
        PcAc {
            id: 5,
            result: PcResult::Acceptance,
            transfer_syntax: ts,
        },
    ];
    let ac = emit(&Pdu::AssociateAc(AssociateAc {
        protocol_version: 1,
        called: ae("FUZZSCP"),
        calling: ae("FUZZSCU"),
        application_context: uid::APPLICATION_CONTEXT,
        presentation_contexts: List::Slice(&pcs),
        user_info: user_info(),
    }));
    let keys = STUDY_QUERY;
    let mut options = FindOptions::new(Model::StudyRoot, &keys);
    options.max_matches = Some(3);
    options.required = Some((0x0020_000D, b"1.2"));
    let mut checker = FindChecker::new(options);
    let mut peer = vec![ac];
    peer.extend(pdus(data.get(1..).unwrap_or(&[]), true));
    run(config, &peer, |a, now, ev| {
        if let Event::Find(FindEvent::Response {
            has_match: true, ..
        }) = ev
        {
            let m = a.find_match().expect("a match after has_match");
            let _ = m.check();
        }
        checker.on_event(a, now, ev);
    });
    let _ = checker.outcome();
}

/// A responder fed the input as the peer's requests.
pub fn find_acceptor(data: &[u8]) {
    let mut config = Config::acceptor(ae("FUZZSCP"));
    config.find_models = MODELS;
    let explicit = data.first().is_some_and(|b| b & 1 != 0);
    let ts: &[echoprobe_core::wire::Uid<'_>] = if explicit {
        &[uid::EXPLICIT_VR_LE]
    } else {
        &[uid::IMPLICIT_VR_LE]
    };
    let pcs = [
        PcRq {
            id: 1,
            abstract_syntax: uid::VERIFICATION,
            transfer_syntaxes: List::Slice(ts),
        },
        PcRq {
            id: 3,
            abstract_syntax: Model::StudyRoot.uid(),
            transfer_syntaxes: List::Slice(ts),
        },
        PcRq {
            id: 5,
            abstract_syntax: Model::Worklist.uid(),
            transfer_syntaxes: List::Slice(ts),
        },
        PcRq {
            id: 7,
            abstract_syntax: Model::PatientRoot.uid(),
            transfer_syntaxes: List::Slice(ts),
        },
    ];
    let rq = emit(&Pdu::AssociateRq(AssociateRq {
        protocol_version: 1,
        called: ae("FUZZSCP"),
        calling: ae("FUZZSCU"),
        application_context: uid::APPLICATION_CONTEXT,
        presentation_contexts: List::Slice(&pcs),
        user_info: user_info(),
    }));
    let mut raw = [[0u8; 64]; 3];
    let mut records = Vec::new();
    for (i, r) in raw.iter_mut().enumerate() {
        let uid: &[u8] = [b"1.2".as_slice(), b"1.2.3", b"9"][i];
        let keys = [
            Key {
                tag: 0x0010_0010,
                vr: Vr::PN,
                value: b"DOE^J",
            },
            Key {
                tag: 0x0020_000D,
                vr: Vr::UI,
                value: uid,
            },
        ];
        let n = encode(&keys, false, r).expect("fits");
        records.push(n);
    }
    let records: Vec<DataSet<'_>> = raw
        .iter()
        .zip(&records)
        .map(|(r, n)| DataSet::new(&r[..*n], false))
        .collect();
    let policy = AcceptPolicy::open(ae("FUZZSCP"));
    let mut responder = Responder::new(&records);
    let mut peer = vec![rq];
    peer.extend(pdus(data.get(1..).unwrap_or(&[]), false));
    run(config, &peer, |a, now, ev| {
        if answer_request(&policy, a, now, ev).is_none() {
            responder.on_event(a, now, ev);
        }
    });
}

/// Drives one machine through `peer`'s PDUs, checking its bounds.
fn run(
    config: Config<'_>,
    peer: &[Vec<u8>],
    mut handler: impl FnMut(&mut Association<'_>, Instant, &Event),
) {
    let role = config.role;
    let mut rx = vec![0u8; 1024];
    let mut find_buf = vec![0u8; 300];
    let mut now = Instant::from_millis(1_000);
    let mut a = Association::new(config, &mut rx, now).with_find_buffer(&mut find_buf);
    a.set_deadline(Some(now + Duration::from_secs(60)));
    a.connected(now);
    let mut tx = vec![0u8; 1024];
    let mut closed = false;
    let mut pump = |a: &mut Association<'_>, now: Instant, closed: &mut bool| {
        for _ in 0..10_000 {
            let mut busy = false;
            while let Some(n) = a
                .poll_transmit(now, &mut tx)
                .expect("tx buffer fits every PDU")
            {
                assert!(!*closed, "PDU after should_close()");
                if tx[0] == 4 {
                    assert!(
                        n - 6 <= PEER_MAX as usize,
                        "P-DATA-TF above the peer's maximum"
                    );
                }
                busy = true;
            }
            while let Some(ev) = a.poll_event() {
                assert!(!*closed, "event after should_close(): {ev:?}");
                handler(a, now, &ev);
                busy = true;
            }
            if !busy {
                break;
            }
        }
        if a.should_close() {
            *closed = true;
        }
    };
    pump(&mut a, now, &mut closed);
    for bytes in peer {
        let mut off = 0;
        let mut stalls = 0;
        for _ in 0..10_000 {
            if off >= bytes.len() || closed {
                break;
            }
            let took = a.handle_bytes(now, &bytes[off..]);
            off += took;
            pump(&mut a, now, &mut closed);
            stalls = if took == 0 { stalls + 1 } else { 0 };
            assert!(stalls < 2, "{role:?} takes no bytes with nothing to poll");
        }
        now = now + Duration::from_millis(5);
        a.handle_timeout(now);
        pump(&mut a, now, &mut closed);
    }
    if !closed {
        now = now + Duration::from_secs(120);
        a.handle_timeout(now);
        pump(&mut a, now, &mut closed);
        assert!(a.is_closed(), "the deadline ends every association");
    }
}

/// Seeds: `(target, name, bytes)` for the three targets.
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    // Requestor: a pending match split in two fragments, then success; explicit VR.
    let pending = [0u8, 0, 0x21, 40];
    let identifier = [4u8, 1, 0x20, 4, b'D', b'O', b'E', b'*'];
    let flush = [5u8, 0, 0, 0];
    let success = [0u8, 0, 0x3D, 255];
    let requestor: Vec<u8> = [&[1u8][..], &pending, &identifier, &flush, &success, &flush].concat();
    let requestor_implicit: Vec<u8> = [
        &[0u8][..],
        &pending,
        &[4u8, 0, 0x20, 2, b'X', b'Y'],
        &flush,
        &success,
    ]
    .concat();
    // Acceptor: a C-FIND-RQ with its identifier, then a C-CANCEL-RQ.
    let rq = [0u8, 1, 0x20, 255];
    let cancel = [0u8, 2, 0x21, 255];
    let acceptor: Vec<u8> = [&[1u8][..], &rq, &identifier, &flush, &cancel, &flush].concat();
    let acceptor_implicit: Vec<u8> = [&[0u8][..], &rq, &[4u8, 0, 0x20, 0], &flush].concat();
    let mut query = [0u8; 64];
    let keys = STUDY_QUERY;
    let n = encode(&keys, true, &mut query).expect("fits");
    let dataset_seed = [&[1u8][..], &query[..n], &query[..n]].concat();
    vec![
        ("find_requestor", "match_then_success", requestor),
        ("find_requestor", "implicit_match", requestor_implicit),
        ("find_acceptor", "request_then_cancel", acceptor),
        ("find_acceptor", "implicit_request", acceptor_implicit),
        ("dataset", "query_twice", dataset_seed),
    ]
}
