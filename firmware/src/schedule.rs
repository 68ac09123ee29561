//! Which target a free check slot takes next: the one most overdue (earliest due first, then the lower index), so
//! that with fewer slots than targets every target still gets its turn and the delay is shared.
//!
//! Pure (only `core`): `tests/metrics-test.sh` builds this file alone for the host and runs its tests.

/// The index of the target to check now: among those no slot holds and that are due at `now` (microseconds), the
/// earliest due. `targets` yields (held by a slot, due at).
pub fn next(targets: impl Iterator<Item = (bool, u64)>, now: u64) -> Option<usize> {
    targets
        .enumerate()
        .filter(|&(_, (held, due))| !held && due <= now)
        .min_by_key(|&(i, (_, due))| (due, i))
        .map(|(i, _)| i)
}

/// Whether a check that started `lag_us` after it was due is late enough to log and count: more than a tenth of
/// its interval.
pub fn late(lag_us: u64, interval_ms: u32) -> bool {
    lag_us > u64::from(interval_ms) * 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_next_earliest_due_first() {
        let t = [
            (false, 50),
            (true, 10),
            (false, 20),
            (false, 20),
            (false, 99),
        ];
        assert_eq!(next(t.iter().copied(), 60), Some(2));
        assert_eq!(next(t.iter().copied(), 19), None);
        assert_eq!(next([(true, 0)].into_iter(), 60), None);
        assert!(late(100_001, 1000) && !late(100_000, 1000));
    }

    /// 16 targets, 2 slots, interval 1 s, all due at boot; checks take 20 ms, one target is silent and holds a slot
    /// for 4 s (its timeouts) each check. Over a simulated minute every target is checked about once per interval plus
    /// its check, and after the first rounds no start is late by more than a tenth of the interval: the silent
    /// target costs one slot, the other serves the rest. (Two silent targets would hold both slots: K must exceed the
    /// number of targets expected dead at once.)
    #[test]
    fn test_two_slots_share_sixteen_targets_fairly() {
        const N: usize = 16;
        let cost = |i: usize| if i == 3 { 4_000_000 } else { 20_000 };
        let mut due = [0u64; N];
        let mut held = [false; N];
        let mut slots: [Option<(usize, u64)>; 2] = [None; 2]; // (target, ends at)
        let mut checks = [0u32; N];
        let mut worst_late = 0u64;
        let mut now = 0u64;
        while now < 60_000_000 {
            for s in &mut slots {
                if let Some((i, end)) = *s {
                    if end <= now {
                        held[i] = false;
                        due[i] = now + 1_000_000;
                        *s = None;
                    }
                }
                if s.is_none() {
                    let ts = held.iter().copied().zip(due.iter().copied());
                    if let Some(i) = next(ts, now) {
                        if now > 10_000_000 {
                            worst_late = worst_late.max(now - due[i]);
                        }
                        held[i] = true;
                        checks[i] += 1;
                        *s = Some((i, now + cost(i)));
                    }
                }
            }
            now += 1_000;
        }
        for (i, &c) in checks.iter().enumerate() {
            let want = if cost(i) > 1_000_000 { 12 } else { 55 };
            assert!(c >= want, "target {i}: {c} checks");
        }
        assert!(!late(worst_late, 1000), "worst lag {worst_late} us");
    }
}
