//! Hostile and odd peers: each test starts a real TCP server on 127.0.0.1 (a thread of the test)
//! that misbehaves in exactly one way, runs the echoprobe binary against it with short timeouts,
//! and asserts the exit code of `/work/notes/exit-codes.md` (README "Exit codes") and a
//! wall-clock bound. Where echoprobe must answer on the wire (A-ABORT after a violation,
//! A-RELEASE-RQ after a good echo), the peer records what it received and the test checks that
//! too.
//!
//! The peers build their PDUs with `echoprobe_core::wire` and `dimse` (the same encoders the
//! core's golden tests check against DCMTK captures) or byte by byte where the point is to be
//! malformed.

use core::net::Ipv4Addr;
use core::time::Duration;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use echoprobe_core::dimse::Command;
use echoprobe_core::wire::{
    uid, Abort, AbortReason, AbortSource, AeTitle, AssociateAc, AssociateRj, AssociateRq, List,
    PData, PcAc, PcResult, PcRq, Pdu, Pdv, RejectResult, RejectSource, UserInfo,
};
use echoprobe_tests::{echoprobe, echoprobe_bin, free_port, run, setup, Outcome, CALLING_AE};

// Exit codes (binding table).
const HEALTHY: i32 = 0;
const REJECTED: i32 = 61;
const UNREACHABLE: i32 = 63;
const NO_CONTEXT: i32 = 65;
const ACSE_TIMEOUT: i32 = 66;
const DIMSE_TIMEOUT: i32 = 67;
const FAILURE_STATUS: i32 = 68;
const VIOLATION: i32 = 69;
const ABORTED: i32 = 70;
const CLOSED: i32 = 71;
const DEADLINE: i32 = 72;

/// The timeouts every run gets: connect, ACSE, DIMSE 4 s, whole check 9 s. (2 s timers with a
/// 1.5 s bound for "no timer fired" were too tight for a loaded 2-core CI machine.)
const SHORT: [&str; 8] = ["-to", "4", "-ta", "4", "-td", "4", "--deadline", "9"];
/// A verdict that needs no timer to fire: well under the shortest timeout.
const FAST: Duration = Duration::from_millis(3_000);
/// A verdict from a 4 s timer: at least this long...
const TIMER_MIN: Duration = Duration::from_millis(3_900);
/// ...and at most this long (startup and a loaded CI machine included).
const TIMER_MAX: Duration = Duration::from_millis(7_000);
/// Kill echoprobe after this: it must never get near it.
const HARD: Duration = Duration::from_secs(20);
/// How long a peer waits for echoprobe to connect, and for any single read.
const PEER_WAIT: Duration = Duration::from_secs(10);

const ABORT: u8 = 0x07;
const RELEASE_RQ: u8 = 0x05;

// ------------------------------------------------------------------------------------------
// The peer side.

/// One accepted connection, as the misbehaving server sees it.
struct Conn {
    s: TcpStream,
}

/// What the peer saw of echoprobe's A-ASSOCIATE-RQ.
struct Rq {
    called: AeTitle,
    calling: AeTitle,
    pcs: Vec<u8>,
    max_len: u32,
}

impl Conn {
    /// Reads one whole PDU; `None` on EOF, reset or timeout.
    fn read_pdu(&mut self) -> Option<Vec<u8>> {
        let mut pdu = vec![0u8; 6];
        self.s.read_exact(&mut pdu).ok()?;
        let len = u32::from_be_bytes([pdu[2], pdu[3], pdu[4], pdu[5]]) as usize;
        assert!(len <= 1 << 20, "echoprobe sent a PDU of {len} bytes");
        pdu.resize(6 + len, 0);
        self.s.read_exact(&mut pdu[6..]).ok()?;
        Some(pdu)
    }

