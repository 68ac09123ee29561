//! C-FIND on an established association (PS3.7 9.1.2, 9.3.2, 9.3.2.3 C-CANCEL): the find
//! buffer, the identifier data sets sent and reassembled there, and the messages of both roles
//! (the acceptor's with feature `find-scp`: without it an acceptor takes a C-FIND-RQ as an
//! unexpected command, as an echo-only build does).
//!
//! Received P-DATA-TF PDUs are worked through one C-FIND event at a time: after a response
//! with its identifier (requestor) or a request (acceptor), the rest of the PDU waits until
//! the event is taken (`poll_event` resumes it), so each match stays in the buffer until the
//! caller has seen it.

use super::{Association, Error, Event, Role, State, Timer, Tx, Violation};
use crate::dimse::dataset::{self, DataSet, Key};
use crate::dimse::{tag, CommandWriter, NO_DATA_SET};
use crate::find::{
    status, FindContext, FindEvent, Model, C_CANCEL_RQ, C_FIND_RQ, C_FIND_RSP, DATA_SET_PRESENT,
    PRIORITY_MEDIUM,
};
use crate::time::{Duration, Instant};
use crate::wire::{uid, PData, Pdv, Uid};

/// What an incoming data set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Incoming {
    /// A C-FIND-RSP's identifier (requestor).
    Response { id: u16, status: u16, rtt: Duration },
    /// A C-FIND-RQ's identifier (acceptor); `refuse`: answer 0xA900 without asking.
    #[cfg(feature = "find-scp")]
    Request { id: u16, model: Model, refuse: bool },
}

/// The request being answered (acceptor) or awaited (requestor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exchange {
    id: u16,
    pc: u8,
    model: Model,
    /// Requestor: when the request went out / the last response came in.
    since: Option<Instant>,
    /// Requestor: C-CANCEL-RQ sent. Acceptor: C-CANCEL-RQ received.
    cancelled: bool,
    /// Acceptor: the query's length at the front of the buffer.
    #[cfg(feature = "find-scp")]
    query_len: usize,
}

pub(super) struct FindState<'a> {
    buf: &'a mut [u8],
    contexts: [Option<FindContext>; 3],
    /// Outgoing data set `buf[tx_start..tx_end]`, sent up to `tx_off`, on `tx_pc`.
    tx_start: usize,
    tx_end: usize,
    tx_off: usize,
    tx_pc: u8,
    /// Incoming data set `buf[rx_start..rx_start + rx_len]`, expected on `rx_pc`.
    rx_start: usize,
    rx_len: usize,
    rx_for: Option<(u8, Incoming)>,
    /// Requestor: the last complete match, `buf[..len]`.
    match_len: Option<usize>,
    exchange: Option<Exchange>,
    /// The PDU in `rx` (its length) still has PDVs from this index on.
    resume: Option<(usize, usize)>,
    /// A C-FIND event was just reported: stop working through the PDU.
    pause: bool,
    /// The encoding of the last match.
    match_explicit: bool,
    now: Instant,
}

impl FindState<'_> {
    pub(super) fn new() -> Self {
        FindState {
            buf: &mut [],
            contexts: [None; 3],
            tx_start: 0,
            tx_end: 0,
            tx_off: 0,
            tx_pc: 0,
            rx_start: 0,
            rx_len: 0,
            rx_for: None,
            match_len: None,
            exchange: None,
            resume: None,
            pause: false,
            match_explicit: false,
            now: Instant::from_micros(0),
        }
    }
}

/// The length of a command set written into `msg` (always big enough for C-FIND's).
fn finish(w: CommandWriter<'_>) -> Result<usize, Error> {
    w.finish().map_err(|e| match e {
        crate::dimse::Error::BufferTooSmall { required } => Error::BufferTooSmall { required },
        _ => Error::InvalidState,
    })
}

fn is_explicit(ts: Uid<'_>) -> Option<bool> {
    match ts.as_bytes() {
        b if b == uid::EXPLICIT_VR_LE.as_bytes() => Some(true),
        b if b == uid::IMPLICIT_VR_LE.as_bytes() => Some(false),
        _ => None,
    }
}

impl<'a> Association<'a> {
    /// Gives the machine its find buffer: identifiers sent and received (one match at a
    /// time; the acceptor's query and one response). Its size bounds every identifier.
    pub fn with_find_buffer(mut self, buf: &'a mut [u8]) -> Self {
        self.set_find_buffer(buf);
        self
    }

