//! The connection the core's driver runs on: plain TCP or TLS ([`Link`]), the one TLS handshake both modes run
//! ([`handshake`]), and transport errors mapped to their exit codes. It sits above `net` and `tls`, which know
//! nothing of it.

use std::io;

use echoprobe_core::io::blocking::Transport;
use echoprobe_core::time::Instant;

use crate::exit::{Failure, Secs, TlsError};
use crate::log::ms;
use crate::net::{self, TcpTransport};
use crate::tls::{HandshakeError, Session, TlsTransport};

/// Either transport, so one driver call serves both.
#[derive(Debug)]
pub(crate) enum Link {
    Tcp(TcpTransport),
    Tls(Box<TlsTransport>),
}

impl Link {
    /// Closes the connection (close_notify first over TLS).
    pub(crate) fn close(&mut self) {
        match self {
            Link::Tcp(t) => t.close(),
            Link::Tls(t) => t.close(),
        }
    }

    /// A transport error as a failure: TLS errors get their TLS exit code; a reset, abort, broken pipe or EOF is the
    /// peer closing the connection (71) and an unreachable host or network is 63, whichever layer reports it (the
    /// core's drivers turn these into a close when they see the kind; this keeps the verdict right if one arrives
    /// wrapped or from a call they do not classify); the rest is a local I/O error (60).
    pub(crate) fn failure(&self, peer: &str, e: &io::Error) -> Failure {
        match self {
            Link::Tls(t) if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => {
                let (error, detail) = t.classify(e, false);
                Failure::Tls {
                    peer: peer.to_string(),
                    error,
                    detail,
                }
            }
            _ => transport_failure(peer, e),
        }
    }
}

/// A non-TLS transport error as a failure (see [`Link::failure`]).
pub(crate) fn transport_failure(peer: &str, e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::NotConnected
        | io::ErrorKind::UnexpectedEof => Failure::ClosedByPeer {
            peer: peer.to_string(),
            phase: "before the echo completed (connection reset)",
        },
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            Failure::Unreachable {
                peer: peer.to_string(),
                detail: e.to_string(),
            }
        }
        _ => Failure::Local(format!("I/O error with {peer}: {e}")),
    }
}

impl embedded_io::ErrorType for Link {
    type Error = io::Error;
}

impl embedded_io::Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        match self {
            Link::Tcp(t) => embedded_io::Read::read(t, buf),
            Link::Tls(t) => embedded_io::Read::read(t.as_mut(), buf),
        }
    }
}

impl embedded_io::Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        match self {
            Link::Tcp(t) => embedded_io::Write::write(t, buf),
            Link::Tls(t) => embedded_io::Write::write(t.as_mut(), buf),
        }
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        match self {
            Link::Tcp(t) => embedded_io::Write::flush(t),
            Link::Tls(t) => embedded_io::Write::flush(t.as_mut()),
        }
    }
}

impl Transport for Link {
    fn now(&self) -> Instant {
        match self {
            Link::Tcp(t) => t.now(),
            Link::Tls(t) => t.now(),
        }
    }

    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), io::Error> {
        match self {
            Link::Tcp(t) => t.set_read_deadline(deadline),
            Link::Tls(t) => t.set_read_deadline(deadline),
        }
    }
}

/// Which side ran a TLS handshake and what bounded it: the words of its failure ([`handshake_failure`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side<'a> {
    /// The echo client: bounded by the ACSE timeout (`-ta`), or by the overall deadline (`--deadline`, given here)
    /// when that came first.
    Client {
        peer: &'a str,
        acse_timeout: core::time::Duration,
        deadline: Option<core::time::Duration>,
    },
    /// The SCP: bounded by what was left of the client's ARTIM (`limit`).
    Server {
        peer: &'a str,
        limit: core::time::Duration,
    },
}

