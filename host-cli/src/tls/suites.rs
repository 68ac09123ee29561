//! Cipher suites by IANA and OpenSSL name, the security profiles (+py, +px, +pz) and their protocol versions.

use std::sync::Arc;

use rustls::crypto::{ring, CryptoProvider};
use rustls::SupportedCipherSuite;

use super::*;

/// OpenSSL names of the suites rustls (ring) has, next to their IANA/DCMTK names.
pub(super) const OPENSSL_NAMES: &[(&str, &str)] = &[
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
pub(super) fn suite_name(suite: SupportedCipherSuite) -> &'static str {
    suite.suite().as_str().unwrap_or("unknown")
}

/// A suite by its IANA (DCMTK) name, its OpenSSL name, or rustls's `TLS13_` name.
pub(super) fn find_suite(name: &str) -> Option<SupportedCipherSuite> {
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
pub(super) const BCP195_EX_TLS12: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

pub(super) fn provider(profile: Profile) -> Arc<CryptoProvider> {
    let mut p = ring::default_provider();
    if profile == Profile::Bcp195Ex {
        p.cipher_suites
            .retain(|s| BCP195_EX_TLS12.contains(&suite_name(*s)));
    }
    Arc::new(p)
}

/// TLS 1.3 and 1.2.
pub(super) const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
/// TLS 1.2 only (+pz).
pub(super) const TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// The protocol versions of a profile.
pub(super) fn versions(profile: Profile) -> &'static [&'static rustls::SupportedProtocolVersion] {
    match profile {
        Profile::Bcp195Ex => TLS12_ONLY,
        Profile::Bcp195Nd | Profile::Bcp195 => VERSIONS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