    /// [`with_find_buffer`](Self::with_find_buffer) in place: the machine is not moved (an
    /// async driver keeps it where it was built, and a small stack has no room for a copy).
    pub fn set_find_buffer(&mut self, buf: &'a mut [u8]) {
        self.find.buf = buf;
    }

    /// The accepted presentation context for `model`, once established.
    pub fn find_context(&self, model: Model) -> Option<FindContext> {
        self.find.contexts.get(model.index()).copied().flatten()
    }

    /// Requestor: the identifier of the last pending C-FIND-RSP that carried one. Valid until
    /// the next call that feeds bytes ([`handle_bytes`](Self::handle_bytes)) or takes the
    /// next event.
    pub fn find_match(&self) -> Option<DataSet<'_>> {
        let len = self.find.match_len?;
        Some(DataSet::new(
            self.find.buf.get(..len)?,
            self.find.match_explicit,
        ))
    }

    /// Acceptor: the identifier of the C-FIND-RQ being answered, and its model (feature
    /// `find-scp`).
    #[cfg(feature = "find-scp")]
    pub fn find_query(&self) -> Option<(Model, DataSet<'_>)> {
        let x = self.find.exchange?;
        if self.config.role != Role::Acceptor || self.find.rx_for.is_some() {
            return None;
        }
        let explicit = self.find_context_by_pc(x.pc)?.explicit;
        Some((
            x.model,
            DataSet::new(self.find.buf.get(..x.query_len)?, explicit),
        ))
    }

    /// Requestor: sends a C-FIND-RQ of `model` with the identifier `keys` (increasing tag
    /// order), encoded in the context's transfer syntax into the find buffer; returns its
    /// MessageID. One find at a time, none while an echo is outstanding.
    pub fn send_find(
        &mut self,
        now: Instant,
        model: Model,
        keys: &[Key<'_>],
    ) -> Result<u16, Error> {
        if self.state != State::Established || self.config.role != Role::Requestor {
            return Err(self.state_error());
        }
        let ctx = self.find_context(model).ok_or(Error::InvalidState)?;
        if self.find.exchange.is_some() || self.outstanding.is_some() || self.msg_len != 0 {
            return Err(Error::InvalidState);
        }
        let len = match dataset::encode(keys, ctx.explicit, self.find.buf) {
            Ok(n) => n,
            Err(dataset::Error::BufferTooSmall { required }) => {
                return Err(Error::BufferTooSmall { required })
            }
            Err(e) => return Err(Error::BadDataSet(e)),
        };
        let id = self.next_message_id;
        self.next_message_id = match id.wrapping_add(1) {
            0 => 1,
            n => n,
        };
        let mut w = CommandWriter::new(&mut self.msg);
        w.begin();
        w.uid(tag::AFFECTED_SOP_CLASS_UID, model.uid().as_bytes());
        w.us(tag::COMMAND_FIELD, C_FIND_RQ);
        w.us(tag::MESSAGE_ID, id);
        w.us(tag::PRIORITY, PRIORITY_MEDIUM);
        w.us(tag::COMMAND_DATA_SET_TYPE, DATA_SET_PRESENT);
        let n = finish(w)?;
        self.queue_command(n, ctx.pc_id);
        self.queue_data(0, len, ctx.pc_id);
        self.find.match_len = None;
        self.find.exchange = Some(Exchange {
            id,
            pc: ctx.pc_id,
            model,
            since: None,
            cancelled: false,
            #[cfg(feature = "find-scp")]
            query_len: 0,
        });
        self.set_timer(Some(Timer::Dimse), now);
        Ok(id)
    }

    /// Requestor: sends C-CANCEL-RQ for the outstanding C-FIND-RQ (once). The peer's further
    /// responses and its final status still arrive as events.
    pub fn cancel_find(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        let x = match (self.state, self.config.role, self.find.exchange) {
            (State::Established, Role::Requestor, Some(x)) if !x.cancelled => x,
            _ => return Err(self.state_error()),
        };
        if self.msg_len != 0 {
            return Err(Error::InvalidState);
        }
        let mut w = CommandWriter::new(&mut self.msg);
        w.begin();
        w.us(tag::COMMAND_FIELD, C_CANCEL_RQ);
        w.us(tag::MESSAGE_ID_BEING_RESPONDED_TO, x.id);
        w.us(tag::COMMAND_DATA_SET_TYPE, NO_DATA_SET);
        let n = finish(w)?;
        self.queue_command(n, x.pc);
        if let Some(x) = self.find.exchange.as_mut() {
            x.cancelled = true;
        }
        Ok(())
    }

    /// Acceptor: answers the C-FIND-RQ being served with a pending response whose
    /// identifier `write` puts into the buffer it is given (the query comes along; the
    /// identifier must be in the query's encoding), returning its length.
    ///
    /// `write` returns `Ok(None)` when it has nothing to send (a record that does not
    /// match): then nothing is queued and this returns `Ok(false)`. Feature `find-scp`.
    #[cfg(feature = "find-scp")]
    pub fn send_find_pending<F>(&mut self, now: Instant, write: F) -> Result<bool, Error>
    where
        F: FnOnce(&DataSet<'_>, &mut [u8]) -> Result<Option<usize>, dataset::Error>,
    {
        let _ = now;
        let x = self.serving()?;
        let explicit = self.find_context_by_pc(x.pc).is_some_and(|c| c.explicit);
        let (query, out) = self
            .find
            .buf
            .split_at_mut(x.query_len.min(self.find.buf.len()));
        let n = match write(&DataSet::new(query, explicit), out) {
            Ok(None) => return Ok(false),
            Ok(Some(n)) => n.min(out.len()),
            Err(dataset::Error::BufferTooSmall { required }) => {
                return Err(Error::BufferTooSmall { required })
            }
            Err(e) => return Err(Error::BadDataSet(e)),
        };
        self.queue_response(x, status::PENDING, true)?;
        self.queue_data(x.query_len, x.query_len + n, x.pc);
        Ok(true)
    }

    /// Acceptor: ends the C-FIND-RQ being served with its final `status` (success, cancel
    /// after [`FindEvent::CancelRequested`], or a failure). Feature `find-scp`.
    #[cfg(feature = "find-scp")]
    pub fn send_find_final(&mut self, now: Instant, status: u16) -> Result<(), Error> {
        let _ = now;
        let x = self.serving()?;
        self.queue_response(x, status, false)?;
        self.find.exchange = None;
        Ok(())
    }

    #[cfg(feature = "find-scp")]
    fn serving(&self) -> Result<Exchange, Error> {
        match (self.state, self.config.role, self.find.exchange) {
            (State::Established, Role::Acceptor, Some(x))
                if self.find.rx_for.is_none()
                    && self.msg_len == 0
                    && self.find.tx_off >= self.find.tx_end =>
            {
                Ok(x)
            }
            _ => Err(self.state_error()),
        }
    }

    #[cfg(feature = "find-scp")]
    fn queue_response(&mut self, x: Exchange, status: u16, data: bool) -> Result<(), Error> {
        let mut w = CommandWriter::new(&mut self.msg);
        w.begin();
        w.uid(tag::AFFECTED_SOP_CLASS_UID, x.model.uid().as_bytes());
        w.us(tag::COMMAND_FIELD, C_FIND_RSP);
        w.us(tag::MESSAGE_ID_BEING_RESPONDED_TO, x.id);
        w.us(
            tag::COMMAND_DATA_SET_TYPE,
            if data { DATA_SET_PRESENT } else { NO_DATA_SET },
        );
        w.us(tag::STATUS, status);
        let n = finish(w)?;
        self.queue_command(n, x.pc);
        Ok(())
    }

    fn queue_command(&mut self, len: usize, pc: u8) {
        self.msg_len = len;
        self.msg_off = 0;
        self.msg_pc = pc;
        self.tx.push(Tx::Message);
    }

    fn queue_data(&mut self, start: usize, end: usize, pc: u8) {
        self.find.tx_start = start;
        self.find.tx_off = start;
        self.find.tx_end = end;
        self.find.tx_pc = pc;
        self.tx.push(Tx::Data);
    }

    /// The next P-DATA-TF of the outgoing data set: its length, and whether it was the last.
    pub(super) fn emit_data(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<(usize, bool), Error> {
        let f = &self.find;
        let src = f.buf.get(f.tx_start..f.tx_end).unwrap_or(&[]);
        let (n, off) = self.emit_chunk(buf, f.tx_pc, false, src, f.tx_off - f.tx_start)?;
        self.find.tx_off = self.find.tx_start + off;
        let done = self.find.tx_off >= self.find.tx_end;
        if done {
            match self.config.role {
                Role::Requestor => {
                    if let Some(x) = self.find.exchange.as_mut() {
                        x.since = Some(now);
                    }
                    if self.state == State::Established {
                        self.set_timer(Some(Timer::Dimse), now);
                    }
                }
                #[cfg(feature = "find-scp")]
                Role::Acceptor => {
                    if let Some(x) = self.find.exchange {
                        self.find_event(FindEvent::ResponseSent { message_id: x.id });
                    }
                }
                #[cfg(not(feature = "find-scp"))]
                Role::Acceptor => {}
            }
        }
        Ok((n, done))
    }

    fn find_context_by_pc(&self, pc: u8) -> Option<FindContext> {
        self.find
            .contexts
            .iter()
            .flatten()
            .find(|c| c.pc_id == pc)
            .copied()
    }

    /// Whether `pc` is one of the FIND contexts.
    pub(super) fn is_find_pc(&self, pc: u8) -> bool {
        self.find_context_by_pc(pc).is_some()
    }

    /// Negotiation: `model`'s context `pc_id` was accepted with `ts`; `false` if the
    /// transfer syntax is one we cannot read (then it is not used).
    pub(super) fn find_accepted(&mut self, model: Model, pc_id: u8, ts: Uid<'_>) -> bool {
        let Some(explicit) = is_explicit(ts) else {
            return false;
        };
        if let Some(slot) = self.find.contexts.get_mut(model.index()) {
            if slot.is_none() {
                *slot = Some(FindContext {
                    pc_id,
                    model,
                    explicit,
                });
            }
        }
        true
    }

    /// Whether any FIND context was accepted.
    pub(super) fn any_find_context(&self) -> bool {
        self.find.contexts.iter().any(Option::is_some)
    }

    // ------------------------------------------------------------------ receiving

    /// A data set PDV: `Some(handled)` if the find layer expects it.
    pub(super) fn on_find_data(&mut self, pdv: &Pdv<'_>, now: Instant) -> bool {
        let Some((pc, incoming)) = self.find.rx_for else {
            return false;
        };
        if pdv.is_command || pdv.pc_id != pc {
            return false;
        }
        let f = &mut self.find;
        let at = f.rx_start + f.rx_len;
        let end = at.saturating_add(pdv.fragment.len());
        let Some(dst) = f.buf.get_mut(at..end) else {
            let max = f.buf.len().saturating_sub(f.rx_start);
            self.violation(Violation::DataSetTooLong { max }, now);
            return true;
        };
        dst.copy_from_slice(pdv.fragment);
        f.rx_len += pdv.fragment.len();
        if !pdv.is_last {
            return true;
        }
        f.rx_for = None;
        let len = f.rx_len;
        let explicit = self.find_context_by_pc(pc).is_some_and(|c| c.explicit);
        let f = &mut self.find;
        match incoming {
            Incoming::Response { id, status, rtt } => {
                f.match_len = Some(len);
                f.match_explicit = explicit;
                self.find_event(FindEvent::Response {
                    message_id: id,
                    status,
                    has_match: true,
                    rtt,
                });
            }
            #[cfg(feature = "find-scp")]
            Incoming::Request { id, model, refuse } => {
                if let Some(x) = f.exchange.as_mut() {
                    x.query_len = len;
                }
                if refuse {
                    let _ = self.send_find_final(now, status::IDENTIFIER_MISMATCH);
                    return true;
                }
                self.find_event(FindEvent::Request {
                    message_id: id,
                    model,
                });
            }
        }
        true
    }

    /// Whether a data set is being received (then command PDVs are a violation).
    pub(super) fn expects_data(&self) -> bool {
        self.find.rx_for.is_some()
    }

    /// Remembers that the PDU in `rx` (of `len` bytes) has PDVs left from `next` on.
    pub(super) fn pause_pdata(&mut self, len: usize, next: usize, now: Instant) {
        self.find.resume = Some((len, next));
        self.find.now = now;
    }

    /// Works on through a paused PDU (see the module documentation).
    // Out of line: it runs only after a C-FIND event paused a PDU, and inlined into `poll_event`
    // it grew the drivers' loop (measured: a quarter KiB of a find firmware's flash).
    #[inline(never)]
    pub(super) fn resume_pdata(&mut self) {
        let Some((len, next)) = self.find.resume.take() else {
            return;
        };
        if self.state == State::Closed {
            return;
        }
        let now = self.find.now;
        let rx = core::mem::take(&mut self.rx);
        if let Ok(pdata) = PData::parse(rx.get(..len).unwrap_or(&[])) {
            self.on_pdata_from(&pdata, now, len, next);
        }
        self.rx = rx;
    }

    /// Whether a paused PDU still waits in `rx`.
    pub(crate) fn is_paused(&self) -> bool {
        self.find.resume.is_some()
    }

    /// A command for the find layer: `true` if it was one (handled or a violation).
    pub(super) fn on_find_command(
        &mut self,
        command: &crate::dimse::Command<'_>,
        pc_id: u8,
        now: Instant,
    ) -> bool {
        let field = command.command_field;
        if !matches!(field, C_FIND_RQ | C_FIND_RSP | C_CANCEL_RQ) {
            return false;
        }
        let role = self.config.role;
        let unexpected = Violation::UnexpectedCommand {
            command_field: field,
        };
        match (role, field) {
            #[cfg(feature = "find-scp")]
            (Role::Acceptor, C_FIND_RQ) => {
                let Some(id) = command.message_id else {
                    self.violation(
                        Violation::BadCommand(crate::dimse::Error::Missing(tag::MESSAGE_ID)),
                        now,
                    );
                    return true;
                };
                if !command.has_data_set() {
                    self.violation(unexpected, now);
                    return true;
                }
                if self.find.exchange.is_some() || self.msg_len != 0 {
                    self.violation(Violation::Pipelined, now);
                    return true;
                }
                // A query of a model this context does not carry (or on a context that is
                // not a FIND one) is answered with 0xA900 once its identifier is in.
                let asked = command.affected_sop_class.and_then(Model::from_uid);
                let (model, refuse) = match (self.find_context_by_pc(pc_id), asked) {
                    (Some(c), Some(m)) if c.model == m => (m, false),
                    (Some(c), _) => (c.model, true),
                    (None, m) => (m.unwrap_or(Model::StudyRoot), true),
                };
                self.find.exchange = Some(Exchange {
                    id,
                    pc: pc_id,
                    model,
                    since: None,
                    cancelled: false,
                    query_len: 0,
                });
                self.expect_data(pc_id, Incoming::Request { id, model, refuse });
            }
            #[cfg(feature = "find-scp")]
            (Role::Acceptor, C_CANCEL_RQ) => {
                // A cancel for a request already answered is ignored (PS3.7 9.3.2.3).
                if let Some(x) = self.find.exchange.as_mut() {
                    if command.message_id_being_responded_to == Some(x.id) && !x.cancelled {
                        x.cancelled = true;
                        let message_id = x.id;
                        self.find_event(FindEvent::CancelRequested { message_id });
                    }
                }
            }
            (Role::Requestor, C_FIND_RSP) => {
                let Some(x) = self.find.exchange else {
                    self.violation(Violation::UnexpectedResponse, now);
                    return true;
                };
                let got = command.message_id_being_responded_to.unwrap_or(0);
                if got != x.id || pc_id != x.pc {
                    self.violation(
                        Violation::WrongMessageId {
                            expected: x.id,
                            got,
                        },
                        now,
                    );
                    return true;
                }
                let Some(status) = command.status else {
                    self.violation(
                        Violation::BadCommand(crate::dimse::Error::Missing(tag::STATUS)),
                        now,
                    );
                    return true;
                };
                let rtt = x.since.map_or(Duration::ZERO, |t| now.saturating_since(t));
                let pending = matches!(status, status::PENDING | status::PENDING_WARNING);
                if let Some(x) = self.find.exchange.as_mut() {
                    x.since = Some(now);
                }
                self.find.match_len = None;
                if pending {
                    self.set_timer(Some(Timer::Dimse), now);
                } else {
                    self.find.exchange = None;
                    self.set_timer(None, now);
                }
                if command.has_data_set() {
                    self.expect_data(
                        pc_id,
                        Incoming::Response {
                            id: got,
                            status,
                            rtt,
                        },
                    );
                } else {
                    self.find_event(FindEvent::Response {
                        message_id: got,
                        status,
                        has_match: false,
                        rtt,
                    });
                }
            }
            _ => self.violation(unexpected, now),
        }
        true
    }

    fn find_event(&mut self, event: FindEvent) {
        self.events.push(Event::Find(event));
        self.find.pause = true;
    }

    /// Whether a C-FIND event was reported since the last call.
    pub(super) fn take_find_pause(&mut self) -> bool {
        core::mem::take(&mut self.find.pause)
    }

    fn expect_data(&mut self, pc: u8, incoming: Incoming) {
        self.find.rx_start = 0;
        self.find.rx_len = 0;
        self.find.rx_for = Some((pc, incoming));
    }
}
