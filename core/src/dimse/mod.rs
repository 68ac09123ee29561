//! DIMSE command sets (PS3.7 6.3.1, 9.3): always implicit VR little endian, group 0000 only,
//! elements in increasing tag order, the group length back-patched on encode.
//!
//! Only what C-ECHO needs is interpreted; any other group-0000 element is carried over
//! unread, so a peer's optional elements never break the exchange.

pub mod command;
pub mod dataset;
pub mod status;

pub use command::{Command, CommandWriter, Elements};
pub use status::StatusClass;

use core::fmt;

/// (0000,0100) CommandField of a C-ECHO-RQ.
pub const C_ECHO_RQ: u16 = 0x0030;
/// (0000,0100) CommandField of a C-ECHO-RSP.
pub const C_ECHO_RSP: u16 = 0x8030;
/// (0000,0800) CommandDataSetType: no data set follows.
pub const NO_DATA_SET: u16 = 0x0101;

/// Command element tags, `group << 16 | element`.
pub mod tag {
    /// (0000,0000) CommandGroupLength, UL.
    pub const COMMAND_GROUP_LENGTH: u32 = 0x0000_0000;
    /// (0000,0002) AffectedSOPClassUID, UI.
    pub const AFFECTED_SOP_CLASS_UID: u32 = 0x0000_0002;
    /// (0000,0100) CommandField, US.
    pub const COMMAND_FIELD: u32 = 0x0000_0100;
    /// (0000,0110) MessageID, US.
    pub const MESSAGE_ID: u32 = 0x0000_0110;
    /// (0000,0120) MessageIDBeingRespondedTo, US.
    pub const MESSAGE_ID_BEING_RESPONDED_TO: u32 = 0x0000_0120;
    /// (0000,0700) Priority, US.
    pub const PRIORITY: u32 = 0x0000_0700;
    /// (0000,0800) CommandDataSetType, US.
    pub const COMMAND_DATA_SET_TYPE: u32 = 0x0000_0800;
    /// (0000,0900) Status, US.
    pub const STATUS: u32 = 0x0000_0900;
}

/// Why a command set could not be decoded or encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// An element header or value runs past the end of the command set.
    Truncated,
    /// An element outside group 0000 (PS3.7 6.3.1 allows only group 0000).
    NotCommandGroup,
    /// Tags out of increasing order, or a tag repeated.
    BadOrder,
    /// A US/UL element whose length is not 2/4, or an odd value length.
    BadLength,
    /// A required element is absent (CommandField or CommandDataSetType).
    Missing(u32),
    /// CommandGroupLength disagrees with the bytes that follow it.
    BadGroupLength,
    /// The output buffer cannot hold the command set.
    BufferTooSmall {
        /// Bytes the encoding needs.
        required: usize,
    },
}

impl Error {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn crate::text::Sink) {
        match self {
            Error::Truncated => t.put("command set truncated"),
            Error::NotCommandGroup => t.put("element outside group 0000 in a command set"),
            Error::BadOrder => t.put("command elements out of order or repeated"),
            Error::BadLength => t.put("command element with a bad value length"),
            Error::Missing(tag) => {
                t.put("required command element (");
                t.hex(tag >> 16, 4, true);
                t.put(",");
                t.hex(tag & 0xffff, 4, true);
                t.put(") missing");
            }
            Error::BadGroupLength => t.put("command group length disagrees with the command set"),
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
