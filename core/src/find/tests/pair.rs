//! Two machines, a find check against a responder, driven in memory with a fake clock
//! (feature `find-scp`).

use std::boxed::Box;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

use super::super::matching::wildcard;
use super::*;
use crate::assoc::testing::{fire_next_timer, Wire};
use crate::assoc::{AcceptPolicy, Role};
use crate::dimse::dataset::{encode, Vr};
use crate::io::answer_request;

const LEVEL: u32 = 0x0008_0052;

type Hook<'h> = Box<dyn FnMut(&mut Association<'_>, Instant, &Event) + 'h>;

/// An encoded record: PatientName, StudyInstanceUID (implicit VR).
fn record(name: &str, uid: &str) -> Vec<u8> {
    let keys = [
        Key {
            tag: PATIENT_NAME,
            vr: Vr::PN,
            value: name.as_bytes(),
        },
        Key {
            tag: STUDY_UID,
            vr: Vr::UI,
            value: uid.as_bytes(),
        },
    ];
    let mut buf = vec![0u8; 4096];
    let n = encode(&keys, false, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

struct Pair<'a, 'h> {
    now: Instant,
    scu: Association<'a>,
    scp: Association<'a>,
    checker: FindChecker<'h>,
    scp_hook: Hook<'h>,
    scu_events: Vec<Event>,
    scp_events: Vec<Event>,
    matches: Vec<Vec<u8>>,
    /// Bytes in flight and PDUs sent.
    wire: Wire,
}

impl<'a, 'h> Pair<'a, 'h> {
    fn new(
        scu: Association<'a>,
        scp: Association<'a>,
        options: FindOptions<'h>,
        scp_hook: Hook<'h>,
    ) -> Self {
        let now = Instant::from_millis(1000);
        let mut p = Pair {
            now,
            scu,
            scp,
            checker: FindChecker::new(options),
            scp_hook,
            scu_events: Vec::new(),
            scp_events: Vec::new(),
            matches: Vec::new(),
            wire: Wire::default(),
        };
        p.scp.connected(now);
        p.scu.connected(now);
        p
    }

    fn step(&mut self) -> bool {
        let mut moved = false;
        let mut buf = vec![0u8; 70_000];
        moved |= self
            .wire
            .transmit(&mut self.scu, &mut self.scp, self.now, &mut buf);
        while let Some(ev) = self.scu.poll_event() {
            self.scu_events.push(ev);
            if let Event::Find(FindEvent::Response {
                has_match: true, ..
            }) = ev
            {
                self.matches
                    .push(self.scu.find_match().unwrap().as_bytes().to_vec());
            }
            self.checker.on_event(&mut self.scu, self.now, &ev);
            moved = true;
        }
        while let Some(ev) = self.scp.poll_event() {
            self.scp_events.push(ev);
            (self.scp_hook)(&mut self.scp, self.now, &ev);
            moved = true;
        }
        moved |= self
            .wire
            .deliver(&mut self.scu, &mut self.scp, self.now, false);
        self.now = self.now + Duration::from_micros(10);
        moved
    }

    fn drive(&mut self) {
        for _ in 0..10_000 {
            while self.step() {}
            if self.scu.is_closed() && self.scp.is_closed() {
                return;
            }
            if !fire_next_timer(&mut self.scu, &mut self.scp, &mut self.now, None) {
                return;
            }
        }
        panic!("pair did not settle");
    }
}

const ALL_MODELS: &[Model] = &Model::ALL;

fn scp_cfg() -> Config<'static> {
    let mut c = Config::acceptor(ae("PACS"));
    c.find_models = ALL_MODELS;
    c
}

/// A responder hook answering from `records` after accepting everyone.
fn responder<'h>(records: &'h [DataSet<'h>]) -> Hook<'h> {
    let policy = AcceptPolicy::open(ae("PACS"));
    let mut r = Responder::new(records);
    Box::new(move |a, now, ev| {
        if answer_request(&policy, a, now, ev).is_none() {
            r.on_event(a, now, ev);
        }
    })
}

struct Bufs {
    rx: [Vec<u8>; 2],
    find: [Vec<u8>; 2],
}

fn bufs(rx: usize, find: usize) -> Bufs {
    Bufs {
        rx: [vec![0; rx], vec![0; rx]],
        find: [vec![0; find], vec![0; find]],
    }
}

fn machines<'a>(
    b: &'a mut Bufs,
    scu: Config<'a>,
    scp: Config<'a>,
) -> (Association<'a>, Association<'a>) {
    let now = Instant::from_millis(1000);
    let [rx_a, rx_b] = &mut b.rx;
    let [f_a, f_b] = &mut b.find;
    (
        Association::new(scu, rx_a, now).with_find_buffer(f_a),
        Association::new(scp, rx_b, now).with_find_buffer(f_b),
    )
}

/// The default requestor asking with `options` the default acceptor run by `hook`, over `b`,
/// driven until both are closed.
fn driven<'a, 'h>(b: &'a mut Bufs, options: FindOptions<'h>, hook: Hook<'h>) -> Pair<'a, 'h> {
    let (scu, scp) = machines(b, scu_cfg(), scp_cfg());
    let mut p = Pair::new(scu, scp, options, hook);
    p.drive();
    p
}

fn records_of(raw: &[Vec<u8>]) -> Vec<DataSet<'_>> {
    raw.iter().map(|r| DataSet::new(r, false)).collect()
}

