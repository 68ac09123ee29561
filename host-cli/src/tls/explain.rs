//! rustls's and webpki's errors said for people, in DCMTK's terms (`+cf/+cd`, `+crl`, `+tls KEY CERT`), with dates
//! in UTC and durations in days and years instead of UNIX seconds and Rust variant names.

use rustls::pki_types::UnixTime;
use rustls::{CertRevocationListError, CertificateError, Error, InconsistentKeys};

/// `2026-11-29 19:48:44 UTC`.
pub(crate) fn utc(t: UnixTime) -> String {
    let secs = t.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (no dates before it reach us).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// How far `then` is from `now`: "2 years 302 days ago", "in 3 days", "5 hours ago", "in 40 seconds".
pub(crate) fn relative(then: UnixTime, now: UnixTime) -> String {
    let (d, past) = match now.as_secs().checked_sub(then.as_secs()) {
        Some(d) => (d, true),
        None => (then.as_secs() - now.as_secs(), false),
    };
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let (years, days) = (d / (365 * 86_400), d % (365 * 86_400) / 86_400);
    let text = if years > 0 && days > 0 {
        format!("{} {}", plural(years, "year"), plural(days, "day"))
    } else if years > 0 {
        plural(years, "year")
    } else if days > 0 {
        plural(days, "day")
    } else if d >= 3600 {
        plural(d / 3600, "hour")
    } else if d >= 60 {
        plural(d / 60, "minute")
    } else {
        plural(d, "second")
    };
    if past {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

/// A date with how far it is from the check: `2025-01-01 00:00:00 UTC (2 years 302 days ago)`.
fn when(then: UnixTime, now: UnixTime) -> String {
    format!("{} ({})", utc(then), relative(then, now))
}

/// What a certificate error means, said of the certificate ("not valid before ...", "not issued by a CA in
/// +cf/+cd"): callers put whose certificate and the class in front ("peer certificate not trusted: ").
pub(crate) fn certificate_error(c: &CertificateError) -> String {
    use CertificateError as C;
    match c {
        C::BadEncoding => "not valid DER (corrupt or not a certificate)".into(),
        C::Expired => "not valid any more".into(),
        C::ExpiredContext { time, not_after } => format!(
            "not valid after {}, checked at {}",
            when(*not_after, *time),
            utc(*time)
        ),
        C::NotValidYet => "not valid yet".into(),
        C::NotValidYetContext { time, not_before } => format!(
            "not valid before {}, checked at {}",
            when(*not_before, *time),
            utc(*time)
        ),
        C::Revoked => "Revoked: listed in a CRL given with +crl".into(),
        C::UnhandledCriticalExtension => "has a critical extension that cannot be checked".into(),
        C::UnknownIssuer => {
            "not issued by a CA in +cf/+cd (or the peer did not send the intermediate CA)".into()
        }
        C::UnknownRevocationStatus => {
            "revocation status unknown: no CRL (+crl) from its issuer".into()
        }
        C::ExpiredRevocationList => "the revocation list expired (its next update is past)".into(),
        C::ExpiredRevocationListContext { time, next_update } => format!(
            "the revocation list expired: its next update was due {}",
            when(*next_update, *time)
        ),
        C::BadSignature => "its signature does not verify (forged or corrupt)".into(),
        #[allow(deprecated)]
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "signed with an algorithm that is not supported (e.g. SHA-1 or MD5)".into()
        }
        C::NotValidForName => "not valid for the peer's host name".into(),
        C::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "not valid for the name {}: it names {}",
            expected.to_str(),
            if presented.is_empty() {
                "no DNS name or address".to_string()
            } else {
                presented.join(", ")
            }
        ),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "not for this use (its extended key usage lacks TLS server or client)".into()
        }
        C::InvalidOcspResponse => "the OCSP response is invalid".into(),
        C::ApplicationVerificationFailure => "rejected by the verification policy".into(),
        C::Other(o) => webpki(&o.to_string()),
        _ => format!("rejected: {c}"),
    }
}

