//! One target's state between checks (small: the verdict, counters, the last durations, when it is next due), and
//! one check of it: connect, run the core's health check (`echoprobe_core::io::asynch::check`) over the socket, close.
//! Which slot runs which target when is `slot.rs`'s job.

use core::cell::Cell;

use echoprobe_core::assoc::{Config, Event};
use echoprobe_core::check::{CheckOptions, Outcome};
use echoprobe_core::io;
use echoprobe_core::time::{Duration, Instant};
use echoprobe_core::wire::AeTitle;
use smoltcp::iface::SocketHandle;
use smoltcp::wire::{IpAddress, IpEndpoint};

use crate::clock::Clock;
use crate::config::Target;
use crate::metrics::{self, NONE, OUTCOMES, PHASES};
use crate::net::{Net, SocketIo};
use crate::verdict::Verdict;

/// Receive buffer of the association: bounds the PDU we accept (max PDU announced = this - 6).
pub const ASSOC_RX: usize = 1024;
/// Transmit buffer: one whole PDU (our A-ASSOCIATE-RQ is the largest, ~200 bytes).
pub const ASSOC_TX: usize = 512;

/// The association's buffers, one pair per check slot (and one for the SCP), in a static.
pub struct AssocBufs {
    pub rx: [u8; ASSOC_RX],
    pub tx: [u8; ASSOC_TX],
}

impl AssocBufs {
    pub const fn new() -> Self {
        AssocBufs {
            rx: [0; ASSOC_RX],
            tx: [0; ASSOC_TX],
        }
    }
}

/// What the probe keeps of one target between its checks.
pub struct State {
    pub verdict: Verdict,
    /// Checks finished, by `metrics::OUTCOMES` index.
    pub checks: [u32; OUTCOMES.len()],
    /// The last check: its phases (`metrics::PHASES`) and its whole time, in microseconds (`metrics::NONE`: not
    /// reached).
    pub phases: [u32; PHASES.len()],
    pub total: u32,
    /// How late the last check started, in microseconds.
    pub lag: u32,
    /// When the next check is due.
    pub due: Instant,
    /// A slot is checking it now.
    pub held: bool,
    /// Counts checks, to pick each one's local port.
    seq: u16,
}

impl State {
    /// Due at once, down until its first `rise` good checks. All zero (a static of them lands in `.bss`).
    pub const fn new() -> Self {
        State {
            verdict: Verdict::new(),
            checks: [0; OUTCOMES.len()],
            phases: [NONE; PHASES.len()],
            total: NONE,
            lag: 0,
            due: Instant::from_micros(0),
            held: false,
            seq: 0,
        }
    }

    /// The local port for the next check of target `index`: a range of 1024 per target (16 targets fill 49152 to
    /// 65535), cycling, so a new check never reuses the previous 4-tuple.
    pub fn next_port(&mut self, index: usize) -> u16 {
        self.seq = (self.seq + 1) % 1024;
        49152 + 1024 * index as u16 + self.seq
    }

    /// The figures `/metrics` shows.
    pub fn metrics<'a>(&self, t: &'a Target) -> metrics::Target<'a> {
        metrics::Target {
            name: t.name,
            up: self.verdict.is_up(),
            checks: self.checks,
            phases: self.phases,
            total: self.total,
            lag: self.lag,
        }
    }
}

/// Microseconds from `a` to `b`, as a `u32` (saturating: ~71 minutes).
pub fn micros(a: Instant, b: Instant) -> u32 {
    u32::try_from((b - a).as_micros()).unwrap_or(u32::MAX)
}

/// A measured duration: at least 1 microsecond (`metrics::NONE`, 0, means not measured).
fn measured(us: u32) -> u32 {
    us.max(1)
}

/// One check's result and the time of each phase reached.
pub struct Checked {
    pub result: Result<Outcome, Failure>,
    pub phases: [u32; PHASES.len()],
}