fn run(raw: &[Vec<u8>], options: FindOptions<'_>) -> (FindOutcome, FindStats, Vec<Vec<u8>>) {
    let records = records_of(raw);
    let mut b = bufs(16390, 4096);
    let p = driven(&mut b, options, responder(&records));
    assert!(p.checker.is_done());
    (p.checker.outcome(), p.checker.stats(), p.matches.clone())
}

fn db() -> Vec<Vec<u8>> {
    vec![
        record("DOE^JOHN", "1.2.3.1"),
        record("ROE^JANE", "1.2.3.2"),
        record("DOE^JANE", "1.2.3.3"),
        record("DOE^BABY", "1.2.3.4"),
    ]
}

#[test]
fn find_many_matches_is_healthy() {
    let (outcome, stats, matches) = run(&db(), study());
    assert_eq!(outcome, HEALTHY);
    assert_eq!(
        (stats.matches, stats.responses, stats.final_status),
        (3, 4, Some(0))
    );
    // Each match: the query's keys in order, the record's values, Explicit VR (negotiated).
    let m = DataSet::new(&matches[0], true);
    assert_eq!(m.check(), Ok(3));
    assert_eq!(m.get(LEVEL).unwrap().unwrap().trimmed(), b"STUDY");
    assert_eq!(m.get(STUDY_UID).unwrap().unwrap().trimmed(), b"1.2.3.1");
    assert_eq!(m.get(STUDY_UID).unwrap().unwrap().vr, Some(Vr::UI));
}

#[test]
fn find_one_match_with_required_value() {
    let mut o = study();
    o.required = Some((STUDY_UID, b"1.2.3.3"));
    let (outcome, stats, _) = run(&db(), o);
    assert_eq!(outcome, HEALTHY);
    assert!(stats.required_seen);
    o.required = Some((STUDY_UID, b"9.9"));
    let (outcome, _, _) = run(&db(), o);
    assert_eq!(outcome, FindOutcome::RequiredValueMissing { matches: 3 });
}

#[test]
fn find_zero_matches() {
    let o = study();
    let (outcome, stats, _) = run(&[], o);
    assert_eq!(outcome, FindOutcome::TooFewMatches { matches: 0, min: 1 });
    assert_eq!(stats.final_status, Some(0));
    let mut o = o;
    o.min_matches = 0;
    assert_eq!(run(&[], o).0, HEALTHY);
}

#[test]
fn find_cancel_after_max_matches() {
    let many: Vec<Vec<u8>> = (0..40)
        .map(|i| record("DOE^X", &std::format!("1.2.{i}")))
        .collect();
    let mut o = study();
    o.max_matches = Some(2);
    let (outcome, stats, _) = run(&many, o);
    assert_eq!(
        outcome,
        FindOutcome::Healthy {
            release: Release::Released,
            cancelled: true
        }
    );
    assert!(stats.cancelled);
    // In memory the responder sends everything before the cancel reaches it: the further
    // pendings and the final success are taken.
    assert_eq!(stats.final_status, Some(0));
    assert!(stats.matches >= 2);
}

