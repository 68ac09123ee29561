//! Golden PDUs: the exact bytes of real C-ECHO exchanges captured on loopback between DCMTK
//! 3.6.7, Orthanc 1.10.1, pynetdicom 3.0.4 and dicom-rs 0.10.1. `docs/captures.md` describes
//! each capture (peers, exchange, how it was taken); "capture N, PDU M" below points there.
//!
//! Hex text, so the bytes read as they appear in a capture dump; [`bytes`] decodes one without
//! allocating. Compiled for the crate's own tests and, with the non-default feature `golden`,
//! for other crates' tests (the fuzz harness seeds its corpora from it).

/// The bytes of a hex string such as [`ECHO_RQ`], two digits per byte. Test data only: a
/// non-hex digit decodes as 0 and an odd last digit is dropped (see the `golden_hex_is_valid`
/// test).
pub fn bytes(text: &str) -> impl Iterator<Item = u8> + '_ {
    text.as_bytes().chunks_exact(2).map(|pair| match pair {
        [high, low] => (nibble(*high) << 4) | nibble(*low),
        _ => 0,
    })
}

/// The PDV a test or fuzz input describes as (presentation context ID, is command, is last,
/// fragment), the shape proptest and the fuzz harness generate.
pub fn pdv<'a>(
    (pc_id, is_command, is_last, fragment): (u8, bool, bool, &'a [u8]),
) -> super::Pdv<'a> {
    super::Pdv {
        pc_id,
        is_command,
        is_last,
        fragment,
    }
}

/// `set` (a command set) cut into `pieces` PDVs of equal length (the last one shorter) on context `pc_id`, the
/// last one flagged last: how the scripted peers and the fuzz seeds fragment a command.
pub fn command_pdvs(pc_id: u8, set: &[u8], pieces: usize) -> impl Iterator<Item = super::Pdv<'_>> {
    let step = set.len().div_ceil(pieces.max(1)).max(1);
    set.chunks(step)
        .enumerate()
        .map(move |(i, fragment)| super::Pdv {
            pc_id,
            is_command: true,
            is_last: i.saturating_add(1).saturating_mul(step) >= set.len(),
            fragment,
        })
}

fn nibble(digit: u8) -> u8 {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
        .unwrap_or(0)
}

/// Decodes a hex string (panics on bad hex: test data only).
#[cfg(test)]
pub(crate) fn hex(text: &str) -> std::vec::Vec<u8> {
    assert!(
        text.len().is_multiple_of(2) && text.bytes().all(|d| d.is_ascii_hexdigit()),
        "bad hex"
    );
    bytes(text).collect()
}

/// DCMTK 3.6.7 echoscu A-ASSOCIATE-RQ (0xff in PC item reserved byte) (211 bytes; capture 1, PDU 1).
pub const DCMTK_RQ: &str = "0100000000cd000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e312000002e0100ff0030000011312e322e3834302e31303030382e312e3140000011312e322e3834302e31303030382e312e325000003a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e375500000f4f464649535f44434d544b5f333637";

/// DCMTK storescp A-ASSOCIATE-AC to DCMTK_RQ (190 bytes; capture 1, PDU 2).
pub const STORESCP_AC: &str = "0200000000b8000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e31210000190100000040000011312e322e3834302e31303030382e312e325000003a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e375500000f4f464649535f44434d544b5f333637";

/// P-DATA-TF C-ECHO-RQ from echoscu (80 bytes; capture 1, PDU 3).
pub const ECHO_RQ: &str = "04000000004a0000004601030000000004000000380000000000020012000000312e322e3834302e31303030382e312e3100000000010200000030000000100102000000010000000008020000000101";

/// P-DATA-TF C-ECHO-RSP from storescp (90 bytes; capture 1, PDU 4).
pub const ECHO_RSP: &str = "0400000000540000005001030000000004000000420000000000020012000000312e322e3834302e31303030382e312e310000000001020000003080000020010200000001000000000802000000010100000009020000000000";

/// A-RELEASE-RQ (10 bytes; capture 1, PDU 5).
pub const RELEASE_RQ: &str = "05000000000400000000";

/// A-RELEASE-RP (10 bytes; capture 1, PDU 6).
pub const RELEASE_RP: &str = "06000000000400000000";

