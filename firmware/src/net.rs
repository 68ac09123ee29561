//! The network stack as the probe tasks share it: one smoltcp interface and socket set behind `RefCell`s (one thread;
//! every borrow ends before an `.await`), the probe's address (static, or from DHCP in a `dhcp` build), and an
//! `embedded-io-async` transport over one TCP socket, which is what the core's async driver
//! (`echoprobe_core::io::asynch`) runs on.

// How the probe has its address: one of two modules with the same items, chosen by the `dhcp` feature.
#[cfg(feature = "dhcp")]
mod dhcp;
#[cfg(feature = "dhcp")]
use dhcp as addressing;
#[cfg(not(feature = "dhcp"))]
mod fixed;
#[cfg(not(feature = "dhcp"))]
use fixed as addressing;

use core::cell::RefCell;
use core::future::poll_fn;
use core::task::Poll;

use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::IpEndpoint;

use echoprobe_core::time::Duration;

use crate::board::Nic;
use crate::clock::Clock;

use addressing::Address;
/// Sockets the addressing adds to the set (the DHCP client's, in a `dhcp` build).
pub use addressing::SOCKETS as ADDRESS_SOCKETS;

/// What the agent and HTTP answers say instead of a verdict while the probe has no address (and cannot check).
pub const NO_ADDRESS: &str = "probe has no network address (DHCP)";

pub struct Net<'a> {
    pub iface: RefCell<Interface>,
    pub sockets: RefCell<SocketSet<'a>>,
    pub nic: RefCell<&'a mut Nic>,
    address: Address,
}

/// One address the probe held: changes whenever the address is gained, lost or replaced, so a check that ran across
/// such a change can be told apart (it says nothing about its target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease(u32);

impl<'a> Net<'a> {
    /// The stack, with its address: the configured one, or (a `dhcp` build) none until a DHCP server gives one.
    /// `sockets` must have room for [`ADDRESS_SOCKETS`] more.
    pub fn new(mut iface: Interface, mut sockets: SocketSet<'a>, nic: &'a mut Nic) -> Self {
        let address = Address::start(&mut iface, &mut sockets);
        Net {
            iface: RefCell::new(iface),
            sockets: RefCell::new(sockets),
            nic: RefCell::new(nic),
            address,
        }
    }

    /// One round of the stack: receive, run TCP timers (and the DHCP client), transmit; then apply a new lease.
    pub fn poll(&self, clock: &Clock) {
        let mut nic = self.nic.borrow_mut();
        let mut sockets = self.sockets.borrow_mut();
        let mut iface = self.iface.borrow_mut();
        let _ = iface.poll(clock.now_smoltcp(), &mut **nic, &mut sockets);
        self.address.update(&mut iface, &mut sockets);
    }

    /// Resolves once the probe has an address (at once, with a static one), with that lease: checks wait here.
    #[cfg(feature = "dhcp")]
    pub async fn addressed(&self) -> Lease {
        poll_fn(|_| self.address.lease().map_or(Poll::Pending, Poll::Ready)).await
    }

    /// Whether the probe still has the address of `lease`.
    #[cfg(feature = "dhcp")]
    pub fn holds(&self, lease: Lease) -> bool {
        self.address.lease() == Some(lease)
    }

