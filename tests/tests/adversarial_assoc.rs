//! Hostile peers, association negotiation: rejections, no usable presentation context, and PDUs
//! that have no place in the association phase.

use echoprobe_core::wire::{
    uid, AssociateRj, AssociateRq, List, PcResult, PcRq, Pdu, RejectResult, RejectSource, UserInfo,
};
use echoprobe_tests::codes::{NO_PRESENTATION_CONTEXT, REJECTED};
use echoprobe_tests::scripted::pdu::{ac, ac_context_1, echo_rsp, emit, ABORT, RELEASE_RQ};
use echoprobe_tests::scripted::{after_rq, fast, peer, quick, violation};

/// A peer answering the A-ASSOCIATE-RQ with an A-ASSOCIATE-RJ.
fn rejected(result: RejectResult, source: RejectSource, reason: u8) -> echoprobe_tests::Outcome {
    fast(
        after_rq(move |_| emit(&Pdu::AssociateRj(AssociateRj::new(result, source, reason)))),
        REJECTED,
        &[],
    )
}

#[test]
fn association_rejected_permanent() {
    rejected(RejectResult::Permanent, RejectSource::ServiceUser, 7).assert_mentions("called");
}

#[test]
fn association_rejected_transient() {
    rejected(
        RejectResult::Transient,
        RejectSource::ServiceProviderPresentation,
        2,
    );
}

/// A peer answering every proposed context with `result`: exit 65, and echoprobe ends the
/// useless association (release, answered here, or abort).
fn no_context(result: PcResult) {
    let p = peer(move |c| {
        let rq = c.read_rq();
        let results: Vec<_> = rq.pcs.iter().map(|&id| (id, result)).collect();
        c.send(&ac(&rq, &results, 16_384));
        c.ending()
    });
    let (out, seen) = quick(p, &[], NO_PRESENTATION_CONTEXT);
    assert!(
        seen == [RELEASE_RQ] || seen == [ABORT],
        "echoprobe ended the association with {seen:02x?}\n{out}"
    );
}

#[test]
fn presentation_context_abstract_syntax_not_supported() {
    no_context(PcResult::AbstractSyntaxNotSupported);
}

#[test]
fn presentation_context_transfer_syntaxes_not_supported() {
    no_context(PcResult::TransferSyntaxesNotSupported);
}

#[test]
fn presentation_context_user_rejection() {
    no_context(PcResult::UserRejection);
}

#[test]
fn associate_rq_sent_back() {
    // A peer that answers with an A-ASSOCIATE-RQ of its own.
    violation(after_rq(|rq| {
        let pcs = [PcRq {
            id: 1,
            abstract_syntax: uid::VERIFICATION,
            transfer_syntaxes: List::Slice(&[uid::IMPLICIT_VR_LE]),
        }];
        let ui = UserInfo::new(16_384, uid::IMPLICIT_VR_LE, None);
        emit(&Pdu::AssociateRq(AssociateRq::new(
            rq.calling, rq.called, &pcs, ui,
        )))
    }));
}

#[test]
fn pdata_before_ac() {
    violation(after_rq(|_| echo_rsp(1, 1, 0)));
}

#[test]
fn ac_sent_twice() {
    violation(peer(|c| {
        let rq = c.read_rq();
        let ac = ac_context_1(&rq, 16_384);
        c.send(&[ac.clone(), ac].concat());
        c.read_echo();
        c.rest()
    }));
}
