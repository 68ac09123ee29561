//! Data sets (PS3.5 7.1): a borrowed element reader for Implicit and Explicit VR Little Endian,
//! and an encoder for the flat identifiers a query sends.
//!
//! [`DataSet`] walks the top-level elements of a complete data set without copying: each
//! [`Element`] is its tag, its VR (explicit only) and a slice of its value. Sequences, of
//! defined or undefined length and nested up to [`MAX_DEPTH`], are skipped as one element
//! whose value holds their items (an undefined length's delimiter excluded). Any malformed
//! input is an [`Error`], never a panic.
//!
//! [`encode`] writes [`Key`]s (tag, VR, value) with even-length padding (NUL for UI, OB and UN;
//! space otherwise, PS3.5 6.2), and leaves the buffer untouched when it is too small.

use core::fmt;

/// How deep sequences may nest inside one another before the reader gives up.
pub const MAX_DEPTH: u8 = 8;
/// A value length of 0xFFFFFFFF: undefined, ended by a delimitation item (PS3.5 7.5).
pub const UNDEFINED_LENGTH: u32 = 0xFFFF_FFFF;
/// (FFFE,E000) Item.
pub const ITEM: u32 = 0xFFFE_E000;
/// (FFFE,E00D) Item Delimitation Item.
pub const ITEM_DELIMITATION: u32 = 0xFFFE_E00D;
/// (FFFE,E0DD) Sequence Delimitation Item.
pub const SEQUENCE_DELIMITATION: u32 = 0xFFFE_E0DD;

/// A value representation: its two upper-case letters (PS3.5 6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Vr(pub [u8; 2]);

#[allow(missing_docs)]
impl Vr {
    pub const AE: Vr = Vr(*b"AE");
    pub const AS: Vr = Vr(*b"AS");
    pub const CS: Vr = Vr(*b"CS");
    pub const DA: Vr = Vr(*b"DA");
    pub const DS: Vr = Vr(*b"DS");
    pub const DT: Vr = Vr(*b"DT");
    pub const IS: Vr = Vr(*b"IS");
    pub const LO: Vr = Vr(*b"LO");
    pub const LT: Vr = Vr(*b"LT");
    pub const OB: Vr = Vr(*b"OB");
    pub const OW: Vr = Vr(*b"OW");
    pub const PN: Vr = Vr(*b"PN");
    pub const SH: Vr = Vr(*b"SH");
    pub const SQ: Vr = Vr(*b"SQ");
    pub const ST: Vr = Vr(*b"ST");
    pub const TM: Vr = Vr(*b"TM");
    pub const UI: Vr = Vr(*b"UI");
    pub const UL: Vr = Vr(*b"UL");
    pub const UN: Vr = Vr(*b"UN");
    pub const US: Vr = Vr(*b"US");
    pub const UT: Vr = Vr(*b"UT");
}

impl Vr {
    /// Whether Explicit VR encodes this VR with 2 reserved bytes and a 4-byte length
    /// (PS3.5 7.1.2: OB OD OF OL OV OW SQ SV UC UN UR UT UV).
    pub fn has_long_length(self) -> bool {
        matches!(
            &self.0,
            b"OB"
                | b"OD"
                | b"OF"
                | b"OL"
                | b"OV"
                | b"OW"
                | b"SQ"
                | b"SV"
                | b"UC"
                | b"UN"
                | b"UR"
                | b"UT"
                | b"UV"
        )
    }

    /// The byte an odd-length value is padded with: NUL for UI, OB and UN, space otherwise
    /// (PS3.5 6.2).
    pub fn padding(self) -> u8 {
        match &self.0 {
            b"UI" | b"OB" | b"UN" => 0,
            _ => b' ',
        }
    }

    /// Whether the value is text that matching compares as characters (not binary, not SQ).
    pub fn is_text(self) -> bool {
        if self.has_long_length() {
            // Of the long-length VRs only UC, UR and UT hold text.
            matches!(&self.0, b"UC" | b"UR" | b"UT")
        } else {
            !matches!(
                &self.0,
                b"US" | b"UL" | b"SS" | b"SL" | b"FL" | b"FD" | b"AT"
            )
        }
    }

