//! TI LM3S6965 (QEMU `lm3s6965evb`): Stellaris Ethernet MAC, core clock after reset.

mod enet;
mod regs;

pub use enet::Enet as Nic;
pub use regs::stack_high_water;

/// Core clock after reset in QEMU's model: 200 MHz / (RCC.SYSDIV 15 + 1) = 12.5 MHz. (On silicon, the reset clock is
/// the 12 MHz internal oscillator, +-30%: a real LM3S6965 board would set up the PLL here first.)
pub const CORE_HZ: u32 = 12_500_000;
