//! Receiving: collecting one PDU at a time from the byte stream (header first, so a PDU
//! above our maximum is refused before its body is read), parsing it, and dispatching it by
//! state (PS3.8 9.2 state table, the subset an echo needs).

use super::{abort, Association, Event, Role, State, Timer, Tx, Violation};
use crate::time::Instant;
use crate::wire::{self, AbortReason, AbortSource, Pdu, PduType, Status, HEADER_LEN};

impl Association<'_> {
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
        #[cfg(feature = "find")]
        if self.is_paused() {
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

    pub(super) fn release_done(&mut self, now: Instant) {
        match self.config.role {
            // AR-3: the requestor closes the transport.
            Role::Requestor => self.close(),
            // AR-4: the acceptor waits (ARTIM) for the requestor to close.
            Role::Acceptor => self.enter(State::AwaitingClose, Some(Timer::Artim), now),
        }
    }
}
