//! The `-d` PDU dumps: a byte stream cut into PDUs by the core's framing, each hex dumped DCMTK-like.

use echoprobe_core::wire::{frame, PduType, Status};

/// PDU hex dumps of one connection, both directions (also used by the TLS transport, on the plaintext).
#[derive(Debug)]
pub(crate) struct Dumps {
    prefix: String,
    sent: PduDump,
    received: PduDump,
}

impl Dumps {
    /// Dumps with `prefix` on each line.
    pub(crate) fn new(prefix: String) -> Self {
        Dumps {
            prefix,
            sent: PduDump::new("sent"),
            received: PduDump::new("received"),
        }
    }

    /// Bytes we sent.
    pub(crate) fn sent(&mut self, data: &[u8]) {
        self.sent.feed(&self.prefix, data);
    }

    /// Bytes we received.
    pub(crate) fn received(&mut self, data: &[u8]) {
        self.received.feed(&self.prefix, data);
    }
}

/// Cuts a byte stream into PDUs (6-byte header: type, reserved, 32-bit big-endian length) and hex dumps each.
#[derive(Debug)]
struct PduDump {
    direction: &'static str,
    pending: Vec<u8>,
}

/// Bytes of one PDU shown in a dump; the rest is summarized.
const DUMP_LIMIT: usize = 1024;

impl PduDump {
    fn new(direction: &'static str) -> Self {
        PduDump {
            direction,
            pending: Vec::new(),
        }
    }

    fn feed(&mut self, prefix: &str, data: &[u8]) {
        self.pending.extend_from_slice(data);
        let mut out = String::new();
        while let Some(total) = pdu_len(&self.pending) {
            let pdu: Vec<u8> = self.pending.drain(..total).collect();
            out.push_str(&hex_dump(prefix, self.direction, &pdu));
        }
        // Never hold more than one maximum-size PDU plus a header of garbage.
        if self.pending.len() > 1 << 20 {
            self.pending.clear();
        }
        if !out.is_empty() {
            crate::log::debug_block(&out);
        }
    }
}

/// The length of the complete PDU at the start of `buf`, header included; None while it is partial.
fn pdu_len(buf: &[u8]) -> Option<usize> {
    match frame(buf, u32::MAX) {
        Ok(Status::Complete(total)) => Some(total),
        Ok(Status::Partial) | Err(_) => None,
    }
}

/// The name of a PDU type (PS3.8 9.3), as the dumps have always said it.
fn pdu_name(t: PduType) -> String {
    match t {
        PduType::Unknown(_) => "unknown PDU".to_string(),
        known => known.to_string(),
    }
}

/// A DCMTK-like dump: a title line, then 16 bytes per line.
pub(crate) fn hex_dump(prefix: &str, direction: &str, pdu: &[u8]) -> String {
    use core::fmt::Write as _;
    let t = pdu.first().copied().unwrap_or(0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{prefix}{direction} {} (type 0x{t:02x}), PDU length {} + 6 bytes header",
        pdu_name(PduType::from(t)),
        pdu.len().saturating_sub(6)
    );
    for line in pdu.chunks(16).take(DUMP_LIMIT / 16) {
        let _ = write!(s, "{prefix} ");
        for b in line {
            let _ = write!(s, " {b:02x}");
        }
        s.push('\n');
    }
    if pdu.len() > DUMP_LIMIT {
        let _ = writeln!(s, "{prefix}  ... {} more bytes", pdu.len() - DUMP_LIMIT);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_format() {
        let rp = [0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0];
        assert_eq!(
            hex_dump("D: ", "received", &rp),
            "D: received A-RELEASE-RP (type 0x06), PDU length 4 + 6 bytes header\nD:   06 00 00 00 00 04 00 00 00 00\n"
        );
        assert_eq!(pdu_len(&rp), Some(10));
        assert_eq!(pdu_len(&rp[..5]), None);
        assert_eq!(pdu_len(&rp[..9]), None);
        assert_eq!(
            hex_dump("", "sent", &[0x09, 0, 0, 0, 0, 0]),
            "sent unknown PDU (type 0x09), PDU length 0 + 6 bytes header\n  09 00 00 00 00 00\n"
        );
    }
}
