//! A [`Connection`] over a fake `embedded-nal` stack whose peer is a real acceptor machine in
//! memory, and whose every call may say "would block". A fake clock moves only when the
//! connection idles: no sockets, no OS time.

use core::cell::Cell;
use core::net::{Ipv4Addr, SocketAddr};
use std::collections::VecDeque;

use embedded_nal::{nb, TcpClientStack, TcpError, TcpErrorKind};

use super::{Clock, Connection, Error};
use crate::assoc::{AcceptPolicy, Association, Config};
use crate::check::{CheckOptions, Outcome, Release};
use crate::io::{answer_request, blocking, Error as IoError, Report};
use crate::time::{Duration, Instant};
use crate::wire::AeTitle;

fn ae(s: &str) -> AeTitle {
    AeTitle::new(s).unwrap()
}

const REMOTE: SocketAddr = SocketAddr::new(core::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 104);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How far the clock moves per idle (never past the deadline it is given).
const TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq)]
struct FakeError(TcpErrorKind);

impl TcpError for FakeError {
    fn kind(&self) -> TcpErrorKind {
        self.0
    }
}

/// What a `connect` comes to after its would-blocks.
#[derive(Debug, Clone, Copy)]
enum Connect {
    /// Connected after this many would-blocks.
    After(u32),
    /// Would block forever.
    Never,
    /// Refused at once.
    Refused,
}

/// The fake clock: it moves by [`TICK`] on each idle, up to the deadline.
struct Ticks<'c> {
    now: &'c Cell<Instant>,
    idles: &'c Cell<u32>,
}

impl Clock for Ticks<'_> {
    fn now(&self) -> Instant {
        self.now.get()
    }
    fn idle(&mut self, deadline: Option<Instant>) {
        let next = self.now.get() + TICK;
        self.now.set(deadline.map_or(next, |at| next.min(at)));
        self.idles.set(self.idles.get() + 1);
    }
}

/// The stack: one socket to an acceptor machine, with a script of would-blocks.
struct FakeStack<'c> {
    now: &'c Cell<Instant>,
    peer: Association<'static>,
    policy: AcceptPolicy<'static>,
    connect: Connect,
    /// The peer never sends a byte.
    mute: bool,
    /// Most bytes one `send` / `receive` takes; every other call would block.
    chunk: usize,
    /// `send` would block forever.
    send_stuck: bool,
    /// `receive` fails with a closed pipe.
    receive_closed: bool,
    inbox: VecDeque<u8>,
    calls: u32,
    sockets: u32,
    closed: u32,
}

impl<'c> FakeStack<'c> {
    fn new(now: &'c Cell<Instant>) -> Self {
        let rx = std::boxed::Box::leak(std::vec![0u8; 16390].into_boxed_slice());
        FakeStack {
            now,
            peer: Association::new(Config::acceptor(ae("SCP")), rx, now.get()),
            policy: AcceptPolicy::open(ae("SCP")),
            connect: Connect::After(0),
            mute: false,
            chunk: usize::MAX,
            send_stuck: false,
            receive_closed: false,
            inbox: VecDeque::new(),
            calls: 0,
            sockets: 0,
            closed: 0,
        }
    }

    /// Every other call would block when `chunk` is set.
    fn blocks_now(&mut self) -> bool {
        self.calls += 1;
        self.chunk != usize::MAX && self.calls.is_multiple_of(2)
    }

    /// Lets the peer act: events to its policy, its PDUs into our inbox.
    fn run_peer(&mut self) {
        let now = self.now.get();
        for _ in 0..100 {
            let mut busy = false;
            while let Some(ev) = self.peer.poll_event() {
                busy = true;
                let _ = answer_request(&self.policy, &mut self.peer, now, &ev);
            }
            let mut buf = [0u8; 4096];
            while let Some(n) = self.peer.poll_transmit(now, &mut buf).unwrap() {
                busy = true;
                if !self.mute {
                    self.inbox.extend(&buf[..n]);
                }
            }
            if !busy {
                return;
            }
        }
        panic!("the peer never settles");
    }
}

