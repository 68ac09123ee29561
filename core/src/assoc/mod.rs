//! The sans-IO association: PS3.8's Upper Layer state machine (the Sta1..Sta13 subset an
//! echo needs), both roles, with the C-ECHO exchange on top.
//!
//! The machine never touches a socket or a clock. A driver loops:
//!
//! 1. take everything from [`Association::poll_transmit`] and write each PDU in one call;
//! 2. take everything from [`Association::poll_event`] and react (the caller may call
//!    `accept`, `send_echo`, `release` ...);
//! 3. if [`Association::should_close`], close the transport and stop;
//! 4. otherwise read with a deadline of [`Association::poll_timeout`] and hand the bytes to
//!    [`Association::handle_bytes`] (EOF: [`Association::handle_close`], deadline:
//!    [`Association::handle_timeout`]).
//!
//! `handle_bytes` takes at most one PDU per call and takes nothing while events or transmits
//! are waiting, so the queues stay small and fixed.
//!
//! This file holds the machine, its public API and its timers; beside it, `receive` frames and
//! dispatches incoming PDUs, `negotiate` answers and reads A-ASSOCIATE, and `message` carries
//! the C-ECHO exchange over P-DATA-TF.

mod config;
mod event;
#[cfg(feature = "find")]
mod find;
mod message;
mod negotiate;
mod receive;
mod ring;

pub use config::{
    AcceptPolicy, Config, Role, ACCEPTABLE_TRANSFER_SYNTAXES, DEFAULT_TRANSFER_SYNTAXES,
    IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME,
};
pub use event::{Event, Negotiated, Text, Timeout, Timer, TransferSyntax, Violation};

use core::fmt;

use ring::Ring;

use crate::time::{Duration, Instant};
use crate::wire::{
    self, Abort, AbortReason, AbortSource, AeTitle, AssociateRj, PcResult, Pdu, HEADER_LEN,
};

/// Misuse of the machine's API (protocol trouble is reported as [`Event`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The call does not fit the current state (e.g. `send_echo` before `Accepted`).
    InvalidState,
    /// The transmit buffer is smaller than the next PDU; nothing was written.
    BufferTooSmall {
        /// Bytes the PDU needs.
        required: usize,
    },
    /// The association is over.
    Closed,
    /// A data set to send cannot be encoded (feature `find`).
    #[cfg(feature = "find")]
    BadDataSet(crate::dimse::dataset::Error),
}

impl Error {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn crate::text::Sink) {
        match self {
            Error::InvalidState => t.put("operation not allowed in this association state"),
            Error::BufferTooSmall { required } => {
                crate::text::too_small(t, "transmit buffer", *required)
            }
            Error::Closed => t.put("association closed"),
            #[cfg(feature = "find")]
            Error::BadDataSet(e) => {
                t.put("data set: ");
                e.write_text(t);
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

impl core::error::Error for Error {}

/// The most presentation contexts one association can carry (odd IDs 1..=255).
pub const MAX_CONTEXTS: usize = 128;
/// The largest command set we take (a C-ECHO message is under 100 bytes).
const MAX_COMMAND: usize = 256;
/// The largest command set we send.
const MAX_MESSAGE: usize = 96;

/// PS3.8 states, as far as an echo needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// Sta1 before `connected()` (Sta4 for a requestor).
    Idle,
    /// Sta2: acceptor, waiting for A-ASSOCIATE-RQ (ARTIM running).
    AwaitingRequest,
    /// Sta3: acceptor, waiting for the local `accept`/`reject`.
    AwaitingLocalResponse,
    /// Sta5: requestor, waiting for A-ASSOCIATE-AC/RJ.
    AwaitingResponse,
    /// Sta6: established.
    Established,
    /// Sta7: sent A-RELEASE-RQ, waiting for A-RELEASE-RP.
    AwaitingReleaseResponse,
    /// Sta10/Sta11: release collision, waiting for the peer's A-RELEASE-RP.
    ReleaseCollision,
    /// Sta13: waiting for the peer to close the transport (ARTIM running).
    AwaitingClose,
    /// Sta1 at the end: close the transport once the transmit queue is empty.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    AssociateRq,
    AssociateAc,
    AssociateRj(AssociateRj),
    /// The command set in `msg`, from `msg_off`, split to the peer's maximum PDU.
    Message,
    /// The data set in the find buffer that follows the last command.
    #[cfg(feature = "find")]
    Data,
    ReleaseRq,
    ReleaseRp,
    Abort(Abort),
}

/// Per proposed context: what the acceptor answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decision {
    id: u8,
    result: PcResult,
    /// Index into `config.transfer_syntaxes` when accepted.
    ts: u8,
}

/// One association, either role. See the [module documentation](self) for the driver loop.
pub struct Association<'a> {
    config: Config<'a>,
    rx: &'a mut [u8],
    rx_cap: usize,
    rx_len: usize,
    rx_need: usize,
    in_body: bool,
    state: State,
    timer: Option<(Timer, Instant)>,
    deadline: Option<Instant>,
    events: Ring<Event, 8>,
    tx: Ring<Tx, 6>,
    // negotiation
    called: AeTitle,
    calling: AeTitle,
    negotiated: Option<Negotiated>,
    accepted: [u8; 32],
    decisions: [Decision; MAX_CONTEXTS],
    n_decisions: u8,
    peer_max_pdu: u32,
    // DIMSE
    cmd: [u8; MAX_COMMAND],
    cmd_len: usize,
    cmd_pc: Option<u8>,
    msg: [u8; MAX_MESSAGE],
    msg_len: usize,
    msg_off: usize,
    msg_pc: u8,
    next_message_id: u16,
    outstanding: Option<(u16, Option<Instant>)>,
    #[cfg(feature = "find")]
    find: find::FindState<'a>,
}

