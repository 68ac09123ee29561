//! The view shared by the fixed-size PDUs: A-ASSOCIATE-RJ (PS3.8 9.3.4, Table 9-21),
//! A-RELEASE-RQ/RP (9.3.6, 9.3.7, Tables 9-24/9-25) and A-ABORT (9.3.8, Table 9-26). Each is
//! the 6-byte header with a PDU length of 4, then four bytes whose meaning depends on the PDU;
//! each module gives its `Packet` (an alias of [`Packet`] with its own marker) the accessors
//! for those bytes.

use super::header::{self, check_out, check_pdu, PduType, HEADER_LEN};
use super::view::{Kind, View};
use super::{Error, Result};

/// PDU length field of every fixed-size PDU.
const BODY_LEN: u32 = 4;
/// Total size of every fixed-size PDU.
pub const PDU_LEN: usize = HEADER_LEN + 4;

/// Marks a [`Packet`] as an A-ASSOCIATE-RJ view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociateRj {}
/// Marks a [`Packet`] as an A-RELEASE-RQ or A-RELEASE-RP view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {}
/// Marks a [`Packet`] as an A-ABORT view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abort {}

/// `Truncated` if shorter than the length field says; `BadLength` if the length is not 4.
fn check_len(buf: &[u8]) -> Result<()> {
    let hdr = header::Packet::new_checked(buf)?;
    if hdr.pdu_length() != BODY_LEN {
        return Err(Error::BadLength);
    }
    Ok(())
}

impl Kind for AssociateRj {
    fn check_len(buf: &[u8]) -> Result<()> {
        check_len(buf)
    }
}

impl Kind for Release {
    fn check_len(buf: &[u8]) -> Result<()> {
        check_len(buf)
    }
}

impl Kind for Abort {
    fn check_len(buf: &[u8]) -> Result<()> {
        check_len(buf)
    }
}

/// A read/write view of a fixed-size PDU of the kind `K`.
pub type Packet<T, K> = View<T, K>;

/// Offsets of the bytes A-ASSOCIATE-RJ (PS3.8 Table 9-21) and A-ABORT (Table 9-26) share; the tables count from 1.
mod field {
    /// PS3.8 byte 9: source.
    pub(crate) const SOURCE: usize = 8;
    /// PS3.8 byte 10: reason/diag.
    pub(crate) const REASON: usize = 9;
}

/// The kinds that end in a source byte and a reason/diag byte: A-ASSOCIATE-RJ and A-ABORT.
pub trait SourceReason: Kind {}

impl SourceReason for AssociateRj {}

impl SourceReason for Abort {}

impl<T: AsRef<[u8]>, K: SourceReason> Packet<T, K> {
    /// Source (offset 8).
    pub fn source(&self) -> u8 {
        self.byte(field::SOURCE)
    }

    /// Reason/diag (offset 9).
    pub fn reason(&self) -> u8 {
        self.byte(field::REASON)
    }
}

impl<T: AsRef<[u8]>, K> Packet<T, K> {
    /// The byte at `offset`, 0 if the buffer is shorter.
    pub(super) fn byte(&self, offset: usize) -> u8 {
        self.buffer.as_ref().get(offset).copied().unwrap_or(0)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>, K> Packet<T, K> {
    /// Writes the header (`pdu_type`, length 4) and the four bytes after it.
    pub(super) fn set_body(&mut self, pdu_type: PduType, body: [u8; 4]) {
        let buf = self.buffer.as_mut();
        let mut hdr = header::Packet::new_unchecked(&mut *buf);
        hdr.set_pdu_type(pdu_type);
        hdr.set_pdu_length(BODY_LEN);
        header::write_bytes(buf, HEADER_LEN, &body);
    }
}

/// Checks a whole fixed-size PDU of type `pdu_type` (exactly 10 bytes, length field 4) and
/// returns its view.
pub(super) fn parse<K>(pdu: &[u8], pdu_type: PduType) -> Result<Packet<&[u8], K>> {
    check(pdu, pdu_type)?;
    Ok(Packet::new_unchecked(pdu))
}

/// The checks of [`parse`], once for every kind.
fn check(pdu: &[u8], pdu_type: PduType) -> Result<()> {
    check_pdu(pdu, pdu_type)?;
    check_len(pdu)
}

/// Writes a fixed-size PDU; [`Error::BufferTooSmall`] (buffer untouched) if `buf` is shorter
/// than 10 bytes.
pub(super) fn emit(buf: &mut [u8], pdu_type: PduType, body: [u8; 4]) -> Result<usize> {
    check_out(buf, PDU_LEN)?;
    Packet::<_, ()>::new_unchecked(&mut *buf).set_body(pdu_type, body);
    Ok(PDU_LEN)
}

/// `emit` into `N` (< 10) bytes of `fill` is [`Error::BufferTooSmall`] (10 required) and leaves them as they were.
#[cfg(test)]
pub(super) fn assert_too_small_untouched<const N: usize>(
    fill: u8,
    emit: impl FnOnce(&mut [u8]) -> Result<usize>,
) {
    let mut small = [fill; N];
    assert_eq!(
        emit(&mut small),
        Err(Error::BufferTooSmall { required: PDU_LEN })
    );
    assert_eq!(small, [fill; N]);
}
