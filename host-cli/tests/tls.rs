//! DICOM over TLS against real DCMTK (Debian's dcmtk is built with OpenSSL), both directions, and every TLS exit code
//! we can provoke with real peers. Certificates are made here with rcgen (ECDSA P-256); no key is committed.
//!
//! Like every interop test these start servers, so they run inside the loopback-only namespace of scripts/test.sh
//! ([`setup`] fails the test otherwise).

use core::time::Duration;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use echoprobe_tests::env::dcmtk;
use echoprobe_tests::net::spawn_listening;
use echoprobe_tests::peers::START_TIMEOUT;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::{free_port, run, setup, Outcome, Peer, CALLING_AE};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Hard limit for one command, and what a healthy check or a quick failure must meet.
const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);

fn echoprobe(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(args);
    cmd
}

/// A test PKI in a temporary directory: `ca.pem` (trusted), `other-ca.pem` (not), and leaf certificates.
struct Pki {
    dir: TempDir,
    ca: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let dir = TempDir::new("tls-pki");
        let ca = make_ca(dir.path(), "ca", "echoprobe test CA");
        // A second CA nobody trusts (its key is thrown away).
        make_ca(dir.path(), "other-ca", "echoprobe untrusted CA");
        Pki { dir, ca }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `NAME.key` and `NAME.pem` issued by `issuer` (default: the trusted CA), for `sans`, valid `from..until`
    /// (years; default: a year ago to a year ahead). Returns (key path, cert path).
    fn leaf(&self, name: &str, sans: &[&str], years: Option<(i32, i32)>) -> (String, String) {
        self.leaf_with_serial(name, sans, years, None)
    }

    fn leaf_with_serial(
        &self,
        name: &str,
        sans: &[&str],
        years: Option<(i32, i32)>,
        serial: Option<u64>,
    ) -> (String, String) {
        let key = KeyPair::generate().expect("leaf key");
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.serial_number = serial.map(rcgen::SerialNumber::from);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let (from, until) = years.unwrap_or_else(|| {
            let now = current_year();
            (now - 1, now + 1)
        });
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        let cert = params.signed_by(&key, &self.ca).expect("sign leaf");
        let (k, c) = (
            self.dir.path().join(format!("{name}.key")),
            self.dir.path().join(format!("{name}.pem")),
        );
        std::fs::write(&k, key.serialize_pem()).expect("write key");
        std::fs::write(&c, cert.pem()).expect("write cert");
        (k.display().to_string(), c.display().to_string())
    }
}

impl Pki {
    /// `NAME.crl.pem`, issued by the trusted CA, revoking `serials`; valid until next year (or, `stale`, until
    /// last year). Returns its path.
    fn crl(&self, name: &str, serials: &[u64], stale: bool) -> String {
        let now = current_year();
        let params = rcgen::CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(now - 2, 1, 1),
            next_update: rcgen::date_time_ymd(if stale { now - 1 } else { now + 1 }, 1, 1),
            crl_number: rcgen::SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| rcgen::RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from(*s),
                    revocation_time: rcgen::date_time_ymd(now - 1, 6, 1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.ca).expect("sign CRL");
        let path = self.dir.path().join(format!("{name}.crl.pem"));
        std::fs::write(&path, crl.pem().expect("CRL PEM")).expect("write CRL");
        path.display().to_string()
    }
}

fn current_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    // Good enough for "a year ago / a year ahead".
    1970 + i32::try_from(secs / 31_556_952).expect("year fits")
}

fn make_ca(dir: &Path, name: &str, cn: &str) -> Issuer<'static, KeyPair> {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = current_year();
    params.not_before = rcgen::date_time_ymd(now - 30, 1, 1);
    params.not_after = rcgen::date_time_ymd(now + 10, 1, 1);
    let cert = params.self_signed(&key).expect("self-sign CA");
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write CA");
    Issuer::new(params, key)
}

/// A started server and its port.
struct Server {
    peer: Peer,
    port: u16,
    _out: TempDir,
}

impl Server {
    fn port_arg(&self) -> String {
        self.port.to_string()
    }
}

/// DCMTK `storescp -d --aetitle STORESCP [args] PORT`.
fn storescp(args: &[&str]) -> Server {
    setup();
    let port = free_port();
    let out = TempDir::new("tls-storescp-out");
    let mut cmd = Command::new(dcmtk("storescp"));
    cmd.args(["-d", "--aetitle", "STORESCP", "--output-directory"])
        .arg(out.path())
        .args(args)
        .arg(port.to_string());
    let peer = spawn_listening("storescp", &mut cmd, port, START_TIMEOUT);
    Server {
        peer,
        port,
        _out: out,
    }
}

