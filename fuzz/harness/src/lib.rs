//! The checks behind echoprobe's fuzz targets.
//!
//! Each `pub fn` here takes the fuzzer's bytes and panics when a property of the core breaks;
//! the libFuzzer targets in `../fuzz_targets` are one-line wrappers, and the regression tests in
//! `tests/` replay saved inputs through the same functions on stable Rust.
//!
//! * [`frame`]: `wire::frame` agrees with the header it looks at, for several maxima, and a
//!   stream walk over the input terminates.
//! * [`pdu`]: `wire::Pdu::parse`; whatever parses emits into exactly `buffer_len()` bytes,
//!   re-parses equal, and refuses a buffer one byte short without touching it.
//! * [`command`]: `dimse::Command::parse`; whatever parses emits and re-parses equal.
//! * [`find`]: the data set reader and matcher, and C-FIND in both roles (core feature `find`).
//! * [`machine`]: one [`Association`] of either role driven by a [`script`] of byte-stream
//!   chunks, clock moves, closes and user calls (see [`script::Op`]), with every output PDU
//!   and event checked against the invariants listed on [`machine`].

pub mod find;
pub mod golden;
pub mod script;
pub mod seeds;

use echoprobe_core::assoc::{State, MAX_CONTEXTS};
use echoprobe_core::dimse::Command;
use echoprobe_core::time::{Duration, Instant};
use echoprobe_core::wire::{
    self, AeTitle, AssociateRj, PduType, RejectResult, RejectSource, Status, HEADER_LEN,
};
use echoprobe_core::{Association, Checker, Config, Event, Outcome};

pub use echoprobe_core::Role;

use script::{Op, Script, User};

/// The maxima [`frame`] is tried with.
const FRAME_MAXIMA: [u32; 6] = [0, 1, 4, 16_378, 0x7fff_ffff, u32::MAX];

/// `wire::frame` against the header bytes it reads.
pub fn frame(data: &[u8]) {
    let declared = data
        .get(2..6)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    for max in FRAME_MAXIMA {
        match wire::frame(data, max) {
            Ok(Status::Complete(total)) => {
                let len = declared.expect("Complete without a header");
                assert!(len <= max, "Complete for length {len} above max {max}");
                assert_eq!(total, HEADER_LEN + len as usize, "total != 6 + length");
                assert!(total <= data.len(), "Complete beyond the input");
            }
            Ok(Status::Partial) => {
                if let Some(len) = declared {
                    assert!(len <= max, "Partial for length {len} above max {max}");
                    assert!(
                        data.len() < HEADER_LEN + len as usize,
                        "Partial with the whole PDU present"
                    );
                }
            }
            Err(wire::Error::TooLong { length, max: m }) => {
                assert_eq!(Some(length), declared, "TooLong reports another length");
                assert!(
                    length > m && m <= max,
                    "TooLong {length} <= {m} (max {max})"
                );
            }
            Err(e) => panic!("frame returned {e:?}"),
        }
    }
    // Walk the input as a stream of PDUs, as a receiver would.
    let mut rest = data;
    let mut steps = 0usize;
    while let Ok(Status::Complete(total)) = wire::frame(rest, u32::MAX) {
        let (one, tail) = rest.split_at(total);
        let _ = wire::Pdu::parse(one).map(|p| p.to_string());
        rest = tail;
        steps += 1;
        assert!(
            steps <= data.len() / HEADER_LEN,
            "stream walk does not advance"
        );
    }
}

/// `wire::Pdu::parse`, then emit / re-parse / short-buffer checks on whatever parses.
pub fn pdu(data: &[u8]) {
    let Ok(p) = wire::Pdu::parse(data) else {
        return;
    };
    let _ = p.to_string();
    check_emit(&p);
}

