//! DIMSE status codes (PS3.7 Annex C) and what they mean for a health check.

use core::fmt;

/// The class of a DIMSE status (PS3.7 C.1-C.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StatusClass {
    /// 0x0000.
    Success,
    /// 0x0001, 0xBxxx, 0x0107, 0x0116. C-ECHO defines none.
    Warning,
    /// 0xAxxx, 0xCxxx, 0x01xx, 0x02xx and anything not listed.
    Failure,
    /// 0xFE00.
    Cancel,
    /// 0xFF00, 0xFF01.
    Pending,
}

impl StatusClass {
    /// Classifies a status code.
    pub const fn of(status: u16) -> StatusClass {
        match status {
            0x0000 => StatusClass::Success,
            0x0001 | 0x0107 | 0x0116 => StatusClass::Warning,
            0xB000..=0xBFFF => StatusClass::Warning,
            0xFE00 => StatusClass::Cancel,
            0xFF00 | 0xFF01 => StatusClass::Pending,
            _ => StatusClass::Failure,
        }
    }
}

impl StatusClass {
    /// Its text (what `Display` shows).
    pub const fn as_str(&self) -> &'static str {
        match self {
            StatusClass::Success => "success",
            StatusClass::Warning => "warning",
            StatusClass::Failure => "failure",
            StatusClass::Cancel => "cancel",
            StatusClass::Pending => "pending",
        }
    }
}

impl fmt::Display for StatusClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A short description of the status codes C-ECHO can carry (PS3.7 9.1.5.1.4), and the
/// generic ones peers send anyway.
pub const fn describe(status: u16) -> &'static str {
    match status {
        0x0000 => "Success",
        0x0122 => "Refused: SOP class not supported",
        0x0210 => "Duplicate invocation",
        0x0211 => "Unrecognized operation",
        0x0212 => "Mistyped argument",
        0x0110 => "Processing failure",
        0xFE00 => "Cancel",
        0xFF00 | 0xFF01 => "Pending",
        _ => match StatusClass::of(status) {
            StatusClass::Warning => "Warning",
            _ => "Failure",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(StatusClass::of(0), StatusClass::Success);
        assert_eq!(StatusClass::of(0x0110), StatusClass::Failure);
        assert_eq!(StatusClass::of(0x0122), StatusClass::Failure);
        assert_eq!(StatusClass::of(0xA700), StatusClass::Failure);
        assert_eq!(StatusClass::of(0xC000), StatusClass::Failure);
        assert_eq!(StatusClass::of(0xB000), StatusClass::Warning);
        assert_eq!(StatusClass::of(0x0107), StatusClass::Warning);
        assert_eq!(StatusClass::of(0xFE00), StatusClass::Cancel);
        assert_eq!(StatusClass::of(0xFF01), StatusClass::Pending);
        assert_eq!(describe(0x0211), "Unrecognized operation");
    }
}
