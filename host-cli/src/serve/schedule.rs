//! When each target's checks start: the first spread over its interval by the target's place among the ones starting
//! together (no thundering herd at start or after a reload), then one interval after the previous planned start, and
//! never before the previous check has ended (a check that overran its interval skips the starts it missed, it does
//! not catch up in a burst). Times are durations since the engine's origin, so the rules are tested with a fake clock.
//!
//! First starts fall on a grid of [`TICK`]: the checks due within the same tick start together, so the runtime
//! wakes once for all of them and their replies tend to arrive in one wake-up too. With 1,000 checks a second a
//! wake-up per check was a tenth of the daemon's CPU (the kernel's epoll wait and task switch); on the grid it is
//! a few percent. An interval that is a multiple of the tick keeps a target on the grid. `/probe` checks that come
//! close together start on the same grid (see `Engine::run_probes`).

use core::time::Duration;

/// The grid of first starts.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// The first instant of the [`TICK`] grid at or after `now`.
pub(crate) fn on_grid(now: Duration) -> Duration {
    let tick = TICK.as_nanos();
    Duration::from_nanos(u64::try_from(now.as_nanos().div_ceil(tick) * tick).unwrap_or(u64::MAX))
}

/// When a `/probe` check that came at `came` starts, given when the one before it came: on the grid (at or after
/// `came`) when that was less than a [`TICK`] before, so that probes coming close together start together; `None`
/// (at once) for a probe with none in the tick before, for which waiting would only add a wake-up.
pub(crate) fn probe_start(previous: Option<Duration>, came: Duration) -> Option<Duration> {
    previous
        .filter(|p| came.saturating_sub(*p) < TICK)
        .map(|_| on_grid(came))
}

/// The first start of the `index`-th of `count` targets starting together, with `interval`: spread evenly over
/// one interval, on the [`TICK`] grid at or after `now`.
pub(crate) fn first_start(
    now: Duration,
    index: usize,
    count: usize,
    interval: Duration,
) -> Duration {
    let count = count.max(1) as u128;
    let index = (index as u128).min(count - 1);
    let tick = TICK.as_nanos();
    let offset = interval.as_nanos() * index / count / tick * tick;
    on_grid(now).saturating_add(Duration::from_nanos(
        u64::try_from(offset).unwrap_or(u64::MAX),
    ))
}

/// The start after a check planned at `planned` that ended at `ended`: `planned + interval`, or the first later
/// multiple of the interval after `ended` if the check ran past it.
pub(crate) fn next_start(planned: Duration, interval: Duration, ended: Duration) -> Duration {
    let interval = interval.max(Duration::from_millis(1));
    let next = planned + interval;
    if next > ended {
        return next;
    }
    let behind = (ended - planned).as_nanos();
    let steps = behind / interval.as_nanos() + 1;
    planned + Duration::from_nanos(u64::try_from(interval.as_nanos() * steps).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn starts_are_spread_over_the_interval() {
        let interval = 1000 * MS;
        let starts: Vec<Duration> = (0..4)
            .map(|i| first_start(5 * MS, i, 4, interval))
            .collect();
        assert_eq!(
            starts,
            vec![10 * MS, 260 * MS, 510 * MS, 760 * MS],
            "on the grid at or after now"
        );
        let starts: Vec<Duration> = (0..4)
            .map(|i| first_start(20 * MS, i, 4, 30 * MS))
            .collect();
        assert_eq!(starts, vec![20 * MS, 20 * MS, 30 * MS, 40 * MS]);
        // 10,000 targets over 10 s: all inside one interval, in order, every tick used, 10 in each.
        let n = 10_000;
        let mut per_tick = std::collections::BTreeMap::new();
        let mut last = Duration::ZERO;
        for i in 0..n {
            let s = first_start(Duration::ZERO, i, n, 10_000 * MS);
            assert!(s < 10_000 * MS);
            assert!(s >= last);
            assert_eq!(s.as_nanos() % TICK.as_nanos(), 0, "on the grid");
            *per_tick.entry(s).or_insert(0) += 1;
            last = s;
        }
        assert_eq!(per_tick.len(), 1000);
        assert!(per_tick.values().all(|&c| c == 10));
        assert_eq!(
            first_start(MS, 0, 0, interval),
            10 * MS,
            "no division by zero"
        );
        assert_eq!(on_grid(Duration::ZERO), Duration::ZERO);
        assert_eq!(on_grid(Duration::from_nanos(1)), 10 * MS);
        assert_eq!(
            on_grid(10 * MS),
            10 * MS,
            "an instant on the grid is its own"
        );
        assert_eq!(
            on_grid(Duration::MAX),
            Duration::from_nanos(u64::MAX),
            "no overflow"
        );
    }

    #[test]
    fn probes_close_together_start_on_the_grid_and_a_lone_one_at_once() {
        assert_eq!(probe_start(None, 1003 * MS), None, "the first probe");
        assert_eq!(probe_start(Some(995 * MS), 1003 * MS), Some(1010 * MS));
        assert_eq!(probe_start(Some(1003 * MS), 1003 * MS), Some(1010 * MS));
        assert_eq!(
            probe_start(Some(990 * MS), 1000 * MS),
            None,
            "a tick apart: none in the tick before"
        );
        assert_eq!(probe_start(Some(500 * MS), 1003 * MS), None);
        assert_eq!(
            probe_start(Some(995 * MS), 1000 * MS),
            Some(1000 * MS),
            "on the grid already: no wait"
        );
    }

    #[test]
    fn the_next_start_keeps_the_rhythm_and_never_overlaps() {
        let interval = 100 * MS;
        // A quick check: one interval after the planned start.
        assert_eq!(next_start(1000 * MS, interval, 1020 * MS), 1100 * MS);
        // Ended exactly at the next start: the one after (never at the end instant of the previous check).
        assert_eq!(next_start(1000 * MS, interval, 1100 * MS), 1200 * MS);
        // A check that took 2.5 intervals: the next start is after its end, on the rhythm.
        assert_eq!(next_start(1000 * MS, interval, 1250 * MS), 1300 * MS);
        // A fake clock running a target whose checks take 130 ms against a 100 ms interval.
        let (mut planned, mut starts) = (Duration::ZERO, Vec::new());
        for _ in 0..5 {
            starts.push(planned);
            let ended = planned + 130 * MS;
            planned = next_start(planned, interval, ended);
            assert!(
                planned > ended,
                "the next check starts after this one ended"
            );
        }
        assert_eq!(
            starts,
            vec![Duration::ZERO, 200 * MS, 400 * MS, 600 * MS, 800 * MS]
        );
    }
}
