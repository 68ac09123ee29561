//! Scripted peers: a TCP server on 127.0.0.1 (a thread of the test) that plays one connection by a
//! script, misbehaving in exactly one way, and [`check`], which runs the echoprobe binary against it
//! and asserts the exit code and a wall-clock bound.
//!
//! A script gets the accepted connection as a [`Conn`] and returns the PDU types echoprobe sent
//! that the test should check (usually [`Conn::rest`]: everything after the misbehaviour). Where
//! echoprobe must answer on the wire (A-ABORT after a violation, A-RELEASE-RQ after a good echo),
//! the test compares that list.
//!
//! * [`pdu`]: the PDUs a peer sends, built with `echoprobe_core::wire` and `dimse` (the encoders
//!   the core's golden tests check against DCMTK captures) or byte by byte where the point is to
//!   be malformed.
//! * [`dcmtk`]: DCMTK storescp's own bytes, captured, for peers that must answer exactly as it does.
//!
//! Every run gets [`SHORT`] timeouts; a verdict that needs no timer must come within [`FAST`], one
//! from a timer between [`TIMER_MIN`] and [`TIMER_MAX`].

pub mod dcmtk;
pub mod pdu;

use core::net::Ipv4Addr;
use core::time::Duration;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use echoprobe_core::dimse::Command;
use echoprobe_core::wire::{AeTitle, AssociateRq, PData, PcResult, Pdu};

use crate::codes::{HEALTHY, VIOLATION};
use crate::{echoprobe, echoprobe_bin, run, setup, Outcome, CALLING_AE};
use pdu::{ac, echo_rsp, release_rp, ABORT, P_DATA, RELEASE_RQ};

/// The timeouts every run gets: connect, ACSE and DIMSE 4 s, the whole check 9 s. (2 s timers with
/// a 1.5 s bound for "no timer fired" were too tight for a loaded 2-core CI machine.)
pub const SHORT: [&str; 8] = ["-to", "4", "-ta", "4", "-td", "4", "--deadline", "9"];
/// A verdict that needs no timer to fire: well under the shortest timeout.
pub const FAST: Duration = Duration::from_millis(3_000);
/// A verdict from a 4 s timer: at least this long...
pub const TIMER_MIN: Duration = Duration::from_millis(3_900);
/// ...and at most this long (startup and a loaded CI machine included).
pub const TIMER_MAX: Duration = Duration::from_millis(7_000);
/// Kill echoprobe after this: it must never get near it.
pub const HARD: Duration = Duration::from_secs(20);
/// How long a peer waits for echoprobe to connect, and for any single read.
const PEER_WAIT: Duration = Duration::from_secs(10);

/// One accepted connection, as the scripted server sees it.
#[derive(Debug)]
pub struct Conn {
    s: TcpStream,
}

/// What the peer saw of echoprobe's A-ASSOCIATE-RQ.
#[derive(Debug, Clone)]
pub struct Rq {
    pub called: AeTitle,
    pub calling: AeTitle,
    /// The proposed presentation context IDs, in order.
    pub pcs: Vec<u8>,
    pub max_len: u32,
}

impl Conn {
    /// Reads one whole PDU; `None` on EOF, reset or timeout.
    pub fn read_pdu(&mut self) -> Option<Vec<u8>> {
        let mut pdu = vec![0u8; 6];
        self.s.read_exact(&mut pdu).ok()?;
        let len = u32::from_be_bytes([pdu[2], pdu[3], pdu[4], pdu[5]]) as usize;
        assert!(len <= 1 << 20, "echoprobe sent a PDU of {len} bytes");
        pdu.resize(6 + len, 0);
        self.s.read_exact(&mut pdu[6..]).ok()?;
        Some(pdu)
    }

    /// Reads echoprobe's A-ASSOCIATE-RQ (fails the peer thread if it is anything else).
    pub fn read_rq(&mut self) -> Rq {
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

    /// Sends `bytes`. The peer may be gone already in some scenarios; the test judges echoprobe,
    /// not this, so a failed write is ignored.
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.s.write_all(bytes);
    }

    /// Sends `bytes` one at a time, `gap` apart, until echoprobe goes away.
    pub fn dribble(&mut self, bytes: &[u8], gap: Duration) {
        for b in bytes {
            if self.s.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(gap);
        }
    }

    /// Shuts the connection down (`how`), ignoring a peer that is gone already.
    pub fn shutdown(&mut self, how: Shutdown) {
        let _ = self.s.shutdown(how);
    }

