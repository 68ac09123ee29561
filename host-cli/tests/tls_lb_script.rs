//! The load balancer's external check (examples/lb-health-check/dicom-c-echo.sh) over TLS: the same script, the TLS
//! options in ECHOSCU_OPTS, with echoprobe installed as `echoscu` first on PATH, and with DCMTK's echoscu for
//! comparison, against DCMTK's storescp +tls and echoprobe scp +tls, healthy and stopped; and the TLS wrapper as
//! examples/lb-health-check/README.md shows it (its file names swapped for the test's).

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::process::Command;

use echoprobe_tests::env::dcmtk;
use echoprobe_tests::fixtures::{lb_run, lb_script};
use echoprobe_tests::net::spawn_listening;
use echoprobe_tests::peers::START_TIMEOUT;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::{free_port, setup, Outcome, Peer};

const QUICK: Duration = Duration::from_secs(5);

/// The script as a load balancer runs it: only PATH (echoprobe as `echoscu` first) and `env`.
fn lb_check(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    lb_run(&lb_script(), bin, args, env)
}

/// The TLS wrapper from examples/lb-health-check/README.md, written to `dir` with the README's key, certificate
/// and CA file names replaced by `c`'s and the installed script's path by the one under test.
fn documented_wrapper(dir: &Path, c: &Certs) -> PathBuf {
    let readme =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lb-health-check/README.md");
    let text =
        std::fs::read_to_string(&readme).unwrap_or_else(|e| panic!("{}: {e}", readme.display()));
    let start = text
        .find("#!/bin/sh\nECHOSCU_OPTS=\"+tls ")
        .unwrap_or_else(|| panic!("no TLS wrapper in {}", readme.display()));
    let block = &text[start..];
    let block = &block[..block.find("```").expect("end of the wrapper's code block")];
    for documented in [
        "/etc/echoprobe/lb.key",
        "/etc/echoprobe/lb.pem",
        "/etc/echoprobe/pacs-ca.pem",
        "/usr/local/lib/echoprobe/dicom-c-echo.sh",
    ] {
        assert!(
            block.contains(documented),
            "{documented} not in the wrapper:\n{block}"
        );
    }
    let wrapper = block
        .replace("/etc/echoprobe/lb.key", &c.client.0)
        .replace("/etc/echoprobe/lb.pem", &c.client.1)
        .replace("/etc/echoprobe/pacs-ca.pem", &c.ca)
        .replace(
            "/usr/local/lib/echoprobe/dicom-c-echo.sh",
            &lb_script().display().to_string(),
        );
    let path = dir.join("dicom-c-echo-tls.sh");
    std::fs::write(&path, wrapper).expect("write wrapper");
    let mut perm = std::fs::metadata(&path).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&path, perm).expect("chmod");
    path
}

/// Run `wrapper args` as a load balancer would: only PATH and `env`.
fn lb_wrapper(wrapper: &Path, bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    lb_run(wrapper, bin, args, env)
}

/// CA, server and client certificates (rcgen), PEM files in a temporary directory.
struct Certs {
    _dir: TempDir,
    ca: String,
    server: (String, String),
    client: (String, String),
}

fn certs() -> Certs {
    let dir = TempDir::new("lb-tls");
    let p = |n: &str| dir.path().join(n).display().to_string();
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "LB test CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
    std::fs::write(p("ca.pem"), ca_cert.pem()).expect("write");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf = |name: &str| {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("leaf");
        std::fs::write(p(&format!("{name}.key")), key.serialize_pem()).expect("write");
        std::fs::write(p(&format!("{name}.pem")), cert.pem()).expect("write");
        (p(&format!("{name}.key")), p(&format!("{name}.pem")))
    };
    Certs {
        ca: p("ca.pem"),
        server: leaf("pacs"),
        client: leaf("loadbalancer"),
        _dir: dir,
    }
}

fn start(name: &str, cmd: &mut Command, port: u16) -> Peer {
    spawn_listening(name, cmd, port, START_TIMEOUT)
}

