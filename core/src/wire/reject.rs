//! A-ASSOCIATE-RJ (PS3.8 9.3.4, Table 9-21).

use core::fmt;

use super::fixed;
use super::header::PduType;
use super::Result;
use crate::text::Sink;

/// Field offsets of A-ASSOCIATE-RJ (PS3.8 Table 9-21 counts from 1).
mod field {
    /// PS3.8 byte 8: result (byte 7 is reserved: sent 0x00, never checked). Bytes 9 and 10, source and
    /// reason/diag, are [`fixed::SourceReason`]'s.
    pub(crate) const RESULT: usize = 7;
}

/// Total size of an A-ASSOCIATE-RJ.
pub const PDU_LEN: usize = fixed::PDU_LEN;

/// A read/write view of an A-ASSOCIATE-RJ.
pub type Packet<T> = fixed::Packet<T, fixed::AssociateRj>;

impl<T: AsRef<[u8]>> Packet<T> {
    /// Result (offset 7).
    pub fn result(&self) -> u8 {
        self.byte(field::RESULT)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes header, zero reserved byte, result, source and reason.
    pub fn set_fields(&mut self, result: u8, source: u8, reason: u8) {
        self.set_body(PduType::AssociateRj, [0, result, source, reason]);
    }
}

/// Result field (PS3.8 Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RejectResult {
    /// 1: rejected-permanent.
    Permanent,
    /// 2: rejected-transient.
    Transient,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for RejectResult {
    fn from(value: u8) -> Self {
        match value {
            1 => RejectResult::Permanent,
            2 => RejectResult::Transient,
            o => RejectResult::Unknown(o),
        }
    }
}

impl From<RejectResult> for u8 {
    fn from(value: RejectResult) -> u8 {
        match value {
            RejectResult::Permanent => 1,
            RejectResult::Transient => 2,
            RejectResult::Unknown(o) => o,
        }
    }
}

impl RejectResult {
    /// Its text (what `Display` shows).
    pub const fn as_str(&self) -> &'static str {
        match self {
            RejectResult::Permanent => "rejected-permanent",
            RejectResult::Transient => "rejected-transient",
            RejectResult::Unknown(_) => "rejected-unknown-result",
        }
    }
}

