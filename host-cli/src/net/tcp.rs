//! A connected TCP stream as the core's blocking `Transport`: read deadlines as socket timeouts, TCP_NODELAY, quick
//! ACKs, and the `-d` dumps of what goes through.

use core::time::Duration;
use std::io::{self, Read as _, Write as _};
use std::net::TcpStream;

use echoprobe_core::io::blocking::Transport;
use echoprobe_core::time::Instant;
use socket2::SockRef;

use super::{Clock, Dumps};

/// A connected TCP stream as the core's blocking [`Transport`].
#[derive(Debug)]
pub(crate) struct TcpTransport {
    stream: TcpStream,
    clock: Clock,
    read_deadline: Option<Instant>,
    current_timeout: Option<Option<Duration>>,
    dump: Option<Dumps>,
}

impl TcpTransport {
    /// Wraps a connected stream; sets TCP_NODELAY. With `dump_prefix`, every PDU is hex dumped on stderr with that
    /// prefix on each line.
    pub(crate) fn new(
        stream: TcpStream,
        clock: Clock,
        dump_prefix: Option<String>,
    ) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        Ok(TcpTransport {
            stream,
            clock,
            read_deadline: None,
            current_timeout: None,
            dump: dump_prefix.map(Dumps::new),
        })
    }

    /// Shuts the connection down in both directions (a FIN; errors ignored: the peer may be gone).
    pub(crate) fn close(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if self.current_timeout != Some(timeout) {
            self.stream.set_read_timeout(timeout)?;
            self.current_timeout = Some(timeout);
        }
        Ok(())
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "read deadline reached")
}

impl embedded_io::ErrorType for TcpTransport {
    type Error = io::Error;
}

impl embedded_io::Read for TcpTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        loop {
            let timeout = match self.read_deadline {
                Some(deadline) => {
                    let now = self.clock.now();
                    if now >= deadline {
                        return Err(timed_out());
                    }
                    let left = Duration::from_micros(deadline.saturating_since(now).as_micros());
                    Some(left.max(Duration::from_millis(1)))
                }
                None => None,
            };
            self.set_timeout(timeout)?;
            match self.stream.read(buf) {
                Ok(n) => {
                    quickack(&self.stream);
                    if let (Some(d), Some(data)) = (self.dump.as_mut(), buf.get(..n)) {
                        d.received(data);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A socket read timeout is EAGAIN on Unix (WouldBlock) and ETIMEDOUT-like elsewhere.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(timed_out())
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl embedded_io::Write for TcpTransport {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        loop {
            match self.stream.write(buf) {
                Ok(n) => {
                    if let (Some(d), Some(data)) = (self.dump.as_mut(), buf.get(..n)) {
                        d.sent(data);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        self.stream.flush()
    }
}

impl Transport for TcpTransport {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), io::Error> {
        self.read_deadline = deadline;
        Ok(())
    }
}

/// Asks Linux to ACK at once instead of delaying (the flag is not sticky, so after every read).
fn quickack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = SockRef::from(stream).set_tcp_quickack(true);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = SockRef::from(stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::connect;
    use embedded_io::{ErrorKind, Read as _, Write as _};
    use std::net::TcpListener;

    #[test]
    fn read_deadline_times_out_and_data_flows() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clock = Clock::start();
        let stream = connect(addr, Duration::from_secs(2), Some(Duration::from_secs(2))).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let mut t = TcpTransport::new(stream, clock, None).unwrap();

        // Deadline in the past: immediate TimedOut, no blocking.
        t.set_read_deadline(Some(Instant::ZERO)).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(
            embedded_io::Error::kind(&t.read(&mut buf).unwrap_err()),
            ErrorKind::TimedOut
        );

        // Deadline 50 ms ahead and nothing to read: TimedOut after about 50 ms.
        let start = std::time::Instant::now();
        t.set_read_deadline(Some(
            clock.now() + echoprobe_core::time::Duration::from_millis(50),
        ))
        .unwrap();
        assert_eq!(
            embedded_io::Error::kind(&t.read(&mut buf).unwrap_err()),
            ErrorKind::TimedOut
        );
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(45) && waited < Duration::from_secs(2),
            "{waited:?}"
        );

        // Data both ways.
        t.write_all(b"ping").unwrap();
        t.flush().unwrap();
        let mut got = [0u8; 4];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
        server.write_all(b"pong").unwrap();
        t.set_read_deadline(Some(
            clock.now() + echoprobe_core::time::Duration::from_secs(2),
        ))
        .unwrap();
        let n = t.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"pong");

        // EOF reads as 0.
        drop(server);
        t.set_read_deadline(None).unwrap();
        assert_eq!(t.read(&mut buf).unwrap(), 0);
    }
}
