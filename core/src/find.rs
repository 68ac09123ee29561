//! C-FIND (PS3.4 C.4.1, K.4.1; PS3.7 9.1.2, 9.3.2): the query models, the requestor's health
//! check ([`FindChecker`]) and, with feature `find-scp`, the acceptor's matching of records
//! (`answer`, `Responder`). Feature `find`.
//!
//! # Shape of the API
//!
//! * Negotiation: [`Config::find_models`](crate::assoc::Config) lists the [`Model`]s a
//!   requestor proposes (one presentation context each, with `config.transfer_syntaxes`, after
//!   the Verification contexts) or an acceptor serves. What was accepted:
//!   [`Association::find_context`](crate::Association::find_context).
//! * Buffers: a find needs a third caller buffer for identifiers,
//!   [`Association::with_find_buffer`](crate::Association::with_find_buffer): the requestor
//!   encodes its identifier there and reassembles each match there (from any number of PDVs
//!   and P-DATA-TF PDUs); the acceptor keeps the query in its front and writes each response
//!   identifier behind it. A data set that does not fit is a [`Violation::DataSetTooLong`]
//!   (A-ABORT), never a panic.
//! * Requestor: `assoc.send_find(now, model, keys)` (identifier from [`Key`]s, encoded in the
//!   context's transfer syntax), then `Event::Find(`[`FindEvent::Response`]`)`
//!   per C-FIND-RSP; when `has_match`, `assoc.find_match()` is the match, a borrowed
//!   [`DataSet`](dataset::DataSet), **valid until the next call that feeds bytes** (`handle_bytes`).
//!   `assoc.cancel_find(now)` sends C-CANCEL-RQ; further pendings and the final status still
//!   arrive as events.
//! * Acceptor (feature `find-scp`): `FindEvent::Request` when a C-FIND-RQ and its identifier are in;
//!   `assoc.find_query()` is the identifier; answer with `assoc.send_find_pending(now, write)`
//!   (one at a time: the next after `FindEvent::ResponseSent`) and end with
//!   `assoc.send_find_final(now, status)`. `FindEvent::CancelRequested` when the peer sends
//!   C-CANCEL-RQ (then end with [`status::CANCEL`]). `answer` matches one record. Without the
//!   feature an acceptor serves no FIND model and takes a C-FIND-RQ as an unexpected command,
//!   as an echo-only build does: a requestor-only build (a probe) carries none of it.
//! * Verdict: [`FindChecker`] is a pump handler ([`crate::io::Handler`]) for the requestor;
//!   [`FindOutcome`] has one variant per failure. The drivers: `io::blocking::find`,
//!   `io::asynch::find` (requestor), `io::blocking::serve_find`, `io::asynch::serve_find`
//!   (acceptor answering from a slice of records, feature `find-scp`), all over the one pump.
//!
//! Keys by keyword for the command line: [`dataset::keyword`].
//!
//! For a crate that uses it: enable feature `find` on echoprobe-core; `Event` then has the
//! variant `Event::Find(FindEvent)` (add an arm to exhaustive matches) and `Violation` the
//! variant `DataSetTooLong`. Without the feature nothing of this is compiled, and an echo-only
//! firmware stays byte-for-byte the size it was.
//!
//! Checked by hand against real peers (loopback): the blocking `find` against DCMTK 3.6.7
//! dcmqrscp (match, unknown UID: too few matches), and `serve_find` answering DCMTK findscu
//! (`-S`, `-W`) and pynetdicom 3.0 `send_c_find`.

use core::fmt;

use crate::assoc::{Association, Event, Timeout, Timer, Violation};
use crate::check::{Outcome, Release, Verdict};
use crate::dimse::dataset::{self, Key};
use crate::dimse::StatusClass;
use crate::time::{Duration, Instant};
use crate::wire::Uid;

#[cfg(feature = "find-scp")]
mod matching;
#[cfg(feature = "find-scp")]
pub use matching::answer;

/// C-FIND status codes (PS3.4 C.4.1.1.4, K.4.1.1.4; PS3.7 C).
pub mod status {
    /// Matching is complete.
    pub const SUCCESS: u16 = 0x0000;
    /// Matching terminated due to Cancel.
    pub const CANCEL: u16 = 0xFE00;
    /// Matches are continuing; current match supplied.
    pub const PENDING: u16 = 0xFF00;
    /// Matches are continuing; optional keys not supported.
    pub const PENDING_WARNING: u16 = 0xFF01;
    /// Refused: out of resources.
    pub const OUT_OF_RESOURCES: u16 = 0xA700;
    /// Error: identifier does not match SOP class.
    pub const IDENTIFIER_MISMATCH: u16 = 0xA900;
    /// Failed: unable to process.
    pub const UNABLE_TO_PROCESS: u16 = 0xC000;
}

