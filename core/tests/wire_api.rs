//! The `wire` API as another crate sees it: build PDUs from stack data, emit into stack
//! buffers, frame a byte stream holding several PDUs, parse each one.

use echoprobe_core::wire::{
    self, uid, Abort, AeTitle, AssociateAc, AssociateRj, AssociateRq, Error, List, PData, PcAc,
    PcResult, PcRq, Pdu, PduType, Pdv, Status, Uid, UserInfo,
};

/// A golden PDU (`wire::golden`, hex) as a stack array of exactly its `N` bytes.
fn golden<const N: usize>(hex: &str) -> [u8; N] {
    assert_eq!(hex.len(), 2 * N, "not {N} bytes");
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(wire::golden::bytes(hex)) {
        *o = b;
    }
    out
}

/// DCMTK 3.6.7 echoscu A-ASSOCIATE-RQ (capture 1, PDU 1), 0xff reserved byte at 0x69 included.
fn dcmtk_rq() -> [u8; 211] {
    golden(wire::golden::DCMTK_RQ)
}

/// dcmqrscp A-ASSOCIATE-RJ 1/1/7.
fn rj_called_ae() -> [u8; 10] {
    golden(wire::golden::RJ_CALLED_AE)
}

#[test]
fn requestor_side_flow_without_allocation_in_the_api() {
    // what an SCU builds
    let ts = [uid::IMPLICIT_VR_LE];
    let pcs = [PcRq {
        id: 1,
        abstract_syntax: uid::VERIFICATION,
        transfer_syntaxes: List::Slice(&ts),
    }];
    let rq = AssociateRq::new(
        AeTitle::new("LB-SCP").unwrap(),
        AeTitle::new("LOADBALANCER").unwrap(),
        &pcs,
        UserInfo::new(
            16384,
            Uid::new_unchecked(b"1.2.276.0.7230010.3.0.3.6.7"),
            Some(b"OFFIS_DCMTK_367"),
        ),
    );
    let mut tx = [0u8; 512];
    let n = Pdu::AssociateRq(rq).emit(&mut tx).unwrap();
    let captured = dcmtk_rq();
    assert_eq!(n, captured.len());
    let mut expected = captured;
    expected[0x69] = 0; // DCMTK's 0xff reserved byte: we send 0
    assert_eq!(&tx[..n], &expected[..]);

    // what an SCP answers
    let Pdu::AssociateRq(got) = Pdu::parse(&captured).unwrap() else {
        panic!("not an RQ")
    };
    let mut answers = [PcAc {
        id: 0,
        result: PcResult::NoReason,
        transfer_syntax: Uid::new_unchecked(b""),
    }; 4];
    let mut count = 0;
    for (slot, pc) in answers.iter_mut().zip(got.presentation_contexts.iter()) {
        let accepted = pc.abstract_syntax == uid::VERIFICATION
            && pc
                .transfer_syntaxes
                .iter()
                .any(|t| t == uid::IMPLICIT_VR_LE);
        *slot = PcAc {
            id: pc.id,
            result: if accepted {
                PcResult::Acceptance
            } else {
                PcResult::AbstractSyntaxNotSupported
            },
            transfer_syntax: uid::IMPLICIT_VR_LE,
        };
        count += 1;
    }
    let ac = AssociateAc {
        protocol_version: 1,
        called: got.called,
        calling: got.calling,
        application_context: got.application_context,
        presentation_contexts: List::Slice(&answers[..count]),
        user_info: got.user_info,
    };
    let n = ac.emit(&mut tx).unwrap();
    assert_eq!(AssociateAc::parse(&tx[..n]).unwrap(), ac);
    assert_eq!(
        AssociateAc::parse(&tx[..n])
            .unwrap()
            .context(1)
            .unwrap()
            .result,
        PcResult::Acceptance
    );
}

#[test]
fn framing_a_stream_of_several_pdus() {
    let mut stream = [0u8; 64];
    let mut len = 0;
    len += AssociateRj::CALLED_AE_NOT_RECOGNIZED
        .emit(&mut stream[len..])
        .unwrap();
    let frag = [0xaa, 0xbb];
    let pdv = Pdv {
        pc_id: 1,
        is_command: true,
        is_last: true,
        fragment: &frag,
    };
    len += PData::new(core::slice::from_ref(&pdv))
        .emit(&mut stream[len..])
        .unwrap();
    len += Abort::USER.emit(&mut stream[len..]).unwrap();
    assert_eq!(&stream[..10], &rj_called_ae());

    let mut at = 0;
    let mut seen = [PduType::Unknown(0); 3];
    let mut i = 0;
    while at < len {
        // feed a byte at a time until complete
        let mut have = at;
        let total = loop {
            match wire::frame(&stream[at..have], 1024).unwrap() {
                Status::Complete(t) => break t,
                Status::Partial => have += 1,
            }
        };
        let pdu = Pdu::parse(&stream[at..at + total]).unwrap();
        seen[i] = pdu.pdu_type();
        if let Pdu::AssociateRj(rj) = pdu {
            assert_eq!(
                rj.to_string(),
                "rejected-permanent, service-user: called-AE-title-not-recognized (1/1/7)"
            );
        }
        i += 1;
        at += total;
    }
    assert_eq!(seen, [PduType::AssociateRj, PduType::PData, PduType::Abort]);
}

#[test]
fn errors_display_and_small_buffers() {
    let mut small = [0u8; 4];
    let err = Abort::USER.emit(&mut small).unwrap_err();
    assert_eq!(err, Error::BufferTooSmall { required: 10 });
    assert_eq!(small, [0; 4]);
    assert_eq!(
        err.to_string(),
        "output buffer too small: 10 bytes required"
    );
    assert_eq!(
        wire::frame(&dcmtk_rq()[..6], 64).unwrap_err().to_string(),
        "PDU length 205 exceeds the maximum of 64"
    );
    assert_eq!(
        Pdu::parse(&[9, 0, 0, 0, 0, 0]).unwrap_err().to_string(),
        "unknown PDU type 0x09"
    );
    let e: &dyn core::error::Error = &err;
    assert!(!e.to_string().is_empty());
}
