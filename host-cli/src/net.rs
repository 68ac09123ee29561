//! Sockets: name resolution and connect with bounded time, and the TCP transport the core's drivers run on.
//!
//! The transport sets TCP_NODELAY (every PDU is written in one call, so Nagle only adds delay), sets TCP_QUICKACK
//! after every read on Linux (so the peer's next PDU is not held back by our delayed ACK), turns the core's read
//! deadlines into socket read timeouts, and in debug mode hex dumps every PDU it sends and receives. Closing is a
//! normal FIN (no SO_LINGER 0): after an A-RELEASE-RP or our A-ABORT the association is over, and a reset would
//! make some peers log errors for a clean check.

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::io::{self, Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;

use echoprobe_core::io::blocking::Transport;

use crate::args::Family;
use echoprobe_core::time::Instant;
use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// A monotonic clock with the origin the caller picked (usually program start); core `Instant`s are micros since it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin: std::time::Instant,
}

impl Clock {
    /// A clock starting now.
    pub(crate) fn start() -> Self {
        Clock {
            origin: std::time::Instant::now(),
        }
    }

    /// Now, on the core's time line.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    /// `d` after the origin, on the core's time line.
    pub(crate) fn at(&self, d: Duration) -> Instant {
        Instant::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    /// Time since the origin.
    pub(crate) fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A std duration as a core one.
pub(crate) fn to_core(d: Duration) -> echoprobe_core::time::Duration {
    echoprobe_core::time::Duration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Why resolving or connecting failed.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The name does not resolve (or resolves to nothing).
    Resolve(String),
    /// The resolver did not answer within the time we had.
    ResolveTimeout,
    /// Refused, or host/network unreachable.
    Unreachable(io::Error),
    /// The peer accepted the connection and reset it before the connect call returned (a RST in answer to the SYN
    /// is ECONNREFUSED, not this): the peer is there and closed, like a reset a moment later.
    Reset,
    /// No answer within the time we had.
    Timeout,
    /// Anything else (socket creation, bad address, ...).
    Local(io::Error),
}

/// Whether `addr` is of the family `-i4`/`-i6`/`-i0` allows.
fn family_allows(family: Family, addr: &SocketAddr) -> bool {
    match family {
        Family::Any => true,
        Family::V4 => addr.is_ipv4(),
        Family::V6 => addr.is_ipv6(),
    }
}

/// Resolves `host` to its addresses of `family`, in the resolver's order, without duplicates. An IP literal is used
/// as is; a name is looked up on a helper thread so that a hanging resolver cannot hold us past `limit` (the thread
/// is left to finish on its own).
pub(crate) fn resolve(
    host: &str,
    port: u16,
    family: Family,
    limit: Option<Duration>,
) -> Result<Vec<SocketAddr>, ConnectError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        let addr = SocketAddr::new(ip, port);
        if !family_allows(family, &addr) {
            return Err(ConnectError::Resolve(format!(
                "{ip} is not an {} address",
                family_name(family)
            )));
        }
        return Ok(vec![addr]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_string();
    let spawned = std::thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let result = (name.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.collect::<Vec<_>>());
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(ConnectError::Local(e));
    }
    let answer = match limit {
        Some(limit) => rx
            .recv_timeout(limit)
            .map_err(|_| ConnectError::ResolveTimeout)?,
        None => rx
            .recv()
            .map_err(|_| ConnectError::Resolve("resolver thread failed".into()))?,
    };
    let all = answer.map_err(|e| ConnectError::Resolve(e.to_string()))?;
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(all.len());
    for a in all.iter().filter(|a| family_allows(family, a)) {
        if !addrs.contains(a) {
            addrs.push(*a);
        }
    }
    if addrs.is_empty() {
        return Err(ConnectError::Resolve(match (family, all.is_empty()) {
            (_, true) => "no address".to_string(),
            (f, false) => format!("no {} address", family_name(f)),
        }));
    }
    Ok(addrs)
}

fn family_name(family: Family) -> &'static str {
    match family {
        Family::Any => "IP",
        Family::V4 => "IPv4 (-i4)",
        Family::V6 => "IPv6 (-i6)",
    }
}

