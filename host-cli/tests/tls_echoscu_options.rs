//! Every option of echoscu's help, DCMTK 3.6.0 (quoted below) and the installed DCMTK (3.6.7 on Debian 12, read
//! from `echoscu --help` at test time), short and long form, with DCMTK's syntax: echoprobe must recognize each one,
//! and either run with it or refuse it with a documented reason. Nothing is an "unknown option".
//!
//! Each option is tried in a command line that DCMTK would accept too (TLS options after `+tla +cf CA`, password
//! options after `+tls KEY CERT`, `+ws` after `+rs`, `-lc` with DCMTK's own logger.cfg), against 127.0.0.1 port 1
//! (::1 for `-i6`) where nobody listens: a run that got past the command line ends with exit code 63 (connection
//! refused), within a second. DCMTK 3.6.8's IP protocol version options (`-i4`, `-i6`, `-i0`) are checked too.

use core::time::Duration;
use std::collections::BTreeMap;
use std::process::Command;

use echoprobe_tests::env::dcmtk;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::run;

/// The option table of DCMTK 3.6.0's `echoscu --help`, as the published load-balancer article
/// that echoprobe answers quotes it: (short, long, number of values).
const ECHOSCU_360: &[(&str, &str, usize)] = &[
    ("-h", "--help", 0),
    ("", "--version", 0),
    ("", "--arguments", 0),
    ("-q", "--quiet", 0),
    ("-v", "--verbose", 0),
    ("-d", "--debug", 0),
    ("-ll", "--log-level", 1),
    ("-lc", "--log-config", 1),
    ("-aet", "--aetitle", 1),
    ("-aec", "--call", 1),
    ("-pts", "--propose-ts", 1),
    ("-ppc", "--propose-pc", 1),
    ("-to", "--timeout", 1),
    ("-ta", "--acse-timeout", 1),
    ("-td", "--dimse-timeout", 1),
    ("-pdu", "--max-pdu", 1),
    ("", "--repeat", 1),
    ("", "--abort", 0),
    ("-tls", "--disable-tls", 0),
    ("+tls", "--enable-tls", 2),
    ("+tla", "--anonymous-tls", 0),
    ("+ps", "--std-passwd", 0),
    ("+pw", "--use-passwd", 1),
    ("-pw", "--null-passwd", 0),
    ("-pem", "--pem-keys", 0),
    ("-der", "--der-keys", 0),
    ("+cf", "--add-cert-file", 1),
    ("+cd", "--add-cert-dir", 1),
    ("+cs", "--cipher", 1),
    ("+dp", "--dhparam", 1),
    ("+rs", "--seed", 1),
    ("+ws", "--write-seed", 0),
    ("+wf", "--write-seed-file", 1),
    ("-rc", "--require-peer-cert", 0),
    ("-vc", "--verify-peer-cert", 0),
    ("-ic", "--ignore-peer-cert", 0),
];

/// What DCMTK 3.6.8's `echoscu --help` adds to 3.6.7's (its "IP protocol version" group under network options):
/// (short, long, number of values).
const ECHOSCU_368_ADDED: &[(&str, &str, usize)] = &[
    ("-i4", "--ipv4", 0),
    ("-i6", "--ipv6", 0),
    ("-i0", "--ip-auto", 0),
];

/// Options of the installed DCMTK's `echoscu --help`: long form -> (short form, number of values). A row is
/// `  -x  --long  [a]rg: type` or `      --long`; the values are counted by their `[x]` markers.
fn installed_echoscu_options() -> BTreeMap<String, (String, usize)> {
    let out = Command::new(dcmtk("echoscu"))
        .arg("--help")
        .output()
        .expect("run echoscu --help");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut options = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (short, long, rest) = match words.as_slice() {
            [s, l, rest @ ..] if is_short(s) && l.starts_with("--") => (*s, *l, rest),
            [l, rest @ ..] if l.starts_with("--") && line.starts_with("    ") => ("", *l, rest),
            _ => continue,
        };
        let values = rest.join(" ").matches('[').count();
        options.insert(long.to_string(), (short.to_string(), values));
    }
    assert!(
        options.len() > 40,
        "parsed only {} options from echoscu --help:\n{text}",
        options.len()
    );
    options
}

