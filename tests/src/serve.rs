//! `echoprobe serve` under test: a daemon with a temporary config on loopback ports, its agent port and HTTP side
//! asked as HAProxy, Prometheus and a browser would; peers restarted on a fixed port (a target's address does not
//! change when its PACS restarts); HAProxy's runtime view of its servers.

use core::time::Duration;
use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::env::{dcmtk, setup};
use crate::monitoring::{must_get, wait_until};
use crate::net::{free_port, spawn_listening, wait_listening};
use crate::peers::START_TIMEOUT;
use crate::process::{Peer, TempDir};

/// The settings every test target shares: checked every 300 ms, one good or bad check flips it (HAProxy's
/// semantics with rise = fall = 1), a dead peer costs at most a second.
pub const DEFAULTS: &str = "[defaults]\ncalling_ae = \"ECHOPROBE\"\ninterval_ms = 300\n\
    connect_timeout_ms = 1000\nacse_timeout_ms = 1000\ndimse_timeout_ms = 1000\nrise = 1\nfall = 1\n";

/// The reason of a target that has not finished a check yet (it starts down).
pub const NOT_CHECKED: &str = "no check completed yet";

/// How long a target may take to reach a state (a few intervals and one timeout, on a busy machine).
pub const VERDICT: Duration = Duration::from_secs(15);

/// One `[[target]]` table on 127.0.0.1.
pub fn target(name: &str, port: u16, called_ae: &str) -> String {
    format!(
        "\n[[target]]\nname = \"{name}\"\naddress = \"127.0.0.1\"\nport = {port}\ncalled_ae = \"{called_ae}\"\n"
    )
}

/// A running `echoprobe serve --config FILE`, killed on drop.
#[derive(Debug)]
pub struct Serve {
    pub peer: Peer,
    /// `127.0.0.1:PORT` of the HTTP side.
    pub http: String,
    /// `127.0.0.1:PORT` of the agent port.
    pub agent: String,
    /// The config file.
    pub config: PathBuf,
    _dir: TempDir,
}

impl Serve {
    /// Starts the daemon with `[listen]` on two fresh loopback ports followed by `body` (defaults, targets,
    /// probe, modules), and waits until both ports listen.
    pub fn start(body: &str) -> Serve {
        setup();
        let (http_port, agent_port) = (free_port(), free_port());
        let http = format!("127.0.0.1:{http_port}");
        let agent = format!("127.0.0.1:{agent_port}");
        let dir = TempDir::new("serve");
        let config = dir.path().join("probe.toml");
        fs::write(
            &config,
            format!("[listen]\nhttp = \"{http}\"\nagent = \"{agent}\"\n\n{body}"),
        )
        .expect("write probe.toml");
        let mut cmd = crate::echoprobe(["serve", "--config"]);
        cmd.arg(&config);
        let mut peer = spawn_listening("echoprobe-serve", &mut cmd, http_port, START_TIMEOUT);
        wait_listening(&mut peer, agent_port, START_TIMEOUT);
        Serve {
            peer,
            http,
            agent,
            config,
            _dir: dir,
        }
    }