/// (0000,0100) CommandField of a C-FIND-RQ.
pub const C_FIND_RQ: u16 = 0x0020;
/// (0000,0100) CommandField of a C-FIND-RSP.
pub const C_FIND_RSP: u16 = 0x8020;
/// (0000,0100) CommandField of a C-CANCEL-RQ.
pub const C_CANCEL_RQ: u16 = 0x0FFF;
/// (0000,0800) CommandDataSetType: a data set follows (PS3.7 E.2: any value but 0x0101; 0x0001
/// as DCMTK sends, see the captured C-FIND-RQ in the tests).
pub const DATA_SET_PRESENT: u16 = 0x0001;
/// (0000,0700) Priority MEDIUM.
pub const PRIORITY_MEDIUM: u16 = 0x0000;
/// (0008,0052) QueryRetrieveLevel.
pub const QUERY_RETRIEVE_LEVEL: u32 = 0x0008_0052;
/// (0008,0005) SpecificCharacterSet.
pub const SPECIFIC_CHARACTER_SET: u32 = 0x0008_0005;

/// A C-FIND information model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Model {
    /// Study Root Query/Retrieve Information Model - FIND (findscu `-S`).
    StudyRoot,
    /// Patient Root Query/Retrieve Information Model - FIND (findscu `-P`).
    PatientRoot,
    /// Modality Worklist Information Model - FIND (findscu `-W`).
    Worklist,
}

impl Model {
    /// Every model.
    pub const ALL: [Model; 3] = [Model::StudyRoot, Model::PatientRoot, Model::Worklist];

    /// Its SOP class UID (PS3.4 B.5).
    pub const fn uid(self) -> Uid<'static> {
        Uid::new_unchecked(match self {
            Model::StudyRoot => b"1.2.840.10008.5.1.4.1.2.2.1",
            Model::PatientRoot => b"1.2.840.10008.5.1.4.1.2.1.1",
            Model::Worklist => b"1.2.840.10008.5.1.4.31",
        })
    }

    /// The model of a SOP class UID (a trailing NUL pad is ignored).
    pub fn from_uid(uid: &[u8]) -> Option<Model> {
        let uid = uid.strip_suffix(&[0]).unwrap_or(uid);
        Model::ALL.into_iter().find(|m| m.uid().as_bytes() == uid)
    }

    /// Index into [`Model::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Model::StudyRoot => 0,
            Model::PatientRoot => 1,
            Model::Worklist => 2,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Model::StudyRoot => "Study Root Query/Retrieve - FIND",
            Model::PatientRoot => "Patient Root Query/Retrieve - FIND",
            Model::Worklist => "Modality Worklist - FIND",
        })
    }
}

/// An accepted FIND presentation context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FindContext {
    /// Its presentation context ID.
    pub pc_id: u8,
    /// Its model.
    pub model: Model,
    /// Explicit VR Little Endian (else Implicit VR Little Endian).
    pub explicit: bool,
}

/// What the machine reports about C-FIND (inside [`Event::Find`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FindEvent {
    /// Requestor: a C-FIND-RSP (and its identifier, if any) arrived. When `has_match`,
    /// `Association::find_match` is the identifier until the next `handle_bytes`.
    Response {
        /// MessageIDBeingRespondedTo.
        message_id: u16,
        /// Status: 0xFF00/0xFF01 pending, else final.
        status: u16,
        /// Whether an identifier came with it.
        has_match: bool,
        /// From the request's (or the previous response's) arrival to this one.
        rtt: Duration,
    },
    /// Acceptor: a C-FIND-RQ with its identifier (`Association::find_query`). Feature
    /// `find-scp`.
    #[cfg(feature = "find-scp")]
    Request {
        /// Its MessageID.
        message_id: u16,
        /// Its model (from the presentation context).
        model: Model,
    },
    /// Acceptor: the last pending response is sent; queue the next one or the final status.
    /// Feature `find-scp`.
    #[cfg(feature = "find-scp")]
    ResponseSent {
        /// The request it answers.
        message_id: u16,
    },
    /// Acceptor: the peer sent C-CANCEL-RQ for the request being answered. Feature `find-scp`.
    #[cfg(feature = "find-scp")]
    CancelRequested {
        /// The request to cancel.
        message_id: u16,
    },
}

