//! Variable items and sub-items (PS3.8 9.3.2 - 9.3.3, PS3.7 Annex D): the common 4-byte item
//! header, item walking, and [`List`], the borrowed list type used by the PDU representations.
//!
//! Every item and sub-item starts with `type (1) | reserved (1) | length (2, BE)`; the length
//! counts the bytes after the header. (PDV items of P-DATA-TF differ: see [`super::pdata`].)

use core::fmt;
use core::slice;

use super::{Error, Result};

/// Length of an item / sub-item header.
pub const ITEM_HEADER_LEN: usize = 4;

/// Largest item body an item header can describe.
pub const MAX_ITEM_BODY: usize = u16::MAX as usize;

/// Item and sub-item type codes (PS3.8 9.3.2, 9.3.3; PS3.7 D.3.3).
pub mod item_type {
    /// 0x10 Application context (RQ, AC).
    pub const APPLICATION_CONTEXT: u8 = 0x10;
    /// 0x20 Presentation context, RQ form.
    pub const PRESENTATION_CONTEXT_RQ: u8 = 0x20;
    /// 0x21 Presentation context, AC form.
    pub const PRESENTATION_CONTEXT_AC: u8 = 0x21;
    /// 0x30 Abstract syntax (in 0x20).
    pub const ABSTRACT_SYNTAX: u8 = 0x30;
    /// 0x40 Transfer syntax (in 0x20 / 0x21).
    pub const TRANSFER_SYNTAX: u8 = 0x40;
    /// 0x50 User information (RQ, AC).
    pub const USER_INFORMATION: u8 = 0x50;
    /// 0x51 Maximum length (in 0x50).
    pub const MAXIMUM_LENGTH: u8 = 0x51;
    /// 0x52 Implementation class UID (in 0x50).
    pub const IMPLEMENTATION_CLASS_UID: u8 = 0x52;
    /// 0x53 Asynchronous operations window (in 0x50).
    pub const ASYNC_OPERATIONS_WINDOW: u8 = 0x53;
    /// 0x54 SCP/SCU role selection (in 0x50).
    pub const ROLE_SELECTION: u8 = 0x54;
    /// 0x55 Implementation version name (in 0x50).
    pub const IMPLEMENTATION_VERSION_NAME: u8 = 0x55;
    /// 0x56 SOP class extended negotiation (in 0x50; skipped by this crate).
    pub const SOP_CLASS_EXTENDED_NEGOTIATION: u8 = 0x56;
    /// 0x57 SOP class common extended negotiation (in 0x50; skipped).
    pub const SOP_CLASS_COMMON_EXTENDED_NEGOTIATION: u8 = 0x57;
    /// 0x58 User identity, RQ form (in 0x50; skipped).
    pub const USER_IDENTITY_RQ: u8 = 0x58;
    /// 0x59 User identity, AC form (in 0x50; skipped).
    pub const USER_IDENTITY_AC: u8 = 0x59;
}

/// Item header field offsets, relative to the item start.
mod field {
    /// PS3.8 item byte 1: item type.
    pub(crate) const ITEM_TYPE: usize = 0;
    /// PS3.8 item byte 2: reserved (the version of a 0x57 sub-item); never checked.
    #[allow(dead_code)]
    pub(crate) const RESERVED: usize = 1;
    /// PS3.8 item bytes 3-4: item length, u16 big endian, bytes after this field.
    pub(crate) const LENGTH: usize = 2;
}

/// One item or sub-item: its type and body (the bytes after the 4-byte header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Item<'a> {
    /// Item type byte.
    pub item_type: u8,
    /// Item body, `length` bytes.
    pub body: &'a [u8],
}

/// Iterator over the items of a region laid out back to back.
///
/// Yields `Err(BadLength)` once (then stops) if an item header or body overruns the region.
#[derive(Debug, Clone)]
pub struct Items<'a> {
    rest: &'a [u8],
}

