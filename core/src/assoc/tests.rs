//! Two machines driven against each other in memory with a fake clock (quinn's
//! `Pair::drive()` idea): no sockets, no OS time.

use std::vec;
use std::vec::Vec;

use super::testing::{fire_next_timer, Wire};
use super::*;
use crate::check::{Checker, Outcome, Release};
use crate::dimse::Command;
use crate::wire::{
    uid, AeTitle, AssociateAc, List, PData, PcAc, PcResult, Pdu, PduType, Pdv, UserInfo,
};

fn ae(s: &str) -> AeTitle {
    AeTitle::new(s).unwrap()
}

const MS: Duration = Duration::from_millis(1);

/// The two ends, their buffers and what each saw.
struct Pair<'a> {
    now: Instant,
    scu: Association<'a>,
    scp: Association<'a>,
    checker: Checker,
    policy: AcceptPolicy<'a>,
    scu_events: Vec<Event>,
    scp_events: Vec<Event>,
    /// Bytes in flight and PDUs sent.
    wire: Wire,
    /// Deliver one byte per step (a dribbling network).
    dribble: bool,
    /// Do not let the checker act (the test calls the machine itself).
    manual: bool,
}

impl<'a> Pair<'a> {
    fn new(
        scu_cfg: Config<'a>,
        scp_cfg: Config<'a>,
        bufs: &'a mut [Vec<u8>; 2],
        checker: Checker,
    ) -> Self {
        let [a, b] = bufs;
        let now = Instant::from_millis(1000);
        let mut scu = Association::new(scu_cfg, a, now);
        let mut scp = Association::new(scp_cfg, b, now);
        scp.connected(now);
        scu.connected(now);
        Pair {
            now,
            scu,
            scp,
            checker,
            policy: AcceptPolicy::open(scp_cfg.local_ae),
            scu_events: Vec::new(),
            scp_events: Vec::new(),
            wire: Wire::default(),
            dribble: false,
            manual: false,
        }
    }

    /// One round: both sides transmit, take events, and take input. Returns whether
    /// anything moved.
    fn step(&mut self) -> bool {
        let mut moved = false;
        let mut buf = [0u8; 4096];
        moved |= self
            .wire
            .transmit(&mut self.scu, &mut self.scp, self.now, &mut buf);
        while let Some(ev) = self.scu.poll_event() {
            self.scu_events.push(ev);
            if !self.manual {
                self.checker.on_event(&mut self.scu, self.now, &ev);
            }
            moved = true;
        }
        while let Some(ev) = self.scp.poll_event() {
            self.scp_events.push(ev);
            if let Event::AssociationRequested { called, calling } = ev {
                match self.policy.decide(&called, &calling) {
                    Ok(()) => self.scp.accept(self.now).unwrap(),
                    Err(rj) => self.scp.reject(self.now, rj).unwrap(),
                }
            }
            moved = true;
        }
        moved |= self
            .wire
            .deliver(&mut self.scu, &mut self.scp, self.now, self.dribble);
        self.now = self.now + Duration::from_micros(10);
        moved
    }

    /// Steps until quiet; then fires the earliest timer; until both are closed or
    /// `limit` of fake time has passed.
    fn drive(&mut self, limit: Duration) {
        let end = self.now + limit;
        for _ in 0..100_000 {
            while self.step() {}
            if self.scu.is_closed() && self.scp.is_closed() {
                return;
            }
            if !fire_next_timer(&mut self.scu, &mut self.scp, &mut self.now, Some(end)) {
                return;
            }
        }
        panic!("pair did not settle");
    }
}

/// A requestor on `rx`, connected at time zero, its A-ASSOCIATE-RQ encoded in `tx`: the
/// machine and the RQ's length.
fn requestor_after_rq<'a>(rx: &'a mut [u8], tx: &mut [u8]) -> (Association<'a>, usize) {
    let mut scu = Association::new(scu_cfg(), rx, Instant::ZERO);
    scu.connected(Instant::ZERO);
    let n = scu.poll_transmit(Instant::ZERO, tx).unwrap().unwrap();
    (scu, n)
}

fn bufs() -> [Vec<u8>; 2] {
    [vec![0u8; 16390], vec![0u8; 16390]]
}

