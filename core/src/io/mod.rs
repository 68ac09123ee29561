//! Drivers: one loop, [`pump::Pump`], that decides every step without doing I/O, and two thin
//! shells that do the I/O it asks for: [`blocking`] (`embedded-io`) and `asynch`
//! (`embedded-io-async`, feature `async`). `nal` (feature `nal`) is a [`Transport`] over any
//! `embedded-nal` TCP stack, for the blocking driver.
//!
//! The loop (see [`crate::assoc`]): send what the machine has, hand events to the caller,
//! close when told, else read until the machine's next deadline. The check a requestor runs
//! and the acceptor's answer to an A-ASSOCIATE-RQ ([`answer_request`]) are written here once,
//! for both drivers.

#[macro_use]
mod entry;

pub mod blocking;
#[cfg(feature = "find")]
mod find;
pub mod pump;

#[cfg(feature = "async")]
pub mod asynch;
#[cfg(feature = "nal")]
pub mod nal;

use core::fmt;

use embedded_io::ErrorKind;

use crate::assoc::{self, AcceptPolicy, Association, Event};
use crate::check::{CheckOptions, Checker, EchoStats, Outcome};
use crate::time::Instant;
use crate::wire::AssociateRj;

pub use blocking::Transport;
pub use pump::{Handler, Input, Pump, Step, READ_CHUNK};

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
    // Right after the event the machine waits for this answer; a refusal only means the
    // request was answered already, and the first answer stands.
    let _ = match decision {
        Ok(()) => assoc.accept(now),
        Err(rj) => assoc.reject(now, rj),
    };
    Some(decision)
}

/// What answers a session's events after the caller's observer.
enum Role<'p> {
    /// A requestor's health check.
    Check(Checker),
    /// An acceptor: the policy answers the A-ASSOCIATE-RQ.
    Serve(&'p AcceptPolicy<'p>),
}

/// What the drivers' `check` and `serve` add to a machine: its deadline, and the event
/// handler (the caller's observer first, then the role). The machine itself is built by the
/// caller, in its own frame: it is the biggest thing on a driver's stack.
struct Session<'p, F> {
    role: Role<'p>,
    observe: F,
    deadline: Option<Instant>,
}

impl<'p, F: FnMut(&Event)> Session<'p, F> {
    /// A health check as requestor.
    fn check(options: CheckOptions, observe: F) -> Self {
        Session {
            role: Role::Check(Checker::new(options.repeat, options.abort_at_end)),
            observe,
            deadline: options.deadline,
        }
    }

    /// One association as acceptor.
    fn serve(policy: &'p AcceptPolicy<'p>, observe: F) -> Self {
        Session {
            role: Role::Serve(policy),
            observe,
            deadline: None,
        }
    }

    /// Starts the fresh machine `assoc` on a connected transport at `now`.
    fn start(&self, assoc: &mut Association<'_>, now: Instant) {
        assoc.set_deadline(self.deadline);
        assoc.connected(now);
    }

    /// What a finished check found (a served association has no verdict: `Incomplete`).
    fn report(&self, assoc: &Association<'_>) -> Report {
        let (outcome, stats) = match &self.role {
            Role::Check(checker) => (checker.outcome(), checker.stats()),
            Role::Serve(_) => (Outcome::Incomplete, EchoStats::default()),
        };
        Report {
            outcome,
            stats,
            negotiated: assoc.negotiated().copied(),
        }
    }
}

impl<F: FnMut(&Event)> Handler for Session<'_, F> {
    fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        (self.observe)(event);
        match &mut self.role {
            Role::Check(checker) => checker.on_event(assoc, now, event),
            Role::Serve(policy) => {
                let _ = answer_request(policy, assoc, now, event);
            }
        }
    }
}

#[cfg(test)]
mod tests;
