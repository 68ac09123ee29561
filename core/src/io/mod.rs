//! Drivers: the same loop over a blocking ([`blocking`], `embedded-io`) or an async
//! ([`asynch`], `embedded-io-async`, feature `async`) transport.
//!
//! The loop (see [`crate::assoc`]): send what the machine has, hand events to the caller,
//! close when told, else read until the machine's next deadline.

pub mod blocking;

#[cfg(feature = "async")]
pub mod asynch;

use core::fmt;

use embedded_io::ErrorKind;

use crate::assoc::{self, Association, Event};
use crate::check::{Checker, EchoStats, Outcome};
use crate::time::Instant;

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

/// What a driver does with a transport error kind.
fn is_disconnect(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
            | ErrorKind::BrokenPipe
    )
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

/// Work the driver loop does between I/O calls: take transmits out (through `send`), events
/// out (through `on_event`). Returns whether anything happened.
fn step_events<F>(assoc: &mut Association<'_>, now: Instant, on_event: &mut F) -> bool
where
    F: FnMut(&mut Association<'_>, Instant, &Event),
{
    let mut any = false;
    while let Some(ev) = assoc.poll_event() {
        any = true;
        on_event(assoc, now, &ev);
    }
    any
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

/// An acceptor's event handler: the policy answers the A-ASSOCIATE-RQ.
fn serving<'c, F>(
    policy: &'c assoc::AcceptPolicy<'c>,
    observe: &'c mut F,
) -> impl FnMut(&mut Association<'_>, Instant, &Event) + 'c
where
    F: FnMut(&Event),
{
    move |assoc, now, ev| {
        observe(ev);
        if let Event::AssociationRequested { called, calling } = ev {
            let _ = match policy.decide(called, calling) {
                Ok(()) => assoc.accept(now),
                Err(rj) => assoc.reject(now, rj),
            };
        }
    }
}
pub use blocking::Transport;
