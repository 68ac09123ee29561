//! TLS over the TCP transport: the handshake bounded by a deadline, the core's blocking `Transport` on the
//! plaintext, and rustls errors mapped to their exit codes.

use core::time::Duration;
use std::io::{self, Read as _, Write as _};

use echoprobe_core::io::blocking::Transport;
use echoprobe_core::time::Instant;
use rustls::pki_types::ServerName;
use rustls::{AlertDescription, CertificateError};

use crate::exit::{Failure, TlsError};
use crate::net::{Dumps, TcpTransport};

use super::*;

/// `std::io` view of the TCP transport for rustls's `read_tls`/`write_tls` (keeps its deadlines).
pub(super) struct Io<'a>(&'a mut TcpTransport);

impl io::Read for Io<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        embedded_io::Read::read(self.0, buf)
    }
}

impl io::Write for Io<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        embedded_io::Write::write(self.0, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        embedded_io::Write::flush(self.0)
    }
}

/// A TLS connection over a [`TcpTransport`], as the core's blocking `Transport`.
pub(crate) struct TlsTransport {
    pub(super) conn: rustls::Connection,
    pub(super) tcp: TcpTransport,
    pub(super) dumps: Option<Dumps>,
    pub(super) client: Option<ClientSetup>,
}

impl core::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsTransport")
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

/// What the handshake settled on, for `-v`.
#[derive(Debug, Clone)]
pub struct Session {
    pub version: String,
    pub suite: String,
    pub peer_certificates: usize,
}

impl core::fmt::Display for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}, {}, peer sent {} certificate{}",
            self.version,
            self.suite,
            self.peer_certificates,
            if self.peer_certificates == 1 { "" } else { "s" }
        )
    }
}

/// How a handshake ended badly.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// The read deadline passed.
    TimedOut,
    /// Anything else: TLS error or I/O error.
    Failed(TlsError, String),
}

impl TlsTransport {
    /// Starts a client connection over `tcp` (which must not dump PDUs itself: this transport dumps the plaintext).
    /// `host` is the peer name as given (for SNI and, with `--verify-host-name`, the name check).
    pub(crate) fn client(
        tcp: TcpTransport,
        setup: &ClientSetup,
        host: &str,
        dump_prefix: Option<String>,
    ) -> Result<Self, Failure> {
        let name = server_name(setup, host)?;
        let conn = rustls::ClientConnection::new(setup.config.clone(), name)
            .map_err(|e| Failure::Local(format!("TLS setup failed: {e}")))?;
        Ok(TlsTransport {
            conn: conn.into(),
            tcp,
            dumps: dump_prefix.map(Dumps::new),
            client: Some(setup.clone()),
        })
    }

    /// Starts a server connection over `tcp`.
    pub(crate) fn server(
        tcp: TcpTransport,
        setup: &ServerSetup,
        dump_prefix: Option<String>,
    ) -> Result<Self, String> {
        let conn =
            rustls::ServerConnection::new(setup.config.clone()).map_err(|e| e.to_string())?;
        Ok(TlsTransport {
            conn: conn.into(),
            tcp,
            dumps: dump_prefix.map(Dumps::new),
            client: None,
        })
    }

    /// Runs the handshake to its end or until `deadline`.
    pub(crate) fn handshake(&mut self, deadline: Instant) -> Result<Session, HandshakeError> {
        let result = self.tcp.set_read_deadline(Some(deadline)).and_then(|()| {
            while self.conn.is_handshaking() {
                self.conn.complete_io(&mut Io(&mut self.tcp))?;
            }
            self.flush_tls()
        });
        match result {
            Ok(()) => Ok(self.session()),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(HandshakeError::TimedOut),
            Err(e) => {
                let (kind, detail) = self.classify(&e, true);
                Err(HandshakeError::Failed(kind, detail))
            }
        }
    }

    fn session(&self) -> Session {
        session_of(&self.conn)
    }

