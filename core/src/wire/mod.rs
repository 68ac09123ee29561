//! PDU views and representations (PS3.8 section 9.3).
//!
//! Layout follows smoltcp's `wire`: each PDU type has a `Packet<T: AsRef<[u8]>>` view with private
//! field offsets, and a representation (`Repr`-like struct) with `parse`, `buffer_len` and `emit`.
//! Nothing here allocates, panics or reads out of bounds, whatever the input.
//!
//! * [`frame`] finds the end of the next PDU in a byte stream (httparse style).
//! * [`Pdu::parse`] turns one framed PDU into a [`Pdu`]; [`Pdu::emit`] writes one.
//!
//! Variable-length lists (presentation contexts, transfer syntaxes, role selections, PDVs) are
//! [`List`]s: either a validated region of the received bytes or a caller slice, so the same type
//! serves both directions without allocating.

pub mod abort;
pub mod ae_title;
pub mod associate;
pub mod fixed;
pub mod header;
pub mod items;
pub mod pdata;
pub mod reject;
pub mod release;
pub mod uid;
mod user_info;
pub mod view;

#[cfg(any(test, feature = "golden"))]
pub mod golden;
#[cfg(test)]
mod tests;

use core::fmt;

pub use abort::{Abort, AbortReason, AbortSource};
pub use ae_title::{AeTitle, AeTitleError};
pub use associate::{
    AssociateAc, AssociatePdu, AssociateRq, PcAc, PcItem, PcResult, PcRq, RoleSelection, UserInfo,
};
pub use header::{frame, PduType, HEADER_LEN};
pub use items::{List, ListItem, ListIter};
pub use pdata::{PData, Pdv};
pub use reject::{AssociateRj, RejectResult, RejectSource};
pub use release::Release;
pub use uid::Uid;

/// Everything that can go wrong while framing, parsing or emitting a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than a length field says.
    Truncated,
    /// The PDU length field is above the caller's maximum (detected from the header alone).
    TooLong {
        /// The PDU length field (bytes after the 6-byte header).
        length: u32,
        /// The caller's maximum.
        max: u32,
    },
    /// A PDU type byte that PS3.8 does not define (only from [`Pdu::parse`]).
    UnknownPduType(u8),
    /// A length field inconsistent with its container (item overruns its PDU, PDV item length
    /// below 2, fixed-size PDU whose length is not 4, maximum-length sub-item not 4 bytes...).
    BadLength,
    /// A required item is missing (application context, presentation context, PDV).
    MissingItem,
    /// A field value that makes the PDU unusable (or a PDU of another type given to a
    /// type-specific parser; or a value too large to encode on emit).
    BadValue,
    /// The output buffer is too small; nothing was written.
    BufferTooSmall {
        /// Bytes needed.
        required: usize,
    },
}

impl Error {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn crate::text::Sink) {
        match *self {
            Error::Truncated => t.put("truncated PDU: fewer bytes than a length field says"),
            Error::TooLong { length, max } => {
                t.put("PDU length ");
                t.dec(length.into());
                t.put(" exceeds the maximum of ");
                t.dec(max.into());
            }
            Error::UnknownPduType(v) => {
                t.put("unknown PDU type 0x");
                t.hex(v.into(), 2, false);
            }
            Error::BadLength => t.put("inconsistent length field in PDU"),
            Error::MissingItem => t.put("required PDU item missing"),
            Error::BadValue => t.put("invalid PDU field value"),
            Error::BufferTooSmall { required } => {
                crate::text::too_small(t, "output buffer", required)
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

impl core::error::Error for Error {}

/// Result of the wire functions.
pub type Result<T> = core::result::Result<T, Error>;

/// Outcome of [`frame`]: the PDU is complete, or more bytes are needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status<T> {
    /// Complete, with the value (for `frame`: the total PDU length, header included).
    Complete(T),
    /// More bytes are needed.
    Partial,
}

impl<T> Status<T> {
    /// `Some(value)` if complete.
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(v) => Some(v),
            Status::Partial => None,
        }
    }

    /// True if more bytes are needed.
    pub fn is_partial(&self) -> bool {
        matches!(self, Status::Partial)
    }
}