/// `echoprobe scp -v --bind 127.0.0.1 -aet PROBESCP [args] PORT`.
fn echoprobe_scp(args: &[&str]) -> Server {
    setup();
    let port = free_port();
    let out = TempDir::new("tls-scp");
    let mut cmd = echoprobe(&["scp", "-v", "--bind", "127.0.0.1", "-aet", "PROBESCP"]);
    cmd.args(args).arg(port.to_string());
    let peer = spawn_listening("echoprobe-scp", &mut cmd, port, START_TIMEOUT);
    Server {
        peer,
        port,
        _out: out,
    }
}

/// An echoprobe check of `port` with `args` (TLS options) in front.
fn check(args: &[&str], called: &str, port: &str) -> Outcome {
    let mut full = vec!["-aet", CALLING_AE, "-aec", called];
    full.extend_from_slice(args);
    full.extend(["127.0.0.1", port]);
    run(&mut echoprobe(&full), HARD)
}

fn dcmtk_echoscu(args: &[&str], called: &str, port: u16) -> Command {
    let mut cmd = Command::new(dcmtk("echoscu"));
    cmd.args(["-aet", "DCMTKSCU", "-aec", called])
        .args(args)
        .args(["127.0.0.1", &port.to_string()]);
    cmd
}

#[test]
fn echoprobe_tls_to_storescp_tls() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost", "127.0.0.1"], None);
    let (ckey, ccert) = pki.leaf("client", &["client"], None);
    let ca = pki.path("ca.pem");
    let scp = storescp(&["+tls", &skey, &scert, "+cf", &ca]);
    check(
        &["-v", "+tls", &ckey, &ccert, "+cf", &ca],
        "STORESCP",
        &scp.port_arg(),
    )
    .assert_code(0)
    .assert_within(QUICK)
    .assert_mentions("TLS handshake done");
    let log = scp.peer.wait_log("Received Echo Request", QUICK);
    assert!(log.contains(CALLING_AE), "storescp log:\n{log}");
    // The summary line and --json say it was TLS.
    check(
        &["+tls", &ckey, &ccert, "+cf", &ca],
        "STORESCP",
        &scp.port_arg(),
    )
    .assert_code(0)
    .assert_mentions("max PDU 16384, TLS 1.3 (total ");
    check(
        &["--json", "+tls", &ckey, &ccert, "+cf", &ca],
        "STORESCP",
        &scp.port_arg(),
    )
    .assert_code(0)
    .assert_mentions(
        // storescp sends its certificate and the +cf CA.
        "\"tls\":{\"version\":\"TLS 1.3\",\"cipher_suite\":\"TLS13_AES_256_GCM_SHA384\",\"peer_certificates\":2}",
    );
}

#[test]
fn echoprobe_anonymous_tls_both_ways() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let ca = pki.path("ca.pem");
    // storescp -ic does not ask for a client certificate: +tla works.
    let scp = storescp(&["+tls", &skey, &scert, "-ic"]);
    check(&["+tla", "+cf", &ca], "STORESCP", &scp.port_arg())
        .assert_code(0)
        .assert_within(QUICK);
    // And DCMTK's echoscu +tla against echoprobe scp -ic.
    let scp = echoprobe_scp(&["+tls", &skey, &scert, "-ic"]);
    run(
        &mut dcmtk_echoscu(&["+tla", "+cf", &ca], "PROBESCP", scp.port),
        HARD,
    )
    .assert_code(0)
    .assert_within(QUICK);
    scp.peer
        .wait_log("PROBESCP <- DCMTKSCU: accepted, 1 echo, released", QUICK);
}

#[test]
fn dcmtk_echoscu_tls_to_echoprobe_scp_tls() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost", "127.0.0.1"], None);
    let (ckey, ccert) = pki.leaf("client", &["client"], None);
    let ca = pki.path("ca.pem");
    let scp = echoprobe_scp(&["+tls", &skey, &scert, "+cf", &ca, "--require-peer-cert"]);
    run(
        &mut dcmtk_echoscu(
            &["+tls", &ckey, &ccert, "+cf", &ca, "--repeat", "3"],
            "PROBESCP",
            scp.port,
        ),
        HARD,
    )
    .assert_code(0)
    .assert_within(QUICK);
    let log = scp.peer.wait_log("PROBESCP <- DCMTKSCU: accepted", QUICK);
    assert!(log.contains("3 echoes, released"), "scp log:\n{log}");
    assert!(log.contains("TLS handshake done"), "scp log:\n{log}");
}

