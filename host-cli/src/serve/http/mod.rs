//! A stand-in for the daemon's HTTP side, with its entry points ([`serve`], [`Metrics`], [`WebSettings`]) so that
//! the engine builds and its tests run; the real one (axum: health, metrics, /probe, API, status page, TLS, basic
//! auth) replaces this file. It answers only `GET /health/NAME` and `GET /api/targets/NAME` (the fields `echoprobe
//! status` reads), one bounded request per connection.

use core::time::Duration;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::model::{CheckRecord, Daemon, Health, MetricsSink};

/// The `[web]` settings: TLS and basic-auth users for the HTTP listener.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebSettings {
    /// `(key, certificate)` PEM files.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `(user, bcrypt hash)`.
    pub basic_auth: Vec<(String, String)>,
}

impl WebSettings {
    /// Checks the settings without listening.
    pub fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The Prometheus series (none in this stand-in).
#[derive(Debug, Default)]
pub struct Metrics;

impl Metrics {
    /// No series yet.
    pub fn new() -> Self {
        Metrics
    }
}

impl MetricsSink for Metrics {
    fn observe(&self, _target: &str, _record: &CheckRecord, _health: Health) {}
    fn forget(&self, _target: &str) {}
}

/// Serves until the task is aborted.
pub async fn serve(
    listener: tokio::net::TcpListener,
    daemon: Arc<dyn Daemon>,
    _metrics: Arc<Metrics>,
    _web: WebSettings,
) -> std::io::Result<()> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let daemon = daemon.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let mut len = 0;
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while len < buf.len() && !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf[len..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => len += n,
                    }
                }
            })
            .await;
            let head = String::from_utf8_lossy(&buf[..len]);
            let path = head.split(' ').nth(1).unwrap_or("");
            let (code, body) = answer(daemon.as_ref(), path);
            let reply = format!(
                "HTTP/1.0 {code} -\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

fn answer(daemon: &dyn Daemon, path: &str) -> (u16, String) {
    let (name, api) = match (
        path.strip_prefix("/api/targets/"),
        path.strip_prefix("/health/"),
    ) {
        (Some(n), _) => (n, true),
        (_, Some(n)) => (n, false),
        _ => return (404, "not found\n".into()),
    };
    let Some(t) = daemon.target(name) else {
        return (404, format!("unknown target {name}\n"));
    };
    let up = t.health == Health::Up;
    if api {
        let json = serde_json::json!({
            "name": t.name, "state": if up { "up" } else { "down" }, "reason": t.reason,
            "exit_code": t.exit_code, "checks": t.checks,
        });
        (200, json.to_string())
    } else if up {
        (200, "up\n".into())
    } else {
        (503, format!("down #{}\n", t.reason))
    }
}