fn scu_cfg() -> Config<'static> {
    Config::requestor(ae("LOADBALANCER"), ae("LB-SCP"))
}

fn scp_cfg() -> Config<'static> {
    Config::acceptor(ae("LB-SCP"))
}

#[test]
fn echo_is_healthy_and_released() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(1, false));
    p.drive(Duration::from_secs(1));
    assert_eq!(p.checker.outcome(), Outcome::Healthy(Release::Released));
    assert_eq!(p.checker.stats().ok, 1);
    assert!(p.checker.is_done());
    assert!(p.scu.should_close() && p.scp.is_closed());
    let n = p.scu.negotiated().unwrap();
    assert_eq!(
        (n.pc_id, n.peer_max_pdu, n.accepted_contexts),
        (1, 16384, 1)
    );
    assert_eq!(n.transfer_syntax, TransferSyntax::ImplicitVrLittleEndian);
    assert_eq!(
        n.peer_implementation_version.as_bytes(),
        IMPLEMENTATION_VERSION_NAME
    );
    assert!(
        matches!(p.scp_events[0], Event::AssociationRequested { called, calling }
        if called == ae("LB-SCP") && calling == ae("LOADBALANCER"))
    );
    assert!(p.scp_events.contains(&Event::EchoRequest { message_id: 1 }));
    assert!(p.scp_events.contains(&Event::Released));
    // The SCU's RQ starts like DCMTK's: type 1, version 1, called, calling.
    let rq = &p.wire.scu_sent[0];
    assert_eq!(&rq[..2], &[1, 0]);
    assert_eq!(&rq[6..8], &[0, 1]);
    assert_eq!(&rq[10..26], b"LB-SCP          ");
}

#[test]
fn repeat_uses_increasing_message_ids() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(100, false));
    p.drive(Duration::from_secs(1));
    assert_eq!(p.checker.outcome(), Outcome::Healthy(Release::Released));
    assert_eq!(p.checker.stats().sent, 100);
    assert_eq!(p.checker.stats().ok, 100);
    let ids: Vec<u16> = p
        .scp_events
        .iter()
        .filter_map(|e| match e {
            Event::EchoRequest { message_id } => Some(*message_id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
}

#[test]
fn dribbled_bytes_still_work() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(2, false));
    p.dribble = true;
    p.drive(Duration::from_secs(5));
    assert_eq!(p.checker.outcome(), Outcome::Healthy(Release::Released));
}

#[test]
fn wrong_called_ae_is_rejected() {
    let mut b = bufs();
    let mut p = Pair::new(
        Config::requestor(ae("LOADBALANCER"), ae("WRONG")),
        scp_cfg(),
        &mut b,
        Checker::new(1, false),
    );
    p.policy.check_called = true;
    p.drive(Duration::from_secs(1));
    let Outcome::Rejected(rj) = p.checker.outcome() else {
        panic!("{:?}", p.checker.outcome())
    };
    assert_eq!(
        (u8::from(rj.result), u8::from(rj.source), rj.reason),
        (1, 1, 7)
    );
    assert!(p.scu.should_close());
}

#[test]
fn unknown_calling_ae_is_rejected() {
    let allowed = [ae("SOMEONE")];
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(1, false));
    p.policy.allowed_calling = &allowed;
    p.drive(Duration::from_secs(1));
    let Outcome::Rejected(rj) = p.checker.outcome() else {
        panic!()
    };
    assert_eq!(rj.reason, 3);
}

#[test]
fn failure_status_is_unhealthy() {
    let mut b = bufs();
    let mut scp = scp_cfg();
    scp.echo_status = 0x0110;
    let mut p = Pair::new(scu_cfg(), scp, &mut b, Checker::new(3, false));
    p.drive(Duration::from_secs(1));
    assert_eq!(
        p.checker.outcome(),
        Outcome::FailureStatus {
            status: 0x0110,
            message_id: 1
        }
    );
    assert_eq!(p.checker.stats().sent, 1, "no more echoes after a failure");
    assert!(
        p.scp_events.contains(&Event::Released),
        "still released politely"
    );
}