/// What a find check asks.
#[derive(Debug, Clone, Copy)]
pub struct FindOptions<'q> {
    /// The model to query.
    pub model: Model,
    /// The identifier: keys in increasing tag order (empty value: return key).
    pub keys: &'q [Key<'q>],
    /// Healthy only with at least this many matches.
    pub min_matches: u32,
    /// Send C-CANCEL-RQ after this many matches (`None`: take them all).
    pub max_matches: Option<u32>,
    /// Healthy only if some match has this element with this value (trailing padding ignored).
    pub required: Option<(u32, &'q [u8])>,
    /// Cap on the whole association.
    pub deadline: Option<Instant>,
}

impl<'q> FindOptions<'q> {
    /// A query of `model` with `keys`: at least one match, at most 16, no required value.
    pub fn new(model: Model, keys: &'q [Key<'q>]) -> Self {
        FindOptions {
            model,
            keys,
            min_matches: 1,
            max_matches: Some(16),
            required: None,
            deadline: None,
        }
    }
}

/// The verdict of a find check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FindOutcome {
    /// Final status success (or cancel after our C-CANCEL-RQ), enough matches, the required
    /// value seen.
    Healthy {
        /// How the association ended.
        release: Release,
        /// Whether we cancelled after `max_matches`.
        cancelled: bool,
    },
    /// The association failed before or around the query, as for the echo (rejected, no
    /// presentation context at all, ACSE timeout, deadline, abort, violation, close).
    Association(Outcome),
    /// The association is up, but none of our FIND presentation contexts was accepted.
    NoFindContext,
    /// The identifier does not fit the find buffer or cannot be encoded.
    Identifier(dataset::Error),
    /// A match larger than the find buffer (we aborted).
    MatchTooLarge {
        /// The find buffer's size.
        max: usize,
    },
    /// No C-FIND-RSP in time.
    DimseTimeout,
    /// A final status that is neither success nor (after our cancel) cancel: failure,
    /// warning, or a cancel we did not ask for.
    FailureStatus {
        /// The status.
        status: u16,
    },
    /// Fewer matches than `min_matches`.
    TooFewMatches {
        /// Matches received.
        matches: u32,
        /// Required.
        min: u32,
    },
    /// No match carried the required value.
    RequiredValueMissing {
        /// Matches received.
        matches: u32,
    },
}

impl FindOutcome {
    /// Whether the query proved the peer answers.
    pub fn is_healthy(&self) -> bool {
        matches!(self, FindOutcome::Healthy { .. })
    }
}

impl FindOutcome {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn crate::text::Sink) {
        match self {
            FindOutcome::Healthy {
                release, cancelled, ..
            } => {
                Outcome::Healthy(*release).write_text(t);
                if *cancelled {
                    t.put(" (query cancelled after max matches)");
                }
            }
            FindOutcome::Association(o) => o.write_text(t),
            o => o.write_find_text(t),
        }
    }

    /// Writes the text of a failure only a find has (what `Display` shows for it); nothing for
    /// `Healthy` and `Association`, whose texts are the echo's ([`Outcome::write_text`]). A
    /// caller that reports those as the echo's outcomes (the firmware) writes the rest with
    /// this, and carries no second path to the echo's texts.
    pub fn write_find_text(&self, t: &mut dyn crate::text::Sink) {
        match self {
            FindOutcome::Healthy { .. } | FindOutcome::Association(_) => {}
            FindOutcome::NoFindContext => t.put(
                "no FIND presentation context accepted (peer does not offer the query model with our transfer syntaxes)",
            ),
            FindOutcome::Identifier(e) => {
                t.put("query identifier: ");
                e.write_text(t);
            }
            FindOutcome::MatchTooLarge { max } => {
                t.put("a match is larger than the ");
                t.dec(*max as u64);
                t.put("-byte find buffer (aborted)");
            }
            FindOutcome::DimseTimeout => t.put("DIMSE timeout: no C-FIND-RSP"),
            FindOutcome::FailureStatus { status } => {
                t.put("C-FIND-RSP status 0x");
                t.hex(u32::from(*status), 4, true);
                t.put(" (");
                t.put(StatusClass::of(*status).as_str());
                t.put(": ");
                t.put(describe(*status));
                t.put(")");
            }
            FindOutcome::TooFewMatches { matches, min } => {
                t.put("too few matches: ");
                t.dec(u64::from(*matches));
                t.put(", at least ");
                t.dec(u64::from(*min));
                t.put(" required");
            }
            FindOutcome::RequiredValueMissing { matches } => {
                t.put("no match of ");
                t.dec(u64::from(*matches));
                t.put(" carries the required value");
            }
        }
    }
}

impl fmt::Display for FindOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