/// Runs one check of target `index` on the slot's socket and buffers.
pub async fn check(
    index: usize,
    t: &Target,
    port: u16,
    net: &Net<'_>,
    clock: &Clock,
    handle: SocketHandle,
    bufs: &mut AssocBufs,
) -> Checked {
    let mut phases = [NONE; PHASES.len()];
    let [a, b, c, d] = t.address;
    let remote = IpEndpoint::new(IpAddress::v4(a, b, c, d), t.port);
    // The AE titles were checked by build.rs with the core's rules; a failure here would be a build.rs bug.
    let (Ok(calling), Ok(called)) = (AeTitle::new(t.calling_ae), AeTitle::new(t.called_ae)) else {
        return Checked {
            result: Err(Failure::Config),
            phases,
        };
    };
    let mut config = Config::requestor(calling, called);
    config.acse_timeout = Duration::from_millis(t.acse_timeout_ms.into());
    config.dimse_timeout = Duration::from_millis(t.dimse_timeout_ms.into());
    config.artim_timeout = Duration::from_millis(t.acse_timeout_ms.into());
    // Whole-association cap: connect is separate; ACSE + DIMSE + release each bounded.
    let cap = Duration::from_millis(
        u64::from(t.acse_timeout_ms) * 2 + u64::from(t.dimse_timeout_ms) + 1000,
    );

    let started = clock.now();
    let result = match net.connect(handle, remote, port) {
        Err(_) => Err(Failure::NoSocket),
        Ok(()) => match net
            .established(
                handle,
                clock,
                Duration::from_millis(t.connect_timeout_ms.into()),
            )
            .await
        {
            Err(timed_out) => Err(Failure::Connect { timed_out }),
            // 'check: the find check's exit (feature `find`).
            #[cfg_attr(not(feature = "find"), allow(unused_labels))]
            Ok(()) => 'check: {
                let connected = clock.now();
                phases[0] = measured(micros(started, connected));
                let options = CheckOptions {
                    deadline: Some(connected + cap),
                    ..CheckOptions::default()
                };
                let mut socket = SocketIo { net, handle };
                // The find check: a target with `check = "find"` (feature `find`) runs its query instead.
                #[cfg(feature = "find")]
                if let Some(q) = crate::find::query(index) {
                    let deadline = options.deadline;
                    break 'check crate::find::check(
                        &mut socket,
                        clock,
                        &config,
                        deadline,
                        q,
                        bufs,
                        index,
                    )
                    .await;
                }
                let (rx, tx) = (&mut bufs.rx, &mut bufs.tx);
                // The answer to the A-ASSOCIATE-RQ and the last C-ECHO-RSP: when, and how long.
                let answered = Cell::new(None);
                let echo = Cell::new(None);
                let observe = |ev: &Event| {
                    defmt::debug!("target {=usize}: {}", index, ev);
                    match ev {
                        Event::Accepted(_) | Event::Rejected(_) | Event::NoPresentationContext => {
                            answered.set(Some(clock.now()));
                        }
                        Event::EchoResponse { rtt, .. } => echo.set(Some((clock.now(), *rtt))),
                        _ => {}
                    }
                };
                let r =
                    io::asynch::check(&mut socket, clock, config, options, rx, tx, observe).await;
                let ended = clock.now();
                if let Some(at) = answered.get() {
                    phases[1] = measured(micros(connected, at));
                }
                if let Some((at, rtt)) = echo.get() {
                    phases[2] = measured(micros(
                        Instant::from_micros(0),
                        Instant::from_micros(rtt.as_micros()),
                    ));
                    phases[3] = measured(micros(at, ended));
                }
                match r {
                    Ok(report) => Ok(report.outcome),
                    Err(e) => Err(Failure::Io(e)),
                }
            }
        },
    };
    net.shut(handle, clock, 500).await;
    Checked { result, phases }
}

/// Why a check did not get to an outcome.
pub enum Failure {
    Config,
    NoSocket,
    Connect {
        timed_out: bool,
    },
    Io(io::Error<crate::net::IoError>),
    /// A find check's own failure (status, too few matches, required value, no FIND context ...).
    #[cfg(feature = "find")]
    Find(echoprobe_core::find::FindOutcome),
}

