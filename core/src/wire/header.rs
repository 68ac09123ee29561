//! The common 6-byte PDU header (PS3.8 9.3.1) and stream framing.

use core::fmt;

use super::view::{Kind, View};
use super::{Error, Result, Status};

/// Length of the common PDU header: type, reserved, 4-byte big-endian length.
pub const HEADER_LEN: usize = 6;

/// Field offsets of the common header (PS3.8 Table 9-11 and the other 9.3.x tables count
/// from 1; these are 0-based).
mod field {
    use core::ops::Range;
    /// PS3.8 byte 1: PDU type.
    pub(crate) const PDU_TYPE: usize = 0;
    /// PS3.8 byte 2: reserved (sent 0x00, never checked).
    pub(crate) const RESERVED: usize = 1;
    /// PS3.8 bytes 3-6: PDU length, u32 big endian, bytes after this field.
    pub(crate) const LENGTH: Range<usize> = 2..6;
}

/// The PDU type byte (PS3.8 9.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PduType {
    /// 0x01 A-ASSOCIATE-RQ.
    AssociateRq,
    /// 0x02 A-ASSOCIATE-AC.
    AssociateAc,
    /// 0x03 A-ASSOCIATE-RJ.
    AssociateRj,
    /// 0x04 P-DATA-TF.
    PData,
    /// 0x05 A-RELEASE-RQ.
    ReleaseRq,
    /// 0x06 A-RELEASE-RP.
    ReleaseRp,
    /// 0x07 A-ABORT.
    Abort,
    /// Any other value (an unrecognized PDU, PS3.8 event 19).
    Unknown(u8),
}

impl From<u8> for PduType {
    fn from(value: u8) -> Self {
        match value {
            0x01 => PduType::AssociateRq,
            0x02 => PduType::AssociateAc,
            0x03 => PduType::AssociateRj,
            0x04 => PduType::PData,
            0x05 => PduType::ReleaseRq,
            0x06 => PduType::ReleaseRp,
            0x07 => PduType::Abort,
            other => PduType::Unknown(other),
        }
    }
}

impl From<PduType> for u8 {
    fn from(pdu_type: PduType) -> u8 {
        match pdu_type {
            PduType::AssociateRq => 0x01,
            PduType::AssociateAc => 0x02,
            PduType::AssociateRj => 0x03,
            PduType::PData => 0x04,
            PduType::ReleaseRq => 0x05,
            PduType::ReleaseRp => 0x06,
            PduType::Abort => 0x07,
            PduType::Unknown(v) => v,
        }
    }
}

impl fmt::Display for PduType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PduType::AssociateRq => f.write_str("A-ASSOCIATE-RQ"),
            PduType::AssociateAc => f.write_str("A-ASSOCIATE-AC"),
            PduType::AssociateRj => f.write_str("A-ASSOCIATE-RJ"),
            PduType::PData => f.write_str("P-DATA-TF"),
            PduType::ReleaseRq => f.write_str("A-RELEASE-RQ"),
            PduType::ReleaseRp => f.write_str("A-RELEASE-RP"),
            PduType::Abort => f.write_str("A-ABORT"),
            PduType::Unknown(v) => write!(f, "unknown PDU type 0x{v:02x}"),
        }
    }
}

/// Looks at the start of `buf` for one PDU.
///
/// * [`Status::Partial`] while fewer than 6 bytes, or fewer than 6 + length bytes, are there.
/// * As soon as the 6 header bytes are there, a length above `max_len` is
///   [`Error::TooLong`], before any body byte is needed.
/// * [`Status::Complete`]`(total)` with `total = 6 + length`: the number of bytes of this PDU
///   (`buf` may hold more: the next PDU).
///
/// Every type byte is framed, known or not: the type is judged by [`super::Pdu::parse`].
pub fn frame(buf: &[u8], max_len: u32) -> Result<Status<usize>> {
    let Some(hdr) = buf.get(..HEADER_LEN) else {
        return Ok(Status::Partial);
    };
    let length = Packet::new_unchecked(hdr).pdu_length();
    // On targets where usize is 32 bits, 6 + length must still fit.
    let addressable = u32::try_from(usize::MAX - HEADER_LEN).unwrap_or(u32::MAX);
    let max = max_len.min(addressable);
    if length > max {
        return Err(Error::TooLong { length, max });
    }
    let total = usize::try_from(length)
        .ok()
        .and_then(|l| l.checked_add(HEADER_LEN))
        .ok_or(Error::TooLong { length, max })?;
    if buf.len() < total {
        Ok(Status::Partial)
    } else {
        Ok(Status::Complete(total))
    }
}

/// Marks a [`View`] as the common PDU header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {}

