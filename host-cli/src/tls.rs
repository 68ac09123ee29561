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
//! decoder below), with `+pw`, `-pw` or `+ps` (one line from stdin). Every file is read before any connection, so a
//! bad file is exit code 84 whatever the peer does. `+vc`/`+rc` are DCMTK's offline certificate checks.

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{ArgAction, Args};
use echoprobe_core::io::blocking::Transport;
use echoprobe_core::time::Instant;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, Resumption, WebPkiServerVerifier};
use rustls::crypto::{ring, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    ServerConfig, SignatureScheme, SupportedCipherSuite,
};

use crate::exit::{Failure, TlsError};
use crate::net::{Dumps, TcpTransport};

// ---------------------------------------------------------------------------------------------------------------
// options

/// The TLS options of echoscu and storescp, in the long forms `args::translate` produces.
#[derive(Args, Debug, Default, Clone)]
pub(crate) struct TlsCli {
    /// [-tls] use a normal TCP/IP connection (default)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["enable_tls", "anonymous_tls"])]
    disable_tls: bool,
    /// [+tls] use authenticated TLS with this private key and certificate file
    #[arg(help_heading = "TLS options")]
    #[arg(long, num_args = 2, value_names = ["key", "cert"], allow_hyphen_values = true,
          overrides_with_all = ["disable_tls", "anonymous_tls"])]
    enable_tls: Option<Vec<String>>,
    /// [+tla] use TLS without a certificate of ours
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["disable_tls", "enable_tls"])]
    anonymous_tls: bool,
    /// [+ps] read the private key password as one line from stdin (default; only with +tls)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["use_passwd", "null_passwd"])]
    std_passwd: bool,
    /// [+pw] use this private key password (only with +tls)
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "password", overrides_with_all = ["std_passwd", "null_passwd"])]
    use_passwd: Option<String>,
    /// [-pw] use an empty private key password (only with +tls)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["std_passwd", "use_passwd"])]
    null_passwd: bool,
    /// [-pem] read keys and certificates as PEM (default)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "der_keys")]
    pem_keys: bool,
    /// [-der] read keys and certificates as DER
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "pem_keys")]
    der_keys: bool,
    /// [+cf] trust the certificates in this file (repeatable)
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "file", action = ArgAction::Append)]
    add_cert_file: Vec<PathBuf>,
    /// [+cd] trust the certificates in this directory (repeatable)
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "dir", action = ArgAction::Append)]
    add_cert_dir: Vec<PathBuf>,
    /// [+crl] add a certificate revocation list file (implies +crv)
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "file", action = ArgAction::Append)]
    add_crl_file: Vec<PathBuf>,
    /// [+crv] check the peer certificate against the CRLs (revoked: exit code 81)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue)]
    enable_crl_vfy: bool,
    /// [+cra] check the whole chain against the CRLs
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue)]
    enable_crl_all: bool,
    /// [+py] non-downgrading BCP 195 profile: TLS 1.2 and 1.3, ECDHE with AES-GCM or ChaCha20 (default)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["profile_bcp195", "profile_bcp195_ex"])]
    profile_bcp195_nd: bool,
    /// [+px] BCP 195 profile (the same as +py with rustls)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["profile_bcp195_nd", "profile_bcp195_ex"])]
    profile_bcp195: bool,
    /// [+pz] extended BCP 195 profile: TLS 1.2 only, the four ECDHE AES-GCM suites, as DCMTK
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["profile_bcp195_nd", "profile_bcp195"])]
    profile_bcp195_ex: bool,
    /// [+cc] list the supported TLS cipher suites and exit
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue)]
    list_ciphers: bool,
    /// [+cs] add a cipher suite (IANA or OpenSSL name) to the negotiated ones (repeatable; not with +pz)
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "ciphersuite", action = ArgAction::Append)]
    cipher: Vec<String>,
    /// [+dp] accepted and unused: rustls has no DHE suites
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "file")]
    dhparam: Option<String>,
    /// [+rs] accepted and unused: rustls seeds from the operating system
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "file")]
    seed: Option<String>,
    /// [+ws] accepted, writes nothing (only with +rs)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue)]
    write_seed: bool,
    /// [+wf] accepted, writes nothing (only with +rs)
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "file")]
    write_seed_file: Option<String>,
    /// [-rc] verify the peer certificate, fail if absent (default)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["verify_peer_cert", "ignore_peer_cert"])]
    require_peer_cert: bool,
    /// [-vc] verify the peer certificate if present (a client: the same as -rc)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["require_peer_cert", "ignore_peer_cert"])]
    verify_peer_cert: bool,
    /// [-ic] do not verify the peer certificate (dangerous)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["require_peer_cert", "verify_peer_cert"])]
    ignore_peer_cert: bool,
    /// also check that the server certificate names the peer (DCMTK does not; exit code 83)
    #[arg(help_heading = "TLS options")]
    #[arg(long, action = ArgAction::SetTrue)]
    verify_host_name: bool,
    /// [+vc] verify this certificate against +cf/+cd/+crl and exit (needs +tla or +tls)
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "file")]
    verify_cert: Option<PathBuf>,
    /// [+rc] check whether this certificate is a self-signed root CA and exit
    #[arg(help_heading = "TLS options")]
    #[arg(long, value_name = "file")]
    is_root_cert: Option<PathBuf>,
}

/// Which side of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// echoscu mode.
    Client,
    /// `echoprobe scp`.
    Server,
}

/// Our own identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    /// `+tls KEY CERT`.
    KeyAndCert { key: PathBuf, cert: PathBuf },
    /// `+tla`: no certificate of ours.
    Anonymous,
}

/// `-rc`, `-vc`, `-ic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerCert {
    /// Verify, fail if absent (default).
    Require,
    /// Verify if present.
    Verify,
    /// Do not verify (client: accept any server certificate; server: do not ask for one).
    Ignore,
}