    /// Reads echoprobe's A-ASSOCIATE-RQ (fails the peer thread if it is anything else).
    fn read_rq(&mut self) -> Rq {
        let pdu = self.read_pdu().expect("A-ASSOCIATE-RQ from echoprobe");
        let rq = AssociateRq::parse(&pdu)
            .unwrap_or_else(|e| panic!("echoprobe's A-ASSOCIATE-RQ does not parse: {e:?}"));
        Rq {
            called: rq.called,
            calling: rq.calling,
            pcs: rq.presentation_contexts.iter().map(|pc| pc.id).collect(),
            max_len: rq.user_info.max_length,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        // The peer may be gone already in some scenarios; the test judges echoprobe, not this.
        let _ = self.s.write_all(bytes);
    }

    /// Sends `bytes` one at a time, `gap` apart, until echoprobe goes away.
    fn dribble(&mut self, bytes: &[u8], gap: Duration) {
        for b in bytes {
            if self.s.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(gap);
        }
    }

    /// Reads echoprobe's RQ and accepts every proposed context with Implicit VR LE.
    fn associate(&mut self) -> Rq {
        let rq = self.read_rq();
        let results: Vec<_> = rq
            .pcs
            .iter()
            .map(|&id| (id, PcResult::Acceptance))
            .collect();
        self.send(&ac(&rq, &results, 16_384));
        rq
    }

    /// Reads one whole C-ECHO-RQ (any number of PDVs and PDUs): its context and MessageID.
    fn read_echo(&mut self) -> (u8, u16) {
        let mut set = Vec::new();
        loop {
            let pdu = self.read_pdu().expect("C-ECHO-RQ from echoprobe");
            let Ok(Pdu::PData(p)) = Pdu::parse(&pdu) else {
                panic!("expected P-DATA-TF, got {:02x?}", &pdu[..pdu.len().min(16)]);
            };
            for pdv in p.pdvs.iter() {
                assert!(pdv.is_command, "echoprobe sent a data set PDV");
                set.extend_from_slice(pdv.fragment);
                if pdv.is_last {
                    let cmd = Command::parse(&set).expect("C-ECHO-RQ command set");
                    assert_eq!(cmd.command_field, 0x0030, "not a C-ECHO-RQ");
                    return (pdv.pc_id, cmd.message_id.expect("MessageID"));
                }
            }
        }
    }

    /// Association plus the first C-ECHO-RQ read: the usual start of a misbehaving peer.
    fn up_to_echo(&mut self) -> (u8, u16) {
        self.associate();
        self.read_echo()
    }

    /// Answers C-ECHO-RQs with success until the A-RELEASE-RQ, which is returned unanswered.
    fn echo_until_release(&mut self) {
        loop {
            let pdu = self.read_pdu().expect("a PDU from echoprobe");
            match pdu[0] {
                RELEASE_RQ => return,
                0x04 => {
                    let p = PData::parse(&pdu).expect("P-DATA-TF");
                    let pdv = p.pdvs.first().expect("a PDV");
                    let cmd = Command::parse(pdv.fragment).expect("one-PDV C-ECHO-RQ");
                    self.send(&echo_rsp(pdv.pc_id, cmd.message_id.unwrap(), 0));
                }
                t => panic!("unexpected PDU type 0x{t:02x} from echoprobe"),
            }
        }
    }

    /// Reads the next PDU; if it is an A-RELEASE-RQ, answers it. Returns its type, or `None`.
    fn answer_release(&mut self) -> Option<u8> {
        let pdu = self.read_pdu()?;
        if pdu[0] == RELEASE_RQ {
            self.send(&raw(0x06, &[0; 4]));
        }
        Some(pdu[0])
    }

    /// Waits until echoprobe's next bytes have arrived, without reading them.
    fn wait_for_data(&mut self) {
        let mut b = [0u8; 1];
        let _ = self.s.peek(&mut b);
    }

    /// The PDU types echoprobe sends from now until it closes (at most 16).
    fn rest(&mut self) -> Vec<u8> {
        let mut types = Vec::new();
        while types.len() < 16 {
            match self.read_pdu() {
                Some(p) => types.push(p[0]),
                None => break,
            }
        }
        types
    }
}

/// A misbehaving server on 127.0.0.1 serving exactly one connection with `script`. The script
/// returns the PDU types echoprobe sent that the test should check (usually [`Conn::rest`]).
struct Peer {
    port: u16,
    thread: JoinHandle<Vec<u8>>,
}

fn peer<F>(script: F) -> Peer
where
    F: FnOnce(&mut Conn) -> Vec<u8> + Send + 'static,
{
    setup();
    // Build (once) before the peer's wait for echoprobe's connection starts.
    echoprobe_bin();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let port = listener.local_addr().unwrap().port();
    let thread = thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let start = Instant::now();
        let s = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    assert!(start.elapsed() < PEER_WAIT, "echoprobe never connected");
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(PEER_WAIT)).unwrap();
        s.set_write_timeout(Some(PEER_WAIT)).unwrap();
        s.set_nodelay(true).unwrap();
        script(&mut Conn { s })
    });
    Peer { port, thread }
}

/// Runs echoprobe against `peer` with [`SHORT`] timeouts plus `extra`, asserts the exit code and
/// that it took at most `max` (and at least `min`); returns its outcome and what the peer saw.
#[track_caller]
fn check(
    peer: Peer,
    extra: &[&str],
    code: i32,
    min: Duration,
    max: Duration,
) -> (Outcome, Vec<u8>) {
    let port = peer.port.to_string();
    let mut args: Vec<&str> = vec!["-v", "-aet", CALLING_AE, "-aec", "ADVERSARY"];
    args.extend_from_slice(&SHORT);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["127.0.0.1", &port]);
    let out = run(&mut echoprobe(&args), HARD);
    out.assert_code(code).assert_within(max);
    assert!(
        out.elapsed >= min,
        "finished after {:?}, before {min:?}\n{out}",
        out.elapsed
    );
    let seen = peer
        .thread
        .join()
        .unwrap_or_else(|_| panic!("the peer thread failed\n{out}"));
    (out, seen)
}

