//! P-DATA-TF (PS3.8 9.3.5, Tables 9-22/9-23; message control header: Annex E.2).

use super::header::{self, check_out, check_pdu, PduType, HEADER_LEN};
use super::items::{List, ListItem, Writer};
use super::view::{Kind, View};
use super::{Error, Result};

/// Field offsets inside one PDV item, relative to the item start (PS3.8 Table 9-23 counts
/// from 1). PDV items start at PDU offset 6 and follow each other back to back.
mod field {
    use core::ops::Range;
    /// PS3.8 PDV item bytes 1-4: item length, u32 big endian (2 + fragment length).
    pub(crate) const LENGTH: Range<usize> = 0..4;
    /// PS3.8 PDV item byte 5: presentation context ID.
    pub(crate) const PC_ID: usize = 4;
    /// PS3.8 PDV item byte 6: message control header (Annex E.2).
    pub(crate) const CONTROL: usize = 5;
    /// PS3.8 PDV item bytes 7..: fragment.
    pub(crate) const FRAGMENT: usize = 6;
}

/// Bytes of a PDV item before its fragment: length (4), PC-ID, control header.
pub const PDV_HEADER_LEN: usize = field::FRAGMENT;

/// PDU header plus one PDV header: the overhead of a P-DATA-TF holding one PDV.
pub const SINGLE_PDV_OVERHEAD: usize = HEADER_LEN + PDV_HEADER_LEN;

/// Control header bit 0: the fragment is a command (else data set).
pub const CONTROL_COMMAND: u8 = 0x01;
/// Control header bit 1: last fragment of the command / data set.
pub const CONTROL_LAST: u8 = 0x02;

/// One presentation data value: a fragment of a command or data set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pdv<'a> {
    /// Presentation context ID.
    pub pc_id: u8,
    /// Control header bit 0: command (true) or data set (false).
    pub is_command: bool,
    /// Control header bit 1: last fragment.
    pub is_last: bool,
    /// The fragment bytes.
    pub fragment: &'a [u8],
}

impl<'a> Pdv<'a> {
    /// The message control header byte (bits 2-7 zero).
    pub fn control_header(&self) -> u8 {
        let mut c = 0;
        if self.is_command {
            c |= CONTROL_COMMAND;
        }
        if self.is_last {
            c |= CONTROL_LAST;
        }
        c
    }

    /// Builds a PDV from a control header byte (bits 2-7 ignored).
    pub fn from_control(pc_id: u8, control: u8, fragment: &'a [u8]) -> Pdv<'a> {
        Pdv {
            pc_id,
            is_command: control & CONTROL_COMMAND != 0,
            is_last: control & CONTROL_LAST != 0,
            fragment,
        }
    }

    /// Bytes of this PDV item on the wire (header + fragment).
    pub fn wire_len(&self) -> usize {
        PDV_HEADER_LEN.saturating_add(self.fragment.len())
    }

    /// Reads the first PDV item of `region`, returning it and the rest.
    fn split(region: &'a [u8]) -> Result<(Pdv<'a>, &'a [u8])> {
        let len = region
            .get(field::LENGTH)
            .and_then(|b| b.first_chunk::<4>())
            .map(|b| u32::from_be_bytes(*b))
            .ok_or(Error::BadLength)?;
        let len = usize::try_from(len).map_err(|_| Error::BadLength)?;
        if len < 2 {
            return Err(Error::BadLength);
        }
        let end = len.checked_add(field::LENGTH.end).ok_or(Error::BadLength)?;
        let (item, rest) = region.split_at_checked(end).ok_or(Error::BadLength)?;
        let pc_id = *item.get(field::PC_ID).ok_or(Error::BadLength)?;
        let control = *item.get(field::CONTROL).ok_or(Error::BadLength)?;
        let fragment = item.get(field::FRAGMENT..).ok_or(Error::BadLength)?;
        Ok((Pdv::from_control(pc_id, control, fragment), rest))
    }

    fn write(&self, writer: &mut Writer<'_>) {
        writer.u32(u32::try_from(self.fragment.len().saturating_add(2)).unwrap_or(u32::MAX));
        writer.u8(self.pc_id);
        writer.u8(self.control_header());
        writer.bytes(self.fragment);
    }
}

/// In a [`List`], PDV items laid back to back.
impl<'a> ListItem<'a> for Pdv<'a> {
    fn next_from(region: &mut &'a [u8]) -> Option<Self> {
        if region.is_empty() {
            return None;
        }
        match Pdv::split(region) {
            Ok((pdv, rest)) => {
                *region = rest;
                Some(pdv)
            }
            Err(_) => {
                *region = &[];
                None
            }
        }
    }
}

