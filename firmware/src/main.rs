//! echoprobe health probe firmware for the TI LM3S6965 (QEMU `lm3s6965evb`).
#![no_std]
#![no_main]
#![deny(unsafe_code)] // only `regs` may opt out

mod clock;
mod config;
mod enet;
mod regs;

use config::PROBE;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use defmt_semihosting as _;
use smoltcp::iface::{Config, Interface, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};
use static_cell::StaticCell;

/// Core clock after reset in QEMU's lm3s6965evb model: 200 MHz / (SYSDIV 15 + 1) = 12.5 MHz.
const CORE_HZ: u32 = 12_500_000;

#[entry]
fn main() -> ! {
    defmt::info!("echoprobe firmware booting");
    let cp = cortex_m::Peripherals::take().unwrap_or_else(|| fatal("core peripherals taken"));
    let mut clock = clock::Clock::start(cp.SYST, CORE_HZ);

    // Big buffers live in statics (counted in .bss, so the RAM budget sees them), not on the stack.
    static ENET: StaticCell<enet::Enet> = StaticCell::new();
    static SOCKETS: StaticCell<[SocketStorage<'static>; 2]> = StaticCell::new();
    static HTTP_BUF: StaticCell<([u8; 512], [u8; 512])> = StaticCell::new();

    let dev = ENET.init_with(enet::Enet::new);
    let mac = dev.mac_address();
    defmt::info!("mac {=[u8]:02x}", mac);

    let mut config = Config::new(EthernetAddress(mac).into());
    config.random_seed =
        u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x5e, 0xed]);
    let mut iface = Interface::new(config, dev, clock.now_smoltcp());
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::v4(192, 0, 2, 15), 24));
    });
    let _ = iface
        .routes_mut()
        .add_default_ipv4_route(Ipv4Address::new(192, 0, 2, 2));

    let mut sockets = SocketSet::new(&mut SOCKETS.init(Default::default())[..]);
    let (http_rx, http_tx) = HTTP_BUF.init(([0; 512], [0; 512]));
    let http = sockets.add(tcp::Socket::new(
        tcp::SocketBuffer::new(&mut http_rx[..]),
        tcp::SocketBuffer::new(&mut http_tx[..]),
    ));
    let mut served = 0u32;

    loop {
        let now = clock.now_smoltcp();
        iface.poll(now, dev, &mut sockets);

        let sock = sockets.get_mut::<tcp::Socket>(http);
        if !sock.is_open() {
            let _ = sock.listen(PROBE.http_port);
        }
        if sock.may_recv() && sock.can_recv() {
            let mut req = [0u8; 256];
            let n = sock.recv_slice(&mut req).unwrap_or(0);
            if req
                .get(..n)
                .is_some_and(|r| r.windows(4).any(|w| w == b"\r\n\r\n"))
            {
                let _ = sock.send_slice(
                    b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
                );
                sock.close();
                served += 1;
                defmt::info!(
                    "http served {=u32} t={=u64}ms stats {}",
                    served,
                    clock.now_micros() / 1000,
                    dev.stats()
                );
            }
        }
        cortex_m::asm::wfi(); // SysTick wakes us every millisecond
    }
}

/// Logs and leaves QEMU with a failure status (on hardware: stops at a breakpoint).
fn fatal(msg: &str) -> ! {
    defmt::error!("fatal: {=str}", msg);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::bkpt();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::bkpt();
    }
}
