//! A-RELEASE-RQ and A-RELEASE-RP (PS3.8 9.3.6 Table 9-24, 9.3.7 Table 9-25): fixed 10 bytes.

use super::fixed;
use super::header::{self, PduType};
use super::{Error, Result};

/// Total size of a release PDU.
pub const PDU_LEN: usize = fixed::PDU_LEN;

/// A read/write view of an A-RELEASE-RQ or A-RELEASE-RP (PS3.8 bytes 7-10 are reserved: sent
/// 0x00, never checked).
pub type Packet<T> = fixed::Packet<T, fixed::Release>;

impl<T: AsRef<[u8]>> Packet<T> {
    /// The PDU type byte.
    pub fn pdu_type(&self) -> PduType {
        PduType::from(self.byte(0))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the header and zero reserved bytes.
    pub fn set_fields(&mut self, pdu_type: PduType) {
        self.set_body(pdu_type, [0; 4]);
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
        let _: Packet<&[u8]> = fixed::parse(pdu, r.pdu_type())?;
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
        fixed::emit(buf, self.pdu_type(), [0; 4])
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
        fixed::assert_too_small_untouched::<9>(0xff, |small| Release::Reply.emit(small));
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
