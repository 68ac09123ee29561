//! `echoprobe serve` behind a real HAProxy (Debian's): two backends whose servers use `agent-check` with
//! `agent-send "NAME\n"` against the daemon's one agent port. Servers go DOWN and UP as their targets do (read
//! from HAProxy's admin socket, `show servers state`), and DICOM traffic through the frontends follows.
//!
//! The peers are DCMTK's storescp and dcmqrscp and `echoprobe scp`, stopped and restarted on their ports. One
//! case only the agent can see: a server whose port still accepts TCP but rejects the association (HAProxy's own
//! TCP check passes; the agent says `down #... (1/1/7)` and HAProxy takes the server out).

use core::time::Duration;
use std::path::Path;
use std::time::Instant;

use echoprobe_tests::codes::{CLOSED, HEALTHY};
use echoprobe_tests::peers::{dcmqrscp, haproxy};
use echoprobe_tests::process::{assert_took_under, TempDir};
use echoprobe_tests::serve::{
    echoprobe_scp_at, storescp_at, target, wait_servers, Serve, DEFAULTS,
};
use echoprobe_tests::{echoprobe, free_port, run, setup, CALLING_AE};

/// HAProxy's agent asks every 300 ms and its TCP check runs every 500 ms: a verdict within a few seconds.
const LB_VERDICT: Duration = Duration::from_secs(20);
const HARD: Duration = Duration::from_secs(30);

/// An echo through the load balancer's frontend `port` to called AE `aec`; its exit code.
fn echo_through(port: u16, aec: &str) -> i32 {
    let out = run(
        &mut echoprobe([
            "-aet",
            CALLING_AE,
            "-aec",
            aec,
            "127.0.0.1",
            &port.to_string(),
        ]),
        HARD,
    );
    assert!(!out.timed_out, "{out}");
    out.code.unwrap_or(-1)
}

/// `n` echoes in a row through `port` all exit `code` (round robin would have used every server in rotation).
#[track_caller]
fn echoes(port: u16, aec: &str, n: usize, code: u8) {
    for i in 0..n {
        let got = echo_through(port, aec);
        assert_eq!(
            got,
            i32::from(code),
            "echo {i} of {n} through 127.0.0.1:{port}"
        );
    }
}

/// Every server of both backends UP.
#[track_caller]
fn all_up(sock: &Path, lb_log: &dyn Fn() -> String) {
    let servers = [
        ("pacs", "a"),
        ("pacs", "b"),
        ("archive", "r1"),
        ("archive", "r2"),
    ];
    let want: Vec<_> = servers.iter().map(|(be, srv)| (*be, *srv, true)).collect();
    wait_servers(sock, &want, LB_VERDICT, lb_log);
}

/// The daemon's agent-check answer for `target`, which must say down.
#[track_caller]
fn agent_says_down(serve: &Serve, target: &str) -> String {
    let answer = serve.agent(target).expect("agent port");
    assert!(answer.starts_with("down #"), "{answer:?}");
    answer
}