/// Emit `p` into exactly `buffer_len()` bytes, re-parse it, compare; and into one byte less.
fn check_emit(p: &wire::Pdu<'_>) {
    let len = p.buffer_len();
    let mut buf = vec![0u8; len];
    let n = p
        .emit(&mut buf)
        .unwrap_or_else(|e| panic!("emit of a parsed {p:?} into buffer_len() = {len}: {e:?}"));
    assert_eq!(n, len, "emit wrote {n} bytes, buffer_len() said {len}");
    let q = wire::Pdu::parse(&buf)
        .unwrap_or_else(|e| panic!("re-parse of emitted {p:?} failed: {e:?}\n{buf:02x?}"));
    if *p != q {
        panic!("re-parse differs:\n  parsed {p:?}\nre-parsed {q:?}");
    }
    assert_eq!(
        wire::frame(&buf, u32::MAX),
        Ok(Status::Complete(len)),
        "emitted PDU does not frame to its own length"
    );
    if let Some(short) = len.checked_sub(1) {
        let mut small = vec![0xa5u8; short];
        assert_eq!(
            p.emit(&mut small),
            Err(wire::Error::BufferTooSmall { required: len }),
            "emit into a buffer one byte short"
        );
        assert!(
            small.iter().all(|&b| b == 0xa5),
            "a failed emit wrote into the buffer"
        );
    }
}

/// `dimse::Command::parse`, then emit / re-parse on whatever parses.
pub fn command(data: &[u8]) {
    let n = echoprobe_core::dimse::Elements::new(data)
        .take(data.len() + 1)
        .count();
    assert!(n <= data.len() / 8 + 1, "element walk does not advance");
    let Ok(c) = Command::parse(data) else {
        return;
    };
    let len = c.buffer_len();
    let mut buf = vec![0u8; len];
    let written = c
        .emit(&mut buf)
        .unwrap_or_else(|e| panic!("emit of parsed {c:?} into {len} bytes: {e:?}"));
    assert_eq!(written, len);
    let again = Command::parse(&buf)
        .unwrap_or_else(|e| panic!("re-parse of emitted {c:?} failed: {e:?}\n{buf:02x?}"));
    assert_eq!(c, again, "command re-parse differs");
    if let Some(short) = len.checked_sub(1) {
        let mut small = vec![0xa5u8; short];
        assert!(
            c.emit(&mut small).is_err(),
            "emit into a buffer one byte short"
        );
        assert!(
            small.iter().all(|&b| b == 0xa5),
            "a failed emit wrote into the buffer"
        );
    }
}

/// Echoes the checker mode asks for.
const CHECK_REPEAT: u32 = 2;

/// Receive buffer sizes the script header picks from (PDU header included).
pub const RX_SIZES: [usize; 8] = [16_384 + 6, 0, 5, 6, 7, 64, 200, 1_024];
/// The buffer `poll_transmit` gets in the drain loop.
const TX_BUF: usize = 1 << 15;
/// Bound on the drain loop (transmits + events between two inputs).
const MAX_DRAIN: usize = 4_096;

/// Everything the driver remembers to check the machine against.
struct Driver<'a> {
    a: Association<'a>,
    role: Role,
    now: Instant,
    auto: bool,
    tx: Vec<u8>,
    pending: Vec<u8>,
    /// The machine said `should_close()` and every event was taken.
    closed: bool,
    abort_sent: bool,
    rq_sent: u32,
    answer_sent: u32,
    /// MessageID of the C-ECHO-RQ we sent and have no answer for.
    outstanding: Option<u16>,
    responses: u32,
    requested: bool,
    /// A terminal event (rejected, aborted, violation, timeout, closed) was reported.
    ended: bool,
    /// Requestor in checker mode: the health check drives the machine.
    checker: Option<Checker>,
    /// The MessageID the next C-ECHO-RQ must carry (they count up from 1).
    next_id: u16,
    /// Statuses of every C-ECHO-RSP, in order.
    statuses: Vec<u16>,
    summary: Summary,
}