impl fmt::Debug for Association<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Association")
            .field("role", &self.config.role)
            .field("state", &self.state)
            .field("timer", &self.timer)
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

fn abort(source: AbortSource, reason: AbortReason) -> Abort {
    Abort { source, reason }
}

fn user_abort() -> Abort {
    abort(AbortSource::ServiceUser, AbortReason::NotSpecified)
}

impl<'a> Association<'a> {
    /// A machine in `Idle`. `rx_buf` holds one incoming PDU: its length minus the 6-byte
    /// header is the maximum PDU length we announce and accept (at least 1 KiB is sensible;
    /// the A-ASSOCIATE PDUs of a peer must fit too).
    pub fn new(config: Config<'a>, rx_buf: &'a mut [u8], _now: Instant) -> Self {
        Association {
            called: config.peer_ae,
            calling: config.local_ae,
            config,
            rx_cap: rx_buf.len(),
            rx: rx_buf,
            rx_len: 0,
            rx_need: HEADER_LEN,
            in_body: false,
            state: State::Idle,
            timer: None,
            deadline: None,
            events: Ring::new(),
            tx: Ring::new(),
            negotiated: None,
            accepted: [0; 32],
            decisions: [Decision {
                id: 0,
                result: PcResult::Acceptance,
                ts: 0,
            }; MAX_CONTEXTS],
            n_decisions: 0,
            peer_max_pdu: 0,
            cmd: [0; MAX_COMMAND],
            cmd_len: 0,
            cmd_pc: None,
            msg: [0; MAX_MESSAGE],
            msg_len: 0,
            msg_off: 0,
            msg_pc: 0,
            next_message_id: 1,
            outstanding: None,
            #[cfg(feature = "find")]
            find: find::FindState::new(),
        }
    }

    /// The role this machine plays.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// What was negotiated, once the association is established.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The maximum P-DATA-TF length we announce: the receive buffer less the PDU header.
    pub fn our_max_pdu(&self) -> u32 {
        u32::try_from(self.rx_cap.saturating_sub(HEADER_LEN)).unwrap_or(u32::MAX)
    }

    /// Caps the whole association: at `deadline` it is aborted (or just closed before it
    /// exists) and `Event::Timeout(Timeout::Deadline)` is reported.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    // ------------------------------------------------------------------ user requests

    /// The transport is connected. Requestor: queues the A-ASSOCIATE-RQ (Evt2/AE-2).
    /// Acceptor: starts ARTIM and waits for the RQ (Evt5/AE-5).
    pub fn connected(&mut self, now: Instant) {
        if self.state != State::Idle {
            return;
        }
        match self.config.role {
            Role::Requestor => {
                self.called = self.config.peer_ae;
                self.calling = self.config.local_ae;
                self.tx.push(Tx::AssociateRq);
                self.enter(State::AwaitingResponse, Some(Timer::Acse), now);
            }
            Role::Acceptor => self.enter(State::AwaitingRequest, Some(Timer::Artim), now),
        }
    }

    /// Ask for an orderly release (Evt11/AR-1).
    pub fn release(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != State::Established {
            return Err(self.state_error());
        }
        self.tx.push(Tx::ReleaseRq);
        self.enter(State::AwaitingReleaseResponse, Some(Timer::Release), now);
        Ok(())
    }

    /// Abort (Evt15/AA-1): queue an A-ABORT (source service-user) where the peer is
    /// listening, then close once it is sent.
    pub fn abort(&mut self, now: Instant) {
        match self.state {
            State::Closed => {}
            State::Idle | State::AwaitingRequest | State::AwaitingClose => self.close(),
            _ => {
                self.tx.clear();
                self.tx.push(Tx::Abort(user_abort()));
                self.close();
            }
        }
        let _ = now;
    }

    // ------------------------------------------------------------------ polling

