//! A check slot: one client socket and one pair of association buffers, running one association at a time. Each slot
//! takes, first, an association waiting at the probe's own SCP, else the target most overdue (`schedule::next`):
//! checks it, records the result and plans its next check `interval_ms` after this one ended. K slots share the M
//! targets and the SCP; a dead target holds one slot for at most its timeouts.

use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::Poll;

use echoprobe_core::time::Duration;
use smoltcp::iface::SocketHandle;

use crate::clock::Clock;
use crate::config::PROBE;
use crate::net::Net;
use crate::schedule;
use crate::serve::Scp;
use crate::target::{self, AssocBufs, State};

/// What the slots share (and `/metrics` reads): the network, the clock, every target's state, the SCP.
pub struct Fleet<'a, 'n> {
    pub net: &'a Net<'n>,
    pub clock: &'a Clock,
    pub states: &'a [RefCell<State>],
    pub scp: &'a Scp,
    /// Checks that started more than a tenth of their interval late, over all targets.
    pub late: Cell<u32>,
}

/// Runs slot `k` forever on its socket and buffers.
pub async fn run(k: usize, fleet: &Fleet<'_, '_>, handle: SocketHandle, bufs: &mut AssocBufs) {
    let Fleet {
        net,
        clock,
        states,
        scp,
        late,
    } = fleet;
    let (net, clock) = (*net, *clock);
    loop {
        // No address (DHCP): no check starts, and one that ran across a loss or change of address does not count. (A
        // static address is never lost: no await point for it in a static build.)
        #[cfg(feature = "dhcp")]
        let lease = net.addressed().await;
        // The SCP's waiting association, else the next due target no other slot holds (polled every millisecond by
        // the probe loop).
        let job = poll_fn(|_| {
            if scp.take(net) {
                return Poll::Ready(None);
            }
            let now = clock.now().as_micros();
            let targets = states.iter().map(|s| {
                let s = s.borrow();
                (s.held, s.due.as_micros())
            });
            schedule::next(targets, now).map_or(Poll::Pending, |i| Poll::Ready(Some(i)))
        })
        .await;
        let Some(i) = job else {
            scp.serve(net, clock, bufs).await;
            continue;
        };
        let t = &PROBE.targets[i];
        let started = clock.now();
        let port = {
            let mut s = states[i].borrow_mut();
            s.held = true;
            s.lag = target::micros(s.due, started);
            if schedule::late(s.lag.into(), t.interval_ms) {
                late.set(late.get().wrapping_add(1));
                defmt::warn!(
                    "slot {=usize}: target {=usize} {=str} started {=u32} ms late",
                    k,
                    i,
                    t.name,
                    s.lag / 1000
                );
            }
            s.next_port(i)
        };
        let checked = target::check(i, t, port, net, clock, handle, bufs).await;
        let ended = clock.now();
        let mut s = states[i].borrow_mut();
        s.held = false;
        #[cfg(feature = "dhcp")]
        if !net.holds(lease) {
            continue; // it says nothing about the target: checked again as soon as there is an address
        }
        target::record(&mut s, t, i, checked, target::micros(started, ended).max(1));
        s.due = ended + Duration::from_millis(t.interval_ms.into());
    }
}
