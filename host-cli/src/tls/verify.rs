//! Trusted certificates, CRLs and the server-certificate verifiers (the chain without the name check, and -ic).

use core::sync::atomic::{AtomicBool, Ordering};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::exit::Failure;

use super::*;

/// The trusted certificates of `+cf` and `+cd`. Files in a `+cd` directory that hold no certificate are skipped
/// (OpenSSL's hashed directories hold other files too) and counted in the returned note.
pub(super) fn load_roots(o: &TlsOptions) -> Result<(RootCertStore, Option<String>), Failure> {
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
pub(super) fn load_crls(
    o: &TlsOptions,
) -> Result<Vec<CertificateRevocationListDer<'static>>, Failure> {
    if o.revocation == Revocation::Off {
        return Ok(Vec::new());
    }
    let mut crls = Vec::new();
    for f in &o.crl_files {
        crls.extend(load_der::<CertificateRevocationListDer<'static>>(
            f, o.format, "CRL file", "CRL",
        )?);
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

/// The client's verifier of server certificates. With `chain`: rustls's WebPKI verifier (chain, validity, CRLs)
/// without its host name check unless asked for: DCMTK does not check the name. WebPKI checks the chain before the
/// name, so a name error means everything else passed. Without (DANGEROUS, for `-ic` only): any server certificate,
/// unseen. Either way the handshake signature is verified with the provider's algorithms (so the session keys are
/// bound to the certificate the server sent), as WebPKI's verifier does; without `chain` nothing says who the server
/// is.
#[derive(Debug)]
pub(super) struct ServerVerifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerVerifier {
    /// DANGEROUS, for `-ic` only: accepts any server certificate without looking at it.
    pub(super) fn dangerous_accept_any(algs: WebPkiSupportedAlgorithms) -> Self {
        ServerVerifier {
            chain: None,
            check_name: false,
            algs,
        }
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
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

/// The client's verifier of server certificates (chain, validity, CRLs; the name with `--verify-host-name`).
pub(super) fn chain_verifier(
    o: &TlsOptions,
    p: &Arc<CryptoProvider>,
    roots: RootCertStore,
) -> Result<ServerVerifier, Failure> {
    let crls = load_crls(o)?;
    let mut builder = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), p.clone());
    if !crls.is_empty() {
        builder = builder.with_crls(crls).enforce_revocation_expiration();
        if o.revocation == Revocation::Leaf {
            builder = builder.only_check_end_entity_revocation();
        }
    }
    let chain = builder
        .build()
        .map_err(|e| files_failure(format!("server certificate verifier: {e}")))?;
    Ok(ServerVerifier {
        chain: Some(chain),
        check_name: o.verify_host_name,
        algs: p.signature_verification_algorithms,
    })
}

/// Our client certificate (or none, for `+tla`), and whether the server asked for one: a handshake that fails after
/// the server asked and we had none is "client certificate required" (85), not a generic failure.
#[derive(Debug)]
pub(super) struct ClientCert {
    pub(super) key: Option<Arc<CertifiedKey>>,
    pub(super) asked: AtomicBool,
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
