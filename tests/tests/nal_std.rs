//! The core's `embedded-nal` adapter (`io::nal`, feature `nal`) over `std-embedded-nal`'s stack, the
//! way a microcontroller with a W5500-like TCP offload would run it: echo against DCMTK storescp
//! and dcmqrscp, `echoprobe scp`, a silent listener and a closed port; find against dcmqrscp
//! holding the test study.
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
use echoprobe_core::dimse::dataset::{Key, Vr};
use echoprobe_core::find::{FindOptions, FindOutcome, Model};
use echoprobe_core::io::nal::{Clock, Connection, Error as NalError};
use echoprobe_core::io::{blocking, Error as IoError, Report};
use echoprobe_core::time::{Duration, Instant};
use echoprobe_core::wire::{AeTitle, AssociateRj};
use echoprobe_core::CheckOptions;
use echoprobe_tests::find_peers::dcmqrscp_with_study;
use echoprobe_tests::fixtures::{assert_scp_counted, storescp_checked_by, strict_scp};
use echoprobe_tests::peers::{dcmqrscp, SilentPeer};
use echoprobe_tests::study::{PATIENT_ID, STUDY_UID};
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

/// What a run over std-embedded-nal failed with.
type RunError = IoError<NalError<StackError>>;

/// Connects to 127.0.0.1:`port` over std-embedded-nal, runs `f` on the connection and closes it;
/// the result and how long it all took.
fn over_nal<T>(
    port: u16,
    f: impl FnOnce(&mut Connection<'_, Stack, StdClock>) -> Result<T, RunError>,
) -> (Result<T, RunError>, StdDuration) {
    let started = StdInstant::now();
    let mut stack = Stack;
    let remote = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let result = Connection::open(&mut stack, StdClock(started), remote, CONNECT_TIMEOUT)
        .map_err(IoError::Transport)
        .and_then(|mut conn| {
            let done = f(&mut conn);
            conn.close().map_err(IoError::Transport)?;
            done
        });
    (result, started.elapsed())
}

/// One check of 2 echoes as [`CALLING_AE`] calling `called` on 127.0.0.1:`port`, with
/// `acse_timeout`; the result, how long it took (connect to close) and the events.
fn check(
    called: &str,
    port: u16,
    acse_timeout: Duration,
) -> (Result<Report, RunError>, StdDuration, Vec<String>) {
    let mut events = Vec::new();
    let (result, took) = over_nal(port, |conn| {
        let mut config = Config::requestor(ae(CALLING_AE), ae(called));
        config.acse_timeout = acse_timeout;
        let (mut rx, mut tx) = (vec![0u8; 16390], vec![0u8; 16390]);
        let options = CheckOptions {
            repeat: 2,
            ..CheckOptions::default()
        };
        let observe = |e: &Event| events.push(format!("{e:?}"));
        blocking::check(conn, config, options, &mut rx, &mut tx, observe)
    });
    (result, took, events)
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
    storescp_checked_by(assert_healthy, QUICK);
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

#[test]
fn find_the_stored_study_in_dcmtk_dcmqrscp() {
    let scp = dcmqrscp_with_study("QRSCP");
    let keys = [
        Key {
            tag: 0x0008_0052,
            vr: Vr::CS,
            value: b"STUDY",
        },
        Key {
            tag: 0x0010_0020,
            vr: Vr::LO,
            value: b"",
        },
        Key {
            tag: 0x0020_000D,
            vr: Vr::UI,
            value: STUDY_UID.as_bytes(),
        },
    ];
    let mut options = FindOptions::new(Model::StudyRoot, &keys);
    options.required = Some((0x0010_0020, PATIENT_ID.as_bytes()));
    let (result, took) = over_nal(scp.port, |conn| {
        let mut config = Config::requestor(ae(CALLING_AE), ae("QRSCP"));
        config.find_models = &[Model::StudyRoot];
        let (mut rx, mut tx, mut found) = (vec![0u8; 16390], vec![0u8; 16390], vec![0u8; 16384]);
        blocking::find(
            conn,
            config,
            options,
            &mut rx,
            &mut tx,
            &mut found,
            |_, _| {},
        )
    });
    let report = result.unwrap_or_else(|e| panic!("find failed: {e}\n{}", scp.log()));
    assert_eq!(
        report.outcome,
        FindOutcome::Healthy {
            release: Release::Released,
            cancelled: false
        },
        "{report:?}"
    );
    assert_eq!(report.stats.matches, 1);
    assert!(report.stats.required_seen, "{report:?}");
    assert!(took < QUICK, "took {took:?}");
}
