//! A-ASSOCIATE-RQ (PS3.8 9.3.2, Table 9-11) and A-ASSOCIATE-AC (9.3.3, Table 9-17), with their
//! variable items (PS3.8 9.3.2.x / 9.3.3.x) and user information sub-items (PS3.7 Annex D.3.3,
//! PS3.8 Annex D.1).
//!
//! Receive rules: items in any order; unknown items and sub-items skipped by their length;
//! reserved bytes never checked (DCMTK writes 0xff at PC item offset 6 in the RQ); the first
//! application context, user information, and sub-item of each kind wins (later duplicates
//! are ignored); PC-ID parity, UID syntax and AE title content are left to the caller.

use core::fmt;

use super::ae_title::{AeTitle, AE_TITLE_LEN};
use super::header::{self, check_out, check_pdu, read_u16, PduType, HEADER_LEN};
use super::items::{self, item_len, item_type, Items, List, ListItem, Writer};
use super::uid::{self, Uid};
pub use super::user_info::{RoleSelection, UserInfo};
use super::view::{Kind, View};
use super::{Error, Result};

/// Field offsets of A-ASSOCIATE-RQ / AC (PS3.8 Tables 9-11 and 9-17 count from 1).
mod field {
    use core::ops::Range;
    /// PS3.8 bytes 7-8: protocol version, u16 BE (bit 0 = version 1).
    pub(crate) const PROTOCOL_VERSION: Range<usize> = 6..8;
    /// PS3.8 bytes 9-10: reserved (sent 0, never checked).
    pub(crate) const RESERVED_1: Range<usize> = 8..10;
    /// PS3.8 bytes 11-26: called AE title (AC: reserved copy of the RQ value).
    pub(crate) const CALLED_AE: Range<usize> = 10..26;
    /// PS3.8 bytes 27-42: calling AE title (AC: reserved copy of the RQ value).
    pub(crate) const CALLING_AE: Range<usize> = 26..42;
    /// PS3.8 bytes 43-74: reserved (sent 0, never checked).
    pub(crate) const RESERVED_2: Range<usize> = 42..74;
    /// PS3.8 bytes 75-xxx: variable items.
    pub(crate) const ITEMS: usize = 74;
}

/// Bytes of the body (after the 6-byte header) before the variable items.
pub const FIXED_LEN: usize = field::ITEMS - HEADER_LEN;

/// Protocol version we send (bit 0 = version 1).
pub const PROTOCOL_VERSION_1: u16 = 0x0001;

/// Offsets inside a presentation context item, relative to the item start (PS3.8 Tables 9-13
/// and 9-18): 4 = PC-ID, 5 = reserved, 6 = reserved (RQ) / result (AC), 7 = reserved,
/// 8.. = sub-items. These are offsets into the item *body* (after the 4-byte header).
mod pc_field {
    /// PS3.8 item byte 5: presentation context ID.
    pub(crate) const ID: usize = 0;
    /// PS3.8 item byte 7: RQ reserved (DCMTK sends 0xff); AC result/reason.
    pub(crate) const RESULT: usize = 2;
    /// PS3.8 item bytes 9-xxx: sub-items.
    pub(crate) const SUB_ITEMS: usize = 4;
}

/// Marks a [`View`] as an A-ASSOCIATE-RQ or -AC (same fixed layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Associate {}

impl Kind for Associate {
    /// `Truncated` if shorter than the length field says; `BadLength` if the length field
    /// leaves no room for the 68-byte fixed part.
    fn check_len(buf: &[u8]) -> Result<()> {
        let hdr = header::Packet::new_checked(buf)?;
        if usize::try_from(hdr.pdu_length()).is_ok_and(|l| l < FIXED_LEN) {
            return Err(Error::BadLength);
        }
        Ok(())
    }
}

/// A read/write view of an A-ASSOCIATE-RQ or -AC (same fixed layout).
pub type Packet<T> = View<T, Associate>;

impl<T: AsRef<[u8]>> Packet<T> {
    /// PDU type (offset 0).
    pub fn pdu_type(&self) -> PduType {
        header::Packet::new_unchecked(self.buffer.as_ref()).pdu_type()
    }

