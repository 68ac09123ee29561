//! Cross-cutting wire tests: golden A-ASSOCIATE-RQ/AC parse and emit, every PDU kind through
//! [`Pdu`], truncation and corruption of every golden PDU, unknown items, and proptest round
//! trips `parse(emit(x)) == x` for every PDU kind.

use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::golden::{self, hex};
use super::items::item_type;
use super::uid;
use super::*;

/// Offset of the reserved byte DCMTK sets to 0xff in its RQ (PC item offset 6).
const DCMTK_FF_OFFSET: usize = 0x69;

fn ae(s: &str) -> AeTitle {
    AeTitle::new(s).unwrap()
}

fn emit_vec(p: &Pdu<'_>) -> Vec<u8> {
    let mut out = vec![0u8; p.buffer_len()];
    assert_eq!(p.emit(&mut out), Ok(out.len()));
    out
}

/// DCMTK 3.6.7's user information (capture 1): max length 16384, its implementation class UID and version name.
fn dcmtk_user_info() -> UserInfo<'static> {
    UserInfo::new(
        16384,
        Uid::from("1.2.276.0.7230010.3.0.3.6.7"),
        Some(b"OFFIS_DCMTK_367"),
    )
}

/// The RQ or AC of the DCMTK captures (LOADBALANCER calling LB-SCP) with the contexts `pcs`: version 1, the DICOM
/// application context, DCMTK's user information.
fn dcmtk_pdu<'a, P: PcItem<'a>>(pcs: &'a [P]) -> AssociatePdu<'a, P> {
    AssociatePdu {
        protocol_version: 1,
        called: ae("LB-SCP"),
        calling: ae("LOADBALANCER"),
        application_context: uid::APPLICATION_CONTEXT,
        presentation_contexts: List::Slice(pcs),
        user_info: dcmtk_user_info(),
    }
}

/// `pdu` has the fixed part of the DCMTK captures ([`dcmtk_pdu`]).
fn assert_dcmtk_fixed<'a, P: PcItem<'a>>(pdu: &AssociatePdu<'a, P>) {
    assert_eq!(pdu.protocol_version, 1);
    assert_eq!(pdu.called, ae("LB-SCP"));
    assert_eq!(pdu.calling, ae("LOADBALANCER"));
    assert_eq!(pdu.application_context, uid::APPLICATION_CONTEXT);
}

/// The user information says the peer's max PDU length and implementation version name.
#[track_caller]
fn assert_peer(ui: &UserInfo<'_>, max_length: u32, version_name: &[u8]) {
    assert_eq!(ui.max_length, max_length);
    assert_eq!(ui.implementation_version_name, Some(version_name));
}

// ---------------------------------------------------------------- golden RQ / AC

#[test]
fn test_parse_dcmtk_rq() {
    let bytes = hex(golden::DCMTK_RQ);
    assert_eq!(bytes[DCMTK_FF_OFFSET], 0xff);
    let rq = AssociateRq::parse(&bytes).unwrap();
    assert_dcmtk_fixed(&rq);
    assert_eq!(rq.presentation_contexts.len(), 1);
    let pc = rq.presentation_contexts.first().unwrap();
    assert_eq!(pc.id, 1);
    assert_eq!(pc.abstract_syntax, uid::VERIFICATION);
    assert_eq!(
        pc.transfer_syntaxes.iter().collect::<Vec<_>>(),
        [uid::IMPLICIT_VR_LE]
    );
    let ui = rq.user_info;
    assert_eq!(ui.max_length, 16384);
    assert_eq!(
        ui.implementation_class_uid,
        Uid::from("1.2.276.0.7230010.3.0.3.6.7")
    );
    assert_eq!(
        ui.implementation_version_name,
        Some(&b"OFFIS_DCMTK_367"[..])
    );
    assert_eq!(ui.async_ops, None);
    assert!(ui.role_selections.is_empty());
}

#[test]
fn test_emit_dcmtk_rq_writes_zero_reserved() {
    let bytes = hex(golden::DCMTK_RQ);
    let mut expected = bytes.clone();
    expected[DCMTK_FF_OFFSET] = 0;
    // re-emit what we parsed
    let rq = AssociateRq::parse(&bytes).unwrap();
    assert_eq!(rq.buffer_len(), bytes.len());
    let mut out = vec![0xeeu8; bytes.len()];
    assert_eq!(rq.emit(&mut out), Ok(bytes.len()));
    assert_eq!(out, expected);
    // and the same RQ built from caller slices
    let ts = [uid::IMPLICIT_VR_LE];
    let pcs = [PcRq {
        id: 1,
        abstract_syntax: uid::VERIFICATION,
        transfer_syntaxes: List::Slice(&ts),
    }];
    let built = AssociateRq::new(ae("LB-SCP"), ae("LOADBALANCER"), &pcs, dcmtk_user_info());
    assert_eq!(built, dcmtk_pdu(&pcs));
    assert_eq!(built, rq);
    assert_eq!(emit_vec(&Pdu::AssociateRq(built)), expected);
}

#[test]
fn test_parse_storescp_ac_and_emit_exact() {
    let bytes = hex(golden::STORESCP_AC);
    let ac = AssociateAc::parse(&bytes).unwrap();
    assert_dcmtk_fixed(&ac);
    let pcs: Vec<_> = ac.presentation_contexts.iter().collect();
    assert_eq!(
        pcs,
        [PcAc {
            id: 1,
            result: PcResult::Acceptance,
            transfer_syntax: uid::IMPLICIT_VR_LE
        }]
    );
    assert_eq!(ac.context(1), Some(pcs[0]));
    assert_eq!(ac.context(3), None);
    assert_peer(&ac.user_info, 16384, b"OFFIS_DCMTK_367");
    // emit from slices reproduces the capture exactly
    let built = dcmtk_pdu(&pcs);
    assert_eq!(built, ac);
    assert_eq!(emit_vec(&Pdu::AssociateAc(built)), bytes);
}

#[test]
fn test_parse_pynetdicom_rq_four_transfer_syntaxes() {
    let bytes = hex(golden::PYNETDICOM_RQ);
    let rq = AssociateRq::parse(&bytes).unwrap();
    let pc = rq.presentation_contexts.first().unwrap();
    assert_eq!(pc.abstract_syntax, uid::VERIFICATION);
    assert_eq!(
        pc.transfer_syntaxes.iter().collect::<Vec<_>>(),
        [
            uid::EXPLICIT_VR_LE,
            uid::IMPLICIT_VR_LE,
            uid::DEFLATED_EXPLICIT_VR_LE,
            uid::EXPLICIT_VR_BE
        ]
    );
    assert_eq!(pc.transfer_syntaxes.len(), 4);
    assert_peer(&rq.user_info, 16382, b"PYNETDICOM_304");
}

#[test]
fn test_parse_storescp_ac_explicit() {
    let bytes = hex(golden::STORESCP_AC_EXPLICIT);
    let ac = AssociateAc::parse(&bytes).unwrap();
    let pc = ac.presentation_contexts.first().unwrap();
    assert_eq!(pc.result, PcResult::Acceptance);
    assert_eq!(pc.transfer_syntax, uid::EXPLICIT_VR_LE);
}

#[test]
fn test_parse_dicomrs_rq() {
    let bytes = hex(golden::DICOMRS_RQ);
    let rq = AssociateRq::parse(&bytes).unwrap();
    assert_peer(&rq.user_info, 32762, b"DICOM-rs 0.10.1");
    assert!(rq.user_info.implementation_class_uid.is_valid());
    let pc = rq.presentation_contexts.first().unwrap();
    assert_eq!(
        pc.transfer_syntaxes.iter().collect::<Vec<_>>(),
        [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE]
    );
}

/// Every golden PDU whose peer wrote standard bytes comes back byte for byte.
#[test]
fn test_emit_golden_roundtrip_exact() {
    for g in golden::ALL {
        let bytes = hex(g);
        let pdu = Pdu::parse(&bytes).unwrap();
        let mut expected = bytes.clone();
        if *g == golden::DCMTK_RQ {
            expected[DCMTK_FF_OFFSET] = 0;
        }
        assert_eq!(emit_vec(&pdu), expected, "{pdu}");
    }
}

#[test]
fn test_pdu_parse_types() {
    let cases: &[(&str, PduType)] = &[
        (golden::DCMTK_RQ, PduType::AssociateRq),
        (golden::STORESCP_AC, PduType::AssociateAc),
        (golden::RJ_CALLED_AE, PduType::AssociateRj),
        (golden::ECHO_RQ, PduType::PData),
        (golden::ECHO_RSP, PduType::PData),
        (golden::RELEASE_RQ, PduType::ReleaseRq),
        (golden::RELEASE_RP, PduType::ReleaseRp),
        (golden::ABORT_USER, PduType::Abort),
    ];
    for (g, t) in cases {
        let bytes = hex(g);
        assert_eq!(Pdu::parse(&bytes).unwrap().pdu_type(), *t);
        assert_eq!(
            header::frame(&bytes, 1 << 20),
            Ok(Status::Complete(bytes.len()))
        );
    }
    assert_eq!(
        Pdu::parse(&[0x08, 0, 0, 0, 0, 0]),
        Err(Error::UnknownPduType(8))
    );
    assert_eq!(Pdu::parse(&[0x01, 0, 0, 0]), Err(Error::Truncated));
    assert_eq!(
        std::format!("{}", Pdu::parse(&hex(golden::RJ_CALLED_AE)).unwrap()),
        "A-ASSOCIATE-RJ rejected-permanent, service-user: called-AE-title-not-recognized (1/1/7)"
    );
    assert_eq!(
        std::format!("{}", Pdu::parse(&hex(golden::DCMTK_RQ)).unwrap()),
        "A-ASSOCIATE-RQ called=LB-SCP calling=LOADBALANCER contexts=1"
    );
}

// ---------------------------------------------------------------- robustness

#[test]
fn test_truncate_every_golden_at_every_offset() {
    for g in golden::ALL {
        let bytes = hex(g);
        for n in 0..bytes.len() {
            let cut = &bytes[..n];
            assert_eq!(
                header::frame(cut, u32::MAX),
                Ok(Status::Partial),
                "{g} at {n}"
            );
            assert!(Pdu::parse(cut).is_err(), "{g} at {n}");
            // the same prefix with a length field that agrees with it: never panics
            if n >= HEADER_LEN {
                let mut fixed = cut.to_vec();
                fixed[2..6].copy_from_slice(&u32::try_from(n - HEADER_LEN).unwrap().to_be_bytes());
                if let Ok(p) = Pdu::parse(&fixed) {
                    check_reemit(&p);
                }
            }
        }
    }
}

/// A parsed PDU emits, and what it emits parses to the same PDU.
fn check_reemit(p: &Pdu<'_>) {
    let out = emit_vec(p);
    let back = Pdu::parse(&out);
    assert_eq!(back.as_ref(), Ok(p));
    assert_eq!(
        header::frame(&out, u32::MAX),
        Ok(Status::Complete(out.len()))
    );
}

#[test]
fn test_corrupt_every_byte_of_every_golden() {
    for g in golden::ALL {
        let bytes = hex(g);
        for i in 0..bytes.len() {
            let orig = bytes[i];
            for v in [
                0x00,
                0xff,
                orig ^ 0x01,
                orig ^ 0x80,
                orig.wrapping_add(1),
                orig.wrapping_sub(1),
            ] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = header::frame(&b, 1 << 16);
                if let Ok(p) = Pdu::parse(&b) {
                    check_reemit(&p);
                    // walk every list
                    walk(&p);
                }
            }
        }
    }
}

