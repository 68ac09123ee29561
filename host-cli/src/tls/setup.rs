//! The client and server configurations, made once from [`TlsOptions`] before any connection.

use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::Resumption;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{ClientConfig, ServerConfig};

use crate::exit::Failure;

use super::*;

/// A loaded client configuration: made once per run, before connecting (file errors are exit code 84 before any
/// network traffic).
#[derive(Debug, Clone)]
pub(crate) struct ClientSetup {
    pub(super) config: Arc<ClientConfig>,
    pub(super) cert: Arc<ClientCert>,
    pub(super) verify_host_name: bool,
    /// Lines for `-v`.
    pub(crate) notes: Vec<String>,
}

impl ClientSetup {
    /// Loads the files and builds the rustls configuration; `wait` bounds `+ps`'s wait for the key password.
    pub(crate) fn new(o: &TlsOptions, wait: &PasswordWait) -> Result<Self, Failure> {
        let p = provider(o.profile);
        let mut notes = o.notes.clone();
        let key = match &o.identity {
            Identity::KeyAndCert { key, cert } => Some(load_identity(key, cert, o, &p, wait)?),
            Identity::Anonymous => None,
        };
        let algs = p.signature_verification_algorithms;
        let verifier: Arc<dyn ServerCertVerifier> = if o.peer_cert == PeerCert::Ignore {
            notes.push(
                "-ic: the server certificate is NOT verified (encrypted, not authenticated)"
                    .to_string(),
            );
            Arc::new(ServerVerifier::dangerous_accept_any(algs))
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

    /// The rustls configuration (for connections made outside this module, e.g. with tokio-rustls).
    pub(crate) fn config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// Whether the server asked for a client certificate in the last handshake.
    pub(super) fn asked_for_cert(&self) -> bool {
        self.cert.asked.load(Ordering::Relaxed)
    }
}

/// A loaded server configuration (made once at SCP start).
#[derive(Debug, Clone)]
pub(crate) struct ServerSetup {
    pub(super) config: Arc<ServerConfig>,
    /// Lines for `-v`.
    pub(crate) notes: Vec<String>,
}

impl ServerSetup {
    /// Loads the files and builds the rustls configuration (`+ps` waits [`PASSWORD_WAIT`] at most).
    pub(crate) fn new(o: &TlsOptions) -> Result<Self, Failure> {
        let p = provider(o.profile);
        let mut notes = o.notes.clone();
        let Identity::KeyAndCert { key, cert } = &o.identity else {
            return Err(usage("a TLS server needs +tls KEY CERT"));
        };
        let identity = load_identity(key, cert, o, &p, &PasswordWait::default())?;
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
