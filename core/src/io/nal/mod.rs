//! The machine over any `embedded-nal` TCP stack (feature `nal`): a [`Connection`] is one
//! client socket of a [`TcpClientStack`] plus the caller's [`Clock`], and implements
//! [`Transport`], so the blocking driver's [`check`](super::blocking::check) (and with feature
//! `find`, `blocking::find`) runs on it through the one pump.
//!
//! `embedded-nal` 0.9's calls are `nb`: [`nb::Error::WouldBlock`] means "try again". A
//! connection retries each call, calling [`Clock::idle`] in between, until it succeeds, fails,
//! or its deadline passes: the read deadline is the machine's next timer (ARTIM, ACSE, DIMSE or
//! the overall deadline), so those timeouts are the core's own and fire on time over any stack
//! whose `receive` returns instead of waiting. Connect is polled against its own timeout, and
//! each PDU's write against [`Connection::set_write_timeout`].
//!
//! What cannot be bounded: a stack whose `connect` (or `send`, `receive`) blocks inside the call
//! instead of returning `WouldBlock` holds the caller for as long as the stack decides.
//! `std-embedded-nal` 0.4's `connect` is a blocking `TcpStream::connect` without a timeout (the
//! OS's SYN retries, minutes on Linux, against a black-holed address); its sockets are
//! non-blocking once connected, so reads and writes are bounded.
//!
//! ```text
//! let mut conn = Connection::open(&mut stack, clock, remote, Duration::from_secs(5))?;
//! let report = io::blocking::check(&mut conn, config, options, &mut rx, &mut tx, |_| {});
//! conn.close()?;
//! ```
//!
//! A `receive` returning `Ok(0)` is taken as the peer's close (as `std-embedded-nal` and
//! `embedded-io` report it); a stack that returns `Ok(0)` for "no data yet" instead of
//! `WouldBlock` would end every check as closed by the peer. `TCP_NODELAY` is the stack's
//! business: each PDU is handed to `send` whole, in as few calls as the stack takes it.

use core::fmt;
use core::net::SocketAddr;

use embedded_io::{ErrorKind, ErrorType, Read, Write};
use embedded_nal::{nb, TcpClientStack, TcpError, TcpErrorKind};

use super::blocking::Transport;
use crate::time::{Duration, Instant};

/// The caller's clock, on the same time line as every deadline of the machine.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;

    /// The stack said "would block": pass the time until the next try (sleep, wait for an
    /// interrupt, poll a NIC), returning by `deadline` at the latest (`None`: no deadline).
    /// The default returns at once: the connection spins on the stack.
    fn idle(&mut self, deadline: Option<Instant>) {
        let _ = deadline;
    }
}

/// A bare clock: `now` is the closure, and the connection spins on the stack.
impl<F: Fn() -> Instant> Clock for F {
    fn now(&self) -> Instant {
        self()
    }
}

/// How long one PDU's write may take unless [`Connection::set_write_timeout`] says otherwise.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// What failed on a [`Connection`]. Through the drivers, a read timeout and a lost connection
/// go to the machine (they become its verdict); the others come back as
/// [`io::Error::Transport`](super::Error::Transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The stack failed (opening the socket, connecting, sending, receiving). A
    /// [`TcpErrorKind::PipeClosed`] is a lost connection.
    Stack(E),
    /// `connect` still said "would block" at the connect timeout.
    ConnectTimeout,
    /// No byte arrived by the read deadline.
    ReadTimeout,
    /// A PDU was not written by the write timeout.
    WriteTimeout,
    /// The connection was closed with [`Connection::close`].
    Closed,
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Stack(e) => write!(f, "TCP stack error: {e:?}"),
            Error::ConnectTimeout => f.write_str("connect timed out"),
            Error::ReadTimeout => f.write_str("read timed out"),
            Error::WriteTimeout => f.write_str("write timed out"),
            Error::Closed => f.write_str("connection closed"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E: TcpError> embedded_io::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Stack(e) => match e.kind() {
                TcpErrorKind::PipeClosed => ErrorKind::BrokenPipe,
                _ => ErrorKind::Other,
            },
            Error::ConnectTimeout | Error::ReadTimeout | Error::WriteTimeout => ErrorKind::TimedOut,
            Error::Closed => ErrorKind::NotConnected,
        }
    }
}

/// One connected client socket of `stack`, with the caller's clock. Dropping it closes the
/// socket, as [`Connection::close`] does.
pub struct Connection<'s, S: TcpClientStack, C: Clock> {
    stack: &'s mut S,
    /// `None` once closed.
    socket: Option<S::TcpSocket>,
    clock: C,
    read_deadline: Option<Instant>,
    write_timeout: Duration,
}