#[test]
fn abort_at_end() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(1, true));
    p.drive(Duration::from_secs(1));
    assert_eq!(p.checker.outcome(), Outcome::Healthy(Release::AbortedByUs));
    assert!(
        matches!(p.scp_events.last(), Some(Event::Aborted(a)) if a.source == AbortSource::ServiceUser)
    );
}

#[test]
fn no_presentation_context() {
    let mut b = bufs();
    let mut scp = scp_cfg();
    scp.transfer_syntaxes = &[uid::EXPLICIT_VR_BE];
    let mut p = Pair::new(scu_cfg(), scp, &mut b, Checker::new(1, false));
    p.drive(Duration::from_secs(1));
    assert_eq!(p.checker.outcome(), Outcome::NoPresentationContext);
    assert!(p.scu_events.contains(&Event::Released));
}

#[test]
fn several_contexts_and_syntaxes() {
    let ts = [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];
    let mut b = bufs();
    let mut scu = scu_cfg();
    scu.presentation_contexts = 5;
    scu.transfer_syntaxes = &ts;
    let mut p = Pair::new(scu, scp_cfg(), &mut b, Checker::new(1, false));
    p.drive(Duration::from_secs(1));
    assert!(p.checker.outcome().is_healthy());
    let n = p.scu.negotiated().unwrap();
    assert_eq!((n.proposed_contexts, n.accepted_contexts), (5, 5));
    assert_eq!(
        n.transfer_syntax,
        TransferSyntax::ExplicitVrLittleEndian,
        "requestor's order wins"
    );
}

#[test]
fn release_collision() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(1, false));
    p.manual = true;
    // Associate, then have both sides release at the same instant.
    while p.step() {
        if p.scu.state() == State::Established
            && p.scp.state() == State::Established
            && p.wire.to_scu.is_empty()
        {
            break;
        }
    }
    assert_eq!(p.scu.state(), State::Established);
    p.scu.release(p.now).unwrap();
    p.scp.release(p.now).unwrap();
    p.drive(Duration::from_secs(1));
    assert!(p.scu_events.contains(&Event::ReleaseRequested));
    assert!(p.scp_events.contains(&Event::ReleaseRequested));
    assert!(p.scu_events.contains(&Event::Released));
    assert!(p.scp_events.contains(&Event::Released));
    assert!(p.scu.is_closed() && p.scp.is_closed());
}

#[test]
fn artim_closes_a_silent_connection() {
    let mut buf = vec![0u8; 1024];
    let t0 = Instant::from_millis(5);
    let mut scp = Association::new(scp_cfg(), &mut buf, t0);
    scp.connected(t0);
    let at = scp.poll_timeout().unwrap();
    assert_eq!(at, t0 + Duration::from_secs(30));
    scp.handle_timeout(t0 + Duration::from_secs(29));
    assert!(!scp.is_closed(), "not before its time");
    scp.handle_timeout(at);
    assert_eq!(
        scp.poll_event(),
        Some(Event::Timeout(Timeout::Timer(Timer::Artim)))
    );
    assert!(scp.should_close());
    let mut tx = [0u8; 64];
    assert_eq!(
        scp.poll_transmit(at, &mut tx),
        Ok(None),
        "nothing to abort before an RQ"
    );
}

#[test]
fn acse_timeout_aborts() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(1, false));
    p.wire.mute_scp = true;
    p.drive(Duration::from_secs(60));
    assert_eq!(p.checker.outcome(), Outcome::AcseTimeout);
    assert!(p.scu.is_closed());
    let last = p.wire.scu_sent.last().unwrap();
    assert_eq!(last[0], 0x07, "A-ABORT sent after the timeout");
}