/// Connects to the first of `addrs` that answers, all within `timeout` together: when a connect is refused or the
/// address unreachable (or its socket cannot be made, e.g. no IPv6), the next address is tried with the time left.
/// `on_retry` hears about each address given up on. The error is the last address's.
pub(crate) fn connect_any(
    addrs: &[SocketAddr],
    timeout: Duration,
    write_timeout: Option<Duration>,
    mut on_retry: impl FnMut(SocketAddr, &ConnectError),
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let start = std::time::Instant::now();
    let mut last = ConnectError::Resolve("no address".into());
    for (i, addr) in addrs.iter().enumerate() {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(ConnectError::Timeout);
        }
        match connect(*addr, left, write_timeout) {
            Ok(s) => return Ok((s, *addr)),
            Err(e @ (ConnectError::Unreachable(_) | ConnectError::Local(_))) => {
                if i + 1 < addrs.len() {
                    on_retry(*addr, &e);
                }
                last = e;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Opens a TCP connection to `addr` within `timeout`, with TCP_NODELAY and the write timeout set.
pub(crate) fn connect(
    addr: SocketAddr,
    timeout: Duration,
    write_timeout: Option<Duration>,
) -> Result<TcpStream, ConnectError> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(ConnectError::Local)?;
    socket.set_tcp_nodelay(true).map_err(ConnectError::Local)?;
    match socket.connect_timeout(&addr.into(), timeout.max(Duration::from_millis(1))) {
        Ok(()) => {}
        Err(e) => {
            return Err(match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ConnectError::Timeout,
                io::ErrorKind::ConnectionRefused
                | io::ErrorKind::HostUnreachable
                | io::ErrorKind::NetworkUnreachable => ConnectError::Unreachable(e),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                    ConnectError::Reset
                }
                _ => ConnectError::Local(e),
            })
        }
    }
    socket
        .set_write_timeout(write_timeout)
        .map_err(ConnectError::Local)?;
    Ok(socket.into())
}

/// A connected TCP stream as the core's blocking [`Transport`].
#[derive(Debug)]
pub(crate) struct TcpTransport {
    stream: TcpStream,
    clock: Clock,
    read_deadline: Option<Instant>,
    current_timeout: Option<Option<Duration>>,
    dump: Option<Dumps>,
}

/// PDU hex dumps of one connection, both directions (also used by the TLS transport, on the plaintext).
#[derive(Debug)]
pub(crate) struct Dumps {
    prefix: String,
    sent: PduDump,
    received: PduDump,
}

impl Dumps {
    /// Dumps with `prefix` on each line.
    pub(crate) fn new(prefix: String) -> Self {
        Dumps {
            prefix,
            sent: PduDump::new("sent"),
            received: PduDump::new("received"),
        }
    }

    /// Bytes we sent.
    pub(crate) fn sent(&mut self, data: &[u8]) {
        self.sent.feed(&self.prefix, data);
    }

    /// Bytes we received.
    pub(crate) fn received(&mut self, data: &[u8]) {
        self.received.feed(&self.prefix, data);
    }
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

/// Cuts a byte stream into PDUs (6-byte header: type, reserved, 32-bit big-endian length) and hex dumps each.
#[derive(Debug)]
struct PduDump {
    direction: &'static str,
    pending: Vec<u8>,
}

/// Bytes of one PDU shown in a dump; the rest is summarized.
const DUMP_LIMIT: usize = 1024;

impl PduDump {
    fn new(direction: &'static str) -> Self {
        PduDump {
            direction,
            pending: Vec::new(),
        }
    }

    fn feed(&mut self, prefix: &str, data: &[u8]) {
        self.pending.extend_from_slice(data);
        let mut out = String::new();
        while let Some(total) = pdu_len(&self.pending) {
            if self.pending.len() < total {
                break;
            }
            let pdu: Vec<u8> = self.pending.drain(..total).collect();
            out.push_str(&hex_dump(prefix, self.direction, &pdu));
        }
        // Never hold more than one maximum-size PDU plus a header of garbage.
        if self.pending.len() > 1 << 20 {
            self.pending.clear();
        }
        if !out.is_empty() {
            crate::log::debug_block(&out);
        }
    }
}

fn pdu_len(buf: &[u8]) -> Option<usize> {
    let header = buf.get(..6)?;
    let len = u32::from_be_bytes([
        *header.get(2)?,
        *header.get(3)?,
        *header.get(4)?,
        *header.get(5)?,
    ]);
    usize::try_from(len).ok()?.checked_add(6)
}

/// The name of a PDU type (PS3.8 9.3).
pub(crate) fn pdu_name(t: u8) -> &'static str {
    match t {
        0x01 => "A-ASSOCIATE-RQ",
        0x02 => "A-ASSOCIATE-AC",
        0x03 => "A-ASSOCIATE-RJ",
        0x04 => "P-DATA-TF",
        0x05 => "A-RELEASE-RQ",
        0x06 => "A-RELEASE-RP",
        0x07 => "A-ABORT",
        _ => "unknown PDU",
    }
}

