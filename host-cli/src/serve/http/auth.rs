//! Basic auth with bcrypt-hashed passwords, as Prometheus exporters' web config: when users are configured, every
//! request needs one of them, else 401 with `WWW-Authenticate`. Passwords are checked with bcrypt (a constant-time
//! comparison), a bounded number at a time off the async threads; an unknown user costs the same bcrypt run as a
//! known one. Good credentials are remembered (as a SHA-256 digest, a bounded number) so that a scraper does not pay
//! bcrypt on every request.

use core::str::FromStr as _;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64ct::Encoding as _;
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;

/// A valid bcrypt hash (of a random password) checked when the user is unknown, so that it takes as long.
const DUMMY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DSmHuvMBOhyBc0yrn1Dmq";
/// bcrypt runs at once, at most.
const CONCURRENT_VERIFIES: usize = 2;
/// Remembered good credentials, at most (forgotten all at once when full).
const REMEMBERED: usize = 64;

/// The configured users.
pub(super) struct Auth {
    users: Vec<(String, String)>,
    good: Mutex<HashSet<[u8; 32]>>,
    verifies: Semaphore,
}

impl Auth {
    /// Checks the users: names without `:`, unique, and bcrypt hashes.
    pub(super) fn new(users: &[(String, String)]) -> Result<Auth, String> {
        for (i, (user, hash)) in users.iter().enumerate() {
            if user.is_empty() || user.contains(':') {
                return Err(format!(
                    "[web] basic auth user `{user}`: a user name is not empty and has no `:`"
                ));
            }
            if users[..i].iter().any(|(u, _)| u == user) {
                return Err(format!("[web] basic auth user `{user}` is given twice"));
            }
            bcrypt::HashParts::from_str(hash).map_err(|e| {
                format!(
                    "[web] basic auth user `{user}`: the password hash is not a bcrypt hash ({e})"
                )
            })?;
        }
        Ok(Auth {
            users: users.to_vec(),
            good: Mutex::new(HashSet::new()),
            verifies: Semaphore::new(CONCURRENT_VERIFIES),
        })
    }

    /// Whether `authorization` (the header's value) names a user with the right password.
    async fn allows(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some((user, password)) = authorization.and_then(credentials) else {
            return false;
        };
        let digest = fingerprint(&user, &password);
        if self.remembered().contains(&digest) {
            return true;
        }
        // Every name is compared, in constant time, whichever matches.
        let mut hash = DUMMY_HASH;
        let mut known = false;
        for (u, h) in &self.users {
            if bool::from(u.as_bytes().ct_eq(user.as_bytes())) {
                hash = h;
                known = true;
            }
        }
        let Ok(_permit) = self.verifies.acquire().await else {
            return false;
        };
        let hash = hash.to_string();
        let right = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .is_ok_and(|r| r.unwrap_or(false));
        if known && right {
            let mut good = self.remembered();
            if good.len() >= REMEMBERED {
                good.clear();
            }
            good.insert(digest);
        }
        known && right
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        self.good.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `Basic base64(user:password)` -> (user, password).
fn credentials(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64ct::Base64::decode_vec(token.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn fingerprint(user: &str, password: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(user.as_bytes());
    ctx.update(b"\0");
    ctx.update(password.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The middleware: passes the request on when no user is configured or the credentials are right.
pub(super) async fn require(
    State(auth): State<Arc<Auth>>,
    request: Request,
    next: Next,
) -> Response {
    if auth.users.is_empty()
        || auth
            .allows(request.headers().get(header::AUTHORIZATION))
            .await
    {
        return next.run(request).await;
    }
    let mut response = (StatusCode::UNAUTHORIZED, Body::from("unauthorized\n")).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"echoprobe\", charset=\"UTF-8\""),
    );
    response
}
