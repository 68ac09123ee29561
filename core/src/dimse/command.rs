//! Implicit VR little endian group-0000 elements: reading ([`Elements`], [`Command`]) and
//! writing ([`CommandWriter`]).

use super::{tag, Error, C_ECHO_RQ, C_ECHO_RSP, NO_DATA_SET};

/// Element header: group u16 LE, element u16 LE, value length u32 LE (PS3.5 7.1.3).
const ELEMENT_HEADER_LEN: usize = 8;

/// The elements of an implicit VR LE command set, in wire order.
///
/// Yields `Err` once and then stops if an element is cut short.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Elements<'a> {
    /// Walks `bytes`, a complete command set.
    pub fn new(bytes: &'a [u8]) -> Self {
        Elements {
            rest: bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<(u32, &'a [u8]), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let parsed = split_element(self.rest);
        match parsed {
            Some((tag, value, rest)) => {
                self.rest = rest;
                Some(Ok((tag, value)))
            }
            None => {
                self.failed = true;
                Some(Err(Error::Truncated))
            }
        }
    }
}

fn split_element(bytes: &[u8]) -> Option<(u32, &[u8], &[u8])> {
    let (header, rest) = bytes.split_at_checked(ELEMENT_HEADER_LEN)?;
    let group = u16::from_le_bytes([*header.first()?, *header.get(1)?]);
    let element = u16::from_le_bytes([*header.get(2)?, *header.get(3)?]);
    let len = u32::from_le_bytes([
        *header.get(4)?,
        *header.get(5)?,
        *header.get(6)?,
        *header.get(7)?,
    ]);
    let len = usize::try_from(len).ok()?;
    let (value, rest) = rest.split_at_checked(len)?;
    Some(((u32::from(group) << 16) | u32::from(element), value, rest))
}

fn us(value: &[u8]) -> Result<u16, Error> {
    match value {
        [a, b] => Ok(u16::from_le_bytes([*a, *b])),
        _ => Err(Error::BadLength),
    }
}

fn ul(value: &[u8]) -> Result<u32, Error> {
    match value {
        [a, b, c, d] => Ok(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => Err(Error::BadLength),
    }
}

/// The elements of a command set that the C-ECHO exchange looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    /// (0000,0002), without its trailing NUL pad.
    pub affected_sop_class: Option<&'a [u8]>,
    /// (0000,0100).
    pub command_field: u16,
    /// (0000,0110).
    pub message_id: Option<u16>,
    /// (0000,0120).
    pub message_id_being_responded_to: Option<u16>,
    /// (0000,0800); 0x0101 means no data set follows.
    pub data_set_type: u16,
    /// (0000,0900).
    pub status: Option<u16>,
}

impl<'a> Command<'a> {
    /// Decodes a whole command set (all its fragments joined).
    ///
    /// Strict where a wrong reading would mislead (group, order, value lengths, group
    /// length), lenient otherwise: unknown group-0000 elements are skipped.
    pub fn parse(bytes: &'a [u8]) -> Result<Command<'a>, Error> {
        let mut affected_sop_class = None;
        let mut command_field = None;
        let mut message_id = None;
        let mut responded_to = None;
        let mut data_set_type = None;
        let mut status = None;
        let mut last_tag: Option<u32> = None;
        let mut consumed = 0usize;
        let mut group_length: Option<(u32, usize)> = None;

        for element in Elements::new(bytes) {
            let (tag, value) = element?;
            if tag >> 16 != 0 {
                return Err(Error::NotCommandGroup);
            }
            if last_tag.is_some_and(|last| tag <= last) {
                return Err(Error::BadOrder);
            }
            last_tag = Some(tag);
            if value.len() % 2 != 0 {
                return Err(Error::BadLength);
            }
            consumed = consumed.saturating_add(ELEMENT_HEADER_LEN + value.len());
            match tag {
                tag::COMMAND_GROUP_LENGTH => group_length = Some((ul(value)?, consumed)),
                tag::AFFECTED_SOP_CLASS_UID => {
                    affected_sop_class = Some(value.strip_suffix(&[0]).unwrap_or(value));
                }
                tag::COMMAND_FIELD => command_field = Some(us(value)?),
                tag::MESSAGE_ID => message_id = Some(us(value)?),
                tag::MESSAGE_ID_BEING_RESPONDED_TO => responded_to = Some(us(value)?),
                tag::COMMAND_DATA_SET_TYPE => data_set_type = Some(us(value)?),
                tag::STATUS => status = Some(us(value)?),
                _ => {}
            }
        }
        if let Some((declared, after)) = group_length {
            let actual = bytes.len().saturating_sub(after);
            if usize::try_from(declared).ok() != Some(actual) {
                return Err(Error::BadGroupLength);
            }
        }
        Ok(Command {
            affected_sop_class,
            command_field: command_field.ok_or(Error::Missing(tag::COMMAND_FIELD))?,
            message_id,
            message_id_being_responded_to: responded_to,
            data_set_type: data_set_type.ok_or(Error::Missing(tag::COMMAND_DATA_SET_TYPE))?,
            status,
        })
    }

    /// Whether a data set follows this command.
    pub fn has_data_set(&self) -> bool {
        self.data_set_type != NO_DATA_SET
    }

    /// A C-ECHO-RQ.
    pub fn echo_rq(message_id: u16) -> Command<'static> {
        Command {
            affected_sop_class: Some(VERIFICATION),
            command_field: C_ECHO_RQ,
            message_id: Some(message_id),
            message_id_being_responded_to: None,
            data_set_type: NO_DATA_SET,
            status: None,
        }
    }

    /// A C-ECHO-RSP answering `message_id` with `status`.
    pub fn echo_rsp(message_id: u16, status: u16) -> Command<'static> {
        Command {
            affected_sop_class: Some(VERIFICATION),
            command_field: C_ECHO_RSP,
            message_id: None,
            message_id_being_responded_to: Some(message_id),
            data_set_type: NO_DATA_SET,
            status: Some(status),
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        let mut w = CommandWriter::measure();
        self.write(&mut w);
        w.len()
    }

    /// Encodes the command set into `buf`; on `BufferTooSmall` the buffer is untouched.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let required = self.buffer_len();
        if buf.len() < required {
            return Err(Error::BufferTooSmall { required });
        }
        let mut w = CommandWriter::new(buf);
        self.write(&mut w);
        w.finish()
    }

    fn write(&self, writer: &mut CommandWriter<'_>) {
        writer.begin();
        if let Some(uid) = self.affected_sop_class {
            writer.uid(tag::AFFECTED_SOP_CLASS_UID, uid);
        }
        writer.us(tag::COMMAND_FIELD, self.command_field);
        if let Some(id) = self.message_id {
            writer.us(tag::MESSAGE_ID, id);
        }
        if let Some(id) = self.message_id_being_responded_to {
            writer.us(tag::MESSAGE_ID_BEING_RESPONDED_TO, id);
        }
        writer.us(tag::COMMAND_DATA_SET_TYPE, self.data_set_type);
        if let Some(status) = self.status {
            writer.us(tag::STATUS, status);
        }
    }
}