/// A verdict without waiting for a timer; echoprobe's answer on the wire must be `wire`.
#[track_caller]
fn fast(peer: Peer, code: i32, wire: &[u8]) -> Outcome {
    let (out, seen) = check(peer, &[], code, Duration::ZERO, FAST);
    assert_eq!(seen, wire, "echoprobe's PDUs after the misbehaviour\n{out}");
    out
}

/// A violation: exit 69 at once, and echoprobe sent an A-ABORT and nothing else.
#[track_caller]
fn violation(peer: Peer) -> Outcome {
    fast(peer, VIOLATION, &[ABORT])
}

/// A verdict from a 2 s timer.
#[track_caller]
fn timer(peer: Peer, code: i32) -> (Outcome, Vec<u8>) {
    check(peer, &[], code, TIMER_MIN, TIMER_MAX)
}

// ------------------------------------------------------------------------------------------
// PDUs.

fn emit(p: &Pdu<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; p.buffer_len()];
    p.emit(&mut buf).expect("emit");
    buf
}

/// A PDU from its type and body, length field computed.
fn raw(pdu_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![pdu_type, 0];
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A PDU header alone, claiming `len` bytes.
fn header(pdu_type: u8, len: u32) -> Vec<u8> {
    let mut v = vec![pdu_type, 0];
    v.extend_from_slice(&len.to_be_bytes());
    v
}

fn ac_with(rq: &Rq, results: &[(u8, PcResult)], user_info: UserInfo<'_>) -> Vec<u8> {
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

fn ac(rq: &Rq, results: &[(u8, PcResult)], max_len: u32) -> Vec<u8> {
    let ui = UserInfo::new(
        max_len,
        uid::Uid::new_unchecked(b"1.2.826.0.1.3680043.2.1143.107"),
        Some(b"ADVERSARY_1"),
    );
    ac_with(rq, results, ui)
}

fn command_set(cmd: &Command<'_>) -> Vec<u8> {
    let mut set = vec![0u8; cmd.buffer_len()];
    cmd.emit(&mut set).expect("emit command");
    set
}

/// `set` as P-DATA-TF PDUs on context `pc`: cut into `pieces` PDVs, `per_pdu` PDVs per PDU.
fn pdata(pc: u8, set: &[u8], pieces: usize, per_pdu: usize) -> Vec<u8> {
    let step = set.len().div_ceil(pieces).max(1);
    let pdvs: Vec<Pdv<'_>> = set
        .chunks(step)
        .enumerate()
        .map(|(i, frag)| Pdv {
            pc_id: pc,
            is_command: true,
            is_last: (i + 1) * step >= set.len(),
            fragment: frag,
        })
        .collect();
    pdvs.chunks(per_pdu)
        .flat_map(|group| emit(&Pdu::PData(PData::new(group))))
        .collect()
}

fn echo_rsp(pc: u8, id: u16, status: u16) -> Vec<u8> {
    pdata(pc, &command_set(&Command::echo_rsp(id, status)), 1, 1)
}

fn abort_pdu(source: AbortSource, reason: AbortReason) -> Vec<u8> {
    emit(&Pdu::Abort(Abort { source, reason }))
}

/// The implicit VR LE element `tag` with `value`.
fn element(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
    v.extend_from_slice(&((tag & 0xffff) as u16).to_le_bytes());
    v.extend_from_slice(&(value.len() as u32).to_le_bytes());
    v.extend_from_slice(value);
    v
}

/// A command set from elements (group length first, computed).
fn elements(elems: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = elems.concat();
    let mut set = element(0, &(body.len() as u32).to_le_bytes());
    set.extend_from_slice(&body);
    set
}

fn us(v: u16) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

const VERIFICATION: &[u8] = b"1.2.840.10008.1.1\0";

// ------------------------------------------------------------------------------------------
// Connection level.

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
    assert_eq!(seen.first(), Some(&0x01), "{out}");
}

#[test]
fn accept_then_close() {
    fast(
        peer(|c| {
            c.read_rq();
            c.s.shutdown(Shutdown::Both).unwrap();
            vec![]
        }),
        CLOSED,
        &[],
    );
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
            let ac = ac(&rq, &[(1, PcResult::Acceptance)], 16_384);
            c.send(&ac[..ac.len() / 2]);
            vec![]
        }),
        CLOSED,
        &[],
    );
}

// ------------------------------------------------------------------------------------------
// Slow and stalled peers.

#[test]
fn ac_dribbled_slower_than_the_acse_timeout() {
    // 10 bytes a second: the AC would take ~19 s; the ACSE timer does not restart per byte.
    timer(
        peer(|c| {
            let rq = c.read_rq();
            c.dribble(
                &ac(&rq, &[(1, PcResult::Acceptance)], 0),
                Duration::from_millis(100),
            );
            vec![]
        }),
        ACSE_TIMEOUT,
    );
}