    /// Reads echoprobe's RQ and accepts every proposed context with Implicit VR LE.
    pub fn associate(&mut self) -> Rq {
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
    pub fn read_echo(&mut self) -> (u8, u16) {
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
    pub fn up_to_echo(&mut self) -> (u8, u16) {
        self.associate();
        self.read_echo()
    }

    /// Answers C-ECHO-RQs with success until the A-RELEASE-RQ, which is returned unanswered.
    pub fn echo_until_release(&mut self) {
        loop {
            let pdu = self.read_pdu().expect("a PDU from echoprobe");
            match pdu[0] {
                RELEASE_RQ => return,
                P_DATA => {
                    let p = PData::parse(&pdu).expect("P-DATA-TF");
                    let pdv = p.pdvs.first().expect("a PDV");
                    let cmd = Command::parse(pdv.fragment).expect("one-PDV C-ECHO-RQ");
                    self.send(&echo_rsp(pdv.pc_id, cmd.message_id.unwrap(), 0));
                }
                t => panic!("unexpected PDU type 0x{t:02x} from echoprobe"),
            }
        }
    }

    /// The good end of an association: answers C-ECHO-RQs and the A-RELEASE-RQ, then returns
    /// what echoprobe sent after the A-RELEASE-RP (nothing, for a healthy echoprobe).
    pub fn echo_and_release(&mut self) -> Vec<u8> {
        self.echo_until_release();
        self.send(&release_rp());
        self.rest()
    }

    /// Reads the next PDU, which must be an A-RELEASE-RQ, and leaves it unanswered.
    #[track_caller]
    pub fn expect_release_rq(&mut self) {
        let pdu = self.read_pdu().expect("A-RELEASE-RQ");
        assert_eq!(pdu[0], RELEASE_RQ, "expected A-RELEASE-RQ");
    }

    /// Reads the next PDU, which must be an A-RELEASE-RQ, answers it, and returns what echoprobe
    /// sent after the A-RELEASE-RP (nothing, for a healthy echoprobe).
    #[track_caller]
    pub fn release(&mut self) -> Vec<u8> {
        self.expect_release_rq();
        self.send(&release_rp());
        self.rest()
    }

    /// Reads the next PDU; if it is an A-RELEASE-RQ, answers it. Returns its type, or `None`.
    pub fn answer_release(&mut self) -> Option<u8> {
        let pdu = self.read_pdu()?;
        if pdu[0] == RELEASE_RQ {
            self.send(&release_rp());
        }
        Some(pdu[0])
    }

    /// How echoprobe ends an association after a verdict: the next PDU (an A-RELEASE-RQ is
    /// answered) and everything after it.
    pub fn ending(&mut self) -> Vec<u8> {
        let mut seen: Vec<u8> = self.answer_release().into_iter().collect();
        seen.extend(self.rest());
        seen
    }

    /// Waits until echoprobe's next bytes have arrived, without reading them.
    pub fn wait_for_data(&mut self) {
        let mut b = [0u8; 1];
        let _ = self.s.peek(&mut b);
    }

    /// The PDU types echoprobe sends from now until it closes (at most 16).
    pub fn rest(&mut self) -> Vec<u8> {
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

/// A scripted server on 127.0.0.1 serving exactly one connection; see [`peer`].
#[derive(Debug)]
pub struct ScriptedPeer {
    pub port: u16,
    thread: JoinHandle<Vec<u8>>,
}

impl ScriptedPeer {
    /// Waits for the script to end: what it returned.
    #[track_caller]
    pub fn join(self, out: &Outcome) -> Vec<u8> {
        self.thread
            .join()
            .unwrap_or_else(|_| panic!("the peer thread failed\n{out}"))
    }
}

/// Starts a server on 127.0.0.1 that plays one connection with `script`. The script returns the
/// PDU types echoprobe sent that the test should check (usually [`Conn::rest`]).
pub fn peer<F>(script: F) -> ScriptedPeer
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
    ScriptedPeer { port, thread }
}

/// A peer that reads the A-ASSOCIATE-RQ, sends `reply(&rq)` and then watches ([`Conn::rest`]).
pub fn after_rq(reply: impl FnOnce(&Rq) -> Vec<u8> + Send + 'static) -> ScriptedPeer {
    peer(move |c| {
        let rq = c.read_rq();
        c.send(&reply(&rq));
        c.rest()
    })
}

/// A peer that associates, reads the C-ECHO-RQ, sends `reply(context, message_id)` and then
/// watches ([`Conn::rest`]).
pub fn after_echo(reply: impl FnOnce(u8, u16) -> Vec<u8> + Send + 'static) -> ScriptedPeer {
    peer(move |c| {
        let (pc, id) = c.up_to_echo();
        c.send(&reply(pc, id));
        c.rest()
    })
}

/// Runs echoprobe against `peer` with [`SHORT`] timeouts plus `extra` (later options win), asserts
/// the exit code and that it took at most `max` (and at least `min`); returns its outcome and what
/// the peer's script returned.
#[track_caller]
pub fn check(
    peer: ScriptedPeer,
    extra: &[&str],
    code: u8,
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
    let seen = peer.join(&out);
    (out, seen)
}

/// [`check`] of a verdict that needs no timer: within [`FAST`].
#[track_caller]
pub fn quick(peer: ScriptedPeer, extra: &[&str], code: u8) -> (Outcome, Vec<u8>) {
    check(peer, extra, code, Duration::ZERO, FAST)
}

/// A verdict without waiting for a timer; echoprobe's answer on the wire must be `wire`.
#[track_caller]
pub fn fast(peer: ScriptedPeer, code: u8, wire: &[u8]) -> Outcome {
    let (out, seen) = quick(peer, &[], code);
    assert_eq!(seen, wire, "echoprobe's PDUs after the misbehaviour\n{out}");
    out
}

/// A violation: exit 69 at once, and echoprobe sent an A-ABORT and nothing else.
#[track_caller]
pub fn violation(peer: ScriptedPeer) -> Outcome {
    fast(peer, VIOLATION, &[ABORT])
}

/// A healthy run within [`FAST`] against a peer that ends with [`Conn::echo_and_release`]:
/// echoprobe sent nothing after the A-RELEASE-RP.
#[track_caller]
pub fn healthy(peer: ScriptedPeer, extra: &[&str]) -> Outcome {
    let (out, seen) = quick(peer, extra, HEALTHY);
    assert!(
        seen.is_empty(),
        "after A-RELEASE-RP echoprobe sent {seen:02x?}\n{out}"
    );
    out
}

/// A verdict from a 4 s timer ([`SHORT`]).
#[track_caller]
pub fn timer(peer: ScriptedPeer, code: u8) -> (Outcome, Vec<u8>) {
    check(peer, &[], code, TIMER_MIN, TIMER_MAX)
}