    fn is_valid(self) -> bool {
        self.0.iter().all(u8::is_ascii_uppercase)
    }
}

impl fmt::Display for Vr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            write!(f, "{}", char::from(b))?;
        }
        Ok(())
    }
}

/// Why a data set could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// An element header or value runs past the end.
    Truncated,
    /// An explicit VR that is not two upper-case letters.
    BadVr,
    /// An odd value length, or an undefined length where only a sequence may have one.
    BadLength,
    /// An item or delimiter where an element belongs, or an element where an item belongs.
    BadItem,
    /// Sequences nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Keys to encode that are not in increasing tag order, or a value too long for its VR's
    /// length field.
    BadKey,
    /// The output buffer cannot hold the encoding; nothing was written.
    BufferTooSmall {
        /// Bytes the encoding needs.
        required: usize,
    },
}

impl Error {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn crate::text::Sink) {
        match self {
            Error::Truncated => t.put("data set truncated"),
            Error::BadVr => t.put("data set element with an invalid VR"),
            Error::BadLength => t.put("data set element with a bad value length"),
            Error::BadItem => t.put("misplaced item or delimiter in a data set"),
            Error::TooDeep => t.put("sequences nested too deeply"),
            Error::BadKey => t.put("keys out of tag order or a value too long"),
            Error::BufferTooSmall { required } => crate::text::too_small(t, "buffer", *required),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

impl core::error::Error for Error {}

/// One top-level element, borrowed from the data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// `group << 16 | element`.
    pub tag: u32,
    /// The VR on the wire (Explicit VR only).
    pub vr: Option<Vr>,
    /// The value: for a sequence, its items (without the sequence delimiter).
    pub value: &'a [u8],
}

impl<'a> Element<'a> {
    /// The value without trailing padding (spaces and NULs), e.g. to compare a string.
    pub fn trimmed(&self) -> &'a [u8] {
        trim(self.value)
    }
}

/// `value` without trailing spaces and NULs (PS3.5 6.2 padding).
pub fn trim(value: &[u8]) -> &[u8] {
    let end = value
        .iter()
        .rposition(|b| *b != b' ' && *b != 0)
        .map_or(0, |i| i + 1);
    value.get(..end).unwrap_or(&[])
}

/// A complete data set in Implicit or Explicit VR Little Endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSet<'a> {
    bytes: &'a [u8],
    explicit: bool,
}

impl<'a> DataSet<'a> {
    /// A view of `bytes`; `explicit`: Explicit VR Little Endian, else Implicit VR Little
    /// Endian. Nothing is checked until the elements are read.
    pub const fn new(bytes: &'a [u8], explicit: bool) -> Self {
        DataSet { bytes, explicit }
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether the encoding is Explicit VR.
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// The top-level elements in wire order; after an `Err` the iterator ends.
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            rest: self.bytes,
            explicit: self.explicit,
            failed: false,
        }
    }

    /// Reads every element once: `Ok(count)` if the whole data set is well formed.
    pub fn check(&self) -> Result<usize, Error> {
        let mut n = 0usize;
        for e in self.elements() {
            e?;
            n += 1;
        }
        Ok(n)
    }

    /// The top-level element with `tag`, if present (reading stops at the first error).
    pub fn get(&self, tag: u32) -> Result<Option<Element<'a>>, Error> {
        for e in self.elements() {
            let e = e?;
            if e.tag == tag {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }
}

