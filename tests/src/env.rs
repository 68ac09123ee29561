//! Guards: the network namespace must be loopback-only, the peer programs must exist.
//!
//! These *fail* the test with a message saying what is wrong and how to fix it; they never skip.

use core::net::Ipv4Addr;
use core::time::Duration;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Run the isolation check once per test process; panic (fail the test) if it does not hold.
///
/// Call first in every interop test.
pub fn setup() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(why) = CHECKED.get_or_init(check_isolated) {
        panic!(
            "interop tests must run in a network namespace that has only loopback: {why}\n\
             run them with scripts/test.sh, or by hand:\n  \
             unshare -rn -- sh -c 'ip link set lo up && cargo test -p echoprobe-tests --offline'"
        );
    }
}

/// The network interfaces of this process's namespace (from `/proc/self/net/dev`, which, unlike
/// `/sys/class/net`, follows the namespace of the reading process).
pub fn interfaces() -> std::io::Result<Vec<String>> {
    let dev = fs::read_to_string("/proc/self/net/dev")?;
    Ok(dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|name| name.trim().to_string())
        .collect())
}

fn check_isolated() -> Result<(), String> {
    let ifaces = interfaces().map_err(|e| format!("cannot read /proc/self/net/dev: {e}"))?;
    if ifaces != ["lo"] {
        return Err(format!("this namespace has interfaces {ifaces:?}"));
    }
    // lo must be up: connect to a listener of our own.
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind 127.0.0.1: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map(drop)
        .map_err(|e| format!("loopback is not usable ({e}); did you run `ip link set lo up`?"))
}

/// Where the DCMTK programs live. `ECHOPROBE_DCMTK_DIR` overrides `/usr/bin`.
///
/// Not a PATH lookup on purpose: pynetdicom installs its own `echoscu`/`storescp`/`echoscp`
/// console scripts, and with pyenv they come before DCMTK's on PATH.
pub fn dcmtk(program: &str) -> PathBuf {
    let dir = std::env::var_os("ECHOPROBE_DCMTK_DIR").unwrap_or_else(|| "/usr/bin".into());
    let path = PathBuf::from(dir).join(program);
    let out = Command::new(&path)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "DCMTK {program} not runnable at {} ({e}): run scripts/install-deps.sh",
                path.display()
            )
        });
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains(&format!("$dcmtk: {program} v")),
        "{} is not DCMTK's {program}: --version said {text:?}",
        path.display()
    );
    path
}

/// The python that runs the pynetdicom peers (`ECHOPROBE_PYTHON`, default `python3`), checked
/// once to import pynetdicom.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let python = PathBuf::from(
                std::env::var_os("ECHOPROBE_PYTHON").unwrap_or_else(|| "python3".into()),
            );
            let out = Command::new(&python)
                .args(["-c", "import pynetdicom; print(pynetdicom.__version__)"])
                .output()
                .map_err(|e| format!("{} not runnable: {e}", python.display()))?;
            if out.status.success() {
                Ok(python)
            } else {
                Err(format!(
                    "{} cannot import pynetdicom: {}",
                    python.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}; run scripts/install-deps.sh"))
}

/// A file of this crate (e.g. `py/echoscp.py`).
pub fn crate_file(rel: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    assert!(path.exists(), "{} missing", path.display());
    path
}