#[test]
fn dribble_hits_the_overall_deadline() {
    let p = peer(|c| {
        let rq = c.read_rq();
        c.dribble(
            &ac(&rq, &[(1, PcResult::Acceptance)], 0),
            Duration::from_millis(100),
        );
        vec![]
    });
    check(
        p,
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
            let mut seen: Vec<u8> = c.answer_release().into_iter().collect();
            seen.extend(c.rest());
            seen
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
        peer(|c| {
            let rq = c.read_rq();
            let ac = ac(&rq, &[(1, PcResult::Acceptance)], 0);
            c.send(&ac[..40]);
            c.rest()
        }),
        ACSE_TIMEOUT,
    );
}

#[test]
fn stall_mid_response() {
    let (out, seen) = timer(
        peer(|c| {
            let (pc, id) = c.up_to_echo();
            let rsp = echo_rsp(pc, id, 0);
            c.send(&rsp[..20]);
            c.rest()
        }),
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
    timer(
        peer(|c| {
            c.read_rq();
            c.send(&header(0x02, 184));
            c.rest()
        }),
        ACSE_TIMEOUT,
    );
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

// ------------------------------------------------------------------------------------------
// Lengths and framing.

#[test]
fn ac_with_zero_length() {
    violation(peer(|c| {
        c.read_rq();
        c.send(&header(0x02, 0));
        c.rest()
    }));
}

#[test]
fn ac_claiming_4_gib() {
    // Must be judged from the header alone: nothing follows it.
    violation(peer(|c| {
        c.read_rq();
        c.send(&header(0x02, u32::MAX));
        c.rest()
    }));
}

#[test]
fn rj_with_zero_length() {
    // A-ASSOCIATE-RJ is 4 bytes after its header; 0 is malformed, not a rejection.
    violation(peer(|c| {
        c.read_rq();
        c.send(&header(0x03, 0));
        c.rest()
    }));
}

#[test]
fn abort_with_a_wrong_length() {
    // An "A-ABORT" of 2 bytes is malformed: a violation, not the peer's abort.
    violation(peer(|c| {
        c.up_to_echo();
        c.send(&raw(ABORT, &[0, 0]));
        c.rest()
    }));
}

#[test]
fn pdata_claiming_4_gib() {
    violation(peer(|c| {
        c.up_to_echo();
        c.send(&header(0x04, u32::MAX));
        c.rest()
    }));
}

#[test]
fn ac_longer_than_our_max_pdu() {
    // 20000 > the 16384 echoprobe announces; refused before the body arrives.
    violation(peer(|c| {
        c.read_rq();
        c.send(&header(0x02, 20_000));
        c.rest()
    }));
}

#[test]
fn ac_item_overruns_the_pdu() {
    violation(peer(|c| {
        let rq = c.read_rq();
        let mut ac = ac(&rq, &[(1, PcResult::Acceptance)], 16_384);
        // The presentation context item (0x21) after the 68-byte fixed part and the
        // application context item: make its length run past the end.
        let at = 6 + 68 + 4 + uid::APPLICATION_CONTEXT.len();
        assert_eq!(ac[at], 0x21);
        ac[at + 2..at + 4].copy_from_slice(&0x4000u16.to_be_bytes());
        c.send(&ac);
        c.rest()
    }));
}

#[test]
fn ac_without_items() {
    // A PDU length that covers only the fixed fields: no application context, no contexts.
    violation(peer(|c| {
        let rq = c.read_rq();
        let ac = ac(&rq, &[(1, PcResult::Acceptance)], 16_384);
        let mut cut = ac[..6 + 68].to_vec();
        cut[2..6].copy_from_slice(&68u32.to_be_bytes());
        c.send(&cut);
        c.rest()
    }));
}

#[test]
fn ac_with_trailing_garbage_beyond_its_length() {
    // The AC is fine; 4 junk bytes follow it, which frame as the start of a bogus PDU of an
    // unknown type (0xee).
    violation(peer(|c| {
        let rq = c.read_rq();
        let mut ac = ac(&rq, &[(1, PcResult::Acceptance)], 16_384);
        ac.extend_from_slice(&[0xee, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        c.send(&ac);
        c.read_echo();
        c.rest()
    }));
}

#[test]
fn unknown_pdu_type_instead_of_ac() {
    violation(peer(|c| {
        c.read_rq();
        c.send(&raw(0x08, &[0, 0, 0, 0]));
        c.rest()
    }));
}

#[test]
fn unknown_pdu_type_instead_of_response() {
    violation(peer(|c| {
        c.up_to_echo();
        c.send(&raw(0xff, &[0, 0, 0, 0]));
        c.rest()
    }));
}

#[test]
fn pdv_longer_than_its_pdu() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        let mut rsp = echo_rsp(pc, id, 0);
        rsp[6..10].copy_from_slice(&0x1000u32.to_be_bytes());
        c.send(&rsp);
        c.rest()
    }));
}

#[test]
fn pdv_item_length_below_two() {
    violation(peer(|c| {
        c.up_to_echo();
        c.send(&raw(0x04, &[0, 0, 0, 1, 1]));
        c.rest()
    }));
}

