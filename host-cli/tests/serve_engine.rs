//! `echoprobe serve`, the engine, end to end: the daemon started with a temp config against `echoprobe scp`
//! listeners on 127.0.0.1, asked through its agent-check port and `echoprobe status`, reloaded with SIGHUP and
//! stopped with SIGTERM. Every wait is bounded.

use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use echoprobe_tests::peers::{echoprobe_scp, SilentPeer};
use echoprobe_tests::process::{Outcome, TempDir};
use echoprobe_tests::{echoprobe, free_port, run, setup, Peer};

const QUICK: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(15);

/// A running daemon with its ports and config file.
struct Daemon {
    peer: Peer,
    agent: u16,
    http: u16,
    config: PathBuf,
    _dir: TempDir,
}

/// The `[listen]` section and the defaults every test uses: quick checks, rise 2, fall 1.
fn header(agent: u16, http: u16) -> String {
    format!(
        "[listen]\nagent = \"127.0.0.1:{agent}\"\nhttp = \"127.0.0.1:{http}\"\n\
         [defaults]\ninterval_ms = 150\nrise = 2\nfall = 1\nconnect_timeout_ms = 1000\n\
         acse_timeout_ms = 1000\ndimse_timeout_ms = 1000\n"
    )
}

fn target(name: &str, port: u16, called: &str) -> String {
    format!(
        "[[target]]\nname = \"{name}\"\naddress = \"127.0.0.1\"\nport = {port}\ncalled_ae = \"{called}\"\n"
    )
}

impl Daemon {
    /// Starts `echoprobe serve` with `body` after the common header, and waits until it has started.
    fn start(body: &str) -> Daemon {
        setup();
        let (agent, http) = (free_port(), free_port());
        let dir = TempDir::new("serve");
        let config = dir.path().join("probe.toml");
        std::fs::write(&config, format!("{}{body}", header(agent, http))).unwrap();
        let mut cmd = echoprobe(["serve", "--config"]);
        cmd.arg(&config);
        let peer = Peer::spawn("echoprobe-serve", &mut cmd);
        peer.wait_log("echoprobe serve: started", QUICK);
        Daemon {
            peer,
            agent,
            http,
            config,
            _dir: dir,
        }
    }

