//! The `wire` API as another crate sees it: build PDUs from stack data, emit into stack
//! buffers, frame a byte stream holding several PDUs, parse each one.

use echoprobe_core::wire::{
    self, uid, Abort, AeTitle, AssociateAc, AssociateRj, AssociateRq, Error, List, PData, PcAc,
    PcResult, PcRq, Pdu, PduType, Pdv, Status, Uid, UserInfo,
};

/// DCMTK 3.6.7 echoscu A-ASSOCIATE-RQ (capture B1 #1), 0xff reserved byte at 0x69 included.
const DCMTK_RQ: [u8; 211] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0xcd, 0x00, 0x01, 0x00, 0x00, 0x4c, 0x42, 0x2d, 0x53, 0x43, 0x50,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x4c, 0x4f, 0x41, 0x44, 0x42, 0x41,
    0x4c, 0x41, 0x4e, 0x43, 0x45, 0x52, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2e,
    0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x33, 0x2e, 0x31, 0x2e,
    0x31, 0x2e, 0x31, 0x20, 0x00, 0x00, 0x2e, 0x01, 0x00, 0xff, 0x00, 0x30, 0x00, 0x00, 0x11, 0x31,
    0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x31, 0x2e, 0x31,
    0x40, 0x00, 0x00, 0x11, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30,
    0x38, 0x2e, 0x31, 0x2e, 0x32, 0x50, 0x00, 0x00, 0x3a, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x40,
    0x00, 0x52, 0x00, 0x00, 0x1b, 0x31, 0x2e, 0x32, 0x2e, 0x32, 0x37, 0x36, 0x2e, 0x30, 0x2e, 0x37,
    0x32, 0x33, 0x30, 0x30, 0x31, 0x30, 0x2e, 0x33, 0x2e, 0x30, 0x2e, 0x33, 0x2e, 0x36, 0x2e, 0x37,
    0x55, 0x00, 0x00, 0x0f, 0x4f, 0x46, 0x46, 0x49, 0x53, 0x5f, 0x44, 0x43, 0x4d, 0x54, 0x4b, 0x5f,
    0x33, 0x36, 0x37,
];

/// dcmqrscp A-ASSOCIATE-RJ 1/1/7 (capture B7 #8).
const RJ_CALLED_AE: [u8; 10] = [0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x01, 0x07];

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
    assert_eq!(n, DCMTK_RQ.len());
    let mut expected = DCMTK_RQ;
    expected[0x69] = 0; // DCMTK's 0xff reserved byte: we send 0
    assert_eq!(&tx[..n], &expected[..]);

    // what an SCP answers
    let Pdu::AssociateRq(got) = Pdu::parse(&DCMTK_RQ).unwrap() else {
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
    assert_eq!(&stream[..10], &RJ_CALLED_AE);

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
        wire::frame(&DCMTK_RQ[..6], 64).unwrap_err().to_string(),
        "PDU length 205 exceeds the maximum of 64"
    );
    assert_eq!(
        Pdu::parse(&[9, 0, 0, 0, 0, 0]).unwrap_err().to_string(),
        "unknown PDU type 0x09"
    );
    let e: &dyn core::error::Error = &err;
    assert!(!e.to_string().is_empty());
}
