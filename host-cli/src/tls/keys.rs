//! Reading our certificates and private keys: PEM or DER, PKCS#8 encryption with its password, OpenSSL's legacy
//! encrypted PEM through `legacy.rs`.

use core::time::Duration;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::exit::Failure;

use super::*;

pub(super) fn files_failure(msg: String) -> Failure {
    Failure::TlsFiles(msg)
}

pub(super) fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| files_failure(format!("cannot read {what} {}: {e}", path.display())))
}

/// The `kind` objects (certificates, CRLs) of the `what` file `path`: the whole file as one (`-der`) or each PEM
/// block of that kind (`+pem`); a bad PEM block, or no block of the kind, is an error naming the file.
pub(super) fn load_der<T: PemObject + From<Vec<u8>>>(
    path: &Path,
    format: Format,
    what: &str,
    kind: &str,
) -> Result<Vec<T>, Failure> {
    let bytes = read(path, what)?;
    let found = match format {
        Format::Der => vec![T::from(bytes)],
        Format::Pem => T::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| files_failure(format!("{what} {}: bad PEM: {e}", path.display())))?,
    };
    if found.is_empty() {
        return Err(files_failure(format!(
            "{what} {}: no PEM {kind} in it (a DER file needs -der)",
            path.display()
        )));
    }
    Ok(found)
}

pub(super) fn load_certs(
    path: &Path,
    format: Format,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, Failure> {
    load_der(path, format, what, "certificate")
}

/// How long `+ps` may wait for the password on stdin: [`PASSWORD_WAIT`], or less when an overall deadline runs out
/// first, which then ends the run with the deadline's failure (exit code 72).
#[derive(Debug, Clone, Default)]
pub(crate) struct PasswordWait {
    deadline: Option<(Duration, Failure)>,
}

impl PasswordWait {
    /// At most what is `left` of a deadline (`None`: no deadline); `failure` when that runs out first.
    pub(crate) fn within(left: Option<Duration>, failure: Failure) -> Self {
        PasswordWait {
            deadline: left.map(|left| (left, failure)),
        }
    }
}

/// The password for an encrypted key: `+pw`/`-pw`, else (`+ps`, the default) one line from stdin, as DCMTK prompts
/// for it (the prompt only when stdin is a terminal). A closed or empty stdin is an error that says how to pass the
/// password; so is a silent one, after [`PASSWORD_WAIT`] or when `wait`'s deadline comes first.
pub(super) fn password_for(
    path: &Path,
    given: &Option<String>,
    wait: &PasswordWait,
) -> Result<String, Failure> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    let (limit, deadline) = match &wait.deadline {
        Some((left, failure)) if *left < PASSWORD_WAIT => (*left, Some(failure)),
        _ => (PASSWORD_WAIT, None),
    };
    if std::io::stdin().is_terminal() {
        crate::log::stderr_line(format_args!(
            "Enter PEM pass phrase for {}:",
            path.display()
        ));
    }
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
        Ok(_) => rx.recv_timeout(limit),
        Err(_) => Ok(None),
    };
    match (line, deadline) {
        (Ok(Some(l)), _) => Ok(l.trim_end_matches(['\r', '\n']).to_string()),
        (Err(RecvTimeoutError::Timeout), Some(failure)) => Err(failure.clone()),
        _ => Err(files_failure(format!(
            "private key {} is encrypted and no password was given: use +pw PASSWORD (or -pw for an \
             empty one); +ps (the default) reads one line from stdin, which was empty or silent for {} s",
            path.display(),
            PASSWORD_WAIT.as_secs()
        ))),
    }
}

/// How long `+ps` waits for the password on stdin (less when the deadline comes first).
pub(super) const PASSWORD_WAIT: Duration = Duration::from_secs(30);

/// Said when an encrypted PKCS#8 key cannot be parsed: the old PBES1 schemes (`openssl pkcs8 -v1 ...`) are not
/// supported, only PBES2.
pub(super) const PBES1_HINT: &str = ": only PBES2 encryption (PBKDF2 or scrypt, with AES or 3DES) is supported; re-encrypt an \
                          old PBES1 key (openssl pkcs8 -v1) with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out \
                          NEWKEY`";

pub(super) fn wrong_password(path: &Path, e: impl core::fmt::Display) -> Failure {
    files_failure(format!(
        "cannot decrypt private key {} (wrong password?): {e}",
        path.display()
    ))
}

/// The one PEM block of `text` with `label`, whole (BEGIN and END lines included).
pub(super) fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text.get(start..)?.find(&end)? + start + end.len();
    text.get(start..stop)
}

pub(super) fn decrypt_pkcs8(
    der: &[u8],
    path: &Path,
    given: &Option<String>,
    wait: &PasswordWait,
) -> Result<PrivateKeyDer<'static>, Failure> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|e| {
        files_failure(format!(
            "private key {}: unsupported or bad encrypted PKCS#8 ({e}){PBES1_HINT}",
            path.display()
        ))
    })?;
    let password = password_for(path, given, wait)?;
    let plain = info.decrypt(password).map_err(|e| {
        // pkcs5 says "PKCS#5 encryption failed" when decryption fails (a wrong password, mostly).
        if e.to_string().contains("encryption failed") {
            wrong_password(path, "decryption failed")
        } else {
            wrong_password(path, e)
        }
    })?;
    Ok(PrivateKeyDer::Pkcs8(plain.as_bytes().to_vec().into()))
}

pub(super) fn load_key(
    path: &Path,
    format: Format,
    given: &Option<String>,
    wait: &PasswordWait,
) -> Result<PrivateKeyDer<'static>, Failure> {
    let bytes = read(path, "private key")?;
    match format {
        Format::Pem => {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(block) = pem_block(&text, "ENCRYPTED PRIVATE KEY") {
                let (_, doc) = pkcs8::SecretDocument::from_pem(block).map_err(|e| {
                    files_failure(format!("private key {}: bad PEM: {e}", path.display()))
                })?;
                return decrypt_pkcs8(doc.as_bytes(), path, given, wait);
            }
            if text.contains("Proc-Type: 4,ENCRYPTED") {
                return legacy::decrypt(&text, path, given, wait);
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
                return decrypt_pkcs8(&bytes, path, given, wait);
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

pub(super) fn load_identity(
    key: &Path,
    cert: &Path,
    o: &TlsOptions,
    p: &CryptoProvider,
    wait: &PasswordWait,
) -> Result<Arc<CertifiedKey>, Failure> {
    let certs = load_certs(cert, o.format, "certificate")?;
    let key_der = load_key(key, o.format, &o.password, wait)?;
    CertifiedKey::from_der(certs, key_der, p)
        .map(Arc::new)
        .map_err(|e| {
            files_failure(format!(
                "private key {} and certificate {} cannot be used together: {}",
                key.display(),
                cert.display(),
                super::explain::error(&e)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
