//! The pump and both drivers against a scripted fake transport: the peer is a real machine in
//! memory, and a script says what each read and write comes to (partial PDUs, EOF, timeouts,
//! resets, other errors). A fake clock jumps to each deadline: no sockets, no OS time.

use core::cell::Cell;
use std::collections::VecDeque;
use std::vec::Vec;

use embedded_io::ErrorKind;

use super::pump::{Input, Pump, Step, READ_CHUNK};
use super::{answer_request, blocking, Error};
use crate::assoc::{self, AcceptPolicy, Association, Config, Event, Timeout, Timer};
use crate::check::{CheckOptions, Checker, Outcome, Release};
use crate::time::{Duration, Instant};
use crate::wire::{AeTitle, AssociateRj, RejectResult, RejectSource};

fn ae(s: &str) -> AeTitle {
    AeTitle::new(s).unwrap()
}

/// What one read or write comes to.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// Read: at most this many of the peer's bytes (a partial PDU when small). Write: succeed.
    Ok(usize),
    /// Read: 0 bytes, the peer closed.
    Eof,
    /// The deadline passes (the clock jumps to it).
    TimedOut,
    /// An error of this kind.
    Fail(ErrorKind),
    /// Read: never completes (only the async driver's timer ends it).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    Hang,
}

/// What the peer machine does with its events.
enum Peer {
    Acceptor(AcceptPolicy<'static>),
    Requestor(Checker),
}

/// The transport: the peer machine on the other end, and the script.
struct Fake<'c> {
    now: &'c Cell<Instant>,
    peer: Association<'static>,
    role: Peer,
    /// Peer to us, not yet read.
    inbox: VecDeque<u8>,
    reads: VecDeque<Act>,
    writes: VecDeque<Act>,
    /// Every write we made, in order.
    sent: Vec<Vec<u8>>,
    deadline: Option<Instant>,
}

impl<'c> Fake<'c> {
    fn new(now: &'c Cell<Instant>, peer_config: Config<'static>, role: Peer) -> Self {
        let rx = std::boxed::Box::leak(std::vec![0u8; 16390].into_boxed_slice());
        let mut peer = Association::new(peer_config, rx, now.get());
        peer.connected(now.get());
        Fake {
            now,
            peer,
            role,
            inbox: VecDeque::new(),
            reads: VecDeque::new(),
            writes: VecDeque::new(),
            sent: Vec::new(),
            deadline: None,
        }
    }

    /// A peer acceptor that lets everyone in.
    fn acceptor(now: &'c Cell<Instant>) -> Self {
        let policy = AcceptPolicy::open(ae("SCP"));
        Self::new(now, Config::acceptor(ae("SCP")), Peer::Acceptor(policy))
    }

    fn script(mut self, reads: &[Act], writes: &[Act]) -> Self {
        self.reads = reads.iter().copied().collect();
        self.writes = writes.iter().copied().collect();
        self
    }

    /// Lets the peer act: events to its handler, its PDUs into our inbox.
    fn run_peer(&mut self) {
        let now = self.now.get();
        loop {
            let mut busy = false;
            while let Some(ev) = self.peer.poll_event() {
                busy = true;
                match &mut self.role {
                    Peer::Acceptor(policy) => {
                        let _ = answer_request(policy, &mut self.peer, now, &ev);
                    }
                    Peer::Requestor(checker) => checker.on_event(&mut self.peer, now, &ev),
                }
            }
            let mut buf = [0u8; 4096];
            while let Some(n) = self.peer.poll_transmit(now, &mut buf).unwrap() {
                busy = true;
                self.inbox.extend(&buf[..n]);
            }
            if !busy {
                return;
            }
        }
    }

    fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.run_peer();
        match self.reads.pop_front().unwrap_or(Act::Ok(usize::MAX)) {
            Act::Ok(_) if self.inbox.is_empty() && self.peer.should_close() => Ok(0),
            Act::Ok(_) if self.inbox.is_empty() => self.time_out(),
            Act::Ok(max) => {
                let n = max.min(buf.len()).min(self.inbox.len());
                for (dst, src) in buf.iter_mut().zip(self.inbox.drain(..n)) {
                    *dst = src;
                }
                Ok(n)
            }
            Act::Eof => Ok(0),
            Act::TimedOut => self.time_out(),
            Act::Fail(kind) => Err(kind),
            Act::Hang => unreachable!("the blocking driver cannot hang"),
        }
    }

    fn time_out(&mut self) -> Result<usize, ErrorKind> {
        let at = self
            .deadline
            .expect("a read without deadline would block forever");
        self.now.set(self.now.get().max(at));
        Err(ErrorKind::TimedOut)
    }

    fn write_bytes(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        match self.writes.pop_front().unwrap_or(Act::Ok(0)) {
            Act::Fail(kind) => return Err(kind),
            Act::Ok(_) => {}
            other => unreachable!("write script: {other:?}"),
        }
        self.sent.push(buf.to_vec());
        let mut rest = buf;
        for _ in 0..10_000 {
            if rest.is_empty() {
                break;
            }
            self.run_peer();
            let n = self.peer.handle_bytes(self.now.get(), rest);
            rest = &rest[n..];
        }
        self.run_peer();
        Ok(buf.len())
    }
}

