//! The core's `embedded-nal` adapter (`io::nal`, feature `nal`) over `std-embedded-nal`'s stack, the
//! way a microcontroller with a W5500-like TCP offload would run it: against DCMTK storescp and
//! dcmqrscp, `echoprobe scp`, a silent listener and a closed port.
//!
//! `std-embedded-nal` 0.4's sockets are non-blocking once connected, so every read returns at once
//! (would block or data) and the connection idles on the test's clock between tries: the machine's
//! own timers bound it, as on a real nb stack. Its `connect` is a blocking `TcpStream::connect`:
//! fine on loopback, unbounded against a black hole (README "Design notes", Sockets).

use core::net::{Ipv4Addr, SocketAddr};
use std::thread;
use std::time::Instant as StdInstant;

use core::time::Duration as StdDuration;
use echoprobe_core::assoc::{Config, Event};
use echoprobe_core::check::{Outcome, Release};
use echoprobe_core::io::nal::{Clock, Connection, Error as NalError};
use echoprobe_core::io::{blocking, Error as IoError, Report};
use echoprobe_core::time::{Duration, Instant};
use echoprobe_core::wire::{AeTitle, AssociateRj};
use echoprobe_core::CheckOptions;
use echoprobe_tests::fixtures::{assert_scp_counted, assert_storescp_saw_calling_ae, strict_scp};
use echoprobe_tests::peers::{dcmqrscp, storescp, SilentPeer};
use echoprobe_tests::{free_port, setup, CALLING_AE};
use embedded_nal::TcpClientStack;
use std_embedded_nal::Stack;

/// std-embedded-nal's error (a private type wrapping `std::io::Error`).
type StackError = <Stack as TcpClientStack>::Error;

/// How long a check against a live local peer may take.
const QUICK: StdDuration = StdDuration::from_secs(5);
/// Every check's connect timeout (loopback connects at once or is refused).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's monotonic clock in the core's time type; idles by sleeping 1 ms (never past the
/// deadline).
struct StdClock(StdInstant);

impl Clock for StdClock {
    fn now(&self) -> Instant {
        Instant::from_micros(self.0.elapsed().as_micros() as u64)
    }
    fn idle(&mut self, deadline: Option<Instant>) {
        let left = deadline.map_or(Duration::MAX, |at| at.saturating_since(self.now()));
        let nap = left.min(Duration::from_millis(1));
        thread::sleep(StdDuration::from_micros(nap.as_micros()));
    }
}

fn ae(s: &str) -> AeTitle {
    AeTitle::new(s).unwrap()
}

/// One check as [`CALLING_AE`] calling `called` on 127.0.0.1:`port` over std-embedded-nal, with
/// `acse_timeout`; the result and how long it took (connect to close).
fn check(
    called: &str,
    port: u16,
    acse_timeout: Duration,
) -> (
    Result<Report, IoError<NalError<StackError>>>,
    StdDuration,
    Vec<String>,
) {
    let started = StdInstant::now();
    let mut stack = Stack;
    let mut events = Vec::new();
    let remote = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let clock = StdClock(started);
    let result = Connection::open(&mut stack, clock, remote, CONNECT_TIMEOUT)
        .map_err(IoError::Transport)
        .and_then(|mut conn| {
            let mut config = Config::requestor(ae(CALLING_AE), ae(called));
            config.acse_timeout = acse_timeout;
            let (mut rx, mut tx) = (vec![0u8; 16390], vec![0u8; 16390]);
            let options = CheckOptions {
                repeat: 2,
                ..CheckOptions::default()
            };
            let observe = |e: &Event| events.push(format!("{e:?}"));
            let report = blocking::check(&mut conn, config, options, &mut rx, &mut tx, observe);
            conn.close().map_err(IoError::Transport)?;
            report
        });
    (result, started.elapsed(), events)
}

fn assert_healthy(called: &str, port: u16) {
    let (result, took, events) = check(called, port, Duration::from_secs(5));
    let report = result.unwrap_or_else(|e| panic!("check of {called} failed: {e}\n{events:#?}"));
    assert_eq!(
        report.outcome,
        Outcome::Healthy(Release::Released),
        "{events:#?}"
    );
    assert_eq!((report.stats.sent, report.stats.ok), (2, 2));
    assert!(report.negotiated.is_some());
    assert!(took < QUICK, "took {took:?}");
}

#[test]
fn healthy_echo_with_dcmtk_storescp() {
    let scp = storescp("STORESCP");
    assert_healthy("STORESCP", scp.port);
    assert_storescp_saw_calling_ae(&scp, QUICK);
}

#[test]
fn healthy_echo_with_echoprobe_scp() {
    let scp = strict_scp();
    assert_healthy("PROBESCP", scp.port);
    assert_scp_counted(&scp, CALLING_AE, 2, QUICK);
}

/// A wrong called AE title: the exact A-ASSOCIATE-RJ, 1/1/7, fast.
fn assert_rejects_wrong_called_ae(port: u16) {
    let (result, took, events) = check("WRONG", port, Duration::from_secs(5));
    let report = result.unwrap_or_else(|e| panic!("check failed: {e}\n{events:#?}"));
    assert_eq!(
        report.outcome,
        Outcome::Rejected(AssociateRj::CALLED_AE_NOT_RECOGNIZED),
        "{events:#?}"
    );
    assert_eq!(report.stats.sent, 0);
    assert!(took < QUICK, "took {took:?}");
}

#[test]
fn echoprobe_scp_rejects_a_wrong_called_ae() {
    let scp = strict_scp();
    assert_rejects_wrong_called_ae(scp.port);
    scp.peer.wait_log("(1/1/7)", QUICK);
}

#[test]
fn dcmtk_dcmqrscp_rejects_a_wrong_called_ae() {
    let scp = dcmqrscp("QRSCP");
    assert_rejects_wrong_called_ae(scp.port);
}

#[test]
fn silent_peer_meets_the_acse_timeout() {
    let silent = SilentPeer::start();
    let (result, took, events) = check("SILENT", silent.port, Duration::from_secs(1));
    let report = result.unwrap_or_else(|e| panic!("check failed: {e}\n{events:#?}"));
    assert_eq!(report.outcome, Outcome::AcseTimeout, "{events:#?}");
    assert!(
        took >= StdDuration::from_millis(1000) && took < StdDuration::from_millis(2500),
        "the 1 s ACSE timeout fired after {took:?}"
    );
    assert_eq!(silent.accepted(), 1, "expected exactly one connection");
}

#[test]
fn a_closed_port_is_the_stacks_error_at_once() {
    setup();
    let (result, took, _) = check("NOBODY", free_port(), Duration::from_secs(5));
    match result {
        Err(IoError::Transport(NalError::Stack(e))) => {
            assert_eq!(e.0.kind(), std::io::ErrorKind::ConnectionRefused, "{e:?}")
        }
        other => panic!("expected a refused connect, got {other:?}"),
    }
    assert!(took < StdDuration::from_secs(2), "took {took:?}");
}