/// A short description of a C-FIND status (PS3.4 C.4.1.1.4, K.4.1.1.4).
pub const fn describe(status: u16) -> &'static str {
    match status {
        0xA700 => "Refused: out of resources",
        0xA900 => "Identifier does not match SOP class",
        0xC000..=0xCFFF => "Unable to process",
        0x0122 => "Refused: SOP class not supported",
        0xFE00 => "Matching terminated due to cancel",
        0xFF00 => "Pending",
        0xFF01 => "Pending (optional keys not supported)",
        _ => crate::dimse::status::describe(status),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Associating,
    Querying,
    Releasing,
    Done,
}

/// Counters and timings of a find check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FindStats {
    /// Matches received (pending responses with an identifier).
    pub matches: u32,
    /// C-FIND-RSPs received.
    pub responses: u32,
    /// Whether some match carried the required value.
    pub required_seen: bool,
    /// The final status, once received.
    pub final_status: Option<u16>,
    /// Whether we sent C-CANCEL-RQ.
    pub cancelled: bool,
    /// From the C-FIND-RQ to the first response.
    pub first_response: Option<Duration>,
    /// The sum of the waits for each response.
    pub total: Duration,
}

/// Drives a requestor [`Association`] through a find check; feed it every event (it is a
/// [`crate::io::Handler`]).
#[derive(Debug, Clone, Copy)]
pub struct FindChecker<'q> {
    options: FindOptions<'q>,
    phase: Phase,
    outcome: Verdict<FindOutcome>,
    stats: FindStats,
}

impl<'q> FindChecker<'q> {
    /// A check of `options`.
    pub fn new(options: FindOptions<'q>) -> Self {
        FindChecker {
            options,
            phase: Phase::Associating,
            outcome: Verdict::PENDING,
            stats: FindStats::default(),
        }
    }

    /// Reacts to one event of `assoc`.
    pub fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        match *event {
            Event::Accepted(_) => self.query(assoc, now),
            Event::NoPresentationContext => {
                self.outcome
                    .settle(FindOutcome::Association(Outcome::NoPresentationContext));
                self.finish(assoc, now);
            }
            Event::Find(FindEvent::Response {
                status,
                has_match,
                rtt,
                ..
            }) => self.on_response(assoc, now, status, has_match, rtt),
            Event::Violation {
                kind: Violation::DataSetTooLong { max },
                ..
            } => self.outcome.settle(FindOutcome::MatchTooLarge { max }),
            Event::Timeout(Timeout::Timer(Timer::Dimse)) => {
                self.outcome.settle(FindOutcome::DimseTimeout)
            }
            // The rest ends a find as it ends an echo.
            _ => match crate::check::ending(event, self.phase == Phase::Releasing) {
                Some(Outcome::Healthy(release)) => self.settle_healthy(release),
                Some(o) => self.outcome.settle(FindOutcome::Association(o)),
                None => {}
            },
        }
        if assoc.is_closed() {
            self.phase = Phase::Done;
        }
    }

    fn query(&mut self, assoc: &mut Association<'_>, now: Instant) {
        self.phase = Phase::Querying;
        if assoc.find_context(self.options.model).is_none() {
            self.outcome.settle(FindOutcome::NoFindContext);
            self.finish(assoc, now);
            return;
        }
        if let Err(e) = assoc.send_find(now, self.options.model, self.options.keys) {
            self.outcome.settle(match e {
                crate::assoc::Error::BufferTooSmall { required } => {
                    FindOutcome::Identifier(dataset::Error::BufferTooSmall { required })
                }
                crate::assoc::Error::BadDataSet(d) => FindOutcome::Identifier(d),
                _ => FindOutcome::Association(Outcome::Incomplete),
            });
            self.finish(assoc, now);
        }
    }

    fn on_response(
        &mut self,
        assoc: &mut Association<'_>,
        now: Instant,
        status: u16,
        has_match: bool,
        rtt: Duration,
    ) {
        let s = &mut self.stats;
        s.responses += 1;
        s.total = s.total + rtt;
        if s.first_response.is_none() {
            s.first_response = Some(rtt);
        }
        if StatusClass::of(status) == StatusClass::Pending {
            if has_match {
                s.matches = s.matches.saturating_add(1);
                if let (Some((tag, want)), Some(m)) = (self.options.required, assoc.find_match()) {
                    if let Ok(Some(e)) = m.get(tag) {
                        if e.trimmed() == dataset::trim(want) {
                            s.required_seen = true;
                        }
                    }
                }
            }
            let enough = self.options.max_matches.is_some_and(|max| s.matches >= max);
            if enough && !s.cancelled && assoc.cancel_find(now).is_ok() {
                s.cancelled = true;
            }
            return;
        }
        s.final_status = Some(status);
        let ok = status == status::SUCCESS || (status == status::CANCEL && s.cancelled);
        if !ok {
            self.outcome.settle(FindOutcome::FailureStatus { status });
        } else if s.matches < self.options.min_matches {
            let (matches, min) = (s.matches, self.options.min_matches);
            self.outcome
                .settle(FindOutcome::TooFewMatches { matches, min });
        } else if self.options.required.is_some() && !s.required_seen {
            let matches = s.matches;
            self.outcome
                .settle(FindOutcome::RequiredValueMissing { matches });
        }
        self.finish(assoc, now);
    }

    fn finish(&mut self, assoc: &mut Association<'_>, now: Instant) {
        self.phase = Phase::Releasing;
        if assoc.release(now).is_err() {
            assoc.abort(now);
        }
    }

    fn settle_healthy(&mut self, release: Release) {
        let cancelled = self.stats.cancelled;
        self.outcome
            .settle(FindOutcome::Healthy { release, cancelled });
    }

    /// Whether the check has its verdict and the association is over.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The verdict so far (`Association(Incomplete)` before there is one).
    pub fn outcome(&self) -> FindOutcome {
        self.outcome
            .or(FindOutcome::Association(Outcome::Incomplete))
    }

    /// Counters and timings.
    pub fn stats(&self) -> FindStats {
        self.stats
    }
}