/// `+py`, `+px`, `+pz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Non-downgrading BCP 195 (default): TLS 1.2 and 1.3, ECDHE with AEAD suites.
    Bcp195Nd,
    /// BCP 195: the same in rustls (it cannot downgrade below TLS 1.2 nor do DHE/CBC suites).
    Bcp195,
    /// Extended BCP 195: TLS 1.2 only, with the four ECDHE AES-GCM suites of RFC 7525 4.2 (what DCMTK 3.6.7's
    /// `+pz` negotiates: TLS 1.2, e.g. TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384).
    Bcp195Ex,
}

/// Revocation checking with CRLs (`+crl`, `+crv`, `+cra`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// No CRL checks (default).
    Off,
    /// The peer's own certificate (`+crv`, implied by `+crl`).
    Leaf,
    /// Every certificate of the chain but the root (`+cra`).
    Chain,
}

/// How to read our key and certificate files (`-pem`, `-der`); also used for `+cf` files as DCMTK does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Pem,
    Der,
}

/// Validated TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    pub(crate) identity: Identity,
    pub(crate) format: Format,
    /// `+pw PASSWORD` or `-pw` (empty); `None`: `+ps`, prompt (the default).
    pub(crate) password: Option<String>,
    pub(crate) ca_files: Vec<PathBuf>,
    pub(crate) ca_dirs: Vec<PathBuf>,
    /// `+crl` files (CRLs in `+cd` directories are used too).
    pub(crate) crl_files: Vec<PathBuf>,
    pub(crate) revocation: Revocation,
    pub(crate) peer_cert: PeerCert,
    pub(crate) profile: Profile,
    /// Suites named by `+cs`, as rustls suites.
    pub(crate) ciphers: Vec<&'static str>,
    /// `--verify-host-name` (client): also check the server certificate's name against the peer name.
    pub(crate) verify_host_name: bool,
    /// What accepted options do not change here, said once at `-v`.
    pub(crate) notes: Vec<String>,
}

/// What the TLS options ask for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Plain TCP.
    Off,
    /// TLS with these settings.
    On(TlsOptions),
    /// `+cc`: print this list and exit 0.
    ListCiphers(String),
    /// `+vc` or `+rc`: an offline certificate check, then exit.
    Offline(Offline),
}

/// DCMTK's offline certificate checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Offline {
    /// `+vc FILE`: verify FILE (and the intermediates after it in the file) against the trusted certificates and
    /// CRLs of these options.
    VerifyCert(PathBuf, Box<TlsOptions>),
    /// `+rc FILE`: is FILE a valid, self-signed root CA certificate?
    IsRootCert(PathBuf, Format),
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(msg.into())
}