    /// Protocol version (offsets 6-7).
    pub fn protocol_version(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::PROTOCOL_VERSION.start)
    }

    fn ae_field(&self, at: usize) -> [u8; AE_TITLE_LEN] {
        self.buffer
            .as_ref()
            .get(at..)
            .and_then(<[u8]>::first_chunk::<AE_TITLE_LEN>)
            .copied()
            .unwrap_or([b' '; AE_TITLE_LEN])
    }

    /// Called AE title field (offsets 10-25), raw.
    pub fn called_ae(&self) -> [u8; AE_TITLE_LEN] {
        self.ae_field(field::CALLED_AE.start)
    }

    /// Calling AE title field (offsets 26-41), raw.
    pub fn calling_ae(&self) -> [u8; AE_TITLE_LEN] {
        self.ae_field(field::CALLING_AE.start)
    }

    /// The variable items region (offset 74 up to the end of the PDU).
    pub fn items(&self) -> &[u8] {
        header::body_of(self.buffer.as_ref())
            .get(FIXED_LEN..)
            .unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the header and the fixed part; all reserved bytes zero.
    pub fn set_fixed(
        &mut self,
        t: PduType,
        pdu_length: u32,
        protocol_version: u16,
        called: &AeTitle,
        calling: &AeTitle,
    ) {
        let buf = self.buffer.as_mut();
        let mut hdr = header::Packet::new_unchecked(&mut *buf);
        hdr.set_pdu_type(t);
        hdr.set_pdu_length(pdu_length);
        let mut w = Writer::new(buf, field::PROTOCOL_VERSION.start);
        w.u16(protocol_version);
        w.zeros(field::RESERVED_1.len());
        w.bytes(&called.to_wire());
        w.bytes(&calling.to_wire());
        w.zeros(field::RESERVED_2.len());
        w.finish();
    }
}

/// Result/reason of a presentation context in the AC (PS3.8 9.3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PcResult {
    /// 0: acceptance.
    Acceptance,
    /// 1: user-rejection.
    UserRejection,
    /// 2: no-reason (provider rejection).
    NoReason,
    /// 3: abstract-syntax-not-supported (provider rejection).
    AbstractSyntaxNotSupported,
    /// 4: transfer-syntaxes-not-supported (provider rejection).
    TransferSyntaxesNotSupported,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for PcResult {
    fn from(value: u8) -> Self {
        match value {
            0 => PcResult::Acceptance,
            1 => PcResult::UserRejection,
            2 => PcResult::NoReason,
            3 => PcResult::AbstractSyntaxNotSupported,
            4 => PcResult::TransferSyntaxesNotSupported,
            o => PcResult::Unknown(o),
        }
    }
}

impl From<PcResult> for u8 {
    fn from(value: PcResult) -> u8 {
        match value {
            PcResult::Acceptance => 0,
            PcResult::UserRejection => 1,
            PcResult::NoReason => 2,
            PcResult::AbstractSyntaxNotSupported => 3,
            PcResult::TransferSyntaxesNotSupported => 4,
            PcResult::Unknown(o) => o,
        }
    }
}

impl fmt::Display for PcResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcResult::Acceptance => f.write_str("acceptance"),
            PcResult::UserRejection => f.write_str("user-rejection"),
            PcResult::NoReason => f.write_str("no-reason"),
            PcResult::AbstractSyntaxNotSupported => f.write_str("abstract-syntax-not-supported"),
            PcResult::TransferSyntaxesNotSupported => {
                f.write_str("transfer-syntaxes-not-supported")
            }
            PcResult::Unknown(v) => write!(f, "unknown-result ({v})"),
        }
    }
}

/// A proposed presentation context (item 0x20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PcRq<'a> {
    /// Presentation context ID (odd 1..=255; not checked by parse).
    pub id: u8,
    /// Abstract syntax (first 0x30 sub-item; empty if none).
    pub abstract_syntax: Uid<'a>,
    /// Proposed transfer syntaxes (0x40 sub-items, in order).
    pub transfer_syntaxes: List<'a, Uid<'a>>,
}

