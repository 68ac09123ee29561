//! Memory-mapped registers of the LM3S6965 that the firmware touches, and the firmware's only `unsafe` code.
//!
//! Every register is a `Reg` constant defined in this module, at an address taken from the LM3S6965 datasheet (and
//! checked against QEMU's `hw/net/stellaris_enet.c` for the Ethernet MAC). `Reg` cannot be built outside this module,
//! so the volatile accesses below only ever touch those addresses: aligned, 32-bit, device memory that always exists
//! on this chip. Register side effects (FIFO pops on a DATA read) are the callers' business, not memory safety.
#![allow(unsafe_code)]

/// One 32-bit memory-mapped register.
#[derive(Clone, Copy)]
pub(crate) struct Reg(usize);

impl Reg {
    const fn at(addr: usize) -> Self {
        Reg(addr)
    }

    /// Volatile 32-bit read.
    #[inline(always)]
    pub(crate) fn read(self) -> u32 {
        // SAFETY: `self.0` is one of the register addresses below (see module docs): aligned and always mapped.
        unsafe { core::ptr::read_volatile(self.0 as *const u32) }
    }

    /// Volatile 32-bit write.
    #[inline(always)]
    pub(crate) fn write(self, value: u32) {
        // SAFETY: as for `read`; the register is device memory, not memory Rust code holds references to.
        unsafe { core::ptr::write_volatile(self.0 as *mut u32, value) }
    }
}

/// System control: clock gating.
pub(crate) mod sysctl {
    use super::Reg;
    /// Run-mode clock gating control 2 (datasheet 6.4): bit 28 EMAC0, bit 30 EPHY0.
    pub(crate) const RCGC2: Reg = Reg::at(0x400F_E108);
    pub(crate) const RCGC2_EMAC0: u32 = 1 << 28;
    pub(crate) const RCGC2_EPHY0: u32 = 1 << 30;
}

/// Ethernet controller (datasheet chapter 15), base 0x4004_8000.
pub(crate) mod enet {
    use super::Reg;
    const BASE: usize = 0x4004_8000;
    /// Raw interrupt status (read) / interrupt acknowledge (write 1 to clear).
    pub(crate) const RIS_IACK: Reg = Reg::at(BASE);
    /// Interrupt mask (1 = enabled).
    pub(crate) const IM: Reg = Reg::at(BASE + 0x04);
    /// Receive control.
    pub(crate) const RCTL: Reg = Reg::at(BASE + 0x08);
    /// Transmit control.
    pub(crate) const TCTL: Reg = Reg::at(BASE + 0x0C);
    /// Data FIFO: reads pop the RX FIFO, writes push the TX FIFO.
    pub(crate) const DATA: Reg = Reg::at(BASE + 0x10);
    /// Individual address 0: MAC bytes 0..4 (byte 0 in bits 7:0).
    pub(crate) const IA0: Reg = Reg::at(BASE + 0x14);
    /// Individual address 1: MAC bytes 4..6.
    pub(crate) const IA1: Reg = Reg::at(BASE + 0x18);
    /// Transmit threshold (0x3F: off, send only on TR).
    pub(crate) const THR: Reg = Reg::at(BASE + 0x1C);
    /// MII management divider.
    pub(crate) const MDV: Reg = Reg::at(BASE + 0x24);
    /// Number of frames in the RX FIFO.
    pub(crate) const NP: Reg = Reg::at(BASE + 0x34);
    /// Transmission request: write 1 to send the frame in the TX FIFO; reads 1 while sending.
    pub(crate) const TR: Reg = Reg::at(BASE + 0x38);

    pub(crate) const INT_RX: u32 = 0x01;
    pub(crate) const INT_FOV: u32 = 0x08;
    pub(crate) const INT_RXER: u32 = 0x10;
    pub(crate) const INT_ALL: u32 = 0x7F;

    pub(crate) const RCTL_RXEN: u32 = 0x01;
    pub(crate) const RCTL_AMUL: u32 = 0x02;
    pub(crate) const RCTL_BADCRC: u32 = 0x08;
    pub(crate) const RCTL_RSTFIFO: u32 = 0x10;

    pub(crate) const TCTL_TXEN: u32 = 0x01;
    pub(crate) const TCTL_PADEN: u32 = 0x02;
    pub(crate) const TCTL_CRC: u32 = 0x04;
    pub(crate) const TCTL_DUPLEX: u32 = 0x08;

    pub(crate) const TR_NEWTX: u32 = 0x01;
}