impl embedded_io::ErrorType for Fake<'_> {
    type Error = ErrorKind;
}

impl embedded_io::Read for Fake<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.read_bytes(buf)
    }
}

impl embedded_io::Write for Fake<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.write_bytes(buf)
    }
    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl blocking::Transport for Fake<'_> {
    fn now(&self) -> Instant {
        self.now.get()
    }
    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), ErrorKind> {
        self.deadline = deadline;
        Ok(())
    }
}

fn requestor() -> Config<'static> {
    Config::requestor(ae("SCU"), ae("SCP"))
}

fn start() -> Cell<Instant> {
    Cell::new(Instant::from_millis(1000))
}

/// A blocking check over `t`.
fn check(t: &mut Fake<'_>, repeat: u32) -> Result<super::Report, Error<ErrorKind>> {
    let (mut rx, mut tx) = ([0u8; 16390], [0u8; 4096]);
    let options = CheckOptions {
        repeat,
        ..CheckOptions::default()
    };
    blocking::check(t, requestor(), options, &mut rx, &mut tx, |_| {})
}

#[test]
fn whole_pdus_make_a_healthy_check() {
    let now = start();
    let mut t = Fake::acceptor(&now);
    let report = check(&mut t, 3).unwrap();
    assert_eq!(report.outcome, Outcome::Healthy(Release::Released));
    assert_eq!(report.stats.ok, 3);
    assert!(report.negotiated.is_some());
    // RQ, three C-ECHO-RQ (command fragment each), A-RELEASE-RQ.
    assert_eq!(t.sent.len(), 5);
    assert_eq!(t.sent.first().map(|p| p[0]), Some(0x01));
    assert_eq!(t.sent.last().map(|p| p[0]), Some(0x05));
}

#[test]
fn partial_pdus_are_put_together() {
    for chunk in [1, 2, 5, 7, 100] {
        let now = start();
        let reads = [Act::Ok(chunk); 400];
        let mut t = Fake::acceptor(&now).script(&reads, &[]);
        let report = check(&mut t, 2).unwrap();
        assert_eq!(
            report.outcome,
            Outcome::Healthy(Release::Released),
            "{chunk} bytes per read"
        );
        assert_eq!(report.stats.ok, 2);
    }
}

#[test]
fn eof_before_the_answer_is_the_peer_closing() {
    let now = start();
    let mut t = Fake::acceptor(&now).script(&[Act::Ok(10), Act::Eof], &[]);
    let report = check(&mut t, 1).unwrap();
    assert_eq!(report.outcome, Outcome::ClosedByPeer);
    assert_eq!(t.sent.len(), 1, "nothing after the RQ");
}

#[test]
fn eof_after_the_release_request_is_still_healthy() {
    let now = start();
    let mut t = Fake::acceptor(&now);
    // Everything the peer says until the echo response is done, then it closes instead of A-RELEASE-RP.
    let mut reads = std::vec![Act::Ok(usize::MAX); 2];
    reads.push(Act::Eof);
    t = t.script(&reads, &[]);
    let report = check(&mut t, 1).unwrap();
    assert_eq!(report.outcome, Outcome::Healthy(Release::ClosedByPeer));
}

#[test]
fn a_read_timeout_fires_the_machines_timer() {
    let now = start();
    let mut t = Fake::acceptor(&now).script(&[Act::TimedOut], &[]);
    let report = check(&mut t, 1).unwrap();
    assert_eq!(report.outcome, Outcome::AcseTimeout);
    // The clock jumped to the ACSE deadline (default 30 s after the RQ went out).
    assert!(now.get() >= Instant::from_millis(1000) + Duration::from_secs(30));
    // RQ, then the A-ABORT the timeout queued.
    assert_eq!(
        t.sent.iter().map(|p| p[0]).collect::<Vec<_>>(),
        [0x01, 0x07]
    );
}

#[test]
fn a_silent_peer_runs_into_the_dimse_timeout() {
    let now = start();
    // The AC arrives, then the C-ECHO-RSP never does.
    let mut t = Fake::acceptor(&now).script(&[Act::Ok(usize::MAX), Act::TimedOut], &[]);
    let report = check(&mut t, 1).unwrap();
    assert_eq!(report.outcome, Outcome::DimseTimeout);
}

