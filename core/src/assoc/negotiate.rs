//! Association negotiation: the acceptor's answer to an A-ASSOCIATE-RQ (AE-6, `accept` /
//! `reject`), the requestor's reading of the A-ASSOCIATE-AC (AE-3), and the RQ/AC we emit
//! (PS3.8 9.3.2, 9.3.3; presentation context results PS3.8 9.3.3.2).

use super::{emit, Association, Decision, Error, Event, Negotiated, State, Text, Timer};
use super::{TransferSyntax, Tx, Violation, MAX_CONTEXTS};
use crate::time::Instant;
use crate::wire::{
    uid, AssociateAc, AssociateRj, AssociateRq, List, PcAc, PcResult, PcRq, Pdu, Uid, UserInfo,
};

impl<'a> Association<'a> {
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
            if d.result == PcResult::Acceptance {
                n_accepted = n_accepted.saturating_add(1);
                set_bit(&mut self.accepted, d.id);
                if first.is_none() && !self.is_find_context(d.id) {
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
        if first.is_some() || self.has_find_context() {
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
    pub(super) fn on_request(&mut self, rq: &AssociateRq<'_>, now: Instant) {
        self.called = rq.called;
        self.calling = rq.calling;
        self.peer_max_pdu = rq.user_info.max_length;
        if rq.protocol_version & 1 == 0 {
            self.tx
                .push(Tx::AssociateRj(AssociateRj::PROTOCOL_VERSION_NOT_SUPPORTED));
            self.enter(State::AwaitingClose, Some(Timer::Artim), now);
            return;
        }
        if rq.application_context.as_bytes() != uid::APPLICATION_CONTEXT.as_bytes() {
            self.tx.push(Tx::AssociateRj(
                AssociateRj::APPLICATION_CONTEXT_NOT_SUPPORTED,
            ));
            self.enter(State::AwaitingClose, Some(Timer::Artim), now);
            return;
        }
        let mut n = 0usize;
        for pc in rq.presentation_contexts.iter() {
            #[cfg(feature = "find-scp")]
            let decision = match crate::find::Model::from_uid(pc.abstract_syntax.as_bytes())
                .filter(|m| self.config.find_models.contains(m))
            {
                Some(model) => self.decide_find(&pc, model),
                None => decide(&pc, self.config.transfer_syntaxes),
            };
            let Some(slot) = self.decisions.get_mut(n) else {
                break;
            };
            #[cfg(feature = "find-scp")]
            {
                *slot = decision;
            }
            #[cfg(not(feature = "find-scp"))]
            {
                *slot = decide(&pc, self.config.transfer_syntaxes);
            }
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
    pub(super) fn on_accept(&mut self, ac: &AssociateAc<'_>, now: Instant) {
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
        negotiated.proposed_contexts = proposed.saturating_add(self.find_contexts_proposed());
        negotiated.peer_implementation_class =
            Text::copy_from(ac.user_info.implementation_class_uid.as_bytes());
        negotiated.peer_implementation_version =
            Text::copy_from(ac.user_info.implementation_version_name.unwrap_or(&[]));
        let mut first: Option<(u8, TransferSyntax)> = None;
        for pc in ac.presentation_contexts.iter() {
            #[cfg(feature = "find")]
            if let Some(model) = self.proposed_find_model(pc.id) {
                let ts_ok = self
                    .config
                    .transfer_syntaxes
                    .iter()
                    .any(|t| t.as_bytes() == pc.transfer_syntax.as_bytes());
                if pc.result == PcResult::Acceptance
                    && ts_ok
                    && !bit(&self.accepted, pc.id)
                    && self.find_accepted(model, pc.id, pc.transfer_syntax)
                {
                    set_bit(&mut self.accepted, pc.id);
                    negotiated.accepted_contexts = negotiated.accepted_contexts.saturating_add(1);
                }
                continue;
            }
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
        if first.is_some() || self.has_find_context() {
            self.events.push(Event::Accepted(negotiated));
        } else {
            self.events.push(Event::NoPresentationContext);
        }
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

    pub(super) fn emit_rq(&self, buf: &mut [u8]) -> Result<usize, Error> {
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
        #[cfg(feature = "find")]
        let n = {
            let models = self.config.find_models.iter().take(MAX_CONTEXTS - n);
            for (pc, model) in pcs.iter_mut().skip(n).zip(models) {
                pc.abstract_syntax = model.uid();
            }
            n + usize::from(self.find_contexts_proposed())
        };
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

    pub(super) fn emit_ac(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let blank = PcAc {
            id: 0,
            result: PcResult::Acceptance,
            transfer_syntax: uid::IMPLICIT_VR_LE,
        };
        let mut pcs = [blank; MAX_CONTEXTS];
        let n = usize::from(self.n_decisions);
        for (pc, d) in pcs.iter_mut().zip(self.decisions.iter().take(n)) {
            pc.id = d.id;
            pc.result = d.result;
            if d.result == PcResult::Acceptance {
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

impl Association<'_> {
    /// Whether `pc` is an accepted C-FIND context.
    fn is_find_context(&self, pc: u8) -> bool {
        #[cfg(feature = "find")]
        return self.is_find_pc(pc);
        #[cfg(not(feature = "find"))]
        {
            let _ = pc;
            false
        }
    }

    /// Whether a C-FIND context was accepted.
    fn has_find_context(&self) -> bool {
        #[cfg(feature = "find")]
        return self.any_find_context();
        #[cfg(not(feature = "find"))]
        false
    }

    /// How many C-FIND contexts the requestor proposes (after the Verification ones).
    fn find_contexts_proposed(&self) -> u8 {
        #[cfg(feature = "find")]
        {
            let verification = self
                .config
                .presentation_contexts
                .clamp(1, MAX_CONTEXTS as u8);
            let room = MAX_CONTEXTS as u8 - verification;
            u8::try_from(self.config.find_models.len())
                .unwrap_or(u8::MAX)
                .min(room)
        }
        #[cfg(not(feature = "find"))]
        0
    }

    /// Requestor: the model of the C-FIND context we proposed with ID `pc`, if it is one.
    #[cfg(feature = "find")]
    fn proposed_find_model(&self, pc: u8) -> Option<crate::find::Model> {
        let verification = self
            .config
            .presentation_contexts
            .clamp(1, MAX_CONTEXTS as u8);
        if pc.is_multiple_of(2) || pc / 2 < verification {
            return None;
        }
        let i = usize::from(pc / 2 - verification);
        if i >= usize::from(self.find_contexts_proposed()) {
            return None;
        }
        self.config.find_models.get(i).copied()
    }

    /// Acceptor: a proposed context of a served C-FIND model: the first proposed transfer
    /// syntax we accept and can read (Implicit or Explicit VR Little Endian).
    #[cfg(feature = "find-scp")]
    fn decide_find(&mut self, pc: &PcRq<'_>, model: crate::find::Model) -> Decision {
        let acceptable = self.config.transfer_syntaxes;
        choose_syntax(pc, acceptable, |ts| self.find_accepted(model, pc.id, ts))
    }
}

/// The acceptor's answer to one proposed context (PS3.8 9.3.3.2, PS3.5 10.1).
fn decide(pc: &PcRq<'_>, acceptable: &[Uid<'_>]) -> Decision {
    if pc.abstract_syntax.as_bytes() != uid::VERIFICATION.as_bytes() {
        return Decision {
            id: pc.id,
            result: PcResult::AbstractSyntaxNotSupported,
            ts: 0,
        };
    }
    choose_syntax(pc, acceptable, |_| true)
}

/// The first proposed transfer syntax that is in `acceptable` and `usable`, or the answer
/// that none is (PS3.8 9.3.3.2).
fn choose_syntax(
    pc: &PcRq<'_>,
    acceptable: &[Uid<'_>],
    mut usable: impl FnMut(Uid<'_>) -> bool,
) -> Decision {
    for proposed in pc.transfer_syntaxes.iter() {
        if let Some(i) = acceptable
            .iter()
            .position(|a| a.as_bytes() == proposed.as_bytes())
        {
            if usable(proposed) {
                return Decision {
                    id: pc.id,
                    result: PcResult::Acceptance,
                    ts: i as u8,
                };
            }
        }
    }
    Decision {
        id: pc.id,
        result: PcResult::TransferSyntaxesNotSupported,
        ts: 0,
    }
}

pub(super) fn bit(set: &[u8; 32], id: u8) -> bool {
    set.get(usize::from(id / 8))
        .is_some_and(|b| b & (1 << (id % 8)) != 0)
}

pub(super) fn set_bit(set: &mut [u8; 32], id: u8) {
    if let Some(b) = set.get_mut(usize::from(id / 8)) {
        *b |= 1 << (id % 8);
    }
}