    /// The next event, if any. Call after every `handle_*` and user request, until `None`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        #[cfg(feature = "find")]
        if self.events.is_empty() {
            self.resume_pdata();
        }
        self.events.pop()
    }

    /// The earliest instant at which [`handle_timeout`](Self::handle_timeout) has work.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timer = self.timer.map(|(_, at)| at);
        let never = Instant::from_micros(u64::MAX);
        match (timer, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .filter(|at| *at != never && self.state != State::Closed)
    }

    /// Whether the transport should be closed now: the association is over and every PDU
    /// has been taken from `poll_transmit`.
    #[must_use]
    pub fn should_close(&self) -> bool {
        self.state == State::Closed && self.tx.is_empty()
    }

    /// Whether the association is over (the transport may still have PDUs to send).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Writes the next PDU to send into `buf` and returns its length, or `None`. Write each
    /// PDU in one call (no Nagle stalls).
    #[must_use = "the PDU must be sent"]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Result<Option<usize>, Error> {
        let Some(tx) = self.tx.peek() else {
            return Ok(None);
        };
        let written = match tx {
            Tx::AssociateRq => self.emit_rq(buf)?,
            Tx::AssociateAc => self.emit_ac(buf)?,
            Tx::AssociateRj(rj) => emit(&Pdu::AssociateRj(rj), buf)?,
            Tx::ReleaseRq => emit(&Pdu::ReleaseRq, buf)?,
            Tx::ReleaseRp => emit(&Pdu::ReleaseRp, buf)?,
            Tx::Abort(a) => emit(&Pdu::Abort(a), buf)?,
            Tx::Message => {
                let n = self.emit_fragment(buf)?;
                if self.msg_off < self.msg_len {
                    return Ok(Some(n));
                }
                self.msg_len = 0;
                self.msg_off = 0;
                if let Some((id, None)) = self.outstanding {
                    self.outstanding = Some((id, Some(now)));
                    if self.state == State::Established {
                        self.set_timer(Some(Timer::Dimse), now);
                    }
                }
                n
            }
            #[cfg(feature = "find")]
            Tx::Data => match self.emit_data(now, buf)? {
                (n, false) => return Ok(Some(n)),
                (n, true) => n,
            },
        };
        self.tx.pop();
        Ok(Some(written))
    }

    // ------------------------------------------------------------------ input

    /// The transport closed or was reset (Evt17).
    pub fn handle_close(&mut self, now: Instant) {
        let _ = now;
        match self.state {
            State::Closed => {}
            State::AwaitingClose | State::Idle => self.close(),
            _ => {
                self.events.push(Event::Closed);
                self.close();
            }
        }
        self.tx.clear();
    }

    /// Call at or after [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            self.events.push(Event::Timeout(Timeout::Deadline));
            self.abort(now);
            return;
        }
        let Some((timer, at)) = self.timer else {
            return;
        };
        if now < at {
            return;
        }
        self.timer = None;
        match (timer, self.state) {
            (Timer::Artim, State::AwaitingClose) => self.close(),
            (Timer::Artim, _) => {
                self.events.push(Event::Timeout(Timer::Artim.into()));
                self.close();
            }
            (t, _) => {
                self.events.push(Event::Timeout(t.into()));
                self.abort(now);
            }
        }
    }

    // ------------------------------------------------------------------ internals

    fn state_error(&self) -> Error {
        if self.state == State::Closed {
            Error::Closed
        } else {
            Error::InvalidState
        }
    }

    fn enter(&mut self, state: State, timer: Option<Timer>, now: Instant) {
        self.state = state;
        self.set_timer(timer, now);
    }

    // Out of line: nearly every state change calls it, and inlined copies cost a firmware flash.
    #[inline(never)]
    fn set_timer(&mut self, timer: Option<Timer>, now: Instant) {
        self.timer = timer.map(|t| {
            let d = match t {
                Timer::Acse | Timer::Release => self.config.acse_timeout,
                Timer::Dimse => self.config.dimse_timeout,
                Timer::Artim => self.config.artim_timeout,
            };
            let at = if d == Duration::MAX {
                Instant::from_micros(u64::MAX)
            } else {
                now + d
            };
            (t, at)
        });
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.timer = None;
    }

    /// AA-8 (AA-1 before an RQ): report, queue an A-ABORT, close after it is sent.
    fn violation(&mut self, kind: Violation, now: Instant) {
        let _ = now;
        let reason = match kind {
            Violation::UnrecognizedPdu(_) => AbortReason::UnrecognizedPdu,
            Violation::UnexpectedPdu(_) => AbortReason::UnexpectedPdu,
            Violation::Malformed(_)
            | Violation::PduTooLong { .. }
            | Violation::ProtocolVersion(_) => AbortReason::InvalidParameter,
            Violation::ApplicationContext => AbortReason::UnexpectedParameter,
            _ => AbortReason::NotSpecified,
        };
        let a = match self.state {
            State::AwaitingRequest => user_abort(),
            _ => abort(AbortSource::ServiceProvider, reason),
        };
        self.tx.clear();
        self.tx.push(Tx::Abort(a));
        self.events.push(Event::Violation {
            kind,
            abort: Some(a),
        });
        self.close();
    }
}

fn emit(pdu: &Pdu<'_>, buf: &mut [u8]) -> Result<usize, Error> {
    pdu.emit(buf).map_err(|e| match e {
        wire::Error::BufferTooSmall { required } => Error::BufferTooSmall { required },
        _ => Error::BufferTooSmall {
            required: pdu.buffer_len(),
        },
    })
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
