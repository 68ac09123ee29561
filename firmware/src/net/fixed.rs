//! A static address (`[network] address = "a.b.c.d/prefix"` and `gateway`): set once at start, never lost.

use smoltcp::iface::{Interface, SocketSet};
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};

use super::Lease;
use crate::config::PROBE;

pub struct Address;

/// No socket of its own.
pub const SOCKETS: usize = 0;

impl Address {
    /// Gives `iface` the configured address and default route.
    pub fn start(iface: &mut Interface, _: &mut SocketSet<'_>) -> Address {
        let [a, b, c, d] = PROBE.address;
        iface.update_ip_addrs(|addrs| {
            let _ = addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), PROBE.prefix_len));
        });
        let [a, b, c, d] = PROBE.gateway;
        let _ = iface
            .routes_mut()
            .add_default_ipv4_route(Ipv4Address::new(a, b, c, d));
        let HardwareAddress::Ethernet(mac) = iface.hardware_addr();
        defmt::info!(
            "mac {=[u8]:02x}, ip {=[u8]}/{=u8}",
            mac.as_bytes(),
            PROBE.address,
            PROBE.prefix_len
        );
        Address
    }

    /// Nothing changes.
    pub fn update(&self, _: &mut Interface, _: &mut SocketSet<'_>) {}

    /// Always the same one.
    pub fn lease(&self) -> Option<Lease> {
        Some(Lease(0))
    }
}