/// A-ABORT from echoscu --abort (10 bytes; capture 2, PDU 15).
pub const ABORT_USER: &str = "07000000000400000000";

/// Orthanc 1.10.1 A-ASSOCIATE-AC (190 bytes; capture 3, PDU 2).
pub const ORTHANC_AC: &str = "0200000000b8000100004c422d4f525448414e432020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e31210000190100000040000011312e322e3834302e31303030382e312e325000003a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e375500000f4f464649535f44434d544b5f333637";

/// pynetdicom 3.0.4 SCP A-ASSOCIATE-AC (194 bytes; capture 4, PDU 2).
pub const PYNETDICOM_AC: &str = "0200000000bc000100004c422d50594e455420202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e31210000190100000040000011312e322e3834302e31303030382e312e325000003e5100000400003ffe52000020312e322e3832362e302e312e333638303034332e392e333831312e332e302e345500000e50594e45544449434f4d5f333034";

/// pynetdicom 3.0.4 echoscu A-ASSOCIATE-RQ, 4 transfer syntaxes (287 bytes; capture 5, PDU 1).
pub const PYNETDICOM_RQ: &str = "010000000119000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e31200000760100000030000011312e322e3834302e31303030382e312e3140000013312e322e3834302e31303030382e312e322e3140000011312e322e3834302e31303030382e312e3240000016312e322e3834302e31303030382e312e322e312e393940000013312e322e3834302e31303030382e312e322e325000003e5100000400003ffe52000020312e322e3832362e302e312e333638303034332e392e333831312e332e302e345500000e50594e45544449434f4d5f333034";

/// storescp A-ASSOCIATE-AC accepting Explicit VR LE (192 bytes; capture 5, PDU 2).
pub const STORESCP_AC_EXPLICIT: &str = "0200000000ba000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e312100001b0100000040000013312e322e3834302e31303030382e312e322e315000003a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e375500000f4f464649535f44434d544b5f333637";

/// dicom-rs 0.10.1 echoscu A-ASSOCIATE-RQ, 2 transfer syntaxes (251 bytes; capture 6, PDU 1).
pub const DICOMRS_RQ: &str = "0100000000f5000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e31200000450100000030000011312e322e3834302e31303030382e312e3140000013312e322e3834302e31303030382e312e322e3140000011312e322e3834302e31303030382e312e325000004b5100000400007ffa5200002c322e32352e3236383035313034343539393331313334353638383939363432323931313437323638313735315500000f4449434f4d2d727320302e31302e31";

/// dcmqrscp A-ASSOCIATE-RJ 1/1/7 (10 bytes; capture 7, PDU 8).
pub const RJ_CALLED_AE: &str = "03000000000400010107";

/// storescp --refuse A-ASSOCIATE-RJ 1/1/1 (10 bytes; capture 7, PDU 12).
pub const RJ_NO_REASON: &str = "03000000000400010101";

/// Orthanc A-ASSOCIATE-RJ 1/1/3 (10 bytes; capture 8, PDU 4).
pub const RJ_CALLING_AE: &str = "03000000000400010103";

/// pynetdicom A-ASSOCIATE-RJ 1/1/3 (10 bytes; capture 9, PDU 4).
pub const RJ_CALLING_AE_PYNETDICOM: &str = "03000000000400010103";

/// Every golden PDU, for the robustness tests.
pub const ALL: &[&str] = &[
    DCMTK_RQ,
    STORESCP_AC,
    ECHO_RQ,
    ECHO_RSP,
    RELEASE_RQ,
    RELEASE_RP,
    ABORT_USER,
    ORTHANC_AC,
    PYNETDICOM_AC,
    PYNETDICOM_RQ,
    STORESCP_AC_EXPLICIT,
    DICOMRS_RQ,
    RJ_CALLED_AE,
    RJ_NO_REASON,
    RJ_CALLING_AE,
    RJ_CALLING_AE_PYNETDICOM,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_hex_is_valid() {
        for text in ALL {
            assert_eq!(hex(text).len() * 2, text.len());
            assert_eq!(hex(text)[..6], hex(&text[..12])[..]);
        }
    }
}
