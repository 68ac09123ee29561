//! What several interop test files share: echoprobe's check of a peer on 127.0.0.1, a strict `echoprobe scp`, and
//! what a peer must have seen.

use core::time::Duration;

use crate::peers::{echoprobe_scp, Server};
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