fn walk(p: &Pdu<'_>) {
    match p {
        Pdu::AssociateRq(rq) => {
            for pc in rq.presentation_contexts {
                let _ = pc.transfer_syntaxes.len();
            }
            let _ = rq.user_info.role_selections.len();
        }
        Pdu::AssociateAc(ac) => {
            let _ = ac.presentation_contexts.len();
            let _ = ac.user_info.role_selections.len();
        }
        Pdu::PData(pd) => {
            let _ = pd.pdvs.len();
        }
        _ => {}
    }
}

#[test]
fn test_too_long_as_soon_as_header_is_there() {
    let bytes = hex(golden::DCMTK_RQ);
    for n in 0..HEADER_LEN {
        assert_eq!(header::frame(&bytes[..n], 100), Ok(Status::Partial));
    }
    assert_eq!(
        header::frame(&bytes[..HEADER_LEN], 100),
        Err(Error::TooLong {
            length: 205,
            max: 100
        })
    );
    assert_eq!(
        header::frame(&bytes[..HEADER_LEN], 205),
        Ok(Status::Partial)
    );
    assert_eq!(header::frame(&bytes, 205), Ok(Status::Complete(211)));
}

// ---------------------------------------------------------------- hand-made RQ/AC bodies

fn item(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![t, 0];
    v.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn assoc_pdu(t: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let mut body = vec![0u8; 68];
    body[1] = 1;
    body[4..20].copy_from_slice(b"CALLED          ");
    body[20..36].copy_from_slice(b"CALLING         ");
    for i in items {
        body.extend_from_slice(i);
    }
    let mut v = vec![t, 0];
    v.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    v.extend_from_slice(&body);
    v
}

fn pc_rq(id: u8, subs: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![id, 0, 0xff, 0];
    for s in subs {
        b.extend_from_slice(s);
    }
    item(0x20, &b)
}

fn app_ctx() -> Vec<u8> {
    item(0x10, uid::APPLICATION_CONTEXT.as_bytes())
}

fn verification_pc(id: u8) -> Vec<u8> {
    pc_rq(
        id,
        &[
            item(0x30, uid::VERIFICATION.as_bytes()),
            item(0x40, uid::IMPLICIT_VR_LE.as_bytes()),
        ],
    )
}

#[test]
fn test_unknown_items_and_sub_items_skipped() {
    let mut role = vec![0, 17];
    role.extend_from_slice(uid::VERIFICATION.as_bytes());
    role.extend_from_slice(&[1, 0]);
    let user_info = item(
        0x50,
        &[
            item(0x58, &[1, 0, 0, 3, b'b', b'o', b'b', 0, 0]),
            item(0x55, b"X"),
            item(0x56, &[0, 1, b'1', 9, 9]),
            item(0x54, &role),
            item(0x52, b"1.2.3\0"),
            item(0xee, &[]),
            item(0x53, &[0, 2, 0, 3]),
            item(0x51, &[0, 0, 0x10, 0]),
            item(0x51, &[0, 0, 0x20, 0]),
        ]
        .concat(),
    );
    let pdu = assoc_pdu(
        0x01,
        &[
            item(0x99, b"junk"),
            user_info,
            pc_rq(
                3,
                &[
                    item(0x77, b"??"),
                    item(0x40, uid::EXPLICIT_VR_LE.as_bytes()),
                    item(0x30, uid::VERIFICATION.as_bytes()),
                    item(0x40, uid::IMPLICIT_VR_LE.as_bytes()),
                ],
            ),
            item(0x21, &[1, 0, 0, 0]),
            app_ctx(),
            item(0x10, b"1.2.3"),
            verification_pc(5),
        ],
    );
    let rq = AssociateRq::parse(&pdu).unwrap();
    assert_eq!(rq.called, ae("CALLED"));
    assert_eq!(rq.application_context, uid::APPLICATION_CONTEXT);
    let pcs: Vec<_> = rq.presentation_contexts.iter().collect();
    assert_eq!(pcs.len(), 2);
    assert_eq!(pcs[0].id, 3);
    assert_eq!(pcs[0].abstract_syntax, uid::VERIFICATION);
    assert_eq!(
        pcs[0].transfer_syntaxes.iter().collect::<Vec<_>>(),
        [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE]
    );
    assert_eq!(pcs[1].id, 5);
    let ui = rq.user_info;
    assert_eq!(ui.max_length, 0x1000);
    assert_eq!(ui.implementation_class_uid, Uid::from("1.2.3"));
    assert_eq!(ui.implementation_version_name, Some(&b"X"[..]));
    assert_eq!(ui.async_ops, Some((2, 3)));
    assert_eq!(
        ui.role_selections.iter().collect::<Vec<_>>(),
        [RoleSelection {
            sop_class: uid::VERIFICATION,
            scu: true,
            scp: false
        }]
    );
    // re-emit: standard order, unknowns dropped, parses back the same
    check_reemit(&Pdu::AssociateRq(rq));
}

#[test]
fn test_ac_without_transfer_syntax_sub_item() {
    let pdu = assoc_pdu(
        0x02,
        &[
            app_ctx(),
            item(0x21, &[1, 0, 3, 0]),
            item(0x21, &[3, 0, 0, 0, 0x40, 0, 0, 0]),
        ],
    );
    let ac = AssociateAc::parse(&pdu).unwrap();
    let pcs: Vec<_> = ac.presentation_contexts.iter().collect();
    assert_eq!(pcs[0].result, PcResult::AbstractSyntaxNotSupported);
    assert!(pcs[0].transfer_syntax.is_empty());
    assert_eq!(pcs[1].result, PcResult::Acceptance);
    assert!(pcs[1].transfer_syntax.is_empty());
    // no user information item: defaults
    assert_eq!(ac.user_info, UserInfo::default());
    // emit writes one (empty) 0x40 sub-item per context
    let out = emit_vec(&Pdu::AssociateAc(ac));
    let back = AssociateAc::parse(&out).unwrap();
    assert_eq!(back, ac);
    let first_pc = 74 + 4 + 21;
    assert_eq!(
        &out[first_pc..first_pc + 12],
        &[0x21, 0, 0, 8, 1, 0, 3, 0, 0x40, 0, 0, 0]
    );
}

#[test]
fn test_rq_ac_errors() {
    // missing application context
    assert_eq!(
        AssociateRq::parse(&assoc_pdu(1, &[verification_pc(1)])),
        Err(Error::MissingItem)
    );
    // missing presentation context
    assert_eq!(
        AssociateRq::parse(&assoc_pdu(1, &[app_ctx()])),
        Err(Error::MissingItem)
    );
    // an AC carries 0x21, not 0x20
    assert_eq!(
        AssociateAc::parse(&assoc_pdu(2, &[app_ctx(), verification_pc(1)])),
        Err(Error::MissingItem)
    );
    // item overruns the PDU
    let mut p = assoc_pdu(1, &[app_ctx(), verification_pc(1)]);
    let at = 74 + 2;
    p[at + 1] += 1;
    assert_eq!(AssociateRq::parse(&p), Err(Error::BadLength));
    // trailing bytes that are not a whole item header
    let p = assoc_pdu(1, &[app_ctx(), verification_pc(1), vec![0x50, 0, 0]]);
    assert_eq!(AssociateRq::parse(&p), Err(Error::BadLength));
    let p = assoc_pdu(1, &[app_ctx(), verification_pc(1), vec![0x50, 0, 0, 0]]);
    assert_eq!(
        AssociateRq::parse(&p).unwrap().user_info,
        UserInfo::default()
    );
    // sub-item overruns its PC item
    let bad_pc = item(0x20, &[1, 0, 0, 0, 0x30, 0, 0, 9, b'1']);
    assert_eq!(
        AssociateRq::parse(&assoc_pdu(1, &[app_ctx(), bad_pc])),
        Err(Error::BadLength)
    );
    // PC item shorter than its 4 fixed bytes
    assert_eq!(
        AssociateRq::parse(&assoc_pdu(1, &[app_ctx(), item(0x20, &[1, 0])])),
        Err(Error::BadLength)
    );
    // 0x51 / 0x53 must be 4 bytes; 0x54 must be exact
    for sub in [
        item(0x51, &[0, 0, 1]),
        item(0x51, &[0, 0, 0, 1, 0]),
        item(0x53, &[0, 1, 0]),
        item(0x54, &[0, 3, b'1', b'.', b'2', 1]),
        item(0x54, &[0, 3, b'1', b'.', b'2', 1, 1, 1]),
        item(0x54, &[0]),
    ] {
        let p = assoc_pdu(1, &[app_ctx(), verification_pc(1), item(0x50, &sub)]);
        assert_eq!(AssociateRq::parse(&p), Err(Error::BadLength), "{sub:?}");
    }
    // length field below the fixed part, consistent with the buffer
    let mut short = vec![1, 0, 0, 0, 0, 67];
    short.extend_from_slice(&[0u8; 67]);
    assert_eq!(AssociateRq::parse(&short), Err(Error::BadLength));
    assert_eq!(Pdu::parse(&short), Err(Error::BadLength));
    // buffer longer than the PDU
    let mut long = hex(golden::DCMTK_RQ);
    long.push(0);
    assert_eq!(AssociateRq::parse(&long), Err(Error::BadLength));
    // wrong type for the type-specific parser
    assert_eq!(
        AssociateAc::parse(&hex(golden::DCMTK_RQ)),
        Err(Error::BadValue)
    );
    // reserved/odd protocol version passes through (the machine decides)
    let mut v = hex(golden::DCMTK_RQ);
    v[6] = 0x80;
    v[7] = 0x03;
    v[8] = 0xff;
    v[50] = 0xaa;
    assert_eq!(AssociateRq::parse(&v).unwrap().protocol_version, 0x8003);
}

#[test]
fn test_emit_rq_errors_leave_buffer_untouched() {
    let rq_bytes = hex(golden::DCMTK_RQ);
    let rq = AssociateRq::parse(&rq_bytes).unwrap();
    let mut small = vec![0xeeu8; rq.buffer_len() - 1];
    assert_eq!(
        rq.emit(&mut small),
        Err(Error::BufferTooSmall { required: 211 })
    );
    assert!(small.iter().all(|&b| b == 0xee));
    let ac_bytes = hex(golden::STORESCP_AC);
    let ac = AssociateAc::parse(&ac_bytes).unwrap();
    let mut small = vec![0xeeu8; 100];
    assert_eq!(
        ac.emit(&mut small),
        Err(Error::BufferTooSmall { required: 190 })
    );
    assert!(small.iter().all(|&b| b == 0xee));
    // no presentation context
    let none = AssociateRq::new(ae("A"), ae("B"), &[], UserInfo::default());
    let mut buf = vec![0xeeu8; 1024];
    assert_eq!(none.emit(&mut buf), Err(Error::MissingItem));
    assert!(buf.iter().all(|&b| b == 0xee));
    // a value too long for its 16-bit item length
    let huge = vec![b'1'; 70_000];
    let huge_uid = Uid::new_unchecked(&huge);
    let ts = [huge_uid];
    let pcs = [PcRq {
        id: 1,
        abstract_syntax: uid::VERIFICATION,
        transfer_syntaxes: List::Slice(&ts),
    }];
    let rq = AssociateRq::new(ae("A"), ae("B"), &pcs, UserInfo::default());
    assert_eq!(rq.buffer_len(), usize::MAX);
    assert_eq!(rq.emit(&mut buf), Err(Error::BadValue));
    assert!(buf.iter().all(|&b| b == 0xee));
}

#[test]
fn test_list_forms_compare_equal() {
    let bytes = hex(golden::PYNETDICOM_RQ);
    let rq = AssociateRq::parse(&bytes).unwrap();
    let pc = rq.presentation_contexts.first().unwrap();
    let ts = [
        uid::EXPLICIT_VR_LE,
        uid::IMPLICIT_VR_LE,
        uid::DEFLATED_EXPLICIT_VR_LE,
        uid::EXPLICIT_VR_BE,
    ];
    assert_eq!(pc.transfer_syntaxes, List::Slice(&ts[..]));
    assert_ne!(pc.transfer_syntaxes, List::Slice(&ts[..3]));
    assert_ne!(pc.transfer_syntaxes, List::empty());
    assert_eq!(
        std::format!("{:?}", List::<Uid<'_>>::Slice(&ts[..1])),
        "[\"1.2.840.10008.1.2.1\"]"
    );
    // a Wire list over arbitrary bytes is safe
    let junk: List<'_, PcRq<'_>> = List::Wire(&[0x20, 0, 0, 2, 1]);
    assert_eq!(junk.len(), 0);
    let junk: List<'_, Pdv<'_>> = List::Wire(&[0, 0, 0, 3, 1, 3, 9, 0]);
    assert_eq!(junk.len(), 1);
}

// ---------------------------------------------------------------- proptest

fn uid_string() -> impl Strategy<Value = String> {
    "[0-9.]{0,40}"
}

fn ae_title() -> impl Strategy<Value = AeTitle> {
    prop_oneof![
        any::<[u8; 16]>().prop_map(|b| AeTitle::from_wire(&b)),
        "[ -~]{1,16}".prop_filter_map("valid AE", |s| AeTitle::new(&s).ok()),
    ]
}

#[derive(Debug, Clone)]
struct PcModel {
    id: u8,
    abstract_syntax: String,
    transfer_syntaxes: Vec<String>,
    result: u8,
}

fn pc_model() -> impl Strategy<Value = PcModel> {
    (
        any::<u8>(),
        uid_string(),
        proptest::collection::vec(uid_string(), 0..4),
        any::<u8>(),
    )
        .prop_map(|(id, abstract_syntax, transfer_syntaxes, result)| PcModel {
            id,
            abstract_syntax,
            transfer_syntaxes,
            result,
        })
}

#[derive(Debug, Clone)]
struct UserInfoModel {
    max_length: u32,
    class_uid: String,
    version_name: Option<Vec<u8>>,
    async_ops: Option<(u16, u16)>,
    roles: Vec<(String, bool, bool)>,
}

fn user_info_model() -> impl Strategy<Value = UserInfoModel> {
    (
        any::<u32>(),
        uid_string(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..17)),
        proptest::option::of(any::<(u16, u16)>()),
        proptest::collection::vec((uid_string(), any::<bool>(), any::<bool>()), 0..4),
    )
        .prop_map(
            |(max_length, class_uid, version_name, async_ops, roles)| UserInfoModel {
                max_length,
                class_uid,
                version_name,
                async_ops,
                roles,
            },
        )
}

fn roles_of(m: &UserInfoModel) -> Vec<RoleSelection<'_>> {
    m.roles
        .iter()
        .map(|(u, scu, scp)| RoleSelection {
            sop_class: Uid::from(u.as_str()),
            scu: *scu,
            scp: *scp,
        })
        .collect()
}

