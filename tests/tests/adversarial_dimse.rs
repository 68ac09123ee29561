//! Hostile peers, the DIMSE exchange: a C-ECHO-RSP that is wrong in one field, a failure or
//! warning status, an A-ABORT or a second response where the response should be.

use echoprobe_core::dimse::Command;
use echoprobe_core::wire::{AbortReason, AbortSource, PData, Pdu, Pdv};
use echoprobe_tests::codes::{ABORTED, FAILURE_STATUS, VIOLATION};
use echoprobe_tests::scripted::pdu::{
    abort_pdu, command, command_set, echo_rsp, element, elements, emit, pdata, us, ABORT,
    RELEASE_RQ, VERIFICATION,
};
use echoprobe_tests::scripted::{after_echo, after_rq, fast, peer, quick, violation};

/// A violation: the peer answers with a C-ECHO-RSP (message ID right, status success) that
/// `change` makes wrong.
fn rsp_changed(change: fn(&mut Command<'_>)) {
    violation(after_echo(move |pc, id| {
        let mut cmd = Command::echo_rsp(id, 0);
        change(&mut cmd);
        command(pc, &cmd)
    }));
}

/// A violation: the peer answers with a C-ECHO-RSP command set that `change` makes wrong.
fn rsp_set_changed(change: fn(&mut Vec<u8>)) {
    violation(after_echo(move |pc, id| {
        let mut set = command_set(&Command::echo_rsp(id, 0));
        change(&mut set);
        pdata(pc, &set, 1, 1)
    }));
}

#[test]
fn wrong_message_id() {
    violation(after_echo(|pc, id| echo_rsp(pc, id.wrapping_add(1), 0)));
}

#[test]
fn wrong_command_field_c_store_rsp() {
    rsp_changed(|cmd| cmd.command_field = 0x8001);
}

#[test]
fn echo_rq_instead_of_response() {
    violation(after_echo(|pc, id| command(pc, &Command::echo_rq(id))));
}

#[test]
fn response_without_status() {
    violation(after_echo(|pc, id| {
        let set = elements(&[
            element(0x0000_0002, VERIFICATION),
            element(0x0000_0100, &us(0x8030)),
            element(0x0000_0120, &us(id)),
            element(0x0000_0800, &us(0x0101)),
        ]);
        pdata(pc, &set, 1, 1)
    }));
}

#[test]
fn response_announcing_a_data_set() {
    // Data Set Type 0x0000: a data set follows (0x0101 would say none does).
    rsp_changed(|cmd| cmd.data_set_type = 0x0000);
}

#[test]
fn response_outside_group_0000() {
    rsp_set_changed(|set| set.extend_from_slice(&element(0x0008_0016, VERIFICATION)));
}

#[test]
fn response_with_a_wrong_group_length() {
    // The group length's value: the 4 bytes after the 8-byte element header.
    rsp_set_changed(|set| set[8] = set[8].wrapping_add(2));
}

#[test]
fn response_as_a_data_set_pdv() {
    violation(after_echo(|pc, id| {
        let set = command_set(&Command::echo_rsp(id, 0));
        let pdv = [Pdv {
            pc_id: pc,
            is_command: false,
            is_last: true,
            fragment: &set,
        }];
        emit(&Pdu::PData(PData::new(&pdv)))
    }));
}

#[test]
fn response_on_a_context_never_proposed() {
    violation(after_echo(|_, id| echo_rsp(3, id, 0)));
}

/// A peer answering the echo with `status`: exit 68, the status and the message ID (1, the first
/// request's) in the message, and echoprobe ends the association in order.
fn failure_status(status: u16) {
    let out = fast(
        peer(move |c| {
            let (pc, id) = c.up_to_echo();
            c.send(&echo_rsp(pc, id, status));
            c.ending()
        }),
        FAILURE_STATUS,
        &[RELEASE_RQ],
    );
    let text = out.output().to_ascii_lowercase();
    assert!(
        text.contains(&format!("0x{status:04x}")),
        "the status 0x{status:04x} is not printed\n{out}"
    );
    out.assert_stderr("(message id 1)");
}

#[test]
fn status_failure_processing_failure() {
    failure_status(0x0110);
}

#[test]
fn status_failure_refused_out_of_resources() {
    failure_status(0xa700);
}

#[test]
fn status_failure_cannot_understand() {
    failure_status(0xc000);
}

#[test]
fn status_failure_sop_class_not_supported() {
    failure_status(0x0122);
}

#[test]
fn status_warning() {
    failure_status(0x0001);
}

#[test]
fn status_warning_b000() {
    failure_status(0xb000);
}

#[test]
fn status_cancel() {
    failure_status(0xfe00);
}

#[test]
fn status_pending() {
    failure_status(0xff00);
}

#[test]
fn abort_instead_of_response() {
    fast(
        after_echo(|_, _| abort_pdu(AbortSource::ServiceUser, AbortReason::NotSpecified)),
        ABORTED,
        &[],
    );
}

#[test]
fn provider_abort_instead_of_ac() {
    fast(
        after_rq(|_| abort_pdu(AbortSource::ServiceProvider, AbortReason::UnexpectedPdu)),
        ABORTED,
        &[],
    );
}

#[test]
fn two_responses() {
    // The first completes the echo and echoprobe asks for release; the second is a violation.
    fast(
        after_echo(|pc, id| echo_rsp(pc, id, 0).repeat(2)),
        VIOLATION,
        &[RELEASE_RQ, ABORT],
    );
}

#[test]
fn stale_response_with_repeat() {
    // The first response twice: the duplicate arrives while the second request is outstanding.
    let p = after_echo(|pc, id| echo_rsp(pc, id, 0).repeat(2));
    let (out, seen) = quick(p, &["--repeat", "2"], VIOLATION);
    assert_eq!(seen.last(), Some(&ABORT), "{out}");
}
