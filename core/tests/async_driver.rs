//! The async driver runs the same exchange as the blocking one: an async requestor against a
//! blocking acceptor over a real socket pair, polled by a minimal executor (no runtime).
//! Built only with the `async` feature: scripts/test.sh runs `cargo test -p echoprobe-core
//! --features async`.
#![cfg(feature = "async")]
#![allow(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

use std::future::Future;
use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use echoprobe_core::assoc::{AcceptPolicy, Config};
use echoprobe_core::check::{CheckOptions, Outcome, Release};
use echoprobe_core::io::{asynch, blocking};
use echoprobe_core::time::Instant;
use echoprobe_core::wire::AeTitle;

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Polls `f` to completion; the futures here never park (reads block with a timeout).
fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    for _ in 0..1_000_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("future did not complete");
}

struct Sock {
    s: UnixStream,
    origin: std::time::Instant,
}

impl Sock {
    fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }
}

impl embedded_io::ErrorType for Sock {
    type Error = std::io::Error;
}

impl embedded_io_async::Read for Sock {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.s.read(buf)
    }
}

impl embedded_io_async::Write for Sock {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.s.write(buf)
    }
    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.s.flush()
    }
}

impl embedded_io::Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.s.read(buf)
    }
}

impl embedded_io::Write for Sock {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.s.write(buf)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.s.flush()
    }
}

impl blocking::Transport for Sock {
    fn now(&self) -> Instant {
        Sock::now(self)
    }
    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), Self::Error> {
        let left = deadline.map(|d| d.saturating_since(self.now()).as_micros().max(1));
        self.s
            .set_read_timeout(left.map(std::time::Duration::from_micros))
    }
}

struct Clock(std::time::Instant);

impl asynch::Clock for Clock {
    fn now(&self) -> Instant {
        Instant::from_micros(self.0.elapsed().as_micros() as u64)
    }
    async fn sleep_until(&self, at: Instant) {
        while self.now() < at {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Serves with `serve` on one end of a socket pair in a thread; returns the other end (5 s read
/// timeout) for the async requestor, its clock, and the server thread.
fn with_blocking_acceptor<R: Send + 'static>(
    serve: impl FnOnce(&mut Sock) -> R + Send + 'static,
) -> (Sock, Clock, std::thread::JoinHandle<R>) {
    let (a, b) = UnixStream::pair().unwrap();
    let origin = std::time::Instant::now();
    let server = std::thread::spawn(move || serve(&mut Sock { s: b, origin }));
    let t = Sock { s: a, origin };
    t.s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    (t, Clock(origin), server)
}

#[test]
fn async_requestor_against_blocking_acceptor() {
    let scp_ae = AeTitle::new("LB-SCP").unwrap();
    let (mut t, clock, server) = with_blocking_acceptor(move |t| {
        let mut rx = [0u8; 16390];
        let mut tx = [0u8; 4096];
        blocking::serve(
            t,
            Config::acceptor(scp_ae),
            &AcceptPolicy::open(scp_ae),
            &mut rx,
            &mut tx,
            |_| {},
        )
        .unwrap()
    });
    let mut rx = [0u8; 16390];
    let mut tx = [0u8; 4096];
    let mut seen = 0;
    let config = Config::requestor(AeTitle::new("LOADBALANCER").unwrap(), scp_ae);
    let options = CheckOptions {
        repeat: 3,
        ..CheckOptions::default()
    };
    let report = block_on(asynch::check(
        &mut t,
        &clock,
        config,
        options,
        &mut rx,
        &mut tx,
        |_| seen += 1,
    ))
    .unwrap();
    drop(t);
    assert!(server.join().unwrap().is_some());
    assert_eq!(report.outcome, Outcome::Healthy(Release::Released));
    assert_eq!(report.stats.ok, 3);
    assert!(
        seen >= 5,
        "accepted, three responses, released: {seen} events"
    );
}

/// The async find requestor against the blocking find acceptor (feature `find-scp`): one pump,
/// both drivers.
#[cfg(feature = "find-scp")]
#[test]
fn async_find_against_blocking_find_acceptor() {
    use echoprobe_core::dimse::dataset::{encode, DataSet, Key, Vr, JOHN_DOE};
    use echoprobe_core::find::{FindOptions, FindOutcome, Model};
    use echoprobe_core::wire::uid;

    const MODELS: &[Model] = &[Model::Worklist];
    let scp_ae = AeTitle::new("RIS").unwrap();
    let (mut t, clock, server) = with_blocking_acceptor(move |t| {
        let mut record = [0u8; 64];
        let keys = [
            JOHN_DOE,
            Key {
                tag: 0x0040_0001,
                vr: Vr::AE,
                value: b"CT1",
            },
        ];
        let n = encode(&keys, false, &mut record).unwrap();
        let records = [DataSet::new(&record[..n], false)];
        let (mut rx, mut tx, mut fb) = ([0u8; 4096], [0u8; 4096], [0u8; 1024]);
        let mut config = Config::acceptor(scp_ae);
        config.find_models = MODELS;
        blocking::serve_find(
            t,
            config,
            &AcceptPolicy::open(scp_ae),
            &records,
            &mut rx,
            &mut tx,
            &mut fb,
            |_| {},
        )
        .unwrap()
    });
    let (mut rx, mut tx, mut fb) = ([0u8; 4096], [0u8; 4096], [0u8; 1024]);
    let mut config = Config::requestor(AeTitle::new("PROBE").unwrap(), scp_ae);
    config.find_models = MODELS;
    config.transfer_syntaxes = &[uid::IMPLICIT_VR_LE];
    let keys = [
        Key {
            tag: 0x0010_0010,
            vr: Vr::PN,
            value: b"",
        },
        Key {
            tag: 0x0040_0001,
            vr: Vr::AE,
            value: b"CT1",
        },
    ];
    let mut names = Vec::new();
    let report = block_on(asynch::find(
        &mut t,
        &clock,
        config,
        FindOptions::new(Model::Worklist, &keys),
        &mut rx,
        &mut tx,
        &mut fb,
        |_, m| {
            if let Some(m) = m {
                names.push(m.get(0x0010_0010).unwrap().unwrap().trimmed().to_vec());
            }
        },
    ))
    .unwrap();
    drop(t);
    assert!(
        matches!(report.outcome, FindOutcome::Healthy { .. }),
        "{}",
        report.outcome
    );
    assert_eq!(names, vec![b"DOE^JOHN".to_vec()]);
    assert_eq!(report.context.map(|c| c.model), Some(Model::Worklist));
    assert!(server.join().unwrap().is_some());
}
