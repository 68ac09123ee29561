//! echoprobe health probe firmware: C-ECHOes the configured DICOM nodes with the echoprobe-core requestor, tells a load
//! balancer what it saw (HAProxy agent-check, `GET /health/<n>`), and answers C-ECHO itself.
//!
//! One thread, no interrupts but SysTick, no blocking: `main` polls one future that joins the network task (smoltcp
//! poll + the agent and HTTP servers), one check task per target and the SCP task. The network task sleeps (WFI) until
//! the next millisecond tick once per round.
#![no_std]
#![no_main]
#![deny(unsafe_code)] // only `rt` and the board's `regs` module opt out

mod board;
mod clock;
mod config;
#[cfg(feature = "find")]
mod find;
mod net;
mod rt;
mod serve;
mod target;
mod verdict;

use core::cell::RefCell;
use core::pin::pin;

use cortex_m_rt::entry;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};
use static_cell::ConstStaticCell;

use config::PROBE;
use target::TargetBufs;
use verdict::Verdict;

/// Number of targets in this build's configuration.
const N: usize = PROBE.targets.len();
/// TCP sockets: a client and an agent server per target, the HTTP server, the SCP.
const SOCKETS: usize = 2 * N + 2;

/// Every buffer of the probe, in one all-zero static (so it lands in `.bss`, shows in the RAM figure, and nothing big
/// sits on the stack).
struct Mem {
    // TCP socket buffers (rx, tx). The tx side only ever holds one PDU or one reply: the driver writes each PDU whole
    // and waits for room, so a small tx buffer costs no correctness.
    client: [([u8; 512], [u8; 256]); N],
    agent: [([u8; 64], [u8; 160]); N],
    http: ([u8; 256], [u8; 320]),
    scp: ([u8; 512], [u8; 256]),
    assoc: [TargetBufs; N],
    scp_assoc: TargetBufs,
}

static MEM: ConstStaticCell<Mem> = ConstStaticCell::new(Mem {
    client: [([0; 512], [0; 256]); N],
    agent: [([0; 64], [0; 160]); N],
    http: ([0; 256], [0; 320]),
    scp: ([0; 512], [0; 256]),
    assoc: [const { TargetBufs::new() }; N],
    scp_assoc: TargetBufs::new(),
});

fn tcp_socket<'a>(rx: &'a mut [u8], tx: &'a mut [u8]) -> tcp::Socket<'a> {
    let mut s = tcp::Socket::new(tcp::SocketBuffer::new(rx), tcp::SocketBuffer::new(tx));
    s.set_nagle_enabled(false); // each PDU goes out in one write, now
    s
}

#[entry]
fn main() -> ! {
    defmt::info!("echoprobe firmware: {=usize} target(s)", N);
    let cp = cortex_m::Peripherals::take().unwrap_or_else(|| fatal("core peripherals taken"));
    let clock = clock::Clock::start(cp.SYST, board::CORE_HZ);

    let (nic, mac) = board::init_nic();
    let mem = MEM.take();
    // Not all-zero (so not in MEM): filled at run time, still in .bss.
    static STORAGE: static_cell::StaticCell<[SocketStorage<'static>; SOCKETS]> =
        static_cell::StaticCell::new();

    let mut config = Config::new(EthernetAddress(mac).into());
    config.random_seed =
        u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x5e, 0xed]);
    let mut iface = Interface::new(config, nic, clock.now_smoltcp());
    let [a, b, c, d] = PROBE.address;
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), PROBE.prefix_len));
    });
    let [a, b, c, d] = PROBE.gateway;
    let _ = iface
        .routes_mut()
        .add_default_ipv4_route(Ipv4Address::new(a, b, c, d));
    defmt::info!(
        "mac {=[u8]:02x}, ip {=[u8]}/{=u8}",
        mac,
        PROBE.address,
        PROBE.prefix_len
    );

    let mut sockets =
        SocketSet::new(&mut STORAGE.init_with(|| [SocketStorage::EMPTY; SOCKETS])[..]);
    let client: [SocketHandle; N] = mem
        .client
        .each_mut()
        .map(|(rx, tx)| sockets.add(tcp_socket(rx, tx)));
    let agent: [SocketHandle; N] = mem
        .agent
        .each_mut()
        .map(|(rx, tx)| sockets.add(tcp_socket(rx, tx)));
    let http = sockets.add(tcp_socket(&mut mem.http.0, &mut mem.http.1));
    let scp = sockets.add(tcp_socket(&mut mem.scp.0, &mut mem.scp.1));

    let net = net::Net {
        iface: RefCell::new(iface),
        sockets: RefCell::new(sockets),
        nic: RefCell::new(nic),
    };
    let verdicts: [RefCell<Verdict>; N] = core::array::from_fn(|_| RefCell::new(Verdict::new()));

    let net_task = async {
        let mut request = heapless::Vec::new();
        let mut next_report = 0u64;
        loop {
            net.poll(&clock);
            for (i, t) in PROBE.targets.iter().enumerate() {
                serve::agent(&net, agent[i], t.agent_port, &verdicts[i]);
            }
            serve::http(&net, http, PROBE.http_port, &verdicts, &mut request);
            net.poll(&clock);
            let now_ms = clock.now_micros() / 1000;
            if now_ms >= next_report {
                next_report = now_ms + 2_000;
                defmt::info!(
                    "t={=u64}ms stack high-water {=usize} B",
                    now_ms,
                    rt::stack_high_water()
                );
                board::log_nic(&net.nic.borrow());
            }
            cortex_m::asm::wfi(); // until the next SysTick (1 ms)
            embassy_futures::yield_now().await;
        }
    };
    // Each big future is built where it is pinned: one copy, on main's stack (main never returns).
    let net_task = pin!(net_task);
    let scp_task = pin!(serve::scp(
        &net,
        &clock,
        scp,
        PROBE.scp_port,
        PROBE.scp_ae,
        &mut mem.scp_assoc
    ));
    defmt::info!("stack before the loop: {=usize} B", rt::stack_high_water());
    include!(concat!(env!("OUT_DIR"), "/probe_tasks.rs"));
    fatal("probe loop ended")
}

/// Logs and ends the run the board's way (QEMU: exit with failure; hardware: reset or breakpoint).
fn fatal(msg: &str) -> ! {
    defmt::error!("fatal: {=str}", msg);
    board::exit(false)
}