#[test]
fn empty_pdata() {
    violation(peer(|c| {
        c.up_to_echo();
        c.send(&header(0x04, 0));
        c.rest()
    }));
}

// ------------------------------------------------------------------------------------------
// Negotiation.

#[test]
fn association_rejected_permanent() {
    let out = fast(
        peer(|c| {
            c.read_rq();
            let rj = AssociateRj::new(RejectResult::Permanent, RejectSource::ServiceUser, 7);
            c.send(&emit(&Pdu::AssociateRj(rj)));
            c.rest()
        }),
        REJECTED,
        &[],
    );
    out.assert_mentions("called");
}

#[test]
fn association_rejected_transient() {
    fast(
        peer(|c| {
            c.read_rq();
            let rj = AssociateRj::new(
                RejectResult::Transient,
                RejectSource::ServiceProviderPresentation,
                2,
            );
            c.send(&emit(&Pdu::AssociateRj(rj)));
            c.rest()
        }),
        REJECTED,
        &[],
    );
}

fn rejected_context(result: PcResult) -> Peer {
    peer(move |c| {
        let rq = c.read_rq();
        let results: Vec<_> = rq.pcs.iter().map(|&id| (id, result)).collect();
        c.send(&ac(&rq, &results, 16_384));
        // echoprobe ends the useless association: release (answered here) or abort.
        let mut seen: Vec<u8> = c.answer_release().into_iter().collect();
        seen.extend(c.rest());
        seen
    })
}

fn no_context(result: PcResult) {
    let (out, seen) = check(
        rejected_context(result),
        &[],
        NO_CONTEXT,
        Duration::ZERO,
        FAST,
    );
    assert!(
        seen == [RELEASE_RQ] || seen == [ABORT],
        "echoprobe ended the association with {seen:02x?}\n{out}"
    );
}

#[test]
fn presentation_context_abstract_syntax_not_supported() {
    no_context(PcResult::AbstractSyntaxNotSupported);
}

#[test]
fn presentation_context_transfer_syntaxes_not_supported() {
    no_context(PcResult::TransferSyntaxesNotSupported);
}

#[test]
fn presentation_context_user_rejection() {
    no_context(PcResult::UserRejection);
}

#[test]
fn associate_rq_sent_back() {
    // A peer that answers with an A-ASSOCIATE-RQ of its own.
    violation(peer(|c| {
        let rq = c.read_rq();
        let pcs = [PcRq {
            id: 1,
            abstract_syntax: uid::VERIFICATION,
            transfer_syntaxes: List::Slice(&[uid::IMPLICIT_VR_LE]),
        }];
        let ui = UserInfo::new(16_384, uid::IMPLICIT_VR_LE, None);
        c.send(&emit(&Pdu::AssociateRq(AssociateRq::new(
            rq.calling, rq.called, &pcs, ui,
        ))));
        c.rest()
    }));
}

#[test]
fn pdata_before_ac() {
    violation(peer(|c| {
        c.read_rq();
        c.send(&echo_rsp(1, 1, 0));
        c.rest()
    }));
}

#[test]
fn ac_sent_twice() {
    violation(peer(|c| {
        let rq = c.read_rq();
        let ac = ac(&rq, &[(1, PcResult::Acceptance)], 16_384);
        c.send(&[ac.clone(), ac].concat());
        c.read_echo();
        c.rest()
    }));
}

// ------------------------------------------------------------------------------------------
// DIMSE.

#[test]
fn wrong_message_id() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        c.send(&echo_rsp(pc, id.wrapping_add(1), 0));
        c.rest()
    }));
}

#[test]
fn wrong_command_field_c_store_rsp() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        let mut cmd = Command::echo_rsp(id, 0);
        cmd.command_field = 0x8001;
        c.send(&pdata(pc, &command_set(&cmd), 1, 1));
        c.rest()
    }));
}

#[test]
fn echo_rq_instead_of_response() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        c.send(&pdata(pc, &command_set(&Command::echo_rq(id)), 1, 1));
        c.rest()
    }));
}

#[test]
fn response_without_status() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        let set = elements(&[
            element(0x0000_0002, VERIFICATION),
            element(0x0000_0100, &us(0x8030)),
            element(0x0000_0120, &us(id)),
            element(0x0000_0800, &us(0x0101)),
        ]);
        c.send(&pdata(pc, &set, 1, 1));
        c.rest()
    }));
}

#[test]
fn response_announcing_a_data_set() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        let mut cmd = Command::echo_rsp(id, 0);
        cmd.data_set_type = 0x0000;
        c.send(&pdata(pc, &command_set(&cmd), 1, 1));
        c.rest()
    }));
}

#[test]
fn response_outside_group_0000() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        let mut set = command_set(&Command::echo_rsp(id, 0));
        set.extend_from_slice(&element(0x0008_0016, VERIFICATION));
        c.send(&pdata(pc, &set, 1, 1));
        c.rest()
    }));
}