impl<'s, S: TcpClientStack, C: Clock> Connection<'s, S, C> {
    /// Opens a socket on `stack` and connects it to `remote`, polling `connect` until
    /// `connect_timeout` has passed on `clock` (a stack whose `connect` blocks is not bounded
    /// by it: see the [module docs](self)). To bound the connect by an overall deadline too,
    /// pass the shorter of the two.
    pub fn open(
        stack: &'s mut S,
        clock: C,
        remote: SocketAddr,
        connect_timeout: Duration,
    ) -> Result<Self, Error<S::Error>> {
        let socket = stack.socket().map_err(Error::Stack)?;
        let deadline = clock.now() + connect_timeout;
        // On any failure below, dropping `conn` closes the socket.
        let mut conn = Connection {
            stack,
            socket: Some(socket),
            clock,
            read_deadline: None,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        };
        conn.retry(Some(deadline), Error::ConnectTimeout, |stack, socket| {
            stack.connect(socket, remote)
        })?;
        Ok(conn)
    }

    /// How long each PDU's write may take ([`DEFAULT_WRITE_TIMEOUT`] until set).
    pub fn set_write_timeout(&mut self, timeout: Duration) {
        self.write_timeout = timeout;
    }

    /// Closes the socket (done once; later calls, reads and writes fail with
    /// [`Error::Closed`]).
    pub fn close(&mut self) -> Result<(), Error<S::Error>> {
        let socket = self.socket.take().ok_or(Error::Closed)?;
        self.stack.close(socket).map_err(Error::Stack)
    }

    /// The one `nb` loop: calls `op` until it is done, fails, or `deadline` has passed
    /// (then `timed_out`), idling between tries.
    fn retry<T>(
        &mut self,
        deadline: Option<Instant>,
        timed_out: Error<S::Error>,
        mut op: impl FnMut(&mut S, &mut S::TcpSocket) -> nb::Result<T, S::Error>,
    ) -> Result<T, Error<S::Error>> {
        let socket = self.socket.as_mut().ok_or(Error::Closed)?;
        loop {
            match op(self.stack, socket) {
                Ok(x) => return Ok(x),
                Err(nb::Error::Other(e)) => return Err(Error::Stack(e)),
                Err(nb::Error::WouldBlock) => {}
            }
            if deadline.is_some_and(|at| self.clock.now() >= at) {
                return Err(timed_out);
            }
            self.clock.idle(deadline);
        }
    }
}

impl<S: TcpClientStack, C: Clock> Drop for Connection<'_, S, C> {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl<S: TcpClientStack, C: Clock> ErrorType for Connection<'_, S, C> {
    type Error = Error<S::Error>;
}

impl<S: TcpClientStack, C: Clock> Read for Connection<'_, S, C> {
    /// Waits for at least one byte until the read deadline (none set: for as long as it takes);
    /// `Ok(0)` is the peer's close.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = self.read_deadline;
        self.retry(deadline, Error::ReadTimeout, |stack, socket| {
            stack.receive(socket, buf)
        })
    }
}

impl<S: TcpClientStack, C: Clock> Write for Connection<'_, S, C> {
    /// Writes at least one byte within the write timeout.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = self.clock.now() + self.write_timeout;
        self.send(buf, deadline)
    }

    /// Writes all of `buf` (one PDU) within one write timeout.
    fn write_all(&mut self, mut buf: &[u8]) -> Result<(), Self::Error> {
        let deadline = self.clock.now() + self.write_timeout;
        while !buf.is_empty() {
            let n = self.send(buf, deadline)?;
            buf = buf.get(n..).unwrap_or(&[]);
        }
        Ok(())
    }

    /// Nothing to do: `embedded-nal` has no flush, `send` hands the bytes to the stack.
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl<S: TcpClientStack, C: Clock> Connection<'_, S, C> {
    /// One `send` that takes at least one byte of non-empty `buf`, by `deadline`.
    fn send(&mut self, buf: &[u8], deadline: Instant) -> Result<usize, Error<S::Error>> {
        self.retry(Some(deadline), Error::WriteTimeout, |stack, socket| {
            match stack.send(socket, buf) {
                // Nothing taken is no progress: try again (never report a zero-byte write).
                Ok(0) => Err(nb::Error::WouldBlock),
                other => other,
            }
        })
    }
}

impl<S: TcpClientStack, C: Clock> Transport for Connection<'_, S, C> {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), Self::Error> {
        self.read_deadline = deadline;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
