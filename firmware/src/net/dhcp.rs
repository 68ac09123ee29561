//! An address from a DHCP server (`[network] address = "dhcp"`, the `dhcp` feature). smoltcp's DHCPv4 client socket
//! gets the lease, renews it (at T1, rebinding at T2) as the interface is polled, and gives it up when it expires or
//! the server refuses it (NAK); `update` applies each change to the interface and logs it.

use core::cell::Cell;

use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4::{self, Event};
use smoltcp::wire::{DhcpMessageType, DhcpRepr, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};
use static_cell::ConstStaticCell;

use super::Lease;

/// The DHCP client's socket.
pub const SOCKETS: usize = 1;

/// Where the client copies each DHCP message, so that the lease time can be read from the ACK: 548 bytes, what
/// RFC 2131 requires every client to accept (236 bytes of header and 312 of options). A longer message is not copied:
/// its lease time is logged as unknown.
static PACKET: ConstStaticCell<[u8; 548]> = ConstStaticCell::new([0; 548]);

pub struct Address {
    socket: SocketHandle,
    /// The address now, if any.
    current: Cell<Option<Ipv4Cidr>>,
    /// Changes of address so far (gained, lost, replaced): the number of the current lease.
    changes: Cell<u32>,
}

impl Address {
    /// Starts the DHCP client in `sockets`. `iface` has no address until the first lease.
    pub fn start(iface: &mut Interface, sockets: &mut SocketSet<'_>) -> Address {
        let mut socket = dhcpv4::Socket::new();
        socket.set_receive_packet_buffer(PACKET.take());
        let HardwareAddress::Ethernet(mac) = iface.hardware_addr();
        defmt::info!(
            "mac {=[u8]:02x}, ip by DHCP: checks wait for a lease",
            mac.as_bytes()
        );
        Address {
            socket: sockets.add(socket),
            current: Cell::new(None),
            changes: Cell::new(0),
        }
    }

    /// Applies the client's news, if any, to `iface`. Called after every interface poll.
    pub fn update(&self, iface: &mut Interface, sockets: &mut SocketSet<'_>) {
        let old = self.current.get();
        match sockets.get_mut::<dhcpv4::Socket>(self.socket).poll() {
            None => {}
            Some(Event::Configured(lease)) => {
                let new = lease.address;
                // The ACK this lease came from, if it fitted in PACKET.
                let seconds = lease
                    .packet
                    .as_ref()
                    .and_then(|p| DhcpRepr::parse(p).ok())
                    .filter(|r| {
                        r.message_type == DhcpMessageType::Ack && r.your_ip == new.address()
                    })
                    .and_then(|r| r.lease_duration);
                let what = match old {
                    None => "lease",
                    Some(o) if o == new => "lease renewed",
                    Some(o) => {
                        defmt::warn!("dhcp: address {} replaced: checks restart", Ip(o.address()));
                        "new lease"
                    }
                };
                if old != Some(new) {
                    // This flushes the neighbour cache, so not at each renewal (the next checks would wait for ARP).
                    iface.update_ip_addrs(|addrs| {
                        addrs.clear();
                        let _ = addrs.push(IpCidr::Ipv4(new));
                    });
                    self.current.set(Some(new));
                    self.changes.set(self.changes.get().wrapping_add(1));
                }
                let routes = iface.routes_mut();
                match lease.router {
                    Some(router) => {
                        let _ = routes.add_default_ipv4_route(router);
                    }
                    None => {
                        routes.remove_default_ipv4_route();
                    }
                }
                defmt::info!(
                    "dhcp: {=str} {}/{=u8}, router {}, lease {}",
                    what,
                    Ip(new.address()),
                    new.prefix_len(),
                    Router(lease.router),
                    Seconds(seconds)
                );
            }
            Some(Event::Deconfigured) => {
                if let Some(o) = old {
                    iface.update_ip_addrs(|addrs| addrs.clear());
                    iface.routes_mut().remove_default_ipv4_route();
                    self.current.set(None);
                    self.changes.set(self.changes.get().wrapping_add(1));
                    defmt::warn!(
                        "dhcp: lost the address {} (lease expired or refused): checks paused",
                        Ip(o.address())
                    );
                }
            }
        }
    }

    /// The current lease, if the probe has an address.
    pub fn lease(&self) -> Option<Lease> {
        self.current.get().map(|_| Lease(self.changes.get()))
    }
}

/// An address in the log: dotted quad.
struct Ip(Ipv4Address);

impl defmt::Format for Ip {
    fn format(&self, f: defmt::Formatter<'_>) {
        let [a, b, c, d] = self.0.octets();
        defmt::write!(f, "{=u8}.{=u8}.{=u8}.{=u8}", a, b, c, d);
    }
}

/// The router in the log, or `none`.
struct Router(Option<Ipv4Address>);

impl defmt::Format for Router {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self.0 {
            Some(a) => defmt::write!(f, "{}", Ip(a)),
            None => defmt::write!(f, "none"),
        }
    }
}

/// The lease time in the log, or `unknown`.
struct Seconds(Option<u32>);

impl defmt::Format for Seconds {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self.0 {
            Some(s) => defmt::write!(f, "{=u32} s", s),
            None => defmt::write!(f, "unknown"),
        }
    }
}
