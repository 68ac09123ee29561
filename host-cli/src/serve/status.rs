//! `echoprobe status NAME`: asks a running daemon for a target's verdict and exits with its code, printing the
//! reason on stderr when it is down. For balancers that can only run a script (keepalived `MISC_CHECK`,
//! ldirectord), once per check: so it stays small. std only (no async runtime, no TLS, no logging set up), one
//! connection, every step bounded.
//!
//! Where it asks: the agent port (`--agent ADDR:PORT`, else the configuration's `[listen] agent`), one line each way
//! ([`STATUS_QUERY`]). That port has no TLS and no basic auth, so this works whatever the HTTP listener is set to.
//! `--http ADDR:PORT` asks `GET /api/targets/NAME` instead, over plain HTTP only.
//!
//! Exit codes: the target's verdict (0 up, else the CLI's code of its last failed check; 60 before its first check);
//! [`NO_VERDICT`] (1) when there is none to give: an unknown target, the daemon not reachable or not answering, a
//! bad command line.

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;

use super::agent::STATUS_QUERY;
use crate::cli::{StatusOptions, DEFAULT_CONFIG};
use crate::exit;

/// The exit code when there is no verdict to give (USAGE's: no verdict is ever 1).
pub(crate) const NO_VERDICT: u8 = exit::USAGE;

/// Bounds: connect, and each read and write.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const IO_TIMEOUT: Duration = Duration::from_secs(1);
/// Largest answers read: the agent's one line, the API's JSON (with the target's recent checks).
const MAX_AGENT_ANSWER: u64 = 1024;
const MAX_HTTP_ANSWER: u64 = 1 << 20;

/// Where to ask.
enum Daemon {
    Agent(SocketAddr),
    Http(SocketAddr),
}

/// What the daemon said.
enum Answer {
    /// The exit code and the reason (empty when up).
    Verdict(u8, String),
    Unknown,
}

fn address(flag: &str, text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("{flag} {text}: not ADDR:PORT"))
}

/// `--agent`, `--http`, else the configuration's `[listen] agent` (the built-in one when the default file is
/// missing).
fn daemon(o: &StatusOptions) -> Result<Daemon, String> {
    if let Some(agent) = &o.agent {
        return address("--agent", agent).map(Daemon::Agent);
    }
    if let Some(http) = &o.http {
        return address("--http", http).map(Daemon::Http);
    }
    let path = o.config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG));
    if o.config.is_none() && !path.exists() {
        return Ok(Daemon::Agent(echoprobe_config::Listen::default().agent));
    }
    let config = echoprobe_config::Config::load(path).map_err(|e| e.to_string())?;
    Ok(Daemon::Agent(config.listen.agent))
}

/// Sends `request` and reads the answer to EOF (at most `limit` bytes).
fn exchange(addr: SocketAddr, request: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot reach the daemon at {addr}: {e}"))?;
    let _ = s.set_nodelay(true);
    s.set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| s.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    s.write_all(request)
        .map_err(|e| format!("cannot ask the daemon at {addr}: {e}"))?;
    let mut answer = Vec::new();
    s.take(limit)
        .read_to_end(&mut answer)
        .map_err(|e| format!("no answer from the daemon at {addr}: {e}"))?;
    Ok(answer)
}

/// Asks the agent port.
fn ask_agent(addr: SocketAddr, name: &str) -> Result<Answer, String> {
    let answer = exchange(
        addr,
        format!("{STATUS_QUERY}{name}\n").as_bytes(),
        MAX_AGENT_ANSWER,
    )?;
    let text = String::from_utf8_lossy(&answer);
    let line = text.lines().next().unwrap_or_default();
    if let Some((code, state)) = line.split_once(' ') {
        if let Ok(code) = code.parse::<u8>() {
            if state == "up" {
                return Ok(Answer::Verdict(code, String::new()));
            }
            if let Some(reason) = state.strip_prefix("down #") {
                return Ok(Answer::Verdict(code, reason.to_string()));
            }
        }
    }
    if line == format!("down #unknown target {name}") {
        return Ok(Answer::Unknown);
    }
    Err(format!(
        "no `echoprobe status` answer from the agent port at {addr} (an older daemon?): {line:?}"
    ))
}

/// Asks `GET /api/targets/NAME` over plain HTTP.
fn ask_http(addr: SocketAddr, name: &str) -> Result<Answer, String> {
    let request = format!(
        "GET /api/targets/{name} HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n"
    );
    let answer = exchange(addr, request.as_bytes(), MAX_HTTP_ANSWER)?;
    // A TLS record (an alert, 0x15) or nothing at all: a TLS listener refusing the plain request.
    if matches!(answer.first(), None | Some(0x15 | 0x16)) {
        return Err(format!(
            "no plain HTTP answer from {addr} (a TLS listener?): ask the daemon's agent port (--agent ADDR:PORT, \
             or --config FILE)"
        ));
    }
    let text = String::from_utf8_lossy(&answer);
    let not_http = || format!("not an HTTP answer from {addr}");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(not_http)?;
    let code: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .filter(|_| head.starts_with("HTTP/1."))
        .ok_or_else(not_http)?;
    match code {
        200 => {}
        404 => return Ok(Answer::Unknown),
        other => return Err(format!("the daemon at {addr} answered HTTP {other}")),
    }
    let json: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("the daemon at {addr} sent no JSON: {e}"))?;
    let code = json["exit_code"]
        .as_u64()
        .and_then(|c| u8::try_from(c).ok())
        .ok_or_else(|| format!("the daemon at {addr} sent no exit code"))?;
    let reason = json["reason"].as_str().unwrap_or_default().to_string();
    Ok(Answer::Verdict(code, reason))
}

/// Runs `echoprobe status`; returns the exit code.
pub(crate) fn run(prog: &str, o: &StatusOptions) -> u8 {
    if let Err(e) = echoprobe_config::check_name(&o.name) {
        crate::log::stderr_line(format_args!("{prog}: `{}`: not a target name: {e}", o.name));
        return exit::USAGE;
    }
    let answer = daemon(o).and_then(|d| match d {
        Daemon::Agent(a) => ask_agent(a, &o.name),
        Daemon::Http(a) => ask_http(a, &o.name),
    });
    match answer {
        Ok(Answer::Verdict(code, reason)) => {
            if code != exit::HEALTHY {
                crate::log::stderr_line(format_args!("{prog}: {} is down: {reason}", o.name));
            }
            code
        }
        Ok(Answer::Unknown) => {
            crate::log::stderr_line(format_args!("{prog}: unknown target {}", o.name));
            NO_VERDICT
        }
        Err(e) => {
            crate::log::stderr_line(format_args!("{prog}: {e}"));
            NO_VERDICT
        }
    }
}
