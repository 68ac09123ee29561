use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::wire::golden::hex;

const QR_LEVEL: u32 = 0x0008_0052;
const STUDY_UID: u32 = 0x0020_000D;
const PATIENT_NAME: u32 = 0x0010_0010;

/// A study-level query (QueryRetrieveLevel=STUDY, StudyInstanceUID, PatientName=DOE*) in
/// Implicit VR Little Endian, built by hand from PS3.5 7.1.3: tag (group, element LE),
/// 4-byte length LE, value padded to even length (CS and PN with a space, PS3.5 6.2).
const IMPLICIT_QUERY: &str = concat!(
    "08005200",
    "06000000",
    "535455445920", // (0008,0052) "STUDY "
    "10001000",
    "04000000",
    "444f452a", // (0010,0010) "DOE*"
    "20000d00",
    "00000000", // (0020,000D) empty: return key
);

/// The same in Explicit VR Little Endian (PS3.5 7.1.2: tag, VR, 2-byte length).
const EXPLICIT_QUERY: &str = concat!(
    "08005200",
    "4353",
    "0600",
    "535455445920",
    "10001000",
    "504e",
    "0400",
    "444f452a",
    "20000d00",
    "5549",
    "0000",
);

fn keys() -> [Key<'static>; 3] {
    [
        Key {
            tag: QR_LEVEL,
            vr: Vr::CS,
            value: b"STUDY",
        },
        Key {
            tag: PATIENT_NAME,
            vr: Vr::PN,
            value: b"DOE*",
        },
        Key {
            tag: STUDY_UID,
            vr: Vr::UI,
            value: b"",
        },
    ]
}

#[test]
fn test_emit_query_implicit_and_explicit() {
    for (explicit, golden) in [(false, IMPLICIT_QUERY), (true, EXPLICIT_QUERY)] {
        let golden = hex(golden);
        let mut buf = [0u8; 64];
        let n = encode(&keys(), explicit, &mut buf).unwrap();
        assert_eq!(&buf[..n], &golden[..]);
        assert_eq!(encoded_len(&keys(), explicit).unwrap(), n);
    }
}

#[test]
fn test_emit_too_small_leaves_buffer_untouched() {
    let mut buf = [0xAAu8; 20];
    assert_eq!(
        encode(&keys(), false, &mut buf),
        Err(Error::BufferTooSmall { required: 34 })
    );
    assert!(buf.iter().all(|b| *b == 0xAA));
}

#[test]
fn test_emit_uid_padded_with_nul_and_order_checked() {
    let k = [Key {
        tag: STUDY_UID,
        vr: Vr::UI,
        value: b"1.2.3",
    }];
    let mut buf = [0u8; 32];
    let n = encode(&k, true, &mut buf).unwrap();
    assert_eq!(&buf[..n], &hex("20000d0055490600312e322e3300")[..]);
    let k = [keys()[2], keys()[0]];
    assert_eq!(encode(&k, true, &mut buf), Err(Error::BadKey));
}

#[test]
fn test_parse_query_both_encodings() {
    for (explicit, golden) in [(false, IMPLICIT_QUERY), (true, EXPLICIT_QUERY)] {
        let bytes = hex(golden);
        let ds = DataSet::new(&bytes, explicit);
        assert_eq!(ds.check(), Ok(3));
        let level = ds.get(QR_LEVEL).unwrap().unwrap();
        assert_eq!(level.value, b"STUDY ");
        assert_eq!(level.trimmed(), b"STUDY");
        assert_eq!(level.vr, explicit.then_some(Vr::CS));
        assert_eq!(ds.get(STUDY_UID).unwrap().unwrap().value, b"");
        assert_eq!(ds.get(0x0008_0020).unwrap(), None);
    }
}

#[test]
fn test_parse_truncated_at_every_offset() {
    for (explicit, golden) in [(false, IMPLICIT_QUERY), (true, EXPLICIT_QUERY)] {
        let bytes = hex(golden);
        // Cuts at element boundaries are shorter, valid data sets.
        let boundaries: Vec<usize> = {
            let mut b = vec![0];
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let (_, r) = split_element(rest, explicit, 0).unwrap();
                rest = r;
                b.push(bytes.len() - rest.len());
            }
            b
        };
        for cut in 0..bytes.len() {
            let r = DataSet::new(&bytes[..cut], explicit).check();
            if boundaries.contains(&cut) {
                assert!(r.is_ok(), "cut {cut}");
            } else {
                assert!(r.is_err(), "cut {cut}");
            }
        }
    }
}

/// (0040,0100) SQ of undefined length holding one undefined-length item with a nested
/// undefined-length SQ (empty item), then (0040,0001) AE after it: Explicit VR LE.
fn nested_sequence() -> Vec<u8> {
    hex(concat!(
        "40000001",
        "5351",
        "0000",
        "ffffffff", // SQ, undefined length
        "feff00e0",
        "ffffffff", // item, undefined length
        "40000200",
        "4441",
        "0800",
        "3230323631313239", // (0040,0002) DA
        "08003210",
        "5351",
        "0000",
        "ffffffff", // nested SQ (0008,1032)
        "feff00e0",
        "00000000", // empty item, defined length
        "feffdde0",
        "00000000", // sequence delimiter
        "feff0de0",
        "00000000", // item delimiter
        "feffdde0",
        "00000000", // sequence delimiter
        "41000100",
        "4145",
        "0600",
        "53544154494f", // (0041,0001) AE: after the SQ
    ))
}