/// A DCMTK-like dump: a title line, then 16 bytes per line.
pub(crate) fn hex_dump(prefix: &str, direction: &str, pdu: &[u8]) -> String {
    use core::fmt::Write as _;
    let t = pdu.first().copied().unwrap_or(0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{prefix}{direction} {} (type 0x{t:02x}), PDU length {} + 6 bytes header",
        pdu_name(t),
        pdu.len().saturating_sub(6)
    );
    for line in pdu.chunks(16).take(DUMP_LIMIT / 16) {
        let _ = write!(s, "{prefix} ");
        for b in line {
            let _ = write!(s, " {b:02x}");
        }
        s.push('\n');
    }
    if pdu.len() > DUMP_LIMIT {
        let _ = writeln!(s, "{prefix}  ... {} more bytes", pdu.len() - DUMP_LIMIT);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_io::{ErrorKind, Read as _, Write as _};
    use std::net::TcpListener;

    #[test]
    fn dump_format() {
        let rp = [0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0];
        assert_eq!(
            hex_dump("D: ", "received", &rp),
            "D: received A-RELEASE-RP (type 0x06), PDU length 4 + 6 bytes header\nD:   06 00 00 00 00 04 00 00 00 00\n"
        );
        assert_eq!(pdu_len(&rp), Some(10));
        assert_eq!(pdu_len(&rp[..5]), None);
    }

    #[test]
    fn resolve_literals_and_names() {
        assert_eq!(
            resolve("127.0.0.1", 104, Family::Any, None).unwrap(),
            vec!["127.0.0.1:104".parse().unwrap()]
        );
        assert_eq!(
            resolve("::1", 104, Family::V6, None).unwrap(),
            vec!["[::1]:104".parse().unwrap()]
        );
        for (literal, family) in [("::1", Family::V4), ("127.0.0.1", Family::V6)] {
            assert!(
                matches!(resolve(literal, 1, family, None), Err(ConnectError::Resolve(m)) if m.contains("is not an")),
                "{literal}"
            );
        }
        let limit = Some(Duration::from_secs(5));
        let a = resolve("localhost", 11112, Family::Any, limit).unwrap();
        assert!(a.iter().all(|a| a.ip().is_loopback()), "{a:?}");
        // What the system's resolver says localhost is, by family (/etc/hosts may or may not list ::1).
        let system: Vec<SocketAddr> = ("localhost", 11112).to_socket_addrs().unwrap().collect();
        for family in [Family::V4, Family::V6] {
            let want: Vec<SocketAddr> = system
                .iter()
                .filter(|a| family_allows(family, a))
                .copied()
                .collect();
            match resolve("localhost", 11112, family, limit) {
                Ok(got) => {
                    assert!(
                        !got.is_empty() && got.iter().all(|a| want.contains(a)),
                        "{got:?}"
                    );
                }
                Err(ConnectError::Resolve(m)) => {
                    assert!(want.is_empty(), "{family:?}: {m}");
                    assert!(m.starts_with("no IPv"), "{m}");
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(matches!(
            resolve("no-such-host.invalid", 1, Family::Any, limit),
            Err(ConnectError::Resolve(_))
        ));
    }

    #[test]
    fn refused_is_unreachable() {
        // Bind then drop to find a port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert!(matches!(
            connect(addr, Duration::from_secs(2), None),
            Err(ConnectError::Unreachable(_))
        ));
    }

    #[test]
    fn the_next_address_is_tried_after_a_refusal() {
        let refused = SocketAddr::from((
            [127, 0, 0, 1],
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let mut retried = Vec::new();
        let (_, used) = connect_any(&[refused, open], Duration::from_secs(2), None, |a, _| {
            retried.push(a)
        })
        .unwrap();
        assert_eq!((used, retried), (open, vec![refused]));
        // All refused: the last error, unreachable (63).
        assert!(matches!(
            connect_any(&[refused, refused], Duration::from_secs(2), None, |_, _| {}),
            Err(ConnectError::Unreachable(_))
        ));
    }

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

#[cfg(all(test, target_os = "linux"))]
mod connect_timeout_tests {
    use super::*;

    /// A listener whose accept queue is full drops further SYNs (Linux), so a connect to it hangs like one to a
    /// black-holed address: the connect timeout must end it.
    #[test]
    fn full_backlog_times_out() {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        listener
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        listener.listen(0).unwrap();
        let addr = listener.local_addr().unwrap().as_socket().unwrap();
        // Fill the queue (backlog 0 still admits one or two) with connections nobody accepts.
        let mut fillers = Vec::new();
        let mut timed_out = false;
        for _ in 0..8 {
            let start = std::time::Instant::now();
            match connect(addr, Duration::from_millis(300), None) {
                Ok(s) => fillers.push(s),
                Err(ConnectError::Timeout) => {
                    let took = start.elapsed();
                    assert!(
                        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
                        "{took:?}"
                    );
                    timed_out = true;
                    break;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(
            timed_out,
            "{} connections were accepted into a backlog of 0",
            fillers.len()
        );
    }
}
