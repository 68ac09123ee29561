//! The TLS options of echoscu and storescp (clap definitions) and their validation into [`TlsOptions`].

use std::path::PathBuf;

use clap::{ArgAction, Args};

use crate::exit::Failure;

use super::*;

/// The TLS options of echoscu and storescp, in the long forms `cli::translate` produces.
#[derive(Args, Debug, Default, Clone)]
#[command(next_help_heading = "TLS options")]
pub(crate) struct TlsCli {
    /// [-tls] use a normal TCP/IP connection (default)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["enable_tls", "anonymous_tls"])]
    pub(super) disable_tls: bool,
    /// [+tls] use authenticated TLS with this private key and certificate file
    #[arg(long, num_args = 2, value_names = ["key", "cert"], allow_hyphen_values = true,
          overrides_with_all = ["disable_tls", "anonymous_tls"])]
    pub(super) enable_tls: Option<Vec<String>>,
    /// [+tla] use TLS without a certificate of ours
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["disable_tls", "enable_tls"])]
    pub(super) anonymous_tls: bool,
    /// [+ps] read the private key password as one line from stdin (default; only with +tls)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["use_passwd", "null_passwd"])]
    pub(super) std_passwd: bool,
    /// [+pw] use this private key password (only with +tls)
    #[arg(long, value_name = "password", overrides_with_all = ["std_passwd", "null_passwd"])]
    pub(super) use_passwd: Option<String>,
    /// [-pw] use an empty private key password (only with +tls)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["std_passwd", "use_passwd"])]
    pub(super) null_passwd: bool,
    /// [-pem] read keys and certificates as PEM (default)
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "der_keys")]
    pub(super) pem_keys: bool,
    /// [-der] read keys and certificates as DER
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "pem_keys")]
    pub(super) der_keys: bool,
    /// [+cf] trust the certificates in this file (repeatable)
    #[arg(long, value_name = "file", action = ArgAction::Append)]
    pub(super) add_cert_file: Vec<PathBuf>,
    /// [+cd] trust the certificates in this directory (repeatable)
    #[arg(long, value_name = "dir", action = ArgAction::Append)]
    pub(super) add_cert_dir: Vec<PathBuf>,
    /// [+crl] add a certificate revocation list file (implies +crv)
    #[arg(long, value_name = "file", action = ArgAction::Append)]
    pub(super) add_crl_file: Vec<PathBuf>,
    /// [+crv] check the peer certificate against the CRLs (revoked: exit code 81)
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) enable_crl_vfy: bool,
    /// [+cra] check the whole chain against the CRLs
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) enable_crl_all: bool,
    /// [+py] non-downgrading BCP 195 profile: TLS 1.2 and 1.3, ECDHE with AES-GCM or ChaCha20 (default)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["profile_bcp195", "profile_bcp195_ex"])]
    profile_bcp195_nd: bool,
    /// [+px] BCP 195 profile (the same as +py with rustls)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["profile_bcp195_nd", "profile_bcp195_ex"])]
    profile_bcp195: bool,
    /// [+pz] extended BCP 195 profile: TLS 1.2 only, the four ECDHE AES-GCM suites, as DCMTK
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["profile_bcp195_nd", "profile_bcp195"])]
    profile_bcp195_ex: bool,
    /// [+cc] list the supported TLS cipher suites and exit
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) list_ciphers: bool,
    /// [+cs] add a cipher suite (IANA or OpenSSL name) to the negotiated ones (repeatable; not with +pz)
    #[arg(long, value_name = "ciphersuite", action = ArgAction::Append)]
    pub(super) cipher: Vec<String>,
    /// [+dp] accepted and unused: rustls has no DHE suites
    #[arg(long, value_name = "file")]
    pub(super) dhparam: Option<String>,
    /// [+rs] accepted and unused: rustls seeds from the operating system
    #[arg(long, value_name = "file")]
    pub(super) seed: Option<String>,
    /// [+ws] accepted, writes nothing (only with +rs)
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) write_seed: bool,
    /// [+wf] accepted, writes nothing (only with +rs)
    #[arg(long, value_name = "file")]
    pub(super) write_seed_file: Option<String>,
    /// [-rc] verify the peer certificate, fail if absent (default)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["verify_peer_cert", "ignore_peer_cert"])]
    pub(super) require_peer_cert: bool,
    /// [-vc] verify the peer certificate if present (a client: the same as -rc)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["require_peer_cert", "ignore_peer_cert"])]
    pub(super) verify_peer_cert: bool,
    /// [-ic] do not verify the peer certificate (dangerous)
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["require_peer_cert", "verify_peer_cert"])]
    pub(super) ignore_peer_cert: bool,
    /// also check that the server certificate names the peer (DCMTK does not; exit code 83)
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) verify_host_name: bool,
    /// [+vc] verify this certificate against +cf/+cd/+crl and exit (needs +tla or +tls)
    #[arg(long, value_name = "file")]
    pub(super) verify_cert: Option<PathBuf>,
    /// [+rc] check whether this certificate is a self-signed root CA and exit
    #[arg(long, value_name = "file")]
    pub(super) is_root_cert: Option<PathBuf>,
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
pub struct TlsOptions {
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

pub(super) fn usage(msg: impl Into<String>) -> Failure {
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