    /// What a TLS-level error means, as an exit code class and a text. `handshaking`: the error ended the handshake
    /// (a close there is a handshake failure, not a DICOM-level close).
    pub(crate) fn classify(&self, e: &io::Error, handshaking: bool) -> (TlsError, String) {
        classify_client_io(self.client.as_ref(), e, handshaking)
    }

    /// Sends close_notify (best effort) and shuts the TCP connection down.
    pub(crate) fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush_tls();
        self.tcp.close();
    }

    fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut Io(&mut self.tcp))?;
        }
        Ok(())
    }
}

/// What a TLS-level error on a connection made with `client` (`None`: a server's) means, as an exit code class and a
/// text; see [`TlsTransport::classify`]. The daemon's async check uses it on its tokio-rustls connections.
pub(crate) fn classify_client_io(
    client: Option<&ClientSetup>,
    e: &io::Error,
    handshaking: bool,
) -> (TlsError, String) {
    let asked = client.is_some_and(ClientSetup::asked_for_cert);
    let have_cert = client.is_some_and(|c| c.cert.key.is_some());
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(err) => classify_rustls(err, asked && !have_cert),
        None if handshaking
            && matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ) =>
        {
            if asked && !have_cert {
                (
                    TlsError::CertificateRequired,
                    "the peer asked for a client certificate, we have none (+tla), and it closed the \
                     connection during the TLS handshake; use +tls KEY CERT"
                        .to_string(),
                )
            } else {
                (
                    TlsError::Handshake,
                    format!(
                        "the peer closed the connection during the TLS handshake ({e}); does it speak TLS \
                         on this port?"
                    ),
                )
            }
        }
        None => (TlsError::Handshake, format!("TLS I/O error: {e}")),
    }
}

/// What a handshake settled on, from any rustls connection's state.
pub(crate) fn session_of(conn: &rustls::CommonState) -> Session {
    Session {
        version: conn.protocol_version().map_or_else(
            || "?".to_string(),
            |v| {
                format!("{v:?}")
                    .replace('_', ".")
                    .replace("TLSv1.", "TLS 1.")
            },
        ),
        suite: conn
            .negotiated_cipher_suite()
            .map_or("?", suite_name)
            .to_string(),
        peer_certificates: conn.peer_certificates().map_or(0, <[_]>::len),
    }
}

/// The name a client connection to `host` presents (SNI) and, with `--verify-host-name`, checks.
pub(crate) fn server_name(setup: &ClientSetup, host: &str) -> Result<ServerName<'static>, Failure> {
    match ServerName::try_from(host.to_string()) {
        Ok(n) => Ok(n),
        Err(_) if !setup.verify_host_name => Ok(ServerName::IpAddress(
            core::net::Ipv4Addr::UNSPECIFIED.into(),
        )),
        Err(e) => Err(usage(format!(
            "--verify-host-name: '{host}' is not a host name: {e}"
        ))),
    }
}

