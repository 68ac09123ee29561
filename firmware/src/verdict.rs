//! A target's verdict for the load balancer: HAProxy-style rise/fall over the outcomes of single checks.

use core::fmt::{self, Write};

use echoprobe_core::health::RiseFall;

/// Longest reason text kept (HAProxy shows it in its stats page and logs).
pub const REASON_LEN: usize = 120;

/// What the agent port and `/health/<n>` report for one target.
pub struct Verdict {
    /// Up or down, counted by the core's rise/fall (the host daemon counts with the same type).
    health: RiseFall,
    /// Why it is down (or the last failure while still up).
    reason: heapless::String<REASON_LEN>,
}

impl Verdict {
    /// Down until `rise` good checks in a row: a probe that just booted vouches for nothing. All zero, so a static of
    /// verdicts lands in `.bss`.
    pub const fn new() -> Self {
        Verdict {
            health: RiseFall::new(),
            reason: heapless::String::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.health.is_up()
    }

    /// Whether the last check was good.
    pub fn last_good(&self) -> bool {
        self.health.last_good()
    }

    /// Why it is down (a failed check always gives a reason: empty means none yet).
    pub fn reason(&self) -> &str {
        if self.reason.is_empty() {
            "no check completed yet"
        } else {
            &self.reason
        }
    }

    /// Records one good check; returns true if the verdict changed.
    pub fn good(&mut self, rise: u8) -> bool {
        self.health.good(rise)
    }

    /// Records one failed check and why; returns true if the verdict changed.
    pub fn bad(&mut self, fall: u8, why: fmt::Arguments<'_>) -> bool {
        self.set_reason(why);
        self.health.bad(fall)
    }

    fn set_reason(&mut self, why: fmt::Arguments<'_>) {
        self.reason.clear();
        let _ = Truncating(&mut self.reason).write_fmt(why);
    }

    /// The HAProxy agent-check line: `up\n` or `down #reason\n`.
    pub fn write_agent_line<W: Write>(&self, w: &mut W) -> fmt::Result {
        if self.health.is_up() {
            w.write_str("up\n")
        } else {
            writeln!(w, "down #{}", self.reason())
        }
    }
}

/// Writes what fits, drops the rest, and keeps the text on one line.
struct Truncating<'a, const N: usize>(&'a mut heapless::String<N>);

impl<const N: usize> Write for Truncating<'_, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The core's texts are ASCII; anything else (or a control character) becomes '?'.
        for b in s.bytes() {
            let c = if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            };
            if self.0.push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}