impl<'a> Items<'a> {
    /// Walks `region` from its start.
    pub fn new(region: &'a [u8]) -> Items<'a> {
        Items { rest: region }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<Item<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        self.rest = &[];
        let (Some(&item_type), Some(len)) = (
            rest.get(field::ITEM_TYPE),
            rest.get(field::LENGTH..)
                .and_then(<[u8]>::first_chunk::<2>)
                .map(|b| usize::from(u16::from_be_bytes(*b))),
        ) else {
            return Some(Err(Error::BadLength));
        };
        let Some((body, tail)) = rest
            .get(ITEM_HEADER_LEN..)
            .and_then(|r| r.split_at_checked(len))
        else {
            return Some(Err(Error::BadLength));
        };
        self.rest = tail;
        Some(Ok(Item { item_type, body }))
    }
}

/// Checks that the items of `region` exactly fill it.
pub fn validate(region: &[u8]) -> Result<()> {
    Items::new(region).try_for_each(|i| i.map(|_| ()))
}

/// Takes the body of the next item of type `ty` from `region`, skipping other items.
/// Malformed bytes end the walk (`region` becomes empty).
pub(crate) fn next_of_type<'a>(region: &mut &'a [u8], ty: u8) -> Option<&'a [u8]> {
    let mut items = Items::new(region);
    let found = loop {
        match items.next() {
            Some(Ok(item)) if item.item_type == ty => break Some(item.body),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break None,
        }
    };
    *region = items.rest;
    found
}

/// The body of the first item of type `ty` in a region.
pub(crate) fn first_of_type(region: &[u8], ty: u8) -> Option<&[u8]> {
    let mut r = region;
    next_of_type(&mut r, ty)
}

/// An element type that can be read from a received region of a [`List`].
///
/// Implemented by the list element types of this module tree ([`super::PcRq`],
/// [`super::PcAc`], [`super::Uid`] as 0x40 transfer syntax sub-items,
/// [`super::RoleSelection`], [`super::Pdv`]).
pub trait ListItem<'a>: Copy + 'a {
    /// Takes the next element from `region`, skipping unrelated items, and advances `region`
    /// past it. `None` at the end of the region, or at malformed bytes (which a validated
    /// region never has).
    fn next_from(region: &mut &'a [u8]) -> Option<Self>;
}

/// A list of items: either received bytes (parse) or a caller slice (emit).
///
/// Equality compares the elements, whichever form each side has.
pub enum List<'a, T> {
    /// A region of received bytes, validated by the PDU parser that made it. Other bytes are
    /// safe too: iteration just stops at the first malformed item.
    Wire(&'a [u8]),
    /// Elements given by the caller.
    Slice(&'a [T]),
}

impl<'a, T: ListItem<'a>> List<'a, T> {
    /// The elements, in wire / slice order. Never fails.
    pub fn iter(&self) -> ListIter<'a, T> {
        match *self {
            List::Wire(region) => ListIter {
                inner: IterInner::Wire(region),
            },
            List::Slice(s) => ListIter {
                inner: IterInner::Slice(s.iter()),
            },
        }
    }

    /// Number of elements (walks the region for the wire form).
    pub fn len(&self) -> usize {
        match *self {
            List::Wire(_) => self.iter().count(),
            List::Slice(s) => s.len(),
        }
    }

    /// True if there is no element.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The first element.
    pub fn first(&self) -> Option<T> {
        self.iter().next()
    }
}

impl<T> List<'_, T> {
    /// An empty list.
    pub const fn empty() -> Self {
        List::Slice(&[])
    }
}

impl<T> Clone for List<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for List<'_, T> {}

impl<T> Default for List<'_, T> {
    fn default() -> Self {
        List::empty()
    }
}

impl<'a, T> From<&'a [T]> for List<'a, T> {
    fn from(slice: &'a [T]) -> Self {
        List::Slice(slice)
    }
}

impl<'a, T: ListItem<'a> + PartialEq> PartialEq for List<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a, T: ListItem<'a> + Eq> Eq for List<'a, T> {}

impl<'a, T: ListItem<'a> + fmt::Debug> fmt::Debug for List<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "defmt")]
impl<'a, T: ListItem<'a> + defmt::Format> defmt::Format for List<'a, T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "[");
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                defmt::write!(f, ", ");
            }
            defmt::write!(f, "{}", item);
        }
        defmt::write!(f, "]");
    }
}

impl<'a, T: ListItem<'a>> IntoIterator for List<'a, T> {
    type Item = T;
    type IntoIter = ListIter<'a, T>;
    fn into_iter(self) -> ListIter<'a, T> {
        self.iter()
    }
}