#[test]
fn find_cancel_honoured_by_acceptor() {
    // An SCP that sends one pending per ResponseSent only after the requestor saw it: here,
    // one pending, then it waits for the cancel and ends with 0xFE00.
    let raw = db();
    let records = records_of(&raw);
    let policy = AcceptPolicy::open(ae("PACS"));
    let mut sent = 0;
    let hook: Hook<'_> = Box::new(move |a, now, ev| {
        if answer_request(&policy, a, now, ev).is_some() {
            return;
        }
        match ev {
            Event::Find(FindEvent::Request { .. })
            | Event::Find(FindEvent::ResponseSent { .. })
                if sent < 2 =>
            {
                sent += 1;
                let r = records[0];
                assert!(a
                    .send_find_pending(now, |q, out| answer(q, &r, out))
                    .unwrap());
            }
            Event::Find(FindEvent::CancelRequested { .. }) => {
                a.send_find_final(now, status::CANCEL).unwrap();
            }
            _ => {}
        }
    });
    let mut b = bufs(16390, 4096);
    let mut o = study();
    o.max_matches = Some(2);
    let p = driven(&mut b, o, hook);
    assert_eq!(
        p.checker.outcome(),
        FindOutcome::Healthy {
            release: Release::Released,
            cancelled: true
        }
    );
    assert_eq!(p.checker.stats().final_status, Some(status::CANCEL));
    assert_eq!(p.checker.stats().matches, 2);
    assert!(p
        .scp_events
        .contains(&Event::Find(FindEvent::CancelRequested { message_id: 1 })));
}

#[test]
fn find_unrequested_cancel_status_is_a_failure() {
    let mut b = bufs(16390, 4096);
    let p = driven(&mut b, study(), failing(status::CANCEL));
    assert_eq!(
        p.checker.outcome(),
        FindOutcome::FailureStatus {
            status: status::CANCEL
        }
    );
}

/// An SCP that answers every C-FIND-RQ with one final `status`.
fn failing<'h>(status: u16) -> Hook<'h> {
    let policy = AcceptPolicy::open(ae("PACS"));
    Box::new(move |a, now, ev| {
        if answer_request(&policy, a, now, ev).is_none() {
            if let Event::Find(FindEvent::Request { .. }) = ev {
                a.send_find_final(now, status).unwrap();
            }
        }
    })
}

#[test]
fn find_failure_statuses_are_unhealthy() {
    for st in [
        0xA700,
        0xA900,
        0xC000,
        0xC123,
        0xB000,
        status::CANCEL,
        0x0122,
    ] {
        let mut b = bufs(16390, 4096);
        let p = driven(&mut b, study(), failing(st));
        assert_eq!(
            p.checker.outcome(),
            FindOutcome::FailureStatus { status: st }
        );
    }
}

#[test]
fn find_no_find_context() {
    let mut b = bufs(16390, 4096);
    let mut scp = scp_cfg();
    scp.find_models = &[Model::Worklist];
    let (scu, scp) = machines(&mut b, scu_cfg(), scp);
    let mut p = Pair::new(scu, scp, study(), failing(0));
    p.drive();
    // Verification was accepted, the FIND context was not.
    assert_eq!(p.checker.outcome(), FindOutcome::NoFindContext);
    assert!(matches!(p.scu_events[0], Event::Accepted(_)));
}

#[test]
fn find_dimse_timeout() {
    let mut b = bufs(16390, 4096);
    let policy = AcceptPolicy::open(ae("PACS"));
    let silent: Hook<'_> = Box::new(move |a, now, ev| {
        let _ = answer_request(&policy, a, now, ev);
    });
    let p = driven(&mut b, study(), silent);
    assert_eq!(p.checker.outcome(), FindOutcome::DimseTimeout);
}

#[test]
fn find_split_identifiers_both_ways_with_tiny_max_pdu() {
    // Long values so that the query and each match span several P-DATA-TF PDUs each way:
    // a 512-byte receive buffer announces 506 bytes.
    let long_name = "DOE^".to_string() + &"X".repeat(900);
    let long_uid = "1.".repeat(450) + "9";
    let raw = vec![record(&long_name, &long_uid), record(&long_name, "1.2")];
    let records = records_of(&raw);
    let pattern = "DOE^".to_string() + &"X".repeat(700) + "*";
    let query = [
        Key {
            tag: LEVEL,
            vr: Vr::CS,
            value: b"STUDY",
        },
        Key {
            tag: PATIENT_NAME,
            vr: Vr::PN,
            value: pattern.as_bytes(),
        },
        Key {
            tag: STUDY_UID,
            vr: Vr::UI,
            value: b"",
        },
    ];
    for explicit_first in [true, false] {
        let mut scu_c = scu_cfg();
        if !explicit_first {
            scu_c.transfer_syntaxes = &[uid::IMPLICIT_VR_LE];
        }
        let mut b = bufs(512, 4096);
        let (scu, scp) = machines(&mut b, scu_c, scp_cfg());
        let mut p = Pair::new(
            scu,
            scp,
            FindOptions::new(Model::StudyRoot, &query),
            responder(&records),
        );
        p.drive();
        assert_eq!(p.checker.outcome(), HEALTHY, "explicit {explicit_first}");
        assert_eq!(p.matches.len(), 2);
        let m = DataSet::new(&p.matches[0], explicit_first);
        assert_eq!(
            m.get(STUDY_UID).unwrap().unwrap().trimmed(),
            long_uid.as_bytes()
        );
        let data_pdus = |pdus: &[Vec<u8>]| pdus.iter().filter(|p| p[0] == 4).count();
        assert!(data_pdus(&p.wire.scu_sent) >= 3, "query split");
        assert!(data_pdus(&p.wire.scp_sent) >= 6, "matches split");
        assert!(p.wire.scu_sent.iter().all(|p| p.len() <= 512));
        assert!(p.wire.scp_sent.iter().all(|p| p.len() <= 512));
    }
}

