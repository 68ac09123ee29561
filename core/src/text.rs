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
        let mut digits = [0u8; 20];
        let mut len = 0;
        let mut n = n;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.digits(&digits, len);
    }

    /// Appends `n` in hexadecimal with at least `width` digits, zero-padded (as `{:0width$x}`, or `X` if `upper`).
    fn hex(&mut self, n: u32, width: usize, upper: bool) {
        let alphabet: &[u8; 16] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut digits = [b'0'; 8];
        let mut len = 0;
        let mut n = n;
        for d in digits.iter_mut().rev() {
            *d = alphabet.get((n & 0xf) as usize).copied().unwrap_or(b'0');
            len += 1;
            n >>= 4;
            if n == 0 && len >= width {
                break;
            }
        }
        self.digits(&digits, len);
    }

    /// Appends the last `len` bytes of `digits` (ASCII).
    #[doc(hidden)]
    fn digits(&mut self, digits: &[u8], len: usize) {
        let start = digits.len().saturating_sub(len);
        if let Some(Ok(s)) = digits.get(start..).map(core::str::from_utf8) {
            self.put(s);
        }
    }
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
