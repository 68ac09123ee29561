//! TI LM3S6965 (QEMU `lm3s6965evb`): Stellaris Ethernet MAC, core clock after reset, logs over semihosting.

mod enet;
mod regs;

use cortex_m_semihosting::debug;
use defmt_semihosting as _;
use static_cell::StaticCell;

pub use enet::Enet as Nic;

/// Core clock after reset in QEMU's model: 200 MHz / (RCC.SYSDIV 15 + 1) = 12.5 MHz. (On silicon, the reset clock is
/// the 12 MHz internal oscillator, +-30%: a real LM3S6965 board would set up the PLL here first.)
pub const CORE_HZ: u32 = 12_500_000;

static NIC: StaticCell<Nic> = StaticCell::new();

/// Brings the MAC up; returns it with the MAC address the chip holds (QEMU: `-nic ...,mac=`, default 52:54:00:12:34:56).
pub fn init_nic() -> (&'static mut Nic, [u8; 6]) {
    let nic = NIC.init_with(Nic::new);
    let mac = nic.mac_address();
    (nic, mac)
}

/// The MAC's counters for `/metrics`: frames received, sent, dropped, RX FIFO overruns.
pub fn nic_counters(nic: &Nic) -> Option<[u32; 4]> {
    let s = nic.stats();
    Some([s.rx_frames, s.tx_frames, s.rx_dropped, s.rx_overruns])
}

/// Logs the MAC's counters.
pub fn log_nic(nic: &Nic) {
    defmt::info!("nic {}", nic.stats());
}

/// Ends the run: leaves QEMU with the status (semihosting), or stops at a breakpoint on hardware.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::bkpt();
    }
}