fn is_short(s: &str) -> bool {
    (s.starts_with('-') || s.starts_with('+')) && !s.starts_with("--") && s.len() > 1
}

/// What running with an option must give.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// It ran: the check got to the connect (exit 63).
    Runs,
    /// It printed something and exited 0 (help, version, list of ciphers, offline checks).
    Exits0,
    /// Refused with exit code 1 and a message containing this.
    Refused(&'static str),
}

struct Files {
    _dir: TempDir,
    key: String,
    cert: String,
    ca: String,
    crl: String,
    dir: String,
}

fn files() -> Files {
    let dir = TempDir::new("echoscu-options");
    let p = |n: &str| dir.path().join(n).display().to_string();
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("leaf");
    let crl = rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2000, 1, 1),
        next_update: rcgen::date_time_ymd(2999, 1, 1),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .expect("CRL");
    std::fs::write(p("key.pem"), key.serialize_pem()).expect("write");
    std::fs::write(p("cert.pem"), cert.pem()).expect("write");
    std::fs::write(p("ca.pem"), ca_cert.pem()).expect("write");
    std::fs::write(p("crl.pem"), crl.pem().expect("pem")).expect("write");
    std::fs::write(p("seed"), [0u8; 64]).expect("write");
    // DCMTK's sample logger configuration as Debian ships it, with its log file (${appname}.log) in our temp dir.
    let shipped = std::fs::read_to_string("/etc/dcmtk/logger.cfg")
        .expect("/etc/dcmtk/logger.cfg (install dcmtk: scripts/install-deps.sh)");
    let log_file = p("echoprobe.log");
    std::fs::write(
        p("log.cfg"),
        shipped.replace("= ${appname}.log", &format!("= {log_file}")),
    )
    .expect("write");
    std::fs::create_dir_all(p("certs")).expect("mkdir");
    std::fs::write(p("certs/ca.pem"), ca_cert.pem()).expect("write");
    Files {
        key: p("key.pem"),
        cert: p("cert.pem"),
        ca: p("ca.pem"),
        crl: p("crl.pem"),
        dir: p("certs"),
        _dir: dir,
    }
}