#[test]
fn find_match_larger_than_find_buffer_aborts() {
    let raw = vec![record(&"A".repeat(600), "1.2")];
    let records = records_of(&raw);
    let mut b = bufs(16390, 4096);
    b.find[0] = vec![0; 300];
    let q = [Key {
        tag: PATIENT_NAME,
        vr: Vr::PN,
        value: b"",
    }];
    let p = driven(
        &mut b,
        FindOptions::new(Model::StudyRoot, &q),
        responder(&records),
    );
    assert_eq!(p.checker.outcome(), FindOutcome::MatchTooLarge { max: 300 });
    assert!(p.scu_events.iter().any(|e| matches!(
        e,
        Event::Violation {
            kind: Violation::DataSetTooLong { max: 300 },
            abort: Some(_)
        }
    )));
}

#[test]
fn find_query_too_big_for_buffer_is_an_error_not_a_panic() {
    let mut b = bufs(16390, 4096);
    b.find[0] = vec![0; 10];
    let p = driven(&mut b, study(), failing(0));
    assert_eq!(
        p.checker.outcome(),
        FindOutcome::Identifier(dataset::Error::BufferTooSmall { required: 34 })
    );
}

#[test]
fn find_request_golden_command() {
    // The C-FIND-RQ command set: group length, Study Root UID (27 + NUL), C-FIND-RQ,
    // MessageID 1, priority medium, a data set follows (PS3.7 9.3.2.1).
    let raw = db();
    let records = records_of(&raw);
    let mut b = bufs(16390, 4096);
    let p = driven(&mut b, study(), responder(&records));
    let pdata: Vec<&Vec<u8>> = p.wire.scu_sent.iter().filter(|p| p[0] == 4).collect();
    let cmd = &pdata[0][12..];
    assert_eq!(pdata[0][11], 0x03, "command, last fragment");
    let want = crate::wire::golden::hex(concat!(
        "0000000004000000",
        "4c000000",
        "000002001c000000",
        "312e322e3834302e31303030382e352e312e342e312e322e322e3100",
        "0000000102000000",
        "2000",
        "0000100102000000",
        "0100",
        "0000000702000000",
        "0000",
        "0000000802000000",
        "0100",
    ));
    assert_eq!(cmd, &want[..]);
    // The identifier follows as a data set PDV on the same context, in Explicit VR LE.
    assert_eq!(pdata[1][11], 0x02, "data set, last fragment");
    let mut id = [0u8; 64];
    let n = encode(&QUERY, true, &mut id).unwrap();
    assert_eq!(&pdata[1][12..], &id[..n]);
    // The SCU proposed Verification and Study Root FIND.
    let Ok(Pdu::AssociateRq(rq)) = Pdu::parse(&p.wire.scu_sent[0]) else {
        panic!()
    };
    let abstracts: Vec<_> = rq
        .presentation_contexts
        .iter()
        .map(|pc| (pc.id, pc.abstract_syntax.as_bytes().to_vec()))
        .collect();
    assert_eq!(
        abstracts,
        vec![
            (1, uid::VERIFICATION.as_bytes().to_vec()),
            (3, Model::StudyRoot.uid().as_bytes().to_vec())
        ]
    );
    assert_eq!(p.scp.role(), Role::Acceptor);
}

