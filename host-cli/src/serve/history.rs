//! A target's live state and its kept checks: the verdict's health, reason and since-when, and the last checks in
//! 12 or 14 bytes each (what the status page and `/api/targets` show of them), the failures kept apart.

use core::time::Duration;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use echoprobe_core::health::RiseFall;

use super::model::CheckRecord;
use crate::exit;

/// What changes as checks finish.
pub(super) struct Live {
    pub(super) health: RiseFall,
    pub(super) reason: String,
    pub(super) since: SystemTime,
    pub(super) exit_code: u8,
    pub(super) checks: u64,
    /// The start of the newest kept check, in Unix milliseconds (the older ones' follow from [`Recent::gap_ms`]).
    newest_ms: u64,
    /// The last checks, oldest first; the newest is check number `checks`.
    recent: Kept,
    /// The ones among them that did not end healthy, by check number (a reason the check before had too is shared).
    failures: VecDeque<Failed>,
    /// A find target's: [`Recent`]'s query slot is the find's (an echo target's: the C-ECHO's).
    find: bool,
}

/// A kept check that did not end healthy: what [`Recent`] leaves out.
#[derive(Debug, Clone)]
struct Failed {
    check: u64,
    exit_code: u8,
    /// Its row of the exit-code table (the result name).
    row: u8,
    reason: Arc<str>,
}

/// One check of a target's history (kept in 12 or 14 bytes in [`Kept`]): when it started, and its durations as
/// [`Micros`] (what the page and the API show of it). Its exit code, result and reason are in [`Live::failures`]
/// when it did not end healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Recent {
    /// Milliseconds from the start of the check before (saturated at `i32`'s range: 24 days, beyond the longest
    /// interval).
    gap_ms: i32,
    /// Total, connect, TLS, associate, the C-ECHO round trip (the daemon's check sends one) or the find query, release.
    times: [Micros; 6],
}

/// A target's kept checks, oldest first, at most `history`: each a [`Recent`] in 14 bytes over TLS and in 12 for a
/// plain target (which has no TLS phase to keep): its gap as its difference from the target's interval in 16 bits
/// (a check starts about an interval after the one before), the times as [`Micros`].
#[derive(Debug)]
struct Kept {
    interval_ms: u32,
    words: Words,
    /// The gaps that differ from the interval by more than 16 bits hold, oldest first (their word is [`Kept::FAR`]).
    far: VecDeque<i32>,
}

#[derive(Debug)]
enum Words {
    /// Gap, total, connect, TLS, associate, query, release.
    Tls(VecDeque<[u16; 7]>),
    /// The same without TLS.
    Plain(VecDeque<[u16; 6]>),
}

impl Kept {
    const FAR: i16 = i16::MIN;

    fn new(tls: bool, interval_ms: u32) -> Kept {
        Kept {
            interval_ms,
            words: if tls {
                Words::Tls(VecDeque::new())
            } else {
                Words::Plain(VecDeque::new())
            },
            far: VecDeque::new(),
        }
    }

    fn len(&self) -> usize {
        match &self.words {
            Words::Tls(k) => k.len(),
            Words::Plain(k) => k.len(),
        }
    }

    /// Keeps `r`, the oldest dropped beyond `history` (room for `history` made at the first).
    fn push(&mut self, r: Recent, history: usize) {
        /// Returns the gap word of the check dropped.
        fn keep<const N: usize>(
            k: &mut VecDeque<[u16; N]>,
            words: [u16; N],
            history: usize,
        ) -> Option<u16> {
            let dropped = if k.len() >= history {
                k.pop_front().map(|w| w[0])
            } else {
                None
            };
            if k.capacity() == 0 {
                k.reserve_exact(history);
            }
            k.push_back(words);
            dropped
        }
        // The oldest's gap is never read: it keeps 0 (the first check's gap, 0, would be far from a long interval).
        let kept_before = if self.len() >= history {
            self.len() - 1
        } else {
            self.len()
        };
        let off = if kept_before == 0 {
            0
        } else {
            i64::from(r.gap_ms) - i64::from(self.interval_ms)
        };
        let gap = match i16::try_from(off) {
            Ok(off) if off != Kept::FAR => off,
            _ => {
                self.far.push_back(r.gap_ms);
                Kept::FAR
            }
        } as u16;
        let [total, connect, tls, associate, query, release] = r.times.map(|m| m.0);
        let dropped = match &mut self.words {
            Words::Tls(k) => keep(
                k,
                [gap, total, connect, tls, associate, query, release],
                history,
            ),
            // A plain check has no TLS phase.
            Words::Plain(k) => keep(k, [gap, total, connect, associate, query, release], history),
        };
        if dropped == Some(Kept::FAR as u16) {
            self.far.pop_front();
        }
    }