impl<'a> ListItem<'a> for PcRq<'a> {
    fn next_from(region: &mut &'a [u8]) -> Option<Self> {
        let body = items::next_of_type(region, item_type::PRESENTATION_CONTEXT_RQ)?;
        let id = *body.get(pc_field::ID)?;
        let subs = body.get(pc_field::SUB_ITEMS..)?;
        Some(PcRq {
            id,
            abstract_syntax: items::first_of_type(subs, item_type::ABSTRACT_SYNTAX)
                .map_or(Uid::empty(), Uid::from_item),
            transfer_syntaxes: List::Wire(subs),
        })
    }
}

impl<'a> PcItem<'a> for PcRq<'a> {
    const PDU_TYPE: PduType = PduType::AssociateRq;
    const ITEM_TYPE: u8 = item_type::PRESENTATION_CONTEXT_RQ;

    fn wire_len(&self) -> Result<usize> {
        let mut body = pc_field::SUB_ITEMS
            .checked_add(item_len(self.abstract_syntax.len())?)
            .ok_or(Error::BadValue)?;
        for ts in self.transfer_syntaxes.iter() {
            body = body
                .checked_add(item_len(ts.len())?)
                .ok_or(Error::BadValue)?;
        }
        item_len(body)
    }

    fn write(&self, writer: &mut Writer<'_>) {
        let len = self.wire_len().unwrap_or(0);
        writer.item_header(Self::ITEM_TYPE, len.saturating_sub(items::ITEM_HEADER_LEN));
        writer.u8(self.id);
        writer.zeros(3);
        writer.item(item_type::ABSTRACT_SYNTAX, self.abstract_syntax.as_bytes());
        for ts in self.transfer_syntaxes.iter() {
            writer.item(item_type::TRANSFER_SYNTAX, ts.as_bytes());
        }
    }
}

/// The answer to one presentation context (item 0x21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PcAc<'a> {
    /// Presentation context ID (as proposed).
    pub id: u8,
    /// Result/reason.
    pub result: PcResult,
    /// Accepted transfer syntax (first 0x40 sub-item; empty if none; not significant unless
    /// accepted). Emit always writes one 0x40 sub-item, possibly empty.
    pub transfer_syntax: Uid<'a>,
}

impl<'a> ListItem<'a> for PcAc<'a> {
    fn next_from(region: &mut &'a [u8]) -> Option<Self> {
        let body = items::next_of_type(region, item_type::PRESENTATION_CONTEXT_AC)?;
        let id = *body.get(pc_field::ID)?;
        let result = PcResult::from(*body.get(pc_field::RESULT)?);
        let subs = body.get(pc_field::SUB_ITEMS..)?;
        Some(PcAc {
            id,
            result,
            transfer_syntax: items::first_of_type(subs, item_type::TRANSFER_SYNTAX)
                .map_or(Uid::empty(), Uid::from_item),
        })
    }
}

impl<'a> PcItem<'a> for PcAc<'a> {
    const PDU_TYPE: PduType = PduType::AssociateAc;
    const ITEM_TYPE: u8 = item_type::PRESENTATION_CONTEXT_AC;

    fn wire_len(&self) -> Result<usize> {
        item_len(
            pc_field::SUB_ITEMS
                .checked_add(item_len(self.transfer_syntax.len())?)
                .ok_or(Error::BadValue)?,
        )
    }

    fn write(&self, writer: &mut Writer<'_>) {
        let len = self.wire_len().unwrap_or(0);
        writer.item_header(Self::ITEM_TYPE, len.saturating_sub(items::ITEM_HEADER_LEN));
        writer.u8(self.id);
        writer.u8(0);
        writer.u8(self.result.into());
        writer.u8(0);
        writer.item(item_type::TRANSFER_SYNTAX, self.transfer_syntax.as_bytes());
    }
}

/// What a scan of the variable items found.
struct Scan<'a> {
    application_context: Option<Uid<'a>>,
    user_info: Option<UserInfo<'a>>,
}

