//! Accepting connections: TLS when configured, hyper's HTTP/1.1 with bounded heads and a header read timeout, a
//! write-stall timeout, a request time bound, and at most [`MAX_CONNECTIONS`] open connections (a new one past the
//! cap closes the longest-idle one).

use core::future::Future as _;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use super::probe;
use super::routes::{self, App};

/// The largest request head (request line and headers) accepted: 431 above.
pub(super) const MAX_HEAD: usize = 16 * 1024;
/// How long a connection may take to send a complete request head once it is idle (just opened, or after a
/// response): then it is closed.
pub(super) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a response write may make no progress (a client that does not read) before the connection closes.
pub(super) const WRITE_STALL: Duration = Duration::from_secs(30);
/// The most connections open at once.
pub(super) const MAX_CONNECTIONS: usize = 1024;
/// The longest a request may take (a `/probe` is bounded by its scrape timeout, at most 120 s, before this).
const MAX_REQUEST: Duration = Duration::from_secs(130);
/// The most headers in a request.
const MAX_HEADERS: usize = 64;
/// The pause after an accept error such as "too many open files".
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long an evicted connection may take to close.
const EVICT_GRACE: Duration = Duration::from_secs(1);

/// The bounds of [`run`]: the constants above, smaller in the tests.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) head_timeout: Duration,
    pub(super) write_stall: Duration,
    pub(super) max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_timeout: HEAD_TIMEOUT,
            write_stall: WRITE_STALL,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// A loaded TLS server configuration.
pub(super) struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
}

impl Tls {
    /// Loads a PEM private key and PEM certificate chain (TLS 1.2 and 1.3, ring, ALPN `http/1.1`).
    pub(super) fn load(key: &Path, cert: &Path) -> Result<Tls, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .and_then(|it| it.collect::<Result<_, _>>())
            .map_err(|e| format!("[web] certificate {}: {e}", cert.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "[web] certificate {}: no CERTIFICATE in the file",
                cert.display()
            ));
        }
        let key_der = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("[web] private key {}: {e}", key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key_der))
            .map_err(|e| {
                format!(
                    "[web] private key {} and certificate {}: {e}",
                    key.display(),
                    cert.display()
                )
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }
}

/// `GET /probe` answered without the router: the router's own handler ([`probe::answer`]) without its layers
/// (routing, the body refusal's middleware), which were about a third of the HTTP side's CPU per probe. Only a GET
/// of exactly `/probe` without a body takes this path; every other request, a `/probe` with a body (413) or
/// another method among them, goes to the router. Used only when no users are configured (else every request
/// goes through basic auth).
#[derive(Clone)]
pub(super) struct Direct(pub(super) App);

impl Direct {
    pub(super) fn takes<B>(&self, request: &Request<B>) -> bool {
        request.method() == Method::GET
            && request.uri().path() == "/probe"
            && !routes::has_body(request.headers())
    }
}

