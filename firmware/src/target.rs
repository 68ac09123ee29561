//! One target's check loop: connect, run the core's health check (`echoprobe_core::io::asynch::check`) over the
//! socket, close, record the verdict, wait the interval. Never blocks: every wait is a future the probe loop polls.

use core::cell::RefCell;

use echoprobe_core::assoc::{Config, Event};
use echoprobe_core::check::{CheckOptions, Outcome};
use echoprobe_core::io;
use echoprobe_core::time::Duration;
use echoprobe_core::wire::AeTitle;
use smoltcp::iface::SocketHandle;
use smoltcp::wire::{IpAddress, IpEndpoint};

use crate::clock::Clock;
use crate::config::Target;
use crate::net::{Net, SocketIo};
use crate::verdict::Verdict;

/// Receive buffer of the association: bounds the PDU we accept (max PDU announced = this - 6).
pub const ASSOC_RX: usize = 1024;
/// Transmit buffer: one whole PDU (our A-ASSOCIATE-RQ is the largest, ~200 bytes).
pub const ASSOC_TX: usize = 512;

/// Per-target memory, in a static.
pub struct TargetBufs {
    pub rx: [u8; ASSOC_RX],
    pub tx: [u8; ASSOC_TX],
}

impl TargetBufs {
    pub const fn new() -> Self {
        TargetBufs {
            rx: [0; ASSOC_RX],
            tx: [0; ASSOC_TX],
        }
    }
}

/// Runs the checks of target `index` forever.
pub async fn run(
    index: usize,
    t: &'static Target,
    net: &Net<'_>,
    clock: &Clock,
    handle: SocketHandle,
    bufs: &mut TargetBufs,
    verdict: &RefCell<Verdict>,
) {
    let [a, b, c, d] = t.address;
    let remote = IpEndpoint::new(IpAddress::v4(a, b, c, d), t.port);
    // Our ports: a range per target, cycling, so a new check never reuses the previous 4-tuple.
    let base = 49152 + 1024 * index as u16;
    let mut seq: u16 = 0;
    // The AE titles were checked by build.rs with the core's rules; a failure here would be a build.rs bug.
    let (Ok(calling), Ok(called)) = (AeTitle::new(t.calling_ae), AeTitle::new(t.called_ae)) else {
        verdict.borrow_mut().bad(
            t.fall,
            format_args!("invalid AE title in the configuration"),
        );
        return;
    };
    let mut config = Config::requestor(calling, called);
    config.acse_timeout = Duration::from_millis(t.acse_timeout_ms.into());
    config.dimse_timeout = Duration::from_millis(t.dimse_timeout_ms.into());
    config.artim_timeout = Duration::from_millis(t.acse_timeout_ms.into());
    // Whole-association cap: connect is separate; ACSE + DIMSE + release each bounded.
    let cap = Duration::from_millis(
        u64::from(t.acse_timeout_ms) * 2 + u64::from(t.dimse_timeout_ms) + 1000,
    );

    loop {
        let started = clock.now();
        seq = (seq + 1) % 1024;
        let result = match net.connect(handle, remote, base + seq) {
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
                    let options = CheckOptions {
                        deadline: Some(clock.now() + cap),
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
                    let observe = |ev: &Event| defmt::debug!("target {=usize}: {}", index, ev);
                    match io::asynch::check(&mut socket, clock, config, options, rx, tx, observe)
                        .await
                    {
                        Ok(report) => Ok(report.outcome),
                        Err(e) => Err(Failure::Io(e)),
                    }
                }
            },
        };
        net.shut(handle, clock, 500).await;

        let elapsed_ms = (clock.now() - started).as_millis();
        record(&mut verdict.borrow_mut(), t, index, result, elapsed_ms);
        clock
            .sleep(Duration::from_millis(t.interval_ms.into()))
            .await;
    }
}

/// Folds one check's result into the verdict, and logs it.
fn record(
    v: &mut Verdict,
    t: &Target,
    index: usize,
    result: Result<Outcome, Failure>,
    elapsed_ms: u64,
) {
    let changed = match result {
        Ok(outcome) if outcome.is_healthy() => v.good(t.rise),
        Ok(outcome) => v.bad(t.fall, format_args!("{}", outcome)),
        Err(Failure::NoSocket) => v.bad(t.fall, format_args!("cannot open a connection")),
        Err(Failure::Connect { timed_out: true }) => v.bad(
            t.fall,
            format_args!("TCP connect timeout ({} ms)", t.connect_timeout_ms),
        ),
        Err(Failure::Connect { timed_out: false }) => {
            v.bad(t.fall, format_args!("TCP connection refused"))
        }
        Err(Failure::Io(io::Error::Transport(e))) => {
            v.bad(t.fall, format_args!("connection lost: {}", e))
        }
        Err(Failure::Io(io::Error::Assoc(e))) => v.bad(t.fall, format_args!("{}", e)),
        #[cfg(feature = "find")]
        Err(Failure::Find(o)) => v.bad(t.fall, format_args!("{}", o)),
    };
    // Logged as text: the reason is formatted once, for the agent line, and the log reuses it.
    if v.last_good() {
        defmt::info!(
            "target {=usize} {=str}: echo ok in {=u64} ms",
            index,
            t.name,
            elapsed_ms
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

/// Why a check did not get to an outcome.
pub(crate) enum Failure {
    NoSocket,
    Connect {
        timed_out: bool,
    },
    Io(io::Error<crate::net::IoError>),
    /// A find check's own failure (status, too few matches, required value, no FIND context ...).
    #[cfg(feature = "find")]
    Find(echoprobe_core::find::FindOutcome),
}