/// The row of the exit-code table (`metrics::OUTCOMES`) a check's result counts under, as the daemon counts it.
fn outcome_index(result: &Result<Outcome, Failure>) -> usize {
    match result {
        Ok(Outcome::Healthy(_)) => 0,
        Ok(Outcome::Rejected(_)) => 1,
        Err(Failure::Connect { timed_out: false }) => 2,
        Err(Failure::Connect { timed_out: true }) => 3,
        Ok(Outcome::NoPresentationContext) => 4,
        Ok(Outcome::AcseTimeout) => 5,
        Ok(Outcome::DimseTimeout) => 6,
        Ok(Outcome::FailureStatus { .. }) => 7,
        Ok(Outcome::Violation(_) | Outcome::Incomplete) => 8,
        Ok(Outcome::Aborted(_)) => 9,
        Ok(Outcome::ClosedByPeer) | Err(Failure::Io(io::Error::Transport(_))) => 10,
        Ok(Outcome::DeadlineExceeded) => 11,
        Err(Failure::Config | Failure::NoSocket | Failure::Io(_)) => 12,
        #[cfg(feature = "find")]
        Err(Failure::Find(o)) => {
            use echoprobe_core::find::FindOutcome;
            match o {
                FindOutcome::NoFindContext => 13,
                FindOutcome::FailureStatus { .. } => 14,
                FindOutcome::TooFewMatches { .. } => 15,
                FindOutcome::RequiredValueMissing { .. } => 16,
                FindOutcome::DimseTimeout => 6,
                _ => 12, // an identifier or a match the buffers cannot hold
            }
        }
    }
}

/// Folds one check into the target's state, and logs it.
#[inline(never)]
pub fn record(s: &mut State, t: &Target, index: usize, c: Checked, total: u32) {
    let n = &mut s.checks[outcome_index(&c.result)];
    *n = n.wrapping_add(1);
    let v = &mut s.verdict;
    let changed = match c.result {
        Ok(outcome) if outcome.is_healthy() => v.good(t.rise),
        Ok(outcome) => v.bad(t.fall, |w| outcome.write_text(w)),
        Err(Failure::Config) => v.bad(t.fall, |w| w.put("invalid AE title in the configuration")),
        Err(Failure::NoSocket) => v.bad(t.fall, |w| w.put("cannot open a connection")),
        Err(Failure::Connect { timed_out: true }) => v.bad(t.fall, |w| {
            w.put("TCP connect timeout (");
            w.dec(t.connect_timeout_ms.into());
            w.put(" ms)");
        }),
        Err(Failure::Connect { timed_out: false }) => {
            v.bad(t.fall, |w| w.put("TCP connection refused"))
        }
        Err(Failure::Io(io::Error::Transport(e))) => v.bad(t.fall, |w| {
            w.put("connection lost: ");
            w.put(e.as_str());
        }),
        Err(Failure::Io(io::Error::Assoc(e))) => v.bad(t.fall, |w| e.write_text(w)),
        #[cfg(feature = "find")]
        // Only a find's own failures (find::check reports the rest as the echo's outcomes): their texts alone.
        Err(Failure::Find(o)) => v.bad(t.fall, |w| o.write_find_text(w)),
    };
    s.phases = c.phases;
    s.total = total;
    let v = &s.verdict;
    // Logged as text: the reason is formatted once, for the agent line, and the log reuses it.
    if v.last_good() {
        defmt::info!(
            "target {=usize} {=str}: healthy in {=u32} ms",
            index,
            t.name,
            total / 1000
        );
    } else {
        defmt::info!("target {=usize} {=str}: {=str}", index, t.name, v.reason());
    }
    if changed {
        defmt::warn!(
            "target {=usize} {=str} is now {=str}",
            index,
            t.name,
            if v.is_up() { "UP" } else { "DOWN" }
        );
    }
}