impl TlsCli {
    /// Validates the TLS options for `role`. Options that need TLS are refused when TLS is off (DCMTK does the
    /// same), never silently ignored.
    pub(crate) fn parse(self, role: Role) -> Result<Parsed, Failure> {
        if self.list_ciphers {
            return Ok(Parsed::ListCiphers(cipher_list()));
        }
        if let Some(file) = self.is_root_cert {
            let format = if self.der_keys {
                Format::Der
            } else {
                Format::Pem
            };
            return Ok(Parsed::Offline(Offline::IsRootCert(file, format)));
        }
        let identity = match (self.enable_tls, self.anonymous_tls) {
            (Some(files), _) => {
                let [key, cert] = <[String; 2]>::try_from(files).map_err(|_| {
                    usage("option --enable-tls needs two values: private key file and certificate file")
                })?;
                Some(Identity::KeyAndCert {
                    key: key.into(),
                    cert: cert.into(),
                })
            }
            (None, true) if role == Role::Server => {
                return Err(usage(
                    "scp: --anonymous-tls (+tla) is for clients; a TLS server needs +tls KEY CERT",
                ))
            }
            (None, true) => Some(Identity::Anonymous),
            (None, false) => None,
        };
        let Some(identity) = identity else {
            if self.verify_cert.is_some() {
                return Err(usage(
                    "+vc (--verify-cert) needs trusted certificates: +tla +cf FILE (or +cd DIR)",
                ));
            }
            let given: Vec<&str> = [
                (self.use_passwd.is_some(), "+pw"),
                (self.null_passwd, "-pw"),
                (self.std_passwd, "+ps"),
                (self.der_keys, "-der"),
                (!self.add_cert_file.is_empty(), "+cf"),
                (!self.add_cert_dir.is_empty(), "+cd"),
                (!self.add_crl_file.is_empty(), "+crl"),
                (self.enable_crl_vfy, "+crv"),
                (self.enable_crl_all, "+cra"),
                (self.profile_bcp195, "+px"),
                (self.profile_bcp195_ex, "+pz"),
                (!self.cipher.is_empty(), "+cs"),
                (self.dhparam.is_some(), "+dp"),
                (self.seed.is_some(), "+rs"),
                (self.write_seed, "+ws"),
                (self.write_seed_file.is_some(), "+wf"),
                (self.verify_peer_cert, "-vc"),
                (self.ignore_peer_cert, "-ic"),
                (self.verify_host_name, "--verify-host-name"),
            ]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
            if !given.is_empty() {
                return Err(usage(format!(
                    "{} only with +tls (--enable-tls) or +tla (--anonymous-tls)",
                    given.join(", ")
                )));
            }
            return Ok(Parsed::Off);
        };
        let mut notes = Vec::new();
        let password = match (self.use_passwd, self.null_passwd) {
            (Some(p), _) => Some(p),
            (None, true) => Some(String::new()),
            (None, false) => None,
        };
        if password.is_some() && identity == Identity::Anonymous {
            return Err(usage("+pw/-pw only with +tls (a private key to decrypt)"));
        }
        let profile = if self.profile_bcp195 {
            notes.push(
                "+px (BCP 195): rustls never negotiates below TLS 1.2 and has no DHE or CBC suites, \
                 so this is the same as +py"
                    .to_string(),
            );
            Profile::Bcp195
        } else if self.profile_bcp195_ex {
            if !self.cipher.is_empty() {
                return Err(usage("+cs (--cipher) not with +pz (--profile-bcp195-ex)"));
            }
            Profile::Bcp195Ex
        } else {
            Profile::Bcp195Nd
        };
        let mut ciphers = Vec::new();
        for name in &self.cipher {
            let suite = find_suite(name).ok_or_else(|| {
                usage(format!(
                    "ciphersuite '{name}' is not supported: echoprobe (rustls) offers only ECDHE with AES-GCM or \
                     ChaCha20-Poly1305 (TLS 1.2) and the TLS 1.3 suites; see +cc for the list"
                ))
            })?;
            ciphers.push(suite_name(suite));
        }
        if !ciphers.is_empty() {
            notes.push(format!(
                "+cs {}: every suite rustls has is already in the profile's list, so +cs adds nothing",
                ciphers.join(", ")
            ));
        }
        if let Some(f) = &self.dhparam {
            notes.push(format!(
                "+dp {f}: DH parameters are not used (rustls has no finite-field DHE suites; ECDHE only)"
            ));
        }
        if self.write_seed && self.seed.is_none()
            || self.write_seed_file.is_some() && self.seed.is_none()
        {
            return Err(usage("+ws/+wf only with +rs (--seed)"));
        }
        if let Some(f) = &self.seed {
            notes.push(format!(
                "+rs {f}: not read; rustls seeds from the operating system's random generator (+ws/+wf write nothing)"
            ));
        }
        let peer_cert = if self.ignore_peer_cert {
            PeerCert::Ignore
        } else if self.verify_peer_cert {
            if role == Role::Client {
                notes.push(
                    "-vc: a TLS server always presents a certificate, so for a client this is -rc"
                        .to_string(),
                );
            }
            PeerCert::Verify
        } else {
            PeerCert::Require
        };
        let trusted = !self.add_cert_file.is_empty() || !self.add_cert_dir.is_empty();
        if peer_cert != PeerCert::Ignore && !trusted {
            return Err(usage(match role {
                Role::Client => {
                    "verifying the server certificate (-rc, the default) needs trusted certificates: \
                     +cf FILE or +cd DIR (or -ic to accept any server certificate: encrypted but not authenticated)"
                }
                Role::Server => {
                    "verifying client certificates (-rc, the default) needs trusted certificates: \
                     +cf FILE or +cd DIR (or -ic to not ask clients for a certificate)"
                }
            }));
        }
        if self.verify_host_name && (role == Role::Server || peer_cert == PeerCert::Ignore) {
            return Err(usage(
                "--verify-host-name only for a client that verifies the server (-rc/-vc)",
            ));
        }
        if peer_cert == PeerCert::Ignore && trusted {
            notes.push("-ic: the trusted certificates (+cf/+cd) are not used".to_string());
        }
        let revocation = if self.enable_crl_all {
            Revocation::Chain
        } else if self.enable_crl_vfy || !self.add_crl_file.is_empty() {
            Revocation::Leaf
        } else {
            Revocation::Off
        };
        if revocation != Revocation::Off && peer_cert == PeerCert::Ignore {
            return Err(usage(
                "+crl/+crv/+cra check the peer certificate, which -ic does not verify",
            ));
        }
        let options = TlsOptions {
            identity,
            format: if self.der_keys {
                Format::Der
            } else {
                Format::Pem
            },
            password,
            ca_files: self.add_cert_file,
            ca_dirs: self.add_cert_dir,
            crl_files: self.add_crl_file,
            revocation,
            peer_cert,
            profile,
            ciphers,
            verify_host_name: self.verify_host_name,
            notes,
        };
        Ok(match self.verify_cert {
            Some(file) => Parsed::Offline(Offline::VerifyCert(file, Box::new(options))),
            None => Parsed::On(options),
        })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// cipher suites

/// OpenSSL names of the suites rustls (ring) has, next to their IANA/DCMTK names.
const OPENSSL_NAMES: &[(&str, &str)] = &[
    ("TLS_AES_256_GCM_SHA384", "TLS13_AES_256_GCM_SHA384"),
    ("TLS_AES_128_GCM_SHA256", "TLS13_AES_128_GCM_SHA256"),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS13_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
];

/// The IANA name rustls uses for a suite (`TLS13_...` for TLS 1.3).
fn suite_name(suite: SupportedCipherSuite) -> &'static str {
    suite.suite().as_str().unwrap_or("unknown")
}

/// A suite by its IANA (DCMTK) name, its OpenSSL name, or rustls's `TLS13_` name.
fn find_suite(name: &str) -> Option<SupportedCipherSuite> {
    let wanted = OPENSSL_NAMES
        .iter()
        .find(|(openssl, _)| *openssl == name)
        .map_or(name, |(_, iana)| *iana);
    ring::ALL_CIPHER_SUITES
        .iter()
        .copied()
        .find(|s| suite_name(*s) == wanted)
}

/// `+cc`: the suites, DCMTK's names first (as its +cc prints them), then OpenSSL's.
pub(crate) fn cipher_list() -> String {
    let mut s = String::from(
        "Supported TLS ciphersuites are (rustls with ring; IANA name, OpenSSL name):\n",
    );
    for suite in ring::ALL_CIPHER_SUITES {
        let name = suite_name(*suite);
        let openssl = OPENSSL_NAMES
            .iter()
            .find(|(_, iana)| *iana == name)
            .map_or("", |(o, _)| *o);
        let iana = name.replace("TLS13_", "TLS_");
        s.push_str(&format!("  {iana:<46} {openssl}\n"));
    }
    s
}

/// The RFC 7525 section 4.2 suites (+pz).
const BCP195_EX_TLS12: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

fn provider(profile: Profile) -> Arc<CryptoProvider> {
    let mut p = ring::default_provider();
    if profile == Profile::Bcp195Ex {
        p.cipher_suites
            .retain(|s| BCP195_EX_TLS12.contains(&suite_name(*s)));
    }
    Arc::new(p)
}

/// TLS 1.3 and 1.2.
const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
/// TLS 1.2 only (+pz).
const TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// The protocol versions of a profile.
fn versions(profile: Profile) -> &'static [&'static rustls::SupportedProtocolVersion] {
    match profile {
        Profile::Bcp195Ex => TLS12_ONLY,
        Profile::Bcp195Nd | Profile::Bcp195 => VERSIONS,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// files

fn files_failure(msg: String) -> Failure {
    Failure::TlsFiles(msg)
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| files_failure(format!("cannot read {what} {}: {e}", path.display())))
}

fn load_certs(
    path: &Path,
    format: Format,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, Failure> {
    let bytes = read(path, what)?;
    let certs = match format {
        Format::Der => vec![CertificateDer::from(bytes)],
        Format::Pem => CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| files_failure(format!("{what} {}: bad PEM: {e}", path.display())))?,
    };
    if certs.is_empty() {
        return Err(files_failure(format!(
            "{what} {}: no PEM certificate in it (a DER file needs -der)",
            path.display()
        )));
    }
    Ok(certs)
}

/// The password for an encrypted key: `+pw`/`-pw`, else (`+ps`, the default) one line from stdin, as DCMTK prompts
/// for it. A closed or empty stdin is an error that says how to pass the password.
fn password_for(path: &Path, given: &Option<String>) -> Result<String, Failure> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    crate::log::stderr_line(format_args!(
        "Enter PEM pass phrase for {}:",
        path.display()
    ));
    // Read on a helper thread so that a stdin that stays open and silent cannot hold a health check forever.
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("password".into())
        .spawn(move || {
            let mut line = String::new();
            let got = std::io::stdin()
                .read_line(&mut line)
                .ok()
                .filter(|n| *n > 0);
            let _ = tx.send(got.map(|_| line));
        });
    let line = match spawned {
        Ok(_) => rx.recv_timeout(PASSWORD_WAIT).ok().flatten(),
        Err(_) => None,
    };
    line.map(|l| l.trim_end_matches(['\r', '\n']).to_string())
        .ok_or_else(|| {
            files_failure(format!(
                "private key {} is encrypted and no password was given: use +pw PASSWORD (or -pw for an \
                 empty one); +ps (the default) reads one line from stdin, which was empty or silent for {} s",
                path.display(),
                PASSWORD_WAIT.as_secs()
            ))
        })
}