impl fmt::Display for RejectResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Source field (PS3.8 Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RejectSource {
    /// 1: DICOM UL service-user.
    ServiceUser,
    /// 2: DICOM UL service-provider (ACSE related function).
    ServiceProviderAcse,
    /// 3: DICOM UL service-provider (Presentation related function).
    ServiceProviderPresentation,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for RejectSource {
    fn from(value: u8) -> Self {
        match value {
            1 => RejectSource::ServiceUser,
            2 => RejectSource::ServiceProviderAcse,
            3 => RejectSource::ServiceProviderPresentation,
            o => RejectSource::Unknown(o),
        }
    }
}

impl From<RejectSource> for u8 {
    fn from(value: RejectSource) -> u8 {
        match value {
            RejectSource::ServiceUser => 1,
            RejectSource::ServiceProviderAcse => 2,
            RejectSource::ServiceProviderPresentation => 3,
            RejectSource::Unknown(o) => o,
        }
    }
}

impl RejectSource {
    /// Its text (what `Display` shows).
    pub const fn as_str(&self) -> &'static str {
        match self {
            RejectSource::ServiceUser => "service-user",
            RejectSource::ServiceProviderAcse => "service-provider (ACSE)",
            RejectSource::ServiceProviderPresentation => "service-provider (presentation)",
            RejectSource::Unknown(_) => "unknown-source",
        }
    }
}

impl fmt::Display for RejectSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A-ASSOCIATE-RJ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AssociateRj {
    /// Result (offset 7).
    pub result: RejectResult,
    /// Source (offset 8).
    pub source: RejectSource,
    /// Reason/diag (offset 9); its meaning depends on the source, see [`AssociateRj::reason_text`].
    pub reason: u8,
}

impl AssociateRj {
    /// Makes a reject from its three codes.
    pub const fn new(result: RejectResult, source: RejectSource, reason: u8) -> Self {
        AssociateRj {
            result,
            source,
            reason,
        }
    }

    /// 1/1/1: rejected-permanent, service-user, no-reason-given.
    pub const NO_REASON: AssociateRj =
        AssociateRj::new(RejectResult::Permanent, RejectSource::ServiceUser, 1);
    /// 1/1/2: rejected-permanent, service-user, application-context-name-not-supported.
    pub const APPLICATION_CONTEXT_NOT_SUPPORTED: AssociateRj =
        AssociateRj::new(RejectResult::Permanent, RejectSource::ServiceUser, 2);
    /// 1/1/3: rejected-permanent, service-user, calling-AE-title-not-recognized.
    pub const CALLING_AE_NOT_RECOGNIZED: AssociateRj =
        AssociateRj::new(RejectResult::Permanent, RejectSource::ServiceUser, 3);
    /// 1/1/7: rejected-permanent, service-user, called-AE-title-not-recognized.
    pub const CALLED_AE_NOT_RECOGNIZED: AssociateRj =
        AssociateRj::new(RejectResult::Permanent, RejectSource::ServiceUser, 7);
    /// 1/2/2: rejected-permanent, service-provider (ACSE), protocol-version-not-supported.
    pub const PROTOCOL_VERSION_NOT_SUPPORTED: AssociateRj = AssociateRj::new(
        RejectResult::Permanent,
        RejectSource::ServiceProviderAcse,
        2,
    );
    /// 2/3/1: rejected-transient, service-provider (presentation), temporary-congestion.
    pub const TEMPORARY_CONGESTION: AssociateRj = AssociateRj::new(
        RejectResult::Transient,
        RejectSource::ServiceProviderPresentation,
        1,
    );
    /// 2/3/2: rejected-transient, service-provider (presentation), local-limit-exceeded.
    pub const LOCAL_LIMIT_EXCEEDED: AssociateRj = AssociateRj::new(
        RejectResult::Transient,
        RejectSource::ServiceProviderPresentation,
        2,
    );

    /// The reason/diag text of PS3.8 Table 9-21 for this source ("reserved" / "unknown" for
    /// values the table does not define).
    pub fn reason_text(&self) -> &'static str {
        match (self.source, self.reason) {
            (RejectSource::ServiceUser, 1) => "no-reason-given",
            (RejectSource::ServiceUser, 2) => "application-context-name-not-supported",
            (RejectSource::ServiceUser, 3) => "calling-AE-title-not-recognized",
            (RejectSource::ServiceUser, 4..=6 | 8..=10) => "reserved",
            (RejectSource::ServiceUser, 7) => "called-AE-title-not-recognized",
            (RejectSource::ServiceProviderAcse, 1) => "no-reason-given",
            (RejectSource::ServiceProviderAcse, 2) => "protocol-version-not-supported",
            (RejectSource::ServiceProviderPresentation, 0 | 3..=7) => "reserved",
            (RejectSource::ServiceProviderPresentation, 1) => "temporary-congestion",
            (RejectSource::ServiceProviderPresentation, 2) => "local-limit-exceeded",
            _ => "unknown-reason",
        }
    }

    /// Parses a whole A-ASSOCIATE-RJ (exactly 10 bytes; length field must be 4). The reserved
    /// byte is not checked.
    pub fn parse(pdu: &[u8]) -> Result<AssociateRj> {
        let p: Packet<&[u8]> = fixed::parse(pdu, PduType::AssociateRj)?;
        Ok(AssociateRj {
            result: p.result().into(),
            source: p.source().into(),
            reason: p.reason(),
        })
    }

    /// Always 10.
    pub fn buffer_len(&self) -> usize {
        PDU_LEN
    }

    /// Writes the PDU; [`Error::BufferTooSmall`](super::Error::BufferTooSmall) (buffer untouched) if `buf` is shorter than 10.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let body = [0, self.result.into(), self.source.into(), self.reason];
        fixed::emit(buf, PduType::AssociateRj, body)
    }
}

impl AssociateRj {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn Sink) {
        t.put(self.result.as_str());
        t.put(", ");
        t.put(self.source.as_str());
        t.put(": ");
        t.put(self.reason_text());
        t.put(" (");
        t.dec(u8::from(self.result).into());
        t.put("/");
        t.dec(u8::from(self.source).into());
        t.put("/");
        t.dec(self.reason.into());
        t.put(")");
    }
}

impl fmt::Display for AssociateRj {
    /// E.g. `rejected-permanent, service-user: called-AE-title-not-recognized (1/1/7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::golden;
    use crate::wire::Error;
    use std::format;

