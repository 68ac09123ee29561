//! Fixtures shared by host-cli's integration tests; a test file takes them with `mod common;`.

// Each test binary compiles this module whole and uses only some of it.
#![allow(dead_code)]

pub(crate) mod json;

use core::net::SocketAddr;
use core::time::Duration;
use std::process::Command;

use echoprobe_tests::process::Peer;

/// How long an `echoprobe scp` may take to say it listens.
pub(crate) const SCP_START: Duration = Duration::from_secs(10);

/// Waits (`limit` at most) for an `echoprobe scp` to log "listening on ADDR": its log so far and ADDR.
pub(crate) fn listening(scp: &Peer, limit: Duration) -> (String, SocketAddr) {
    let log = scp.wait_log("listening on ", limit);
    let addr = log
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in: {log}"));
    (log, addr)
}

/// `echoprobe scp` bound to `bind` (127.0.0.1 or ::1), any free port: the guard and the port.
pub(crate) fn scp_on(bind: &str) -> (Peer, u16) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(["scp", "--bind", bind, "0"]);
    let peer = Peer::spawn("echoprobe-scp", &mut cmd);
    let (_, addr) = listening(&peer, SCP_START);
    (peer, addr.port())
}