impl<'a, T: ListItem<'a>> IntoIterator for &List<'a, T> {
    type Item = T;
    type IntoIter = ListIter<'a, T>;
    fn into_iter(self) -> ListIter<'a, T> {
        self.iter()
    }
}

/// Iterator over a [`List`].
#[derive(Debug, Clone)]
pub struct ListIter<'a, T> {
    inner: IterInner<'a, T>,
}

#[derive(Debug, Clone)]
enum IterInner<'a, T> {
    Wire(&'a [u8]),
    Slice(slice::Iter<'a, T>),
}

impl<'a, T: ListItem<'a>> Iterator for ListIter<'a, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.inner {
            IterInner::Wire(region) => T::next_from(region),
            IterInner::Slice(it) => it.next().copied(),
        }
    }
}

/// A cursor that writes into a buffer already checked to be large enough. Writes past the end
/// are dropped (and flagged) rather than panicking. Nameable (the sealed [`PcItem`](super::PcItem) writes with it)
/// but of no use outside the crate: only the crate makes and uses one.
#[doc(hidden)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
    overflow: bool,
}

impl<'b> Writer<'b> {
    pub(crate) fn new(buf: &'b mut [u8], pos: usize) -> Writer<'b> {
        Writer {
            buf,
            pos,
            overflow: false,
        }
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        match self
            .buf
            .get_mut(self.pos..)
            .and_then(|r| r.get_mut(..bytes.len()))
        {
            Some(dst) => dst.copy_from_slice(bytes),
            None => self.overflow = true,
        }
        self.pos = self.pos.saturating_add(bytes.len());
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.bytes(&[value]);
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.bytes(&value.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.bytes(&value.to_be_bytes());
    }

    pub(crate) fn zeros(&mut self, count: usize) {
        for _ in 0..count {
            self.u8(0);
        }
    }

    /// An item header; `body_len` must have been checked against [`MAX_ITEM_BODY`].
    pub(crate) fn item_header(&mut self, ty: u8, body_len: usize) {
        self.u8(ty);
        self.u8(0);
        self.u16(u16::try_from(body_len).unwrap_or(u16::MAX));
    }

    /// A whole item whose body is `body`.
    pub(crate) fn item(&mut self, ty: u8, body: &[u8]) {
        self.item_header(ty, body.len());
        self.bytes(body);
    }

    /// Final position; `debug_assert`s that nothing was dropped.
    pub(crate) fn finish(self) -> usize {
        debug_assert!(
            !self.overflow,
            "wire emit: buffer_len() and emit() disagree"
        );
        self.pos
    }
}

/// `ITEM_HEADER_LEN + body`, or `BadValue` if the body does not fit a u16 length.
pub(crate) fn item_len(body: usize) -> Result<usize> {
    if body > MAX_ITEM_BODY {
        Err(Error::BadValue)
    } else {
        Ok(ITEM_HEADER_LEN + body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_items_walk_and_skip() {
        let region = [0x99, 0, 0, 2, 1, 2, 0x40, 0xff, 0, 1, 7, 0x41, 0, 0, 0];
        let items: std::vec::Vec<_> = Items::new(&region).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[1],
            Ok(Item {
                item_type: 0x40,
                body: &[7]
            })
        );
        assert_eq!(validate(&region), Ok(()));
        assert_eq!(first_of_type(&region, 0x40), Some(&[7u8][..]));
        assert_eq!(first_of_type(&region, 0x41), Some(&[][..]));
        assert_eq!(first_of_type(&region, 0x42), None);
    }

    #[test]
    fn test_items_overrun() {
        assert_eq!(validate(&[0x40, 0, 0, 2, 1]), Err(Error::BadLength));
        assert_eq!(validate(&[0x40, 0, 0]), Err(Error::BadLength));
        assert_eq!(validate(&[0x40]), Err(Error::BadLength));
        assert_eq!(validate(&[]), Ok(()));
        let mut it = Items::new(&[0x40, 0, 0, 0, 0x41]);
        assert!(matches!(it.next(), Some(Ok(_))));
        assert_eq!(it.next(), Some(Err(Error::BadLength)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn test_writer_never_panics() {
        let mut buf = [0u8; 3];
        let mut w = Writer::new(&mut buf, 0);
        w.u16(0x0102);
        w.u16(0x0304);
        assert!(w.overflow);
        assert_eq!(buf, [1, 2, 0]);
    }
}