impl crate::io::Handler for FindChecker<'_> {
    fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        FindChecker::on_event(self, assoc, now, event);
    }
}

/// The result of a find check: the verdict, the counters, and what was negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindReport {
    /// The verdict.
    pub outcome: FindOutcome,
    /// Matches, responses, timings.
    pub stats: FindStats,
    /// The association's parameters, if it got that far.
    pub negotiated: Option<crate::assoc::Negotiated>,
    /// The FIND context used, if one was accepted.
    pub context: Option<FindContext>,
}

/// An acceptor's answers to C-FIND-RQs from a fixed set of records (encoded data sets): a
/// pending response per matching record ([`answer`]), then success; cancel honoured with
/// 0xFE00; an identifier that does not parse answered with 0xA900, a response that does not
/// fit the find buffer with 0xA700. Feed it every event. Feature `find-scp`.
#[cfg(feature = "find-scp")]
#[derive(Debug, Clone, Copy)]
pub struct Responder<'r> {
    records: &'r [dataset::DataSet<'r>],
    next: usize,
    cancelled: bool,
    /// Matches sent so far, over the association.
    pub matches: u32,
    /// Requests answered so far.
    pub requests: u32,
}

#[cfg(feature = "find-scp")]
impl<'r> Responder<'r> {
    /// Answers from `records`.
    pub fn new(records: &'r [dataset::DataSet<'r>]) -> Self {
        Responder {
            records,
            next: 0,
            cancelled: false,
            matches: 0,
            requests: 0,
        }
    }

    /// Reacts to one event of `assoc`.
    pub fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        match event {
            Event::Find(FindEvent::Request { .. }) => {
                self.requests = self.requests.saturating_add(1);
                self.next = 0;
                self.cancelled = false;
                self.advance(assoc, now);
            }
            Event::Find(FindEvent::ResponseSent { .. }) => self.advance(assoc, now),
            Event::Find(FindEvent::CancelRequested { .. }) => self.cancelled = true,
            _ => {}
        }
    }

    /// Queues the next response: a match, or the final status.
    fn advance(&mut self, assoc: &mut Association<'_>, now: Instant) {
        if self.cancelled {
            let _ = assoc.send_find_final(now, status::CANCEL);
            return;
        }
        while let Some(record) = self.records.get(self.next) {
            self.next += 1;
            match assoc.send_find_pending(now, |query, out| answer(query, record, out)) {
                Ok(true) => {
                    self.matches = self.matches.saturating_add(1);
                    return;
                }
                Ok(false) => {}
                Err(crate::assoc::Error::BufferTooSmall { .. }) => {
                    let _ = assoc.send_find_final(now, status::OUT_OF_RESOURCES);
                    return;
                }
                Err(_) => {
                    let _ = assoc.send_find_final(now, status::IDENTIFIER_MISMATCH);
                    return;
                }
            }
        }
        let _ = assoc.send_find_final(now, status::SUCCESS);
    }
}

#[cfg(feature = "find-scp")]
impl crate::io::Handler for Responder<'_> {
    fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        Responder::on_event(self, assoc, now, event);
    }
}

#[cfg(test)]
mod tests;
