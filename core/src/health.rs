//! A target's published health over single checks, with HAProxy's rise/fall semantics: it starts down, turns up
//! after `rise` good checks in a row and down after `fall` bad ones in a row. The probe firmware and the host
//! daemon count with this one type.

/// The rise/fall counter of one target. Tiny and `Copy`: two counters and a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RiseFall {
    up: bool,
    /// Consecutive good / bad checks in the current run (saturating).
    good: u8,
    bad: u8,
}

impl RiseFall {
    /// Down, with no check counted: a prober that just started vouches for nothing.
    pub const fn new() -> Self {
        RiseFall {
            up: false,
            good: 0,
            bad: 0,
        }
    }

    /// Whether the target is up.
    pub const fn is_up(&self) -> bool {
        self.up
    }

    /// Whether the last check counted was good.
    pub const fn last_good(&self) -> bool {
        self.good > 0
    }

    /// Counts one good check; returns true if this turned the target up (after `rise` in a row; `rise` 0 acts
    /// as 1).
    pub fn good(&mut self, rise: u8) -> bool {
        self.bad = 0;
        self.good = self.good.saturating_add(1);
        if !self.up && self.good >= rise {
            self.up = true;
            return true;
        }
        false
    }

    /// Counts one bad check; returns true if this turned the target down (after `fall` in a row; `fall` 0 acts
    /// as 1).
    pub fn bad(&mut self, fall: u8) -> bool {
        self.good = 0;
        self.bad = self.bad.saturating_add(1);
        if self.up && self.bad >= fall {
            self.up = false;
            return true;
        }
        false
    }

    /// Counts one check, good or bad, with the target's `rise` and `fall`; returns true if the state changed.
    pub fn record(&mut self, good: bool, rise: u8, fall: u8) -> bool {
        if good {
            self.good(rise)
        } else {
            self.bad(fall)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_down() {
        let h = RiseFall::new();
        assert!(!h.is_up());
        assert!(!h.last_good());
        assert_eq!(h, RiseFall::default());
    }

    #[test]
    fn rises_after_rise_good_in_a_row() {
        let mut h = RiseFall::new();
        assert!(!h.good(3));
        assert!(!h.good(3));
        assert!(h.good(3), "third good check turns it up");
        assert!(h.is_up());
        assert!(!h.good(3), "already up: no change");
    }

    #[test]
    fn a_bad_check_restarts_the_rise() {
        let mut h = RiseFall::new();
        h.good(2);
        assert!(!h.bad(2));
        assert!(!h.is_up());
        assert!(!h.good(2));
        assert!(h.good(2));
    }

    #[test]
    fn falls_after_fall_bad_in_a_row() {
        let mut h = RiseFall::new();
        assert!(h.good(1));
        assert!(!h.bad(2));
        assert!(h.is_up(), "one bad of two keeps it up");
        assert!(!h.last_good());
        assert!(!h.good(2));
        assert!(!h.bad(2), "the good check reset the bad run");
        assert!(h.bad(2));
        assert!(!h.is_up());
        assert!(!h.bad(2), "already down: no change");
    }

    #[test]
    fn zero_acts_as_one_and_counters_saturate() {
        let mut h = RiseFall::new();
        assert!(h.good(0));
        assert!(h.bad(0));
        for _ in 0..1000 {
            h.bad(255);
        }
        assert!(h.record(true, 1, 1));
        assert!(!h.record(true, 1, 1));
        assert!(h.record(false, 1, 1));
    }
}