/// The top-level elements of a [`DataSet`].
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    rest: &'a [u8],
    explicit: bool,
    failed: bool,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let parsed = split_element(self.rest, self.explicit, 0).and_then(|(e, rest)| {
            if e.tag >> 16 == 0xFFFE {
                Err(Error::BadItem)
            } else {
                Ok((e, rest))
            }
        });
        match parsed {
            Ok((e, rest)) => {
                self.rest = rest;
                Some(Ok(e))
            }
            Err(err) => {
                self.failed = true;
                Some(Err(err))
            }
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, Error> {
    match b.get(at..at + 2) {
        Some(&[x, y]) => Ok(u16::from_le_bytes([x, y])),
        _ => Err(Error::Truncated),
    }
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, Error> {
    match b.get(at..at + 4) {
        Some(&[a, c, d, e]) => Ok(u32::from_le_bytes([a, c, d, e])),
        _ => Err(Error::Truncated),
    }
}

fn tag_at(b: &[u8], at: usize) -> Result<u32, Error> {
    Ok((u32::from(u16_at(b, at)?) << 16) | u32::from(u16_at(b, at + 2)?))
}

fn split_at(b: &[u8], n: usize) -> Result<(&[u8], &[u8]), Error> {
    b.split_at_checked(n).ok_or(Error::Truncated)
}

/// One element (an item or delimiter header too: tag and 4-byte length, no VR) and the rest.
fn split_element(b: &[u8], explicit: bool, depth: u8) -> Result<(Element<'_>, &[u8]), Error> {
    let tag = tag_at(b, 0)?;
    let (vr, len, header) = if tag >> 16 == 0xFFFE {
        (None, u32_at(b, 4)?, 8)
    } else if explicit {
        let vr = match b.get(4..6) {
            Some(&[x, y]) => Vr([x, y]),
            _ => return Err(Error::Truncated),
        };
        if !vr.is_valid() {
            return Err(Error::BadVr);
        }
        if vr.has_long_length() {
            (Some(vr), u32_at(b, 8)?, 12)
        } else {
            (Some(vr), u32::from(u16_at(b, 6)?), 8)
        }
    } else {
        (None, u32_at(b, 4)?, 8)
    };
    let (_, body) = split_at(b, header)?;
    if tag >> 16 == 0xFFFE {
        // Items are walked by the sequence reader; here only their header is split off.
        let value = if len == UNDEFINED_LENGTH {
            &[][..]
        } else {
            split_at(body, len as usize)?.0
        };
        let rest = if len == UNDEFINED_LENGTH {
            body
        } else {
            split_at(body, len as usize)?.1
        };
        return Ok((Element { tag, vr, value }, rest));
    }
    if len == UNDEFINED_LENGTH {
        let sequence_like = vr.is_none_or(|v| matches!(&v.0, b"SQ" | b"UN" | b"OB" | b"OW"));
        if !sequence_like {
            return Err(Error::BadLength);
        }
        let (content, total) = undefined_sequence(body, explicit, depth + 1)?;
        let (value, _) = split_at(body, content)?;
        let (_, rest) = split_at(body, total)?;
        return Ok((Element { tag, vr, value }, rest));
    }
    if len % 2 != 0 {
        return Err(Error::BadLength);
    }
    let (value, rest) = split_at(body, usize::try_from(len).map_err(|_| Error::Truncated)?)?;
    Ok((Element { tag, vr, value }, rest))
}

/// The items of an undefined-length sequence, from just after its header: the length of its
/// content and the length including the sequence delimiter.
fn undefined_sequence(b: &[u8], explicit: bool, depth: u8) -> Result<(usize, usize), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep);
    }
    let mut off = 0usize;
    // Each pass consumes at least 8 bytes, so the loop ends.
    loop {
        let rest = b.get(off..).ok_or(Error::Truncated)?;
        let tag = tag_at(rest, 0)?;
        let len = u32_at(rest, 4)?;
        match tag {
            SEQUENCE_DELIMITATION => {
                if len != 0 {
                    return Err(Error::BadItem);
                }
                return Ok((off, off + 8));
            }
            ITEM if len == UNDEFINED_LENGTH => {
                off += 8 + undefined_item(rest.get(8..).unwrap_or(&[]), explicit, depth)?;
            }
            ITEM => {
                let n = usize::try_from(len).map_err(|_| Error::Truncated)?;
                if rest.len() < 8usize.saturating_add(n) {
                    return Err(Error::Truncated);
                }
                off += 8 + n;
            }
            _ => return Err(Error::BadItem),
        }
    }
}

