//! DCMTK's offline certificate checks: `+vc FILE` (verify against +cf/+cd/+crl) and `+rc FILE` (is it a root CA).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::CertificateError;

use crate::exit::Failure;

use super::*;

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

pub(super) fn verify_offline(file: &Path, o: &TlsOptions) -> Result<(), (u8, String)> {
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

pub(super) fn root_offline(file: &Path, format: Format) -> Result<(), (u8, String)> {
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