    /// Why the probe cannot check at all right now, if so ([`NO_ADDRESS`]).
    pub fn paused(&self) -> Option<&'static str> {
        self.address.lease().is_none().then_some(NO_ADDRESS)
    }

    /// Runs `f` on one TCP socket.
    pub fn with<R>(&self, h: SocketHandle, f: impl FnOnce(&mut tcp::Socket<'a>) -> R) -> R {
        f(self.sockets.borrow_mut().get_mut::<tcp::Socket>(h))
    }

    /// Starts connecting `h` to `remote` from `local_port`.
    pub fn connect(
        &self,
        h: SocketHandle,
        remote: IpEndpoint,
        local_port: u16,
    ) -> Result<(), tcp::ConnectError> {
        let mut iface = self.iface.borrow_mut();
        let mut sockets = self.sockets.borrow_mut();
        let s = sockets.get_mut::<tcp::Socket>(h);
        s.abort();
        s.connect(iface.context(), remote, local_port)
    }

    /// Resolves once `h` is established (Ok), or the attempt failed: Err(true) at `timeout`, Err(false) if refused.
    pub async fn established(
        &self,
        h: SocketHandle,
        clock: &Clock,
        timeout: Duration,
    ) -> Result<(), bool> {
        let until = clock.now() + timeout;
        poll_fn(|_| {
            self.with(h, |s| match s.state() {
                State::Established => Poll::Ready(Ok(())),
                State::SynSent | State::SynReceived if clock.now() < until => Poll::Pending,
                State::SynSent | State::SynReceived => Poll::Ready(Err(true)),
                // Closed after a RST, or anything else: the connection did not come up.
                _ => Poll::Ready(Err(false)),
            })
        })
        .await
    }

    /// Closes `h` politely (FIN), waits up to `linger_ms` for the peer, then makes sure the socket is free (RST).
    pub async fn shut(&self, h: SocketHandle, clock: &Clock, linger_ms: u64) {
        self.with(h, |s| s.close());
        let until = clock.now() + Duration::from_millis(linger_ms);
        poll_fn(|_| {
            let done = self.with(h, |s| matches!(s.state(), State::Closed | State::TimeWait));
            if done || clock.now() >= until {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        // From TIME_WAIT too: the peer has closed, and the socket must be reusable for the next check now.
        self.with(h, |s| s.abort());
    }
}

/// Transport errors the core's driver sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum IoError {
    /// The connection is gone (RST, or closed under us).
    Reset,
    /// Write after the peer can no longer receive.
    BrokenPipe,
}

impl IoError {
    /// Its text (what `Display` shows).
    pub const fn as_str(&self) -> &'static str {
        match self {
            IoError::Reset => "connection reset",
            IoError::BrokenPipe => "connection closed for sending",
        }
    }
}

impl core::fmt::Display for IoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for IoError {}

impl embedded_io::Error for IoError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            IoError::Reset => embedded_io::ErrorKind::ConnectionReset,
            IoError::BrokenPipe => embedded_io::ErrorKind::BrokenPipe,
        }
    }
}

/// One connected TCP socket as `embedded_io_async::{Read, Write}`.
pub struct SocketIo<'n, 'a> {
    pub net: &'n Net<'a>,
    pub handle: SocketHandle,
}

impl embedded_io::ErrorType for SocketIo<'_, '_> {
    type Error = IoError;
}

impl embedded_io_async::Read for SocketIo<'_, '_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        poll_fn(|_| {
            self.net.with(self.handle, |s| {
                if s.can_recv() {
                    return Poll::Ready(s.recv_slice(buf).map_err(|_| IoError::Reset));
                }
                if !s.is_open() {
                    return Poll::Ready(Err(IoError::Reset));
                }
                if !s.may_recv() {
                    return Poll::Ready(Ok(0)); // the peer sent FIN
                }
                Poll::Pending
            })
        })
        .await
    }
}

impl embedded_io_async::Write for SocketIo<'_, '_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        poll_fn(|_| {
            self.net.with(self.handle, |s| {
                if !s.may_send() {
                    return Poll::Ready(Err(if s.is_open() {
                        IoError::BrokenPipe
                    } else {
                        IoError::Reset
                    }));
                }
                if s.can_send() {
                    return Poll::Ready(s.send_slice(buf).map_err(|_| IoError::BrokenPipe));
                }
                Poll::Pending
            })
        })
        .await
    }

    /// The bytes are in the socket's buffer; the next `Net::poll` sends them (Nagle is off on every socket).
    async fn flush(&mut self) -> Result<(), IoError> {
        Ok(())
    }
}
