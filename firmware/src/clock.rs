//! Monotonic clock from SysTick: a 1 kHz tick counted in an exception handler, plus the sub-millisecond part read from
//! the SysTick counter. Gives `echoprobe_core::time::Instant`-style microseconds since boot.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;

/// Milliseconds since `Clock::start`, wrapping after ~49.7 days (extended to 64 bits by `Clock::now_micros`).
static MILLIS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    // Single writer (this handler); Cortex-M3 has no 64-bit atomics, hence the 32-bit counter.
    MILLIS.store(
        MILLIS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}

/// The running clock. Owned by the (single) probe loop.
pub struct Clock {
    #[allow(dead_code)] // kept: owning SYST is what makes this the only SysTick user
    syst: SYST,
    ticks_per_ms: u32,
    /// High bits for the 32-bit millisecond counter, and its last value seen (to notice the wrap).
    epochs: u64,
    last_ms: u32,
    last_us: u64,
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
            syst,
            ticks_per_ms,
            epochs: 0,
            last_ms: 0,
            last_us: 0,
        }
    }

    /// Microseconds since `start`, never going backwards. Call from thread mode with interrupts enabled: the tick
    /// handler must be able to run between the two reads of the millisecond counter.
    pub fn now_micros(&mut self) -> u64 {
        let (ms, cvr) = loop {
            let before = MILLIS.load(Ordering::Acquire);
            let cvr = SYST::get_current();
            if MILLIS.load(Ordering::Acquire) == before {
                break (before, cvr);
            }
            // A tick came in between: read again.
        };
        if ms < self.last_ms {
            self.epochs += 1 << 32;
        }
        self.last_ms = ms;
        // SysTick counts down from ticks_per_ms - 1 to 0.
        let elapsed = self.ticks_per_ms.saturating_sub(1).saturating_sub(cvr);
        let sub_us = u64::from(elapsed) * 1000 / u64::from(self.ticks_per_ms.max(1));
        let us = (self.epochs + u64::from(ms)) * 1000 + sub_us;
        // A tick still pending while the counter already reloaded would read ~1 ms early: never go back.
        self.last_us = self.last_us.max(us);
        self.last_us
    }

    /// Now, as smoltcp counts time.
    pub fn now_smoltcp(&mut self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_micros(self.now_micros() as i64)
    }
}
