//! A target's verdict for the load balancer: HAProxy-style rise/fall over the outcomes of single checks.

use echoprobe_core::health::RiseFall;
use echoprobe_core::text::Sink;

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

    /// Records one failed check and why (`why` writes the reason, the core's texts without `core::fmt`); returns true
    /// if the verdict changed.
    pub fn bad(&mut self, fall: u8, why: impl FnOnce(&mut dyn Sink)) -> bool {
        self.reason.clear();
        why(&mut Truncating(&mut self.reason));
        self.health.bad(fall)
    }
}

/// A line of text (agent line, HTTP answer) built without `core::fmt`: a piece that does not fit is left out.
pub struct Line<'a, const N: usize>(pub &'a mut heapless::String<N>);

impl<const N: usize> Sink for Line<'_, N> {
    fn put(&mut self, s: &str) {
        let _ = self.0.push_str(s);
    }
}

/// The HAProxy agent-check line: `up\n` or `down #reason\n` (`why`: the reason, None when up).
pub fn agent_line(why: Option<&str>, w: &mut dyn Sink) {
    match why {
        None => w.put("up\n"),
        Some(why) => {
            w.put("down #");
            w.put(why);
            w.put("\n");
        }
    }
}

/// Writes what fits, drops the rest, and keeps the text on one line.
struct Truncating<'a, const N: usize>(&'a mut heapless::String<N>);

impl<const N: usize> Sink for Truncating<'_, N> {
    fn put(&mut self, s: &str) {
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
    }
}
