//! The health check a requestor runs: associate, send `repeat` C-ECHO-RQs one after the
//! other, release (or abort), and say what that proves.
//!
//! Healthy means: the association was accepted with a usable presentation context and every
//! C-ECHO-RSP carried status 0x0000. A peer that answers our A-RELEASE-RQ by closing, by
//! A-ABORT or not at all after good echoes is still healthy; the [`Release`] says how it went.

use core::fmt;

use crate::assoc::{Association, Event, Timeout, Timer, Violation};
use crate::time::{Duration, Instant};
use crate::wire::{Abort, AssociateRj};

/// How the association ended after every echo succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Release {
    /// A-RELEASE-RP received: the orderly end.
    Released,
    /// We sent A-ABORT on purpose (`--abort`).
    AbortedByUs,
    /// The peer closed the connection instead of answering A-RELEASE-RQ.
    ClosedByPeer,
    /// The peer sent A-ABORT instead of answering A-RELEASE-RQ.
    AbortedByPeer,
    /// The peer did not answer A-RELEASE-RQ in time; we aborted.
    TimedOut,
}

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// Every echo succeeded.
    Healthy(Release),
    /// A-ASSOCIATE-RJ.
    Rejected(AssociateRj),
    /// A-ASSOCIATE-AC without a usable presentation context.
    NoPresentationContext,
    /// No A-ASSOCIATE-AC/RJ in time.
    AcseTimeout,
    /// No C-ECHO-RSP in time.
    DimseTimeout,
    /// The caller's overall deadline passed.
    DeadlineExceeded,
    /// The peer aborted before the echoes were done.
    Aborted(Abort),
    /// A C-ECHO-RSP with a status other than success.
    FailureStatus {
        /// The status.
        status: u16,
        /// The request it answered.
        message_id: u16,
    },
    /// The peer broke the protocol (we aborted).
    Violation(Violation),
    /// The peer closed the connection before the echoes were done.
    ClosedByPeer,
    /// The association ended without any of the above (e.g. the peer released early).
    Incomplete,
}

impl Outcome {
    /// Whether this outcome means the peer answers DICOM correctly.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Outcome::Healthy(_))
    }
}