    /// The agent port's answer to `NAME\n`, as HAProxy's `agent-send` asks (read until the daemon closes).
    pub fn agent(&self, name: &str) -> std::io::Result<String> {
        let mut conn = TcpStream::connect(&self.agent)?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        conn.write_all(format!("{name}\n").as_bytes())?;
        let mut answer = String::new();
        conn.take(4096).read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// `GET /api/targets` as JSON.
    #[track_caller]
    pub fn targets(&self) -> Value {
        let response = must_get(&self.http, "/api/targets");
        assert_eq!(response.status, 200, "/api/targets: {response:?}");
        response.json()
    }

    /// `(state, reason)` of target `name` in `/api/targets` (the list itself, or its `targets` member).
    pub fn state(&self, name: &str) -> Option<(String, String)> {
        let json = self.targets();
        let list = json
            .as_array()
            .or_else(|| json["targets"].as_array())?
            .clone();
        list.iter().find(|t| t["name"] == name).map(|t| {
            (
                t["state"].as_str().unwrap_or("").to_string(),
                t["reason"].as_str().unwrap_or("").to_string(),
            )
        })
    }

    /// Waits until target `name` is in `state` (`up` or `down`) in `/api/targets` after a completed check (every
    /// target starts down with [`NOT_CHECKED`]); returns its reason.
    #[track_caller]
    pub fn wait_state(&self, name: &str, state: &str) -> String {
        self.wait_reason(name, state, "")
    }

    /// Waits (at most `VERDICT`) until target `name` is in `state` with a reason that contains `part`; returns the
    /// reason. For a peer restarted in place: a check in the gap between the old and the new one sees no listener,
    /// and the state can change on that check's reason first.
    #[track_caller]
    pub fn wait_reason(&self, name: &str, state: &str, part: &str) -> String {
        wait_until(
            &format!("target {name} {state} ({part:?})"),
            VERDICT,
            || match self.state(name) {
                Some((s, reason))
                    if s == state && reason != NOT_CHECKED && reason.contains(part) =>
                {
                    Ok(reason)
                }
                other => Err(format!(
                    "{other:?}; daemon log:\n{}",
                    last_lines(&self.peer.log(), 10)
                )),
            },
        )
    }
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---- peers on a fixed port ----------------------------------------------------------------------------------------

/// `echoprobe scp -v --bind 127.0.0.1 [args] PORT` on a given port (to restart a target where it was).
pub fn echoprobe_scp_at(port: u16, args: &[&str]) -> Peer {
    setup();
    let mut cmd = crate::echoprobe(["scp", "-v", "--bind", "127.0.0.1"]);
    cmd.args(args).arg(port.to_string());
    started("echoprobe-scp", port, &mut cmd)
}

/// DCMTK `storescp --aetitle AE PORT` on a given port (its received files go to a temp dir of the guard's).
pub fn storescp_at(port: u16, ae: &str, out: &Path) -> Peer {
    setup();
    let mut cmd = Command::new(dcmtk("storescp"));
    cmd.args(["--aetitle", ae, "--output-directory"])
        .arg(out)
        .arg(port.to_string());
    started("storescp", port, &mut cmd)
}

fn started(name: &str, port: u16, cmd: &mut Command) -> Peer {
    spawn_listening(name, cmd, port, START_TIMEOUT)
}

// ---- HAProxy's view ---------------------------------------------------------------------------------------------

/// `show servers state` over HAProxy's admin socket: `srv_op_state` of each `(backend, server)` (0 stopped, 1
/// starting, 2 running, 3 stopping).
pub fn servers_state(sock: &Path) -> Result<HashMap<(String, String), u8>, String> {
    let mut conn =
        UnixStream::connect(sock).map_err(|e| format!("connect {}: {e}", sock.display()))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    conn.write_all(b"show servers state\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    conn.read_to_string(&mut text).map_err(|e| e.to_string())?;
    // A version line, then `# be_id be_name srv_id srv_name srv_addr srv_op_state ...`, then one line a server.
    let mut lines = text.lines().skip_while(|l| !l.starts_with("# "));
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| format!("no header in {text:?}"))?
        .trim_start_matches("# ")
        .split(' ')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("no column {name} in {header:?}"))
    };
    let (be, srv, op) = (col("be_name")?, col("srv_name")?, col("srv_op_state")?);
    let mut out = HashMap::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(' ').collect();
        let get = |i: usize| fields.get(i).copied().unwrap_or("");
        let state = get(op)
            .parse()
            .map_err(|_| format!("bad srv_op_state in {line:?}"))?;
        out.insert((get(be).to_string(), get(srv).to_string()), state);
    }
    Ok(out)
}

/// Waits until every `(backend, server, up)` in `want` holds at once in [`servers_state`].
#[track_caller]
pub fn wait_servers(
    sock: &Path,
    want: &[(&str, &str, bool)],
    limit: Duration,
    log: &dyn Fn() -> String,
) {
    wait_until("HAProxy server states", limit, || {
        let states = servers_state(sock)?;
        let seen: Vec<String> = want
            .iter()
            .map(|(be, srv, _)| {
                let op = states.get(&(be.to_string(), srv.to_string()));
                format!("{be}/{srv}={}", op.map_or("?".into(), |s| s.to_string()))
            })
            .collect();
        let ok = want.iter().all(|(be, srv, up)| {
            states.get(&(be.to_string(), srv.to_string())) == Some(&if *up { 2 } else { 0 })
        });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{seen:?} (want {want:?}); haproxy log:\n{}",
                last_lines(&log(), 10)
            ))
        }
    })
}