#[test]
fn test_parse_skips_undefined_length_sequences() {
    let bytes = nested_sequence();
    let ds = DataSet::new(&bytes, true);
    let elements: Vec<_> = ds.elements().map(Result::unwrap).collect();
    assert_eq!(elements.len(), 2);
    assert_eq!(elements[0].tag, 0x0040_0100);
    assert_eq!(elements[0].vr, Some(Vr::SQ));
    // The value is the items without the final sequence delimiter.
    assert_eq!(elements[0].value.len(), bytes.len() - 12 - 8 - 14);
    assert_eq!(elements[1].tag, 0x0041_0001);
    assert_eq!(elements[1].value, b"STATIO");
    for cut in 1..bytes.len() - 14 {
        assert!(
            DataSet::new(&bytes[..cut], true).check().is_err(),
            "cut {cut}"
        );
    }
}

#[test]
fn test_parse_defined_length_sequence_implicit() {
    // (0040,0100) SQ of defined length 16 holding one item of 8 bytes, then (0040,0001).
    let bytes = hex(concat!(
        "40000001",
        "10000000",
        "feff00e0",
        "08000000",
        "4000020000000000",
        "40000100",
        "02000000",
        "4142",
    ));
    let ds = DataSet::new(&bytes, false);
    assert_eq!(ds.check(), Ok(2));
    assert_eq!(ds.get(0x0040_0001).unwrap().unwrap().value, b"AB");
}

#[test]
fn test_parse_rejects_malformed() {
    // Odd length, bad VR, undefined length on a string, stray delimiter, too deep.
    let cases: [(&str, bool, Error); 4] = [
        ("0800520003000000414243", false, Error::BadLength),
        ("0800520063730200", true, Error::BadVr),
        ("080052004353ffff", true, Error::BadLength),
        ("feffdde000000000", false, Error::BadItem),
    ];
    for (h, explicit, want) in cases {
        let bytes = hex(h);
        assert_eq!(DataSet::new(&bytes, explicit).check(), Err(want), "{h}");
    }
    // Undefined length allowed only for SQ/UN/OB/OW in Explicit VR.
    let bytes = hex("080052004c4f0000ffffffff");
    assert!(DataSet::new(&bytes, true).check().is_err());
    let mut deep = Vec::new();
    for _ in 0..=MAX_DEPTH {
        deep.extend(hex("40000001ffffffff feff00e0ffffffff"
            .replace(' ', "")
            .as_str()));
    }
    assert_eq!(DataSet::new(&deep, false).check(), Err(Error::TooDeep));
}

#[test]
fn keywords_sorted_and_found() {
    assert!(KEYWORDS.windows(2).all(|w| w[0].1 < w[1].1));
    assert_eq!(keyword("StudyInstanceUID"), Some((STUDY_UID, Vr::UI)));
    assert_eq!(vr_of(QR_LEVEL), Some(Vr::CS));
    assert_eq!(keyword("Nope"), None);
}

fn arb_key() -> impl Strategy<Value = (u32, Vr, Vec<u8>)> {
    let vrs = prop::sample::select(vec![Vr::CS, Vr::UI, Vr::PN, Vr::LO, Vr::DA, Vr::UN, Vr::UT]);
    (
        0x0008_0000u32..0x0040_ffff,
        vrs,
        prop::collection::vec(b'A'..=b'Z', 0..70),
    )
}

proptest! {
    #[test]
    fn prop_encode_parse_round_trip(
        mut ks in prop::collection::vec(arb_key(), 0..12),
        explicit in any::<bool>(),
    ) {
        ks.sort_by_key(|k| k.0);
        ks.dedup_by_key(|k| k.0);
        ks.retain(|k| k.0 & 0xffff != 0);
        let keys: Vec<Key<'_>> = ks.iter().map(|(t, v, val)| Key { tag: *t, vr: *v, value: val }).collect();
        let mut buf = vec![0u8; encoded_len(&keys, explicit).unwrap()];
        let n = encode(&keys, explicit, &mut buf).unwrap();
        let ds = DataSet::new(&buf[..n], explicit);
        let parsed: Vec<Element<'_>> = ds.elements().map(Result::unwrap).collect();
        prop_assert_eq!(parsed.len(), keys.len());
        for (e, k) in parsed.iter().zip(&keys) {
            prop_assert_eq!(e.tag, k.tag);
            prop_assert_eq!(&e.value[..k.value.len()], k.value);
            prop_assert_eq!(e.value.len(), k.value.len() + k.value.len() % 2);
            if explicit {
                prop_assert_eq!(e.vr, Some(k.vr));
            }
        }
    }

    #[test]
    fn prop_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), explicit in any::<bool>()) {
        let _ = DataSet::new(&bytes, explicit).check();
    }
}
