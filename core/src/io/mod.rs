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

use crate::assoc::{self, AcceptPolicy, Association, Config, Event, Negotiated};
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

/// A session's event handler: the caller's observer first, then the role.
struct Answer<'p, F> {
    role: Role<'p>,
    observe: F,
}

impl<F: FnMut(&Event)> Handler for Answer<'_, F> {
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

/// One association as the drivers' `check` and `serve` run it: the machine, connected at
/// creation, and what answers its events.
struct Session<'a, 'p, F> {
    assoc: Association<'a>,
    answer: Answer<'p, F>,
}

impl<'a, 'p, F: FnMut(&Event)> Session<'a, 'p, F> {
    /// A health check as requestor.
    fn check(
        config: Config<'a>,
        options: CheckOptions,
        rx_buf: &'a mut [u8],
        now: Instant,
        observe: F,
    ) -> Self {
        let checker = Checker::new(options.repeat, options.abort_at_end);
        let mut session = Self::start(config, rx_buf, now, Role::Check(checker), observe);
        session.assoc.set_deadline(options.deadline);
        session
    }

    /// One association as acceptor.
    fn serve(
        config: Config<'a>,
        policy: &'p AcceptPolicy<'p>,
        rx_buf: &'a mut [u8],
        now: Instant,
        observe: F,
    ) -> Self {
        Self::start(config, rx_buf, now, Role::Serve(policy), observe)
    }

    fn start(
        config: Config<'a>,
        rx_buf: &'a mut [u8],
        now: Instant,
        role: Role<'p>,
        observe: F,
    ) -> Self {
        let mut assoc = Association::new(config, rx_buf, now);
        assoc.connected(now);
        Session {
            assoc,
            answer: Answer { role, observe },
        }
    }

    /// The pump that runs this session.
    fn pump<'s>(&'s mut self, tx_buf: &'s mut [u8]) -> Pump<'s, 'a> {
        Pump::new(&mut self.assoc, tx_buf, &mut self.answer)
    }

    /// What was negotiated, if anything.
    fn negotiated(&self) -> Option<Negotiated> {
        self.assoc.negotiated().copied()
    }

    /// What a finished check found (a served association has no verdict: `Incomplete`).
    fn report(&self) -> Report {
        let (outcome, stats) = match &self.answer.role {
            Role::Check(checker) => (checker.outcome(), checker.stats()),
            Role::Serve(_) => (Outcome::Incomplete, EchoStats::default()),
        };
        Report {
            outcome,
            stats,
            negotiated: self.negotiated(),
        }
    }
}

#[cfg(test)]
mod tests;