/// Marks a [`View`] as a P-DATA-TF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PDataTf {}

impl Kind for PDataTf {
    /// `Truncated` if shorter than the length field says; `BadLength` if a PDV item is shorter
    /// than 2 or overruns the PDU; `MissingItem` if there is no PDV.
    fn check_len(buf: &[u8]) -> Result<()> {
        header::Packet::new_checked(buf)?;
        let mut region = header::body_of(buf);
        if region.is_empty() {
            return Err(Error::MissingItem);
        }
        while !region.is_empty() {
            let (_, rest) = Pdv::split(region)?;
            region = rest;
        }
        Ok(())
    }
}

/// A read view of a P-DATA-TF.
pub type Packet<T> = View<T, PDataTf>;

impl<T: AsRef<[u8]>> Packet<T> {
    /// The PDV items, back to back (the PDU body).
    pub fn pdv_region(&self) -> &[u8] {
        header::body_of(self.buffer.as_ref())
    }
}

/// P-DATA-TF: one or more PDVs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PData<'a> {
    /// The PDVs in wire order.
    pub pdvs: List<'a, Pdv<'a>>,
}

impl<'a> PData<'a> {
    /// Total PDU size of a P-DATA-TF with one PDV of `fragment_len` bytes: 6 + 4 + 2 + n.
    pub const fn buffer_len_for(fragment_len: usize) -> usize {
        SINGLE_PDV_OVERHEAD.saturating_add(fragment_len)
    }

    /// A P-DATA-TF with the given PDVs.
    pub fn new(pdvs: &'a [Pdv<'a>]) -> PData<'a> {
        PData {
            pdvs: List::Slice(pdvs),
        }
    }

    /// Parses a whole P-DATA-TF. Each PDV item length must be at least 2 and stay within the
    /// PDU ([`Error::BadLength`]); no PDV is [`Error::MissingItem`]. Empty fragments are
    /// accepted, odd fragment lengths too; control header bits 2-7 are ignored.
    pub fn parse(pdu: &'a [u8]) -> Result<PData<'a>> {
        let body = check_pdu(pdu, PduType::PData)?;
        Packet::new_checked(pdu)?;
        Ok(PData {
            pdvs: List::Wire(body),
        })
    }

    fn body_len(&self) -> usize {
        self.pdvs
            .iter()
            .fold(0usize, |acc, p| acc.saturating_add(p.wire_len()))
    }

    /// Total bytes [`PData::emit`] writes, header included.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.body_len())
    }

    /// Writes the PDU. [`Error::MissingItem`] if there is no PDV, [`Error::BadValue`] if the
    /// PDU length does not fit 32 bits, [`Error::BufferTooSmall`] (buffer untouched) if `buf`
    /// is too small.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.pdvs.is_empty() {
            return Err(Error::MissingItem);
        }
        let body = self.body_len();
        let length = u32::try_from(body).map_err(|_| Error::BadValue)?;
        let total = HEADER_LEN.checked_add(body).ok_or(Error::BadValue)?;
        check_out(buf, total)?;
        let mut hdr = header::Packet::new_unchecked(&mut *buf);
        hdr.set_pdu_type(PduType::PData);
        hdr.set_pdu_length(length);
        let mut w = Writer::new(buf, HEADER_LEN);
        for pdv in self.pdvs.iter() {
            pdv.write(&mut w);
        }
        Ok(w.finish())
    }
}

