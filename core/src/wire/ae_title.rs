//! Application Entity titles (PS3.8 9.3.2 Table 9-11, PS3.5 6.2 VR "AE").

use core::fmt;

/// Size of an AE title field on the wire.
pub const AE_TITLE_LEN: usize = 16;

/// An AE title, stored trimmed of leading and trailing spaces (at most 16 bytes).
///
/// [`AeTitle::new`] is strict (what we send); [`AeTitle::from_wire`] is lenient (what we
/// receive). Comparison is on the trimmed value, as PS3.5 says spaces carry no meaning.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AeTitle {
    /// Trimmed value, left aligned; bytes past `len` are always zero.
    bytes: [u8; AE_TITLE_LEN],
    len: u8,
}

/// Why a string is not a valid AE title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AeTitleError {
    /// Empty or only spaces.
    Empty,
    /// More than 16 characters after trimming spaces.
    TooLong,
    /// A character outside printable ISO 646 (0x20..=0x7E), or a backslash.
    BadChar,
}

impl fmt::Display for AeTitleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AeTitleError::Empty => "AE title is empty or only spaces",
            AeTitleError::TooLong => "AE title is longer than 16 characters",
            AeTitleError::BadChar => {
                "AE title has a character that is not printable ASCII or is a backslash"
            }
        })
    }
}

impl core::error::Error for AeTitleError {}

fn trim(mut bytes: &[u8], pad: impl Fn(u8) -> bool) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if !pad(*first) {
            break;
        }
        bytes = rest;
    }
    while let [rest @ .., last] = bytes {
        if !pad(*last) {
            break;
        }
        bytes = rest;
    }
    bytes
}

impl AeTitle {
    /// Strict constructor: 1..=16 characters after trimming spaces, printable ISO 646
    /// (0x20..=0x7E), no backslash.
    pub fn new(title: &str) -> Result<AeTitle, AeTitleError> {
        let t = trim(title.as_bytes(), |c| c == b' ');
        if t.is_empty() {
            return Err(AeTitleError::Empty);
        }
        if t.iter().any(|&c| !(0x20..=0x7e).contains(&c) || c == b'\\') {
            return Err(AeTitleError::BadChar);
        }
        if t.len() > AE_TITLE_LEN {
            return Err(AeTitleError::TooLong);
        }
        Ok(AeTitle::from_trimmed(t))
    }

    /// Lenient constructor for received fields: trims spaces and NULs on both ends, keeps
    /// everything else as is (the title may be empty).
    pub fn from_wire(field: &[u8; AE_TITLE_LEN]) -> AeTitle {
        AeTitle::from_trimmed(trim(field, |c| c == b' ' || c == 0))
    }

    fn from_trimmed(trimmed: &[u8]) -> AeTitle {
        let mut bytes = [0u8; AE_TITLE_LEN];
        let n = trimmed.len().min(AE_TITLE_LEN);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..n), trimmed.get(..n)) {
            dst.copy_from_slice(src);
        }
        AeTitle {
            bytes,
            len: u8::try_from(n).unwrap_or(0),
        }
    }

    /// The 16-byte wire field: left aligned, padded with spaces.
    pub fn to_wire(&self) -> [u8; AE_TITLE_LEN] {
        let mut out = [b' '; AE_TITLE_LEN];
        for (o, b) in out.iter_mut().zip(self.as_bytes()) {
            *o = *b;
        }
        out
    }

    /// The trimmed value.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The trimmed value as text, if it is UTF-8 (always, for titles made by [`AeTitle::new`]).
    pub fn to_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }

    /// True for a received title that was all spaces / NULs.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl core::str::FromStr for AeTitle {
    type Err = AeTitleError;
    fn from_str(title: &str) -> Result<Self, Self::Err> {
        AeTitle::new(title)
    }
}

/// Writes bytes as text, printable ASCII as is and anything else as `\xNN`.
pub(crate) fn write_escaped(f: &mut fmt::Formatter<'_>, bytes: &[u8], quote: bool) -> fmt::Result {
    use core::fmt::Write;
    if quote {
        f.write_char('"')?;
    }
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) && !(quote && (b == b'"' || b == b'\\')) {
            f.write_char(char::from(b))?;
        } else if quote && (b == b'"' || b == b'\\') {
            write!(f, "\\{}", char::from(b))?;
        } else {
            write!(f, "\\x{b:02x}")?;
        }
    }
    if quote {
        f.write_char('"')?;
    }
    Ok(())
}

impl fmt::Display for AeTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.as_bytes(), false)
    }
}

impl fmt::Debug for AeTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.as_bytes(), true)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for AeTitle {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self.to_str() {
            Some(s) => defmt::write!(f, "{=str}", s),
            None => defmt::write!(f, "{=[u8]}", self.as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn test_new_strict() {
        let ae = AeTitle::new("  LB-SCP ").unwrap();
        assert_eq!(ae.as_bytes(), b"LB-SCP");
        assert_eq!(&ae.to_wire(), b"LB-SCP          ");
        assert_eq!(
            AeTitle::new("ABCDEFGHIJKLMNOP").unwrap().as_bytes().len(),
            16
        );
        assert_eq!(
            AeTitle::new("ABCDEFGHIJKLMNOPQ"),
            Err(AeTitleError::TooLong)
        );
        assert_eq!(AeTitle::new(""), Err(AeTitleError::Empty));
        assert_eq!(AeTitle::new("    "), Err(AeTitleError::Empty));
        assert_eq!(AeTitle::new("A\\B"), Err(AeTitleError::BadChar));
        assert_eq!(AeTitle::new("A\tB"), Err(AeTitleError::BadChar));
        assert_eq!(AeTitle::new("Ä"), Err(AeTitleError::BadChar));
        assert_eq!(AeTitle::new("A B").unwrap().as_bytes(), b"A B");
    }

    #[test]
    fn test_from_wire_lenient() {
        let ae = AeTitle::from_wire(b"  LOADBALANCER  ");
        assert_eq!(ae, AeTitle::new("LOADBALANCER").unwrap());
        let ae = AeTitle::from_wire(b"X\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(ae.as_bytes(), b"X");
        let ae = AeTitle::from_wire(&[b' '; 16]);
        assert!(ae.is_empty());
        assert_eq!(&ae.to_wire(), &[b' '; 16]);
        let ae = AeTitle::from_wire(b"A\x01\\\xff            ");
        assert_eq!(format!("{ae}"), "A\\x01\\\\xff");
        assert_eq!(format!("{ae:?}"), "\"A\\x01\\\\\\xff\"");
        assert_eq!(ae.to_str(), None);
    }

    #[test]
    fn test_display() {
        let ae = AeTitle::new("LB-SCP").unwrap();
        assert_eq!(format!("{ae}"), "LB-SCP");
        assert_eq!(format!("{ae:?}"), "\"LB-SCP\"");
        assert_eq!(
            format!("{}", AeTitleError::TooLong),
            "AE title is longer than 16 characters"
        );
    }
}
