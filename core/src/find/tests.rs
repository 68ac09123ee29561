//! The find check against hand-built peers: captured answers of DCMTK's dcmqrscp fed to a
//! requestor. With feature `find-scp`, [`pair`]: a requestor against our own responder, both
//! machines driven in memory with a fake clock.

use std::string::ToString;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::assoc::Config;
use crate::dimse::dataset::{DataSet, Key};
use crate::wire::{uid, AeTitle, Pdu};

const STUDY_UID: u32 = 0x0020_000D;
const PATIENT_NAME: u32 = 0x0010_0010;

fn ae(s: &str) -> AeTitle {
    AeTitle::new(s).unwrap()
}

const MODELS: &[Model] = &[Model::StudyRoot];
const LE: &[crate::wire::Uid<'static>] = &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];

fn scu_cfg() -> Config<'static> {
    let mut c = Config::requestor(ae("PROBE"), ae("PACS"));
    c.find_models = MODELS;
    c.transfer_syntaxes = LE;
    c
}

const QUERY: [Key<'static>; 3] = crate::dimse::dataset::STUDY_QUERY;

/// The study-level find every test asks unless it says otherwise.
fn study() -> FindOptions<'static> {
    FindOptions::new(Model::StudyRoot, &QUERY)
}

const HEALTHY: FindOutcome = FindOutcome::Healthy {
    release: Release::Released,
    cancelled: false,
};

/// DCMTK 3.6.7 `findscu -S -k QueryRetrieveLevel=STUDY -k PatientName=DOE* -k StudyInstanceUID`
/// against DCMTK 3.6.7 dcmqrscp holding one study, over loopback, recorded with strace. The
/// C-FIND-RQ command PDU and the identifier PDU it sent (PDV context ID 1).
const DCMTK_FIND_RQ: &str = "04000000005e0000005a010300000000040000004c000000000002001c000000312e322e3834302e31303030382e352e312e342e312e322e322e310000000001020000002000000010010200000001000000000702000000000000000008020000000100";
const DCMTK_FIND_IDENTIFIER: &str =
    "040000000028000000240102080052004353060053545544592010001000504e0400444f452a20000d0055490000";
/// dcmqrscp's answers: C-FIND-RSP pending, its identifier (Explicit VR LE), C-FIND-RSP success.
const DCMQRSCP_PENDING: &str = "04000000005e0000005a010300000000040000004c000000000002001c000000312e322e3834302e31303030382e352e312e342e312e322e322e3100000000010200000020800000200102000000010000000008020000000100000000090200000000ff";
const DCMQRSCP_MATCH: &str = "040000000054000000500102080052004353060053545544592008005400414504005041435310001000504e0800444f455e4a4f484e20000d0055491c00312e322e3832362e302e312e333638303034332e322e313132352e31";
const DCMQRSCP_SUCCESS: &str = "04000000005e0000005a010300000000040000004c000000000002001c000000312e322e3834302e31303030382e352e312e342e312e322e322e310000000001020000002080000020010200000001000000000802000000010100000009020000000000";

/// The user information item of a hand-built peer PDU.
fn peer_user_info() -> crate::wire::UserInfo<'static> {
    crate::wire::UserInfo {
        max_length: 16384,
        implementation_class_uid: uid::IMPLICIT_VR_LE,
        implementation_version_name: None,
        async_ops: None,
        role_selections: crate::wire::List::Slice(&[]),
    }
}

fn emit_pdu(pdu: &Pdu<'_>) -> Vec<u8> {
    let mut b = vec![0u8; pdu.buffer_len()];
    pdu.emit(&mut b).unwrap();
    b
}

/// A requestor on `rx` and `fb`, connected at `now`, its A-ASSOCIATE-RQ already sent (and
/// dropped): ready for a hand-built peer's answer.
fn scu_after_rq<'a>(rx: &'a mut [u8], fb: &'a mut [u8], now: Instant) -> Association<'a> {
    let mut a = Association::new(scu_cfg(), rx, now).with_find_buffer(fb);
    a.connected(now);
    let mut out = vec![0u8; 16390];
    while a.poll_transmit(now, &mut out).unwrap().is_some() {}
    a
}