/// The command line around `long` (its values and whatever DCMTK needs with it), and what must happen.
fn case(long: &str, f: &Files) -> (Vec<String>, Vec<String>, Expect) {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let anon = v(&["+tla", "+cf", &f.ca]);
    let auth = v(&["+tls", &f.key, &f.cert, "+cf", &f.ca]);
    let (before, values, expect): (Vec<String>, Vec<String>, Expect) = match long {
        "--help" | "--version" => (vec![], vec![], Expect::Exits0),
        "--log-level" => (vec![], v(&["info"]), Expect::Runs),
        "--log-config" => (
            vec![],
            v(&[&f.ca.replace("ca.pem", "log.cfg")]),
            Expect::Runs,
        ),
        "--aetitle" | "--call" => (vec![], v(&["LB"]), Expect::Runs),
        "--propose-ts" | "--propose-pc" | "--repeat" => (vec![], v(&["2"]), Expect::Runs),
        "--timeout" | "--socket-timeout" | "--acse-timeout" | "--dimse-timeout" => {
            (vec![], v(&["5"]), Expect::Runs)
        }
        "--max-pdu" => (vec![], v(&["32768"]), Expect::Runs),
        "--disable-tls" => (vec![], vec![], Expect::Runs),
        // Verifying the server (-rc, the default) needs something to trust: DCMTK would fail the handshake
        // without it, echoprobe refuses the command line (exit 1, tested in cli.rs).
        "--enable-tls" => (v(&["+cf", &f.ca]), v(&[&f.key, &f.cert]), Expect::Runs),
        "--std-passwd" | "--null-passwd" => (auth, vec![], Expect::Runs),
        "--use-passwd" => (auth, v(&["secret"]), Expect::Runs),
        "--add-cert-file" => (v(&["+tla"]), v(&[&f.ca]), Expect::Runs),
        "--add-cert-dir" => (v(&["+tla"]), v(&[&f.dir]), Expect::Runs),
        "--add-crl-file" => (anon, v(&[&f.crl]), Expect::Runs),
        "--enable-crl-vfy" | "--enable-crl-all" => {
            let mut b = anon;
            b.extend(v(&["+crl", &f.crl]));
            (b, vec![], Expect::Runs)
        }
        "--profile-aes" | "--profile-null" => (anon, vec![], Expect::Refused("retired")),
        "--list-ciphers" => (vec![], vec![], Expect::Exits0),
        // -der reads +cf files as DER too: here with -ic and no +cf.
        "--der-keys" => (v(&["+tla", "-ic"]), vec![], Expect::Runs),
        "--cipher" => (
            anon,
            v(&["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]),
            Expect::Runs,
        ),
        "--dhparam" | "--seed" => (anon, v(&["dh.pem"]), Expect::Runs),
        "--write-seed" => {
            let mut b = anon;
            b.extend(v(&["+rs", "seed"]));
            (b, vec![], Expect::Runs)
        }
        "--write-seed-file" => {
            let mut b = anon;
            b.extend(v(&["+rs", "seed"]));
            (b, v(&["seed.out"]), Expect::Runs)
        }
        "--verify-cert" => (anon, v(&[&f.cert]), Expect::Exits0),
        "--is-root-cert" => (vec![], v(&[&f.ca]), Expect::Exits0),
        // Flags: TLS ones after +tla +cf CA.
        l if tls_flag(l) => (anon, vec![], Expect::Runs),
        _ => (vec![], vec![], Expect::Runs),
    };
    (before, values, expect)
}

fn tls_flag(long: &str) -> bool {
    matches!(
        long,
        "--anonymous-tls"
            | "--pem-keys"
            | "--profile-bcp195-nd"
            | "--profile-bcp195"
            | "--profile-bcp195-ex"
            | "--require-peer-cert"
            | "--verify-peer-cert"
            | "--ignore-peer-cert"
    )
}

fn try_option(name: &str, long: &str, arity: usize, f: &Files) {
    let (before, values, expect) = case(long, f);
    assert_eq!(
        values.len(),
        arity,
        "{name}: the test gives {} values, DCMTK's help says {arity}",
        values.len()
    );
    let mut args: Vec<String> = vec!["-to".into(), "2".into(), "--deadline".into(), "5".into()];
    args.extend(before);
    args.push(name.to_string());
    args.extend(values);
    let peer = if long == "--ipv6" { "::1" } else { "127.0.0.1" };
    args.extend([peer.to_string(), "1".to_string()]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(&args);
    let out = run(&mut cmd, Duration::from_secs(15));
    assert!(
        !out.output().contains("unknown option"),
        "{name} is unknown to echoprobe\n{out}"
    );
    match expect {
        Expect::Runs => {
            out.assert_code(63).assert_within(Duration::from_secs(5));
        }
        Expect::Exits0 => {
            out.assert_code(0);
        }
        Expect::Refused(why) => {
            out.assert_code(1).assert_mentions(why);
        }
    }
}

#[test]
fn every_option_of_echoscu_3_6_0() {
    let f = files();
    for (short, long, arity) in ECHOSCU_360 {
        for name in [*short, *long].into_iter().filter(|n| !n.is_empty()) {
            try_option(name, long, *arity, &f);
        }
    }
}

#[test]
fn the_ip_protocol_version_options_of_echoscu_3_6_8() {
    let f = files();
    for (short, long, arity) in ECHOSCU_368_ADDED {
        for name in [*short, *long] {
            try_option(name, long, *arity, &f);
        }
    }
}

#[test]
fn every_option_of_the_installed_echoscu() {
    let f = files();
    let options = installed_echoscu_options();
    for must in [
        "--enable-tls",
        "--add-crl-file",
        "--verify-cert",
        "--profile-null",
    ] {
        assert!(options.contains_key(must), "{must} not parsed: {options:?}");
    }
    for (long, (short, arity)) in &options {
        for name in [short.as_str(), long.as_str()]
            .into_iter()
            .filter(|n| !n.is_empty())
        {
            try_option(name, long, *arity, &f);
        }
    }
}