impl Outcome {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn crate::text::Sink) {
        match self {
            Outcome::Healthy(Release::Released) => t.put("healthy"),
            Outcome::Healthy(Release::AbortedByUs) => t.put("healthy (association aborted as asked)"),
            Outcome::Healthy(Release::ClosedByPeer) => {
                t.put("healthy (warning: peer closed the connection instead of answering A-RELEASE-RQ)")
            }
            Outcome::Healthy(Release::AbortedByPeer) => {
                t.put("healthy (warning: peer sent A-ABORT instead of answering A-RELEASE-RQ)")
            }
            Outcome::Healthy(Release::TimedOut) => {
                t.put("healthy (warning: peer did not answer A-RELEASE-RQ in time)")
            }
            Outcome::Rejected(rj) => {
                t.put("association rejected: ");
                rj.write_text(t);
            }
            Outcome::NoPresentationContext => {
                t.put("no presentation context accepted (peer does not offer Verification with our transfer syntaxes)")
            }
            Outcome::AcseTimeout => t.put("ACSE timeout: no answer to A-ASSOCIATE-RQ"),
            Outcome::DimseTimeout => t.put("DIMSE timeout: no C-ECHO-RSP"),
            Outcome::DeadlineExceeded => t.put("overall deadline reached"),
            Outcome::Aborted(a) => {
                t.put("association aborted by peer: ");
                a.write_text(t);
            }
            Outcome::FailureStatus { status, message_id } => {
                t.put("C-ECHO-RSP status 0x");
                t.hex((*status).into(), 4, true);
                t.put(" (");
                t.put(crate::dimse::StatusClass::of(*status).as_str());
                t.put(": ");
                t.put(crate::dimse::status::describe(*status));
                t.put(") for message ");
                t.dec((*message_id).into());
            }
            Outcome::Violation(v) => {
                t.put("protocol violation by peer: ");
                v.write_text(t);
            }
            Outcome::ClosedByPeer => t.put("peer closed the connection before the echo completed"),
            Outcome::Incomplete => t.put("association ended before the echo completed"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

/// Round-trip statistics of the echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EchoStats {
    /// C-ECHO-RQs sent.
    pub sent: u32,
    /// C-ECHO-RSPs with status success.
    pub ok: u32,
    /// Fastest round trip.
    pub min_rtt: Duration,
    /// Slowest round trip.
    pub max_rtt: Duration,
    /// Sum of round trips.
    pub total_rtt: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Associating,
    Echoing,
    Releasing,
    Done,
}

/// A check's verdict: the first one settled stands (both checkers').
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict<T>(Option<T>);

impl<T: Copy> Verdict<T> {
    /// No verdict yet.
    pub(crate) const PENDING: Self = Verdict(None);

    /// Settles on `verdict`, unless there is one already.
    // Out of line: a dozen call sites, each a copy of a large verdict (flash on a firmware).
    #[inline(never)]
    pub(crate) fn settle(&mut self, verdict: T) {
        if self.0.is_none() {
            self.0 = Some(verdict);
        }
    }

    /// The verdict, or `pending` while there is none.
    pub(crate) fn or(self, pending: T) -> T {
        self.0.unwrap_or(pending)
    }
}

/// What an event that ends a check says, as the echo's verdict (the find check's too, for
/// everything but its own failures): the association refused, failed, timed out or ended, and
/// after the check asked for the release (`releasing`) how it went. `None` for the other events.
pub(crate) fn ending(event: &Event, releasing: bool) -> Option<Outcome> {
    Some(match *event {
        Event::NoPresentationContext => Outcome::NoPresentationContext,
        Event::Rejected(rj) => Outcome::Rejected(rj),
        Event::Released if releasing => Outcome::Healthy(Release::Released),
        Event::Released => Outcome::Incomplete,
        Event::Aborted(_) if releasing => Outcome::Healthy(Release::AbortedByPeer),
        Event::Aborted(a) => Outcome::Aborted(a),
        Event::Closed if releasing => Outcome::Healthy(Release::ClosedByPeer),
        Event::Closed => Outcome::ClosedByPeer,
        Event::Violation { kind, .. } => Outcome::Violation(kind),
        Event::Timeout(t) => match t {
            Timeout::Deadline => Outcome::DeadlineExceeded,
            Timeout::Timer(Timer::Release) if releasing => Outcome::Healthy(Release::TimedOut),
            Timeout::Timer(Timer::Acse) => Outcome::AcseTimeout,
            Timeout::Timer(Timer::Dimse) => Outcome::DimseTimeout,
            _ => Outcome::Incomplete,
        },
        _ => return None,
    })
}

/// Drives a requestor [`Association`] through the check; feed it every event.
#[derive(Debug, Clone)]
pub struct Checker {
    repeat: u32,
    abort_at_end: bool,
    phase: Phase,
    outcome: Verdict<Outcome>,
    stats: EchoStats,
    responses: u32,
}

impl Checker {
    /// A check of `repeat` echoes (at least 1), ending with A-RELEASE-RQ or, if
    /// `abort_at_end`, A-ABORT.
    pub fn new(repeat: u32, abort_at_end: bool) -> Self {
        Checker {
            repeat: repeat.max(1),
            abort_at_end,
            phase: Phase::Associating,
            outcome: Verdict::PENDING,
            stats: EchoStats::default(),
            responses: 0,
        }
    }

    /// Reacts to one event of `assoc`.
    pub fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        match *event {
            Event::Accepted(_) => {
                self.phase = Phase::Echoing;
                self.send(assoc, now);
            }
            Event::NoPresentationContext => {
                self.outcome.settle(Outcome::NoPresentationContext);
                self.finish(assoc, now);
            }
            Event::EchoResponse {
                message_id,
                status,
                rtt,
            } => {
                self.responses += 1;
                let s = &mut self.stats;
                if status == 0 {
                    s.ok += 1;
                }
                s.min_rtt = if self.responses == 1 {
                    rtt
                } else {
                    s.min_rtt.min(rtt)
                };
                s.max_rtt = s.max_rtt.max(rtt);
                s.total_rtt = s.total_rtt + rtt;
                if status != 0 {
                    self.outcome
                        .settle(Outcome::FailureStatus { status, message_id });
                    self.finish(assoc, now);
                } else if self.stats.sent < self.repeat {
                    self.send(assoc, now);
                } else {
                    self.finish(assoc, now);
                }
            }
            _ => {
                if let Some(o) = ending(event, self.phase == Phase::Releasing) {
                    self.outcome.settle(o);
                }
            }
        }
        if assoc.is_closed() {
            self.phase = Phase::Done;
        }
    }

    fn send(&mut self, assoc: &mut Association<'_>, now: Instant) {
        match assoc.send_echo(now) {
            Ok(_) => self.stats.sent += 1,
            Err(_) => {
                self.outcome.settle(Outcome::Incomplete);
                assoc.abort(now);
            }
        }
    }

    /// The echoes are over (or pointless): release, or abort if asked to.
    fn finish(&mut self, assoc: &mut Association<'_>, now: Instant) {
        self.phase = Phase::Releasing;
        if self.abort_at_end {
            self.outcome.settle(Outcome::Healthy(Release::AbortedByUs));
            assoc.abort(now);
        } else if assoc.release(now).is_err() {
            assoc.abort(now);
        }
    }

    /// Whether the check has its verdict and the association is over.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The verdict so far (`Incomplete` before there is one).
    pub fn outcome(&self) -> Outcome {
        self.outcome.or(Outcome::Incomplete)
    }

    /// Round-trip statistics.
    pub fn stats(&self) -> EchoStats {
        self.stats
    }
}

/// How a check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// C-ECHO-RQs to send, one after the other (at least 1).
    pub repeat: u32,
    /// End with A-ABORT instead of A-RELEASE-RQ (echoscu `--abort`).
    pub abort_at_end: bool,
    /// Cap on the whole association.
    pub deadline: Option<Instant>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            repeat: 1,
            abort_at_end: false,
            deadline: None,
        }
    }
}