/// The elements of an undefined-length item, from just after its header: the length
/// including its item delimiter.
fn undefined_item(b: &[u8], explicit: bool, depth: u8) -> Result<usize, Error> {
    let mut rest = b;
    loop {
        let tag = tag_at(rest, 0)?;
        if tag == ITEM_DELIMITATION {
            if u32_at(rest, 4)? != 0 {
                return Err(Error::BadItem);
            }
            return Ok(b.len() - rest.len() + 8);
        }
        if tag >> 16 == 0xFFFE {
            return Err(Error::BadItem);
        }
        let (_, after) = split_element(rest, explicit, depth)?;
        rest = after;
    }
}

/// One element of an identifier to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a> {
    /// `group << 16 | element`.
    pub tag: u32,
    /// Its VR (written in Explicit VR; decides the padding in both).
    pub vr: Vr,
    /// The value, unpadded (empty: universal matching / return key). For SQ: the encoded
    /// items, even length.
    pub value: &'a [u8],
}

impl Key<'_> {
    fn encoded_len(&self, explicit: bool) -> Result<usize, Error> {
        let value = self.value.len() + self.value.len() % 2;
        if self.vr == Vr::SQ && !self.value.len().is_multiple_of(2) {
            return Err(Error::BadKey);
        }
        let header = if explicit && self.vr.has_long_length() {
            12
        } else {
            8
        };
        if explicit && !self.vr.has_long_length() && value > usize::from(u16::MAX) {
            return Err(Error::BadKey);
        }
        if u32::try_from(value).map_or(true, |v| v == UNDEFINED_LENGTH) || !self.vr.is_valid() {
            return Err(Error::BadKey);
        }
        Ok(header + value)
    }
}

