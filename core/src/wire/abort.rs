//! A-ABORT (PS3.8 9.3.8, Table 9-26).

use core::fmt;

use super::fixed;
use super::header::PduType;
use super::Result;
use crate::text::Sink;

/// Total size of an A-ABORT.
pub const PDU_LEN: usize = fixed::PDU_LEN;

/// A read/write view of an A-ABORT (PS3.8 Table 9-26: bytes 7-8 are reserved, sent 0x00 and never checked; its
/// `source` and `reason` are [`fixed::SourceReason`]'s, the reason not significant when the source is 0).
pub type Packet<T> = fixed::Packet<T, fixed::Abort>;

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes header, zero reserved bytes, source and reason.
    pub fn set_fields(&mut self, source: u8, reason: u8) {
        self.set_body(PduType::Abort, [0, 0, source, reason]);
    }
}

/// Source field of A-ABORT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AbortSource {
    /// 0: DICOM UL service-user (initiated abort).
    ServiceUser,
    /// 1: reserved.
    Reserved,
    /// 2: DICOM UL service-provider (initiated abort).
    ServiceProvider,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for AbortSource {
    fn from(value: u8) -> Self {
        match value {
            0 => AbortSource::ServiceUser,
            1 => AbortSource::Reserved,
            2 => AbortSource::ServiceProvider,
            o => AbortSource::Unknown(o),
        }
    }
}

impl From<AbortSource> for u8 {
    fn from(value: AbortSource) -> u8 {
        match value {
            AbortSource::ServiceUser => 0,
            AbortSource::Reserved => 1,
            AbortSource::ServiceProvider => 2,
            AbortSource::Unknown(o) => o,
        }
    }
}

impl AbortSource {
    /// Its text (what `Display` shows).
    pub const fn as_str(&self) -> &'static str {
        match self {
            AbortSource::ServiceUser => "service-user",
            AbortSource::Reserved => "reserved-source",
            AbortSource::ServiceProvider => "service-provider",
            AbortSource::Unknown(_) => "unknown-source",
        }
    }
}

impl fmt::Display for AbortSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reason/diag field of A-ABORT (significant when the source is the service provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AbortReason {
    /// 0: reason-not-specified.
    NotSpecified,
    /// 1: unrecognized-PDU.
    UnrecognizedPdu,
    /// 2: unexpected-PDU.
    UnexpectedPdu,
    /// 4: unrecognized-PDU parameter.
    UnrecognizedParameter,
    /// 5: unexpected-PDU parameter.
    UnexpectedParameter,
    /// 6: invalid-PDU-parameter value.
    InvalidParameter,
    /// Any other value (3 is reserved).
    Unknown(u8),
}

impl From<u8> for AbortReason {
    fn from(value: u8) -> Self {
        match value {
            0 => AbortReason::NotSpecified,
            1 => AbortReason::UnrecognizedPdu,
            2 => AbortReason::UnexpectedPdu,
            4 => AbortReason::UnrecognizedParameter,
            5 => AbortReason::UnexpectedParameter,
            6 => AbortReason::InvalidParameter,
            o => AbortReason::Unknown(o),
        }
    }
}

impl From<AbortReason> for u8 {
    fn from(value: AbortReason) -> u8 {
        match value {
            AbortReason::NotSpecified => 0,
            AbortReason::UnrecognizedPdu => 1,
            AbortReason::UnexpectedPdu => 2,
            AbortReason::UnrecognizedParameter => 4,
            AbortReason::UnexpectedParameter => 5,
            AbortReason::InvalidParameter => 6,
            AbortReason::Unknown(o) => o,
        }
    }
}

impl AbortReason {
    /// Its text (what `Display` shows).
    pub const fn as_str(&self) -> &'static str {
        match self {
            AbortReason::NotSpecified => "reason-not-specified",
            AbortReason::UnrecognizedPdu => "unrecognized-PDU",
            AbortReason::UnexpectedPdu => "unexpected-PDU",
            AbortReason::UnrecognizedParameter => "unrecognized-PDU-parameter",
            AbortReason::UnexpectedParameter => "unexpected-PDU-parameter",
            AbortReason::InvalidParameter => "invalid-PDU-parameter-value",
            AbortReason::Unknown(3) => "reserved-reason",
            AbortReason::Unknown(_) => "unknown-reason",
        }
    }
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A-ABORT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Abort {
    /// Source (offset 8).
    pub source: AbortSource,
    /// Reason/diag (offset 9). Send `NotSpecified` when the source is the service user.
    pub reason: AbortReason,
}

impl Abort {
    /// An abort by the service user (source 0, reason 0), as `echoscu --abort` sends.
    pub const USER: Abort = Abort {
        source: AbortSource::ServiceUser,
        reason: AbortReason::NotSpecified,
    };

    /// An abort by the service provider with a reason.
    pub const fn provider(reason: AbortReason) -> Abort {
        Abort {
            source: AbortSource::ServiceProvider,
            reason,
        }
    }

    /// Parses a whole A-ABORT (exactly 10 bytes; length field must be 4). Reserved bytes
    /// are not checked.
    pub fn parse(pdu: &[u8]) -> Result<Abort> {
        let p: Packet<&[u8]> = fixed::parse(pdu, PduType::Abort)?;
        Ok(Abort {
            source: p.source().into(),
            reason: p.reason().into(),
        })
    }

    /// Always 10.
    pub fn buffer_len(&self) -> usize {
        PDU_LEN
    }

    /// Writes the PDU; [`Error::BufferTooSmall`](super::Error::BufferTooSmall) (buffer untouched) if `buf` is shorter than 10.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let (source, reason) = (self.source.into(), self.reason.into());
        fixed::emit(buf, PduType::Abort, [0, 0, source, reason])
    }
}

