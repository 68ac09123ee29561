//! Drivers: one loop, [`pump::Pump`], that decides every step without doing I/O, and two thin
//! shells that do the I/O it asks for: [`blocking`] (`embedded-io`) and [`asynch`]
//! (`embedded-io-async`, feature `async`).
//!
//! The loop (see [`crate::assoc`]): send what the machine has, hand events to the caller,
//! close when told, else read until the machine's next deadline. The check a requestor runs
//! and the acceptor's answer to an A-ASSOCIATE-RQ ([`answer_request`]) are written here once,
//! for both drivers.

pub mod blocking;
pub mod pump;

#[cfg(feature = "async")]
pub mod asynch;

use core::fmt;

use embedded_io::ErrorKind;

use crate::assoc::{self, AcceptPolicy, Association, Config, Event};
use crate::check::{CheckOptions, Checker, EchoStats, Outcome};
use crate::time::Instant;
use crate::wire::AssociateRj;

pub use blocking::Transport;
pub use pump::{Input, Pump, Step, READ_CHUNK};

/// A driver failure: the transport's own error, or misuse of the machine (a transmit buffer
/// too small for the next PDU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error<E> {
    /// The transport failed (not EOF or reset: those are reported to the machine).
    Transport(E),
    /// The machine refused a call.
    Assoc(assoc::Error),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport(e) => write!(f, "transport error: {e:?}"),
            Error::Assoc(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E: embedded_io::Error> embedded_io::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Transport(e) => e.kind(),
            Error::Assoc(_) => ErrorKind::Other,
        }
    }
}

impl<E> From<assoc::Error> for Error<E> {
    fn from(e: assoc::Error) -> Self {
        Error::Assoc(e)
    }
}

/// The result of a check: the verdict, the echo statistics, and what was negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// The verdict.
    pub outcome: Outcome,
    /// Round trips.
    pub stats: EchoStats,
    /// The association's parameters, if it got that far.
    pub negotiated: Option<assoc::Negotiated>,
}

/// Answers an A-ASSOCIATE-RQ by `policy`: on [`Event::AssociationRequested`], accepts or
/// rejects it on `assoc` and returns the decision (`Ok` accepted, `Err` the A-ASSOCIATE-RJ
/// sent); any other event is left alone (`None`). Call it from an acceptor's event handler.
pub fn answer_request(
    policy: &AcceptPolicy<'_>,
    assoc: &mut Association<'_>,
    now: Instant,
    event: &Event,
) -> Option<Result<(), AssociateRj>> {
    let Event::AssociationRequested { called, calling } = event else {
        return None;
    };
    let decision = policy.decide(called, calling);
    // The machine waits for exactly this answer right after the event: it cannot refuse.
    let _ = match decision {
        Ok(()) => assoc.accept(now),
        Err(rj) => assoc.reject(now, rj),
    };
    Some(decision)
}

/// A check's machine, connected at `now`, with its [`Checker`].
fn start_check<'a>(
    config: Config<'a>,
    options: CheckOptions,
    rx_buf: &'a mut [u8],
    now: Instant,
) -> (Association<'a>, Checker) {
    let mut assoc = Association::new(config, rx_buf, now);
    assoc.set_deadline(options.deadline);
    assoc.connected(now);
    (assoc, Checker::new(options.repeat, options.abort_at_end))
}

/// An acceptor's machine, connected at `now`.
fn start_serve<'a>(config: Config<'a>, rx_buf: &'a mut [u8], now: Instant) -> Association<'a> {
    let mut assoc = Association::new(config, rx_buf, now);
    assoc.connected(now);
    assoc
}

/// What a finished check found.
fn report(assoc: &Association<'_>, checker: &Checker) -> Report {
    Report {
        outcome: checker.outcome(),
        stats: checker.stats(),
        negotiated: assoc.negotiated().copied(),
    }
}

/// A check's event handler: the caller's observer first, then the [`Checker`].
fn checking<'c, F>(
    checker: &'c mut Checker,
    observe: &'c mut F,
) -> impl FnMut(&mut Association<'_>, Instant, &Event) + 'c
where
    F: FnMut(&Event),
{
    move |assoc, now, ev| {
        observe(ev);
        checker.on_event(assoc, now, ev);
    }
}

/// An acceptor's event handler: the caller's observer first, then the policy answers the
/// A-ASSOCIATE-RQ.
fn serving<'c, F>(
    policy: &'c AcceptPolicy<'c>,
    observe: &'c mut F,
) -> impl FnMut(&mut Association<'_>, Instant, &Event) + 'c
where
    F: FnMut(&Event),
{
    move |assoc, now, ev| {
        observe(ev);
        let _ = answer_request(policy, assoc, now, ev);
    }
}

#[cfg(test)]
mod tests;