/// What a [`machine`] run saw, for the regression tests.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Every event, in order.
    pub events: Vec<Event>,
    /// The type of every PDU sent, in order.
    pub sent: Vec<PduType>,
    /// The machine ended closed with nothing left to send.
    pub closed: bool,
    /// Checker mode: the health check's verdict.
    pub verdict: Option<Outcome>,
}

/// Runs one association of `role` through the script in `data`.
///
/// Invariants checked after every step:
/// * nothing panics; `handle_bytes` takes at most what it was given, and takes something
///   whenever both queues are empty (no stall);
/// * every PDU from `poll_transmit` frames to its own length and parses with `Pdu::parse`; a
///   failed `poll_transmit` names a size above the buffer and leaves the buffer untouched;
/// * a requestor never sends A-ASSOCIATE-AC/RJ, an acceptor never an A-ASSOCIATE-RQ; at most one
///   RQ and one AC/RJ; nothing but A-ABORTs after an A-ABORT;
/// * P-DATA-TF PDUs respect the peer's maximum length (when it is at least 8);
/// * once `should_close()` holds and the events are drained, no PDU and no event ever again;
/// * events fit the role: an `EchoResponse` only for the request outstanding, with its ID;
///   after a terminal event (rejected, aborted, violation, timeout, closed) the machine is closed;
/// * timers: a state that waits for the peer always has a `poll_timeout`, and firing the timers
///   at one instant settles within a few rounds (no busy loop).
pub fn machine(role: Role, data: &[u8]) -> Summary {
    let script = Script::decode(data);
    let mut rx = vec![0u8; RX_SIZES[usize::from(script.flags & 7)]];
    let mut config = match role {
        Role::Requestor => Config::requestor(ae("FUZZSCU"), ae("FUZZSCP")),
        Role::Acceptor => Config::acceptor(ae("FUZZSCP")),
    };
    config.presentation_contexts = script.contexts & !script::CHECKER;
    if script.flags & script::FLAG_ALL_SYNTAXES != 0 {
        config.transfer_syntaxes = echoprobe_core::assoc::ACCEPTABLE_TRANSFER_SYNTAXES;
    }
    if script.flags & script::FLAG_ZERO_TIMEOUTS != 0 {
        config.acse_timeout = Duration::ZERO;
        config.dimse_timeout = Duration::ZERO;
        config.artim_timeout = Duration::ZERO;
    }
    if script.flags & script::FLAG_FAIL_STATUS != 0 {
        config.echo_status = 0x0110;
    }
    let now = Instant::from_millis(1_000);
    let mut d = Driver {
        a: Association::new(config, &mut rx, now),
        role,
        now,
        auto: script.flags & script::FLAG_AUTO != 0,
        tx: vec![0u8; TX_BUF],
        pending: Vec::new(),
        closed: false,
        abort_sent: false,
        rq_sent: 0,
        answer_sent: 0,
        outstanding: None,
        responses: 0,
        requested: false,
        ended: false,
        checker: (role == Role::Requestor && script.contexts & script::CHECKER != 0)
            .then(|| Checker::new(CHECK_REPEAT, script.flags & script::FLAG_FAIL_STATUS != 0)),
        next_id: 1,
        statuses: Vec::new(),
        summary: Summary::default(),
    };
    if script.flags & script::FLAG_DEADLINE != 0 {
        d.a.set_deadline(Some(now + Duration::from_secs(5)));
    }
    d.a.connected(now);
    d.drain();
    for op in script.ops {
        d.step(op);
        d.check_timers();
    }
    d.summary.closed = d.a.should_close();
    d.summary.verdict = d.checker.as_ref().map(Checker::outcome);
    d.summary
}

/// `FUZZ_TRACE=1`: print every step, PDU and event on stderr (for reading a crash input).
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

fn ae(s: &str) -> AeTitle {
    AeTitle::new(s).expect("valid AE title")
}