#[test]
fn lb_script_over_tls_healthy_then_stopped() {
    setup();
    let c = certs();
    let bin = TempDir::new("echoscu-on-path");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_echoprobe"), bin.path().join("echoscu"))
        .expect("symlink");
    let opts = format!("-to 5 +tls {} {} +cf {}", c.client.0, c.client.1, c.ca);
    // DICOM_VERBOSE: the healthy summary line says which TLS version was used (the script is quiet otherwise).
    let env = [
        ("ECHOSCU_OPTS", opts.as_str()),
        ("DICOM_AEC", "LB-SCP"),
        ("DICOM_VERBOSE", "1"),
    ];
    let wrapper = documented_wrapper(bin.path(), &c);

    // DCMTK storescp +tls (requires our client certificate).
    let port = free_port();
    let out = TempDir::new("lb-tls-storescp");
    let mut cmd = Command::new(dcmtk("storescp"));
    cmd.args(["--aetitle", "LB-SCP", "-od"])
        .arg(out.path())
        .args(["+tls", &c.server.0, &c.server.1, "+cf", &c.ca])
        .arg(port.to_string());
    let storescp = start("storescp", &mut cmd, port);
    let args = ["192.0.2.10", "2762", "127.0.0.1", &port.to_string()];
    let port_s = port.to_string();
    let args_rport0 = ["192.0.2.10", port_s.as_str(), "127.0.0.1", "0"];
    lb_check(bin.path(), &args, &env)
        .assert_code(0)
        .assert_within(QUICK)
        .assert_mentions("TLS 1.3");
    lb_check(bin.path(), &args_rport0, &env)
        .assert_code(0)
        .assert_within(QUICK);
    // The README's wrapper: healthy over TLS, quiet unless DICOM_VERBOSE is set.
    let out = lb_wrapper(&wrapper, bin.path(), &args, &[("DICOM_AEC", "LB-SCP")]);
    out.assert_code(0).assert_within(QUICK);
    assert!(
        out.output().is_empty(),
        "a healthy check prints nothing\n{out}"
    );
    lb_wrapper(
        &wrapper,
        bin.path(),
        &args,
        &[("DICOM_AEC", "LB-SCP"), ("DICOM_VERBOSE", "1")],
    )
    .assert_code(0)
    .assert_mentions("TLS 1.3");
    // Without TLS, the TLS port does not answer DICOM: the wrapper's options are what made it work.
    lb_check(bin.path(), &args, &[("DICOM_AEC", "LB-SCP")]).assert_code(71);
    // The same script and options with DCMTK's echoscu: also healthy (nothing to edit when swapping).
    let dcmtk_echoscu = dcmtk("echoscu");
    let mut env_dcmtk = env.to_vec();
    env_dcmtk.push(("ECHOSCU", dcmtk_echoscu.to_str().expect("utf-8")));
    lb_check(bin.path(), &args, &env_dcmtk).assert_code(0);
    // Without the client certificate: 85 (storescp requires one).
    let anon = format!("-to 5 +tla +cf {}", c.ca);
    lb_check(bin.path(), &args, &[("ECHOSCU_OPTS", anon.as_str())])
        .assert_code(85)
        .assert_within(QUICK);
    drop(storescp);
    lb_check(bin.path(), &args, &env)
        .assert_code(63)
        .assert_within(QUICK);

    // echoprobe scp +tls, requiring client certificates.
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args([
        "scp",
        "--bind",
        "127.0.0.1",
        "-aet",
        "LB-SCP",
        "--require-called-aet",
    ])
    .args(["+tls", &c.server.0, &c.server.1, "+cf", &c.ca])
    .arg(port.to_string());
    let scp = start("echoprobe-scp", &mut cmd, port);
    let args = ["192.0.2.10", "2762", "127.0.0.1", &port.to_string()];
    lb_check(bin.path(), &args, &env)
        .assert_code(0)
        .assert_within(QUICK);
    lb_check(bin.path(), &args, &env_dcmtk).assert_code(0);
    lb_wrapper(&wrapper, bin.path(), &args, &[("DICOM_AEC", "LB-SCP")])
        .assert_code(0)
        .assert_within(QUICK);
    drop(scp);
    lb_check(bin.path(), &args, &env)
        .assert_code(63)
        .assert_within(QUICK);
    let out = lb_wrapper(&wrapper, bin.path(), &args, &[]);
    out.assert_code(63).assert_within(QUICK);
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "a failed check prints one line with the reason\n{out}"
    );
}