/// Validates the variable items of an RQ (`pc_type` 0x20) or AC (0x21).
fn scan(region: &[u8], pc_type: u8) -> Result<Scan<'_>> {
    let mut s = Scan {
        application_context: None,
        user_info: None,
    };
    let mut contexts = 0usize;
    for item in Items::new(region) {
        let item = item?;
        match item.item_type {
            // A second application context item is ignored.
            item_type::APPLICATION_CONTEXT if s.application_context.is_none() => {
                s.application_context = Some(Uid::from_item(item.body));
            }
            t if t == pc_type => {
                let subs = item
                    .body
                    .get(pc_field::SUB_ITEMS..)
                    .ok_or(Error::BadLength)?;
                items::validate(subs)?;
                contexts = contexts.saturating_add(1);
            }
            // A second user information item is ignored (not even validated).
            item_type::USER_INFORMATION if s.user_info.is_none() => {
                UserInfo::validate(item.body)?;
                s.user_info = Some(UserInfo::from_body(item.body));
            }
            _ => {}
        }
    }
    if s.application_context.is_none() || contexts == 0 {
        return Err(Error::MissingItem);
    }
    Ok(s)
}

/// The parts of an RQ or AC.
struct Common<'a> {
    protocol_version: u16,
    called: AeTitle,
    calling: AeTitle,
    application_context: Uid<'a>,
    items: &'a [u8],
    user_info: UserInfo<'a>,
}

/// Parses the fixed part and scans the items of an RQ or AC: one body for both (not generic: one copy in a
/// firmware's flash).
fn parse_common(pdu: &[u8], pdu_type: PduType, pc_type: u8) -> Result<Common<'_>> {
    check_pdu(pdu, pdu_type)?;
    let p = Packet::new_checked(pdu)?;
    let items = pdu.get(field::ITEMS..).ok_or(Error::BadLength)?;
    let s = scan(items, pc_type)?;
    Ok(Common {
        protocol_version: p.protocol_version(),
        called: AeTitle::from_wire(&p.called_ae()),
        calling: AeTitle::from_wire(&p.calling_ae()),
        application_context: s.application_context.unwrap_or_default(),
        items,
        user_info: s.user_info.unwrap_or_default(),
    })
}

/// A presentation context item: [`PcRq`] (0x20, in an A-ASSOCIATE-RQ) or [`PcAc`] (0x21, in an A-ASSOCIATE-AC), the one
/// part in which the two PDUs differ.
pub trait PcItem<'a>: ListItem<'a> + sealed::Sealed {
    /// The PDU that carries this item.
    const PDU_TYPE: PduType;
    /// Its item type.
    const ITEM_TYPE: u8;
    /// The whole item's length, header included (`BadValue` if a length field would overflow).
    fn wire_len(&self) -> Result<usize>;
    /// Writes the whole item; `wire_len()` must have succeeded.
    fn write(&self, writer: &mut Writer<'_>);
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::PcRq<'_> {}
    impl Sealed for super::PcAc<'_> {}
}

/// A-ASSOCIATE-RQ ([`AssociateRq`]) or A-ASSOCIATE-AC ([`AssociateAc`]): one body over their presentation context
/// items `P`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AssociatePdu<'a, P: PcItem<'a>> {
    /// Protocol version: send 1; a receiver checks only bit 0 (the machine's job).
    pub protocol_version: u16,
    /// Called AE title (in an AC: echoed back from the RQ; receivers must not check it).
    pub called: AeTitle,
    /// Calling AE title (in an AC: echoed back from the RQ; receivers must not check it).
    pub calling: AeTitle,
    /// Application context name (item 0x10).
    pub application_context: Uid<'a>,
    /// RQ: the proposed presentation contexts (items 0x20); AC: one result per proposed context (items 0x21).
    pub presentation_contexts: List<'a, P>,
    /// User information (item 0x50; defaults if absent).
    pub user_info: UserInfo<'a>,
}

/// A-ASSOCIATE-RQ.
pub type AssociateRq<'a> = AssociatePdu<'a, PcRq<'a>>;