#[test]
fn client_certificate_required_and_missing() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let ca = pki.path("ca.pem");
    // storescp requires a client certificate by default (-rc): echoprobe +tla gets 85, fast.
    let scp = storescp(&["+tls", &skey, &scert, "+cf", &ca]);
    check(&["+tla", "+cf", &ca], "STORESCP", &scp.port_arg())
        .assert_code(85)
        .assert_within(QUICK)
        .assert_mentions("client certificate");
    // echoprobe scp requires one too (-rc, the default): DCMTK's echoscu +tla fails, the SCP says why.
    let scp = echoprobe_scp(&["+tls", &skey, &scert, "+cf", &ca]);
    let out = run(
        &mut dcmtk_echoscu(&["+tla", "+cf", &ca], "PROBESCP", scp.port),
        HARD,
    );
    assert!(out.code != Some(0) && !out.timed_out, "{out}");
    scp.peer
        .wait_log("TLS handshake failed: the peer sent no certificate", QUICK);
    // And echoprobe +tla against it: 85 as well.
    check(&["+tla", "+cf", &ca], "PROBESCP", &scp.port_arg())
        .assert_code(85)
        .assert_within(QUICK);
}

#[test]
fn untrusted_ca_is_81() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let scp = storescp(&["+tls", &skey, &scert, "-ic"]);
    check(
        &["+tla", "+cf", &pki.path("other-ca.pem")],
        "STORESCP",
        &scp.port_arg(),
    )
    .assert_code(81)
    .assert_within(QUICK)
    .assert_mentions("not trusted");
    // The same server is fine for a client that trusts its CA, and for -ic (no verification).
    check(
        &["+tla", "+cf", &pki.path("ca.pem")],
        "STORESCP",
        &scp.port_arg(),
    )
    .assert_code(0);
    check(&["+tla", "-ic"], "STORESCP", &scp.port_arg()).assert_code(0);
}

#[test]
fn expired_and_not_yet_valid_certificates_are_82() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let now = current_year();
    let (ekey, ecert) = pki.leaf("expired", &["localhost"], Some((now - 3, now - 1)));
    let scp = storescp(&["+tls", &ekey, &ecert, "-ic"]);
    check(&["+tla", "+cf", &ca], "STORESCP", &scp.port_arg())
        .assert_code(82)
        .assert_within(QUICK)
        .assert_mentions("expired");
    let (fkey, fcert) = pki.leaf("future", &["localhost"], Some((now + 1, now + 3)));
    let scp = echoprobe_scp(&["+tls", &fkey, &fcert, "-ic"]);
    check(&["+tla", "+cf", &ca], "PROBESCP", &scp.port_arg())
        .assert_code(82)
        .assert_within(QUICK)
        .assert_mentions("not yet valid");
}

#[test]
fn host_name_is_checked_only_on_request() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (key, cert) = pki.leaf("pacs", &["pacs.example.org"], None);
    let scp = echoprobe_scp(&["+tls", &key, &cert, "-ic"]);
    // Like DCMTK: chain and validity only.
    check(&["+tla", "+cf", &ca], "PROBESCP", &scp.port_arg()).assert_code(0);
    check(
        &["+tla", "+cf", &ca, "--verify-host-name"],
        "PROBESCP",
        &scp.port_arg(),
    )
    .assert_code(83)
    .assert_within(QUICK)
    .assert_mentions("name");
}

#[test]
fn plain_client_against_tls_servers_fails_fast() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    // storescp +tls closes the connection on our plaintext A-ASSOCIATE-RQ: 71.
    let scp = storescp(&["+tls", &skey, &scert, "-ic"]);
    check(&[], "STORESCP", &scp.port_arg())
        .assert_code(71)
        .assert_within(QUICK);
    // echoprobe scp +tls (rustls) answers with a TLS alert, which is no PDU: 69 (protocol violation).
    let scp = echoprobe_scp(&["+tls", &skey, &scert, "-ic"]);
    check(&[], "PROBESCP", &scp.port_arg())
        .assert_code(69)
        .assert_within(QUICK)
        .assert_mentions("0x15");
}

