//! The daemon's stops: a reload that changes or removes a target whose check is in flight, and SIGTERM, each seen by
//! a scripted peer that holds the association open and records the A-ABORT. Every wait is bounded.

use core::time::Duration;
use std::process::Command;
use std::sync::mpsc;
use std::time::Instant;

use echoprobe_tests::scripted::{self, pdu::ABORT, ScriptedPeer};
use echoprobe_tests::serve::{target, Serve, DEFAULTS};
use echoprobe_tests::Outcome;

const QUICK: Duration = Duration::from_secs(10);
/// How long a stopped check may take to send its A-ABORT and close (the daemon's own bound is 200 ms).
const ABORT_WITHIN: Duration = Duration::from_secs(1);

fn signal(serve: &Serve, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &serve.peer.pid().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// A peer that reads the A-ASSOCIATE-RQ, says so on the channel, never answers, and returns the PDU types it gets
/// until the daemon closes.
fn holding_peer() -> (ScriptedPeer, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let peer = scripted::peer(move |c| {
        c.read_rq();
        let _ = tx.send(());
        c.rest()
    });
    (peer, rx)
}

/// A target of `port` whose check waits 10 s for the A-ASSOCIATE-AC.
fn waiting(name: &str, port: u16, called: &str) -> String {
    format!(
        "{}acse_timeout_ms = 10000\ninterval_ms = 100\n",
        target(name, port, called)
    )
}

#[track_caller]
fn wait_rq(rx: &mpsc::Receiver<()>, serve: &Serve) {
    rx.recv_timeout(QUICK)
        .unwrap_or_else(|_| panic!("no check reached the peer; log:\n{}", serve.peer.log()));
}

/// Joins `peer` and asserts it got A-ABORT then the close, within [`ABORT_WITHIN`] of `since`.
#[track_caller]
fn assert_aborted(peer: ScriptedPeer, since: Instant, serve: &Serve, what: &str) {
    // What `join` shows if the peer's script failed: the daemon's log.
    let log = Outcome {
        command: format!("echoprobe serve ({what})"),
        code: None,
        timed_out: false,
        elapsed: since.elapsed(),
        stdout: String::new(),
        stderr: serve.peer.log(),
    };
    let got = peer.join(&log);
    let took = since.elapsed();
    assert_eq!(
        got,
        vec![ABORT],
        "{what}: the peer got {got:02x?}; log:\n{}",
        serve.peer.log()
    );
    assert!(
        took < ABORT_WITHIN,
        "{what}: A-ABORT and close took {took:?}"
    );
}

#[test]
fn sighup_aborts_the_in_flight_check_of_a_changed_or_removed_target() {
    let (changed, changed_rq) = holding_peer();
    let (removed, removed_rq) = holding_peer();
    let before = format!(
        "{DEFAULTS}{}{}",
        waiting("changed", changed.port, "BEFORE"),
        waiting("removed", removed.port, "ANY")
    );
    let serve = Serve::start(&before);
    wait_rq(&changed_rq, &serve);
    wait_rq(&removed_rq, &serve);

    let (http, agent) = (&serve.http, &serve.agent);
    let after = format!(
        "[listen]\nhttp = \"{http}\"\nagent = \"{agent}\"\n\n{DEFAULTS}{}",
        waiting("changed", changed.port, "AFTER")
    );
    std::fs::write(&serve.config, after).expect("rewrite probe.toml");
    let t0 = Instant::now();
    signal(&serve, "-HUP");
    assert_aborted(changed, t0, &serve, "changed target");
    assert_aborted(removed, t0, &serve, "removed target");
    serve.peer.wait_log("reloaded: 1 target", QUICK);
    assert_eq!(
        serve.agent("removed").expect("agent"),
        "down #unknown target removed\n"
    );
}

#[test]
fn sigterm_aborts_the_in_flight_check_and_exits_within_a_second() {
    let (peer, rq) = holding_peer();
    let mut serve = Serve::start(&format!("{DEFAULTS}{}", waiting("held", peer.port, "ANY")));
    wait_rq(&rq, &serve);
    let t0 = Instant::now();
    signal(&serve, "-TERM");
    assert_aborted(peer, t0, &serve, "stop");
    let exit = serve.peer.wait_exit(Duration::from_secs(5));
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(1), "exit took {took:?}");
    assert_eq!(exit.code(), Some(0), "{}", serve.peer.log());
}
