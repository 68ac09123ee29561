//! Texts without `core::fmt`. The reason texts (a check's [`Outcome`](crate::Outcome) and the errors it carries) are
//! written through a [`Sink`], so a firmware can report them without carrying core's formatting machinery (about
//! 2 KiB of flash). Each of these types' `Display` writes the same text through the same `write_text`: one source for
//! each text.

use core::fmt;

/// Where a text goes: strings, and the number forms the texts use.
pub trait Sink {
    /// Appends `s`.
    fn put(&mut self, s: &str);

    /// Appends `n` in decimal (as `{}`).
    fn dec(&mut self, n: u64) {
        let mut unit = 1u64;
        while n / unit >= 10 {
            unit *= 10;
        }
        loop {
            self.digit((n / unit % 10) as usize);
            if unit == 1 {
                break;
            }
            unit /= 10;
        }
    }

    /// Appends `n` in hexadecimal with at least `width` digits, zero-padded (as `{:0width$x}`, or `X` if `upper`).
    fn hex(&mut self, n: u32, width: usize, upper: bool) {
        let len = (32 - n.leading_zeros()).div_ceil(4).max(1) as usize;
        for i in (0..len.max(width)).rev() {
            let d = n.checked_shr(4 * i as u32).unwrap_or(0) & 0xf;
            self.digit(d as usize + if upper { 16 } else { 0 });
        }
    }

    /// Appends one digit: `0`..`f` for 0..15, `0`..`F` for 16..31 (no `core::fmt`, nor a UTF-8 check of a buffer).
    #[doc(hidden)]
    fn digit(&mut self, d: usize) {
        const DIGITS: &str = "0123456789abcdef0123456789ABCDEF";
        self.put(DIGITS.get(d..d + 1).unwrap_or("?"));
    }
}

/// `<what> too small: <required> bytes required`: the text of every `BufferTooSmall`.
pub(crate) fn too_small(t: &mut dyn Sink, what: &str, required: usize) {
    t.put(what);
    t.put(" too small: ");
    t.dec(required as u64);
    t.put(" bytes required");
}

/// A [`Sink`] over a `Formatter`: what the `Display` impls write through (the first error is kept).
struct Fmt<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    result: fmt::Result,
}

impl Sink for Fmt<'_, '_> {
    fn put(&mut self, s: &str) {
        if self.result.is_ok() {
            self.result = self.f.write_str(s);
        }
    }
}

/// Runs `write` on a sink over `f`: the body of a `Display` impl whose text a `write_text` writes.
pub(crate) fn display(
    f: &mut fmt::Formatter<'_>,
    write: impl FnOnce(&mut dyn Sink),
) -> fmt::Result {
    let mut sink = Fmt { f, result: Ok(()) };
    write(&mut sink);
    sink.result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    impl Sink for String {
        fn put(&mut self, s: &str) {
            self.push_str(s);
        }
    }

    #[test]
    fn test_unexpected_pdu_names_the_type_as_debug_does() {
        use crate::assoc::Violation;
        use crate::wire::PduType;
        for code in 0..=9u8 {
            let p = PduType::from(code);
            let text = std::format!("{}", Violation::UnexpectedPdu(p));
            assert_eq!(text, std::format!("unexpected PDU {p:?}"));
        }
    }

    #[test]
    fn test_texts_with_numbers_as_the_format_strings_wrote_them() {
        use crate::assoc::{self, Violation};
        use crate::{dimse, wire, Outcome};
        let cases: [(&dyn fmt::Display, &str); 9] = [
            (
                &Outcome::FailureStatus {
                    status: 0xA70B,
                    message_id: 7,
                },
                "C-ECHO-RSP status 0xA70B (failure: Failure) for message 7",
            ),
            (
                &Outcome::FailureStatus {
                    status: 0x0110,
                    message_id: 65535,
                },
                "C-ECHO-RSP status 0x0110 (failure: Processing failure) for message 65535",
            ),
            (
                &Violation::UnrecognizedPdu(0x0a),
                "unrecognized PDU type 0x0a",
            ),
            (
                &Violation::UnexpectedCommand {
                    command_field: 0x8fff,
                },
                "unexpected DIMSE command 0x8fff",
            ),
            (
                &Violation::ProtocolVersion(2),
                "unsupported protocol version 0x0002",
            ),
            (
                &Violation::WrongMessageId {
                    expected: 1,
                    got: 300,
                },
                "response to message 300, expected 1",
            ),
            (
                &Violation::BadCommand(dimse::Error::Missing(0x0000_0100)),
                "bad DIMSE command: required command element (0000,0100) missing",
            ),
            (
                &Violation::Malformed(wire::Error::TooLong {
                    length: 70000,
                    max: 16384,
                }),
                "malformed PDU: PDU length 70000 exceeds the maximum of 16384",
            ),
            (
                &assoc::Error::BufferTooSmall { required: 1234 },
                "transmit buffer too small: 1234 bytes required",
            ),
        ];
        for (value, text) in cases {
            assert_eq!(std::format!("{value}"), text);
        }
    }

    #[test]
    fn test_numbers_as_core_fmt_writes_them() {
        for n in [0u64, 7, 10, 99, 4096, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::new();
            s.dec(n);
            assert_eq!(s, std::format!("{n}"));
        }
        for n in [0u32, 0x7, 0xab, 0x1234, 0xFFFF, 0x12345, u32::MAX] {
            for width in [0, 2, 4] {
                let (mut lower, mut upper) = (String::new(), String::new());
                lower.hex(n, width, false);
                upper.hex(n, width, true);
                assert_eq!(lower, std::format!("{n:0width$x}"));
                assert_eq!(upper, std::format!("{n:0width$X}"));
            }
        }
    }
}
