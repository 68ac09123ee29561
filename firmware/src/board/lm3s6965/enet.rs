//! Polled driver for the Stellaris (LM3S6965) Ethernet MAC, as a smoltcp `phy::Device`.
//!
//! FIFO framing (datasheet 15.3; QEMU `stellaris_enet.c` does the same):
//! - RX: the first 32-bit word read holds a 16-bit length (low half) = 2 (the length itself) + frame + 4 (FCS), and
//!   the frame's first two bytes (high half); then the rest of the frame and the FCS, little-endian, padded to a word.
//! - TX: the first word written holds the payload length (frame minus the 14-byte Ethernet header) in the low half and
//!   the frame's first two bytes in the high half; then the rest of the frame; then TR = 1 sends it (THR = 0x3F, so the
//!   MAC never starts on its own). The MAC pads short frames and appends the FCS.

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use super::regs::{enet as r, sysctl};

/// Largest Ethernet frame we send or accept, without FCS: 14 + 576, the IPv4 datagram every host must accept
/// (RFC 791), so TCP peers send segments of at most 536 bytes (our MSS). The probe's socket buffers are 512 bytes or
/// less anyway, and a DHCP message (576 bytes with its IP and UDP headers, RFC 2131) fits. Two frame buffers of 1514
/// would cost 1.8 KB more RAM for nothing.
pub const MAX_FRAME: usize = 14 + 576;
const HEADER: usize = 14;

/// Counters for logs and tests.
#[derive(Clone, Copy, Default, defmt::Format)]
pub struct Stats {
    pub rx_frames: u32,
    pub tx_frames: u32,
    pub rx_dropped: u32,
    pub rx_overruns: u32,
}

/// The MAC, owned by the probe loop.
pub struct Enet {
    rx_buf: [u8; MAX_FRAME],
    tx_buf: [u8; MAX_FRAME],
    stats: Stats,
}

impl Enet {
    /// Powers the MAC and PHY, resets the RX FIFO, enables RX and TX with padding, CRC and full duplex, masks every
    /// interrupt (we poll). Call once.
    pub fn new() -> Self {
        sysctl::RCGC2.write(sysctl::RCGC2.read() | sysctl::RCGC2_EMAC0 | sysctl::RCGC2_EPHY0);
        r::IM.write(0);
        r::RIS_IACK.write(r::INT_ALL);
        // MII clock: 2.5 MHz max; the datasheet formula gives 0x0B at 50 MHz, more than enough below that.
        r::MDV.write(0x0B);
        r::THR.write(0x3F);
        r::RCTL.write(r::RCTL_RSTFIFO);
        r::RCTL.write(r::RCTL_RXEN | r::RCTL_AMUL | r::RCTL_BADCRC | r::RCTL_RSTFIFO);
        r::TCTL.write(r::TCTL_TXEN | r::TCTL_PADEN | r::TCTL_CRC | r::TCTL_DUPLEX);
        Enet {
            rx_buf: [0; MAX_FRAME],
            tx_buf: [0; MAX_FRAME],
            stats: Stats::default(),
        }
    }

    /// The MAC address the chip holds (QEMU: `-nic ...,mac=`; real boards: programmed at boot from USER0/USER1).
    pub fn mac_address(&self) -> [u8; 6] {
        let a = r::IA0.read().to_le_bytes();
        let b = r::IA1.read().to_le_bytes();
        [a[0], a[1], a[2], a[3], b[0], b[1]]
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Pops one frame from the RX FIFO into `rx_buf`; returns its length without FCS, or None if there was none or it
    /// had to be dropped (too long / malformed).
    fn pop_frame(&mut self) -> Option<usize> {
        let ris = r::RIS_IACK.read();
        if ris & (r::INT_FOV | r::INT_RXER) != 0 {
            self.stats.rx_overruns += 1;
            r::RIS_IACK.write(r::INT_FOV | r::INT_RXER);
        }
        if r::NP.read() == 0 {
            return None;
        }
        let first = r::DATA.read();
        let total = (first & 0xFFFF) as usize; // 2 + frame + 4
        let words = total.div_ceil(4);
        let frame_len = total.saturating_sub(6);
        let fits = total >= 6 + HEADER && frame_len <= MAX_FRAME;
        // Bytes of the FIFO stream (length prefix included) at stream offsets 4*i .. 4*i+4.
        let put = |buf: &mut [u8; MAX_FRAME], word: u32, at: usize| {
            for (k, byte) in word.to_le_bytes().into_iter().enumerate() {
                // Stream offset at+k carries frame byte at+k-2; the FCS and padding fall past frame_len.
                if let Some(i) = (at + k).checked_sub(2) {
                    if i < frame_len {
                        if let Some(slot) = buf.get_mut(i) {
                            *slot = byte;
                        }
                    }
                }
            }
        };
        if fits {
            put(&mut self.rx_buf, first, 0);
        }
        for w in 1..words {
            let word = r::DATA.read();
            if fits {
                put(&mut self.rx_buf, word, 4 * w);
            }
        }
        r::RIS_IACK.write(r::INT_RX);
        if fits {
            self.stats.rx_frames += 1;
            Some(frame_len)
        } else {
            self.stats.rx_dropped += 1;
            None
        }
    }
}

impl phy::Device for Enet {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        if r::TR.read() & r::TR_NEWTX != 0 {
            return None; // keep the frame for when a reply can go out too
        }
        let len = self.pop_frame()?;
        let stats = &mut self.stats;
        let rx = self.rx_buf.get(..len)?;
        Some((
            RxToken { frame: rx },
            TxToken {
                buf: &mut self.tx_buf,
                stats,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        if r::TR.read() & r::TR_NEWTX != 0 {
            return None; // previous frame still being sent
        }
        Some(TxToken {
            buf: &mut self.tx_buf,
            stats: &mut self.stats,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(1);
        caps
    }
}

pub struct RxToken<'a> {
    frame: &'a [u8],
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

pub struct TxToken<'a> {
    buf: &'a mut [u8; MAX_FRAME],
    stats: &'a mut Stats,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MAX_FRAME);
        let frame = &mut self.buf[..len];
        let result = f(frame);
        if len >= HEADER {
            push_frame(frame);
            self.stats.tx_frames += 1;
        }
        result
    }
}

/// Writes one frame into the TX FIFO and starts its transmission.
fn push_frame(frame: &[u8]) {
    let payload = (frame.len() - HEADER) as u32;
    let b = |i: usize| u32::from(frame.get(i).copied().unwrap_or(0));
    r::DATA.write(payload | b(0) << 16 | b(1) << 24);
    let mut i = 2;
    while i < frame.len() {
        r::DATA.write(b(i) | b(i + 1) << 8 | b(i + 2) << 16 | b(i + 3) << 24);
        i += 4;
    }
    r::TR.write(r::TR_NEWTX);
}