#[test]
fn a_reset_on_read_is_the_peer_closing() {
    for kind in [
        ErrorKind::ConnectionReset,
        ErrorKind::ConnectionAborted,
        ErrorKind::NotConnected,
        ErrorKind::BrokenPipe,
    ] {
        let now = start();
        let mut t = Fake::acceptor(&now).script(&[Act::Fail(kind)], &[]);
        let report = check(&mut t, 1).unwrap();
        assert_eq!(report.outcome, Outcome::ClosedByPeer, "{kind:?}");
    }
}

#[test]
fn a_disconnect_on_write_is_the_peer_closing() {
    let now = start();
    let mut t = Fake::acceptor(&now).script(&[], &[Act::Fail(ErrorKind::BrokenPipe)]);
    let report = check(&mut t, 1).unwrap();
    assert_eq!(report.outcome, Outcome::ClosedByPeer);
    assert!(t.sent.is_empty());
}

#[test]
fn other_transport_errors_are_returned() {
    let now = start();
    let mut t = Fake::acceptor(&now).script(&[Act::Fail(ErrorKind::Other)], &[]);
    assert_eq!(check(&mut t, 1), Err(Error::Transport(ErrorKind::Other)));
    let mut t = Fake::acceptor(&now).script(&[], &[Act::Fail(ErrorKind::TimedOut)]);
    assert_eq!(
        check(&mut t, 1),
        Err(Error::Transport(ErrorKind::TimedOut)),
        "a write timeout is not a read deadline"
    );
}

#[test]
fn a_too_small_transmit_buffer_is_an_error() {
    let now = start();
    let mut t = Fake::acceptor(&now);
    let (mut rx, mut tx) = ([0u8; 16390], [0u8; 16]);
    let r = blocking::check(
        &mut t,
        requestor(),
        CheckOptions::default(),
        &mut rx,
        &mut tx,
        |_| {},
    );
    assert!(matches!(
        r,
        Err(Error::Assoc(assoc::Error::BufferTooSmall { .. }))
    ));
}

#[test]
fn the_policy_answers_the_request() {
    let now = start();
    let policy = AcceptPolicy {
        ae: ae("SCP"),
        check_called: true,
        allowed_calling: &[],
    };
    let mut t = Fake::new(&now, Config::acceptor(ae("SCP")), Peer::Acceptor(policy));
    let (mut rx, mut tx) = ([0u8; 16390], [0u8; 4096]);
    let config = Config::requestor(ae("SCU"), ae("ELSEWHERE"));
    let report = blocking::check(
        &mut t,
        config,
        CheckOptions::default(),
        &mut rx,
        &mut tx,
        |_| {},
    )
    .unwrap();
    let called_not_recognized = AssociateRj {
        result: RejectResult::Permanent,
        source: RejectSource::ServiceUser,
        reason: 7,
    };
    assert_eq!(report.outcome, Outcome::Rejected(called_not_recognized));
}

#[test]
fn answer_request_ignores_other_events() {
    let now = start();
    let mut rx = [0u8; 1024];
    let mut assoc = Association::new(Config::acceptor(ae("SCP")), &mut rx, now.get());
    assoc.connected(now.get());
    let policy = AcceptPolicy::open(ae("SCP"));
    for ev in [
        Event::Closed,
        Event::Timeout(Timeout::Timer(Timer::Acse)),
        Event::ReleaseRequested,
    ] {
        assert_eq!(answer_request(&policy, &mut assoc, now.get(), &ev), None);
    }
    assert!(assoc
        .poll_transmit(now.get(), &mut [0u8; 512])
        .unwrap()
        .is_none());
}

#[test]
fn serve_answers_a_requestor() {
    let now = start();
    let mut t = Fake::new(&now, requestor(), Peer::Requestor(Checker::new(2, false)));
    let (mut rx, mut tx) = ([0u8; 16390], [0u8; 4096]);
    let mut seen = Vec::new();
    let policy = AcceptPolicy::open(ae("SCP"));
    let negotiated = blocking::serve(
        &mut t,
        Config::acceptor(ae("SCP")),
        &policy,
        &mut rx,
        &mut tx,
        |ev| seen.push(*ev),
    )
    .unwrap();
    assert!(negotiated.is_some());
    let Peer::Requestor(checker) = &t.role else {
        unreachable!()
    };
    assert_eq!(checker.outcome(), Outcome::Healthy(Release::Released));
    assert!(matches!(
        seen.first(),
        Some(Event::AssociationRequested { .. })
    ));
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e, Event::EchoRequest { .. }))
            .count(),
        2
    );
}