/// webpki's errors arrive as their Debug names (rustls's `OtherError`).
fn webpki(name: &str) -> String {
    let text = match name {
        "UnsupportedCertVersion" => {
            "X.509 v1 certificate (no extensions) not supported: only X.509 v3 certificates are accepted; \
             `openssl x509 -req` makes v1 ones unless given extensions, e.g. -extfile with \
             basicConstraints=CA:FALSE"
        }
        "CaUsedAsEndEntity" => "a CA certificate used as an end entity's",
        "EndEntityUsedAsCa" => "signed by a certificate that is not a CA (basicConstraints)",
        "PathLenConstraintViolated" => "the chain is longer than a CA's pathlen constraint allows",
        "NameConstraintViolation" => "its names break a CA's name constraints",
        "MaximumPathDepthExceeded" | "MaximumPathBuildCallsExceeded" | "MaximumSignatureChecksExceeded" => {
            "the certificate chain is too long or too complex"
        }
        "BadDer" | "BadDerTime" | "TrailingData" => "not valid DER (corrupt)",
        "InvalidSerialNumber" => "has an invalid serial number",
        "MissingOrMalformedExtensions" | "ExtensionValueInvalid" => {
            "has missing or malformed extensions"
        }
        "EmptyEkuExtension" | "RequiredEkuNotFound" => {
            "not for this use (extended key usage)"
        }
        "SignatureAlgorithmMismatch" => "its signature algorithm fields disagree",
        _ => return format!("rejected ({name})"),
    };
    text.to_string()
}

fn crl_error(e: &CertRevocationListError) -> String {
    use CertRevocationListError as R;
    let what = match e {
        R::BadSignature => "its signature does not verify",
        #[allow(deprecated)]
        R::UnsupportedSignatureAlgorithm
        | R::UnsupportedSignatureAlgorithmContext { .. }
        | R::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "it is signed with an unsupported algorithm"
        }
        R::InvalidCrlNumber => "its CRL number is invalid",
        R::InvalidRevokedCertSerialNumber => "a revoked serial number in it is invalid",
        R::IssuerInvalidForCrl => "its issuer may not sign CRLs",
        R::ParseError => "it is not a valid DER CRL",
        R::UnsupportedCrlVersion => "only v2 CRLs are supported",
        R::UnsupportedCriticalExtension => "it has an unsupported critical extension",
        R::UnsupportedDeltaCrl => "delta CRLs are not supported",
        R::UnsupportedIndirectCrl => "indirect CRLs are not supported",
        R::UnsupportedRevocationReason => "it has an unsupported revocation reason",
        R::Other(o) => {
            return format!(
                "the revocation list (+crl) is not usable: {}",
                webpki(&o.to_string())
            )
        }
        _ => return format!("the revocation list (+crl) is not usable ({e:?})"),
    };
    format!("the revocation list (+crl) is not usable: {what}")
}

/// What a rustls error means, one sentence. Certificate errors speak of "the certificate"; the caller says whose.
pub(crate) fn error(e: &Error) -> String {
    match e {
        Error::InvalidCertificate(c) => certificate_error(c),
        Error::InvalidCertRevocationList(r) => crl_error(r),
        Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            "the peer sent a TLS message out of order".into()
        }
        Error::InvalidEncryptedClientHello(_) => "encrypted client hello failed".into(),
        Error::InvalidMessage(_) => "the peer sent a malformed TLS message".into(),
        Error::NoCertificatesPresented => "the peer sent no certificate".into(),
        Error::UnsupportedNameType => "the peer name type is not supported".into(),
        Error::DecryptError => "a TLS record could not be decrypted (corrupt or tampered)".into(),
        Error::EncryptError => "a TLS record could not be encrypted".into(),
        Error::PeerIncompatible(_) => {
            "the peer has no TLS version, cipher suite or signature scheme in common with us (see +cs, +py/+px/+pz)"
                .into()
        }
        Error::PeerMisbehaved(_) => "the peer broke the TLS protocol".into(),
        Error::AlertReceived(a) => format!("the peer sent the TLS alert {}", alert(*a)),
        Error::General(s) => s.clone(),
        Error::FailedToGetCurrentTime => "the system clock could not be read".into(),
        Error::FailedToGetRandomBytes => "the system random generator failed".into(),
        Error::HandshakeNotComplete => "the TLS handshake did not complete".into(),
        Error::PeerSentOversizedRecord => "the peer sent a TLS record over the size limit".into(),
        Error::NoApplicationProtocol => "no application protocol (ALPN) in common".into(),
        Error::BadMaxFragmentSize => "bad maximum fragment size".into(),
        Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
            "private key does not match the certificate".into()
        }
        Error::InconsistentKeys(_) => "the private key and the certificate could not be compared".into(),
        Error::Other(o) => webpki(&o.to_string()),
        _ => e.to_string(),
    }
}