/// How long `+ps` waits for the password on stdin.
const PASSWORD_WAIT: Duration = Duration::from_secs(30);

/// Said when an encrypted PKCS#8 key cannot be parsed: the old PBES1 schemes (`openssl pkcs8 -v1 ...`) are not
/// supported, only PBES2.
const PBES1_HINT: &str = ": only PBES2 encryption (PBKDF2 or scrypt, with AES or 3DES) is supported; re-encrypt an \
                          old PBES1 key (openssl pkcs8 -v1) with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out \
                          NEWKEY`";

fn wrong_password(path: &Path, e: impl core::fmt::Display) -> Failure {
    files_failure(format!(
        "cannot decrypt private key {} (wrong password?): {e}",
        path.display()
    ))
}

/// The one PEM block of `text` with `label`, whole (BEGIN and END lines included).
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text.get(start..)?.find(&end)? + start + end.len();
    text.get(start..stop)
}

fn decrypt_pkcs8(
    der: &[u8],
    path: &Path,
    given: &Option<String>,
) -> Result<PrivateKeyDer<'static>, Failure> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|e| {
        files_failure(format!(
            "private key {}: unsupported or bad encrypted PKCS#8 ({e}){PBES1_HINT}",
            path.display()
        ))
    })?;
    let password = password_for(path, given)?;
    let plain = info
        .decrypt(password)
        .map_err(|e| wrong_password(path, e))?;
    Ok(PrivateKeyDer::Pkcs8(plain.as_bytes().to_vec().into()))
}

fn load_key(
    path: &Path,
    format: Format,
    given: &Option<String>,
) -> Result<PrivateKeyDer<'static>, Failure> {
    let bytes = read(path, "private key")?;
    match format {
        Format::Pem => {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(block) = pem_block(&text, "ENCRYPTED PRIVATE KEY") {
                let (_, doc) = pkcs8::SecretDocument::from_pem(block).map_err(|e| {
                    files_failure(format!("private key {}: bad PEM: {e}", path.display()))
                })?;
                return decrypt_pkcs8(doc.as_bytes(), path, given);
            }
            if text.contains("Proc-Type: 4,ENCRYPTED") {
                return legacy::decrypt(&text, path, given);
            }
            PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
                files_failure(format!(
                    "private key {}: no PEM private key in it ({e}; a DER file needs -der)",
                    path.display()
                ))
            })
        }
        Format::Der => {
            // An EncryptedPrivateKeyInfo starts with a SEQUENCE (the algorithm), a plain key with an INTEGER.
            if pkcs8::EncryptedPrivateKeyInfo::try_from(bytes.as_slice()).is_ok() {
                return decrypt_pkcs8(&bytes, path, given);
            }
            PrivateKeyDer::try_from(bytes).map_err(|e| {
                files_failure(format!(
                    "private key {}: not a DER PKCS#8, PKCS#1 or SEC1 key ({e}); if it is encrypted{PBES1_HINT}",
                    path.display()
                ))
            })
        }
    }
}

/// OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: CIPHER,IV`), as `openssl genrsa -aes256`
/// and `openssl ec -aes256` write it: the key is EVP_BytesToKey(MD5, password, salt = first 8 bytes of the IV,
/// 1 round), the body is CBC with PKCS#7 padding. AES-128/192/256-CBC and DES-EDE3-CBC are supported.
mod legacy {
    use std::path::Path;

    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockDecryptMut, KeyIvInit};
    use base64ct::{Base64, Encoding};
    use md5::{Digest, Md5};
    use rustls::pki_types::PrivateKeyDer;

    use super::{files_failure, password_for, wrong_password};
    use crate::exit::Failure;

    /// EVP_BytesToKey with MD5 and one round: D_1 = MD5(pass || salt), D_i = MD5(D_{i-1} || pass || salt).
    pub(super) fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
        let mut key = Vec::with_capacity(len + 16);
        let mut prev: Vec<u8> = Vec::new();
        while key.len() < len {
            let mut h = Md5::new();
            h.update(&prev);
            h.update(password);
            h.update(salt);
            prev = h.finalize().to_vec();
            key.extend_from_slice(&prev);
        }
        key.truncate(len);
        key
    }

    fn cbc<C>(key: &[u8], iv: &[u8], data: &mut [u8]) -> Option<usize>
    where
        cbc::Decryptor<C>: KeyIvInit + BlockDecryptMut,
        C: aes::cipher::BlockCipher + aes::cipher::BlockDecryptMut,
    {
        let d = <cbc::Decryptor<C> as KeyIvInit>::new_from_slices(key, iv).ok()?;
        d.decrypt_padded_mut::<Pkcs7>(data).ok().map(<[u8]>::len)
    }

    fn hex(s: &str) -> Option<Vec<u8>> {
        if s.len() % 2 != 0 {
            return None;
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    }

    /// Decrypts the first legacy-encrypted private key block of `text`.
    pub(super) fn decrypt(
        text: &str,
        path: &Path,
        given: &Option<String>,
    ) -> Result<PrivateKeyDer<'static>, Failure> {
        let bad = |why: &str| files_failure(format!("private key {}: {why}", path.display()));
        let mut lines = text.lines().map(str::trim);
        let label = lines
            .by_ref()
            .find_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
            .ok_or_else(|| bad("no PEM block"))?
            .to_string();
        let mut dek = None;
        let mut body = String::new();
        for line in lines.by_ref() {
            if line.starts_with("-----END ") {
                break;
            }
            if let Some(v) = line.strip_prefix("DEK-Info:") {
                dek = Some(v.trim().to_string());
            } else if !line.contains(':') {
                body.push_str(line);
            }
        }
        let dek = dek.ok_or_else(|| bad("encrypted PEM without DEK-Info"))?;
        let (cipher, iv_hex) = dek.split_once(',').ok_or_else(|| bad("bad DEK-Info"))?;
        let iv = hex(iv_hex.trim()).ok_or_else(|| bad("bad IV in DEK-Info"))?;
        let key_len = match cipher {
            "AES-128-CBC" => 16,
            "AES-192-CBC" => 24,
            "AES-256-CBC" => 32,
            "DES-EDE3-CBC" => 24,
            other => {
                return Err(bad(&format!(
                    "cipher {other} is not supported (AES-128/192/256-CBC, DES-EDE3-CBC are); convert the key with \
                     `openssl pkey -in KEY -out key.pem -aes256`"
                )))
            }
        };
        let salt = iv.get(..8).ok_or_else(|| bad("IV shorter than 8 bytes"))?;
        let mut data = Base64::decode_vec(&body).map_err(|_| bad("bad base64"))?;
        let password = password_for(path, given)?;
        let key = bytes_to_key(password.as_bytes(), salt, key_len);
        let n = match cipher {
            "AES-128-CBC" => cbc::<aes::Aes128>(&key, &iv, &mut data),
            "AES-192-CBC" => cbc::<aes::Aes192>(&key, &iv, &mut data),
            "AES-256-CBC" => cbc::<aes::Aes256>(&key, &iv, &mut data),
            _ => cbc::<des::TdesEde3>(&key, &iv, &mut data),
        }
        .ok_or_else(|| wrong_password(path, "bad padding after decryption"))?;
        data.truncate(n);
        let key = match label.as_str() {
            "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(data.into()),
            "EC PRIVATE KEY" => PrivateKeyDer::Sec1(data.into()),
            "PRIVATE KEY" => PrivateKeyDer::Pkcs8(data.into()),
            other => return Err(bad(&format!("unexpected PEM label {other}"))),
        };
        Ok(key)
    }
}

/// Said when webpki meets an X.509 v1 certificate (`openssl x509 -req` without extensions makes those).
const V1_HINT: &str =
    " (only X.509 v3 certificates are accepted; `openssl x509 -req` makes v1 ones unless given \
                       extensions, e.g. -extfile with basicConstraints=CA:FALSE)";

fn load_identity(
    key: &Path,
    cert: &Path,
    o: &TlsOptions,
    p: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, Failure> {
    let certs = load_certs(cert, o.format, "certificate")?;
    let key_der = load_key(key, o.format, &o.password)?;
    CertifiedKey::from_der(certs, key_der, p)
        .map(Arc::new)
        .map_err(|e| {
            let hint = if e.to_string().contains("UnsupportedCertVersion") {
                V1_HINT
            } else {
                ""
            };
            files_failure(format!(
                "private key {} and certificate {} cannot be used together: {e}{hint}",
                key.display(),
                cert.display()
            ))
        })
}

/// The trusted certificates of `+cf` and `+cd`. Files in a `+cd` directory that hold no certificate are skipped
/// (OpenSSL's hashed directories hold other files too) and counted in the returned note.
fn load_roots(o: &TlsOptions) -> Result<(RootCertStore, Option<String>), Failure> {
    let mut roots = RootCertStore::empty();
    let add = |roots: &mut RootCertStore, certs: Vec<CertificateDer<'static>>, path: &Path| {
        for c in certs {
            roots.add(c).map_err(|e| {
                files_failure(format!("trusted certificate {}: {e}", path.display()))
            })?;
        }
        Ok::<(), Failure>(())
    };
    for f in &o.ca_files {
        let certs = load_certs(f, o.format, "trusted certificate file")?;
        add(&mut roots, certs, f)?;
    }
    let mut skipped = 0usize;
    for dir in &o.ca_dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            files_failure(format!(
                "cannot read certificate directory {}: {e}",
                dir.display()
            ))
        })?;
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for p in paths {
            match load_certs(&p, o.format, "certificate") {
                Ok(certs) => add(&mut roots, certs, &p)?,
                Err(_) => skipped += 1,
            }
        }
    }
    if roots.is_empty() && o.peer_cert != PeerCert::Ignore {
        return Err(files_failure(
            "no trusted certificate found in the +cf files and +cd directories".to_string(),
        ));
    }
    let note =
        (skipped > 0).then(|| format!("+cd: skipped {skipped} file(s) that hold no certificate"));
    Ok((roots, note))
}

