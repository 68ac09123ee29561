//! Message handling on an established association: the C-ECHO-RQ we send and answer, the
//! command set collected from P-DATA-TF fragments (PS3.8 9.3.5, Annex E), and the P-DATA-TF
//! fragments we send, split to the peer's maximum PDU length.

use super::negotiate::bit;
use super::{emit, Association, Error, Event, Role, State, Timer, Tx, Violation};
use crate::dimse::{self, Command};
use crate::time::{Duration, Instant};
use crate::wire::{List, PData, Pdu, Pdv};

impl Association<'_> {
    /// Requestor: send a C-ECHO-RQ on the negotiated context; returns its MessageID. One
    /// request is outstanding at a time (no asynchronous operations window).
    pub fn send_echo(&mut self, now: Instant) -> Result<u16, Error> {
        let pc_id = match (self.state, self.config.role, self.negotiated) {
            (State::Established, Role::Requestor, Some(n))
                if n.accepted_contexts > 0 && n.pc_id != 0 =>
            {
                n.pc_id
            }
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

    pub(super) fn on_pdata(&mut self, pdata: &PData<'_>, now: Instant) {
        let len = self.rx_len;
        self.on_pdata_from(pdata, now, len, 0);
    }

    /// The PDVs of `pdata` (a PDU of `len` bytes in `rx`) from index `skip` on. With feature
    /// `find`, stops after a PDV that reported a C-FIND event (see `find`).
    pub(super) fn on_pdata_from(
        &mut self,
        pdata: &PData<'_>,
        now: Instant,
        len: usize,
        skip: usize,
    ) {
        let _ = len;
        for (i, pdv) in pdata.pdvs.iter().enumerate().skip(skip) {
            if self.state == State::Closed {
                return;
            }
            #[cfg(feature = "find")]
            {
                let handled = self.on_find_data(&pdv, now);
                if !handled && self.expects_data() {
                    self.violation(Violation::UnexpectedPdv { pc_id: pdv.pc_id }, now);
                    return;
                }
                if !handled {
                    self.on_command_pdv(&pdv, now);
                }
                if self.take_find_pause() && self.state != State::Closed {
                    self.pause_pdata(len, i + 1, now);
                    break;
                }
            }
            #[cfg(not(feature = "find"))]
            {
                let _ = i;
                self.on_command_pdv(&pdv, now);
            }
        }
        if self.state == State::Established && self.config.role == Role::Acceptor {
            self.set_timer(Some(Timer::Dimse), now);
        }
    }

    fn on_command_pdv(&mut self, pdv: &Pdv<'_>, now: Instant) {
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

    fn on_command(&mut self, command: &Command<'_>, pc_id: u8, now: Instant) {
        #[cfg(feature = "find")]
        if self.on_find_command(command, pc_id, now) {
            return;
        }
        match self.config.role {
            Role::Acceptor => {
                if command.command_field != dimse::C_ECHO_RQ || command.has_data_set() {
                    self.violation(
                        Violation::UnexpectedCommand {
                            command_field: command.command_field,
                        },
                        now,
                    );
                    return;
                }
                let Some(id) = command.message_id else {
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
                if command.command_field != dimse::C_ECHO_RSP || command.has_data_set() {
                    self.violation(
                        Violation::UnexpectedCommand {
                            command_field: command.command_field,
                        },
                        now,
                    );
                    return;
                }
                let Some((expected, sent)) = self.outstanding else {
                    self.violation(Violation::UnexpectedResponse, now);
                    return;
                };
                let Some(got) = command.message_id_being_responded_to else {
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
                let Some(status) = command.status else {
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

    fn queue_message(&mut self, command: Command<'_>, pc_id: u8) -> Result<(), Error> {
        let n = command
            .emit(&mut self.msg)
            .map_err(|_| Error::BufferTooSmall {
                required: command.buffer_len(),
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

    pub(super) fn emit_fragment(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
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

    #[cfg(feature = "find")]
    /// One P-DATA-TF with one PDV: `src` from `off`, as much as the peer's maximum takes.
    /// Returns the PDU's length and the new offset.
    pub(super) fn emit_chunk(
        &self,
        buf: &mut [u8],
        pc_id: u8,
        is_command: bool,
        src: &[u8],
        off: usize,
    ) -> Result<(usize, usize), Error> {
        let n = src.len().saturating_sub(off).min(self.max_fragment());
        let end = off + n;
        let pdvs = [Pdv {
            pc_id,
            is_command,
            is_last: end >= src.len(),
            fragment: src.get(off..end).unwrap_or(&[]),
        }];
        let written = emit(
            &Pdu::PData(PData {
                pdvs: List::Slice(&pdvs),
            }),
            buf,
        )?;
        Ok((written, end))
    }
}