fn user_info_of<'a>(m: &'a UserInfoModel, roles: &'a [RoleSelection<'a>]) -> UserInfo<'a> {
    UserInfo {
        max_length: m.max_length,
        implementation_class_uid: Uid::from(m.class_uid.as_str()),
        implementation_version_name: m.version_name.as_deref(),
        async_ops: m.async_ops,
        role_selections: List::Slice(roles),
    }
}

/// Emits, checks buffer_len, frame and BufferTooSmall, parses back and compares.
fn roundtrip(p: &Pdu<'_>) -> core::result::Result<(), TestCaseError> {
    let len = p.buffer_len();
    let mut out = vec![0u8; len + 3];
    prop_assert_eq!(p.emit(&mut out), Ok(len));
    prop_assert_eq!(&out[len..], &[0u8; 3][..]);
    prop_assert_eq!(header::frame(&out, u32::MAX), Ok(Status::Complete(len)));
    let back = Pdu::parse(&out[..len]);
    prop_assert_eq!(back.as_ref(), Ok(p));
    let mut small = vec![0xeeu8; len - 1];
    prop_assert_eq!(
        p.emit(&mut small),
        Err(Error::BufferTooSmall { required: len })
    );
    prop_assert!(small.iter().all(|&b| b == 0xee));
    Ok(())
}