    #[test]
    fn test_parse_rj_golden() {
        let rj = AssociateRj::parse(&golden::hex(golden::RJ_CALLED_AE)).unwrap();
        assert_eq!(rj, AssociateRj::CALLED_AE_NOT_RECOGNIZED);
        assert_eq!(
            format!("{rj}"),
            "rejected-permanent, service-user: called-AE-title-not-recognized (1/1/7)"
        );
        let rj = AssociateRj::parse(&golden::hex(golden::RJ_CALLING_AE)).unwrap();
        assert_eq!(rj, AssociateRj::CALLING_AE_NOT_RECOGNIZED);
        assert_eq!(rj.reason_text(), "calling-AE-title-not-recognized");
        let rj = AssociateRj::parse(&golden::hex(golden::RJ_NO_REASON)).unwrap();
        assert_eq!(rj, AssociateRj::NO_REASON);
        assert_eq!(
            format!("{rj}"),
            "rejected-permanent, service-user: no-reason-given (1/1/1)"
        );
    }

    #[test]
    fn test_emit_rj_golden() {
        for (rj, g) in [
            (AssociateRj::CALLED_AE_NOT_RECOGNIZED, golden::RJ_CALLED_AE),
            (
                AssociateRj::CALLING_AE_NOT_RECOGNIZED,
                golden::RJ_CALLING_AE,
            ),
            (AssociateRj::NO_REASON, golden::RJ_NO_REASON),
        ] {
            let mut buf = [0xaau8; 12];
            assert_eq!(rj.emit(&mut buf), Ok(10));
            assert_eq!(&buf[..10], &golden::hex(g)[..]);
            assert_eq!(&buf[10..], &[0xaa, 0xaa]);
        }
    }

    #[test]
    fn test_emit_rj_too_small_untouched() {
        fixed::assert_too_small_untouched::<9>(0xaa, |buf| AssociateRj::NO_REASON.emit(buf));
    }

    #[test]
    fn test_parse_rj_rules() {
        // reserved byte ignored
        let rj = AssociateRj::parse(&[3, 0xff, 0, 0, 0, 4, 0xff, 2, 3, 1]).unwrap();
        assert_eq!(rj, AssociateRj::TEMPORARY_CONGESTION);
        assert_eq!(
            format!("{rj}"),
            "rejected-transient, service-provider (presentation): temporary-congestion (2/3/1)"
        );
        assert_eq!(
            AssociateRj::parse(&[3, 0, 0, 0, 0, 5, 0, 1, 1, 1, 0]),
            Err(Error::BadLength)
        );
        assert_eq!(
            AssociateRj::parse(&[3, 0, 0, 0, 0, 3, 0, 1, 1]),
            Err(Error::BadLength)
        );
        assert_eq!(
            AssociateRj::parse(&[3, 0, 0, 0, 0, 4, 0, 1, 1]),
            Err(Error::Truncated)
        );
        assert_eq!(
            AssociateRj::parse(&[7, 0, 0, 0, 0, 4, 0, 1, 1, 1]),
            Err(Error::BadValue)
        );
        let odd = AssociateRj::parse(&[3, 0, 0, 0, 0, 4, 0, 9, 8, 200]).unwrap();
        assert_eq!(odd.result, RejectResult::Unknown(9));
        assert_eq!(odd.source, RejectSource::Unknown(8));
        assert_eq!(
            format!("{odd}"),
            "rejected-unknown-result, unknown-source: unknown-reason (9/8/200)"
        );
    }

    #[test]
    fn test_reason_texts() {
        let t = |s, r| AssociateRj::new(RejectResult::Permanent, s, r).reason_text();
        assert_eq!(
            t(RejectSource::ServiceUser, 2),
            "application-context-name-not-supported"
        );
        assert_eq!(t(RejectSource::ServiceUser, 5), "reserved");
        assert_eq!(t(RejectSource::ServiceUser, 11), "unknown-reason");
        assert_eq!(
            t(RejectSource::ServiceProviderAcse, 2),
            "protocol-version-not-supported"
        );
        assert_eq!(
            t(RejectSource::ServiceProviderPresentation, 2),
            "local-limit-exceeded"
        );
        assert_eq!(t(RejectSource::ServiceProviderPresentation, 0), "reserved");
        for v in 0..=255u8 {
            assert_eq!(u8::from(RejectResult::from(v)), v);
            assert_eq!(u8::from(RejectSource::from(v)), v);
        }
    }
}
