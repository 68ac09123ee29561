//! `echoprobe status NAME`: asks a running daemon (`GET /api/targets/NAME`, with a tiny std-only HTTP/1.0 client,
//! every step bounded) and exits with the code of the target's current verdict, printing the reason on stderr when it
//! is down. For balancers that can only run a script (keepalived `MISC_CHECK`, ldirectord).
//!
//! Exit codes: the target's verdict (0 up, else the CLI's code of its last failed check; 60 before its first check),
//! 1 for an unknown target or a bad command line, [`DAEMON_UNREACHABLE`] (63) when the daemon does not answer.

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;

use crate::cli::{StatusOptions, DEFAULT_CONFIG};
use crate::exit;

/// The exit code when the daemon cannot be asked (not listening, no answer in time, not an answer).
pub(crate) const DAEMON_UNREACHABLE: u8 = exit::UNREACHABLE;

/// Bounds: connect, and the whole exchange.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest answer read.
const MAX_ANSWER: u64 = 1 << 20;

/// Where the daemon listens: `--http`, else the configuration's `[listen] http`.
fn daemon_address(o: &StatusOptions) -> Result<SocketAddr, String> {
    if let Some(http) = &o.http {
        return http
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| format!("--http {http}: not ADDR:PORT"));
    }
    let path = o.config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG));
    if o.config.is_none() && !path.exists() {
        return Ok(echoprobe_config::Listen::default().http);
    }
    let config = echoprobe_config::Config::load(path).map_err(|e| e.to_string())?;
    Ok(config.listen.http)
}

/// The answer's status code and body.
fn ask(addr: SocketAddr, name: &str) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot reach the daemon at {addr}: {e}"))?;
    let _ = s.set_nodelay(true);
    s.set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| s.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET /api/targets/{name} HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n"
    );
    s.write_all(request.as_bytes())
        .map_err(|e| format!("cannot ask the daemon at {addr}: {e}"))?;
    let mut answer = Vec::new();
    s.take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .map_err(|e| format!("no answer from the daemon at {addr}: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP answer from {addr}"))?;
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .filter(|_| head.starts_with("HTTP/1."))
        .ok_or_else(|| format!("not an HTTP answer from {addr}"))?;
    Ok((code, body.to_string()))
}

/// Runs `echoprobe status`; returns the exit code.
pub(crate) fn run(prog: &str, o: &StatusOptions) -> u8 {
    if let Err(e) = echoprobe_config::check_name(&o.name) {
        crate::log::stderr_line(format_args!("{prog}: `{}`: not a target name: {e}", o.name));
        return exit::USAGE;
    }
    let addr = match daemon_address(o) {
        Ok(a) => a,
        Err(e) => {
            crate::log::stderr_line(format_args!("{prog}: {e}"));
            return exit::USAGE;
        }
    };
    let (code, body) = match ask(addr, &o.name) {
        Ok(a) => a,
        Err(e) => {
            crate::log::stderr_line(format_args!("{prog}: {e}"));
            return DAEMON_UNREACHABLE;
        }
    };
    match code {
        200 => {}
        404 => {
            crate::log::stderr_line(format_args!("{prog}: unknown target {}", o.name));
            return exit::USAGE;
        }
        other => {
            crate::log::stderr_line(format_args!(
                "{prog}: the daemon at {addr} answered HTTP {other}"
            ));
            return DAEMON_UNREACHABLE;
        }
    }
    let json: serde_json::Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            crate::log::stderr_line(format_args!(
                "{prog}: the daemon at {addr} sent no JSON: {e}"
            ));
            return DAEMON_UNREACHABLE;
        }
    };
    let code = json["exit_code"]
        .as_u64()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(DAEMON_UNREACHABLE);
    if code != exit::HEALTHY {
        let reason = json["reason"].as_str().unwrap_or("");
        crate::log::stderr_line(format_args!("{prog}: {} is down: {reason}", o.name));
    }
    code
}