/// A plain client on a TLS port is told to try +tls, as a TLS client on a plain port is told "is it a plain DICOM
/// port?": when the TLS server's answer to our A-ASSOCIATE-RQ is a TLS alert (rustls, 69) or a close (OpenSSL, 71).
/// Other failures do not get the hint.
#[test]
fn plain_client_on_a_tls_port_is_told_to_try_tls() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let scp = echoprobe_scp(&["+tls", &skey, &scert, "-ic"]);
    let out = check(&[], "PROBESCP", &scp.port_arg());
    out.assert_code(69).assert_within(QUICK);
    assert!(
        out.stderr.ends_with(&format!(
            "echoprobe: protocol violation by 127.0.0.1:{}: unrecognized PDU type 0x15 (sent A-ABORT), a TLS \
             record; is it a TLS port? try +tls\n",
            scp.port
        )),
        "{out}"
    );
    let scp = storescp(&["+tls", &skey, &scert, "-ic"]);
    let out = check(&[], "STORESCP", &scp.port_arg());
    out.assert_code(71).assert_within(QUICK);
    assert!(
        out.stderr.ends_with(&format!(
            "echoprobe: 127.0.0.1:{} closed the connection before answering the A-ASSOCIATE-RQ; is it a TLS port? \
             try +tls\n",
            scp.port
        )),
        "{out}"
    );
    // With +tls, a plain port: its own hint, not this one.
    let scp = echoprobe_scp(&[]);
    let out = check(&["+tla", "-ic"], "PROBESCP", &scp.port_arg());
    out.assert_code(80);
    assert!(!out.output().contains("try +tls"), "{out}");
}

#[test]
fn tls_client_against_plain_servers_is_80_fast() {
    let scp = storescp(&[]);
    check(&["+tla", "-ic"], "STORESCP", &scp.port_arg())
        .assert_code(80)
        .assert_within(QUICK)
        .assert_mentions("does it speak TLS");
    let scp = echoprobe_scp(&[]);
    check(&["+tla", "-ic"], "PROBESCP", &scp.port_arg())
        .assert_code(80)
        .assert_within(QUICK);
}

#[test]
fn mismatched_key_and_certificate_are_84() {
    let pki = Pki::new();
    let (key_a, _) = pki.leaf("a", &["a"], None);
    let (_, cert_b) = pki.leaf("b", &["b"], None);
    let scp = echoprobe_scp(&[]);
    check(
        &["+tls", &key_a, &cert_b, "+cf", &pki.path("ca.pem")],
        "PROBESCP",
        &scp.port_arg(),
    )
    .assert_code(84)
    .assert_mentions("cannot be used together");
    // Nothing reached the SCP: the files are checked before connecting.
    std::thread::sleep(Duration::from_millis(100));
    let log = scp.peer.log();
    assert_eq!(
        log.lines().count(),
        1,
        "only the listening line expected:\n{log}"
    );
}

/// The TLS handshake's cost per check, echoprobe and DCMTK's echoscu in the same run against the same echoprobe SCPs
/// (one plain, one TLS): median wall time of whole processes. Printed (see `--nocapture`); each check must pass.
#[test]
fn tls_overhead_per_check() {
    const N: usize = 15;
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let (ckey, ccert) = pki.leaf("client", &["client"], None);
    let ca = pki.path("ca.pem");
    let plain = echoprobe_scp(&["-q"]);
    let tls = echoprobe_scp(&["-q", "+tls", &skey, &scert, "+cf", &ca]);
    let tls_args = ["+tls", ckey.as_str(), ccert.as_str(), "+cf", ca.as_str()];
    let median = |mut cmd: Box<dyn FnMut() -> Command>| {
        let mut times: Vec<Duration> = (0..N)
            .map(|_| {
                let start = Instant::now();
                let out = run(&mut cmd(), HARD);
                let took = start.elapsed();
                out.assert_code(0);
                took
            })
            .collect();
        times.sort();
        times[N / 2]
    };
    let (pp, tp) = (plain.port, tls.port);
    let tls_v: Vec<String> = tls_args.iter().map(|s| s.to_string()).collect();
    let t2 = tls_v.clone();
    let probe_plain = median(Box::new(move || {
        let mut c = echoprobe(&["-q", "-aec", "PROBESCP", "127.0.0.1"]);
        c.arg(pp.to_string());
        c
    }));
    let probe_tls = median(Box::new(move || {
        let mut c = echoprobe(&["-q", "-aec", "PROBESCP"]);
        c.args(&tls_v).args(["127.0.0.1", &tp.to_string()]);
        c
    }));
    let scu_plain = median(Box::new(move || dcmtk_echoscu(&[], "PROBESCP", pp)));
    let scu_tls = median(Box::new(move || {
        let a: Vec<&str> = t2.iter().map(String::as_str).collect();
        dcmtk_echoscu(&a, "PROBESCP", tp)
    }));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "TLS overhead per check (median of {N} whole runs, same machine, same run):\n  \
         echoprobe: plain {:.1} ms, TLS {:.1} ms, overhead {:.1} ms\n  \
         echoscu:   plain {:.1} ms, TLS {:.1} ms, overhead {:.1} ms",
        ms(probe_plain),
        ms(probe_tls),
        ms(probe_tls) - ms(probe_plain),
        ms(scu_plain),
        ms(scu_tls),
        ms(scu_tls) - ms(scu_plain),
    );
}