#[test]
fn dimse_timeout_aborts() {
    // A peer that accepts and then never answers the echo.
    let mut buf = vec![0u8; 4096];
    let mut tx = [0u8; 1024];
    let (mut scu, _rq_len) = requestor_after_rq(&mut buf, &mut tx);
    let ac = accept_pdu(16384);
    assert_eq!(scu.handle_bytes(Instant::ZERO, &ac), ac.len());
    let mut checker = Checker::new(1, false);
    while let Some(ev) = scu.poll_event() {
        checker.on_event(&mut scu, Instant::ZERO, &ev);
    }
    let _echo = scu.poll_transmit(Instant::ZERO, &mut tx).unwrap().unwrap();
    let at = scu.poll_timeout().unwrap();
    assert_eq!(at, Instant::ZERO + Duration::from_secs(10));
    scu.handle_timeout(at);
    while let Some(ev) = scu.poll_event() {
        checker.on_event(&mut scu, at, &ev);
    }
    assert_eq!(checker.outcome(), Outcome::DimseTimeout);
    let n = scu.poll_transmit(at, &mut tx).unwrap().unwrap();
    assert_eq!(&tx[..n], &[7, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    assert!(scu.should_close());
}

#[test]
fn overall_deadline() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(1, false));
    p.wire.mute_scp = true;
    p.scu.set_deadline(Some(p.now + Duration::from_secs(2)));
    p.drive(Duration::from_secs(60));
    assert_eq!(p.checker.outcome(), Outcome::DeadlineExceeded);
}

/// An A-ASSOCIATE-AC accepting context 1 with Implicit VR LE, announcing `max`.
fn accept_pdu(max: u32) -> Vec<u8> {
    let pcs = [PcAc {
        id: 1,
        result: PcResult::Acceptance,
        transfer_syntax: uid::IMPLICIT_VR_LE,
    }];
    let ac = AssociateAc {
        protocol_version: 1,
        called: ae("LB-SCP"),
        calling: ae("LOADBALANCER"),
        application_context: uid::APPLICATION_CONTEXT,
        presentation_contexts: List::Slice(&pcs),
        user_info: UserInfo {
            max_length: max,
            implementation_class_uid: uid::IMPLICIT_VR_LE,
            implementation_version_name: None,
            async_ops: None,
            role_selections: List::Slice(&[]),
        },
    };
    let pdu = Pdu::AssociateAc(ac);
    let mut v = vec![0u8; pdu.buffer_len()];
    pdu.emit(&mut v).unwrap();
    v
}

/// A requestor associated with a peer that announced `max`; the echo is sent.
fn requestor_with_peer_max(buf: &mut [u8], max: u32) -> (Association<'_>, Vec<Vec<u8>>) {
    let mut scu = Association::new(scu_cfg(), buf, Instant::ZERO);
    scu.connected(Instant::ZERO);
    let mut tx = [0u8; 1024];
    let _ = scu.poll_transmit(Instant::ZERO, &mut tx).unwrap().unwrap();
    let ac = accept_pdu(max);
    assert_eq!(scu.handle_bytes(Instant::ZERO, &ac), ac.len());
    assert!(matches!(scu.poll_event(), Some(Event::Accepted(_))));
    scu.send_echo(Instant::ZERO).unwrap();
    let mut sent = Vec::new();
    while let Some(n) = scu.poll_transmit(Instant::ZERO, &mut tx).unwrap() {
        sent.push(tx[..n].to_vec());
    }
    (scu, sent)
}

#[test]
fn command_is_split_to_the_peer_maximum() {
    let mut buf = vec![0u8; 4096];
    let (_scu, sent) = requestor_with_peer_max(&mut buf, 26);
    assert!(sent.len() > 1);
    let mut joined = Vec::new();
    for (i, pdu) in sent.iter().enumerate() {
        assert!(
            pdu.len() - 6 <= 26,
            "PDU {i} longer than the peer's maximum"
        );
        let Pdu::PData(p) = Pdu::parse(pdu).unwrap() else {
            panic!()
        };
        let pdvs: Vec<_> = p.pdvs.iter().collect();
        assert_eq!(pdvs.len(), 1);
        assert!(pdvs[0].is_command);
        assert_eq!(pdvs[0].is_last, i == sent.len() - 1);
        assert_eq!(pdvs[0].fragment.len() % 2, 0);
        joined.extend_from_slice(pdvs[0].fragment);
    }
    assert_eq!(Command::parse(&joined).unwrap(), Command::echo_rq(1));
}

#[test]
fn max_pdu_zero_means_no_limit() {
    let mut buf = vec![0u8; 4096];
    let (_scu, sent) = requestor_with_peer_max(&mut buf, 0);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].len(), 80, "the same 80 bytes DCMTK sends");
}

