//! The probe daemon's HTTP side: `GET /health/NAME`, `/metrics`, `/probe` (blackbox_exporter's contract), the JSON
//! API and the status page, on one listener, optionally over TLS and behind basic auth. It reads the engine through
//! [`Daemon`] and records nothing itself except the Prometheus series, which the engine feeds through [`Metrics`]
//! (a [`super::model::MetricsSink`]).
//!
//! Files by job: `listen` (accepting: TLS, bounds, timeouts, eviction; `GET /probe` straight to its handler when no
//! users are configured), `auth` (basic auth), `routes` (the router,
//! `/health`, refusing bodies), `metrics` (the series), `probe` (`/probe`), `api` (`/api/targets`), `page` (`/`),
//! `stream` (a body made a piece at a time).
//!
//! Bounds: a request head is at most [`listen::MAX_HEAD`] bytes (431 above), must arrive within
//! [`listen::HEAD_TIMEOUT`] of the connection becoming idle (then the connection closes, idle keep-alive included), a
//! response write that makes no progress for [`listen::WRITE_STALL`] closes the connection, bodies are refused (413),
//! and at most [`listen::MAX_CONNECTIONS`] connections are open: past that, a new one closes the longest-idle one,
//! so idle connections can never stop answers.

mod api;
mod auth;
mod listen;
mod metrics;
mod page;
mod probe;
mod routes;
mod stream;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

pub use metrics::Metrics;

use super::model::Daemon;

/// The `[web]` settings: TLS and basic-auth users for the HTTP listener (as Prometheus exporters' web config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebSettings {
    /// `(key, certificate)` PEM files: serve HTTPS. `None`: plain HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `(user, bcrypt hash)`: when not empty, every route needs one of these users (401 otherwise).
    pub basic_auth: Vec<(String, String)>,
}

impl WebSettings {
    /// Checks the settings as [`serve`] will use them (the TLS files load, every hash is a bcrypt hash), without
    /// listening: for `--check-config` and reloads. The message names the file or user and the problem.
    pub fn check(&self) -> Result<(), String> {
        self.prepare().map(|_| ())
    }

    fn prepare(&self) -> Result<(Option<listen::Tls>, auth::Auth), String> {
        let tls = match &self.tls {
            Some((key, cert)) => Some(listen::Tls::load(key, cert)?),
            None => None,
        };
        Ok((tls, auth::Auth::new(&self.basic_auth)?))
    }
}

/// Serves HTTP (or HTTPS) on `listener` until the process ends. Returns at once with an error of kind
/// `InvalidInput` when `web` cannot be used (see [`WebSettings::check`]); accept errors are logged and retried.
pub async fn serve(
    listener: tokio::net::TcpListener,
    daemon: Arc<dyn Daemon>,
    metrics: Arc<Metrics>,
    web: WebSettings,
) -> std::io::Result<()> {
    serve_within(listener, daemon, metrics, web, listen::Limits::default()).await
}

/// [`serve`] with other bounds (the tests' are smaller).
async fn serve_within(
    listener: tokio::net::TcpListener,
    daemon: Arc<dyn Daemon>,
    metrics: Arc<Metrics>,
    web: WebSettings,
    limits: listen::Limits,
) -> std::io::Result<()> {
    let (tls, auth) = web
        .prepare()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let auth = (!web.basic_auth.is_empty()).then_some(auth);
    let app = routes::App { daemon, metrics };
    // Without users, `GET /probe` skips the router's layers (with users, every request goes through `auth`).
    let direct = auth.is_none().then(|| listen::Direct(app.clone()));
    listen::run(listener, tls, routes::router(app, auth), direct, limits).await
}

/// One line on the daemon's log (stderr).
fn log_line(msg: core::fmt::Arguments<'_>) {
    crate::log::stderr_line(format_args!("echoprobe serve: http: {msg}"));
}