impl fmt::Display for Abort {
    /// E.g. `service-provider: unexpected-PDU (2/2)`; for a service-user abort the reason is
    /// not significant and only the codes are shown: `service-user (0/0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

impl Abort {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn Sink) {
        t.put(self.source.as_str());
        if self.source != AbortSource::ServiceUser {
            t.put(": ");
            t.put(self.reason.as_str());
        }
        t.put(" (");
        t.dec(u8::from(self.source).into());
        t.put("/");
        t.dec(u8::from(self.reason).into());
        t.put(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::golden;
    use crate::wire::Error;
    use std::format;

    #[test]
    fn test_parse_abort_golden() {
        let a = Abort::parse(&golden::hex(golden::ABORT_USER)).unwrap();
        assert_eq!(a, Abort::USER);
        assert_eq!(format!("{a}"), "service-user (0/0)");
    }

    #[test]
    fn test_emit_abort_golden() {
        let mut buf = [0xffu8; 10];
        assert_eq!(Abort::USER.emit(&mut buf), Ok(10));
        assert_eq!(&buf[..], &golden::hex(golden::ABORT_USER)[..]);
        let a = Abort::provider(AbortReason::UnexpectedPdu);
        assert_eq!(a.emit(&mut buf), Ok(10));
        assert_eq!(buf, [7, 0, 0, 0, 0, 4, 0, 0, 2, 2]);
        assert_eq!(format!("{a}"), "service-provider: unexpected-PDU (2/2)");
        fixed::assert_too_small_untouched::<3>(0xff, |small| a.emit(small));
    }

    #[test]
    fn test_parse_abort_rules() {
        let a = Abort::parse(&[7, 9, 0, 0, 0, 4, 0xff, 0xff, 2, 3]).unwrap();
        assert_eq!(a.reason, AbortReason::Unknown(3));
        assert_eq!(format!("{a}"), "service-provider: reserved-reason (2/3)");
        assert_eq!(
            Abort::parse(&[7, 0, 0, 0, 0, 2, 0, 0]),
            Err(Error::BadLength)
        );
        assert_eq!(
            Abort::parse(&[7, 0, 0, 0, 0, 4, 0, 0, 0]),
            Err(Error::Truncated)
        );
        for v in 0..=255u8 {
            assert_eq!(u8::from(AbortSource::from(v)), v);
            assert_eq!(u8::from(AbortReason::from(v)), v);
        }
    }
}