/// Bytes [`encode`] writes for `keys`.
pub fn encoded_len(keys: &[Key<'_>], explicit: bool) -> Result<usize, Error> {
    let mut total = 0usize;
    let mut last: Option<u32> = None;
    for k in keys {
        if last.is_some_and(|l| k.tag <= l) || k.tag >> 16 == 0xFFFE {
            return Err(Error::BadKey);
        }
        last = Some(k.tag);
        total = total.saturating_add(k.encoded_len(explicit)?);
    }
    Ok(total)
}

/// Encodes `keys` (in increasing tag order) into `buf` in Explicit (`explicit`) or Implicit
/// VR Little Endian; returns the length. On an error the buffer is untouched.
pub fn encode(keys: &[Key<'_>], explicit: bool, buf: &mut [u8]) -> Result<usize, Error> {
    let required = encoded_len(keys, explicit)?;
    let out = buf
        .get_mut(..required)
        .ok_or(Error::BufferTooSmall { required })?;
    let mut at = 0usize;
    let mut put = |bytes: &[u8]| {
        if let Some(dst) = out.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        at += bytes.len();
    };
    for k in keys {
        let padded = k.value.len() + k.value.len() % 2;
        put(&((k.tag >> 16) as u16).to_le_bytes());
        put(&((k.tag & 0xffff) as u16).to_le_bytes());
        if explicit {
            put(&k.vr.0);
            if k.vr.has_long_length() {
                put(&[0, 0]);
                put(&(padded as u32).to_le_bytes());
            } else {
                put(&(padded as u16).to_le_bytes());
            }
        } else {
            put(&(padded as u32).to_le_bytes());
        }
        put(k.value);
        if k.value.len() % 2 == 1 {
            put(&[k.vr.padding()]);
        }
    }
    Ok(required)
}

/// Query/Retrieve and Modality Worklist keys by keyword (PS3.6 data dictionary; the keys of
/// PS3.4 C.6.1.1, C.6.2.1 and K.6.1.2): `(keyword, tag, VR)`, sorted by tag.
pub const KEYWORDS: &[(&str, u32, Vr)] = &[
    ("SpecificCharacterSet", 0x0008_0005, Vr::CS),
    ("StudyDate", 0x0008_0020, Vr::DA),
    ("StudyTime", 0x0008_0030, Vr::TM),
    ("AccessionNumber", 0x0008_0050, Vr::SH),
    ("QueryRetrieveLevel", 0x0008_0052, Vr::CS),
    ("RetrieveAETitle", 0x0008_0054, Vr::AE),
    ("InstanceAvailability", 0x0008_0056, Vr::CS),
    ("Modality", 0x0008_0060, Vr::CS),
    ("ModalitiesInStudy", 0x0008_0061, Vr::CS),
    ("ReferringPhysicianName", 0x0008_0090, Vr::PN),
    ("StudyDescription", 0x0008_1030, Vr::LO),
    ("PatientName", 0x0010_0010, Vr::PN),
    ("PatientID", 0x0010_0020, Vr::LO),
    ("PatientBirthDate", 0x0010_0030, Vr::DA),
    ("PatientSex", 0x0010_0040, Vr::CS),
    ("StudyInstanceUID", 0x0020_000D, Vr::UI),
    ("SeriesInstanceUID", 0x0020_000E, Vr::UI),
    ("StudyID", 0x0020_0010, Vr::SH),
    ("SeriesNumber", 0x0020_0011, Vr::IS),
    ("NumberOfPatientRelatedStudies", 0x0020_1200, Vr::IS),
    ("NumberOfStudyRelatedSeries", 0x0020_1206, Vr::IS),
    ("NumberOfStudyRelatedInstances", 0x0020_1208, Vr::IS),
    ("RequestedProcedureDescription", 0x0032_1060, Vr::LO),
    ("ScheduledStationAETitle", 0x0040_0001, Vr::AE),
    ("ScheduledProcedureStepStartDate", 0x0040_0002, Vr::DA),
    ("ScheduledProcedureStepStartTime", 0x0040_0003, Vr::TM),
    ("ScheduledPerformingPhysicianName", 0x0040_0006, Vr::PN),
    ("ScheduledProcedureStepDescription", 0x0040_0007, Vr::LO),
    ("ScheduledProcedureStepID", 0x0040_0009, Vr::SH),
    ("ScheduledStationName", 0x0040_0010, Vr::SH),
    ("ScheduledProcedureStepSequence", 0x0040_0100, Vr::SQ),
    ("RequestedProcedureID", 0x0040_1001, Vr::SH),
];

/// The tag and VR of a keyword in [`KEYWORDS`].
pub fn keyword(name: &str) -> Option<(u32, Vr)> {
    KEYWORDS
        .iter()
        .find(|(k, _, _)| *k == name)
        .map(|(_, t, v)| (*t, *v))
}

/// The VR of a tag in [`KEYWORDS`] (group-length elements `(gggg,0000)` are UL).
pub fn vr_of(tag: u32) -> Option<Vr> {
    if tag & 0xffff == 0 {
        return Some(Vr::UL);
    }
    KEYWORDS
        .iter()
        .find(|(_, t, _)| *t == tag)
        .map(|(_, _, v)| *v)
}

/// A study-level query: QueryRetrieveLevel=STUDY, PatientName=DOE*, and StudyInstanceUID as
/// a return key (empty). One copy for the tests here, in `find`, in `core/tests` and in the
/// fuzz harness (feature `golden`).
#[cfg(any(test, feature = "golden"))]
pub const STUDY_QUERY: [Key<'static>; 3] = [
    Key {
        tag: 0x0008_0052,
        vr: Vr::CS,
        value: b"STUDY",
    },
    Key {
        tag: 0x0010_0010,
        vr: Vr::PN,
        value: b"DOE*",
    },
    Key {
        tag: 0x0020_000D,
        vr: Vr::UI,
        value: b"",
    },
];

/// PatientName=DOE^JOHN: the patient of the records the find tests in `core/tests` serve
/// (feature `golden`).
#[cfg(any(test, feature = "golden"))]
pub const JOHN_DOE: Key<'static> = Key {
    tag: 0x0010_0010,
    vr: Vr::PN,
    value: b"DOE^JOHN",
};

#[cfg(test)]
mod tests;