impl TcpClientStack for FakeStack<'_> {
    type TcpSocket = ();
    type Error = FakeError;

    fn socket(&mut self) -> Result<(), FakeError> {
        self.sockets += 1;
        Ok(())
    }

    fn connect(&mut self, _: &mut (), remote: SocketAddr) -> nb::Result<(), FakeError> {
        assert_eq!(remote, REMOTE);
        match &mut self.connect {
            Connect::After(0) => {
                self.peer.connected(self.now.get());
                Ok(())
            }
            Connect::After(n) => {
                *n -= 1;
                Err(nb::Error::WouldBlock)
            }
            Connect::Never => Err(nb::Error::WouldBlock),
            Connect::Refused => Err(nb::Error::Other(FakeError(TcpErrorKind::Other))),
        }
    }

    fn send(&mut self, _: &mut (), buf: &[u8]) -> nb::Result<usize, FakeError> {
        if self.send_stuck || self.blocks_now() {
            return Err(nb::Error::WouldBlock);
        }
        let n = buf.len().min(self.chunk);
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            self.run_peer();
            let took = self.peer.handle_bytes(self.now.get(), rest);
            assert!(took > 0 || self.peer.should_close(), "peer stuck");
            if took == 0 {
                break;
            }
            rest = &rest[took..];
        }
        self.run_peer();
        Ok(n)
    }

    fn receive(&mut self, _: &mut (), buf: &mut [u8]) -> nb::Result<usize, FakeError> {
        if self.receive_closed {
            return Err(nb::Error::Other(FakeError(TcpErrorKind::PipeClosed)));
        }
        self.run_peer();
        if self.inbox.is_empty() && self.peer.should_close() {
            return Ok(0);
        }
        if self.inbox.is_empty() || self.blocks_now() {
            return Err(nb::Error::WouldBlock);
        }
        let n = buf.len().min(self.chunk).min(self.inbox.len());
        for (dst, src) in buf.iter_mut().zip(self.inbox.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }

    fn close(&mut self, _: ()) -> Result<(), FakeError> {
        self.closed += 1;
        Ok(())
    }
}

fn start() -> Cell<Instant> {
    Cell::new(Instant::from_millis(1000))
}

fn requestor() -> Config<'static> {
    Config::requestor(ae("SCU"), ae("SCP"))
}

/// What a check over a scripted stack came to.
struct Ran {
    result: Result<Report, IoError<Error<FakeError>>>,
    /// Time on the fake clock, from opening the connection to the end.
    took: Duration,
    idles: u32,
    /// Sockets opened, sockets closed.
    sockets: (u32, u32),
}

