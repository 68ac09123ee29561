//! ST NUCLEO-F429ZI: STM32F429ZI at 168 MHz, its Ethernet MAC with DMA driven by `stm32-eth` (which implements
//! smoltcp's `phy::Device`), LAN8742A PHY on RMII. Logs go out over RTT (defmt-rtt, read by probe-rs).
//! Not run here (no such hardware in CI): built and size-checked only.

use defmt_rtt as _;
use static_cell::{ConstStaticCell, StaticCell};
use stm32_eth::dma::{EthernetDMA, RxRingEntry, TxRingEntry};
use stm32_eth::hal::gpio::GpioExt;
use stm32_eth::hal::rcc::RccExt;
use stm32_eth::hal::signature::Uid;
use stm32_eth::hal::time::Hertz;
use stm32_eth::EthPins;

/// The NIC: stm32-eth's DMA half, a smoltcp `phy::Device`.
pub type Nic = EthernetDMA<'static, 'static>;

/// Core clock set up by `init_nic` (HSE 8 MHz from the ST-LINK, PLL to 168 MHz).
pub const CORE_HZ: u32 = 168_000_000;

/// Descriptor rings (each entry holds one frame buffer): 2 + 2 is enough for one request/response at a time.
static RX_RING: ConstStaticCell<[RxRingEntry; 2]> =
    ConstStaticCell::new([const { RxRingEntry::new() }; 2]);
static TX_RING: ConstStaticCell<[TxRingEntry; 2]> =
    ConstStaticCell::new([const { TxRingEntry::new() }; 2]);
static NIC: StaticCell<Nic> = StaticCell::new();

/// Clocks, RMII pins (NUCLEO-144 wiring), the MAC and its DMA; returns the NIC and a MAC address made from the chip's
/// unique ID (locally administered, unicast).
pub fn init_nic() -> (&'static mut Nic, [u8; 6]) {
    let Some(dp) = stm32_eth::stm32::Peripherals::take() else {
        crate::fatal("device peripherals taken");
    };
    let rcc = dp.RCC.constrain();
    let clocks = rcc
        .cfgr
        .use_hse(Hertz::MHz(8))
        .bypass_hse_oscillator()
        .sysclk(Hertz::MHz(168))
        .hclk(Hertz::MHz(168));
    let clocks = clocks.freeze();
    let gpioa = dp.GPIOA.split();
    let gpiob = dp.GPIOB.split();
    let gpioc = dp.GPIOC.split();
    let gpiog = dp.GPIOG.split();
    let pins = EthPins {
        ref_clk: gpioa.pa1,
        crs: gpioa.pa7,
        tx_en: gpiog.pg11,
        tx_d0: gpiog.pg13,
        tx_d1: gpiob.pb13,
        rx_d0: gpioc.pc4,
        rx_d1: gpioc.pc5,
    };
    let parts = (dp.ETHERNET_MAC, dp.ETHERNET_MMC, dp.ETHERNET_DMA).into();
    let Ok(eth) = stm32_eth::new(
        parts,
        &mut RX_RING.take()[..],
        &mut TX_RING.take()[..],
        clocks,
        pins,
    ) else {
        crate::fatal("ethernet: HCLK below 25 MHz");
    };
    let uid = Uid::get();
    let lot = uid.lot_num().bytes().fold(0u8, |a, b| a.rotate_left(1) ^ b);
    let [x1, x0] = uid.x().to_be_bytes();
    let [y1, y0] = uid.y().to_be_bytes();
    let mac = [0x02, lot, uid.waf_num() ^ x1, x0, y1, y0];
    (NIC.init(eth.dma), mac)
}

/// stm32-eth keeps no counters: `/metrics` shows none.
pub fn nic_counters(_nic: &Nic) -> Option<[u32; 4]> {
    None
}

/// stm32-eth keeps no counters worth a log line.
pub fn log_nic(_nic: &Nic) {}

/// A fatal error on hardware: reset and start over (a probe must come back by itself).
pub fn exit(_ok: bool) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}