/// P-DATA-TF PDUs carrying `cmd` split into `pieces` fragments, `per_pdu` PDVs per PDU.
fn fragmented(cmd: &[u8], piece: usize, per_pdu: usize) -> Vec<u8> {
    let chunks: Vec<&[u8]> = cmd.chunks(piece).collect();
    let mut out = Vec::new();
    for (g, group) in chunks.chunks(per_pdu).enumerate() {
        let pdvs: Vec<Pdv> = group
            .iter()
            .enumerate()
            .map(|(i, c)| Pdv {
                pc_id: 1,
                is_command: true,
                is_last: g * per_pdu + i == chunks.len() - 1,
                fragment: c,
            })
            .collect();
        let pdu = Pdu::PData(PData {
            pdvs: List::Slice(&pdvs),
        });
        let mut v = vec![0u8; pdu.buffer_len()];
        pdu.emit(&mut v).unwrap();
        out.extend_from_slice(&v);
    }
    out
}

#[test]
fn response_fragmented_over_pdvs_and_pdus_is_reassembled() {
    let mut buf = vec![0u8; 4096];
    let (mut scu, _) = requestor_with_peer_max(&mut buf, 16384);
    let mut rsp = [0u8; 128];
    let n = Command::echo_rsp(1, 0).emit(&mut rsp).unwrap();
    let bytes = fragmented(&rsp[..n], 10, 3);
    let mut off = 0;
    let mut events = Vec::new();
    while off < bytes.len() {
        let took = scu.handle_bytes(Instant::from_millis(2), &bytes[off..]);
        off += took;
        while let Some(e) = scu.poll_event() {
            events.push(e);
        }
        assert!(took > 0 || !events.is_empty());
    }
    assert!(
        matches!(
            events[..],
            [Event::EchoResponse {
                message_id: 1,
                status: 0,
                ..
            }]
        ),
        "{events:?}"
    );
}

fn violation_after_accept(bytes: &[u8]) -> (Event, Vec<u8>) {
    let mut buf = vec![0u8; 4096];
    let (mut scu, _) = requestor_with_peer_max(&mut buf, 16384);
    let mut off = 0;
    let mut ev = None;
    while off < bytes.len() && ev.is_none() {
        off += scu.handle_bytes(Instant::ZERO, &bytes[off..]);
        ev = scu.poll_event();
    }
    let mut tx = [0u8; 64];
    let n = scu
        .poll_transmit(Instant::ZERO, &mut tx)
        .unwrap()
        .unwrap_or(0);
    assert!(scu.should_close());
    (ev.expect("an event"), tx[..n].to_vec())
}