/// Runs the TLS handshake on `t` until `deadline`: the connection as a [`Link`] and the session, or why not as
/// [`handshake_failure`] says it for `side` (the connection then closed, with a close_notify where TLS got that far).
pub(crate) fn handshake(
    mut t: TlsTransport,
    deadline: Instant,
    side: &Side<'_>,
) -> Result<(Link, Session), Failure> {
    match t.handshake(deadline) {
        Ok(session) => Ok((Link::Tls(Box::new(t)), session)),
        Err(e) => {
            t.close();
            Err(handshake_failure(e, side))
        }
    }
}

/// A failed TLS handshake as a failure, for either side: the client's timeout is the deadline's (72) or the ACSE
/// timeout's (66); the server's detail says that the handshake failed or did not complete, for its log line.
pub(crate) fn handshake_failure(e: HandshakeError, side: &Side<'_>) -> Failure {
    let (peer, detail, error) = match (e, *side) {
        (
            HandshakeError::TimedOut,
            Side::Client {
                peer,
                deadline: Some(deadline),
                ..
            },
        ) => {
            return Failure::Deadline {
                peer: peer.to_string(),
                deadline: net::to_core(deadline),
                phase: "during the TLS handshake",
            }
        }
        (
            HandshakeError::TimedOut,
            Side::Client {
                peer, acse_timeout, ..
            },
        ) => (
            peer,
            format!(
                "the TLS handshake did not complete within {} (ACSE timeout)",
                Secs(net::to_core(acse_timeout))
            ),
            TlsError::Timeout,
        ),
        (HandshakeError::TimedOut, Side::Server { peer, limit }) => (
            peer,
            format!("TLS handshake not completed within {}", ms(limit)),
            TlsError::Timeout,
        ),
        (HandshakeError::Failed(error, detail), Side::Client { peer, .. }) => (peer, detail, error),
        (HandshakeError::Failed(error, detail), Side::Server { peer, .. }) => {
            (peer, format!("TLS handshake failed: {detail}"), error)
        }
    };
    Failure::Tls {
        peer: peer.to_string(),
        error,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_failures_in_each_sides_words() {
        use core::time::Duration;
        let client = |deadline| Side::Client {
            peer: "h:1",
            acse_timeout: Duration::from_secs(30),
            deadline,
        };
        let server = Side::Server {
            peer: "127.0.0.1:5",
            limit: Duration::from_millis(1500),
        };
        let failed =
            || HandshakeError::Failed(TlsError::Untrusted, "peer certificate not trusted".into());
        for (e, side, code, text) in [
            (
                HandshakeError::TimedOut,
                client(Some(Duration::from_secs(2))),
                72,
                "deadline of 2 s reached during the TLS handshake (h:1)",
            ),
            (
                HandshakeError::TimedOut,
                client(None),
                66,
                "TLS with h:1: the TLS handshake did not complete within 30 s (ACSE timeout)",
            ),
            (
                failed(),
                client(None),
                81,
                "TLS with h:1: peer certificate not trusted",
            ),
            (
                HandshakeError::TimedOut,
                server,
                66,
                "TLS with 127.0.0.1:5: TLS handshake not completed within 1500.0 ms",
            ),
            (
                failed(),
                server,
                81,
                "TLS with 127.0.0.1:5: TLS handshake failed: peer certificate not trusted",
            ),
        ] {
            let f = handshake_failure(e, &side);
            assert_eq!((f.code(), f.to_string().as_str()), (code, text));
        }
    }

    #[test]
    fn transport_errors_map_to_exit_codes() {
        use std::io::ErrorKind as K;
        for (kind, code) in [
            (K::ConnectionReset, 71),
            (K::ConnectionAborted, 71),
            (K::BrokenPipe, 71),
            (K::NotConnected, 71),
            (K::UnexpectedEof, 71),
            (K::HostUnreachable, 63),
            (K::NetworkUnreachable, 63),
            (K::PermissionDenied, 60),
            (K::OutOfMemory, 60),
        ] {
            let f = transport_failure("h:1", &io::Error::from(kind));
            assert_eq!(f.code(), code, "{kind:?}: {f}");
        }
    }
}
