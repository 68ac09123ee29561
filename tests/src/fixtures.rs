//! What several test files share: echoprobe's check of a peer on 127.0.0.1, a strict `echoprobe scp`, what a peer
//! must have seen, and the load balancer's check script run as a load balancer runs it.

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::peers::{echoprobe_scp, storescp, Server};
use crate::process::{run, Outcome};
use crate::{echoprobe, CALLING_AE};

/// Hard limit for one check (it is killed after this).
pub const HARD: Duration = Duration::from_secs(30);

/// `echoprobe -aet CALLING -aec CALLED [extra] 127.0.0.1 PORT`, killed after [`HARD`].
pub fn check_as(calling: &str, called: &str, port: u16, extra: &[&str]) -> Outcome {
    let port = port.to_string();
    let mut args = vec!["-aet", calling, "-aec", called];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["127.0.0.1", &port]);
    run(&mut echoprobe(args), HARD)
}

/// [`check_as`] with the tests' calling AE title, [`CALLING_AE`].
pub fn check(called: &str, port: u16, extra: &[&str]) -> Outcome {
    check_as(CALLING_AE, called, port, extra)
}

/// Waits (`limit` at most) for DCMTK's storescp to log an echo request, and asserts that it came from
/// [`CALLING_AE`].
pub fn assert_storescp_saw_calling_ae(scp: &Server, limit: Duration) {
    let log = scp.peer.wait_log("Received Echo Request", limit);
    assert!(
        log.contains(CALLING_AE),
        "storescp did not see the calling AE {CALLING_AE}:\n{log}"
    );
}

/// Starts DCMTK's storescp as `STORESCP`, runs `a_check(called, port)` of it, and asserts that storescp saw
/// [`CALLING_AE`] within `limit`.
#[track_caller]
pub fn storescp_checked_by(a_check: impl FnOnce(&str, u16), limit: Duration) {
    let scp = storescp("STORESCP");
    a_check("STORESCP", scp.port);
    assert_storescp_saw_calling_ae(&scp, limit);
}

/// Waits (`limit` at most) for an `echoprobe scp` to log that it accepted `calling`, and asserts that it counted
/// `echoes` echoes on that association.
pub fn assert_scp_counted(scp: &Server, calling: &str, echoes: usize, limit: Duration) {
    let log = scp
        .peer
        .wait_log(&format!("PROBESCP <- {calling}: accepted"), limit);
    assert!(
        log.contains(&format!("{echoes} echoes")),
        "scp log does not count {echoes} echoes:\n{log}"
    );
}

/// `echoprobe scp` as PROBESCP that accepts only its own called AE title and only [`CALLING_AE`] as calling.
pub fn strict_scp() -> Server {
    echoprobe_scp(&[
        "-aet",
        "PROBESCP",
        "--require-called-aet",
        "--allow-calling",
        CALLING_AE,
    ])
}

/// The load balancer's check script, examples/lb-health-check/dicom-c-echo.sh, by absolute path.
pub fn lb_script() -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lb-health-check/dicom-c-echo.sh");
    path.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// PATH with `dir` first, then the system directories only (no pyenv shims: pynetdicom has an `echoscu` too).
pub fn path_with(dir: &Path) -> String {
    format!("{}:/usr/bin:/bin", dir.display())
}

/// `/bin/sh script args` (the check script or a wrapper of it) as a load balancer runs it: an environment of only
/// PATH (`dir` first, see [`path_with`]) and `env`; killed after [`HARD`].
pub fn lb_run(script: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg(script)
        .args(args)
        .env_clear()
        .env("PATH", path_with(dir))
        .envs(env.iter().copied());
    run(&mut cmd, HARD)
}
