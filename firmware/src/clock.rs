//! Monotonic clock from SysTick: a 1 kHz tick counted in the exception handler, plus the sub-millisecond part read
//! from the SysTick counter. Gives `echoprobe_core::time::Instant` (microseconds since boot). SysTick exists on every
//! Cortex-M, so this is shared by all boards; the board only says how fast the core runs.

use core::cell::Cell;
use core::future::{poll_fn, Future};
use core::sync::atomic::{AtomicU32, Ordering};
use core::task::Poll;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;
use echoprobe_core::io::asynch;
use echoprobe_core::time::Instant;

/// Milliseconds since `Clock::start`, wrapping after ~49.7 days (extended to 64 bits in `Clock::now`).
static MILLIS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    // Single writer (this handler); Cortex-M3 has no 64-bit atomics, hence the 32-bit counter.
    MILLIS.store(
        MILLIS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}

/// The running clock. Owned by the probe loop; `&self` methods (single thread, `Cell`s).
pub struct Clock {
    _syst: SYST,
    ticks_per_ms: u32,
    /// Wraps of the 32-bit millisecond counter seen so far, and its last value (to notice the next wrap).
    epochs: Cell<u64>,
    last_ms: Cell<u32>,
    last_us: Cell<u64>,
}

impl Clock {
    /// Starts SysTick on the core clock (`core_hz`) with a 1 ms period and its exception enabled.
    pub fn start(mut syst: SYST, core_hz: u32) -> Self {
        let ticks_per_ms = core_hz / 1000;
        syst.disable_counter();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(ticks_per_ms - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Clock {
            _syst: syst,
            ticks_per_ms,
            epochs: Cell::new(0),
            last_ms: Cell::new(0),
            last_us: Cell::new(0),
        }
    }

    /// Microseconds since `start`, never going backwards. Call from thread mode with interrupts enabled: the tick
    /// handler must be able to run between the two reads of the millisecond counter.
    pub fn now_micros(&self) -> u64 {
        let (ms, cvr) = loop {
            let before = MILLIS.load(Ordering::Acquire);
            let cvr = SYST::get_current();
            if MILLIS.load(Ordering::Acquire) == before {
                break (before, cvr);
            }
            // A tick came in between: read again.
        };
        if ms < self.last_ms.get() {
            self.epochs.set(self.epochs.get() + 1);
        }
        self.last_ms.set(ms);
        // SysTick counts down from ticks_per_ms - 1 to 0.
        let elapsed = self.ticks_per_ms.saturating_sub(1).saturating_sub(cvr);
        // In u32 (elapsed < ticks_per_ms, so elapsed * 1000 fits below 4.29 GHz cores): no 64-bit division here.
        let sub_us = elapsed * 1000 / self.ticks_per_ms.max(1);
        let us = ((self.epochs.get() << 32) + u64::from(ms)) * 1000 + u64::from(sub_us);
        // A tick still pending while the counter already reloaded would read up to 1 ms early: never go back.
        let us = us.max(self.last_us.get());
        self.last_us.set(us);
        us
    }

    /// Now, as the protocol core counts time.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.now_micros())
    }

    /// Now, as smoltcp counts time.
    pub fn now_smoltcp(&self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_micros(i64::try_from(self.now_micros()).unwrap_or(i64::MAX))
    }

    /// Resolves at `at` (polled by the probe loop: no interrupt wakes it, the loop polls every millisecond).
    pub fn sleep_until(&self, at: Instant) -> impl Future<Output = ()> + '_ {
        poll_fn(move |_| {
            if self.now() >= at {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

impl asynch::Clock for Clock {
    fn now(&self) -> Instant {
        Clock::now(self)
    }
    fn sleep_until(&self, at: Instant) -> impl Future<Output = ()> {
        Clock::sleep_until(self, at)
    }
}
