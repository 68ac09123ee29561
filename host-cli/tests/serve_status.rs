//! `echoprobe status` against a running `echoprobe serve` (its agent port, whatever the HTTP listener does), and the
//! daemon's stops: a reload that changes or removes a target whose check is in flight, and SIGTERM, each seen by a
//! scripted peer that holds the association open and records the A-ABORT. Every wait is bounded.

use core::time::Duration;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Instant;

use echoprobe_tests::codes::{HEALTHY, REJECTED, USAGE};
use echoprobe_tests::monitoring::must_get;
use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::scripted::{self, pdu::ABORT, ScriptedPeer};
use echoprobe_tests::serve::{target, Serve, DEFAULTS};
use echoprobe_tests::{echoprobe, free_port, run, Outcome};

const QUICK: Duration = Duration::from_secs(10);
/// How long a stopped check may take to send its A-ABORT and close (the daemon's own bound is 200 ms).
const ABORT_WITHIN: Duration = Duration::from_secs(1);

fn status(args: &[&str]) -> Outcome {
    let mut cmd = echoprobe(["status"]);
    cmd.args(args);
    run(&mut cmd, QUICK)
}

fn signal(serve: &Serve, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &serve.peer.pid().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// A self-signed certificate and key for the HTTP listener, as `[web]` keys.
fn web_tls(dir: &Path) -> String {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let key = dir.join("key.pem");
    let crt = dir.join("cert.pem");
    std::fs::write(&key, signing_key.serialize_pem()).expect("write key");
    std::fs::write(&crt, cert.pem()).expect("write cert");
    format!(
        "[web]\ntls_key = \"{}\"\ntls_certificate = \"{}\"\n",
        key.display(),
        crt.display()
    )
}

#[test]
fn status_asks_the_agent_port_also_when_http_has_tls() {
    let scp = echoprobe_scp(&["-aet", "STORESCP", "--require-called-aet"]);
    let dir = TempDir::new("serve-status");
    let body = format!(
        "{DEFAULTS}{}{}{}",
        web_tls(dir.path()),
        target("pacs", scp.port, "STORESCP"),
        target("wrong-ae", scp.port, "NOT-THE-PEER"),
    );
    let serve = Serve::start(&body);
    let agent = serve.agent.as_str();

    let until = Instant::now() + QUICK;
    let mut up = status(&["pacs", "--agent", agent]);
    while up.code != Some(i32::from(HEALTHY)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
        up = status(&["pacs", "--agent", agent]);
    }
    up.assert_code(HEALTHY);
    assert!(up.stderr.is_empty(), "{up}");
    // The configuration names the agent port.
    let config = serve.config.display().to_string();
    status(&["pacs", "--config", &config]).assert_code(HEALTHY);

    // A down target: its verdict's code and the CLI's reason.
    let until = Instant::now() + QUICK;
    let mut down = status(&["wrong-ae", "--agent", agent]);
    while down.code != Some(i32::from(REJECTED)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
        down = status(&["wrong-ae", "--agent", agent]);
    }
    down.assert_code(REJECTED)
        .assert_stderr("wrong-ae is down: association rejected")
        .assert_stderr("(1/1/7)");

    // No verdict: an unknown target, a daemon that is not there, the HTTP API behind TLS.
    status(&["nope", "--agent", agent])
        .assert_code(USAGE)
        .assert_stderr("unknown target nope");
    let nobody = format!("127.0.0.1:{}", free_port());
    status(&["pacs", "--agent", &nobody])
        .assert_code(USAGE)
        .assert_stderr("cannot reach the daemon")
        .assert_within(Duration::from_secs(2));
    status(&["pacs", "--http", &serve.http])
        .assert_code(USAGE)
        .assert_stderr("--agent");

    // HAProxy's agent lines are what they were.
    assert_eq!(serve.agent("pacs").expect("agent"), "up\n");
    assert_eq!(
        serve.agent("nope").expect("agent"),
        "down #unknown target nope\n"
    );
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

#[test]
fn sighup_keeps_an_unchanged_targets_state_and_history() {
    let scp = echoprobe_scp(&["-aet", "STORESCP"]);
    let kept = target("kept", scp.port, "STORESCP");
    let serve = Serve::start(&format!("{DEFAULTS}{kept}"));
    serve.wait_state("kept", "up");
    let history = || {
        let json = must_get(&serve.http, "/api/targets/kept").json();
        let at: Vec<String> = json["recent"]
            .as_array()
            .expect("recent")
            .iter()
            .map(|c| c["at"].to_string())
            .collect();
        (
            json["checks"].as_u64().expect("checks"),
            json["since"].clone(),
            at,
        )
    };
    let (checks, since, recent) = history();
    assert!(checks >= 1 && !recent.is_empty());

    let (http, agent) = (&serve.http, &serve.agent);
    let other = target("other", scp.port, "STORESCP");
    std::fs::write(
        &serve.config,
        format!("[listen]\nhttp = \"{http}\"\nagent = \"{agent}\"\n\n{DEFAULTS}{kept}{other}"),
    )
    .expect("rewrite probe.toml");
    signal(&serve, "-HUP");
    serve.peer.wait_log("reloaded: 2 targets", QUICK);
    let (after, since_after, recent_after) = history();
    assert!(after >= checks, "checks went from {checks} to {after}");
    assert_eq!(since_after, since, "the state's since-when is kept");
    // The last check before the reload is still in the (bounded, 120) history.
    let last = recent.last().expect("a check");
    assert!(
        recent_after.contains(last),
        "the history is kept: {recent:?} then {recent_after:?}"
    );
}