#[test]
fn response_with_a_wrong_group_length() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        let mut set = command_set(&Command::echo_rsp(id, 0));
        set[8] = set[8].wrapping_add(2);
        c.send(&pdata(pc, &set, 1, 1));
        c.rest()
    }));
}

#[test]
fn response_as_a_data_set_pdv() {
    violation(peer(|c| {
        let (pc, id) = c.up_to_echo();
        let set = command_set(&Command::echo_rsp(id, 0));
        let pdv = [Pdv {
            pc_id: pc,
            is_command: false,
            is_last: true,
            fragment: &set,
        }];
        c.send(&emit(&Pdu::PData(PData::new(&pdv))));
        c.rest()
    }));
}

#[test]
fn response_on_a_context_never_proposed() {
    violation(peer(|c| {
        let (_, id) = c.up_to_echo();
        c.send(&echo_rsp(3, id, 0));
        c.rest()
    }));
}

/// A peer answering the echo with `status`; exit 68 and the status in the message.
fn failure_status(status: u16) {
    let out = fast(
        peer(move |c| {
            let (pc, id) = c.up_to_echo();
            c.send(&echo_rsp(pc, id, status));
            // echoprobe ends the association in order after a bad status.
            let mut seen: Vec<u8> = c.answer_release().into_iter().collect();
            seen.extend(c.rest());
            seen
        }),
        FAILURE_STATUS,
        &[RELEASE_RQ],
    );
    let text = out.output().to_ascii_lowercase();
    assert!(
        text.contains(&format!("0x{status:04x}")),
        "the status 0x{status:04x} is not printed\n{out}"
    );
}

#[test]
fn status_failure_processing_failure() {
    failure_status(0x0110);
}

#[test]
fn status_failure_refused_out_of_resources() {
    failure_status(0xa700);
}

#[test]
fn status_failure_cannot_understand() {
    failure_status(0xc000);
}

#[test]
fn status_failure_sop_class_not_supported() {
    failure_status(0x0122);
}

#[test]
fn status_warning() {
    failure_status(0x0001);
}

#[test]
fn status_warning_b000() {
    failure_status(0xb000);
}

#[test]
fn status_cancel() {
    failure_status(0xfe00);
}

#[test]
fn status_pending() {
    failure_status(0xff00);
}

#[test]
fn abort_instead_of_response() {
    fast(
        peer(|c| {
            c.up_to_echo();
            c.send(&abort_pdu(
                AbortSource::ServiceUser,
                AbortReason::NotSpecified,
            ));
            c.rest()
        }),
        ABORTED,
        &[],
    );
}

#[test]
fn provider_abort_instead_of_ac() {
    fast(
        peer(|c| {
            c.read_rq();
            c.send(&abort_pdu(
                AbortSource::ServiceProvider,
                AbortReason::UnexpectedPdu,
            ));
            c.rest()
        }),
        ABORTED,
        &[],
    );
}

#[test]
fn release_rq_instead_of_response() {
    // The peer walks away from an outstanding request: the echo did not complete. The core
    // answers the release (A-RELEASE-RP) and the check calls it a violation; the peer then
    // closes, as the releasing side must (PS3.8 AR-3).
    let (out, seen) = check(
        peer(|c| {
            c.up_to_echo();
            c.send(&raw(RELEASE_RQ, &[0; 4]));
            let seen = c.read_pdu().map(|p| vec![p[0]]).unwrap_or_default();
            let _ = c.s.shutdown(Shutdown::Both);
            seen
        }),
        &[],
        VIOLATION,
        Duration::ZERO,
        FAST,
    );
    assert!(
        seen == [0x06] || seen == [ABORT],
        "echoprobe answered the release with {seen:02x?}\n{out}"
    );
}

#[test]
fn release_rq_instead_of_response_then_no_close() {
    // As above, but the peer then keeps the connection open: waiting for it to close (ARTIM)
    // must be bounded like every other wait of a check (-ta here), not just by --deadline.
    let (out, seen) = check(
        peer(|c| {
            c.up_to_echo();
            c.send(&raw(RELEASE_RQ, &[0; 4]));
            c.rest()
        }),
        &[],
        VIOLATION,
        Duration::ZERO,
        TIMER_MAX,
    );
    assert!(
        seen == [0x06] || seen == [ABORT],
        "echoprobe answered the release with {seen:02x?}\n{out}"
    );
}

#[test]
fn two_responses() {
    // The first completes the echo and echoprobe asks for release; the second is a violation.
    fast(
        peer(|c| {
            let (pc, id) = c.up_to_echo();
            let rsp = echo_rsp(pc, id, 0);
            c.send(&[rsp.clone(), rsp].concat());
            c.rest()
        }),
        VIOLATION,
        &[RELEASE_RQ, ABORT],
    );
}

