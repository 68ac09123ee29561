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