/// The CRLs of `+crl` files and of `+cd` directories (PEM `X509 CRL` blocks), when revocation checks are on.
fn load_crls(o: &TlsOptions) -> Result<Vec<CertificateRevocationListDer<'static>>, Failure> {
    if o.revocation == Revocation::Off {
        return Ok(Vec::new());
    }
    let mut crls = Vec::new();
    for f in &o.crl_files {
        let bytes = read(f, "CRL file")?;
        let found = match o.format {
            Format::Der => vec![CertificateRevocationListDer::from(bytes)],
            Format::Pem => CertificateRevocationListDer::pem_slice_iter(&bytes)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| files_failure(format!("CRL file {}: bad PEM: {e}", f.display())))?,
        };
        if found.is_empty() {
            return Err(files_failure(format!(
                "CRL file {}: no PEM CRL in it (a DER file needs -der)",
                f.display()
            )));
        }
        crls.extend(found);
    }
    for dir in &o.ca_dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue; // load_roots reports it
        };
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                crls.extend(CertificateRevocationListDer::pem_slice_iter(&bytes).flatten());
            }
        }
    }
    if crls.is_empty() {
        return Err(files_failure(
            "+crv/+cra: no CRL found (give one with +crl FILE, or put PEM CRLs in a +cd directory)"
                .to_string(),
        ));
    }
    Ok(crls)
}

// ---------------------------------------------------------------------------------------------------------------
// verifiers

/// rustls's WebPKI verifier (chain, validity, CRLs) without its host name check unless asked for: DCMTK does not
/// check the name. WebPKI checks the chain before the name, so a name error means everything else passed.
#[derive(Debug)]
struct ChainVerifier {
    inner: Arc<WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The client's verifier of server certificates (chain, validity, CRLs; the name with `--verify-host-name`).
fn chain_verifier(
    o: &TlsOptions,
    p: &Arc<CryptoProvider>,
    roots: RootCertStore,
) -> Result<ChainVerifier, Failure> {
    let crls = load_crls(o)?;
    let mut builder = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), p.clone());
    if !crls.is_empty() {
        builder = builder.with_crls(crls).enforce_revocation_expiration();
        if o.revocation == Revocation::Leaf {
            builder = builder.only_check_end_entity_revocation();
        }
    }
    let inner = builder
        .build()
        .map_err(|e| files_failure(format!("server certificate verifier: {e}")))?;
    Ok(ChainVerifier {
        inner,
        check_name: o.verify_host_name,
    })
}