impl Kind for Header {
    /// [`Error::Truncated`] if the buffer is shorter than the header or than 6 + length.
    fn check_len(buf: &[u8]) -> Result<()> {
        let len = buf.len();
        let total = Packet::new_unchecked(buf).total_len();
        if len < HEADER_LEN || len < total.unwrap_or(usize::MAX) {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
}

/// A read/write view of the common PDU header.
pub type Packet<T> = View<T, Header>;

impl<T: AsRef<[u8]>> Packet<T> {
    /// PDU type (offset 0).
    pub fn pdu_type(&self) -> PduType {
        PduType::from(
            self.buffer
                .as_ref()
                .get(field::PDU_TYPE)
                .copied()
                .unwrap_or(0),
        )
    }

    /// Reserved byte (offset 1), for completeness: never checked.
    pub fn reserved(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::RESERVED)
            .copied()
            .unwrap_or(0)
    }

    /// PDU length field (offsets 2..6, big endian).
    pub fn pdu_length(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// 6 + length, if it fits a usize.
    pub fn total_len(&self) -> Option<usize> {
        usize::try_from(self.pdu_length())
            .ok()
            .and_then(|l| l.checked_add(HEADER_LEN))
    }

    /// The bytes after the header, up to the length field (or the end of the buffer).
    pub fn body(&self) -> &[u8] {
        body_of(self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the PDU type and clears the reserved byte.
    pub fn set_pdu_type(&mut self, pdu_type: PduType) {
        let buf = self.buffer.as_mut();
        if let Some(b) = buf.get_mut(field::PDU_TYPE) {
            *b = u8::from(pdu_type);
        }
        if let Some(b) = buf.get_mut(field::RESERVED) {
            *b = 0;
        }
    }

    /// Sets the PDU length field.
    pub fn set_pdu_length(&mut self, length: u32) {
        write_bytes(
            self.buffer.as_mut(),
            field::LENGTH.start,
            &length.to_be_bytes(),
        );
    }
}

/// The bytes after the header of the PDU at the start of `buf`, up to its length field (or
/// the end of `buf`).
pub(crate) fn body_of(buf: &[u8]) -> &[u8] {
    let length = usize::try_from(read_u32(buf, 2)).unwrap_or(usize::MAX);
    let end = length.saturating_add(HEADER_LEN).min(buf.len());
    buf.get(HEADER_LEN..end).unwrap_or(&[])
}

/// Checks a whole PDU of an expected type: exactly 6 + length bytes. Returns the body.
pub(crate) fn check_pdu(pdu: &[u8], expected: PduType) -> Result<&[u8]> {
    let hdr = Packet::new_checked(pdu)?;
    if hdr.pdu_type() != expected {
        return Err(Error::BadValue);
    }
    if Some(pdu.len()) != hdr.total_len() {
        return Err(Error::BadLength);
    }
    Ok(body_of(pdu))
}

/// Checks the output buffer for a PDU of `required` bytes.
pub(crate) fn check_out(buf: &[u8], required: usize) -> Result<()> {
    if buf.len() < required {
        Err(Error::BufferTooSmall { required })
    } else {
        Ok(())
    }
}

/// Big-endian u16 at `at`; 0 for missing bytes.
pub(crate) fn read_u16(buf: &[u8], at: usize) -> u16 {
    buf.get(at..)
        .and_then(<[u8]>::first_chunk::<2>)
        .map_or(0, |b| u16::from_be_bytes(*b))
}

/// Big-endian u32 at `at`; 0 for missing bytes.
pub(crate) fn read_u32(buf: &[u8], at: usize) -> u32 {
    buf.get(at..)
        .and_then(<[u8]>::first_chunk::<4>)
        .map_or(0, |b| u32::from_be_bytes(*b))
}

/// Copies `bytes` to `buf[at..]` if they fit (callers size buffers first).
pub(crate) fn write_bytes(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..).and_then(|b| b.get_mut(..bytes.len())) {
        dst.copy_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_frame_partial_then_complete() {
        let pdu = [0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0];
        for n in 0..pdu.len() {
            assert_eq!(frame(&pdu[..n], 16), Ok(Status::Partial), "at {n}");
        }
        assert_eq!(frame(&pdu, 16), Ok(Status::Complete(10)));
        let mut two = [0u8; 13];
        two[..10].copy_from_slice(&pdu);
        two[10..].copy_from_slice(&[0x07, 0, 0]);
        assert_eq!(frame(&two, 16), Ok(Status::Complete(10)));
    }

    #[test]
    fn test_frame_too_long_from_header_alone() {
        let hdr = [0x04, 0, 0x00, 0x01, 0x00, 0x00];
        assert_eq!(
            frame(&hdr, 0xffff),
            Err(Error::TooLong {
                length: 0x1_0000,
                max: 0xffff
            })
        );
        assert_eq!(frame(&hdr[..5], 0xffff), Ok(Status::Partial));
        assert_eq!(frame(&hdr, 0x1_0000), Ok(Status::Partial));
        let huge = [0x01, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            frame(&huge, u32::MAX),
            Err(Error::TooLong { .. }) | Ok(Status::Partial)
        ));
    }

    #[test]
    fn test_frame_unknown_type() {
        let pdu = [0x42, 0, 0, 0, 0, 1, 9];
        assert_eq!(frame(&pdu, 100), Ok(Status::Complete(7)));
    }

    #[test]
    fn test_pdu_type_roundtrip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(PduType::from(v)), v);
        }
        assert_eq!(PduType::from(0), PduType::Unknown(0));
        assert_eq!(PduType::from(8), PduType::Unknown(8));
    }

    #[test]
    fn test_check_pdu() {
        let pdu = [0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0];
        assert_eq!(check_pdu(&pdu, PduType::ReleaseRq), Ok(&[0u8; 4][..]));
        assert_eq!(check_pdu(&pdu, PduType::ReleaseRp), Err(Error::BadValue));
        assert_eq!(
            check_pdu(&pdu[..9], PduType::ReleaseRq),
            Err(Error::Truncated)
        );
        let mut long = [0u8; 11];
        long[..10].copy_from_slice(&pdu);
        assert_eq!(check_pdu(&long, PduType::ReleaseRq), Err(Error::BadLength));
    }
}