/// An alert's name as the TLS RFCs write it (`unknown_ca`).
pub(crate) fn alert(a: rustls::AlertDescription) -> String {
    let name = format!("{a:?}");
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use rustls::OtherError;
    use std::sync::Arc;

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(secs))
    }

    #[test]
    fn dates_and_durations() {
        assert_eq!(utc(at(1_795_978_724)), "2026-11-29 18:58:44 UTC");
        assert_eq!(utc(at(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(at(951_782_400)), "2000-02-29 00:00:00 UTC");
        assert_eq!(relative(at(0), at(3 * 86_400)), "3 days ago");
        assert_eq!(relative(at(3 * 86_400 + 5), at(5)), "in 3 days");
        assert_eq!(
            relative(at(0), at((2 * 365 + 302) * 86_400 + 7)),
            "2 years 302 days ago"
        );
        assert_eq!(relative(at(0), at(1)), "1 second ago");
        assert_eq!(relative(at(7200), at(0)), "in 2 hours");
    }

    /// Every variant that can reach the user has a sentence without a Rust name in it.
    #[test]
    #[allow(deprecated)]
    fn no_rust_names() {
        use CertificateError as C;
        let other = |name: &'static str| {
            #[derive(Debug)]
            struct W(&'static str);
            impl core::fmt::Display for W {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str(self.0)
                }
            }
            impl core::error::Error for W {}
            OtherError(Arc::new(W(name)))
        };
        let certs = [
            C::BadEncoding,
            C::Expired,
            C::ExpiredContext {
                time: at(1_795_978_724),
                not_after: at(1_706_745_564),
            },
            C::NotValidYet,
            C::NotValidYetContext {
                time: at(0),
                not_before: at(86_400),
            },
            C::Revoked,
            C::UnhandledCriticalExtension,
            C::UnknownIssuer,
            C::UnknownRevocationStatus,
            C::ExpiredRevocationList,
            C::ExpiredRevocationListContext {
                time: at(86_400),
                next_update: at(0),
            },
            C::BadSignature,
            C::UnsupportedSignatureAlgorithm,
            C::NotValidForName,
            C::NotValidForNameContext {
                expected: ServerName::try_from("pacs.example").expect("name"),
                presented: vec!["other.example".into()],
            },
            C::InvalidPurpose,
            C::InvalidOcspResponse,
            C::ApplicationVerificationFailure,
            C::Other(other("UnsupportedCertVersion")),
            C::Other(other("CaUsedAsEndEntity")),
        ];
        let mut errors: Vec<Error> = certs.into_iter().map(Error::InvalidCertificate).collect();
        errors.extend([
            Error::InvalidCertRevocationList(CertRevocationListError::BadSignature),
            Error::InvalidCertRevocationList(CertRevocationListError::ParseError),
            Error::NoCertificatesPresented,
            Error::UnsupportedNameType,
            Error::DecryptError,
            Error::EncryptError,
            Error::AlertReceived(rustls::AlertDescription::UnknownCA),
            Error::FailedToGetCurrentTime,
            Error::FailedToGetRandomBytes,
            Error::HandshakeNotComplete,
            Error::PeerSentOversizedRecord,
            Error::NoApplicationProtocol,
            Error::BadMaxFragmentSize,
            Error::InconsistentKeys(InconsistentKeys::KeyMismatch),
            Error::InconsistentKeys(InconsistentKeys::Unknown),
            Error::Other(other("UnsupportedCertVersion")),
        ]);
        for e in &errors {
            let text = error(e);
            let camel = text.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
                w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
                    && w.chars().any(|c| c.is_ascii_lowercase())
            });
            assert!(!camel, "{e:?}: {text}");
            assert!(!text.contains("(UNIX)"), "{e:?}: {text}");
        }
        assert_eq!(
            certificate_error(&C::ExpiredContext {
                time: at(1_795_978_724),
                not_after: at(1_795_978_724 - 89_233_160),
            }),
            "not valid after 2024-01-31 23:59:24 UTC (2 years 302 days ago), checked at 2026-11-29 18:58:44 UTC"
        );
        assert_eq!(
            error(&Error::InconsistentKeys(InconsistentKeys::KeyMismatch)),
            "private key does not match the certificate"
        );
        assert!(error(&Error::InvalidCertificate(C::UnknownIssuer)).contains("+cf/+cd"));
        assert!(error(&Error::Other(other("UnsupportedCertVersion")))
            .starts_with("X.509 v1 certificate (no extensions) not supported"));
    }
}