// ------------------------------------------------------------------------------------------------------------------
// Encrypted private keys. The files are written here in both of OpenSSL's forms; DCMTK's storescp (OpenSSL) reading
// them with +pw is the proof that they are what OpenSSL writes, echoprobe reading them is the test.

const PASSWORD: &str = "s3cret pass";

/// PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC: what `openssl pkcs8 -topk8` writes).
fn encrypted_pkcs8(key_pem_path: &str) -> (String, Vec<u8>) {
    use pkcs8::der::pem::LineEnding;
    let pem = std::fs::read_to_string(key_pem_path).expect("read key");
    let (_, doc) = pkcs8::SecretDocument::from_pem(&pem).expect("plain PKCS#8 PEM");
    let info = pkcs8::PrivateKeyInfo::try_from(doc.as_bytes()).expect("PKCS#8");
    let params =
        pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, b"saltsalt", &[7u8; 16])
            .expect("pbes2 params");
    let enc = info.encrypt_with_params(params, PASSWORD).expect("encrypt");
    (
        enc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .expect("pem")
            .to_string(),
        enc.as_bytes().to_vec(),
    )
}

/// The legacy form `openssl pkey -aes256 -traditional` writes: PEM headers, EVP_BytesToKey(MD5), AES-256-CBC.
fn encrypted_legacy(key_pem_path: &str) -> String {
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockEncryptMut, KeyIvInit};
    use base64ct::{Base64, Encoding};
    use md5::{Digest, Md5};
    let pem = std::fs::read_to_string(key_pem_path).expect("read key");
    let (_, doc) = pkcs8::SecretDocument::from_pem(&pem).expect("plain PKCS#8 PEM");
    let iv: [u8; 16] = *b"0123456789abcdef";
    let mut key = Vec::new();
    let mut prev = Vec::new();
    while key.len() < 32 {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(PASSWORD.as_bytes());
        h.update(&iv[..8]);
        prev = h.finalize().to_vec();
        key.extend_from_slice(&prev);
    }
    let plain = doc.as_bytes();
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + 16, 0);
    let enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key[..32], &iv)
        .expect("key/iv")
        .encrypt_padded_mut::<Pkcs7>(&mut buf, plain.len())
        .expect("encrypt")
        .to_vec();
    let b64 = Base64::encode_string(&enc);
    let mut out =
        String::from("-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,");
    out.extend(iv.iter().map(|b| format!("{b:02X}")));
    out.push_str("\n\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(core::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

#[test]
fn encrypted_keys_pkcs8_and_legacy_with_dcmtk() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let (ckey, ccert) = pki.leaf("client", &["client"], None);
    let ca = pki.path("ca.pem");
    let (pkcs8_pem, _) = encrypted_pkcs8(&skey);
    let spkcs8 = pki.path("server-pkcs8-enc.pem");
    std::fs::write(&spkcs8, pkcs8_pem).expect("write");
    let slegacy = pki.path("server-legacy-enc.pem");
    std::fs::write(&slegacy, encrypted_legacy(&skey)).expect("write");
    let (cpkcs8_pem, cpkcs8_der) = encrypted_pkcs8(&ckey);
    let cpkcs8 = pki.path("client-pkcs8-enc.pem");
    std::fs::write(&cpkcs8, cpkcs8_pem).expect("write");
    let clegacy = pki.path("client-legacy-enc.pem");
    std::fs::write(&clegacy, encrypted_legacy(&ckey)).expect("write");

    // storescp (OpenSSL) reads both forms with +pw: the files are standard.
    for server_key in [&spkcs8, &slegacy] {
        let scp = storescp(&["+tls", server_key, &scert, "+pw", PASSWORD, "+cf", &ca]);
        // echoprobe with its own encrypted client key, both forms.
        for client_key in [&cpkcs8, &clegacy] {
            check(
                &["+tls", client_key, &ccert, "+pw", PASSWORD, "+cf", &ca],
                "STORESCP",
                &scp.port_arg(),
            )
            .assert_code(0)
            .assert_within(QUICK);
        }
        // Wrong password, empty password, no password (stdin is empty): 84, before connecting.
        check(
            &["+tls", &cpkcs8, &ccert, "+pw", "wrong", "+cf", &ca],
            "STORESCP",
            &scp.port_arg(),
        )
        .assert_code(84)
        .assert_mentions("wrong password");
        check(
            &["+tls", &clegacy, &ccert, "-pw", "+cf", &ca],
            "STORESCP",
            &scp.port_arg(),
        )
        .assert_code(84);
        check(
            &["+tls", &cpkcs8, &ccert, "+cf", &ca],
            "STORESCP",
            &scp.port_arg(),
        )
        .assert_code(84)
        .assert_mentions("no password was given");
        // +ps (the default): one line from stdin; no prompt when stdin is not a terminal (a pipe here).
        let port = scp.port_arg();
        let mut piped = Command::new("sh");
        piped
            .args(["-c", r#"printf '%s\n' "$0" | "$@""#, PASSWORD])
            .arg(env!("CARGO_BIN_EXE_echoprobe"))
            .args(["-aec", "STORESCP", "+tls", &clegacy, &ccert, "+cf", &ca])
            .args(["127.0.0.1", &port]);
        let out = run(&mut piped, HARD);
        out.assert_code(0);
        assert!(!out.output().contains("Enter PEM pass phrase"), "{out}");
    }

    // echoprobe scp with an encrypted key, DCMTK's echoscu as the client.
    for server_key in [&spkcs8, &slegacy] {
        let scp = echoprobe_scp(&["+tls", server_key, &scert, "+pw", PASSWORD, "+cf", &ca]);
        run(
            &mut dcmtk_echoscu(&["+tls", &ckey, &ccert, "+cf", &ca], "PROBESCP", scp.port),
            HARD,
        )
        .assert_code(0)
        .assert_within(QUICK);
    }

    // -der: encrypted PKCS#8 DER key, DER certificates (+cf too, as in DCMTK).
    let der_dir = TempDir::new("tls-der");
    let p = |n: &str| der_dir.path().join(n).display().to_string();
    std::fs::write(p("client.key.der"), cpkcs8_der).expect("write");
    let pem_to_der = |path: &str| {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_file(path)
            .expect("PEM certificate")
            .to_vec()
    };
    std::fs::write(p("client.der"), pem_to_der(&ccert)).expect("write");
    std::fs::write(p("ca.der"), pem_to_der(&ca)).expect("write");
    let scp = echoprobe_scp(&["+tls", &skey, &scert, "+cf", &ca]);
    check(
        &[
            "-der",
            "+tls",
            &p("client.key.der"),
            &p("client.der"),
            "+pw",
            PASSWORD,
            "+cf",
            &p("ca.der"),
        ],
        "PROBESCP",
        &scp.port_arg(),
    )
    .assert_code(0)
    .assert_within(QUICK);
}

/// `+ps` with a stdin that stays open and says nothing: `--deadline` bounds the wait (exit code 72, no prompt on a
/// pipe), before any connection (nothing listens on the port).
#[test]
fn password_wait_is_bounded_by_the_deadline() {
    let pki = Pki::new();
    let (ckey, ccert) = pki.leaf("client", &["client"], None);
    let (pkcs8_pem, _) = encrypted_pkcs8(&ckey);
    let key = pki.path("client-pkcs8-enc.pem");
    std::fs::write(&key, pkcs8_pem).expect("write");
    let fifo = pki.path("silent-stdin");
    // stdin opened read-write on a FIFO: reads block, and no end of file comes while echoprobe holds it.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"mkfifo "$0" && exec "$@" 0<>"$0""#, &fifo])
        .arg(env!("CARGO_BIN_EXE_echoprobe"))
        .args(["+tls", &key, &ccert, "-ic", "--deadline", "2", "127.0.0.1"])
        .arg(free_port().to_string());
    let out = run(&mut cmd, Duration::from_secs(10));
    out.assert_code(72).assert_stderr(
        "deadline of 2 s reached while waiting for the private key password on stdin (+ps)",
    );
    assert!(
        out.elapsed >= Duration::from_millis(1900) && out.elapsed < Duration::from_secs(5),
        "{out}"
    );
    assert!(!out.output().contains("Enter PEM pass phrase"), "{out}");
}

#[test]
fn revoked_certificates_with_crls() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (rkey, rcert) = pki.leaf_with_serial("revoked", &["localhost"], None, Some(4242));
    let (gkey, gcert) = pki.leaf_with_serial("good", &["localhost"], None, Some(4343));
    let crl = pki.crl("current", &[4242], false);
    let stale = pki.crl("stale", &[], true);

    let revoked = storescp(&["+tls", &rkey, &rcert, "-ic"]);
    // No CRL check unless asked for (as DCMTK).
    check(&["+tla", "+cf", &ca], "STORESCP", &revoked.port_arg()).assert_code(0);
    check(
        &["+tla", "+cf", &ca, "+crl", &crl],
        "STORESCP",
        &revoked.port_arg(),
    )
    .assert_code(81)
    .assert_within(QUICK)
    .assert_mentions("Revoked");
    // DCMTK's echoscu reads the same CRL and refuses the same server.
    let out = run(
        &mut dcmtk_echoscu(
            &["+tla", "+cf", &ca, "+crl", &crl],
            "STORESCP",
            revoked.port,
        ),
        HARD,
    );
    assert!(out.code != Some(0) && !out.timed_out, "{out}");

    let good = storescp(&["+tls", &gkey, &gcert, "-ic"]);
    check(
        &["+tla", "+cf", &ca, "+crl", &crl],
        "STORESCP",
        &good.port_arg(),
    )
    .assert_code(0)
    .assert_within(QUICK);
    check(
        &["+tla", "+cf", &ca, "+cra", "+crl", &crl],
        "STORESCP",
        &good.port_arg(),
    )
    .assert_code(0);
    run(
        &mut dcmtk_echoscu(&["+tla", "+cf", &ca, "+crl", &crl], "STORESCP", good.port),
        HARD,
    )
    .assert_code(0);
    // An expired CRL fails the check (as in OpenSSL); +crv without any CRL is our configuration error.
    check(
        &["+tla", "+cf", &ca, "+crl", &stale],
        "STORESCP",
        &good.port_arg(),
    )
    .assert_code(81)
    .assert_mentions("revocation list expired");
    check(&["+tla", "+cf", &ca, "+crv"], "STORESCP", &good.port_arg())
        .assert_code(84)
        .assert_mentions("no CRL found");

    // echoprobe scp with a CRL: DCMTK's echoscu with the revoked client certificate is refused, and the SCP says why.
    let scp = echoprobe_scp(&["+tls", &gkey, &gcert, "+cf", &ca, "+crl", &crl]);
    let out = run(
        &mut dcmtk_echoscu(&["+tls", &rkey, &rcert, "+cf", &ca], "PROBESCP", scp.port),
        HARD,
    );
    assert!(out.code != Some(0) && !out.timed_out, "{out}");
    scp.peer.wait_log("Revoked", QUICK);
    run(
        &mut dcmtk_echoscu(&["+tls", &gkey, &gcert, "+cf", &ca], "PROBESCP", scp.port),
        HARD,
    )
    .assert_code(0);
}

#[test]
fn offline_certificate_checks_vc_and_rc() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (_, server) = pki.leaf("server", &["localhost"], None);
    let (_, client) = pki.leaf("client", &["client"], None);
    let now = current_year();
    let (_, expired) = pki.leaf("expired", &["localhost"], Some((now - 3, now - 1)));
    let offline = |args: &[&str]| run(&mut echoprobe(args), HARD);
    for cert in [&server, &client] {
        offline(&["+tla", "+cf", &ca, "+vc", cert])
            .assert_code(0)
            .assert_mentions(&format!("Verification of certificate '{cert}' passed."));
    }
    offline(&["+tla", "+cf", &pki.path("other-ca.pem"), "+vc", &server])
        .assert_code(81)
        .assert_mentions("failed.");
    offline(&["+tla", "+cf", &ca, "+vc", &expired])
        .assert_code(82)
        .assert_mentions("failed.");
    offline(&["+tla", "+cf", &ca, "+vc", "/nonexistent.pem"]).assert_code(84);
    offline(&["+rc", &ca])
        .assert_code(0)
        .assert_mentions("is a valid, self-signed root CA.");
    offline(&["+rc", &server])
        .assert_code(81)
        .assert_mentions("is not a valid, self-signed root CA.");
    // DCMTK agrees on the same files.
    let dcmtk_rc = |file: &str| {
        run(
            Command::new(dcmtk("echoscu")).args(["+tla", "+rc", file]),
            HARD,
        )
    };
    dcmtk_rc(&ca).assert_code(0);
    dcmtk_rc(&server).assert_code(22);
    run(
        Command::new(dcmtk("echoscu")).args(["+tla", "+cf", &ca, "+vc", &server]),
        HARD,
    )
    .assert_code(0);
}

