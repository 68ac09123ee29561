//! A-RELEASE-RQ and A-RELEASE-RP (PS3.8 9.3.6 Table 9-24, 9.3.7 Table 9-25): fixed 10 bytes.

use super::header::{self, check_out, check_pdu, PduType, HEADER_LEN};
use super::{Error, Result};

/// Field offsets of A-RELEASE-RQ/RP (PS3.8 Tables 9-24/9-25 count from 1).
mod field {
    use core::ops::Range;
    /// PS3.8 bytes 7-10: reserved (sent 0x00, never checked).
    pub(crate) const RESERVED: Range<usize> = 6..10;
}

/// PDU length field of a release PDU.
const BODY_LEN: u32 = 4;
/// Total size of a release PDU.
pub const PDU_LEN: usize = HEADER_LEN + 4;

/// A read/write view of an A-RELEASE-RQ or A-RELEASE-RP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checks.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// `Truncated` if shorter than the length field says; `BadLength` if the length is not 4.
    pub fn check_len(&self) -> Result<()> {
        let hdr = header::Packet::new_checked(self.buffer.as_ref())?;
        if hdr.pdu_length() != BODY_LEN {
            return Err(Error::BadLength);
        }
        Ok(())
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The PDU type byte.
    pub fn pdu_type(&self) -> PduType {
        header::Packet::new_unchecked(self.buffer.as_ref()).pdu_type()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the header and zero reserved bytes.
    pub fn set_fields(&mut self, pdu_type: PduType) {
        let buf = self.buffer.as_mut();
        let mut hdr = header::Packet::new_unchecked(&mut *buf);
        hdr.set_pdu_type(pdu_type);
        hdr.set_pdu_length(BODY_LEN);
        header::write_bytes(buf, field::RESERVED.start, &[0; 4]);
    }
}

/// A-RELEASE-RQ or A-RELEASE-RP. Neither has a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Release {
    /// A-RELEASE-RQ (0x05).
    Request,
    /// A-RELEASE-RP (0x06).
    Reply,
}

impl Release {
    /// The exact bytes of an A-RELEASE-RQ.
    pub const RQ_BYTES: [u8; PDU_LEN] = [0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    /// The exact bytes of an A-RELEASE-RP.
    pub const RP_BYTES: [u8; PDU_LEN] = [0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0];

    /// Parses a whole release PDU (exactly 10 bytes; length field must be 4; the 4 reserved
    /// bytes are ignored). Another PDU type is [`Error::BadValue`].
    pub fn parse(pdu: &[u8]) -> Result<Release> {
        let r = match header::Packet::new_checked(pdu)?.pdu_type() {
            PduType::ReleaseRq => Release::Request,
            PduType::ReleaseRp => Release::Reply,
            _ => return Err(Error::BadValue),
        };
        check_pdu(pdu, r.pdu_type())?;
        Packet::new_checked(pdu)?;
        Ok(r)
    }

    /// The PDU type.
    pub fn pdu_type(&self) -> PduType {
        match self {
            Release::Request => PduType::ReleaseRq,
            Release::Reply => PduType::ReleaseRp,
        }
    }

    /// Always 10.
    pub fn buffer_len(&self) -> usize {
        PDU_LEN
    }

    /// Writes the PDU; [`Error::BufferTooSmall`] (buffer untouched) if `buf` is shorter than 10.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        check_out(buf, PDU_LEN)?;
        Packet::new_unchecked(&mut *buf).set_fields(self.pdu_type());
        Ok(PDU_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::golden;

    #[test]
    fn test_parse_release_golden() {
        assert_eq!(
            Release::parse(&golden::hex(golden::RELEASE_RQ)),
            Ok(Release::Request)
        );
        assert_eq!(
            Release::parse(&golden::hex(golden::RELEASE_RP)),
            Ok(Release::Reply)
        );
        // reserved bytes ignored
        assert_eq!(
            Release::parse(&[5, 0xff, 0, 0, 0, 4, 1, 2, 3, 4]),
            Ok(Release::Request)
        );
    }

    #[test]
    fn test_emit_release_golden() {
        let mut buf = [0xffu8; 10];
        assert_eq!(Release::Request.emit(&mut buf), Ok(10));
        assert_eq!(&buf[..], &golden::hex(golden::RELEASE_RQ)[..]);
        assert_eq!(buf, Release::RQ_BYTES);
        assert_eq!(Release::Reply.emit(&mut buf), Ok(10));
        assert_eq!(&buf[..], &golden::hex(golden::RELEASE_RP)[..]);
        assert_eq!(buf, Release::RP_BYTES);
        let mut small = [0xffu8; 9];
        assert_eq!(
            Release::Reply.emit(&mut small),
            Err(Error::BufferTooSmall { required: 10 })
        );
        assert_eq!(small, [0xff; 9]);
    }

    #[test]
    fn test_parse_release_bad_length() {
        assert_eq!(Release::parse(&[5, 0, 0, 0, 0, 0]), Err(Error::BadLength));
        assert_eq!(
            Release::parse(&[6, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0]),
            Err(Error::BadLength)
        );
        assert_eq!(
            Release::parse(&[6, 0, 0, 0, 0, 4, 0]),
            Err(Error::Truncated)
        );
        assert_eq!(
            Release::parse(&[6, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0]),
            Err(Error::BadLength)
        );
        assert_eq!(
            Release::parse(&[7, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
            Err(Error::BadValue)
        );
    }
}