#[test]
fn unknown_pdu_type_is_a_violation() {
    let (ev, abort) = violation_after_accept(&[0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    assert!(matches!(
        ev,
        Event::Violation {
            kind: Violation::UnrecognizedPdu(9),
            ..
        }
    ));
    assert_eq!(abort, [7, 0, 0, 0, 0, 4, 0, 0, 2, 1]);
}

#[test]
fn huge_length_is_refused_before_the_body() {
    let (ev, abort) = violation_after_accept(&[0x04, 0, 0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(
        ev,
        Event::Violation {
            kind: Violation::PduTooLong {
                length: 0xffff_ffff,
                ..
            },
            ..
        }
    ));
    assert_eq!(abort[8..], [2, 6]);
}

#[test]
fn wrong_message_id_and_status_are_checked() {
    let mut rsp = [0u8; 128];
    let n = Command::echo_rsp(2, 0).emit(&mut rsp).unwrap();
    let (ev, _) = violation_after_accept(&fragmented(&rsp[..n], 200, 1));
    assert!(matches!(
        ev,
        Event::Violation {
            kind: Violation::WrongMessageId {
                expected: 1,
                got: 2
            },
            ..
        }
    ));
}

#[test]
fn echo_rq_to_a_requestor_is_a_violation() {
    let mut rq = [0u8; 128];
    let n = Command::echo_rq(1).emit(&mut rq).unwrap();
    let (ev, _) = violation_after_accept(&fragmented(&rq[..n], 200, 1));
    assert!(matches!(
        ev,
        Event::Violation {
            kind: Violation::UnexpectedCommand {
                command_field: 0x0030
            },
            ..
        }
    ));
}

#[test]
fn peer_abort_and_close_are_reported() {
    let mut buf = vec![0u8; 4096];
    let (mut scu, _) = requestor_with_peer_max(&mut buf, 16384);
    let _ = scu.handle_bytes(Instant::ZERO, &[7, 0, 0, 0, 0, 4, 0, 0, 2, 0]);
    assert!(
        matches!(scu.poll_event(), Some(Event::Aborted(a)) if a.source == AbortSource::ServiceProvider)
    );
    assert!(scu.should_close());

    let mut buf = vec![0u8; 4096];
    let (mut scu, _) = requestor_with_peer_max(&mut buf, 16384);
    scu.handle_close(Instant::ZERO);
    assert_eq!(scu.poll_event(), Some(Event::Closed));
    assert!(scu.should_close());
}

#[test]
fn release_answered_by_close_is_still_healthy() {
    let mut b = bufs();
    let mut p = Pair::new(scu_cfg(), scp_cfg(), &mut b, Checker::new(1, false));
    while p.step() {
        if p.scu.state() == State::AwaitingReleaseResponse {
            break;
        }
    }
    assert_eq!(p.scu.state(), State::AwaitingReleaseResponse);
    p.scu.handle_close(p.now);
    while let Some(ev) = p.scu.poll_event() {
        p.checker.on_event(&mut p.scu, p.now, &ev);
    }
    assert_eq!(p.checker.outcome(), Outcome::Healthy(Release::ClosedByPeer));
}

#[test]
fn acceptor_rejects_bad_protocol_version_and_foreign_context() {
    let mut buf = vec![0u8; 4096];
    let mut rq = [0u8; 1024];
    let (_scu, n) = requestor_after_rq(&mut buf, &mut rq);
    // protocol version 2 (bit 0 clear) -> RJ 1/2/2
    let mut bad = rq[..n].to_vec();
    bad[7] = 2;
    let mut sbuf = vec![0u8; 4096];
    let mut scp = Association::new(scp_cfg(), &mut sbuf, Instant::ZERO);
    scp.connected(Instant::ZERO);
    assert_eq!(scp.handle_bytes(Instant::ZERO, &bad), n);
    let mut tx = [0u8; 64];
    let m = scp.poll_transmit(Instant::ZERO, &mut tx).unwrap().unwrap();
    assert_eq!(&tx[..m], &[3, 0, 0, 0, 0, 4, 0, 1, 2, 2]);
    assert_eq!(scp.state(), State::AwaitingClose);
}

#[test]
fn stray_bytes_before_the_rq_abort_with_source_zero() {
    let mut sbuf = vec![0u8; 4096];
    let mut scp = Association::new(scp_cfg(), &mut sbuf, Instant::ZERO);
    scp.connected(Instant::ZERO);
    let _ = scp.handle_bytes(Instant::ZERO, &[5, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    assert!(matches!(
        scp.poll_event(),
        Some(Event::Violation {
            kind: Violation::UnexpectedPdu(PduType::ReleaseRq),
            ..
        })
    ));
    let mut tx = [0u8; 64];
    let m = scp.poll_transmit(Instant::ZERO, &mut tx).unwrap().unwrap();
    assert_eq!(&tx[..m], &[7, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
}

#[test]
fn too_small_transmit_buffer_is_an_error_not_a_panic() {
    let mut buf = vec![0u8; 4096];
    let mut scu = Association::new(scu_cfg(), &mut buf, Instant::ZERO);
    scu.connected(Instant::ZERO);
    let mut tx = [0u8; 16];
    assert!(
        matches!(scu.poll_transmit(Instant::ZERO, &mut tx), Err(Error::BufferTooSmall { required }) if required > 16)
    );
    assert_eq!(tx, [0u8; 16], "untouched");
}

#[test]
fn api_misuse_is_refused() {
    let mut buf = vec![0u8; 4096];
    let mut scu = Association::new(scu_cfg(), &mut buf, Instant::ZERO);
    assert_eq!(scu.send_echo(Instant::ZERO), Err(Error::InvalidState));
    assert_eq!(scu.release(Instant::ZERO), Err(Error::InvalidState));
    assert_eq!(scu.accept(Instant::ZERO), Err(Error::InvalidState));
    let _ = MS;
}