/// Writes the 12-byte header of a P-DATA-TF holding one PDV of `fragment_len` bytes (PDU
/// header + PDV item header), so a caller can encode the fragment in place at
/// `buf[SINGLE_PDV_OVERHEAD..]` without copying. `buf` must have room for the whole PDU
/// ([`PData::buffer_len_for`]); else [`Error::BufferTooSmall`] and nothing is written.
/// Returns [`SINGLE_PDV_OVERHEAD`].
pub fn write_single_header(
    buf: &mut [u8],
    pc_id: u8,
    is_command: bool,
    is_last: bool,
    fragment_len: usize,
) -> Result<usize> {
    let item_len = fragment_len.checked_add(2).ok_or(Error::BadValue)?;
    let pdu_len = item_len.checked_add(4).ok_or(Error::BadValue)?;
    let pdu_len = u32::try_from(pdu_len).map_err(|_| Error::BadValue)?;
    let item_len = u32::try_from(item_len).map_err(|_| Error::BadValue)?;
    let total = PData::buffer_len_for(fragment_len);
    check_out(buf, total)?;
    let mut hdr = header::Packet::new_unchecked(&mut *buf);
    hdr.set_pdu_type(PduType::PData);
    hdr.set_pdu_length(pdu_len);
    let ctrl = Pdv {
        pc_id,
        is_command,
        is_last,
        fragment: &[],
    }
    .control_header();
    let mut w = Writer::new(buf, HEADER_LEN);
    w.u32(item_len);
    w.u8(pc_id);
    w.u8(ctrl);
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::golden;

    #[test]
    fn test_parse_echo_rq_golden() {
        let bytes = golden::hex(golden::ECHO_RQ);
        let p = PData::parse(&bytes).unwrap();
        assert_eq!(p.pdvs.len(), 1);
        let pdv = p.pdvs.first().unwrap();
        assert_eq!(pdv.pc_id, 1);
        assert!(pdv.is_command && pdv.is_last);
        assert_eq!(pdv.fragment.len(), 68);
        assert_eq!(pdv.fragment, &bytes[12..]);
    }

    #[test]
    fn test_emit_echo_golden() {
        for g in [golden::ECHO_RQ, golden::ECHO_RSP] {
            let bytes = golden::hex(g);
            let pdv = Pdv {
                pc_id: 1,
                is_command: true,
                is_last: true,
                fragment: &bytes[12..],
            };
            let pd = PData::new(core::slice::from_ref(&pdv));
            assert_eq!(pd.buffer_len(), bytes.len());
            assert_eq!(PData::buffer_len_for(pdv.fragment.len()), bytes.len());
            let mut out = std::vec![0u8; bytes.len()];
            assert_eq!(pd.emit(&mut out), Ok(bytes.len()));
            assert_eq!(out, bytes);
            assert_eq!(PData::parse(&out).unwrap(), pd);
            // in-place header
            let mut out2 = std::vec![0u8; bytes.len()];
            out2[12..].copy_from_slice(pdv.fragment);
            assert_eq!(
                write_single_header(&mut out2, 1, true, true, pdv.fragment.len()),
                Ok(12)
            );
            assert_eq!(out2, bytes);
            let mut small = std::vec![0xeeu8; bytes.len() - 1];
            assert_eq!(
                pd.emit(&mut small),
                Err(Error::BufferTooSmall {
                    required: bytes.len()
                })
            );
            assert!(small.iter().all(|&b| b == 0xee));
            assert_eq!(
                write_single_header(&mut small, 1, true, true, pdv.fragment.len()),
                Err(Error::BufferTooSmall {
                    required: bytes.len()
                })
            );
            assert!(small.iter().all(|&b| b == 0xee));
        }
    }

    #[test]
    fn test_parse_pdata_rules() {
        // two PDVs, an empty fragment, control bits 2-7 set
        let pdu = [
            4, 0, 0, 0, 0, 14, 0, 0, 0, 2, 1, 0xfd, 0, 0, 0, 4, 3, 0x00, 0xaa, 0xbb,
        ];
        let p = PData::parse(&pdu).unwrap();
        let v: std::vec::Vec<_> = p.pdvs.iter().collect();
        assert_eq!(
            v,
            [
                Pdv {
                    pc_id: 1,
                    is_command: true,
                    is_last: false,
                    fragment: &[]
                },
                Pdv {
                    pc_id: 3,
                    is_command: false,
                    is_last: false,
                    fragment: &[0xaa, 0xbb]
                }
            ]
        );
        // empty P-DATA
        assert_eq!(PData::parse(&[4, 0, 0, 0, 0, 0]), Err(Error::MissingItem));
        // PDV item length 1
        assert_eq!(
            PData::parse(&[4, 0, 0, 0, 0, 5, 0, 0, 0, 1, 1]),
            Err(Error::BadLength)
        );
        // PDV longer than its PDU
        assert_eq!(
            PData::parse(&[4, 0, 0, 0, 0, 7, 0, 0, 0, 4, 1, 3, 0]),
            Err(Error::BadLength)
        );
        // trailing bytes that are not a whole PDV header
        assert_eq!(
            PData::parse(&[4, 0, 0, 0, 0, 8, 0, 0, 0, 2, 1, 3, 0, 0]),
            Err(Error::BadLength)
        );
        // PDV length 0xffffffff
        assert_eq!(
            PData::parse(&[4, 0, 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 1, 3]),
            Err(Error::BadLength)
        );
        assert_eq!(
            PData::new(&[]).emit(&mut [0u8; 64]),
            Err(Error::MissingItem)
        );
    }
}