/// A-ASSOCIATE-AC.
pub type AssociateAc<'a> = AssociatePdu<'a, PcAc<'a>>;

impl<'a, P: PcItem<'a>> AssociatePdu<'a, P> {
    /// Parses a whole A-ASSOCIATE-RQ or -AC (exactly 6 + length bytes).
    ///
    /// Errors: `Truncated` (fewer bytes than the length field), `BadLength` (length below 68,
    /// an item or sub-item overrunning its container, malformed 0x51/0x53/0x54), `MissingItem`
    /// (no application context or no presentation context), `BadValue` (not type 0x01 for an RQ, 0x02 for an AC).
    pub fn parse(pdu: &'a [u8]) -> Result<Self> {
        let c = parse_common(pdu, P::PDU_TYPE, P::ITEM_TYPE)?;
        Ok(AssociatePdu {
            protocol_version: c.protocol_version,
            called: c.called,
            calling: c.calling,
            application_context: c.application_context,
            presentation_contexts: List::Wire(c.items),
            user_info: c.user_info,
        })
    }

    /// Layout to emit: the body length (the PDU length field), checked against every length field it must fit.
    fn body_len(&self) -> Result<usize> {
        let mut n = FIXED_LEN
            .checked_add(item_len(self.application_context.len())?)
            .ok_or(Error::BadValue)?;
        let mut count = 0usize;
        for pc in self.presentation_contexts.iter() {
            n = n.checked_add(pc.wire_len()?).ok_or(Error::BadValue)?;
            count = count.saturating_add(1);
        }
        if count == 0 {
            return Err(Error::MissingItem);
        }
        n = n
            .checked_add(self.user_info.wire_len()?)
            .ok_or(Error::BadValue)?;
        if u32::try_from(n).is_err() || n > usize::MAX - HEADER_LEN {
            return Err(Error::BadValue);
        }
        Ok(n)
    }

    /// Total bytes [`AssociatePdu::emit`] writes, header included (`usize::MAX` if the PDU
    /// cannot be encoded: see `emit`).
    pub fn buffer_len(&self) -> usize {
        self.body_len()
            .map_or(usize::MAX, |b| b.saturating_add(HEADER_LEN))
    }

    /// Writes the PDU: items in ascending type order, reserved bytes zero, called/calling as given (an AC: one
    /// 0x40 sub-item per context).
    ///
    /// Errors (nothing written): `MissingItem` without presentation contexts, `BadValue` if a
    /// value does not fit its length field, `BufferTooSmall`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let body = self.body_len()?;
        let total = HEADER_LEN.saturating_add(body);
        check_out(buf, total)?;
        Packet::new_unchecked(&mut *buf).set_fixed(
            P::PDU_TYPE,
            u32::try_from(body).unwrap_or(u32::MAX),
            self.protocol_version,
            &self.called,
            &self.calling,
        );
        let mut w = Writer::new(buf, field::ITEMS);
        w.item(
            item_type::APPLICATION_CONTEXT,
            self.application_context.as_bytes(),
        );
        for pc in self.presentation_contexts.iter() {
            pc.write(&mut w);
        }
        self.user_info.write(&mut w);
        Ok(w.finish())
    }
}

impl<'a> AssociateRq<'a> {
    /// An RQ with protocol version 1 and the DICOM application context.
    pub fn new(
        called: AeTitle,
        calling: AeTitle,
        presentation_contexts: &'a [PcRq<'a>],
        user_info: UserInfo<'a>,
    ) -> Self {
        AssociatePdu {
            protocol_version: PROTOCOL_VERSION_1,
            called,
            calling,
            application_context: uid::APPLICATION_CONTEXT,
            presentation_contexts: List::Slice(presentation_contexts),
            user_info,
        }
    }
}

impl<'a> AssociateAc<'a> {
    /// The result for presentation context `id`, if the AC has one.
    pub fn context(&self, id: u8) -> Option<PcAc<'a>> {
        self.presentation_contexts.iter().find(|pc| pc.id == id)
    }
}