/// The A-ASSOCIATE-AC of a hand-built peer "PACS" to "PROBE" accepting each `(id, syntax)`.
fn pacs_ac(accepted: &[(u8, crate::wire::Uid<'static>)]) -> Vec<u8> {
    let pcs: Vec<crate::wire::PcAc<'_>> = accepted
        .iter()
        .map(|&(id, transfer_syntax)| crate::wire::PcAc {
            id,
            result: crate::wire::PcResult::Acceptance,
            transfer_syntax,
        })
        .collect();
    emit_pdu(&Pdu::AssociateAc(crate::wire::AssociateAc {
        protocol_version: 1,
        called: ae("PACS"),
        calling: ae("PROBE"),
        application_context: uid::APPLICATION_CONTEXT,
        presentation_contexts: crate::wire::List::Slice(&pcs),
        user_info: peer_user_info(),
    }))
}

/// Feeds the peer's `pdus` to `a` at `now`: what `a` sends goes to `sent`, its events to
/// `on_event`.
fn feed(
    a: &mut Association<'_>,
    now: Instant,
    pdus: Vec<Vec<u8>>,
    sent: &mut Vec<Vec<u8>>,
    mut on_event: impl FnMut(&mut Association<'_>, &Event),
) {
    let mut out = vec![0u8; 16390];
    for f in pdus {
        let mut off = 0;
        while off < f.len() {
            off += a.handle_bytes(now, &f[off..]);
            loop {
                while let Some(n) = a.poll_transmit(now, &mut out).unwrap() {
                    sent.push(out[..n].to_vec());
                }
                let Some(ev) = a.poll_event() else { break };
                on_event(a, &ev);
            }
        }
    }
}

/// A captured P-DATA-TF with its (single) PDV moved to presentation context `pc`.
fn on_context(h: &str, pc: u8) -> Vec<u8> {
    let mut b = crate::wire::golden::hex(h);
    b[10] = pc;
    b
}

#[test]
fn test_parse_dcmqrscp_responses() {
    // Our requestor against dcmqrscp's captured answers: one match, then success: healthy.
    let mut rx = vec![0u8; 16390];
    let mut fb = vec![0u8; 4096];
    let now = Instant::from_millis(1000);
    let mut a = scu_after_rq(&mut rx, &mut fb, now);
    let ac_bytes = pacs_ac(&[(1, uid::IMPLICIT_VR_LE), (3, uid::EXPLICIT_VR_LE)]);
    let mut checker = FindChecker::new(FindOptions {
        required: Some((STUDY_UID, b"1.2.826.0.1.3680043.2.1125.1")),
        ..study()
    });
    let mut seen = Vec::new();
    let feeds = [
        ac_bytes,
        on_context(DCMQRSCP_PENDING, 3),
        on_context(DCMQRSCP_MATCH, 3),
        on_context(DCMQRSCP_SUCCESS, 3),
        crate::wire::golden::hex("06000000000400000000"),
    ];
    feed(&mut a, now, feeds.to_vec(), &mut Vec::new(), |a, ev| {
        if let Event::Find(FindEvent::Response {
            has_match: true, ..
        }) = ev
        {
            let m = a.find_match().unwrap();
            let name = m.get(PATIENT_NAME).unwrap().unwrap();
            seen.push(name.value.to_vec());
            assert_eq!(m.get(0x0008_0054).unwrap().unwrap().value, b"PACS");
        }
        checker.on_event(a, now, ev);
    });
    assert_eq!(seen, vec![b"DOE^JOHN".to_vec()]);
    assert_eq!(checker.outcome(), HEALTHY);
    assert!(checker.stats().required_seen);
}

#[test]
fn test_parse_many_responses_in_one_pdu() {
    // dcmqrscp's PDVs packed into one P-DATA-TF: pending, match, pending, match, success. Each
    // match is seen whole before the next overwrites the find buffer.
    let pdv = |h: &str| crate::wire::golden::hex(h)[6..].to_vec();
    let (pending, matched, success) = (
        pdv(DCMQRSCP_PENDING),
        pdv(DCMQRSCP_MATCH),
        pdv(DCMQRSCP_SUCCESS),
    );
    let mut body = Vec::new();
    for p in [&pending, &matched, &pending, &matched, &success] {
        let mut p = p.clone();
        p[4] = 3;
        body.extend(p);
    }
    let mut one = vec![4, 0];
    one.extend((body.len() as u32).to_be_bytes());
    one.extend(body);
    let mut rx = vec![0u8; 16390];
    let mut fb = vec![0u8; 128];
    let now = Instant::from_millis(1000);
    let mut a = scu_after_rq(&mut rx, &mut fb, now);
    let ac = pacs_ac(&[(3, uid::EXPLICIT_VR_LE)]);
    let mut checker = FindChecker::new(study());
    let mut seen = Vec::new();
    feed(&mut a, now, vec![ac, one], &mut Vec::new(), |a, ev| {
        if let Event::Find(FindEvent::Response {
            has_match: true, ..
        }) = ev
        {
            let m = a.find_match().unwrap();
            assert_eq!(m.check(), Ok(4));
            seen.push(m.get(STUDY_UID).unwrap().unwrap().value.to_vec());
        }
        checker.on_event(a, now, ev);
    });
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|u| u == b"1.2.826.0.1.3680043.2.1125.1"));
    assert_eq!(checker.stats().matches, 2);
    assert_eq!(checker.stats().final_status, Some(0));
}

#[test]
fn test_parse_dcmqrscp_match_truncated_at_every_offset() {
    let m = crate::wire::golden::hex(DCMQRSCP_MATCH);
    let id = &m[12..];
    let ds = DataSet::new(id, true);
    assert_eq!(ds.check(), Ok(4));
    // Element boundaries: 14, 26, 42, 78 bytes.
    for cut in 0..id.len() {
        let r = DataSet::new(&id[..cut], true).check();
        assert_eq!(r.is_ok(), [0, 14, 26, 42].contains(&cut), "cut {cut}");
    }
}

/// The find outcomes' texts (written without `core::fmt`, for the firmware) read as they always did.
#[test]
fn find_outcome_texts() {
    let cases = [
        (
            FindOutcome::TooFewMatches { matches: 0, min: 1 },
            "too few matches: 0, at least 1 required",
        ),
        (
            FindOutcome::RequiredValueMissing { matches: 12 },
            "no match of 12 carries the required value",
        ),
        (
            FindOutcome::FailureStatus { status: 0xC000 },
            "C-FIND-RSP status 0xC000 (failure: Unable to process)",
        ),
        (
            FindOutcome::MatchTooLarge { max: 256 },
            "a match is larger than the 256-byte find buffer (aborted)",
        ),
        (FindOutcome::DimseTimeout, "DIMSE timeout: no C-FIND-RSP"),
        (
            FindOutcome::Healthy {
                release: Release::Released,
                cancelled: true,
            },
            "healthy (query cancelled after max matches)",
        ),
    ];
    for (outcome, text) in cases {
        assert_eq!(outcome.to_string(), text, "{outcome:?}");
    }
}

/// `write_find_text` writes a find's own failures as `Display` does, and nothing for the outcomes
/// whose texts are the echo's.
#[test]
fn find_own_texts_alone() {
    struct S(std::string::String);
    impl crate::text::Sink for S {
        fn put(&mut self, s: &str) {
            self.0.push_str(s);
        }
    }
    let own = |o: FindOutcome| {
        let mut s = S(std::string::String::new());
        o.write_find_text(&mut s);
        s.0
    };
    for o in [
        FindOutcome::NoFindContext,
        FindOutcome::Identifier(dataset::Error::BufferTooSmall { required: 9 }),
        FindOutcome::MatchTooLarge { max: 256 },
        FindOutcome::DimseTimeout,
        FindOutcome::FailureStatus { status: 0xA700 },
        FindOutcome::TooFewMatches { matches: 1, min: 2 },
        FindOutcome::RequiredValueMissing { matches: 3 },
    ] {
        assert_eq!(own(o), o.to_string(), "{o:?}");
        assert!(!own(o).is_empty());
    }
    for o in [
        HEALTHY,
        FindOutcome::Association(crate::check::Outcome::AcseTimeout),
    ] {
        assert_eq!(own(o), "", "{o:?}");
    }
}

/// Without feature `find-scp` an acceptor serves no FIND model, even one in its `find_models`,
/// and takes findscu's C-FIND-RQ as an unexpected command (A-ABORT), as an echo-only build does.
#[cfg(not(feature = "find-scp"))]
#[test]
fn find_rq_without_find_scp_is_an_unexpected_command() {
    let mut rx = vec![0u8; 16390];
    let mut fb = vec![0u8; 4096];
    let now = Instant::from_millis(1000);
    let mut config = Config::acceptor(ae("PACS"));
    config.find_models = &Model::ALL;
    let mut a = Association::new(config, &mut rx, now).with_find_buffer(&mut fb);
    a.connected(now);
    let pc = |id, abstract_syntax| crate::wire::PcRq {
        id,
        abstract_syntax,
        transfer_syntaxes: crate::wire::List::Slice(LE),
    };
    let pcs = [pc(1, uid::VERIFICATION), pc(3, Model::StudyRoot.uid())];
    let rq = emit_pdu(&Pdu::AssociateRq(crate::wire::AssociateRq::new(
        ae("PACS"),
        ae("PROBE"),
        &pcs,
        peer_user_info(),
    )));
    let pdus = vec![
        rq,
        on_context(DCMTK_FIND_RQ, 1),
        on_context(DCMTK_FIND_IDENTIFIER, 1),
    ];
    let policy = crate::assoc::AcceptPolicy::open(ae("PACS"));
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    feed(&mut a, now, pdus, &mut sent, |a, ev| {
        let _ = crate::io::answer_request(&policy, a, now, ev);
        events.push(*ev);
    });
    let Ok(Pdu::AssociateAc(ac)) = Pdu::parse(&sent[0]) else {
        panic!("no A-ASSOCIATE-AC: {sent:?}")
    };
    let results: Vec<_> = ac
        .presentation_contexts
        .iter()
        .map(|pc| (pc.id, pc.result))
        .collect();
    use crate::wire::PcResult;
    assert_eq!(
        results,
        vec![
            (1, PcResult::Acceptance),
            (3, PcResult::AbstractSyntaxNotSupported)
        ]
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Violation {
            kind: Violation::UnexpectedCommand {
                command_field: C_FIND_RQ
            },
            abort: Some(_)
        }
    )));
    assert!(a.is_closed());
}

#[cfg(feature = "find-scp")]
mod pair;