#[test]
fn stale_response_with_repeat() {
    // The first response twice: the duplicate arrives while the second request is outstanding.
    let p = peer(|c| {
        let (pc, id) = c.up_to_echo();
        let rsp = echo_rsp(pc, id, 0);
        c.send(&[rsp.clone(), rsp].concat());
        c.rest()
    });
    let (out, seen) = check(p, &["--repeat", "2"], VIOLATION, Duration::ZERO, FAST);
    assert_eq!(seen.last(), Some(&ABORT), "{out}");
}

// ------------------------------------------------------------------------------------------
// Other protocols on the port.

#[test]
fn http_response() {
    violation(peer(|c| {
        c.read_rq();
        c.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        c.rest()
    }));
}

#[test]
fn http_bytes_before_anything() {
    // A server that talks first (as an HTTP server answering garbage would).
    // The peer reads nothing first, so it sees our RQ and then the A-ABORT.
    fast(
        peer(|c| {
            c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            c.rest()
        }),
        VIOLATION,
        &[0x01, ABORT],
    );
}

#[test]
fn tls_client_hello_bytes() {
    violation(peer(|c| {
        c.read_rq();
        let mut hello = vec![
            0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
        ];
        hello.extend_from_slice(&[0x5a; 160]);
        c.send(&hello);
        c.rest()
    }));
}

#[test]
fn tls_alert_bytes() {
    // A TLS server answering our plaintext RQ with a fatal alert (unexpected_message).
    fast(
        peer(|c| {
            c.read_rq();
            c.send(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);
            c.s.shutdown(Shutdown::Write).unwrap();
            c.rest()
        }),
        VIOLATION,
        &[ABORT],
    );
}

// ------------------------------------------------------------------------------------------
// Benign oddities a checker must accept.

/// A good peer except for `ac`, which builds the AC from the RQ; returns what the peer saw
/// after the echo (A-RELEASE-RQ expected).
fn healthy_with(ac: impl FnOnce(&Rq) -> Vec<u8> + Send + 'static, extra: &[&str]) -> Outcome {
    let p = peer(move |c| {
        let rq = c.read_rq();
        c.send(&ac(&rq));
        c.echo_until_release();
        c.send(&raw(0x06, &[0; 4]));
        c.rest()
    });
    let (out, seen) = check(p, extra, HEALTHY, Duration::ZERO, FAST);
    assert!(
        seen.is_empty(),
        "after A-RELEASE-RP echoprobe sent {seen:02x?}\n{out}"
    );
    out
}

#[test]
fn unknown_user_info_sub_items() {
    healthy_with(
        |rq| {
            let good = ac(rq, &[(1, PcResult::Acceptance)], 16_384);
            // Append sub-items to the user information item (the last item): 0x56 SOP class
            // extended negotiation, 0x58 user identity response, 0x7f unknown.
            let extra: Vec<u8> = [
                vec![0x56, 0, 0, 21, 0, 17],
                b"1.2.840.10008.1.1".to_vec(),
                vec![1, 2],
                vec![0x58, 0, 0, 2, 0, 0],
                vec![0x7f, 0, 0, 3, 9, 9, 9],
            ]
            .concat();
            let ui_at = find_item(&good, 0x50);
            let mut ac = good.clone();
            let ui_len = u16::from_be_bytes([ac[ui_at + 2], ac[ui_at + 3]]) + extra.len() as u16;
            ac[ui_at + 2..ui_at + 4].copy_from_slice(&ui_len.to_be_bytes());
            ac.extend_from_slice(&extra);
            let pdu_len = (ac.len() - 6) as u32;
            ac[2..6].copy_from_slice(&pdu_len.to_be_bytes());
            ac
        },
        &[],
    );
}

/// Offset of the first item of `item_type` among the A-ASSOCIATE items (after 6 + 68 bytes).
fn find_item(pdu: &[u8], item_type: u8) -> usize {
    let mut at = 6 + 68;
    while at + 4 <= pdu.len() {
        if pdu[at] == item_type {
            return at;
        }
        at += 4 + u16::from_be_bytes([pdu[at + 2], pdu[at + 3]]) as usize;
    }
    panic!("no item 0x{item_type:02x}");
}

#[test]
fn max_pdu_zero() {
    healthy_with(|rq| ac(rq, &[(1, PcResult::Acceptance)], 0), &[]);
}

#[test]
fn reserved_fields_set_and_titles_changed() {
    // Receivers must not test reserved fields nor the AE titles echoed in the AC.
    healthy_with(
        |rq| {
            let other = Rq {
                called: AeTitle::new("SOMETHINGELSE").unwrap(),
                calling: AeTitle::new("NOTYOU").unwrap(),
                pcs: rq.pcs.clone(),
                max_len: rq.max_len,
            };
            let mut ac = ac(&other, &[(1, PcResult::Acceptance)], 16_384);
            ac[1] = 0xff; // PDU header reserved
            ac[8] = 0xff; // reserved after the protocol version
            ac[42..74].fill(0xaa); // 32 reserved bytes
            let pc = find_item(&ac, 0x21);
            ac[pc + 5] = 0xff; // reserved in the presentation context item
            ac[pc + 7] = 0xff;
            ac
        },
        &[],
    );
}

