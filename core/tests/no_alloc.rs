//! The core never touches the heap: a full SCU and SCP exchange through the blocking drivers,
//! over a real socket pair, under a global allocator that counts every allocation made by
//! the two measured threads.
#![allow(unsafe_code)] // the counting allocator is the only unsafe code, and it is test-only
#![allow(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;

use echoprobe_core::assoc::{AcceptPolicy, Config};
use echoprobe_core::check::{CheckOptions, Outcome, Release};
use echoprobe_core::io::blocking::{check, serve, Transport};
use echoprobe_core::time::Instant;
use echoprobe_core::wire::AeTitle;

struct Counting;
thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A socket with read deadlines, on a clock shared by both ends.
struct Sock {
    s: UnixStream,
    origin: std::time::Instant,
    expired: bool,
}

impl Sock {
    /// `s` as a transport whose clock counts from `origin`, no read deadline expired yet.
    fn new(s: UnixStream, origin: std::time::Instant) -> Sock {
        Sock {
            s,
            origin,
            expired: false,
        }
    }
}

impl embedded_io::ErrorType for Sock {
    type Error = std::io::Error;
}

impl embedded_io::Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if self.expired {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.s.read(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => std::io::ErrorKind::TimedOut.into(),
            _ => e,
        })
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

impl Transport for Sock {
    fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }
    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), Self::Error> {
        self.expired = false;
        let Some(at) = deadline else {
            return self.s.set_read_timeout(None);
        };
        let left = at.saturating_since(self.now()).as_micros();
        if left == 0 {
            self.expired = true;
            return Ok(());
        }
        self.s
            .set_read_timeout(Some(std::time::Duration::from_micros(left)))
    }
}

/// Runs `f` and counts the allocations this thread made meanwhile.
fn measured<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCATIONS.with(|n| n.set(0));
    MEASURING.with(|m| m.set(true));
    let r = f();
    MEASURING.with(|m| m.set(false));
    (r, ALLOCATIONS.with(Cell::get))
}

#[test]
fn a_full_exchange_allocates_nothing() {
    let (a, b) = UnixStream::pair().unwrap();
    let origin = std::time::Instant::now();
    let scp_ae = AeTitle::new("LB-SCP").unwrap();
    let server = std::thread::spawn(move || {
        let mut t = Sock::new(b, origin);
        let mut rx = [0u8; 16390];
        let mut tx = [0u8; 4096];
        let policy = AcceptPolicy {
            ae: scp_ae,
            check_called: true,
            allowed_calling: &[],
        };
        let (r, n) = measured(|| {
            serve(
                &mut t,
                Config::acceptor(scp_ae),
                &policy,
                &mut rx,
                &mut tx,
                |_| {},
            )
        });
        (r.unwrap(), n)
    });
    let mut t = Sock::new(a, origin);
    let mut rx = [0u8; 16390];
    let mut tx = [0u8; 4096];
    let config = Config::requestor(AeTitle::new("LOADBALANCER").unwrap(), scp_ae);
    let options = CheckOptions {
        repeat: 10,
        ..CheckOptions::default()
    };
    let (report, scu_allocations) =
        measured(|| check(&mut t, config, options, &mut rx, &mut tx, |_| {}));
    let report = report.unwrap();
    drop(t);
    let (negotiated, scp_allocations) = server.join().unwrap();

    assert_eq!(report.outcome, Outcome::Healthy(Release::Released));
    assert_eq!(report.stats.ok, 10);
    assert!(negotiated.is_some());
    assert_eq!(scu_allocations, 0, "the requestor allocated");
    assert_eq!(scp_allocations, 0, "the acceptor allocated");
}

#[test]
fn the_counter_can_fail() {
    // Proves the allocator really counts, so the test above can fail.
    let (v, n) = measured(|| std::hint::black_box(vec![1u8; 32]));
    assert_eq!(v.len(), 32);
    assert_eq!(n, 1);
}

/// A whole find (query, matches split across PDUs, release) allocates nothing either, against
/// our own find SCP (feature `find-scp`).
#[cfg(feature = "find-scp")]
#[test]
fn a_find_allocates_nothing() {
    use echoprobe_core::dimse::dataset::{encode, DataSet, Key, Vr, JOHN_DOE, STUDY_QUERY};
    use echoprobe_core::find::{FindOptions, FindOutcome, Model};
    use echoprobe_core::io::blocking::{find, serve_find};
    use echoprobe_core::wire::uid;

    const MODELS: &[Model] = &[Model::StudyRoot];
    const LE: &[echoprobe_core::wire::Uid<'static>] = &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];
    let mut raw = [[0u8; 128]; 3];
    let mut lens = [0usize; 3];
    for (i, (r, n)) in raw.iter_mut().zip(&mut lens).enumerate() {
        let uid = [b"1.2.3.1", b"1.2.3.2", b"1.2.3.3"][i];
        let keys = [
            JOHN_DOE,
            Key {
                tag: 0x0020_000D,
                vr: Vr::UI,
                value: uid,
            },
        ];
        *n = encode(&keys, false, r).unwrap();
    }
    let (a, b) = UnixStream::pair().unwrap();
    let origin = std::time::Instant::now();
    let scp_ae = AeTitle::new("PACS").unwrap();
    let server = std::thread::spawn(move || {
        let mut t = Sock {
            s: b,
            origin,
            expired: false,
        };
        let records = [
            DataSet::new(&raw[0][..lens[0]], false),
            DataSet::new(&raw[1][..lens[1]], false),
            DataSet::new(&raw[2][..lens[2]], false),
        ];
        let (mut rx, mut tx, mut fb) = ([0u8; 1024], [0u8; 1024], [0u8; 1024]);
        let policy = AcceptPolicy::open(scp_ae);
        let mut config = Config::acceptor(scp_ae);
        config.find_models = MODELS;
        let (r, n) = measured(|| {
            serve_find(
                &mut t,
                config,
                &policy,
                &records,
                &mut rx,
                &mut tx,
                &mut fb,
                |_| {},
            )
        });
        (r.unwrap(), n)
    });
    let mut t = Sock {
        s: a,
        origin,
        expired: false,
    };
    let (mut rx, mut tx, mut fb) = ([0u8; 1024], [0u8; 1024], [0u8; 1024]);
    let mut config = Config::requestor(AeTitle::new("PROBE").unwrap(), scp_ae);
    config.find_models = MODELS;
    config.transfer_syntaxes = LE;
    let keys = STUDY_QUERY;

    let mut options = FindOptions::new(Model::StudyRoot, &keys);
    options.required = Some((0x0020_000D, b"1.2.3.2"));
    let mut seen = 0;
    let (report, scu_allocations) = measured(|| {
        find(
            &mut t,
            config,
            options,
            &mut rx,
            &mut tx,
            &mut fb,
            |_, m| seen += usize::from(m.is_some()),
        )
    });
    let report = report.unwrap();
    drop(t);
    let (negotiated, scp_allocations) = server.join().unwrap();
    assert!(
        matches!(report.outcome, FindOutcome::Healthy { .. }),
        "{:?}",
        report.outcome
    );
    assert_eq!((report.stats.matches, seen), (3, 3));
    assert!(negotiated.is_some());
    assert_eq!(scu_allocations, 0, "the find requestor allocated");
    assert_eq!(scp_allocations, 0, "the find acceptor allocated");
}
