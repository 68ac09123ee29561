//! The router: every route, behind basic auth (when users are configured) and the refusal of request bodies;
//! `GET /health/NAME` and `GET /metrics`, small enough to live here.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::auth::{self, Auth};
use super::metrics::{self, Metrics};
use super::{api, page, probe};
use crate::serve::model::{Daemon, Health};

/// What every handler reads.
#[derive(Clone)]
pub(super) struct App {
    pub(super) daemon: Arc<dyn Daemon>,
    pub(super) metrics: Arc<Metrics>,
}

/// Every route; behind `auth` when users are configured (`None`: no users, and no middleware that would pass every
/// request on).
pub(super) fn router(app: App, auth: Option<Auth>) -> Router {
    let router = Router::new()
        .route("/", get(page::page))
        .route("/health/{name}", get(health))
        .route("/metrics", get(metrics_text))
        .route("/probe", get(probe::probe))
        .route("/api/targets", get(api::targets))
        .route("/api/targets/{name}", get(api::target))
        .fallback(not_found)
        .with_state(app)
        .layer(middleware::from_fn(refuse_bodies));
    match auth {
        Some(auth) => router.layer(middleware::from_fn_with_state(
            Arc::new(auth),
            auth::require,
        )),
        None => router,
    }
}

/// A plain-text response.
pub(super) fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "not found\n".to_string())
}

/// Whether a request with `headers` has a body (every route is a GET: such a request gets 413).
pub(super) fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// Every route is a GET: a request with a body gets 413 before any handler (and the connection closes).
async fn refuse_bodies(request: Request, next: Next) -> Response {
    if has_body(request.headers()) {
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request bodies are not accepted\n".to_string(),
        );
    }
    next.run(request).await
}

/// `GET /health/NAME`: 200 `up`, 503 `down #reason`, one line of text (the agent-check line); 404 for a name not
/// configured.
async fn health(State(app): State<App>, Path(name): Path<String>) -> Response {
    match app.daemon.target(&name) {
        Some(t) if t.health == Health::Up => text(StatusCode::OK, "up\n".to_string()),
        Some(t) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("down #{}\n", one_line(&t.reason)),
        ),
        None => text(StatusCode::NOT_FOUND, "no such target\n".to_string()),
    }
}

/// `text` on one line: line breaks become spaces.
pub(super) fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

async fn metrics_text(State(app): State<App>, headers: HeaderMap) -> Response {
    let format = metrics::Format::asked(&headers);
    metrics::stream(app.metrics.clone(), format)
}