impl Driver<'_> {
    fn step(&mut self, op: Op<'_>) {
        if tracing() {
            match op {
                Op::Feed(b) => eprintln!(
                    "{:?}: feed {} bytes {:02x?}",
                    self.a.state(),
                    b.len(),
                    &b[..b.len().min(12)]
                ),
                op => eprintln!("{:?}: {op:?}", self.a.state()),
            }
        }
        match op {
            Op::Feed(bytes) => {
                self.pending.extend_from_slice(bytes);
                self.pump();
            }
            Op::Advance(ms) => {
                self.now = self.now + Duration::from_millis(u64::from(ms));
                self.a.handle_timeout(self.now);
                self.drain();
            }
            Op::Expire => self.expire(),
            Op::Close => {
                self.a.handle_close(self.now);
                self.drain();
            }
            Op::User(u) => {
                self.user(u);
                self.drain();
            }
            Op::SmallTransmit(size) => self.small_transmit(usize::from(size)),
            Op::EarlyTimeout => {
                self.a.handle_timeout(self.now);
                self.drain();
            }
        }
    }

    /// Hand the pending stream bytes to the machine until it has taken them all.
    fn pump(&mut self) {
        let rounds = self.pending.len() + 8;
        for _ in 0..rounds {
            self.drain();
            if self.pending.is_empty() {
                return;
            }
            let taken = self.a.handle_bytes(self.now, &self.pending);
            assert!(
                taken <= self.pending.len(),
                "handle_bytes took {taken} of {} bytes",
                self.pending.len()
            );
            self.pending.drain(..taken);
            if taken == 0 {
                // drain() left both queues empty, so nothing excuses taking nothing.
                panic!(
                    "handle_bytes took nothing with empty queues in {:?}",
                    self.a.state()
                );
            }
        }
        panic!("pump did not finish within {rounds} rounds");
    }

    /// Fire the timers at `max(now, poll_timeout)`; they must settle in a few rounds.
    fn expire(&mut self) {
        if let Some(at) = self.a.poll_timeout() {
            if at > self.now {
                self.now = at;
            }
        }
        for _ in 0..8 {
            match self.a.poll_timeout() {
                Some(at) if at <= self.now => {
                    self.a.handle_timeout(self.now);
                    self.drain();
                }
                _ => return,
            }
        }
        panic!(
            "timers do not settle at {:?}: poll_timeout {:?} in {:?}",
            self.now,
            self.a.poll_timeout(),
            self.a.state()
        );
    }

    fn user(&mut self, u: User) {
        let now = self.now;
        if self.checker.is_some()
            && matches!(
                u,
                User::SendEcho | User::Release | User::Accept | User::Reject
            )
        {
            // The checker makes these calls; a second driver would make its verdict moot.
            return;
        }
        match u {
            User::Connected => self.a.connected(now),
            User::SendEcho => {
                if let Ok(id) = self.a.send_echo(now) {
                    self.sent_echo(id);
                }
            }
            User::Release => {
                let _ = self.a.release(now);
            }
            User::Abort => self.a.abort(now),
            User::Accept => {
                let _ = self.a.accept(now);
            }
            User::Reject => {
                let rj = AssociateRj::new(RejectResult::Permanent, RejectSource::ServiceUser, 7);
                let _ = self.a.reject(now, rj);
            }
            User::Deadline(ms) => {
                self.a
                    .set_deadline(Some(now + Duration::from_millis(u64::from(ms))));
            }
        }
    }

    fn sent_echo(&mut self, id: u16) {
        assert_eq!(self.role, Role::Requestor, "an acceptor sent a C-ECHO-RQ");
        assert!(self.outstanding.is_none(), "two C-ECHO-RQs outstanding");
        assert_eq!(id, self.next_id, "MessageIDs do not count up from 1");
        self.next_id = self.next_id.wrapping_add(1);
        self.outstanding = Some(id);
    }

    /// `poll_transmit` with a small buffer: either a whole PDU or an untouched buffer.
    fn small_transmit(&mut self, size: usize) {
        let mut buf = vec![0xa5u8; size];
        match self.a.poll_transmit(self.now, &mut buf) {
            Ok(Some(n)) => {
                let pdu = buf[..n].to_vec();
                self.check_pdu(&pdu);
            }
            Ok(None) => {}
            Err(echoprobe_core::assoc::Error::BufferTooSmall { required }) => {
                assert!(
                    required > size,
                    "BufferTooSmall {required} for a {size}-byte buffer"
                );
                assert!(
                    buf.iter().all(|&b| b == 0xa5),
                    "a failed poll_transmit wrote into the buffer"
                );
            }
            Err(e) => panic!("poll_transmit: {e:?}"),
        }
        self.drain();
    }

    /// Take every PDU and event; react like a driver would in auto mode.
    fn drain(&mut self) {
        for _ in 0..MAX_DRAIN {
            let mut progress = false;
            let mut tx = core::mem::take(&mut self.tx);
            match self.a.poll_transmit(self.now, &mut tx) {
                Ok(Some(n)) => {
                    assert!(n <= tx.len());
                    self.check_pdu(&tx[..n]);
                    progress = true;
                }
                Ok(None) => {}
                Err(e) => panic!("poll_transmit into {} bytes: {e:?}", tx.len()),
            }
            self.tx = tx;
            if let Some(ev) = self.a.poll_event() {
                self.check_event(ev);
                progress = true;
            }
            if !progress {
                if self.a.should_close() {
                    self.closed = true;
                }
                assert!(
                    !self.ended || self.a.is_closed(),
                    "a terminal event was reported but the machine is in {:?}",
                    self.a.state()
                );
                return;
            }
        }
        panic!("the machine keeps producing output after {MAX_DRAIN} polls");
    }

    fn check_pdu(&mut self, pdu: &[u8]) {
        if tracing() {
            eprintln!("    sent {:02x?}", &pdu[..pdu.len().min(16)]);
        }
        assert!(
            !self.closed,
            "PDU after should_close(): {:02x?}",
            &pdu[..pdu.len().min(32)]
        );
        // After an A-ABORT only more A-ABORTs: PS3.8 AA-7 answers every invalid PDU or
        // A-ASSOCIATE-RQ in Sta13 with one, and stays in Sta13.
        assert!(
            !self.abort_sent || pdu.first() == Some(&0x07),
            "PDU other than A-ABORT after our A-ABORT: {:02x?}",
            &pdu[..pdu.len().min(32)]
        );
        assert_eq!(
            wire::frame(pdu, u32::MAX),
            Ok(Status::Complete(pdu.len())),
            "output does not frame to its length"
        );
        let p = wire::Pdu::parse(pdu)
            .unwrap_or_else(|e| panic!("output PDU does not parse: {e:?}\n{pdu:02x?}"));
        self.summary.sent.push(p.pdu_type());
        match (self.role, p.pdu_type()) {
            (Role::Requestor, PduType::AssociateAc | PduType::AssociateRj) => {
                panic!("requestor sent {p}")
            }
            (Role::Acceptor, PduType::AssociateRq) => panic!("acceptor sent {p}"),
            (_, PduType::AssociateRq) => self.rq_sent += 1,
            (_, PduType::AssociateAc | PduType::AssociateRj) => self.answer_sent += 1,
            (_, PduType::Abort) => self.abort_sent = true,
            (_, PduType::PData) => {
                let max = self.a.negotiated().map_or(0, |n| n.peer_max_pdu);
                if max >= 8 {
                    assert!(
                        pdu.len() - HEADER_LEN <= max as usize,
                        "P-DATA-TF of {} bytes, peer maximum {max}",
                        pdu.len() - HEADER_LEN
                    );
                }
            }
            _ => {}
        }
        assert!(self.rq_sent <= 1, "second A-ASSOCIATE-RQ");
        assert!(self.answer_sent <= 1, "second A-ASSOCIATE-AC/RJ");
    }

    fn check_event(&mut self, ev: Event) {
        if tracing() {
            eprintln!("    event {ev:?} (state {:?})", self.a.state());
        }
        assert!(!self.closed, "event after should_close(): {ev:?}");
        self.summary.events.push(ev);
        if matches!(
            ev,
            Event::Rejected(_)
                | Event::Aborted(_)
                | Event::Violation { .. }
                | Event::Timeout(_)
                | Event::Closed
        ) {
            self.ended = true;
        }
        match (self.role, ev) {
            (Role::Requestor, Event::AssociationRequested { .. } | Event::EchoRequest { .. }) => {
                panic!("requestor got {ev:?}")
            }
            (
                Role::Acceptor,
                Event::EchoResponse { .. } | Event::Rejected(_) | Event::NoPresentationContext,
            ) => panic!("acceptor got {ev:?}"),
            (_, Event::Violation { kind, .. }) => {
                let _ = kind.to_string();
            }
            (Role::Requestor, Event::Accepted(n)) => {
                assert!(n.accepted_contexts >= 1 && n.pc_id % 2 == 1, "{n:?}");
                assert!(usize::from(n.accepted_contexts) <= MAX_CONTEXTS);
                if self.auto {
                    self.user(User::SendEcho);
                }
            }
            (
                Role::Requestor,
                Event::EchoResponse {
                    message_id, status, ..
                },
            ) => {
                assert_eq!(
                    self.outstanding.take(),
                    Some(message_id),
                    "EchoResponse for a request not outstanding"
                );
                self.responses += 1;
                self.statuses.push(status);
                if self.auto {
                    if self.responses < 2 {
                        self.user(User::SendEcho);
                    } else {
                        self.user(User::Release);
                    }
                }
            }
            (Role::Acceptor, Event::AssociationRequested { .. }) => {
                assert!(!self.requested, "second AssociationRequested");
                self.requested = true;
                if self.auto {
                    self.user(User::Accept);
                }
            }
            _ => {}
        }
        self.check_verdict(&ev);
    }

    /// Checker mode: feed the event to the health check and hold its verdict to what the
    /// machine reported. Above all: "healthy" only after every echo answered with 0x0000.
    fn check_verdict(&mut self, ev: &Event) {
        let Some(mut checker) = self.checker.take() else {
            return;
        };
        let sent_before = checker.stats().sent;
        checker.on_event(&mut self.a, self.now, ev);
        if checker.stats().sent > sent_before {
            let id = self.next_id;
            self.sent_echo(id);
        }
        let ok = self.statuses.iter().filter(|&&s| s == 0).count();
        match checker.outcome() {
            o if o.is_healthy() => assert!(
                ok == CHECK_REPEAT as usize && ok == self.statuses.len(),
                "verdict {o:?} after responses {:04x?}",
                self.statuses
            ),
            Outcome::FailureStatus { status, .. } => assert!(
                status != 0 && self.statuses.contains(&status),
                "verdict 0x{status:04x} after responses {:04x?}",
                self.statuses
            ),
            Outcome::Rejected(_) => assert!(
                self.summary
                    .events
                    .iter()
                    .any(|e| matches!(e, Event::Rejected(_))),
                "rejected without an A-ASSOCIATE-RJ"
            ),
            _ => {}
        }
        assert_eq!(checker.stats().ok as usize, ok, "checker miscounted");
        self.checker = Some(checker);
    }

    /// A machine waiting for its peer must have a timer, and an expired timer must fire.
    fn check_timers(&self) {
        if self.a.is_closed() {
            return;
        }
        let waits_for_peer = match self.a.state() {
            State::AwaitingRequest
            | State::AwaitingResponse
            | State::AwaitingReleaseResponse
            | State::ReleaseCollision
            | State::AwaitingClose => true,
            State::Established => self.role == Role::Acceptor || self.outstanding.is_some(),
            State::Idle | State::AwaitingLocalResponse | State::Closed => false,
        };
        if waits_for_peer {
            assert!(
                self.a.poll_timeout().is_some(),
                "no timeout while waiting for the peer in {:?}",
                self.a.state()
            );
        }
    }
}