#[test]
fn small_peer_max_pdu_makes_echoprobe_fragment() {
    // A peer that takes P-DATA-TF of 20 bytes at most: echoprobe must split its 68-byte
    // command set over several PDUs, and the peer reassembles it.
    let p = peer(|c| {
        let rq = c.read_rq();
        c.send(&ac(&rq, &[(1, PcResult::Acceptance)], 20));
        let mut set = Vec::new();
        let mut pdus = 0;
        let (pc, last) = loop {
            let pdu = c.read_pdu().expect("P-DATA-TF");
            assert!(
                pdu.len() - 6 <= 20,
                "P-DATA-TF of {} bytes > 20",
                pdu.len() - 6
            );
            pdus += 1;
            let p = PData::parse(&pdu).expect("P-DATA-TF");
            let pdv = p.pdvs.first().expect("PDV");
            set.extend_from_slice(pdv.fragment);
            if pdv.is_last {
                break (pdv.pc_id, pdv.is_last);
            }
        };
        assert!(last && pdus >= 4, "{pdus} PDUs");
        let cmd = Command::parse(&set).expect("reassembled C-ECHO-RQ");
        c.send(&echo_rsp(pc, cmd.message_id.unwrap(), 0));
        let pdu = c.read_pdu().expect("A-RELEASE-RQ");
        assert_eq!(pdu[0], RELEASE_RQ);
        c.send(&raw(0x06, &[0; 4]));
        c.rest()
    });
    check(p, &[], HEALTHY, Duration::ZERO, FAST);
}

#[test]
fn second_context_accepted() {
    // Two contexts proposed; the peer rejects the first and accepts the second, and the echo
    // must go out on the second.
    let p = peer(|c| {
        let rq = c.read_rq();
        assert_eq!(rq.pcs, [1, 3]);
        c.send(&ac(
            &rq,
            &[(1, PcResult::UserRejection), (3, PcResult::Acceptance)],
            16_384,
        ));
        let (pc, id) = c.read_echo();
        assert_eq!(pc, 3, "echo on a rejected context");
        c.send(&echo_rsp(pc, id, 0));
        let pdu = c.read_pdu().expect("A-RELEASE-RQ");
        assert_eq!(pdu[0], RELEASE_RQ);
        c.send(&raw(0x06, &[0; 4]));
        c.rest()
    });
    check(p, &["-ppc", "2"], HEALTHY, Duration::ZERO, FAST);
}

/// A good association and echo, then `finish` instead of A-RELEASE-RP.
fn good_echo_then(finish: fn(&mut Conn)) -> Peer {
    peer(move |c| {
        let (pc, id) = c.up_to_echo();
        c.send(&echo_rsp(pc, id, 0));
        let pdu = c.read_pdu().expect("A-RELEASE-RQ");
        assert_eq!(pdu[0], RELEASE_RQ);
        finish(c);
        vec![]
    })
}

#[test]
fn response_fragmented_over_pdvs() {
    check(
        peer(|c| {
            let (pc, id) = c.up_to_echo();
            let set = command_set(&Command::echo_rsp(id, 0));
            c.send(&pdata(pc, &set, 5, 5));
            c.echo_until_release();
            c.send(&raw(0x06, &[0; 4]));
            c.rest()
        }),
        &[],
        HEALTHY,
        Duration::ZERO,
        FAST,
    );
}

#[test]
fn response_fragmented_over_pdus() {
    check(
        peer(|c| {
            let (pc, id) = c.up_to_echo();
            let set = command_set(&Command::echo_rsp(id, 0));
            c.send(&pdata(pc, &set, 6, 1));
            c.echo_until_release();
            c.send(&raw(0x06, &[0; 4]));
            c.rest()
        }),
        &[],
        HEALTHY,
        Duration::ZERO,
        FAST,
    );
}

#[test]
fn release_answered_by_close() {
    let (out, _) = check(
        good_echo_then(|c| {
            let _ = c.s.shutdown(Shutdown::Both);
        }),
        &[],
        HEALTHY,
        Duration::ZERO,
        FAST,
    );
    out.assert_mentions("warning");
}

#[test]
fn release_answered_by_abort() {
    let (out, _) = check(
        good_echo_then(|c| {
            c.send(&abort_pdu(
                AbortSource::ServiceUser,
                AbortReason::NotSpecified,
            ));
        }),
        &[],
        HEALTHY,
        Duration::ZERO,
        FAST,
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

#[test]
fn repeat_three_echoes() {
    let p = peer(|c| {
        c.associate();
        c.echo_until_release();
        c.send(&raw(0x06, &[0; 4]));
        c.rest()
    });
    let (out, _) = check(p, &["--repeat", "3"], HEALTHY, Duration::ZERO, FAST);
    let n = out.output().matches("Echo Response").count();
    assert!(n >= 3, "{n} responses reported\n{out}");
}
