//! The echoprobe binary under test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Path of the echoprobe binary: `ECHOPROBE_BIN` if set, else the one `cargo build -p echoprobe`
/// produces for this workspace. The build runs once per test process (a no-op when it is up to
/// date), so the tests never use a stale binary.
pub fn echoprobe_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("ECHOPROBE_BIN") {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "ECHOPROBE_BIN={} is not a file",
                bin.display()
            );
            return bin;
        }
        build()
    })
}

/// A `Command` for echoprobe with `args`.
pub fn echoprobe<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(echoprobe_bin());
    cmd.args(args);
    cmd
}

fn build() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Offline: the tests run in a namespace without network; the workspace build fetched the
    // crates before.
    let out = Command::new(&cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--offline",
            "-p",
            "echoprobe",
            "--bin",
            "echoprobe",
            "--message-format=json-render-diagnostics",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cargo.to_string_lossy()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo build -p echoprobe failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The compiler-artifact message of the bin carries "executable":"<path>".
    let key = "\"executable\":\"";
    let bin = stdout
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .find_map(|l| {
            let start = l.find(key)? + key.len();
            let end = l[start..].find('"')? + start;
            Some(PathBuf::from(&l[start..end]))
        })
        .unwrap_or_else(|| panic!("no executable in cargo's output:\n{stdout}"));
    assert!(
        bin.is_file(),
        "cargo reported {} but it is not a file",
        bin.display()
    );
    bin
}