#[test]
fn silent_peer_bounds_the_tls_handshake() {
    let silent = echoprobe_tests::peers::SilentPeer::start();
    let port = silent.port.to_string();
    // The handshake is part of association setup: -ta bounds it (66), --deadline bounds everything (72).
    check(&["+tla", "-ic", "-ta", "0.5"], "SILENT", &port)
        .assert_code(66)
        .assert_within(Duration::from_secs(3))
        .assert_mentions("TLS handshake did not complete");
    check(&["+tla", "-ic", "--deadline", "0.5"], "SILENT", &port)
        .assert_code(72)
        .assert_within(Duration::from_secs(3))
        .assert_mentions("during the TLS handshake");
    assert!(silent.accepted() >= 2);
}

/// `+pz` is TLS 1.2 only in DCMTK 3.6.7 and here: the TLS 1.2 paths (including a missing client certificate, which
/// TLS 1.2 reports with a generic handshake_failure alert) against real DCMTK.
#[test]
fn tls_1_2_with_the_extended_profile() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let (ckey, ccert) = pki.leaf("client", &["client"], None);
    let ca = pki.path("ca.pem");
    let scp = storescp(&["+tls", &skey, &scert, "+cf", &ca, "+pz"]);
    for profile in ["+pz", "+py"] {
        check(
            &["-v", profile, "+tls", &ckey, &ccert, "+cf", &ca],
            "STORESCP",
            &scp.port_arg(),
        )
        .assert_code(0)
        .assert_within(QUICK)
        .assert_mentions("TLS handshake done")
        .assert_mentions("TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_");
    }
    check(&["+pz", "+tla", "+cf", &ca], "STORESCP", &scp.port_arg())
        .assert_code(85)
        .assert_within(QUICK)
        .assert_mentions("asked for a client certificate");

    let scp = echoprobe_scp(&["+tls", &skey, &scert, "+cf", &ca, "+pz"]);
    run(
        &mut dcmtk_echoscu(
            &["+tls", &ckey, &ccert, "+cf", &ca, "+pz"],
            "PROBESCP",
            scp.port,
        ),
        HARD,
    )
    .assert_code(0)
    .assert_within(QUICK);
    scp.peer.wait_log("TLS handshake done: TLS 1.2", QUICK);
    check(&["+tla", "+cf", &ca], "PROBESCP", &scp.port_arg())
        .assert_code(85)
        .assert_within(QUICK);
}

