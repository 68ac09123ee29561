//! Benign oddities a checker must accept: unknown sub-items, a max PDU of 0 or 20 bytes, reserved
//! fields set, AE titles changed in the AC, the second context accepted, a response fragmented
//! over PDVs or PDUs, several echoes in one association. Each run is healthy (exit 0) within
//! `scripted::FAST`, and echoprobe sends nothing after the A-RELEASE-RP.

use echoprobe_core::dimse::Command;
use echoprobe_core::wire::{AeTitle, PData, PcResult};
use echoprobe_tests::scripted::pdu::{ac, ac_context_1, command_set, echo_rsp, find_item, pdata};
use echoprobe_tests::scripted::{healthy, peer, Rq};
use echoprobe_tests::Outcome;

/// A good peer except for `ac`, which builds the AC from the RQ.
fn healthy_with(ac: impl FnOnce(&Rq) -> Vec<u8> + Send + 'static) -> Outcome {
    let p = peer(move |c| {
        let rq = c.read_rq();
        c.send(&ac(&rq));
        c.echo_and_release()
    });
    healthy(p, &[])
}

#[test]
fn unknown_user_info_sub_items() {
    healthy_with(|rq| {
        let good = ac_context_1(rq, 16_384);
        // Append sub-items to the user information item (the last item): 0x56 SOP class
        // extended negotiation, 0x58 user identity response, 0x7f unknown.
        let extra: Vec<u8> = [
            vec![0x56, 0, 0, 21, 0, 17],
            b"1.2.840.10008.1.1".to_vec(),
            vec![1, 2],
            vec![0x58, 0, 0, 2, 0, 0],
            vec![0x7f, 0, 0, 3, 9, 9, 9],
        ]
        .concat();
        let ui_at = find_item(&good, 0x50);
        let mut ac = good.clone();
        let ui_len = u16::from_be_bytes([ac[ui_at + 2], ac[ui_at + 3]]) + extra.len() as u16;
        ac[ui_at + 2..ui_at + 4].copy_from_slice(&ui_len.to_be_bytes());
        ac.extend_from_slice(&extra);
        let pdu_len = (ac.len() - 6) as u32;
        ac[2..6].copy_from_slice(&pdu_len.to_be_bytes());
        ac
    });
}

#[test]
fn max_pdu_zero() {
    healthy_with(|rq| ac_context_1(rq, 0));
}

#[test]
fn reserved_fields_set_and_titles_changed() {
    // Receivers must not test reserved fields nor the AE titles echoed in the AC.
    healthy_with(|rq| {
        let other = Rq {
            called: AeTitle::new("SOMETHINGELSE").unwrap(),
            calling: AeTitle::new("NOTYOU").unwrap(),
            ..rq.clone()
        };
        let mut ac = ac_context_1(&other, 16_384);
        ac[1] = 0xff; // PDU header reserved
        ac[8] = 0xff; // reserved after the protocol version
        ac[42..74].fill(0xaa); // 32 reserved bytes
        let pc = find_item(&ac, 0x21);
        ac[pc + 5] = 0xff; // reserved in the presentation context item
        ac[pc + 7] = 0xff;
        ac
    });
}

#[test]
fn small_peer_max_pdu_makes_echoprobe_fragment() {
    // A peer that takes P-DATA-TF of 20 bytes at most: echoprobe must split its 68-byte
    // command set over several PDUs, and the peer reassembles it.
    let p = peer(|c| {
        let rq = c.read_rq();
        c.send(&ac_context_1(&rq, 20));
        let mut set = Vec::new();
        let mut pdus = 0;
        let (pc, last) = loop {
            let pdu = c.read_pdu().expect("P-DATA-TF");
            assert!(
                pdu.len() - 6 <= 20,
                "P-DATA-TF of {} bytes > 20",
                pdu.len() - 6
            );
            pdus += 1;
            let p = PData::parse(&pdu).expect("P-DATA-TF");
            let pdv = p.pdvs.first().expect("PDV");
            set.extend_from_slice(pdv.fragment);
            if pdv.is_last {
                break (pdv.pc_id, pdv.is_last);
            }
        };
        assert!(last && pdus >= 4, "{pdus} PDUs");
        let cmd = Command::parse(&set).expect("reassembled C-ECHO-RQ");
        c.send(&echo_rsp(pc, cmd.message_id.unwrap(), 0));
        c.release()
    });
    healthy(p, &[]);
}

#[test]
fn second_context_accepted() {
    // Two contexts proposed; the peer rejects the first and accepts the second, and the echo
    // must go out on the second.
    let p = peer(|c| {
        let rq = c.read_rq();
        assert_eq!(rq.pcs, [1, 3]);
        c.send(&ac(
            &rq,
            &[(1, PcResult::UserRejection), (3, PcResult::Acceptance)],
            16_384,
        ));
        let (pc, id) = c.read_echo();
        assert_eq!(pc, 3, "echo on a rejected context");
        c.send(&echo_rsp(pc, id, 0));
        c.release()
    });
    healthy(p, &["-ppc", "2"]);
}

/// A peer answering the echo with its response cut into `pieces` PDVs, `per_pdu` to a PDU.
fn response_fragmented(pieces: usize, per_pdu: usize) {
    let p = peer(move |c| {
        let (pc, id) = c.up_to_echo();
        let set = command_set(&Command::echo_rsp(id, 0));
        c.send(&pdata(pc, &set, pieces, per_pdu));
        c.echo_and_release()
    });
    healthy(p, &[]);
}

#[test]
fn response_fragmented_over_pdvs() {
    response_fragmented(5, 5);
}

#[test]
fn response_fragmented_over_pdus() {
    response_fragmented(6, 1);
}

#[test]
fn repeat_three_echoes() {
    let p = peer(|c| {
        c.associate();
        c.echo_and_release()
    });
    let out = healthy(p, &["--repeat", "3"]);
    let n = out.output().matches("Echo Response").count();
    assert!(n >= 3, "{n} responses reported\n{out}");
}
