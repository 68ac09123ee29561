//! Printing by verbosity. Progress and diagnostics go to stderr with DCMTK's level letters (`I:`, `D:`), so stdout
//! carries only the result (summary line or JSON); warnings and errors are prefixed by the program name.

use core::fmt::Display;
use std::io::Write as _;

use crate::args::Verbosity;

/// Where and how much to print.
#[derive(Debug, Clone)]
pub(crate) struct Log {
    /// The program name for warnings and errors.
    pub(crate) prog: String,
    /// How much.
    pub(crate) verbosity: Verbosity,
    /// Put before `I:`/`D:` lines (e.g. `scp: ` in the demo).
    pub(crate) tag: String,
}

impl Log {
    /// A log for `prog` at `verbosity`.
    pub(crate) fn new(prog: &str, verbosity: Verbosity) -> Self {
        Log {
            prog: prog.to_string(),
            verbosity,
            tag: String::new(),
        }
    }

    /// The same log with `tag` in front of its progress lines.
    pub(crate) fn tagged(&self, tag: &str) -> Self {
        Log {
            tag: tag.to_string(),
            ..self.clone()
        }
    }

    /// Whether `-v` (or more) is on.
    pub(crate) fn verbose(&self) -> bool {
        self.verbosity >= Verbosity::Verbose
    }

    /// Whether `-d` is on.
    pub(crate) fn debug_on(&self) -> bool {
        self.verbosity >= Verbosity::Debug
    }

    /// A progress line (`-v`).
    pub(crate) fn info(&self, msg: impl Display) {
        if self.verbose() {
            stderr_line(format_args!("{}I: {msg}", self.tag));
        }
    }

    /// A debug line (`-d`).
    pub(crate) fn debug(&self, msg: impl Display) {
        if self.debug_on() {
            stderr_line(format_args!("{}D: {msg}", self.tag));
        }
    }

    /// A warning (not with `-q`).
    pub(crate) fn warn(&self, msg: impl Display) {
        if self.verbosity >= Verbosity::Normal {
            stderr_line(format_args!("{}: {}warning: {msg}", self.prog, self.tag));
        }
    }

    /// An error: always printed, even with `-q` (as DCMTK prints fatal errors with `-q`).
    pub(crate) fn error(&self, msg: impl Display) {
        stderr_line(format_args!("{}: {}{msg}", self.prog, self.tag));
    }

    /// The prefix for PDU dumps, if `-d` is on.
    pub(crate) fn dump_prefix(&self) -> Option<String> {
        self.debug_on().then(|| format!("{}D: ", self.tag))
    }
}

/// One line on stdout, flushed; a closed stdout is ignored (a health check must not panic on `| head`).
pub(crate) fn stdout_line(line: core::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// One line on stderr; errors ignored.
pub(crate) fn stderr_line(line: core::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Milliseconds with 3 decimals below 10 ms, 1 decimal above: `0.412 ms`, `12.5 ms`.
pub(crate) fn ms(d: core::time::Duration) -> String {
    let us = d.as_micros();
    if us < 10_000 {
        format!("{}.{:03} ms", us / 1000, us % 1000)
    } else {
        format!("{}.{} ms", us / 1000, (us % 1000) / 100)
    }
}

/// A core duration as milliseconds, like [`ms`].
pub(crate) fn core_ms(d: echoprobe_core::time::Duration) -> String {
    ms(core::time::Duration::from_micros(d.as_micros()))
}

/// A JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis() {
        assert_eq!(ms(core::time::Duration::from_micros(412)), "0.412 ms");
        assert_eq!(ms(core::time::Duration::from_micros(1_900)), "1.900 ms");
        assert_eq!(ms(core::time::Duration::from_micros(12_549)), "12.5 ms");
        assert_eq!(ms(core::time::Duration::from_secs(2)), "2000.0 ms");
    }

    #[test]
    fn json_strings() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