#[test]
fn haproxy_agent_check_follows_the_daemon() {
    setup();
    let start = Instant::now();
    let store = TempDir::new("storescp-out");
    let (pa, pb, a2) = (free_port(), free_port(), free_port());
    let mut pacs_a = storescp_at(pa, "PACS", store.path());
    let mut pacs_b = echoprobe_scp_at(pb, &["-aet", "PACS"]);
    let archive_1 = dcmqrscp("ARCHIVE");
    let mut archive_2 = echoprobe_scp_at(a2, &["-aet", "ARCHIVE", "--require-called-aet"]);

    let serve = Serve::start(&format!(
        "{DEFAULTS}{}{}{}{}",
        target("pacs-a", pa, "PACS"),
        target("pacs-b", pb, "PACS"),
        target("archive-1", archive_1.port, "ARCHIVE"),
        target("archive-2", a2, "ARCHIVE"),
    ));
    for name in ["pacs-a", "pacs-b", "archive-1", "archive-2"] {
        serve.wait_state(name, "up");
        assert_eq!(
            serve.agent(name).expect("agent port"),
            "up\n",
            "agent answer for {name}"
        );
    }
    let unknown = serve.agent("no-such-pacs").expect("agent port");
    assert!(
        unknown.starts_with("down #unknown target no-such-pacs"),
        "agent answer for an unknown name: {unknown:?}"
    );

    let admin = TempDir::new("haproxy-admin");
    let sock = admin.path().join("admin.sock");
    let (front_pacs, front_archive) = (free_port(), free_port());
    let agent_port = serve.agent.rsplit(':').next().expect("agent port");
    let config = format!(
        "global\n    log stdout format raw local0\n    stats socket {sock} mode 600 level admin\n\
         defaults\n    mode tcp\n    log global\n    \
         timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\
         listen pacs\n    bind 127.0.0.1:{front_pacs}\n    balance roundrobin\n    \
         default-server check inter 500ms agent-check agent-addr 127.0.0.1 agent-port {agent_port} agent-inter 300ms\n    \
         server a 127.0.0.1:{pa} agent-send \"pacs-a\\n\"\n    \
         server b 127.0.0.1:{pb} agent-send \"pacs-b\\n\"\n\
         listen archive\n    bind 127.0.0.1:{front_archive}\n    balance roundrobin\n    \
         default-server check inter 500ms agent-check agent-addr 127.0.0.1 agent-port {agent_port} agent-inter 300ms\n    \
         server r1 127.0.0.1:{qr} agent-send \"archive-1\\n\"\n    \
         server r2 127.0.0.1:{a2} agent-send \"archive-2\\n\"\n",
        sock = sock.display(),
        qr = archive_1.port,
    );
    let lb = haproxy(&config, front_pacs);
    let lb_log = || lb.log();
    // HAProxy's server states, waited for.
    let lb_sees = |want: &[(&str, &str, bool)]| wait_servers(&sock, want, LB_VERDICT, &lb_log);

    all_up(&sock, &lb_log);
    echoes(front_pacs, "PACS", 4, HEALTHY);
    echoes(front_archive, "ARCHIVE", 4, HEALTHY);

    // storescp behind pacs/a stops: the daemon says down, HAProxy takes a out, traffic goes to b only.
    pacs_a.kill();
    serve.wait_state("pacs-a", "down");
    let answer = agent_says_down(&serve, "pacs-a");
    assert!(answer.ends_with('\n'), "{answer:?}");
    lb_sees(&[("pacs", "a", false), ("pacs", "b", true)]);
    echoes(front_pacs, "PACS", 4, HEALTHY);

    // archive/r2 still accepts TCP but now rejects the called AE title: only the agent sees it.
    archive_2.kill();
    archive_2 = echoprobe_scp_at(a2, &["-aet", "OTHER", "--require-called-aet"]);
    // A check between the kill and the new listener sees no listener: wait for the rejection's reason.
    let reason = serve.wait_reason("archive-2", "down", "1/1/7");
    assert!(
        reason.starts_with("association rejected"),
        "the CLI's rejection text: {reason:?}"
    );
    let answer = agent_says_down(&serve, "archive-2");
    assert!(
        answer.contains("1/1/7"),
        "agent answer for a rejecting PACS: {answer:?}"
    );
    lb_sees(&[("archive", "r1", true), ("archive", "r2", false)]);
    // Round robin over both servers would hit the rejecting one every other time (61).
    echoes(front_archive, "ARCHIVE", 4, HEALTHY);
    let log = lb.log();
    assert!(
        log.contains("archive/r2 is DOWN") && log.contains("via agent"),
        "HAProxy should log that its agent took archive/r2 down:\n{log}"
    );

    // pacs/b stops as well: no server left; HAProxy accepts and closes.
    pacs_b.kill();
    serve.wait_state("pacs-b", "down");
    lb_sees(&[("pacs", "a", false), ("pacs", "b", false)]);
    echoes(front_pacs, "PACS", 1, CLOSED);

    // Everything comes back where it was: UP again, traffic flows through both frontends.
    let _pacs_a = storescp_at(pa, "PACS", store.path());
    let _pacs_b = echoprobe_scp_at(pb, &["-aet", "PACS"]);
    archive_2.kill();
    let _archive_2 = echoprobe_scp_at(a2, &["-aet", "ARCHIVE", "--require-called-aet"]);
    for name in ["pacs-a", "pacs-b", "archive-2"] {
        serve.wait_state(name, "up");
    }
    all_up(&sock, &lb_log);
    echoes(front_pacs, "PACS", 4, HEALTHY);
    echoes(front_archive, "ARCHIVE", 4, HEALTHY);
    // Each wait has its own bound; this one bounds the whole on a loaded machine (2 CPUs, load 15+ seen).
    assert_took_under(start, Duration::from_secs(300));
}
