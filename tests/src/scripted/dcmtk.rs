//! DCMTK's own bytes, captured from storescp 3.6.7 on loopback, for peers that must answer exactly
//! as DCMTK does (and PDUs of the same shape DCMTK sends).

/// A-ASSOCIATE-AC from DCMTK storescp 3.6.7 (called LB-SCP, calling LOADBALANCER): context 1
/// accepted with Implicit VR Little Endian, max PDU 16384, implementation OFFIS_DCMTK_367.
pub const AC: &str = "
    02 00 00 00 00 b8 00 01 00 00 4c 42 2d 53 43 50 20 20 20 20 20 20 20 20 20 20 4c 4f 41 44 42 41
    4c 41 4e 43 45 52 20 20 20 20 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 10 00 00 15 31 2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 33 2e 31 2e
    31 2e 31 21 00 00 19 01 00 00 00 40 00 00 11 31 2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 31 2e 32
    50 00 00 3a 51 00 00 04 00 00 40 00 52 00 00 1b 31 2e 32 2e 32 37 36 2e 30 2e 37 32 33 30 30 31
    30 2e 33 2e 30 2e 33 2e 36 2e 37 55 00 00 0f 4f 46 46 49 53 5f 44 43 4d 54 4b 5f 33 36 37";

/// P-DATA-TF with DCMTK's C-ECHO-RSP to message 1, status 0x0000 (the last two bytes).
pub const ECHO_RSP: &str = "
    04 00 00 00 00 54 00 00 00 50 01 03 00 00 00 00 04 00 00 00 42 00 00 00 00 00 02 00 12 00 00 00
    31 2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 31 2e 31 00 00 00 00 01 02 00 00 00 30 80 00 00 20 01
    02 00 00 00 01 00 00 00 00 08 02 00 00 00 01 01 00 00 00 09 02 00 00 00 00 00";

/// A-RELEASE-RP.
pub const RELEASE_RP: &str = "06 00 00 00 00 04 00 00 00 00";
/// A-ABORT from the service provider, reason not specified (2/0).
pub const ABORT_PROVIDER: &str = "07 00 00 00 00 04 00 00 02 00";
/// A-ASSOCIATE-RJ: rejected permanent, by the service user, calling AE title not recognized (1/1/3).
pub const REJECT_1_1_3: &str = "03 00 00 00 00 04 00 01 01 03";

/// The bytes of a hex dump like the constants above.
pub fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect()
}

/// [`AC`] as bytes.
pub fn ac() -> Vec<u8> {
    hex(AC)
}

/// [`ECHO_RSP`] with `status` instead of 0x0000.
pub fn echo_rsp(status: u16) -> Vec<u8> {
    let mut pdu = hex(ECHO_RSP);
    let n = pdu.len();
    pdu[n - 2..].copy_from_slice(&status.to_le_bytes());
    pdu
}
