//! The find sessions the drivers run (feature `find`): a requestor's find check and (feature
//! `find-scp`) an acceptor answering C-FIND from records, each a [`Handler`] over the one pump.

use super::Handler;
use crate::assoc::{Association, Event};
use crate::dimse::dataset::DataSet;
use crate::find::{FindChecker, FindEvent, FindOptions, FindReport};
use crate::time::Instant;
#[cfg(feature = "find-scp")]
use {super::answer_request, crate::assoc::AcceptPolicy, crate::find::Responder};

/// A find check: the caller's observer (which sees each match), then the checker.
pub(super) struct FindSession<'q, F> {
    pub(super) checker: FindChecker<'q>,
    observe: F,
    deadline: Option<Instant>,
}

impl<'q, F: FnMut(&Event, Option<&DataSet<'_>>)> FindSession<'q, F> {
    pub(super) fn new(options: FindOptions<'q>, observe: F) -> Self {
        FindSession {
            checker: FindChecker::new(options),
            observe,
            deadline: options.deadline,
        }
    }

    /// Starts the fresh machine `assoc` on a connected transport at `now`.
    pub(super) fn start(&self, assoc: &mut Association<'_>, now: Instant) {
        assoc.set_deadline(self.deadline);
        assoc.connected(now);
    }

    /// What the check found.
    pub(super) fn report(&self, assoc: &Association<'_>, options: &FindOptions<'_>) -> FindReport {
        FindReport {
            outcome: self.checker.outcome(),
            stats: self.checker.stats(),
            negotiated: assoc.negotiated().copied(),
            context: assoc.find_context(options.model),
        }
    }
}

impl<F: FnMut(&Event, Option<&DataSet<'_>>)> Handler for FindSession<'_, F> {
    fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        let with_match = matches!(
            event,
            Event::Find(FindEvent::Response {
                has_match: true,
                ..
            })
        );
        let m = if with_match { assoc.find_match() } else { None };
        (self.observe)(event, m.as_ref());
        self.checker.on_event(assoc, now, event);
    }
}

/// An acceptor that answers C-FIND (and C-ECHO) after `policy` lets the association in.
#[cfg(feature = "find-scp")]
pub(super) struct ServeFindSession<'p, F> {
    policy: &'p AcceptPolicy<'p>,
    pub(super) responder: Responder<'p>,
    observe: F,
}

#[cfg(feature = "find-scp")]
impl<'p, F: FnMut(&Event)> ServeFindSession<'p, F> {
    pub(super) fn new(
        policy: &'p AcceptPolicy<'p>,
        records: &'p [DataSet<'p>],
        observe: F,
    ) -> Self {
        ServeFindSession {
            policy,
            responder: Responder::new(records),
            observe,
        }
    }
}

#[cfg(feature = "find-scp")]
impl<F: FnMut(&Event)> Handler for ServeFindSession<'_, F> {
    fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        (self.observe)(event);
        if answer_request(self.policy, assoc, now, event).is_none() {
            self.responder.on_event(assoc, now, event);
        }
    }
}