    fn iter(&self) -> impl Iterator<Item = Recent> + '_ {
        let mut far = self.far.iter();
        let none = Micros::NONE.0;
        (0..self.len()).filter_map(move |i| {
            let [gap, total, connect, tls, associate, query, release] = match &self.words {
                Words::Tls(k) => *k.get(i)?,
                Words::Plain(k) => {
                    let [gap, total, connect, associate, query, release] = *k.get(i)?;
                    [gap, total, connect, none, associate, query, release]
                }
            };
            let gap_ms = if gap as i16 == Kept::FAR {
                far.next().copied().unwrap_or_default()
            } else {
                let ms = i64::from(self.interval_ms) + i64::from(gap as i16);
                i32::try_from(ms).unwrap_or(i32::MAX)
            };
            Some(Recent {
                gap_ms,
                times: [total, connect, tls, associate, query, release].map(Micros),
            })
        })
    }
}

/// A duration in 16 bits, as a small float of microseconds: exact below 4,096 µs, then 12 significant bits (rounded:
/// at most 1/8192, 0.013 %, off), up to 4,295 s (`u32::MAX` µs; longer is that); [`Micros::NONE`] for a phase not
/// reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Micros(u16);

impl Micros {
    const NONE: Micros = Micros(u16::MAX);
    /// Significand bits stored (the leading one above them is implied once the exponent is above 0).
    const BITS: u32 = 11;

    fn of(d: Option<Duration>) -> Micros {
        let Some(d) = d else { return Micros::NONE };
        let us = u64::try_from(d.as_micros())
            .unwrap_or(u64::MAX)
            .min(u64::from(u32::MAX));
        let top = 1 << Micros::BITS;
        if us < 2 * top {
            // Exponent 0 or 1: the value itself.
            return Micros(us as u16);
        }
        // `us` has `len` bits; keep the top BITS + 1, rounded to nearest.
        let len = u64::BITS - us.leading_zeros();
        let mut shift = len - Micros::BITS - 1;
        let mut m = (us + (1 << (shift - 1))) >> shift;
        if m == 2 * top {
            m = top;
            shift += 1;
        }
        Micros((((shift + 1) << Micros::BITS) as u16) | (m as u16 & (top as u16 - 1)))
    }

    fn get(self) -> Option<Duration> {
        if self == Micros::NONE {
            return None;
        }
        let exponent = u32::from(self.0 >> Micros::BITS);
        let low = u64::from(self.0) & ((1 << Micros::BITS) - 1);
        let us = match exponent {
            0 => low,
            e => (low | 1 << Micros::BITS) << (e - 1),
        };
        Some(Duration::from_micros(us))
    }
}