    /// Rewrites the config (same header) and sends SIGHUP; waits for the daemon's answer in its log.
    fn reload(&self, body: &str, expect: &str) {
        let before = self.peer.log().matches(expect).count();
        std::fs::write(
            &self.config,
            format!("{}{body}", header(self.agent, self.http)),
        )
        .unwrap();
        self.signal("-HUP");
        let start = Instant::now();
        while self.peer.log().matches(expect).count() <= before {
            assert!(
                start.elapsed() < QUICK,
                "no {expect:?} after SIGHUP; log:\n{}",
                self.peer.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.peer.pid().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// The agent's answer for `name` on the shared port.
    fn agent(&self, name: &str) -> String {
        agent_ask(self.agent, Some(name))
    }

    /// Waits until the agent answers `name` with a line starting with `want`; returns it.
    #[track_caller]
    fn wait_agent(&self, name: &str, want: &str) -> String {
        let start = Instant::now();
        loop {
            let line = self.agent(name);
            if line.starts_with(want) {
                return line;
            }
            assert!(
                start.elapsed() < WAIT,
                "agent answered {line:?} for {name}, not {want:?}; log:\n{}",
                self.peer.log()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// `echoprobe status NAME --http ...`: its exit code and stderr.
    fn status(&self, name: &str) -> (Option<i32>, String) {
        let out = run(
            &mut echoprobe([
                "status",
                name,
                "--http",
                &format!("127.0.0.1:{}", self.http),
            ]),
            QUICK,
        );
        (out.code, out.stderr)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.peer.kill();
    }
}

/// Connects to an agent port, sends `name` and a newline (if any), reads the answer to EOF (bounded).
fn agent_ask(port: u16, name: Option<&str>) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the agent port");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if let Some(name) = name {
        s.write_all(format!("{name}\n").as_bytes()).unwrap();
    }
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .expect("read the agent answer");
    answer
}

/// What the CLI prints (after `echoprobe: `) for a check of `port` with `called`.
fn cli_reason(port: u16, called: &str) -> String {
    let out = run(
        &mut echoprobe(["-to", "1", "-aec", called, "127.0.0.1", &port.to_string()]),
        QUICK,
    );
    out.stderr
        .trim()
        .strip_prefix("echoprobe: ")
        .unwrap_or_else(|| panic!("{}", out.stderr))
        .to_string()
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/serve/probe.toml")
}

/// `echoprobe serve --check-config --config FILE`, bounded by [`QUICK`], which must exit with `code`.
#[track_caller]
fn check_config(file: &Path, code: i32) -> Outcome {
    let out = run(
        &mut echoprobe([
            "serve",
            "--check-config",
            "--config",
            file.to_str().unwrap(),
        ]),
        QUICK,
    );
    assert_eq!(out.code, Some(code), "{out:?}");
    out
}

/// `what`, said about `file`: `FILE: what`.
fn about(file: &Path, what: &str) -> String {
    format!("{}: {what}", file.display())
}

#[test]
fn check_config_good_bad_and_the_example() {
    let dir = TempDir::new("serve-check");
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        format!("{}{}", header(5000, 5001), target("a", 104, "PACS")),
    )
    .unwrap();
    let out = check_config(&good, 0);
    let ok = "ok: 1 target, 0 modules, http 127.0.0.1:5001, agent 127.0.0.1:5000";
    assert_eq!(out.stdout.trim(), about(&good, ok));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, target("a", 104, "STORESCPSTORESCPX")).unwrap();
    let out = check_config(&bad, 1);
    let why = "`target[0].called_ae`: `STORESCPSTORESCPX` is not a valid AE title: must be 1 to 16 characters";
    assert_eq!(
        out.stderr.trim(),
        format!("echoprobe: {}", about(&bad, why))
    );
    assert!(out.stdout.is_empty());
    // Starting with a bad file fails the same way.
    let out = run(
        &mut echoprobe(["serve", "--config", bad.to_str().unwrap()]),
        QUICK,
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    let out = check_config(Path::new("/nonexistent/probe.toml"), 1);
    assert!(
        out.stderr.contains("/nonexistent/probe.toml: cannot read"),
        "{out:?}"
    );

    let example = example();
    let out = check_config(&example, 0);
    assert!(out.stdout.contains(": ok: "), "{out:?}");
}

#[test]
fn agent_up_after_rise_down_with_the_cli_reason_and_status_codes() {
    let mut scp = echoprobe_scp(&["-aet", "STORESCP", "--require-called-aet"]);
    let own = free_port();
    let body = format!(
        "{}agent_port = {own}\n{}",
        target("good", scp.port, "STORESCP"),
        target("wrong-ae", scp.port, "NOT-THE-PEER")
    );
    let d = Daemon::start(&body);
    // Before any check completes every target is down with the reason the issue names (the first check may be done
    // already: then the agent says up or the rejection).
    let first = d.agent("good");
    assert!(
        first == "down #no check completed yet\n"
            || first.starts_with("up")
            || first.starts_with("down #"),
        "{first:?}"
    );
    assert_eq!(d.wait_agent("good", "up"), "up\n");
    assert_eq!(
        agent_ask(own, None),
        "up\n",
        "the target's own agent port needs no name"
    );
    let rejected = d.wait_agent("wrong-ae", "down #association rejected");
    assert_eq!(
        rejected,
        format!("down #{}\n", cli_reason(scp.port, "NOT-THE-PEER")),
        "the reason is the CLI's text"
    );
    assert!(rejected.ends_with("(1/1/7)\n"), "{rejected}");
    assert_eq!(d.agent("nope"), "down #unknown target nope\n");
    assert_eq!(
        d.agent(""),
        "down #no target named (agent-send \"NAME\\n\")\n"
    );

    // echoprobe status: the verdict's exit code.
    assert_eq!(d.status("good"), (Some(0), String::new()));
    let (code, err) = d.status("wrong-ae");
    assert_eq!(code, Some(61), "{err}");
    assert!(
        err.contains("wrong-ae is down: association rejected"),
        "{err}"
    );
    assert_eq!(d.status("nope").0, Some(1));
    let gone = free_port();
    let out = run(
        &mut echoprobe(["status", "good", "--http", &format!("127.0.0.1:{gone}")]),
        QUICK,
    );
    // No verdict (1), not a verdict's code (63 is a target's refused connection).
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.elapsed < Duration::from_secs(2), "{out:?}");

    // The SCP stops: down (fall 1) with the CLI's reason for the now dead port; the change is logged once.
    let port = scp.port;
    scp.peer.kill();
    let down = d.wait_agent("good", "down #");
    assert_eq!(down, format!("down #{}\n", cli_reason(port, "STORESCP")));
    assert_eq!(agent_ask(own, None), down);
    let (code, _) = d.status("good");
    assert_eq!(code, Some(63));
    let log = d.peer.log();
    assert_eq!(log.matches("target good is up").count(), 1, "{log}");
    assert_eq!(log.matches("target good is down: ").count(), 1, "{log}");
    assert!(
        !log.contains("target wrong-ae is"),
        "never changed state: {log}"
    );
}

#[test]
fn sighup_keeps_unchanged_targets_and_a_bad_file_keeps_the_running_config() {
    let scp = echoprobe_scp(&["-aet", "STORESCP"]);
    let body = format!(
        "{}{}",
        target("a", scp.port, "STORESCP"),
        target("b", scp.port, "STORESCP")
    );
    let d = Daemon::start(&body);
    d.wait_agent("a", "up");
    d.wait_agent("b", "up");

    // A bad file: logged, the running configuration stays (both still answered, still up).
    d.reload(
        "[[target]]\nname = \"a\"\n",
        "reload failed, keeping the running configuration",
    );
    let log = d.peer.log();
    assert!(log.contains("`target[0].address`: missing"), "{log}");
    assert_eq!(d.agent("a"), "up\n");
    assert_eq!(d.agent("b"), "up\n");

    // a unchanged, b changed (another called AE title), c new: a keeps its state, b and c start down.
    let body = format!(
        "{}{}{}",
        target("a", scp.port, "STORESCP"),
        target("b", scp.port, "OTHER"),
        target("c", scp.port, "STORESCP")
    );
    d.reload(&body, "reloaded: 3 targets");
    assert_eq!(d.agent("a"), "up\n", "an unchanged target keeps its state");
    let b = d.agent("b");
    assert!(
        b.starts_with("down #"),
        "a changed target starts over: {b:?}"
    );
    d.wait_agent("c", "up");
    d.wait_agent("b", "up");
    // Removed: unknown afterwards.
    d.reload(&target("a", scp.port, "STORESCP"), "reloaded: 1 target");
    assert_eq!(d.agent("b"), "down #unknown target b\n");
    assert_eq!(d.agent("a"), "up\n");
    assert!(
        !d.peer.log().contains("target a is down"),
        "{}",
        d.peer.log()
    );
}

#[test]
fn sigterm_aborts_in_flight_checks_and_exits_within_a_second() {
    // A peer that accepts and never answers: the check waits for the A-ASSOCIATE-AC (10 s) when SIGTERM comes.
    let silent = SilentPeer::start();
    let body = format!(
        "{}acse_timeout_ms = 10000\ninterval_ms = 100\n",
        target("silent", silent.port, "ANY")
    );
    let mut d = Daemon::start(&body);
    let start = Instant::now();
    while silent.accepted() == 0 {
        assert!(
            start.elapsed() < QUICK,
            "no check connected; log:\n{}",
            d.peer.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    d.signal("-TERM");
    let status = d.peer.wait_exit(Duration::from_secs(5));
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(1), "exit took {took:?}");
    assert_eq!(status.code(), Some(0), "{}", d.peer.log());
    assert!(d.peer.log().contains("echoprobe serve: stopping"));
}

#[test]
fn a_busy_agent_port_at_start_is_an_error() {
    setup();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = TempDir::new("serve-busy");
    let config = dir.path().join("probe.toml");
    std::fs::write(&config, header(port, free_port())).unwrap();
    let out = run(
        &mut echoprobe(["serve", "--config", config.to_str().unwrap()]),
        QUICK,
    );
    assert_eq!(out.code, Some(60), "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port} (agent)")),
        "{out:?}"
    );
}

#[test]
fn idle_agent_connections_stop_neither_checks_nor_answers() {
    let scp = echoprobe_scp(&["-aet", "STORESCP"]);
    let d = Daemon::start(&target("a", scp.port, "STORESCP"));
    d.wait_agent("a", "up");
    // 2,000 clients that connect and send nothing (each is cut off after the read bound).
    let idle: Vec<TcpStream> = (0..2000)
        .map(|_| TcpStream::connect(("127.0.0.1", d.agent)).expect("idle connection"))
        .collect();
    let t0 = Instant::now();
    assert_eq!(d.agent("a"), "up\n");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "answer took {:?}",
        t0.elapsed()
    );
    // Checks go on: a few more complete while the idle ones are open (the API's check count grows).
    let checks = |d: &Daemon| -> u64 {
        let mut s = TcpStream::connect(("127.0.0.1", d.http)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /api/targets/a HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        json["checks"].as_u64().unwrap_or(0)
    };
    let before = checks(&d);
    let start = Instant::now();
    while checks(&d) < before + 3 {
        assert!(
            start.elapsed() < WAIT,
            "checks stopped; log:\n{}",
            d.peer.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(d.agent("a"), "up\n");
    drop(idle);
}
