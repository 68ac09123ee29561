//! echoprobe health probe firmware: C-ECHOes the configured DICOM nodes with the echoprobe-core requestor, tells a load
//! balancer what it saw (HAProxy agent-check, `GET /health/<n>`), and answers C-ECHO itself.
//!
//! One thread, no interrupts but SysTick, no blocking: `main` polls one future that joins the network task (smoltcp
//! poll + the agent and HTTP servers), the check slots (each takes the next due target) and the SCP task. The network
//! task sleeps (WFI) until the next millisecond tick once per round.
#![no_std]
#![no_main]
#![deny(unsafe_code)] // only `rt` and the board's `regs` module opt out

mod board;
mod clock;
mod config;
#[cfg(feature = "find")]
mod find;
mod metrics;
mod net;
mod rt;
mod schedule;
mod serve;
mod slot;
mod target;
mod verdict;

use core::cell::RefCell;
use core::pin::pin;

use cortex_m_rt::entry;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::wire::EthernetAddress;
use static_cell::ConstStaticCell;

use config::PROBE;
use target::{AssocBufs, State};

/// Number of targets in this build's configuration.
const N: usize = PROBE.targets.len();
/// Check slots: each holds a client socket and association buffers, and checks one target at a time.
const K: usize = PROBE.slots;
/// TCP sockets: a client per slot, an agent server per target, the HTTP server, the SCP's listener; and the
/// addressing's (DHCP).
const SOCKETS: usize = K + N + 2 + net::ADDRESS_SOCKETS;

/// An agent socket's transmit buffer: half the longest line (`down #` + the reason + newline).
const AGENT_TX: usize = (verdict::REASON_LEN + 8) / 2;

/// Every buffer of the probe, in one all-zero static (so it lands in `.bss`, shows in the RAM figure, and nothing big
/// sits on the stack).
struct Mem {
    // TCP socket buffers (rx, tx). The tx side only ever holds one PDU or one reply: the driver writes each PDU whole
    // and waits for room, so a small tx buffer costs no correctness (a larger PDU goes out in pieces); the rx side is
    // the window (an A-ASSOCIATE-AC or -RQ comes in two segments at most).
    client: [([u8; 256], [u8; 128]); K],
    // The agent reads nothing it needs (HAProxy's optional agent-send text is dropped) and writes one line, in two
    // pieces at most. HTTP: a request's head is read into `serve::Http` as it comes; the answer is at most ~220 B (the
    // metrics stream a line at a time).
    agent: [([u8; 8], [u8; AGENT_TX]); N],
    http: ([u8; 128], [u8; 256]),
    scp: ([u8; 256], [u8; 128]),
    assoc: [AssocBufs; K],
}

static MEM: ConstStaticCell<Mem> = ConstStaticCell::new(Mem {
    client: [([0; 256], [0; 128]); K],
    agent: [([0; 8], [0; AGENT_TX]); N],
    http: ([0; 128], [0; 256]),
    scp: ([0; 256], [0; 128]),
    assoc: [const { AssocBufs::new() }; K],
});

/// Every target's state between checks (all zero: `.bss`).
static STATES: ConstStaticCell<[RefCell<State>; N]> =
    ConstStaticCell::new([const { RefCell::new(State::new()) }; N]);

impl metrics::Source for slot::Fleet<'_, '_> {
    fn targets(&self) -> usize {
        self.states.len()
    }
    fn target(&self, i: usize) -> metrics::Target<'_> {
        self.states[i].borrow().metrics(&PROBE.targets[i])
    }
    fn probe(&self) -> metrics::Probe {
        metrics::Probe {
            uptime_us: self.clock.now_micros(),
            late_checks: self.late.get(),
            nic: board::nic_counters(&self.net.nic.borrow()),
        }
    }
}

/// Adds a TCP socket over `rx` and `tx`. Out of line: one copy of smoltcp's socket constructor (~0.5 KB), not one per
/// call site.
#[inline(never)]
fn add_tcp<'a>(sockets: &mut SocketSet<'a>, rx: &'a mut [u8], tx: &'a mut [u8]) -> SocketHandle {
    let mut s = tcp::Socket::new(tcp::SocketBuffer::new(rx), tcp::SocketBuffer::new(tx));
    s.set_nagle_enabled(false); // each PDU goes out in one write, now
    sockets.add(s)
}

#[entry]
fn main() -> ! {
    defmt::info!(
        "echoprobe firmware: {=usize} target(s), {=usize} check slot(s)",
        N,
        K
    );
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
    let iface = Interface::new(config, nic, clock.now_smoltcp());

    let mut sockets = SocketSet::new(&mut rt::init_array(&STORAGE, || SocketStorage::EMPTY)[..]);
    let client: [SocketHandle; K] = mem
        .client
        .each_mut()
        .map(|(rx, tx)| add_tcp(&mut sockets, rx, tx));
    let agent: [SocketHandle; N] = mem
        .agent
        .each_mut()
        .map(|(rx, tx)| add_tcp(&mut sockets, rx, tx));
    let http = add_tcp(&mut sockets, &mut mem.http.0, &mut mem.http.1);
    let scp = serve::Scp::new(add_tcp(&mut sockets, &mut mem.scp.0, &mut mem.scp.1));

    // The interface gets its address here: the configured one, or a DHCP client that waits for a lease.
    let net = net::Net::new(iface, sockets, nic);
    let states: &[RefCell<State>; N] = STATES.take();
    // The first checks spread over each target's interval (target i at i/N of it): no burst of N checks at boot.
    for (i, (s, t)) in states.iter().zip(PROBE.targets).enumerate() {
        let at = u64::from(t.interval_ms) * 1000 * i as u64 / N as u64;
        s.borrow_mut().due = echoprobe_core::time::Instant::from_micros(at);
    }
    let fleet = slot::Fleet {
        net: &net,
        clock: &clock,
        states,
        scp: &scp,
        late: core::cell::Cell::new(0),
    };

    let net_task = async {
        let mut conn = serve::Http::new();
        let mut agent_sent = [0u8; N];
        let mut next_report = 0u64;
        loop {
            net.poll(&clock);
            for (i, t) in PROBE.targets.iter().enumerate() {
                serve::agent(&net, agent[i], t.agent_port, &states[i], &mut agent_sent[i]);
            }
            serve::http(&net, http, PROBE.http_port, states, &fleet, &mut conn);
            scp.listen(&net);
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
    defmt::info!("stack before the loop: {=usize} B", rt::stack_high_water());
    include!(concat!(env!("OUT_DIR"), "/probe_tasks.rs"));
    fatal("probe loop ended")
}

/// Logs and ends the run the board's way (QEMU: exit with failure; hardware: reset or breakpoint).
fn fatal(msg: &str) -> ! {
    defmt::error!("fatal: {=str}", msg);
    board::exit(false)
}