/// What an RQ and an AC share: protocol version, called and calling AE title, application context, the
/// presentation contexts' model and the user information's.
type AssociateModel = (u16, AeTitle, AeTitle, String, Vec<PcModel>, UserInfoModel);

fn associate_model() -> impl Strategy<Value = AssociateModel> {
    (
        any::<u16>(),
        ae_title(),
        ae_title(),
        uid_string(),
        proptest::collection::vec(pc_model(), 1..5),
        user_info_model(),
    )
}

/// [`roundtrip`] of the RQ or AC (`wrap`) of `m` with the presentation contexts `list`.
fn associate_roundtrip<'a, P: PcItem<'a>>(
    m: &'a AssociateModel,
    list: &'a [P],
    roles: &'a [RoleSelection<'a>],
    wrap: fn(AssociatePdu<'a, P>) -> Pdu<'a>,
) -> core::result::Result<(), TestCaseError> {
    let (version, called, calling, app, _, user_info) = m;
    roundtrip(&wrap(AssociatePdu {
        protocol_version: *version,
        called: *called,
        calling: *calling,
        application_context: Uid::from(app.as_str()),
        presentation_contexts: List::Slice(list),
        user_info: user_info_of(user_info, roles),
    }))
}

proptest! {
    #[test]
    fn prop_associate_rq_roundtrip(m in associate_model()) {
        let ts: Vec<Vec<Uid<'_>>> = m
            .4
            .iter()
            .map(|pc| pc.transfer_syntaxes.iter().map(|s| Uid::from(s.as_str())).collect())
            .collect();
        let list: Vec<PcRq<'_>> = m
            .4
            .iter()
            .zip(&ts)
            .map(|(pc, t)| PcRq {
                id: pc.id,
                abstract_syntax: Uid::from(pc.abstract_syntax.as_str()),
                transfer_syntaxes: List::Slice(t),
            })
            .collect();
        associate_roundtrip(&m, &list, &roles_of(&m.5), Pdu::AssociateRq)?;
    }

    #[test]
    fn prop_associate_ac_roundtrip(m in associate_model()) {
        let list: Vec<PcAc<'_>> = m
            .4
            .iter()
            .map(|pc| PcAc {
                id: pc.id,
                result: PcResult::from(pc.result),
                transfer_syntax: Uid::from(pc.abstract_syntax.as_str()),
            })
            .collect();
        associate_roundtrip(&m, &list, &roles_of(&m.5), Pdu::AssociateAc)?;
    }

    #[test]
    fn prop_pdata_roundtrip(
        pdvs in proptest::collection::vec(
            (any::<u8>(), any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)),
            1..5,
        ),
    ) {
        let list: Vec<Pdv<'_>> = pdvs
            .iter()
            .map(|(pc_id, is_command, is_last, f)| golden::pdv((*pc_id, *is_command, *is_last, f)))
            .collect();
        roundtrip(&Pdu::PData(PData::new(&list)))?;
        if list.len() == 1 {
            prop_assert_eq!(PData::buffer_len_for(list[0].fragment.len()), PData::new(&list).buffer_len());
        }
    }

    #[test]
    fn prop_fixed_pdus_roundtrip(result in any::<u8>(), source in any::<u8>(), reason in any::<u8>()) {
        roundtrip(&Pdu::AssociateRj(AssociateRj {
            result: result.into(),
            source: source.into(),
            reason,
        }))?;
        roundtrip(&Pdu::Abort(Abort { source: source.into(), reason: reason.into() }))?;
        roundtrip(&Pdu::ReleaseRq)?;
        roundtrip(&Pdu::ReleaseRp)?;
    }

    /// Arbitrary bytes: framing and parsing never panic; whatever parses re-emits to itself.
    #[test]
    fn prop_arbitrary_bytes_never_panic(
        t in 0u8..9,
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut b = vec![t, 0];
        b.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
        b.extend_from_slice(&body);
        let _ = header::frame(&b, 1000);
        if let Ok(p) = Pdu::parse(&b) {
            walk(&p);
            check_reemit(&p);
        }
        let _ = Pdu::parse(&body);
    }

    /// Golden PDUs with a few random bytes changed.
    #[test]
    fn prop_mutated_golden_never_panic(
        which in 0..golden::ALL.len(),
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut b = hex(golden::ALL[which]);
        for (i, v) in &edits {
            let at = i.index(b.len());
            b[at] = *v;
        }
        let _ = header::frame(&b, 1 << 16);
        if let Ok(p) = Pdu::parse(&b) {
            walk(&p);
            check_reemit(&p);
        }
    }
}

#[test]
fn test_item_type_constants() {
    assert_eq!(item_type::APPLICATION_CONTEXT, 0x10);
    assert_eq!(item_type::USER_IDENTITY_AC, 0x59);
}