const VERIFICATION: &[u8] = b"1.2.840.10008.1.1";

/// Writes group-0000 elements in the order given, with (0000,0000) first and back-patched.
///
/// Built with [`CommandWriter::measure`] it only counts, so a caller learns the length without
/// a scratch buffer. Writes past the end of the buffer are dropped and reported by `finish`.
#[derive(Debug)]
pub struct CommandWriter<'b> {
    buf: Option<&'b mut [u8]>,
    len: usize,
    overflow: bool,
}

impl<'b> CommandWriter<'b> {
    /// A writer into `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        CommandWriter {
            buf: Some(buf),
            len: 0,
            overflow: false,
        }
    }

    /// A writer that only counts bytes.
    pub fn measure() -> CommandWriter<'static> {
        CommandWriter {
            buf: None,
            len: 0,
            overflow: false,
        }
    }

    /// Bytes written (or counted) so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn put(&mut self, bytes: &[u8]) {
        if let Some(buf) = self.buf.as_deref_mut() {
            match buf.get_mut(self.len..self.len.saturating_add(bytes.len())) {
                Some(dst) => dst.copy_from_slice(bytes),
                None => self.overflow = true,
            }
        }
        self.len = self.len.saturating_add(bytes.len());
    }

    fn header(&mut self, tag: u32, len: u32) {
        let group = (tag >> 16) as u16;
        let element = (tag & 0xffff) as u16;
        self.put(&group.to_le_bytes());
        self.put(&element.to_le_bytes());
        self.put(&len.to_le_bytes());
    }

    /// Starts the command set: (0000,0000) UL with a placeholder value.
    pub fn begin(&mut self) {
        self.header(tag::COMMAND_GROUP_LENGTH, 4);
        self.put(&[0; 4]);
    }

    /// A US element.
    pub fn us(&mut self, tag: u32, value: u16) {
        self.header(tag, 2);
        self.put(&value.to_le_bytes());
    }

    /// A UI element, padded with one NUL to an even length (PS3.5 9.1).
    pub fn uid(&mut self, tag: u32, uid: &[u8]) {
        let padded = uid.len() + uid.len() % 2;
        self.header(tag, u32::try_from(padded).unwrap_or(u32::MAX));
        self.put(uid);
        if uid.len() % 2 == 1 {
            self.put(&[0]);
        }
    }

    /// Back-patches the group length and returns the total length.
    pub fn finish(mut self) -> Result<usize, Error> {
        if self.overflow {
            return Err(Error::BufferTooSmall { required: self.len });
        }
        let group_len = u32::try_from(self.len.saturating_sub(12)).unwrap_or(u32::MAX);
        if let Some(dst) = self.buf.as_deref_mut().and_then(|b| b.get_mut(8..12)) {
            dst.copy_from_slice(&group_len.to_le_bytes());
        }
        Ok(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::golden::hex;

    /// C-ECHO-RQ command set from DCMTK echoscu (docs/captures.md, capture 1, PDU 3, after
    /// the 12-byte PDU + PDV header).
    pub(crate) const DCMTK_ECHO_RQ: &str = "0000000004000000380000000000020012000000312e322e3834302e31303030382e312e3100000000010200000030000000100102000000010000000008020000000101";
    /// C-ECHO-RSP command set from storescp (docs/captures.md, capture 1, PDU 4).
    pub(crate) const STORESCP_ECHO_RSP: &str = "0000000004000000420000000000020012000000312e322e3834302e31303030382e312e310000000001020000003080000020010200000001000000000802000000010100000009020000000000";

    #[test]
    fn test_parse_echo_rq() {
        let bytes = hex(DCMTK_ECHO_RQ);
        let cmd = Command::parse(&bytes).unwrap();
        assert_eq!(cmd, Command::echo_rq(1));
        assert!(!cmd.has_data_set());
    }

    #[test]
    fn test_emit_echo_rq_matches_dcmtk() {
        let mut buf = [0u8; 128];
        let n = Command::echo_rq(1).emit(&mut buf).unwrap();
        assert_eq!(&buf[..n], &hex(DCMTK_ECHO_RQ)[..]);
        assert_eq!(Command::echo_rq(1).buffer_len(), n);
    }

    #[test]
    fn test_emit_echo_rsp_matches_storescp() {
        let mut buf = [0u8; 128];
        let n = Command::echo_rsp(1, 0).emit(&mut buf).unwrap();
        assert_eq!(&buf[..n], &hex(STORESCP_ECHO_RSP)[..]);
        let parsed = Command::parse(&buf[..n]).unwrap();
        assert_eq!(parsed.status, Some(0));
        assert_eq!(parsed.message_id_being_responded_to, Some(1));
    }

    #[test]
    fn too_small_buffer_is_untouched() {
        let mut buf = [0xAAu8; 40];
        assert_eq!(
            Command::echo_rq(7).emit(&mut buf),
            Err(Error::BufferTooSmall { required: 68 })
        );
        assert!(buf.iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn truncation_never_panics() {
        for golden in [DCMTK_ECHO_RQ, STORESCP_ECHO_RSP] {
            let bytes = hex(golden);
            for cut in 0..bytes.len() {
                assert!(Command::parse(&bytes[..cut]).is_err(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn corruption_never_panics() {
        let bytes = hex(STORESCP_ECHO_RSP);
        for i in 0..bytes.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = Command::parse(&b);
            }
        }
    }

    #[test]
    fn rejects_bad_order_group_and_length() {
        // Elements out of tag order; an element outside group 0000.
        let cases: [(&[(u32, u16)], Error); 2] = [
            (
                &[
                    (tag::COMMAND_DATA_SET_TYPE, NO_DATA_SET),
                    (tag::COMMAND_FIELD, C_ECHO_RQ),
                ],
                Error::BadOrder,
            ),
            (
                &[(tag::COMMAND_FIELD, C_ECHO_RQ), (0x0008_0016, 1)],
                Error::NotCommandGroup,
            ),
        ];
        for (elements, want) in cases {
            let mut w_buf = [0u8; 64];
            let mut w = CommandWriter::new(&mut w_buf);
            w.begin();
            for &(element, value) in elements {
                w.us(element, value);
            }
            let n = w.finish().unwrap();
            assert_eq!(Command::parse(&w_buf[..n]), Err(want));
        }

        let mut bytes = hex(DCMTK_ECHO_RQ);
        bytes[8] = 0x37; // group length 55 instead of 56
        assert_eq!(Command::parse(&bytes), Err(Error::BadGroupLength));
    }

    #[test]
    fn unknown_elements_are_skipped_and_required_ones_enforced() {
        let mut buf = [0u8; 128];
        let mut w = CommandWriter::new(&mut buf);
        w.begin();
        w.us(tag::COMMAND_FIELD, C_ECHO_RSP);
        w.us(tag::MESSAGE_ID_BEING_RESPONDED_TO, 9);
        w.us(0x0000_0700, 2); // Priority: not used by C-ECHO, still legal
        w.us(tag::COMMAND_DATA_SET_TYPE, NO_DATA_SET);
        w.us(tag::STATUS, 0x0110);
        let n = w.finish().unwrap();
        let cmd = Command::parse(&buf[..n]).unwrap();
        assert_eq!(cmd.status, Some(0x0110));
        assert_eq!(cmd.affected_sop_class, None);

        let mut buf = [0u8; 64];
        let mut w = CommandWriter::new(&mut buf);
        w.begin();
        w.us(tag::COMMAND_FIELD, C_ECHO_RSP);
        let n = w.finish().unwrap();
        assert_eq!(
            Command::parse(&buf[..n]),
            Err(Error::Missing(tag::COMMAND_DATA_SET_TYPE))
        );
    }
}