/// DANGEROUS, for `-ic` only: accepts any server certificate without looking at it. The handshake signature is still
/// verified (so the session keys are bound to the certificate the server sent), but nothing says who the server is.
#[derive(Debug)]
struct DangerousAcceptAnyServerCert {
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for DangerousAcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Our client certificate (or none, for `+tla`), and whether the server asked for one: a handshake that fails after
/// the server asked and we had none is "client certificate required" (85), not a generic failure.
#[derive(Debug)]
struct ClientCert {
    key: Option<Arc<CertifiedKey>>,
    asked: AtomicBool,
}

impl ResolvesClientCert for ClientCert {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// configurations

/// A loaded client configuration: made once per run, before connecting (file errors are exit code 84 before any
/// network traffic).
#[derive(Debug, Clone)]
pub(crate) struct ClientSetup {
    config: Arc<ClientConfig>,
    cert: Arc<ClientCert>,
    verify_host_name: bool,
    /// Lines for `-v`.
    pub(crate) notes: Vec<String>,
}

impl ClientSetup {
    /// Loads the files and builds the rustls configuration.
    pub(crate) fn new(o: &TlsOptions) -> Result<Self, Failure> {
        let p = provider(o.profile);
        let mut notes = o.notes.clone();
        let key = match &o.identity {
            Identity::KeyAndCert { key, cert } => Some(load_identity(key, cert, o, &p)?),
            Identity::Anonymous => None,
        };
        let algs = p.signature_verification_algorithms;
        let verifier: Arc<dyn ServerCertVerifier> = if o.peer_cert == PeerCert::Ignore {
            notes.push(
                "-ic: the server certificate is NOT verified (encrypted, not authenticated)"
                    .to_string(),
            );
            Arc::new(DangerousAcceptAnyServerCert { algs })
        } else {
            let (roots, note) = load_roots(o)?;
            notes.extend(note);
            Arc::new(chain_verifier(o, &p, roots)?)
        };
        let cert = Arc::new(ClientCert {
            key,
            asked: AtomicBool::new(false),
        });
        let mut config = ClientConfig::builder_with_provider(p)
            .with_protocol_versions(versions(o.profile))
            .map_err(|e| files_failure(format!("TLS configuration: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(cert.clone());
        // One check per process: nothing to resume.
        config.resumption = Resumption::disabled();
        Ok(ClientSetup {
            config: Arc::new(config),
            cert,
            verify_host_name: o.verify_host_name,
            notes,
        })
    }

    /// Whether the server asked for a client certificate in the last handshake.
    fn asked_for_cert(&self) -> bool {
        self.cert.asked.load(Ordering::Relaxed)
    }
}

/// A loaded server configuration (made once at SCP start).
#[derive(Debug, Clone)]
pub(crate) struct ServerSetup {
    config: Arc<ServerConfig>,
    /// Lines for `-v`.
    pub(crate) notes: Vec<String>,
}

impl ServerSetup {
    /// Loads the files and builds the rustls configuration.
    pub(crate) fn new(o: &TlsOptions) -> Result<Self, Failure> {
        let p = provider(o.profile);
        let mut notes = o.notes.clone();
        let Identity::KeyAndCert { key, cert } = &o.identity else {
            return Err(usage("a TLS server needs +tls KEY CERT"));
        };
        let identity = load_identity(key, cert, o, &p)?;
        let verifier = match o.peer_cert {
            PeerCert::Ignore => WebPkiClientVerifier::no_client_auth(),
            PeerCert::Require | PeerCert::Verify => {
                let (roots, note) = load_roots(o)?;
                notes.extend(note);
                let crls = load_crls(o)?;
                let mut builder =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), p.clone());
                if !crls.is_empty() {
                    builder = builder.with_crls(crls).enforce_revocation_expiration();
                    if o.revocation == Revocation::Leaf {
                        builder = builder.only_check_end_entity_revocation();
                    }
                }
                let builder = if o.peer_cert == PeerCert::Verify {
                    builder.allow_unauthenticated()
                } else {
                    builder
                };
                builder
                    .build()
                    .map_err(|e| files_failure(format!("client certificate verifier: {e}")))?
            }
        };
        let mut config = ServerConfig::builder_with_provider(p)
            .with_protocol_versions(versions(o.profile))
            .map_err(|e| files_failure(format!("TLS configuration: {e}")))?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(identity)));
        // Health checks do not resume sessions: no tickets, no cache.
        config.send_tls13_tickets = 0;
        config.session_storage = Arc::new(NoServerSessionStorage {});
        Ok(ServerSetup {
            config: Arc::new(config),
            notes,
        })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// the transport

/// `std::io` view of the TCP transport for rustls's `read_tls`/`write_tls` (keeps its deadlines).
struct Io<'a>(&'a mut TcpTransport);

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
    conn: rustls::Connection,
    tcp: TcpTransport,
    dumps: Option<Dumps>,
    client: Option<ClientSetup>,
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
pub(crate) struct Session {
    pub(crate) version: String,
    pub(crate) suite: String,
    pub(crate) peer_certificates: usize,
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
        let name = match ServerName::try_from(host.to_string()) {
            Ok(n) => n,
            Err(_) if !setup.verify_host_name => {
                ServerName::IpAddress(core::net::Ipv4Addr::UNSPECIFIED.into())
            }
            Err(e) => {
                return Err(usage(format!(
                    "--verify-host-name: '{host}' is not a host name: {e}"
                )))
            }
        };
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
        Session {
            version: self.conn.protocol_version().map_or_else(
                || "?".to_string(),
                |v| {
                    format!("{v:?}")
                        .replace('_', ".")
                        .replace("TLSv1.", "TLS 1.")
                },
            ),
            suite: self
                .conn
                .negotiated_cipher_suite()
                .map_or("?", suite_name)
                .to_string(),
            peer_certificates: self.conn.peer_certificates().map_or(0, <[_]>::len),
        }
    }