#[test]
fn answer_matching_rules() {
    let rec = record("DOE^JOHN", "1.2.3.1");
    let rec = DataSet::new(&rec, false);
    let check = |q: &[Key<'_>]| {
        let mut qb = [0u8; 128];
        let n = encode(q, false, &mut qb).unwrap();
        let mut out = [0u8; 128];
        answer(&DataSet::new(&qb[..n], false), &rec, &mut out)
            .unwrap()
            .is_some()
    };
    let k = |tag, vr, value: &'static [u8]| Key { tag, vr, value };
    assert!(check(&[k(PATIENT_NAME, Vr::PN, b"")]));
    assert!(check(&[k(PATIENT_NAME, Vr::PN, b"DOE^JOHN")]));
    assert!(check(&[k(PATIENT_NAME, Vr::PN, b"D?E*")]));
    assert!(check(&[k(PATIENT_NAME, Vr::PN, b"*JOHN")]));
    assert!(!check(&[k(PATIENT_NAME, Vr::PN, b"DOE")]));
    assert!(!check(&[k(PATIENT_NAME, Vr::PN, b"*JANE")]));
    assert!(check(&[k(STUDY_UID, Vr::UI, b"9.9\\1.2.3.1")]));
    assert!(!check(&[k(STUDY_UID, Vr::UI, b"1.2.3")]));
    // A key the record lacks: universal matches (empty), a value does not.
    assert!(check(&[k(0x0008_0020, Vr::DA, b"")]));
    assert!(!check(&[k(0x0008_0020, Vr::DA, b"20260101-")]));
    assert!(wildcard(b"*", b""));
    assert!(wildcard(b"a*b*c", b"aXXbYc"));
    assert!(!wildcard(b"a*b?c", b"abc"));
    // Too small an output: an error, the buffer untouched.
    let mut qb = [0u8; 64];
    let n = encode(&QUERY, false, &mut qb).unwrap();
    let mut out = [0xEEu8; 8];
    assert!(matches!(
        answer(&DataSet::new(&qb[..n], false), &rec, &mut out),
        Err(dataset::Error::BufferTooSmall { .. })
    ));
    assert!(out.iter().all(|b| *b == 0xEE));
}

#[test]
fn test_emit_find_rq_as_dcmtk_findscu() {
    // Our requestor sends the same command and identifier bytes as findscu (on our context 3).
    let mut b = bufs(16390, 4096);
    let p = driven(&mut b, study(), failing(0));
    let pdata: Vec<&Vec<u8>> = p.wire.scu_sent.iter().filter(|p| p[0] == 4).collect();
    assert_eq!(pdata[0], &on_context(DCMTK_FIND_RQ, 3));
    assert_eq!(pdata[1], &on_context(DCMTK_FIND_IDENTIFIER, 3));
}

#[test]
fn find_of_a_model_the_context_does_not_carry_gets_a900() {
    // The requestor's context is Study Root but its command says Patient Root: the captured
    // command with its UID replaced.
    let mut rq = on_context(DCMTK_FIND_RQ, 3);
    let study = Model::StudyRoot.uid().as_bytes();
    let at = rq.windows(study.len()).position(|w| w == study).unwrap();
    rq[at..at + study.len()].copy_from_slice(b"1.2.840.10008.5.1.4.1.2.1.1");
    let mut b2 = bufs(16390, 4096);
    let (_scu2, mut scp2) = machines(&mut b2, scu_cfg(), scp_cfg());
    let now = Instant::from_millis(1000);
    scp2.connected(now);
    let pcs = [
        crate::wire::PcRq {
            id: 1,
            abstract_syntax: uid::VERIFICATION,
            transfer_syntaxes: crate::wire::List::Slice(LE),
        },
        crate::wire::PcRq {
            id: 3,
            abstract_syntax: Model::StudyRoot.uid(),
            transfer_syntaxes: crate::wire::List::Slice(LE),
        },
    ];
    let a_rq = Pdu::AssociateRq(crate::wire::AssociateRq::new(
        ae("PACS"),
        ae("PROBE"),
        &pcs,
        peer_user_info(),
    ));
    let rq_bytes = emit_pdu(&a_rq);
    let mut sent = Vec::new();
    let policy = AcceptPolicy::open(ae("PACS"));
    let pdus = vec![rq_bytes, rq, on_context(DCMTK_FIND_IDENTIFIER, 3)];
    feed(&mut scp2, now, pdus, &mut sent, |a, ev| {
        let _ = answer_request(&policy, a, now, ev);
        assert!(!matches!(ev, Event::Find(FindEvent::Request { .. })));
    });
    let rsp = sent.last().unwrap();
    let cmd = crate::dimse::Command::parse(&rsp[12..]).unwrap();
    assert_eq!(
        (cmd.command_field, cmd.status),
        (C_FIND_RSP, Some(status::IDENTIFIER_MISMATCH))
    );
    assert!(!cmd.has_data_set());
}

proptest::proptest! {
    #[test]
    fn prop_answer_never_panics(
        q in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
        r in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
        flags in 0u8..4,
    ) {
        let mut out = [0u8; 256];
        let query = DataSet::new(&q, flags & 1 != 0);
        let record = DataSet::new(&r, flags & 2 != 0);
        if let Ok(Some(n)) = answer(&query, &record, &mut out) {
            proptest::prop_assert!(DataSet::new(&out[..n], flags & 1 != 0).check().is_ok());
        }
    }
}