/// Accepts connections on `listener` and serves `app` (and `direct`) on each until the process ends.
pub(super) async fn run(
    listener: TcpListener,
    tls: Option<Tls>,
    app: Router,
    direct: Option<Direct>,
    limits: Limits,
) -> io::Result<()> {
    let tls = tls.map(Arc::new);
    let slots = Arc::new(Slots::new(limits.max_connections));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                super::log_line(format_args!("accept: {e}"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let slot = slots.clone().take().await;
        let (app, direct) = (app.clone(), direct.clone());
        tokio::spawn(connection(stream, tls.clone(), app, direct, slot, limits));
    }
}

/// Accept errors that concern only the connection being accepted.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// One connection: the TLS handshake (bounded by [`HEAD_TIMEOUT`]), then HTTP/1.1 until the client closes, a
/// timeout closes it, or it is evicted while idle.
async fn connection(
    stream: TcpStream,
    tls: Option<Arc<Tls>>,
    app: Router,
    direct: Option<Direct>,
    slot: Slot,
    limits: Limits,
) {
    let conn = slot.conn.clone();
    let stall = limits.write_stall;
    match tls {
        None => http(Stall::new(stream, stall), app, direct, &conn, limits).await,
        Some(tls) => {
            let handshake = tokio::time::timeout(limits.head_timeout, tls.acceptor.accept(stream));
            let stream = tokio::select! {
                r = handshake => match r {
                    Ok(Ok(stream)) => stream,
                    _ => return,
                },
                () = conn.evict.notified() => return,
            };
            http(Stall::new(stream, stall), app, direct, &conn, limits).await
        }
    }
    drop(slot);
}

async fn http<S>(io: S, app: Router, direct: Option<Direct>, conn: &Arc<Conn>, limits: Limits)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let inner = TowerToHyperService::new(app);
    let busy = conn.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let guard = Busy::new(&busy);
        let direct = direct.as_ref().filter(|d| d.takes(&req)).cloned();
        let inner = inner.clone();
        async move {
            let _guard = guard;
            let call = async {
                match direct {
                    Some(Direct(app)) => {
                        let (head, _) = req.into_parts();
                        Ok(probe::answer(&app, &head.headers, head.uri.query()).await)
                    }
                    None => hyper::service::Service::call(&inner, req).await,
                }
            };
            match tokio::time::timeout(MAX_REQUEST, call).await {
                Ok(response) => response,
                Err(_) => Ok(too_long()),
            }
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Half-closes allowed: while a request is answered, hyper does not read ahead to learn whether the client has
    // gone (a read that would find nothing, and a fresh read buffer each request, since the request still holds the
    // old one). A client that leaves mid-request is seen at the next read, after its answer; every request is bounded
    // anyway (a `/probe` by its deadline, the rest by `MAX_REQUEST`).
    builder
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_header_size(MAX_HEAD)
        .max_buf_size(MAX_HEAD)
        .max_headers(MAX_HEADERS);
    let serving = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(serving);
    tokio::select! {
        _ = serving.as_mut() => {}
        () = conn.evict.notified() => {
            serving.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(EVICT_GRACE, serving).await;
        }
    }
}

fn too_long() -> Response<Body> {
    let mut response = Response::new(Body::from("request took too long\n"));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
}

/// The open connections, oldest first, and the permits that bound their number.
struct Slots {
    permits: Arc<Semaphore>,
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next: AtomicU64,
}

/// What the accept loop knows of an open connection.
struct Conn {
    /// Requests being answered now.
    busy: AtomicUsize,
    /// Told to close (while idle).
    evict: Notify,
}

/// An open connection's place; dropping it frees the place.
struct Slot {
    slots: Arc<Slots>,
    id: u64,
    conn: Arc<Conn>,
    _permit: OwnedSemaphorePermit,
}

impl Slots {
    fn new(max: usize) -> Self {
        Slots {
            permits: Arc::new(Semaphore::new(max)),
            open: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
        }
    }

    /// A place for a new connection: when every place is taken, the longest-idle connection is told to close,
    /// and this waits for a place (if none is idle, until a request ends).
    async fn take(self: Arc<Self>) -> Slot {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.evict_idlest();
                match self.permits.clone().acquire_owned().await {
                    Ok(permit) => permit,
                    // The semaphore is never closed.
                    Err(_) => unreachable!("connection semaphore closed"),
                }
            }
        };
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            evict: Notify::new(),
        });
        self.lock().insert(id, conn.clone());
        Slot {
            slots: self,
            id,
            conn,
            _permit: permit,
        }
    }

    fn evict_idlest(&self) {
        let mut open = self.lock();
        let idle = open
            .iter()
            .find(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        if let Some(conn) = idle.and_then(|id| open.remove(&id)) {
            conn.evict.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().remove(&self.id);
    }
}

/// Marks a connection busy while a request is answered.
struct Busy(Arc<Conn>);

impl Busy {
    fn new(conn: &Arc<Conn>) -> Self {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        Busy(conn.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A stream whose writes fail with `TimedOut` once one has made no progress for `limit` ([`WRITE_STALL`]).
struct Stall<S> {
    io: S,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
    armed: bool,
}

impl<S> Stall<S> {
    fn new(io: S, limit: Duration) -> Self {
        Stall {
            io,
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
            armed: false,
        }
    }

    /// Passes `r` on; a `Pending` starts the stall timer (or reports its expiry), anything else stops it.
    fn watch<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.armed = false;
            return r;
        }
        if !self.armed {
            self.armed = true;
            let deadline = tokio::time::Instant::now() + self.limit;
            self.timer.as_mut().reset(deadline);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Stall<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stall<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch(cx, r)
    }
}