/// `t` in Unix milliseconds (the API prints milliseconds); 0 before 1970.
fn unix_ms(t: SystemTime) -> u64 {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Recent {
    fn of(r: &CheckRecord, gap_ms: i32, find: bool) -> Recent {
        let tl = &r.timeline;
        let query = if find {
            tl.find
        } else {
            tl.echoes.first().copied()
        };
        Recent {
            gap_ms,
            times: [
                Some(r.total),
                tl.connect,
                tl.tls,
                tl.associate,
                query,
                tl.release,
            ]
            .map(Micros::of),
        }
    }

    /// The check as the page and the API show it: started at `at_ms`, `failed` when it did not end healthy.
    fn record(&self, at_ms: u64, failed: Option<&Failed>, find: bool) -> CheckRecord {
        let [total, connect, tls, associate, query, release] = self.times.map(Micros::get);
        let (exit_code, result, reason) = match failed {
            Some(f) => (
                f.exit_code,
                exit::ROWS
                    .get(usize::from(f.row))
                    .map_or("", |row| row.result),
                f.reason.to_string(),
            ),
            None => (exit::HEALTHY, exit::End::Healthy.result(), String::new()),
        };
        CheckRecord {
            at: std::time::UNIX_EPOCH + Duration::from_millis(at_ms),
            exit_code,
            result,
            reason,
            total: total.unwrap_or_default(),
            timeline: crate::report::Timeline {
                connect,
                tls,
                associate,
                echoes: if find {
                    Vec::new()
                } else {
                    query.into_iter().collect()
                },
                find: if find { query } else { None },
                release,
            },
        }
    }
}

impl Live {
    /// No check yet: down with `reason`; `tls` and `interval_ms` shape the kept checks, `find` says what the query
    /// slot holds.
    pub(super) fn new(reason: &str, tls: bool, interval_ms: u32, find: bool) -> Live {
        Live {
            health: RiseFall::new(),
            reason: reason.to_string(),
            since: SystemTime::now(),
            exit_code: exit::LOCAL,
            checks: 0,
            newest_ms: 0,
            recent: Kept::new(tls, interval_ms),
            failures: VecDeque::new(),
            find,
        }
    }

    /// How many failed checks are kept apart.
    #[cfg(test)]
    pub(super) fn failures_kept(&self) -> usize {
        self.failures.len()
    }

    /// Counts a finished check and keeps it, the oldest beyond `history` dropped.
    pub(super) fn push(&mut self, record: &CheckRecord, history: usize) {
        self.checks += 1;
        if history > 0 {
            let at = unix_ms(record.at);
            let gap = if self.recent.len() == 0 {
                0
            } else {
                let gap = i128::from(at) - i128::from(self.newest_ms);
                i32::try_from(gap).unwrap_or(if gap < 0 { i32::MIN } else { i32::MAX })
            };
            self.newest_ms = at;
            self.recent
                .push(Recent::of(record, gap, self.find), history);
            let healthy = record.exit_code == exit::HEALTHY
                && record.result == exit::End::Healthy.result()
                && record.reason.is_empty();
            if !healthy {
                let reason = match self.failures.back() {
                    Some(last) if *last.reason == *record.reason => last.reason.clone(),
                    _ => Arc::from(record.reason.as_str()),
                };
                let row = exit::ROWS
                    .iter()
                    .position(|row| row.result == record.result)
                    .unwrap_or(0);
                self.failures.push_back(Failed {
                    check: self.checks,
                    exit_code: record.exit_code,
                    row: u8::try_from(row).unwrap_or(0),
                    reason,
                });
            }
        }
        let oldest = self.checks + 1 - self.recent.len() as u64;
        while self.failures.front().is_some_and(|f| f.check < oldest) {
            self.failures.pop_front();
        }
    }

    /// The kept checks, oldest first, as the page and the API show them.
    pub(super) fn records(&self) -> Vec<CheckRecord> {
        let first = self.checks + 1 - self.recent.len() as u64;
        // The oldest's start: the newest's less every later gap.
        let back: i64 = self
            .recent
            .iter()
            .skip(1)
            .map(|r| i64::from(r.gap_ms))
            .sum();
        let mut at = i128::from(self.newest_ms) - i128::from(back);
        let mut failures = self.failures.iter().peekable();
        (first..)
            .zip(self.recent.iter())
            .enumerate()
            .map(|(i, (n, r))| {
                if i > 0 {
                    at += i128::from(r.gap_ms);
                }
                while failures.peek().is_some_and(|f| f.check < n) {
                    failures.next();
                }
                let failed = failures.peek().filter(|f| f.check == n).copied();
                r.record(u64::try_from(at).unwrap_or(0), failed, self.find)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Recent {
        fn without_tls(mut self) -> Recent {
            self.times[2] = Micros::NONE;
            self
        }
    }

    #[test]
    fn a_kept_check_is_small() {
        assert!(
            core::mem::size_of::<Recent>() <= 32,
            "{}",
            core::mem::size_of::<Recent>()
        );
        assert_eq!(core::mem::size_of::<Recent>(), 16);
    }

    #[test]
    fn a_kept_duration_is_exact_below_4096_us_and_within_1_in_4096_above() {
        let back = |us: u64| {
            Micros::of(Some(Duration::from_micros(us)))
                .get()
                .unwrap()
                .as_micros() as u64
        };
        for us in 0..8192 {
            if us < 4096 {
                assert_eq!(back(us), us);
            }
            assert!(back(us).abs_diff(us) * 4096 <= us, "{us} -> {}", back(us));
        }
        let mut us = 8192u64;
        while us < u64::from(u32::MAX) {
            for v in [us - 1, us, us + 1, us + us / 3] {
                let v = v.min(u64::from(u32::MAX));
                assert!(back(v).abs_diff(v) * 4096 <= v, "{v} -> {}", back(v));
            }
            us = us * 3 / 2;
        }
        assert_eq!(back(u64::MAX), 1 << 32, "longer is 4,295 s");
        assert_eq!(Micros::of(None).get(), None);
        assert_ne!(Micros::of(Some(Duration::MAX)), Micros::NONE);
    }

    #[test]
    fn a_tls_target_keeps_its_tls_phase_and_a_plain_one_two_bytes_less() {
        // Gaps near the interval (10 s), a clock stepped back; far from it (kept apart): a day, past the 16-bit edge.
        let gaps = [
            0,
            10_003,
            9_990,
            -5_000,
            86_400_000,
            10_000 - 32_768,
            10_000 + 32_767,
            i32::MIN,
            10_000,
        ];
        // The first check's gap is never read: kept as the interval.
        let r = |i: usize| Recent {
            gap_ms: if i == 0 { 10_000 } else { gaps[i] },
            times: [Some(900 + i), Some(1), Some(2 + i), None, Some(3), Some(4)]
                .map(|us| Micros::of(us.map(|us| Duration::from_micros(us as u64)))),
        };
        let mut tls = Kept::new(true, 10_000);
        let mut plain = Kept::new(false, 10_000);
        for (i, gap) in gaps.iter().enumerate() {
            let mut pushed = r(i);
            pushed.gap_ms = *gap;
            tls.push(pushed, 3);
            plain.push(pushed.without_tls(), 3);
            let from = (i + 1).saturating_sub(3);
            assert_eq!(
                tls.iter().collect::<Vec<_>>(),
                (from..=i).map(r).collect::<Vec<_>>()
            );
            assert_eq!(
                plain.iter().collect::<Vec<_>>(),
                (from..=i).map(|i| r(i).without_tls()).collect::<Vec<_>>()
            );
            assert!(tls.far.len() <= 3 && plain.far.len() <= 3);
            assert_eq!(
                tls.far.len(),
                (from..=i).filter(|j| [4, 5, 7].contains(j)).count()
            );
        }
        assert_eq!(core::mem::size_of::<[u16; 6]>(), 12);
    }
}