/// One whole PDU (header included), as framed by [`frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pdu<'a> {
    /// A-ASSOCIATE-RQ (0x01).
    AssociateRq(AssociateRq<'a>),
    /// A-ASSOCIATE-AC (0x02).
    AssociateAc(AssociateAc<'a>),
    /// A-ASSOCIATE-RJ (0x03).
    AssociateRj(AssociateRj),
    /// P-DATA-TF (0x04).
    PData(PData<'a>),
    /// A-RELEASE-RQ (0x05).
    ReleaseRq,
    /// A-RELEASE-RP (0x06).
    ReleaseRp,
    /// A-ABORT (0x07).
    Abort(Abort),
}

impl<'a> Pdu<'a> {
    /// Parses one whole PDU. `pdu.len()` must be exactly 6 + the length field: shorter is
    /// [`Error::Truncated`], longer is [`Error::BadLength`]. An undefined type byte is
    /// [`Error::UnknownPduType`] (checked once the 6 header bytes are there).
    pub fn parse(pdu: &'a [u8]) -> Result<Pdu<'a>> {
        let hdr = header::Packet::new_checked(pdu)?;
        match hdr.pdu_type() {
            PduType::AssociateRq => AssociateRq::parse(pdu).map(Pdu::AssociateRq),
            PduType::AssociateAc => AssociateAc::parse(pdu).map(Pdu::AssociateAc),
            PduType::AssociateRj => AssociateRj::parse(pdu).map(Pdu::AssociateRj),
            PduType::PData => PData::parse(pdu).map(Pdu::PData),
            PduType::ReleaseRq | PduType::ReleaseRp => Release::parse(pdu).map(|r| match r {
                Release::Request => Pdu::ReleaseRq,
                Release::Reply => Pdu::ReleaseRp,
            }),
            PduType::Abort => Abort::parse(pdu).map(Pdu::Abort),
            PduType::Unknown(t) => Err(Error::UnknownPduType(t)),
        }
    }

    /// The PDU type.
    pub fn pdu_type(&self) -> PduType {
        match self {
            Pdu::AssociateRq(_) => PduType::AssociateRq,
            Pdu::AssociateAc(_) => PduType::AssociateAc,
            Pdu::AssociateRj(_) => PduType::AssociateRj,
            Pdu::PData(_) => PduType::PData,
            Pdu::ReleaseRq => PduType::ReleaseRq,
            Pdu::ReleaseRp => PduType::ReleaseRp,
            Pdu::Abort(_) => PduType::Abort,
        }
    }

    /// Total number of bytes [`Pdu::emit`] writes, header included.
    pub fn buffer_len(&self) -> usize {
        match self {
            Pdu::AssociateRq(p) => p.buffer_len(),
            Pdu::AssociateAc(p) => p.buffer_len(),
            Pdu::AssociateRj(p) => p.buffer_len(),
            Pdu::PData(p) => p.buffer_len(),
            Pdu::ReleaseRq => Release::Request.buffer_len(),
            Pdu::ReleaseRp => Release::Reply.buffer_len(),
            Pdu::Abort(p) => p.buffer_len(),
        }
    }

    /// Writes the PDU at the start of `buf` and returns its length. If `buf` is too small,
    /// returns [`Error::BufferTooSmall`] and leaves `buf` untouched.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        match self {
            Pdu::AssociateRq(p) => p.emit(buf),
            Pdu::AssociateAc(p) => p.emit(buf),
            Pdu::AssociateRj(p) => p.emit(buf),
            Pdu::PData(p) => p.emit(buf),
            Pdu::ReleaseRq => Release::Request.emit(buf),
            Pdu::ReleaseRp => Release::Reply.emit(buf),
            Pdu::Abort(p) => p.emit(buf),
        }
    }
}

impl fmt::Display for Pdu<'_> {
    /// A one-line summary for logs: the PDU name and its key fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pdu::AssociateRq(p) => write!(
                f,
                "A-ASSOCIATE-RQ called={} calling={} contexts={}",
                p.called,
                p.calling,
                p.presentation_contexts.len()
            ),
            Pdu::AssociateAc(p) => write!(
                f,
                "A-ASSOCIATE-AC called={} calling={} contexts={}",
                p.called,
                p.calling,
                p.presentation_contexts.len()
            ),
            Pdu::AssociateRj(p) => write!(f, "A-ASSOCIATE-RJ {p}"),
            Pdu::PData(p) => write!(f, "P-DATA-TF pdvs={}", p.pdvs.len()),
            Pdu::ReleaseRq => f.write_str("A-RELEASE-RQ"),
            Pdu::ReleaseRp => f.write_str("A-RELEASE-RP"),
            Pdu::Abort(p) => write!(f, "A-ABORT {p}"),
        }
    }
}