/// `+cd DIR`: every certificate file of the directory is trusted (OpenSSL's hashed names or any other), files that
/// hold no certificate are skipped (and said at -v), CRL files in it count for `+crv`.
#[test]
fn trusted_certificate_directory() {
    let pki = Pki::new();
    let (skey, scert) = pki.leaf("server", &["localhost"], None);
    let dir = TempDir::new("tls-cadir");
    std::fs::copy(pki.path("ca.pem"), dir.path().join("5d8c2a1f.0")).expect("copy CA");
    std::fs::copy(pki.path("other-ca.pem"), dir.path().join("other.pem")).expect("copy CA");
    std::fs::write(dir.path().join("README"), "not a certificate\n").expect("write");
    let d = dir.path().display().to_string();
    let scp = storescp(&["+tls", &skey, &scert, "-ic"]);
    check(&["-v", "+tla", "+cd", &d], "STORESCP", &scp.port_arg())
        .assert_code(0)
        .assert_within(QUICK)
        .assert_mentions("+cd: skipped 1 file(s) that hold no certificate");
    // +crv with a CRL in the directory.
    let crl = pki.crl("dir", &[], false);
    std::fs::copy(&crl, dir.path().join("5d8c2a1f.r0")).expect("copy CRL");
    check(&["+tla", "+cd", &d, "+crv"], "STORESCP", &scp.port_arg())
        .assert_code(0)
        .assert_within(QUICK);
    // A directory with only the untrusted CA: 81.
    let other = TempDir::new("tls-cadir-other");
    std::fs::copy(pki.path("other-ca.pem"), other.path().join("x.pem")).expect("copy CA");
    check(
        &["+tla", "+cd", &other.path().display().to_string()],
        "STORESCP",
        &scp.port_arg(),
    )
    .assert_code(81);
}