#[test]
fn the_pump_steps_by_hand() {
    let now = start();
    let (mut rx, mut tx) = ([0u8; 16390], [0u8; 4096]);
    let mut assoc = Association::new(requestor(), &mut rx, now.get());
    assoc.connected(now.get());
    let mut events = 0;
    let mut on_event = |_: &mut Association<'_>, _: Instant, _: &Event| events += 1;
    let mut pump = Pump::new(&mut assoc, &mut tx, &mut on_event);
    // First the RQ, then (written) a read with the ACSE deadline.
    let Ok(Step::Write(pdu)) = pump.poll(now.get()) else {
        panic!("expected the A-ASSOCIATE-RQ")
    };
    assert_eq!(pdu.first(), Some(&0x01));
    pump.handle(now.get(), Input::Written);
    let Ok(Step::Read { buf, deadline }) = pump.poll(now.get()) else {
        panic!("expected a read")
    };
    assert_eq!(buf.len(), READ_CHUNK);
    let at = deadline.unwrap();
    // A read longer than the buffer is clamped, not a panic; it is garbage to the machine,
    // which aborts (A-ABORT, then done).
    buf.fill(0xFF);
    pump.handle(now.get(), Input::Read(usize::MAX));
    let Ok(Step::Write(pdu)) = pump.poll(now.get()) else {
        panic!("expected an A-ABORT")
    };
    assert_eq!(pdu.first(), Some(&0x07));
    pump.handle(now.get(), Input::Written);
    assert!(matches!(pump.poll(now.get()), Ok(Step::Done)));
    assert!(pump.association().is_closed());
    assert!(at > now.get());
    assert!(events >= 1, "the violation was reported");
}

#[cfg(feature = "async")]
mod asynch {
    use core::future::Future;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    use super::*;
    use crate::io::asynch;

    impl embedded_io_async::Read for Fake<'_> {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
            if matches!(self.reads.front(), Some(Act::Hang)) {
                self.reads.pop_front();
                return core::future::pending().await;
            }
            self.read_bytes(buf)
        }
    }

    impl embedded_io_async::Write for Fake<'_> {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            self.write_bytes(buf)
        }
        async fn flush(&mut self) -> Result<(), ErrorKind> {
            Ok(())
        }
    }

    /// The fake clock: sleeping jumps to the instant.
    struct Clock<'c>(&'c Cell<Instant>);

    impl asynch::Clock for Clock<'_> {
        fn now(&self) -> Instant {
            self.0.get()
        }
        async fn sleep_until(&self, at: Instant) {
            self.0.set(self.0.get().max(at));
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut cx = Context::from_waker(Waker::noop());
        let mut f = pin!(f);
        for _ in 0..1000 {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
        panic!("future did not complete");
    }

    fn check(
        t: &mut Fake<'_>,
        now: &Cell<Instant>,
    ) -> Result<super::super::Report, Error<ErrorKind>> {
        let (mut rx, mut tx) = ([0u8; 16390], [0u8; 4096]);
        let clock = Clock(now);
        let options = CheckOptions::default();
        block_on(asynch::check(
            t,
            &clock,
            requestor(),
            options,
            &mut rx,
            &mut tx,
            |_| {},
        ))
    }

    #[test]
    fn async_check_with_partial_pdus() {
        let now = start();
        let mut t = Fake::acceptor(&now).script(&[Act::Ok(3); 200], &[]);
        let report = check(&mut t, &now).unwrap();
        assert_eq!(report.outcome, Outcome::Healthy(Release::Released));
    }

    #[test]
    fn async_timer_beats_a_hanging_read() {
        let now = start();
        let mut t = Fake::acceptor(&now).script(&[Act::Hang], &[]);
        let report = check(&mut t, &now).unwrap();
        assert_eq!(report.outcome, Outcome::AcseTimeout);
    }

    #[test]
    fn async_eof_reset_and_errors() {
        let now = start();
        let mut t = Fake::acceptor(&now).script(&[Act::Eof], &[]);
        assert_eq!(check(&mut t, &now).unwrap().outcome, Outcome::ClosedByPeer);
        let mut t = Fake::acceptor(&now).script(&[], &[Act::Fail(ErrorKind::ConnectionReset)]);
        assert_eq!(check(&mut t, &now).unwrap().outcome, Outcome::ClosedByPeer);
        let mut t = Fake::acceptor(&now).script(&[Act::Fail(ErrorKind::Other)], &[]);
        assert_eq!(check(&mut t, &now), Err(Error::Transport(ErrorKind::Other)));
    }

    #[test]
    fn async_serve_answers_a_requestor() {
        let now = start();
        let mut t = Fake::new(&now, requestor(), Peer::Requestor(Checker::new(1, false)));
        let (mut rx, mut tx) = ([0u8; 16390], [0u8; 4096]);
        let clock = Clock(&now);
        let policy = AcceptPolicy::open(ae("SCP"));
        let negotiated = block_on(asynch::serve(
            &mut t,
            &clock,
            Config::acceptor(ae("SCP")),
            &policy,
            &mut rx,
            &mut tx,
            |_| {},
        ))
        .unwrap();
        assert!(negotiated.is_some());
    }
}
