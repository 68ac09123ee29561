//! UIDs as carried in items (PS3.8 Annex F, PS3.5 9.1) and the well-known ones.

use core::fmt;

use super::ae_title::write_escaped;
use super::items::{self, item_type, ListItem};

/// A UID borrowed from the wire or from the caller. Not validated unless you ask
/// ([`Uid::is_valid`]): receivers are lenient, the association machine decides.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Uid<'a>(&'a [u8]);

/// Longest valid UID (PS3.5 9.1).
pub const MAX_UID_LEN: usize = 64;

impl<'a> Uid<'a> {
    /// Wraps bytes as they are, without validation ("unchecked" = not validated; still safe).
    pub const fn new_unchecked(bytes: &'a [u8]) -> Self {
        Uid(bytes)
    }

    /// Lenient receive: the item value with its trailing NUL padding stripped (UIDs in items
    /// carry none, but some peers pad). All of it, so `parse(emit(parse(x))) == parse(x)`.
    pub fn from_item(item: &'a [u8]) -> Self {
        let mut v = item;
        while let [rest @ .., 0] = v {
            v = rest;
        }
        Uid(v)
    }

    /// An empty UID (what a receiver gets for an absent item).
    pub const fn empty() -> Self {
        Uid(&[])
    }

    /// The UID bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The UID as text, if it is UTF-8.
    pub fn to_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.0).ok()
    }

    /// True for an empty UID.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// 1..=64 characters, only digits and '.', no empty component, no leading zero in a
    /// multi-digit component.
    pub fn is_valid(&self) -> bool {
        if self.0.is_empty() || self.0.len() > MAX_UID_LEN {
            return false;
        }
        self.0.split(|&c| c == b'.').all(|comp| match comp {
            [] => false,
            [b'0', _, ..] => false,
            _ => comp.iter().all(u8::is_ascii_digit),
        })
    }

    /// The short name of a well-known UID (see [`name`]).
    pub fn name(&self) -> Option<&'static str> {
        name(*self)
    }
}

impl fmt::Display for Uid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, false)
    }
}

impl fmt::Debug for Uid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, true)
    }
}

impl Default for Uid<'_> {
    /// The empty UID.
    fn default() -> Self {
        Uid::empty()
    }
}

impl<'a> From<&'a str> for Uid<'a> {
    fn from(text: &'a str) -> Self {
        Uid(text.as_bytes())
    }
}

/// In a [`super::List`], a `Uid` is a transfer syntax sub-item (0x40) of a presentation
/// context item; other sub-items are skipped.
impl<'a> ListItem<'a> for Uid<'a> {
    fn next_from(region: &mut &'a [u8]) -> Option<Self> {
        items::next_of_type(region, item_type::TRANSFER_SYNTAX).map(Uid::from_item)
    }
}

/// DICOM application context name (PS3.7 Annex A): the only one.
pub const APPLICATION_CONTEXT: Uid<'static> = Uid(b"1.2.840.10008.3.1.1.1");
/// Verification SOP Class (C-ECHO).
pub const VERIFICATION: Uid<'static> = Uid(b"1.2.840.10008.1.1");
/// Implicit VR Little Endian transfer syntax (the default, always acceptable).
pub const IMPLICIT_VR_LE: Uid<'static> = Uid(b"1.2.840.10008.1.2");
/// Explicit VR Little Endian transfer syntax.
pub const EXPLICIT_VR_LE: Uid<'static> = Uid(b"1.2.840.10008.1.2.1");
/// Explicit VR Big Endian transfer syntax (retired).
pub const EXPLICIT_VR_BE: Uid<'static> = Uid(b"1.2.840.10008.1.2.2");
/// Deflated Explicit VR Little Endian transfer syntax.
pub const DEFLATED_EXPLICIT_VR_LE: Uid<'static> = Uid(b"1.2.840.10008.1.2.1.99");

/// Short names of the well-known UIDs, for logs.
pub fn name(uid: Uid<'_>) -> Option<&'static str> {
    const NAMES: [(Uid<'static>, &str); 6] = [
        (APPLICATION_CONTEXT, "DICOM Application Context"),
        (VERIFICATION, "Verification"),
        (IMPLICIT_VR_LE, "Implicit VR Little Endian"),
        (EXPLICIT_VR_LE, "Explicit VR Little Endian"),
        (EXPLICIT_VR_BE, "Explicit VR Big Endian"),
        (
            DEFLATED_EXPLICIT_VR_LE,
            "Deflated Explicit VR Little Endian",
        ),
    ];
    NAMES.iter().find(|(u, _)| *u == uid).map(|&(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn test_is_valid() {
        for ok in [
            "1.2.840.10008.1.1",
            "1.2.840.10008.3.1.1.1",
            "0",
            "1.0.3",
            "2.25.268051044599311345688996422911472681751",
        ] {
            assert!(Uid::from(ok).is_valid(), "{ok}");
        }
        let long = "1.2222222222222222222222222222222222222222222222222222222222222222";
        for bad in [
            "", ".", "1.", ".1", "1..2", "1.02", "01.2", "1.2a", "1.2 ", "1.2\0", long,
        ] {
            assert!(!Uid::from(bad).is_valid(), "{bad:?}");
        }
        assert!(Uid::from(&long[..64]).is_valid());
    }

    #[test]
    fn test_from_item_strips_nul_padding() {
        assert_eq!(Uid::from_item(b"1.2\0").as_bytes(), b"1.2");
        assert_eq!(Uid::from_item(b"1.2\0\0").as_bytes(), b"1.2");
        assert_eq!(Uid::from_item(b"").as_bytes(), b"");
        assert_eq!(Uid::from_item(b"\0").as_bytes(), b"");
    }

    #[test]
    fn test_names_and_display() {
        assert_eq!(name(VERIFICATION), Some("Verification"));
        assert_eq!(
            Uid::from("1.2.840.10008.1.2").name(),
            Some("Implicit VR Little Endian")
        );
        assert_eq!(name(Uid::from("1.2.3")), None);
        assert_eq!(format!("{}", VERIFICATION), "1.2.840.10008.1.1");
        assert_eq!(format!("{:?}", Uid::from_item(b"1.2\x01")), "\"1.2\\x01\"");
        for u in [
            APPLICATION_CONTEXT,
            VERIFICATION,
            IMPLICIT_VR_LE,
            EXPLICIT_VR_LE,
            EXPLICIT_VR_BE,
            DEFLATED_EXPLICIT_VR_LE,
        ] {
            assert!(u.is_valid());
        }
    }
}
