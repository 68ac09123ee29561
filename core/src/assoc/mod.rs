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

mod config;
mod event;
mod ring;

pub use config::{
    AcceptPolicy, Config, Role, ACCEPTABLE_TRANSFER_SYNTAXES, DEFAULT_TRANSFER_SYNTAXES,
    IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME,
};
pub use event::{Event, Negotiated, Text, Timer, TransferSyntax, Violation};

use core::fmt;

use ring::Ring;

use crate::dimse::{self, Command};
use crate::time::{Duration, Instant};
use crate::wire::{
    self, uid, Abort, AbortReason, AbortSource, AeTitle, AssociateAc, AssociateRj, AssociateRq,
    List, PData, PcAc, PcResult, PcRq, Pdu, PduType, Pdv, RejectResult, RejectSource, Status,
    UserInfo, HEADER_LEN,
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidState => f.write_str("operation not allowed in this association state"),
            Error::BufferTooSmall { required } => {
                write!(f, "transmit buffer too small: {required} bytes required")
            }
            Error::Closed => f.write_str("association closed"),
        }
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
    ReleaseRq,
    ReleaseRp,
    Abort(Abort),
}

/// Per proposed context: what the acceptor answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decision {
    id: u8,
    result: u8,
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
                result: 0,
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
    /// exists) and `Timeout(Deadline)` is reported.
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

    /// Acceptor: accept the requested association (Evt7/AE-7).
    pub fn accept(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != State::AwaitingLocalResponse {
            return Err(self.state_error());
        }
        self.tx.push(Tx::AssociateAc);
        let mut negotiated = self.negotiated.unwrap_or(self.blank_negotiated());
        let mut first = None;
        let mut n_accepted = 0u8;
        for d in self.decisions.iter().take(usize::from(self.n_decisions)) {
            if d.result == 0 {
                n_accepted = n_accepted.saturating_add(1);
                set_bit(&mut self.accepted, d.id);
                if first.is_none() {
                    first = Some(*d);
                }
            }
        }
        negotiated.accepted_contexts = n_accepted;
        if let Some(d) = first {
            negotiated.pc_id = d.id;
            negotiated.transfer_syntax = self
                .config
                .transfer_syntaxes
                .get(usize::from(d.ts))
                .map_or(TransferSyntax::Other, |u| TransferSyntax::from_uid(*u));
        }
        self.negotiated = Some(negotiated);
        self.enter(State::Established, Some(Timer::Dimse), now);
        if first.is_some() {
            self.events.push(Event::Accepted(negotiated));
        }
        Ok(())
    }

    /// Acceptor: reject the requested association (Evt8/AE-8).
    pub fn reject(&mut self, now: Instant, rj: AssociateRj) -> Result<(), Error> {
        if self.state != State::AwaitingLocalResponse {
            return Err(self.state_error());
        }
        self.tx.push(Tx::AssociateRj(rj));
        self.enter(State::AwaitingClose, Some(Timer::Artim), now);
        Ok(())
    }

    /// Requestor: send a C-ECHO-RQ on the negotiated context; returns its MessageID. One
    /// request is outstanding at a time (no asynchronous operations window).
    pub fn send_echo(&mut self, now: Instant) -> Result<u16, Error> {
        let pc_id = match (self.state, self.config.role, self.negotiated) {
            (State::Established, Role::Requestor, Some(n)) if n.accepted_contexts > 0 => n.pc_id,
            _ => return Err(self.state_error()),
        };
        if self.outstanding.is_some() || self.msg_len != 0 {
            return Err(Error::InvalidState);
        }
        let id = self.next_message_id;
        self.next_message_id = match self.next_message_id.wrapping_add(1) {
            0 => 1,
            n => n,
        };
        self.queue_message(Command::echo_rq(id), pc_id)?;
        self.outstanding = Some((id, None));
        self.set_timer(Some(Timer::Dimse), now);
        Ok(id)
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
        };
        self.tx.pop();
        Ok(Some(written))
    }

    // ------------------------------------------------------------------ input

    /// The transport delivered `data`. Returns how many bytes were taken: at most up to the
    /// end of one PDU, and none while events or transmits wait to be polled. After the
    /// association is over everything is taken and dropped.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) -> usize {
        if matches!(self.state, State::Closed | State::Idle) {
            return data.len();
        }
        if !self.events.is_empty() || !self.tx.is_empty() {
            return 0;
        }
        let mut taken = 0usize;
        loop {
            let rest = data.get(taken..).unwrap_or(&[]);
            let take = self.rx_need.saturating_sub(self.rx_len).min(rest.len());
            let (Some(src), Some(dst)) = (
                rest.get(..take),
                self.rx.get_mut(self.rx_len..self.rx_len + take),
            ) else {
                // The receive buffer cannot even hold a PDU header.
                self.violation(
                    Violation::PduTooLong {
                        length: 0,
                        max: self.our_max_pdu(),
                    },
                    now,
                );
                return data.len();
            };
            dst.copy_from_slice(src);
            self.rx_len += take;
            taken += take;
            if self.rx_len == HEADER_LEN && !self.in_body {
                self.in_body = true;
                self.on_header(now);
            }
            if self.state == State::Closed {
                self.reset_rx();
                return data.len();
            }
            if self.rx_len >= self.rx_need {
                self.on_pdu(now);
                self.reset_rx();
                return taken;
            }
            if taken >= data.len() {
                return taken;
            }
        }
    }

    fn reset_rx(&mut self) {
        self.rx_len = 0;
        self.rx_need = HEADER_LEN;
        self.in_body = false;
    }

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
            self.events.push(Event::Timeout(Timer::Deadline));
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
                self.events.push(Event::Timeout(Timer::Artim));
                self.close();
            }
            (t, _) => {
                self.events.push(Event::Timeout(t));
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

    fn set_timer(&mut self, timer: Option<Timer>, now: Instant) {
        self.timer = timer.map(|t| {
            let d = match t {
                Timer::Acse | Timer::Release => self.config.acse_timeout,
                Timer::Dimse => self.config.dimse_timeout,
                Timer::Artim | Timer::Deadline => self.config.artim_timeout,
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

    fn on_header(&mut self, now: Instant) {
        let max = self.our_max_pdu();
        let pdu_type = self.rx.first().copied().unwrap_or(0);
        if let PduType::Unknown(t) = PduType::from(pdu_type) {
            self.violation(Violation::UnrecognizedPdu(t), now);
            return;
        }
        match wire::frame(self.rx.get(..HEADER_LEN).unwrap_or(&[]), max) {
            Ok(Status::Complete(total)) => self.rx_need = total,
            Ok(Status::Partial) => {
                let len = self
                    .rx
                    .get(2..6)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_be_bytes);
                self.rx_need =
                    HEADER_LEN.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
            }
            Err(wire::Error::TooLong { length, max }) => {
                self.violation(Violation::PduTooLong { length, max }, now);
            }
            Err(e) => self.violation(Violation::Malformed(e), now),
        }
    }

    fn on_pdu(&mut self, now: Instant) {
        let len = self.rx_len;
        // Split borrows: parse from rx while mutating the rest of self.
        let rx = core::mem::take(&mut self.rx);
        match Pdu::parse(rx.get(..len).unwrap_or(&[])) {
            Ok(pdu) => self.dispatch(pdu, now),
            // Everywhere, Sta13 included (AA-7), an invalid PDU is answered with A-ABORT; we
            // then close rather than wait for more from a peer that already broke the protocol.
            Err(e) => self.violation(Violation::Malformed(e), now),
        }
        self.rx = rx;
    }

    fn dispatch(&mut self, pdu: Pdu<'_>, now: Instant) {
        let kind = pdu.pdu_type();
        match (self.state, pdu) {
            // Peer abort: AA-3 (AA-2 before an association exists).
            (State::AwaitingRequest | State::AwaitingClose, Pdu::Abort(_)) => self.close(),
            (_, Pdu::Abort(a)) => {
                self.events.push(Event::Aborted(a));
                self.close();
                self.tx.clear();
            }
            (State::AwaitingRequest, Pdu::AssociateRq(rq)) => self.on_request(&rq, now),
            (State::AwaitingResponse, Pdu::AssociateAc(ac)) => self.on_accept(&ac, now),
            (State::AwaitingResponse, Pdu::AssociateRj(rj)) => {
                self.events.push(Event::Rejected(rj));
                self.close();
            }
            (State::Established, Pdu::PData(p)) => self.on_pdata(&p, now),
            (State::AwaitingReleaseResponse, Pdu::PData(p)) => self.on_pdata(&p, now),
            (State::Established, Pdu::ReleaseRq) => {
                self.events.push(Event::ReleaseRequested);
                self.tx.push(Tx::ReleaseRp);
                self.events.push(Event::Released);
                self.enter(State::AwaitingClose, Some(Timer::Artim), now);
            }
            (State::AwaitingReleaseResponse, Pdu::ReleaseRp) => {
                self.events.push(Event::Released);
                self.release_done(now);
            }
            (State::AwaitingReleaseResponse, Pdu::ReleaseRq) => {
                // Release collision (AR-8): the requestor answers first (AR-9), the acceptor
                // waits for that answer (Sta10) and then answers (AR-10, AR-4).
                self.events.push(Event::ReleaseRequested);
                if self.config.role == Role::Requestor {
                    self.tx.push(Tx::ReleaseRp);
                }
                self.enter(State::ReleaseCollision, Some(Timer::Release), now);
            }
            (State::ReleaseCollision, Pdu::ReleaseRp) => {
                self.events.push(Event::Released);
                if self.config.role == Role::Acceptor {
                    self.tx.push(Tx::ReleaseRp);
                }
                self.release_done(now);
            }
            // Sta13: stray PDUs are ignored (AA-6), a new RQ is answered with A-ABORT (AA-7).
            (State::AwaitingClose, Pdu::AssociateRq(_)) => {
                self.tx.push(Tx::Abort(abort(
                    AbortSource::ServiceProvider,
                    AbortReason::UnexpectedPdu,
                )));
            }
            (State::AwaitingClose, _) => {}
            (_, _) => self.violation(Violation::UnexpectedPdu(kind), now),
        }
    }

    fn release_done(&mut self, now: Instant) {
        match self.config.role {
            // AR-3: the requestor closes the transport.
            Role::Requestor => self.close(),
            // AR-4: the acceptor waits (ARTIM) for the requestor to close.
            Role::Acceptor => self.enter(State::AwaitingClose, Some(Timer::Artim), now),
        }
    }

    fn blank_negotiated(&self) -> Negotiated {
        Negotiated {
            pc_id: 0,
            transfer_syntax: TransferSyntax::Other,
            proposed_contexts: 0,
            accepted_contexts: 0,
            peer_max_pdu: self.peer_max_pdu,
            our_max_pdu: self.our_max_pdu(),
            called: self.called,
            calling: self.calling,
            peer_implementation_class: Text::EMPTY,
            peer_implementation_version: Text::EMPTY,
        }
    }

    /// AE-6: is the RQ acceptable to the provider? Then ask the user (Sta3).
    fn on_request(&mut self, rq: &AssociateRq<'_>, now: Instant) {
        self.called = rq.called;
        self.calling = rq.calling;
        self.peer_max_pdu = rq.user_info.max_length;
        if rq.protocol_version & 1 == 0 {
            self.tx.push(Tx::AssociateRj(AssociateRj {
                result: RejectResult::Permanent,
                source: RejectSource::ServiceProviderAcse,
                reason: 2,
            }));
            self.enter(State::AwaitingClose, Some(Timer::Artim), now);
            return;
        }
        if rq.application_context.as_bytes() != uid::APPLICATION_CONTEXT.as_bytes() {
            self.tx.push(Tx::AssociateRj(AssociateRj {
                result: RejectResult::Permanent,
                source: RejectSource::ServiceUser,
                reason: 2,
            }));
            self.enter(State::AwaitingClose, Some(Timer::Artim), now);
            return;
        }
        let mut n = 0usize;
        for pc in rq.presentation_contexts.iter() {
            let Some(slot) = self.decisions.get_mut(n) else {
                break;
            };
            *slot = decide(&pc, self.config.transfer_syntaxes);
            n += 1;
        }
        self.n_decisions = n as u8;
        let mut negotiated = self.blank_negotiated();
        negotiated.proposed_contexts = self.n_decisions;
        negotiated.peer_implementation_class =
            Text::copy_from(rq.user_info.implementation_class_uid.as_bytes());
        negotiated.peer_implementation_version =
            Text::copy_from(rq.user_info.implementation_version_name.unwrap_or(&[]));
        self.negotiated = Some(negotiated);
        self.events.push(Event::AssociationRequested {
            called: rq.called,
            calling: rq.calling,
        });
        self.enter(State::AwaitingLocalResponse, None, now);
    }

    /// AE-3: the requestor reads the AC.
    fn on_accept(&mut self, ac: &AssociateAc<'_>, now: Instant) {
        if ac.protocol_version & 1 == 0 {
            self.violation(Violation::ProtocolVersion(ac.protocol_version), now);
            return;
        }
        if ac.application_context.as_bytes() != uid::APPLICATION_CONTEXT.as_bytes() {
            self.violation(Violation::ApplicationContext, now);
            return;
        }
        self.peer_max_pdu = ac.user_info.max_length;
        let proposed = self
            .config
            .presentation_contexts
            .clamp(1, MAX_CONTEXTS as u8);
        let mut negotiated = self.blank_negotiated();
        negotiated.proposed_contexts = proposed;
        negotiated.peer_implementation_class =
            Text::copy_from(ac.user_info.implementation_class_uid.as_bytes());
        negotiated.peer_implementation_version =
            Text::copy_from(ac.user_info.implementation_version_name.unwrap_or(&[]));
        let mut first: Option<(u8, TransferSyntax)> = None;
        for pc in ac.presentation_contexts.iter() {
            let ours = pc.id % 2 == 1 && pc.id / 2 < proposed;
            let ts_ok = self
                .config
                .transfer_syntaxes
                .iter()
                .any(|t| t.as_bytes() == pc.transfer_syntax.as_bytes());
            if ours && pc.result == PcResult::Acceptance && ts_ok && !bit(&self.accepted, pc.id) {
                set_bit(&mut self.accepted, pc.id);
                negotiated.accepted_contexts = negotiated.accepted_contexts.saturating_add(1);
                if first.is_none() {
                    first = Some((pc.id, TransferSyntax::from_uid(pc.transfer_syntax)));
                }
            }
        }
        if let Some((id, ts)) = first {
            negotiated.pc_id = id;
            negotiated.transfer_syntax = ts;
        }
        self.negotiated = Some(negotiated);
        self.enter(State::Established, None, now);
        if first.is_some() {
            self.events.push(Event::Accepted(negotiated));
        } else {
            self.events.push(Event::NoPresentationContext);
        }
    }

    fn on_pdata(&mut self, p: &PData<'_>, now: Instant) {
        for pdv in p.pdvs.iter() {
            if self.state == State::Closed {
                return;
            }
            if !pdv.is_command
                || !bit(&self.accepted, pdv.pc_id)
                || self.cmd_pc.is_some_and(|pc| pc != pdv.pc_id)
            {
                self.violation(Violation::UnexpectedPdv { pc_id: pdv.pc_id }, now);
                return;
            }
            let end = self.cmd_len.saturating_add(pdv.fragment.len());
            let Some(dst) = self.cmd.get_mut(self.cmd_len..end) else {
                self.violation(Violation::CommandTooLong, now);
                return;
            };
            dst.copy_from_slice(pdv.fragment);
            self.cmd_len = end;
            self.cmd_pc = Some(pdv.pc_id);
            if pdv.is_last {
                let len = self.cmd_len;
                self.cmd_len = 0;
                self.cmd_pc = None;
                let cmd = self.cmd;
                match Command::parse(cmd.get(..len).unwrap_or(&[])) {
                    Ok(c) => self.on_command(&c, pdv.pc_id, now),
                    Err(e) => self.violation(Violation::BadCommand(e), now),
                }
            }
        }
        if self.state == State::Established && self.config.role == Role::Acceptor {
            self.set_timer(Some(Timer::Dimse), now);
        }
    }

    fn on_command(&mut self, c: &Command<'_>, pc_id: u8, now: Instant) {
        match self.config.role {
            Role::Acceptor => {
                if c.command_field != dimse::C_ECHO_RQ || c.has_data_set() {
                    self.violation(
                        Violation::UnexpectedCommand {
                            command_field: c.command_field,
                        },
                        now,
                    );
                    return;
                }
                let Some(id) = c.message_id else {
                    self.violation(
                        Violation::BadCommand(dimse::Error::Missing(dimse::tag::MESSAGE_ID)),
                        now,
                    );
                    return;
                };
                if self.msg_len != 0 {
                    self.violation(Violation::Pipelined, now);
                    return;
                }
                self.events.push(Event::EchoRequest { message_id: id });
                if self.state == State::Established {
                    if let Err(_e) =
                        self.queue_message(Command::echo_rsp(id, self.config.echo_status), pc_id)
                    {
                        self.violation(Violation::CommandTooLong, now);
                    }
                }
            }
            Role::Requestor => {
                if c.command_field != dimse::C_ECHO_RSP || c.has_data_set() {
                    self.violation(
                        Violation::UnexpectedCommand {
                            command_field: c.command_field,
                        },
                        now,
                    );
                    return;
                }
                let Some((expected, sent)) = self.outstanding else {
                    self.violation(Violation::UnexpectedResponse, now);
                    return;
                };
                let Some(got) = c.message_id_being_responded_to else {
                    self.violation(
                        Violation::BadCommand(dimse::Error::Missing(
                            dimse::tag::MESSAGE_ID_BEING_RESPONDED_TO,
                        )),
                        now,
                    );
                    return;
                };
                if got != expected {
                    self.violation(Violation::WrongMessageId { expected, got }, now);
                    return;
                }
                let Some(status) = c.status else {
                    self.violation(
                        Violation::BadCommand(dimse::Error::Missing(dimse::tag::STATUS)),
                        now,
                    );
                    return;
                };
                self.outstanding = None;
                if self.state == State::Established {
                    self.set_timer(None, now);
                }
                let rtt = sent.map_or(Duration::ZERO, |t| now.saturating_since(t));
                self.events.push(Event::EchoResponse {
                    message_id: got,
                    status,
                    rtt,
                });
            }
        }
    }

    fn queue_message(&mut self, c: Command<'_>, pc_id: u8) -> Result<(), Error> {
        let n = c.emit(&mut self.msg).map_err(|_| Error::BufferTooSmall {
            required: c.buffer_len(),
        })?;
        self.msg_len = n;
        self.msg_off = 0;
        self.msg_pc = pc_id;
        self.tx.push(Tx::Message);
        Ok(())
    }

    /// The largest fragment the peer takes in one P-DATA-TF with one PDV (PS3.8 D.1): its
    /// maximum less the PDV item header (4-byte length, PC-ID, control byte), kept even.
    fn max_fragment(&self) -> usize {
        match self.peer_max_pdu {
            0 => usize::MAX,
            m => (usize::try_from(m).unwrap_or(usize::MAX).saturating_sub(6) & !1).max(2),
        }
    }

    fn emit_fragment(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let remaining = self.msg_len.saturating_sub(self.msg_off);
        let n = remaining.min(self.max_fragment());
        let end = self.msg_off + n;
        let pdvs = [Pdv {
            pc_id: self.msg_pc,
            is_command: true,
            is_last: end >= self.msg_len,
            fragment: self.msg.get(self.msg_off..end).unwrap_or(&[]),
        }];
        let written = emit(
            &Pdu::PData(PData {
                pdvs: List::Slice(&pdvs),
            }),
            buf,
        )?;
        self.msg_off = end;
        Ok(written)
    }

    fn user_info(&self) -> UserInfo<'a> {
        let name = self.config.implementation_version_name;
        UserInfo {
            max_length: self.our_max_pdu(),
            implementation_class_uid: self.config.implementation_class_uid,
            implementation_version_name: if name.is_empty() { None } else { Some(name) },
            async_ops: None,
            role_selections: List::Slice(&[]),
        }
    }

    fn emit_rq(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let n = usize::from(
            self.config
                .presentation_contexts
                .clamp(1, MAX_CONTEXTS as u8),
        );
        let proto = PcRq {
            id: 1,
            abstract_syntax: uid::VERIFICATION,
            transfer_syntaxes: List::Slice(self.config.transfer_syntaxes),
        };
        let mut pcs = [proto; MAX_CONTEXTS];
        for (i, pc) in pcs.iter_mut().enumerate() {
            pc.id = (2 * i + 1) as u8;
        }
        let rq = AssociateRq {
            protocol_version: 1,
            called: self.config.peer_ae,
            calling: self.config.local_ae,
            application_context: uid::APPLICATION_CONTEXT,
            presentation_contexts: List::Slice(pcs.get(..n).unwrap_or(&[])),
            user_info: self.user_info(),
        };
        emit(&Pdu::AssociateRq(rq), buf)
    }

    fn emit_ac(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let blank = PcAc {
            id: 0,
            result: PcResult::Acceptance,
            transfer_syntax: uid::IMPLICIT_VR_LE,
        };
        let mut pcs = [blank; MAX_CONTEXTS];
        let n = usize::from(self.n_decisions);
        for (pc, d) in pcs.iter_mut().zip(self.decisions.iter().take(n)) {
            pc.id = d.id;
            pc.result = PcResult::from(d.result);
            if d.result == 0 {
                if let Some(ts) = self.config.transfer_syntaxes.get(usize::from(d.ts)) {
                    pc.transfer_syntax = *ts;
                }
            }
        }
        let ac = AssociateAc {
            protocol_version: 1,
            called: self.called,
            calling: self.calling,
            application_context: uid::APPLICATION_CONTEXT,
            presentation_contexts: List::Slice(pcs.get(..n).unwrap_or(&[])),
            user_info: self.user_info(),
        };
        emit(&Pdu::AssociateAc(ac), buf)
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

/// The acceptor's answer to one proposed context (PS3.8 9.3.3.2, PS3.5 10.1).
fn decide(pc: &PcRq<'_>, acceptable: &[Uid<'_>]) -> Decision {
    if pc.abstract_syntax.as_bytes() != uid::VERIFICATION.as_bytes() {
        return Decision {
            id: pc.id,
            result: u8::from(PcResult::AbstractSyntaxNotSupported),
            ts: 0,
        };
    }
    for proposed in pc.transfer_syntaxes.iter() {
        if let Some(i) = acceptable
            .iter()
            .position(|a| a.as_bytes() == proposed.as_bytes())
        {
            return Decision {
                id: pc.id,
                result: 0,
                ts: i as u8,
            };
        }
    }
    Decision {
        id: pc.id,
        result: u8::from(PcResult::TransferSyntaxesNotSupported),
        ts: 0,
    }
}

use crate::wire::Uid;

fn bit(set: &[u8; 32], id: u8) -> bool {
    set.get(usize::from(id / 8))
        .is_some_and(|b| b & (1 << (id % 8)) != 0)
}

fn set_bit(set: &mut [u8; 32], id: u8) {
    if let Some(b) = set.get_mut(usize::from(id / 8)) {
        *b |= 1 << (id % 8);
    }
}

#[cfg(test)]
mod tests;