/// A rustls error as an exit code class. `no_cert_sent`: the server asked for a client certificate and we had none.
pub(super) fn classify_rustls(err: &rustls::Error, no_cert_sent: bool) -> (TlsError, String) {
    use rustls::Error as E;
    use CertificateError as C;
    let text = super::explain::error(err);
    match err {
        E::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => (TlsError::Expired, format!("peer certificate expired: {text}")),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                (TlsError::Expired, format!("peer certificate not yet valid: {text}"))
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                (TlsError::NameMismatch, format!("peer certificate name mismatch: {text}"))
            }
            _ => (TlsError::Untrusted, format!("peer certificate not trusted: {text}")),
        },
        E::NoCertificatesPresented => (TlsError::Untrusted, "the peer sent no certificate".to_string()),
        E::AlertReceived(AlertDescription::CertificateRequired) => (
            TlsError::CertificateRequired,
            "the peer requires a client certificate (alert certificate_required); use +tls KEY CERT".to_string(),
        ),
        E::AlertReceived(a @ (AlertDescription::HandshakeFailure | AlertDescription::BadCertificate)) if no_cert_sent => (
            TlsError::CertificateRequired,
            format!(
                "the peer asked for a client certificate, we sent none (+tla), and it ended the handshake \
                 (alert {}); use +tls KEY CERT",
                super::explain::alert(*a)
            ),
        ),
        E::AlertReceived(a) => {
            let about_us = matches!(
                a,
                AlertDescription::BadCertificate
                    | AlertDescription::UnsupportedCertificate
                    | AlertDescription::CertificateRevoked
                    | AlertDescription::CertificateExpired
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::UnknownCA
            );
            let detail = if about_us {
                format!("the peer rejected our certificate (alert {})", super::explain::alert(*a))
            } else {
                format!("the peer ended the TLS handshake (alert {})", super::explain::alert(*a))
            };
            (TlsError::Handshake, detail)
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => (
            TlsError::Handshake,
            format!("the peer does not speak TLS as expected ({text}); is it a plain DICOM port?"),
        ),
        _ => (TlsError::Handshake, format!("TLS failure: {text}")),
    }
}

impl embedded_io::ErrorType for TlsTransport {
    type Error = io::Error;
}

impl embedded_io::Read for TlsTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => {
                    if let (Some(d), Some(data)) = (self.dumps.as_mut(), buf.get(..n)) {
                        d.received(data);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // A TCP close without close_notify: for length-framed PDUs truncation is detected by the PDU layer,
                // so this is a close like any other.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            self.flush_tls()?;
            let n = self.conn.read_tls(&mut Io(&mut self.tcp))?;
            if let Err(e) = self.conn.process_new_packets() {
                // Send our alert (best effort) before giving up.
                let _ = self.flush_tls();
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            if n == 0 {
                // TCP EOF, with or without close_notify: no more plaintext can come (any that came with the
                // last bytes was returned above before we read again).
                return Ok(0);
            }
        }
    }
}

impl embedded_io::Write for TlsTransport {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        let n = self.conn.writer().write(buf)?;
        if let (Some(d), Some(data)) = (self.dumps.as_mut(), buf.get(..n)) {
            d.sent(data);
        }
        self.flush_tls()?;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        self.flush_tls()?;
        embedded_io::Write::flush(&mut self.tcp)
    }
}

impl Transport for TlsTransport {
    fn now(&self) -> Instant {
        self.tcp.now()
    }

    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), io::Error> {
        self.tcp.set_read_deadline(deadline)
    }
}

/// `d` from now on the transport's clock.
pub(crate) fn after(t: &impl Transport, d: Duration) -> Instant {
    t.now() + crate::net::to_core(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_exit_codes() {
        use rustls::Error as E;
        use AlertDescription as A;
        use CertificateError as C;
        let cases = [
            (E::InvalidCertificate(C::UnknownIssuer), false, 81),
            (E::InvalidCertificate(C::BadSignature), false, 81),
            (E::InvalidCertificate(C::Revoked), false, 81),
            (E::InvalidCertificate(C::Expired), false, 82),
            (E::InvalidCertificate(C::NotValidYet), false, 82),
            (E::InvalidCertificate(C::NotValidForName), false, 83),
            (E::AlertReceived(A::CertificateRequired), false, 85),
            (E::AlertReceived(A::HandshakeFailure), true, 85),
            (E::AlertReceived(A::HandshakeFailure), false, 80),
            (E::AlertReceived(A::UnknownCA), false, 80),
            (E::NoCertificatesPresented, false, 81),
            (E::DecryptError, false, 80),
        ];
        for (err, no_cert_sent, code) in cases {
            let (kind, text) = classify_rustls(&err, no_cert_sent);
            assert_eq!(kind.code(), code, "{err:?}: {text}");
        }
        let (_, text) = classify_rustls(&E::AlertReceived(AlertDescription::UnknownCA), false);
        assert!(text.contains("rejected our certificate"), "{text}");
    }
}
