//! Sockets: name resolution and connect with bounded time ([`resolve`], [`connect_any`]), the TCP transport the
//! core's drivers run on ([`TcpTransport`], in `tcp.rs`) and the `-d` PDU dumps (`dump.rs`).
//!
//! The transport sets TCP_NODELAY (every PDU is written in one call, so Nagle only adds delay), sets TCP_QUICKACK
//! after every read on Linux (so the peer's next PDU is not held back by our delayed ACK), turns the core's read
//! deadlines into socket read timeouts, and in debug mode hex dumps every PDU it sends and receives. Closing is a
//! normal FIN (no SO_LINGER 0): after an A-RELEASE-RP or our A-ABORT the association is over, and a reset would
//! make some peers log errors for a clean check.

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;

use echoprobe_core::time::Instant;
use socket2::{Domain, Protocol, Socket, Type};

mod dump;
mod tcp;

pub(crate) use dump::Dumps;
pub(crate) use tcp::TcpTransport;

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

    /// The origin (an async runtime's timers count from it).
    pub(crate) fn origin(&self) -> std::time::Instant {
        self.origin
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

/// Which address family name resolution may return (DCMTK 3.6.8's `-i4`, `-i6`, `-i0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `-i0 --ip-auto` (our default): every address the resolver returns, in its order.
    Any,
    /// `-i4 --ipv4` (DCMTK's default): IPv4 addresses only.
    V4,
    /// `-i6 --ipv6`: IPv6 addresses only.
    V6,
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

/// The walk over a target's addresses, sans IO (the blocking and the async `connect_any` do the connects): each
/// address in turn, all within one `timeout` together. When a connect is refused or the address unreachable (or its
/// socket cannot be made, e.g. no IPv6), the next address is tried with the time left; any other failure ends the
/// walk. With no address left, the error is the last address's.
pub(crate) struct AddressWalk<'a> {
    addrs: &'a [SocketAddr],
    timeout: Duration,
    tried: usize,
    last: Option<ConnectError>,
}

impl<'a> AddressWalk<'a> {
    pub(crate) fn new(addrs: &'a [SocketAddr], timeout: Duration) -> Self {
        AddressWalk {
            addrs,
            timeout,
            tried: 0,
            last: None,
        }
    }

    /// The next address to connect to and the time left for it, `elapsed` since the walk began; the walk's error
    /// when no address or no time is left.
    pub(crate) fn next(
        &mut self,
        elapsed: Duration,
    ) -> Result<(SocketAddr, Duration), ConnectError> {
        let Some(&addr) = self.addrs.get(self.tried) else {
            return Err(self
                .last
                .take()
                .unwrap_or_else(|| ConnectError::Resolve("no address".into())));
        };
        let left = self.timeout.saturating_sub(elapsed);
        if left.is_zero() {
            return Err(ConnectError::Timeout);
        }
        self.tried += 1;
        Ok((addr, left))
    }

    /// The connect to the address [`next`](Self::next) gave failed with `e`: the error that ends the walk, or the
    /// error of an address given up on (`Some` when another address follows, to tell about).
    pub(crate) fn failed(
        &mut self,
        e: ConnectError,
    ) -> Result<Option<&ConnectError>, ConnectError> {
        match e {
            ConnectError::Unreachable(_) | ConnectError::Local(_) => {
                let more = self.tried < self.addrs.len();
                let e = self.last.insert(e);
                Ok(more.then_some(&*e))
            }
            e => Err(e),
        }
    }
}

/// Connects to the first of `addrs` that answers, all within `timeout` together (an [`AddressWalk`]). `on_retry`
/// hears about each address given up on.
pub(crate) fn connect_any(
    addrs: &[SocketAddr],
    timeout: Duration,
    write_timeout: Option<Duration>,
    mut on_retry: impl FnMut(SocketAddr, &ConnectError),
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let start = std::time::Instant::now();
    let mut walk = AddressWalk::new(addrs, timeout);
    loop {
        let (addr, left) = walk.next(start.elapsed())?;
        match connect(addr, left, write_timeout) {
            Ok(s) => return Ok((s, addr)),
            Err(e) => {
                if let Some(e) = walk.failed(e)? {
                    on_retry(addr, e);
                }
            }
        }
    }
}

/// A failed connect call's error by what it means for the check (the async check's connects too).
pub(crate) fn connect_error(e: io::Error) -> ConnectError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ConnectError::Timeout,
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable => ConnectError::Unreachable(e),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => ConnectError::Reset,
        _ => ConnectError::Local(e),
    }
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
        Err(e) => return Err(connect_error(e)),
    }
    socket
        .set_write_timeout(write_timeout)
        .map_err(ConnectError::Local)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// The walk, without a socket: refused addresses give way to the next with the time left, the last one's error
    /// ends it, any other error ends it at once, and no time left is a timeout.
    #[test]
    fn address_walk() {
        let (a, b): (SocketAddr, SocketAddr) =
            ("127.0.0.1:1".parse().unwrap(), "[::1]:1".parse().unwrap());
        let both = [a, b];
        let refused = || ConnectError::Unreachable(io::ErrorKind::ConnectionRefused.into());
        let second = Duration::from_secs(1);
        let mut walk = AddressWalk::new(&both, 2 * second);
        assert_eq!(walk.next(Duration::ZERO).unwrap(), (a, 2 * second));
        assert!(matches!(
            walk.failed(refused()),
            Ok(Some(ConnectError::Unreachable(_)))
        ));
        assert_eq!(walk.next(second).unwrap(), (b, second));
        assert!(matches!(walk.failed(refused()), Ok(None)));
        assert!(matches!(
            walk.next(second),
            Err(ConnectError::Unreachable(_))
        ));

        let mut walk = AddressWalk::new(&both, second);
        walk.next(Duration::ZERO).unwrap();
        assert!(matches!(
            walk.failed(ConnectError::Reset),
            Err(ConnectError::Reset)
        ));
        let mut walk = AddressWalk::new(&both, second);
        walk.next(Duration::ZERO).unwrap();
        assert!(walk.failed(refused()).unwrap().is_some());
        assert!(matches!(walk.next(second), Err(ConnectError::Timeout)));
        assert!(matches!(
            AddressWalk::new(&[], second).next(Duration::ZERO),
            Err(ConnectError::Resolve(m)) if m == "no address"
        ));
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