/// Opens a connection on a stack set up by `script`, runs a check with `options` (write timeout
/// 2 s) and closes the connection.
fn run(options: CheckOptions, script: impl FnOnce(&mut FakeStack<'_>)) -> Ran {
    let (now, idles) = (start(), Cell::new(0));
    let t0 = now.get();
    let mut stack = FakeStack::new(&now);
    script(&mut stack);
    let clock = Ticks {
        now: &now,
        idles: &idles,
    };
    let result = Connection::open(&mut stack, clock, REMOTE, CONNECT_TIMEOUT)
        .map_err(IoError::Transport)
        .and_then(|mut conn| {
            conn.set_write_timeout(Duration::from_secs(2));
            let (mut rx, mut tx) = ([0u8; 16390], [0u8; 4096]);
            let report = blocking::check(&mut conn, requestor(), options, &mut rx, &mut tx, |_| {});
            conn.close().map_err(IoError::Transport)?;
            report
        });
    Ran {
        result,
        took: now.get() - t0,
        idles: idles.get(),
        sockets: (stack.sockets, stack.closed),
    }
}

fn once() -> CheckOptions {
    CheckOptions::default()
}

#[test]
fn would_blocks_everywhere_still_make_a_healthy_check() {
    let options = CheckOptions {
        repeat: 2,
        ..once()
    };
    let ran = run(options, |s| {
        s.connect = Connect::After(3);
        s.chunk = 7;
    });
    let report = ran.result.unwrap();
    assert_eq!(report.outcome, Outcome::Healthy(Release::Released));
    assert_eq!(report.stats.ok, 2);
    assert!(ran.idles >= 3, "idled on every would-block");
    assert_eq!(ran.sockets, (1, 1));
}

#[test]
fn a_connect_that_never_completes_times_out_on_the_callers_clock() {
    let ran = run(once(), |s| s.connect = Connect::Never);
    assert_eq!(ran.result, Err(IoError::Transport(Error::ConnectTimeout)));
    assert_eq!(ran.took, CONNECT_TIMEOUT, "gave up exactly at the timeout");
    assert_eq!(ran.idles, 300, "one idle per tick");
    assert_eq!(ran.sockets, (1, 1), "the socket is closed");
}

#[test]
fn a_refused_connect_is_the_stacks_error_and_closes_the_socket() {
    let ran = run(once(), |s| s.connect = Connect::Refused);
    let refused = Error::Stack(FakeError(TcpErrorKind::Other));
    assert_eq!(ran.result, Err(IoError::Transport(refused)));
    assert_eq!(ran.idles, 0);
    assert_eq!(ran.sockets, (1, 1));
}

#[test]
fn a_silent_peer_meets_the_acse_timeout() {
    let ran = run(once(), |s| s.mute = true);
    assert_eq!(ran.result.unwrap().outcome, Outcome::AcseTimeout);
    assert_eq!(
        ran.took,
        requestor().acse_timeout,
        "the machine's own timer, to the tick"
    );
    assert_eq!(ran.sockets, (1, 1));
}

#[test]
fn the_overall_deadline_bounds_the_reads() {
    let options = CheckOptions {
        deadline: Some(start().get() + Duration::from_millis(1500)),
        ..once()
    };
    let ran = run(options, |s| s.mute = true);
    assert_eq!(ran.result.unwrap().outcome, Outcome::DeadlineExceeded);
    assert_eq!(ran.took, Duration::from_millis(1500));
}

#[test]
fn a_stuck_send_gives_up_at_the_write_timeout() {
    let ran = run(once(), |s| s.send_stuck = true);
    assert_eq!(ran.result, Err(IoError::Transport(Error::WriteTimeout)));
    assert_eq!(ran.took, Duration::from_secs(2));
    assert_eq!(
        ran.sockets,
        (1, 1),
        "dropping the connection closed the socket"
    );
}

#[test]
fn a_closed_pipe_is_the_peer_closing() {
    let ran = run(once(), |s| s.receive_closed = true);
    assert_eq!(ran.result.unwrap().outcome, Outcome::ClosedByPeer);
}

#[test]
fn a_closed_connection_refuses_io() {
    use embedded_io::{Read, Write};
    let (now, idles) = (start(), Cell::new(0));
    let mut stack = FakeStack::new(&now);
    let clock = Ticks {
        now: &now,
        idles: &idles,
    };
    let mut conn = Connection::open(&mut stack, clock, REMOTE, CONNECT_TIMEOUT).unwrap();
    conn.close().unwrap();
    assert_eq!(conn.close(), Err(Error::Closed));
    assert_eq!(conn.read(&mut [0; 4]), Err(Error::Closed));
    assert_eq!(conn.write(&[1]), Err(Error::Closed));
    drop(conn);
    assert_eq!(stack.closed, 1, "closed once");
}

#[test]
fn a_bare_closure_is_a_clock() {
    let now = start();
    let mut stack = FakeStack::new(&now);
    stack.connect = Connect::After(2);
    let clock = || now.get();
    assert_eq!(clock.now(), now.get());
    let conn = Connection::open(&mut stack, clock, REMOTE, CONNECT_TIMEOUT);
    assert!(conn.is_ok(), "spins through the would-blocks");
}
