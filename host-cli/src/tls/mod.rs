//! DICOM over TLS (PS3.15 B.1): echoscu's TLS options with DCMTK's spelling and meaning, on rustls 0.23.
//!
//! The crypto provider is *ring*: it builds with a C compiler alone (no cmake, no Go, no NASM as aws-lc-rs may need),
//! compiles faster and links a smaller binary, and has every suite BCP 195 wants (ECDHE with AES-GCM or
//! ChaCha20-Poly1305, TLS 1.2 and 1.3). rustls has no CBC, no RSA key exchange, no finite-field DHE and no NULL
//! suites: the retired DICOM profiles that need them (`+pa`, `+pn`) are refused, and `+dp` has nothing to act on.
//!
//! [`TlsTransport`] wraps the connected [`TcpTransport`] (which keeps the read deadlines, TCP_NODELAY and quick ACKs)
//! and implements the core's blocking `Transport`, so the same driver runs over TCP and over TLS. The handshake is
//! done before the association starts and is bounded by the ACSE timeout and the overall deadline.
//!
//! Peer certificates, client side: like DCMTK, the chain is verified against the trusted certificates (`+cf`, `+cd`)
//! and the validity period is checked, but the host name is not (DCMTK does not either); `--verify-host-name` adds the
//! name check (exit code 83). `-ic` accepts any server certificate (handshake signatures are still checked, so the
//! connection is encrypted, but not authenticated). A TLS server always presents a certificate, so `-vc` is `-rc`
//! for the client. Server side (`echoprobe scp`): `-rc` (default) requires a client certificate signed by a trusted
//! CA, `-vc` verifies one if the client sends it, `-ic` does not ask for one. CRLs (`+crl`, or PEM CRLs in a `+cd`
//! directory) are checked for the peer's certificate (`+crv`, implied by `+crl`) or the whole chain (`+cra`).
//!
//! Files: PEM through `rustls-pki-types` (`-der`: DER); encrypted private keys in both of OpenSSL's forms, PKCS#8
//! (`ENCRYPTED PRIVATE KEY`, through RustCrypto's `pkcs8`) and the legacy `Proc-Type: 4,ENCRYPTED` PEM (a small
//! decoder below), with `+pw`, `-pw` or `+ps` (one line from stdin, prompted for only on a terminal, waited for at
//! most 30 s or until the deadline). Every file is read before any connection, so a
//! bad file is exit code 84 whatever the peer does. `+vc`/`+rc` are DCMTK's offline certificate checks.

//!
//! Files by job: `options.rs` (the clap options and their checks), `suites.rs`, `keys.rs` (with `legacy.rs` for
//! OpenSSL's old encrypted PEM), `verify.rs`, `setup.rs` (client and server configurations), `transport.rs` and
//! `offline.rs` (+vc, +rc).

mod explain;
mod keys;
mod legacy;
mod offline;
mod options;
mod setup;
mod suites;
mod transport;
mod verify;

pub(crate) use keys::PasswordWait;
pub(crate) use offline::run_offline;
#[cfg(test)]
pub(crate) use options::PeerCert;
pub use options::TlsOptions;
pub(crate) use options::{Offline, Parsed, Role, TlsCli};
pub(crate) use setup::{ClientSetup, ServerSetup};
pub use transport::Session;
pub(crate) use transport::{
    after, classify_client_io, server_name, session_of, HandshakeError, TlsTransport,
};

use keys::*;
use options::*;
use suites::*;
use transport::classify_rustls;
use verify::*;