    /// What a TLS-level error means, as an exit code class and a text. `handshaking`: the error ended the handshake
    /// (a close there is a handshake failure, not a DICOM-level close).
    pub(crate) fn classify(&self, e: &io::Error, handshaking: bool) -> (TlsError, String) {
        let asked = self
            .client
            .as_ref()
            .is_some_and(ClientSetup::asked_for_cert);
        let have_cert = self.client.as_ref().is_some_and(|c| c.cert.key.is_some());
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

/// A rustls error as an exit code class. `no_cert_sent`: the server asked for a client certificate and we had none.
fn classify_rustls(err: &rustls::Error, no_cert_sent: bool) -> (TlsError, String) {
    use rustls::Error as E;
    use CertificateError as C;
    let mut text = err.to_string();
    if text.contains("UnsupportedCertVersion") {
        text.push_str(V1_HINT);
    }
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
                 (alert {a:?}); use +tls KEY CERT"
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
                format!("the peer rejected our certificate (alert {a:?})")
            } else {
                format!("the peer ended the TLS handshake (alert {a:?})")
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

/// `d` from now on the transport's clock.
pub(crate) fn after(t: &impl Transport, d: Duration) -> Instant {
    t.now() + crate::net::to_core(d)
}

// ---------------------------------------------------------------------------------------------------------------
// offline checks

/// Runs `+vc` or `+rc` like DCMTK: one line on stdout saying passed/failed (the reason on stderr). Exit code 0 when
/// it passed; else 81 (untrusted, not a root), 82 (expired, not yet valid) or 84 (file unreadable). DCMTK exits 22
/// for every failure.
pub(crate) fn run_offline(prog: &str, check: &Offline) -> u8 {
    let (file, result) = match check {
        Offline::VerifyCert(file, o) => (file, verify_offline(file, o)),
        Offline::IsRootCert(file, format) => (file, root_offline(file, *format)),
    };
    let what = match check {
        Offline::VerifyCert(..) => ("Verification of certificate", "passed.", "failed."),
        Offline::IsRootCert(..) => (
            "Certificate",
            "is a valid, self-signed root CA.",
            "is not a valid, self-signed root CA.",
        ),
    };
    match result {
        Ok(()) => {
            crate::log::stdout_line(format_args!("{} '{}' {}", what.0, file.display(), what.1));
            crate::exit::HEALTHY
        }
        Err((code, why)) => {
            crate::log::stderr_line(format_args!("{prog}: {why}"));
            crate::log::stdout_line(format_args!("{} '{}' {}", what.0, file.display(), what.2));
            code
        }
    }
}

fn verify_offline(file: &Path, o: &TlsOptions) -> Result<(), (u8, String)> {
    let local = |f: Failure| (f.code(), f.to_string());
    let certs = load_certs(file, o.format, "certificate").map_err(local)?;
    let (ee, intermediates) = certs
        .split_first()
        .ok_or((84, "no certificate".to_string()))?;
    let p = provider(o.profile);
    let (roots, _) = load_roots(o).map_err(local)?;
    let server = chain_verifier(o, &p, roots.clone()).map_err(local)?;
    let name = ServerName::IpAddress(core::net::Ipv4Addr::UNSPECIFIED.into());
    let now = UnixTime::now();
    let tls_failure = |e: &rustls::Error| {
        let (kind, detail) = classify_rustls(e, false);
        (
            kind.code(),
            detail.replace("peer certificate", "certificate"),
        )
    };
    match server.verify_server_cert(ee, intermediates, &name, &[], now) {
        Ok(_) => Ok(()),
        // A client certificate (no serverAuth usage) is fine too.
        Err(rustls::Error::InvalidCertificate(
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. },
        )) => {
            let crls = load_crls(o).map_err(local)?;
            let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), p);
            if !crls.is_empty() {
                builder = builder.with_crls(crls).enforce_revocation_expiration();
            }
            let client = builder
                .build()
                .map_err(|e| (84, format!("client certificate verifier: {e}")))?;
            client
                .verify_client_cert(ee, intermediates, now)
                .map(|_| ())
                .map_err(|e| tls_failure(&e))
        }
        Err(e) => Err(tls_failure(&e)),
    }
}

fn root_offline(file: &Path, format: Format) -> Result<(), (u8, String)> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let certs = load_certs(file, format, "certificate").map_err(|f| (f.code(), f.to_string()))?;
    let der = certs.first().ok_or((84, "no certificate".to_string()))?;
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| {
        (
            84,
            format!("certificate {}: cannot parse: {e}", file.display()),
        )
    })?;
    let untrusted = crate::exit::TLS_UNTRUSTED;
    if cert.issuer() != cert.subject() {
        return Err((
            untrusted,
            "not self-issued: issuer differs from subject".to_string(),
        ));
    }
    cert.verify_signature(None)
        .map_err(|e| (untrusted, format!("not self-signed: {e}")))?;
    if !cert.is_ca() {
        return Err((
            untrusted,
            "not a CA: no basicConstraints CA:TRUE".to_string(),
        ));
    }
    if !cert.validity().is_valid() {
        return Err((
            crate::exit::TLS_EXPIRED,
            format!(
                "outside its validity period ({} to {})",
                cert.validity().not_before,
                cert.validity().not_after
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -k s3cret -S 0102030405060708 -P -md md5`
        let key = legacy::bytes_to_key(b"s3cret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        let hex: String = key.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(
            hex,
            "04D7471BA4A9314395A3FE2D5788E5B5CB8BA23A1DFD5F1D1DD4D950C54E7194"
        );
    }

    #[test]
    fn suites_by_every_name() {
        for name in [
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "TLS_AES_128_GCM_SHA256",
            "TLS13_AES_128_GCM_SHA256",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
        ] {
            assert!(find_suite(name).is_some(), "{name}");
        }
        for name in [
            "TLS_RSA_WITH_AES_128_CBC_SHA",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS1_TXT_RSA_WITH_AES_128_SHA",
            "",
        ] {
            assert!(find_suite(name).is_none(), "{name}");
        }
        let list = cipher_list();
        assert_eq!(list.lines().count(), 1 + ring::ALL_CIPHER_SUITES.len());
        assert!(list.contains("TLS_AES_256_GCM_SHA384"), "{list}");
    }

    #[test]
    fn extended_profile_is_tls12_with_four_suites() {
        let p = provider(Profile::Bcp195Ex);
        let names: Vec<&str> = p.cipher_suites.iter().map(|s| suite_name(*s)).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.iter().all(|n| BCP195_EX_TLS12.contains(n)));
        assert_eq!(versions(Profile::Bcp195Ex).len(), 1);
        assert_eq!(versions(Profile::Bcp195Nd).len(), 2);
        assert_eq!(provider(Profile::Bcp195Nd).cipher_suites.len(), 9);
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

    #[test]
    fn errors_map_to_exit_codes() {
        use rustls::Error as E;
        let cases = [
            (
                E::InvalidCertificate(CertificateError::UnknownIssuer),
                false,
                81,
            ),
            (
                E::InvalidCertificate(CertificateError::BadSignature),
                false,
                81,
            ),
            (E::InvalidCertificate(CertificateError::Revoked), false, 81),
            (E::InvalidCertificate(CertificateError::Expired), false, 82),
            (
                E::InvalidCertificate(CertificateError::NotValidYet),
                false,
                82,
            ),
            (
                E::InvalidCertificate(CertificateError::NotValidForName),
                false,
                83,
            ),
            (
                E::AlertReceived(AlertDescription::CertificateRequired),
                false,
                85,
            ),
            (
                E::AlertReceived(AlertDescription::HandshakeFailure),
                true,
                85,
            ),
            (
                E::AlertReceived(AlertDescription::HandshakeFailure),
                false,
                80,
            ),
            (E::AlertReceived(AlertDescription::UnknownCA), false, 80),
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

    #[test]
    fn pem_blocks() {
        let text = "junk\n-----BEGIN A-----\nxx\n-----END A-----\n-----BEGIN B-----\nyy\n-----END B-----\n";
        assert_eq!(
            pem_block(text, "B"),
            Some("-----BEGIN B-----\nyy\n-----END B-----")
        );
        assert_eq!(pem_block(text, "C"), None);
    }
}
