//! The HTTP side against a fake [`Daemon`] (in-memory targets, a fake probe) on 127.0.0.1 port 0, with a raw
//! client so that malformed, oversized and slow requests can be sent as they are.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::listen::Limits;
use super::metrics::Format;
use super::{serve_within, Metrics, WebSettings};
use crate::echo::CheckResult;
use crate::exit::Failure;
use crate::report::Timeline;
use crate::serve::model::{
    BoxFuture, CheckRecord, Daemon, Health, MetricsSink as _, ProbeRefused, ProbeSpec, Probed,
    TargetStatus,
};

/// The fake probe's ports: 104 answers, 105 rejects.
const GOOD_PORT: u16 = 104;
/// The fake's probe duration: `probe_duration_seconds` is the daemon's figure, not the handler's own timing.
const PROBE_DURATION: Duration = Duration::from_micros(3_250);

struct Fake {
    targets: Vec<TargetStatus>,
    modules: Vec<&'static str>,
    allow: Vec<IpAddr>,
    probes: Mutex<Vec<(ProbeSpec, Duration)>>,
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_764_000_000 + secs)
}

fn timeline(ms: u64) -> Timeline {
    Timeline {
        connect: Some(Duration::from_micros(300)),
        tls: None,
        associate: Some(Duration::from_millis(ms)),
        echoes: vec![Duration::from_micros(800)],
        find: None,
        release: Some(Duration::from_micros(400)),
    }
}

/// A healthy check of 127.0.0.1:104 with `timeline(ms)`: released, C-ECHO-RSP status 0.
fn healthy(ms: u64) -> CheckResult {
    CheckResult {
        peer: "127.0.0.1:104".to_string(),
        address: None,
        verdict: Ok(echoprobe_core::check::Release::Released),
        stats: Default::default(),
        negotiated: None,
        tls: None,
        total: Duration::from_millis(5),
        started: SystemTime::now(),
        timeline: timeline(ms),
        status: Some(0),
    }
}

fn record(secs: u64, ms: u64, failed: Option<&str>) -> CheckRecord {
    CheckRecord {
        at: at(secs),
        exit_code: if failed.is_some() { 61 } else { 0 },
        result: if failed.is_some() {
            "rejected"
        } else {
            "healthy"
        },
        reason: failed.unwrap_or_default().to_string(),
        total: Duration::from_millis(ms + 2),
        timeline: timeline(ms),
    }
}

const REJECTED: &str =
    "association rejected: rejected-permanent, service-user, called-AE-title-not-recognized (1/1/7)";

fn target(name: &str, health: Health, reason: &str, recent: Vec<CheckRecord>) -> TargetStatus {
    TargetStatus {
        name: name.to_string(),
        peer: "127.0.0.1:104".to_string(),
        called_ae: "ANY-SCP".to_string(),
        calling_ae: "ECHOPROBE".to_string(),
        health,
        reason: reason.to_string(),
        since: at(0),
        exit_code: if health == Health::Up { 0 } else { 61 },
        checks: recent.len() as u64,
        recent,
    }
}

fn fake() -> Fake {
    Fake {
        targets: vec![
            target(
                "alpha",
                Health::Up,
                "",
                vec![
                    record(1, 3, None),
                    record(2, 60, Some(REJECTED)),
                    record(3, 4, None),
                ],
            ),
            target(
                "beta",
                Health::Down,
                REJECTED,
                vec![record(1, 3, Some(REJECTED)), record(2, 3, Some(REJECTED))],
            ),
            target("gamma", Health::Down, "no check completed yet", vec![]),
        ],
        modules: vec!["tls"],
        allow: vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ],
        probes: Mutex::new(Vec::new()),
    }
}

impl Daemon for Fake {
    fn targets(&self) -> Vec<TargetStatus> {
        self.targets.clone()
    }

    fn target(&self, name: &str) -> Option<TargetStatus> {
        self.targets.iter().find(|t| t.name == name).cloned()
    }

    fn has_module(&self, module: Option<&str>) -> bool {
        module.is_none_or(|m| self.modules.contains(&m))
    }

    fn probe(
        &self,
        spec: ProbeSpec,
        deadline: Duration,
    ) -> BoxFuture<'_, Result<Probed, ProbeRefused>> {
        Box::pin(async move {
            self.probes.lock().unwrap().push((spec.clone(), deadline));
            if let Some(m) = spec
                .module
                .as_ref()
                .filter(|m| !self.modules.contains(&m.as_str()))
            {
                return Err(ProbeRefused::UnknownModule(m.clone()));
            }
            // No name resolution here: only IP literals and localhost.
            let ip: IpAddr = match spec.host.as_str() {
                "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
                h => h.parse().expect("the tests probe IP literals"),
            };
            if !self.allow.contains(&ip) {
                return Err(ProbeRefused::NotAllowed(ip));
            }
            let peer = format!("{}:{}", spec.host, spec.port);
            let verdict = if spec.port == GOOD_PORT {
                Ok(echoprobe_core::check::Release::Released)
            } else {
                Err(Failure::Rejected {
                    peer: peer.clone(),
                    detail:
                        "rejected-permanent, service-user, called-AE-title-not-recognized (1/1/7)"
                            .to_string(),
                })
            };
            let result = CheckResult {
                peer,
                address: Some(SocketAddr::new(ip, spec.port)),
                verdict,
                status: (spec.port == GOOD_PORT).then_some(0),
                ..healthy(2)
            };
            Ok(Probed {
                result,
                duration: PROBE_DURATION,
            })
        })
    }
}

/// A server on 127.0.0.1 port 0 with `daemon`, `web` and `limits`; its address and metrics.
async fn start_with(
    daemon: Arc<Fake>,
    web: WebSettings,
    limits: Limits,
) -> (SocketAddr, Arc<Metrics>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::new());
    let m = metrics.clone();
    tokio::spawn(async move {
        serve_within(listener, daemon, m, web, limits)
            .await
            .unwrap();
    });
    (addr, metrics)
}

async fn start() -> (SocketAddr, Arc<Fake>, Arc<Metrics>) {
    let daemon = Arc::new(fake());
    let (addr, metrics) =
        start_with(daemon.clone(), WebSettings::default(), Limits::default()).await;
    (addr, daemon, metrics)
}

/// A response: status, the head's header lines (lower-cased), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    /// Asserts the status and the `Content-Type`.
    fn expect(&self, status: u16, content_type: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("content-type").as_deref(),
            Some(content_type),
            "{self:?}"
        );
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Sends `raw` as it is, reads until the server closes (at most 10 s).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, raw: &[u8]) -> Answer {
    s.write_all(raw).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server answers within 10 s")
        .ok();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    Answer {
        status,
        head: head.to_string(),
        body: if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    }
}

/// A chunked body's data (a streamed `/metrics`); what is there of it when the connection was cut.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or_default(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            body.push_str(after.get(..n.min(after.len())).unwrap_or_default());
            break;
        }
        body.push_str(&after[..n]);
        rest = after[n..].strip_prefix("\r\n").unwrap_or_default();
    }
    body
}

async fn raw(addr: SocketAddr, raw: &[u8]) -> Answer {
    exchange(TcpStream::connect(addr).await.unwrap(), raw).await
}

async fn get_with(addr: SocketAddr, path: &str, headers: &str) -> Answer {
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{headers}\r\n");
    raw(addr, req.as_bytes()).await
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    get_with(addr, path, "").await
}

#[tokio::test]
async fn health_up_down_and_unknown() {
    let (addr, _, _) = start().await;
    let up = get(addr, "/health/alpha").await;
    assert_eq!((up.status, up.body.as_str()), (200, "up\n"));
    assert_eq!(
        up.header("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    let down = get(addr, "/health/beta").await;
    assert_eq!(down.status, 503);
    assert_eq!(down.body, format!("down #{REJECTED}\n"));
    assert_eq!(get(addr, "/health/nobody").await.status, 404);
    assert_eq!(get(addr, "/health/").await.status, 404);
    assert_eq!(get(addr, "/nowhere").await.status, 404);
    head_is_get_without_body(addr, "/health/alpha").await;
}

/// `HEAD path` is answered as `GET path`, without the body.
async fn head_is_get_without_body(addr: SocketAddr, path: &str) {
    let request = format!("HEAD {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let head = raw(addr, request.as_bytes()).await;
    assert_eq!((head.status, head.body.as_str()), (200, ""), "HEAD {path}");
}

#[tokio::test]
async fn bad_requests_are_4xx() {
    let (addr, _, _) = start().await;
    assert_eq!(raw(addr, b"GARBAGE\r\n\r\n").await.status, 400);
    assert_eq!(
        raw(
            addr,
            b"GET /health/alpha HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n"
        )
        .await
        .status,
        400
    );
    let post = raw(
        addr,
        b"POST /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(post.status, 405);
    let body = raw(
        addr,
        b"GET /health/alpha HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
    )
    .await;
    assert_eq!(body.status, 413);
    let chunked = raw(
        addr,
        b"GET /health/alpha HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(chunked.status, 413);
}

/// Without users, `GET /probe` skips the router (`listen::Direct`): every other request to it still goes through the
/// router and gets what any route gives.
#[tokio::test]
async fn probe_without_the_router_answers_as_the_router() {
    let (addr, _, _) = start().await;
    let ok = get(addr, "/probe?target=127.0.0.1:104").await;
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("\nprobe_success 1.0\n"), "{}", ok.body);
    let twice = get(addr, "/probe?target=127.0.0.1:104&target=127.0.0.1:105").await;
    assert_eq!(
        (twice.status, twice.body.as_str()),
        (
            400,
            "Failed to deserialize query string: duplicate field `target`\n"
        )
    );
    let bad = get(addr, "/probe?target=%FF:104").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    for (request, status) in [
        (
            &b"POST /probe?target=127.0.0.1:104 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"[..],
            405,
        ),
        (
            b"GET /probe?target=127.0.0.1:104 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
            413,
        ),
        (
            b"GET /probe?target=127.0.0.1:104 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            413,
        ),
        (
            b"GET /probe/?target=127.0.0.1:104 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            404,
        ),
    ] {
        let got = raw(addr, request).await;
        assert_eq!(got.status, status, "{}", String::from_utf8_lossy(request));
    }
    head_is_get_without_body(addr, "/probe?target=127.0.0.1:104").await;
}

/// The requests the direct path takes: only a GET of `/probe` without a body (the test above checks that the
/// answers are the router's either way).
#[test]
fn only_a_get_of_probe_without_a_body_goes_direct() {
    use axum::http::{Method, Request};
    let direct = super::listen::Direct(super::routes::App {
        daemon: Arc::new(fake()),
        metrics: Arc::new(Metrics::new()),
    });
    let request = |method: Method, uri: &str, header: Option<(&str, &str)>| {
        let mut r = Request::builder().method(method).uri(uri);
        if let Some((k, v)) = header {
            r = r.header(k, v);
        }
        r.body(()).unwrap()
    };
    assert!(direct.takes(&request(Method::GET, "/probe?target=127.0.0.1:104", None)));
    assert!(direct.takes(&request(
        Method::GET,
        "/probe",
        Some(("content-length", "0"))
    )));
    for (method, uri, header) in [
        (Method::HEAD, "/probe?target=127.0.0.1:104", None),
        (Method::POST, "/probe?target=127.0.0.1:104", None),
        (Method::GET, "/probe/?target=127.0.0.1:104", None),
        (Method::GET, "/metrics", None),
        (Method::GET, "/probe", Some(("content-length", "5"))),
        (
            Method::GET,
            "/probe",
            Some(("transfer-encoding", "chunked")),
        ),
    ] {
        assert!(
            !direct.takes(&request(method.clone(), uri, header)),
            "{method} {uri} {header:?}"
        );
    }
}

#[tokio::test]
async fn oversized_head_gets_431() {
    let (addr, _, _) = start().await;
    let big = format!("X-Big: {}\r\n", "a".repeat(super::listen::MAX_HEAD + 1));
    let answer = get_with(addr, "/health/alpha", &big).await;
    assert_eq!(answer.status, 431, "{answer:?}");
    let many: String = (0..200).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let answer = get_with(addr, "/health/alpha", &many).await;
    assert_eq!(answer.status, 431, "{answer:?}");
    let long_uri = format!("/health/{}", "a".repeat(super::listen::MAX_HEAD + 1));
    assert!(matches!(get(addr, &long_uri).await.status, 414 | 431));
}

/// What `stream` reads until the server closes it, which must be within 5 s.
async fn closed_within_5s(stream: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("{what}"))
        .ok();
    buf
}

fn short_limits() -> Limits {
    Limits {
        head_timeout: Duration::from_millis(500),
        write_stall: Duration::from_millis(500),
        max_connections: 16,
    }
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off() {
    let (addr, _) = start_with(Arc::new(fake()), WebSettings::default(), short_limits()).await;
    // Half a head, then nothing: closed after the head timeout.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health/alpha HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let _ = closed_within_5s(&mut slow, "cut off within 5 s").await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    // Nothing at all: closed too.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let buf = closed_within_5s(&mut idle, "idle cut off within 5 s").await;
    assert!(buf.is_empty(), "{buf:?}");
    // A kept-alive connection after its answer: closed as well.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /health/alpha HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let buf = closed_within_5s(&mut kept, "kept-alive connection cut off within 5 s").await;
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
}

/// The soft limit on open files, from /proc (no libc call).
fn open_files_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024)
}

/// More idle connections than the cap (10,000 when the open-files limit allows, as many as fit with a smaller cap
/// when not) do not stop answers: each new connection past the cap closes the longest-idle one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_do_not_stop_answers() {
    let room = open_files_limit().saturating_sub(super::listen::MAX_CONNECTIONS + 256);
    let (n, limits) = if room >= 10_000 {
        (10_000, Limits::default())
    } else {
        let limits = Limits {
            max_connections: room / 4,
            ..Limits::default()
        };
        (room / 2, limits)
    };
    assert!(
        n > limits.max_connections && limits.max_connections > 8,
        "open-files limit {}",
        open_files_limit()
    );
    let (addr, _) = start_with(Arc::new(fake()), WebSettings::default(), limits).await;
    let mut idle = Vec::with_capacity(n);
    let started = std::time::Instant::now();
    for _ in 0..n {
        match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => idle.push(s),
            other => panic!("connect {} failed: {other:?}", idle.len()),
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "connecting took too long"
        );
    }
    let answer = tokio::time::timeout(Duration::from_secs(5), get(addr, "/health/alpha"))
        .await
        .expect("answered within 5 s despite idle connections");
    assert_eq!(answer.status, 200);
    eprintln!(
        "{n} idle connections (cap {}), then an answer",
        limits.max_connections
    );
    drop(idle);
}

/// A client that stops reading a large response is cut off after the write-stall bound.
#[tokio::test]
async fn client_that_does_not_read_is_cut_off() {
    let (addr, metrics) =
        start_with(Arc::new(fake()), WebSettings::default(), short_limits()).await;
    for i in 0..1500 {
        metrics.observe(&format!("target-{i:05}"), &record(1, 3, None), Health::Up);
    }
    let full = metrics.render(Format::Text).len();
    assert!(
        full > 8_000_000,
        "{full} bytes is not enough to fill the socket buffers"
    );
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut client = socket.connect(addr).await.unwrap();
    client
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    // Time to make the response (slow in a debug build) and to stall.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the connection was not closed");
    assert!(
        got.len() < full,
        "got the whole response ({} bytes)",
        got.len()
    );
}

/// A TLS client that never sends its hello is cut off after the head timeout.
#[tokio::test]
async fn silent_tls_client_is_cut_off() {
    let (web, _, dir) = tls_settings();
    let (addr, _) = start_with(Arc::new(fake()), web, short_limits()).await;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let _ = closed_within_5s(&mut silent, "cut off within 5 s").await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn metrics_series_and_forget() {
    let (addr, _, metrics) = start().await;
    metrics.observe("alpha", &record(1, 3, None), Health::Up);
    metrics.observe("beta", &record(1, 3, Some(REJECTED)), Health::Down);
    let accept = "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n";
    let open = get_with(addr, "/metrics", accept).await;
    open.expect(
        200,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
    assert!(open.body.ends_with("# EOF\n"), "{}", open.body);
    assert!(
        open.body.contains("# TYPE echoprobe_checks counter\n"),
        "{}",
        open.body
    );
    let answer = get(addr, "/metrics").await;
    answer.expect(200, "text/plain; version=0.0.4; charset=utf-8");
    let m = &answer.body;
    assert!(m.contains("# TYPE echoprobe_checks_total counter\n"), "{m}");
    assert!(!m.contains("# EOF") && !m.contains("# UNIT"), "{m}");
    for line in [
        "echoprobe_target_up{target=\"alpha\"} 1",
        "echoprobe_target_up{target=\"beta\"} 0",
        "echoprobe_checks_total{target=\"alpha\",outcome=\"healthy\"} 1",
        "echoprobe_checks_total{target=\"beta\",outcome=\"rejected\"} 1",
        "echoprobe_check_duration_seconds_count{target=\"alpha\",phase=\"associate\"} 1",
        "echoprobe_check_duration_seconds_count{target=\"alpha\",phase=\"echo\"} 1",
        "echoprobe_check_total_duration_seconds_count{target=\"alpha\"} 1",
        "echoprobe_last_check_timestamp_seconds{target=\"alpha\"} 1764000001.005",
    ] {
        assert!(m.lines().any(|l| l == line), "no line {line:?} in\n{m}");
    }
    assert!(!m.contains("phase=\"tls\""), "tls was not reached: {m}");
    metrics.forget("beta");
    let m = metrics.encode();
    assert!(!m.contains("beta"), "{m}");
    assert!(m.contains("alpha"), "{m}");
}

/// `promtool check metrics` (Debian package `prometheus`) on the output: required in CI, skipped elsewhere when
/// promtool is not installed.
#[test]
fn promtool_checks_metrics() {
    let metrics = Metrics::new();
    metrics.observe("alpha", &record(1, 3, None), Health::Up);
    metrics.observe(
        "beta \"quoted\" \\ name",
        &record(1, 3, Some(REJECTED)),
        Health::Down,
    );
    let daemon = promtool(&metrics.render(Format::Text));
    let result = healthy(1);
    let probe =
        super::probe::ProbeMetrics::new(&result, Duration::from_millis(4), Duration::from_secs(9));
    let probe = promtool(&probe.render(Format::Text));
    for (what, out) in [("/metrics", daemon), ("/probe", probe)] {
        if let Some((ok, text)) = out {
            assert!(ok, "promtool check metrics failed on {what}:\n{text}");
        }
    }
}

/// Runs `promtool check metrics` on `text`: (passed, its output), or `None` when promtool is missing outside CI.
fn promtool(text: &str) -> Option<(bool, String)> {
    use std::io::Write as _;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("promtool is required in CI (Debian package `prometheus`): {e}")
        }
        Err(e) => {
            eprintln!("promtool not run ({e}); install the Debian package `prometheus`");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}\n--- input ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

#[tokio::test]
async fn probe_follows_blackbox_exporter() {
    let (addr, daemon, _) = start().await;
    let ok = get_with(
        addr,
        "/probe?target=127.0.0.1:104&called_ae=STORESCP",
        "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n",
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    for line in [
        "probe_success 1.0",
        "probe_dicom_exit_code 0.0",
        "probe_timeout_seconds 9.5",
        "probe_dicom_phase_duration_seconds{phase=\"associate\"} 0.002",
        "probe_dicom_phase_duration_seconds{phase=\"echo\"} 0.0008",
        "probe_dicom_status 0.0",
        "probe_duration_seconds 0.00325",
    ] {
        assert!(
            ok.body.lines().any(|l| l == line),
            "no {line:?} in\n{}",
            ok.body
        );
    }
    {
        let probes = daemon.probes.lock().unwrap();
        let (spec, deadline) = probes.last().unwrap();
        assert_eq!(
            spec,
            &ProbeSpec {
                host: "127.0.0.1".to_string(),
                port: 104,
                called_ae: "STORESCP".to_string(),
                calling_ae: "ECHOSCU".to_string(),
                module: None,
            }
        );
        assert_eq!(*deadline, Duration::from_millis(9500));
    }
    // A failed check is still a 200, with probe_success 0.
    let bad = get(addr, "/probe?target=localhost:105&module=tls&calling_ae=ME").await;
    assert_eq!(bad.status, 200);
    assert!(
        bad.body.lines().any(|l| l == "probe_success 0.0"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.lines().any(|l| l == "probe_dicom_exit_code 61.0"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.lines().any(|l| l == "probe_timeout_seconds 120.0"),
        "{}",
        bad.body
    );
    {
        let probes = daemon.probes.lock().unwrap();
        let (spec, _) = probes.last().unwrap();
        assert_eq!(
            (spec.module.as_deref(), spec.calling_ae.as_str()),
            (Some("tls"), "ME")
        );
    }
    // IPv6 in brackets.
    let v6 = get(addr, "/probe?target=%5B::1%5D:104").await;
    assert_eq!(v6.status, 200, "{v6:?}");
    assert_eq!(daemon.probes.lock().unwrap().last().unwrap().0.host, "::1");
}

/// The per-probe registry `/probe` used to build (prometheus-client's metric objects, registered one by one): the
/// reference that the collector's text must equal.
fn probe_registry(
    result: &CheckResult,
    duration: Duration,
    timeout: Duration,
) -> prometheus_client::registry::Registry {
    use core::sync::atomic::AtomicU64;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    use prometheus_client::registry::{Registry, Unit};
    let mut registry = Registry::default();
    let gauge = |registry: &mut Registry, name: &str, help: &str, unit: Option<Unit>, v: f64| {
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(v);
        match unit {
            Some(unit) => registry.register_with_unit(name, help, unit, g),
            None => registry.register(name, help, g),
        }
    };
    let success = if result.verdict.is_ok() { 1.0 } else { 0.0 };
    gauge(
        &mut registry,
        "probe_success",
        "Displays whether or not the probe was a success",
        None,
        success,
    );
    gauge(
        &mut registry,
        "probe_duration",
        "Returns how long the probe took to complete in seconds",
        Some(Unit::Seconds),
        duration.as_secs_f64(),
    );
    gauge(
        &mut registry,
        "probe_timeout",
        "Returns how long the probe timeout is in seconds",
        Some(Unit::Seconds),
        timeout.as_secs_f64(),
    );
    let phases = Family::<Vec<(String, String)>, Gauge<f64, AtomicU64>>::default();
    let tl = &result.timeline;
    let echo = (!tl.echoes.is_empty()).then(|| tl.echoes.iter().sum::<Duration>());
    for (phase, d) in [
        ("connect", tl.connect),
        ("tls", tl.tls),
        ("associate", tl.associate),
        ("echo", echo),
        ("find", tl.find),
        ("release", tl.release),
    ] {
        if let Some(d) = d {
            phases
                .get_or_create(&vec![("phase".to_string(), phase.to_string())])
                .set(d.as_secs_f64());
        }
    }
    registry.register_with_unit(
        "probe_dicom_phase_duration",
        "How long each phase of the DICOM check took",
        Unit::Seconds,
        phases,
    );
    gauge(
        &mut registry,
        "probe_dicom_exit_code",
        "The check's exit code (0 healthy; echoprobe's exit-code table)",
        None,
        f64::from(result.code()),
    );
    if let Some(status) = result.status {
        gauge(
            &mut registry,
            "probe_dicom_status",
            "The status of the last C-ECHO-RSP",
            None,
            f64::from(status),
        );
    }
    registry
}

/// `/probe`'s text is what the per-probe registry made, in both formats, for a healthy check, a failed one with a
/// TLS and find timeline, and one that failed before any phase: the same lines in the same order, except that a
/// family's samples (a hash map's order in the registry) now come in the phases' order.
#[test]
fn probe_text_is_the_registrys() {
    use super::probe::ProbeMetrics;
    let healthy = healthy(2);
    let mut found_over_tls = CheckResult::failed(
        "pacs:2762".to_string(),
        Failure::Local("no match".to_string()),
    );
    found_over_tls.timeline = Timeline {
        connect: Some(Duration::from_micros(250)),
        tls: Some(Duration::from_micros(1_750)),
        associate: Some(Duration::from_micros(1_000)),
        echoes: vec![],
        find: Some(Duration::from_micros(12_345)),
        release: None,
    };
    let nothing = CheckResult::failed(
        "pacs:104".to_string(),
        Failure::Local("the daemon is stopping".into()),
    );
    let (duration, timeout) = (Duration::from_micros(4_321), Duration::from_millis(9_500));
    for result in [&healthy, &found_over_tls, &nothing] {
        for format in [Format::Text, Format::OpenMetrics] {
            let old = super::metrics::render(&probe_registry(result, duration, timeout), format);
            let new = ProbeMetrics::new(result, duration, timeout).render(format);
            let phase = |l: &&str| l.contains("{phase=");
            let others = |t: &str| -> Vec<String> {
                t.lines()
                    .filter(|l| !phase(l))
                    .map(str::to_string)
                    .collect()
            };
            let phases = |t: &str| -> Vec<String> {
                let mut p: Vec<String> = t.lines().filter(phase).map(str::to_string).collect();
                p.sort();
                p
            };
            assert_eq!(others(&new), others(&old), "{format:?}:\n{new}\n---\n{old}");
            assert_eq!(phases(&new), phases(&old), "{format:?}:\n{new}\n---\n{old}");
            let order: Vec<&str> = new
                .lines()
                .filter(phase)
                .filter_map(|l| l.split('"').nth(1))
                .collect();
            let mut sorted = order.clone();
            sorted.sort_by_key(|p| super::metrics::PHASES.iter().position(|x| x == p));
            assert_eq!(order, sorted);
        }
    }
}

#[tokio::test]
async fn probe_refusals() {
    let (addr, daemon, _) = start().await;
    let before = daemon.probes.lock().unwrap().len();
    for (path, status) in [
        ("/probe", 400),
        ("/probe?target=", 400),
        ("/probe?target=127.0.0.1", 400),
        ("/probe?target=127.0.0.1:0", 400),
        ("/probe?target=127.0.0.1:99999", 400),
        ("/probe?target=::1:104", 400),
        ("/probe?target=%5B::1%5D", 400),
        ("/probe?target=%5Bnot-v6%5D:104", 400),
        ("/probe?target=a%20b:104", 400),
        ("/probe?target=127.0.0.1:104&module=nope", 400),
        (
            "/probe?target=127.0.0.1:104&called_ae=SEVENTEEN_CHARS_X",
            400,
        ),
        ("/probe?target=127.0.0.1:104&calling_ae=%20%20", 400),
    ] {
        let answer = get(addr, path).await;
        assert_eq!(answer.status, status, "{path}: {answer:?}");
    }
    assert_eq!(
        daemon.probes.lock().unwrap().len(),
        before,
        "a bad request reached the daemon"
    );
    let header = get_with(
        addr,
        "/probe?target=127.0.0.1:104",
        "X-Prometheus-Scrape-Timeout-Seconds: soon\r\n",
    )
    .await;
    assert_eq!(header.status, 400);
    // Outside the allow-list: 403, after the daemon checked the resolved address.
    let refused = get(addr, "/probe?target=192.0.2.7:104").await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.body.contains("192.0.2.7"), "{}", refused.body);
}

#[test]
fn probe_timeouts() {
    use super::probe::timeout;
    assert_eq!(timeout(None), Ok(Duration::from_secs(120)));
    assert_eq!(timeout(Some(b"0")), Ok(Duration::from_secs(120)));
    assert_eq!(timeout(Some(b"15")), Ok(Duration::from_millis(14_500)));
    assert_eq!(timeout(Some(b"0.4")), Ok(Duration::from_millis(400)));
    assert_eq!(timeout(Some(b"1e9")), Ok(Duration::from_millis(119_500)));
    for bad in [&b"-1"[..], b"NaN", b"inf", b"", b"ten"] {
        assert!(timeout(Some(bad)).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn api_targets_json() {
    let (addr, _, _) = start().await;
    let all = get(addr, "/api/targets").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.header("content-type").unwrap(), "application/json");
    let v: serde_json::Value = serde_json::from_str(&all.body).unwrap();
    let targets = v["targets"].as_array().unwrap();
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    let beta = &targets[1];
    assert_eq!(beta["state"], "down");
    assert_eq!(beta["reason"], REJECTED);
    assert_eq!(beta["since"], "2025-11-24T16:00:00.000Z");
    assert_eq!(beta["exit_code"], 61);
    assert_eq!(beta["result"], "rejected");
    let alpha = &targets[0];
    assert_eq!(alpha["state"], "up");
    assert_eq!(alpha["result"], "healthy");
    let recent = alpha["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[1]["result"], "rejected");
    assert_eq!(recent[1]["reason"], REJECTED);
    assert_eq!(recent[0]["at"], "2025-11-24T16:00:01.000Z");
    assert_eq!(recent[0]["total_ms"], 5.0);
    assert_eq!(recent[0]["timeline_ms"]["associate"], 3.0);
    assert_eq!(recent[0]["timeline_ms"]["echoes"][0], 0.8);
    let one = get(addr, "/api/targets/beta").await;
    assert_eq!(one.status, 200);
    let one: serde_json::Value = serde_json::from_str(&one.body).unwrap();
    assert_eq!(&one, beta);
    let none = get(addr, "/api/targets/nobody").await;
    assert_eq!(none.status, 404);
    assert!(none.body.contains("no such target"));
}

#[tokio::test]
async fn status_page() {
    let (addr, _, _) = start().await;
    let page = get(addr, "/").await;
    page.expect(200, "text/html; charset=utf-8");
    let html = &page.body;
    assert!(html.contains("<meta http-equiv=\"refresh\""));
    for (name, state) in [("alpha", "up"), ("beta", "down"), ("gamma", "down")] {
        assert!(
            html.contains(&format!("data-target=\"{name}\" data-state=\"{state}\"")),
            "{name} {state}"
        );
    }
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 3);
    // alpha's failed check and both of beta's are marked.
    assert_eq!(html.matches("<g class=\"fail\">").count(), 3);
    assert!(html.contains(&REJECTED.to_string()));
    assert!(html.contains("no check completed yet"));
    // No external asset.
    for external in ["src=", "href=", "http://", "https://", "<script", "<link"] {
        let allowed = "xmlns=\"http://www.w3.org/2000/svg\"";
        assert!(!html.replace(allowed, "").contains(external), "{external}");
    }
}

/// `/api/targets` and `/` are made a few targets at a time: the same text as made whole.
#[tokio::test]
async fn the_api_and_the_page_are_streamed_whole() {
    let mut daemon = fake();
    let n = 2 * super::api::CHUNK_TARGETS + 5;
    daemon.targets = (0..n)
        .map(|i| {
            let mut t = daemon.targets[i % 3].clone();
            t.name = format!("t{i:04}");
            t
        })
        .collect();
    let whole = format!(
        "{{\"targets\":{}}}",
        serde_json::to_string(
            &daemon
                .targets
                .iter()
                .map(super::api::TargetJson::new)
                .collect::<Vec<_>>()
        )
        .unwrap()
    );
    let page = super::page::render(&daemon.targets, at(0));
    let (addr, _) = start_with(Arc::new(daemon), WebSettings::default(), Limits::default()).await;
    let all = get(addr, "/api/targets").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body, whole);
    let got = get(addr, "/").await;
    page_expect_same(&got.body, &page);
    assert_eq!(got.body.matches("<section").count(), n);
}

/// The same page but for its time ("as of").
fn page_expect_same(got: &str, want: &str) {
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains(" as of "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(got), strip(want));
    assert_eq!(got.lines().count(), want.lines().count());
}

#[test]
fn status_page_escapes_every_value() {
    let evil = "<script>alert(1)</script>";
    let quote = "\"><img src=x onerror=alert(2)>";
    let mut t = target(evil, Health::Down, quote, vec![record(1, 3, Some(quote))]);
    t.peer = format!("{evil}:104");
    t.called_ae = quote.to_string();
    t.calling_ae = "'&'".to_string();
    let html = super::page::render(&[t], at(0));
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("'&'"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("&#39;&amp;&#39;"));
    assert_eq!(
        super::page::esc("a&b<c>d\"e'f"),
        "a&amp;b&lt;c&gt;d&quot;e&#39;f"
    );
}

fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

fn basic(user: &str, password: &str) -> String {
    use base64ct::Encoding as _;
    let token = base64ct::Base64::encode_string(format!("{user}:{password}").as_bytes());
    format!("Authorization: Basic {token}\r\n")
}

#[tokio::test]
async fn basic_auth_on_every_route() {
    let web = WebSettings {
        tls: None,
        basic_auth: vec![
            ("prom".to_string(), hash("s3cret")),
            ("ops".to_string(), hash("other")),
        ],
    };
    let (addr, _) = start_with(Arc::new(fake()), web, Limits::default()).await;
    for path in [
        "/",
        "/health/alpha",
        "/metrics",
        "/probe?target=127.0.0.1:104",
        "/api/targets",
        "/nowhere",
    ] {
        let none = get(addr, path).await;
        assert_eq!(none.status, 401, "{path}");
        assert_eq!(
            none.header("www-authenticate").unwrap(),
            "Basic realm=\"echoprobe\", charset=\"UTF-8\""
        );
        for wrong in [
            basic("prom", "wrong"),
            basic("nobody", "s3cret"),
            basic("ops", "s3cret"),
        ] {
            assert_eq!(
                get_with(addr, path, &wrong).await.status,
                401,
                "{path} {wrong}"
            );
        }
        assert_eq!(
            get_with(addr, path, "Authorization: Bearer x\r\n")
                .await
                .status,
            401
        );
        assert_eq!(
            get_with(addr, path, "Authorization: Basic !!!\r\n")
                .await
                .status,
            401
        );
    }
    // Right: twice, the second from the remembered digest.
    for _ in 0..2 {
        assert_eq!(
            get_with(addr, "/health/alpha", &basic("prom", "s3cret"))
                .await
                .status,
            200
        );
        assert_eq!(
            get_with(addr, "/api/targets", &basic("ops", "other"))
                .await
                .status,
            200
        );
    }
    assert_eq!(
        get_with(addr, "/nowhere", &basic("prom", "s3cret"))
            .await
            .status,
        404
    );
}

#[test]
fn web_settings_are_checked() {
    let ok = WebSettings {
        tls: None,
        basic_auth: vec![("prom".to_string(), hash("x"))],
    };
    assert_eq!(ok.check(), Ok(()));
    let plain = WebSettings {
        tls: None,
        basic_auth: vec![("prom".to_string(), "plaintext".to_string())],
    };
    assert!(plain.check().unwrap_err().contains("not a bcrypt hash"));
    let colon = WebSettings {
        tls: None,
        basic_auth: vec![("a:b".to_string(), hash("x"))],
    };
    assert!(colon.check().is_err());
    let twice = WebSettings {
        tls: None,
        basic_auth: vec![("a".to_string(), hash("x")), ("a".to_string(), hash("y"))],
    };
    assert!(twice.check().unwrap_err().contains("twice"));
    let missing = WebSettings {
        tls: Some((
            "/nonexistent/key.pem".into(),
            "/nonexistent/cert.pem".into(),
        )),
        basic_auth: vec![],
    };
    assert!(missing
        .check()
        .unwrap_err()
        .contains("/nonexistent/cert.pem"));
}

/// A fresh directory under the system temp directory.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "echoprobe-http-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// TLS settings with a fresh self-signed certificate for `localhost` (and user `prom`, password `s3cret`): the
/// settings, the certificate, the directory to remove.
fn tls_settings() -> (WebSettings, rcgen::Certificate, std::path::PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = temp_dir("tls");
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    let web = WebSettings {
        tls: Some((key, cert)),
        basic_auth: vec![("prom".to_string(), hash("s3cret"))],
    };
    (web, ck.cert, dir)
}

#[tokio::test]
async fn tls_listener() {
    let (web, cert, dir) = tls_settings();
    assert_eq!(web.check(), Ok(()));
    let (addr, _) = start_with(Arc::new(fake()), web, Limits::default()).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let request = |auth: String| {
        format!("GET /health/alpha HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\r\n")
    };
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector.connect(name.clone(), tcp).await.unwrap();
    let answer = exchange(tls, request(basic("prom", "s3cret")).as_bytes()).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "up\n"));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    assert_eq!(
        exchange(tls, request(String::new()).as_bytes())
            .await
            .status,
        401
    );
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = get(addr, "/health/alpha").await;
    assert_ne!(plain.status, 200);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Writes the status page of the fake targets to `$ECHOPROBE_PAGE_OUT` (for a look in a browser); nothing without
/// the variable.
#[test]
fn status_page_to_file() {
    let Some(out) = std::env::var_os("ECHOPROBE_PAGE_OUT") else {
        return;
    };
    let mut targets = fake().targets;
    let mut long = Vec::new();
    for i in 0..60u64 {
        let failed = (i % 17 == 5).then_some(REJECTED);
        long.push(record(i * 10, 2 + (i * 7) % 9, failed));
    }
    targets.push(target("delta <b>&</b>", Health::Up, "", long));
    std::fs::write(out, super::page::render(&targets, at(600))).unwrap();
}

/// Process CPU time (user + system) from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// A measurement, not a check (run by hand, in release): the CPU the HTTP side spends per `/probe` (routing,
/// parsing, the per-probe registry and its text) with a fake check, two keep-alive clients in the same process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: cargo test --release -p echoprobe --lib measure_probe_http_cost -- --ignored --nocapture"]
async fn measure_probe_http_cost() {
    let (addr, _, _) = start().await;
    let n = 20_000;
    let before = cpu_time();
    let started = std::time::Instant::now();
    let mut clients = Vec::new();
    for _ in 0..2 {
        clients.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let mut buf = vec![0u8; 65536];
            for _ in 0..n / 2 {
                s.write_all(b"GET /probe?target=127.0.0.1:104 HTTP/1.1\r\nHost: t\r\n\r\n")
                    .await
                    .unwrap();
                let mut got = 0;
                loop {
                    got += s.read(&mut buf[got..]).await.unwrap();
                    let text = String::from_utf8_lossy(&buf[..got]);
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .unwrap()
                            .parse()
                            .unwrap();
                        if body.len() >= len {
                            break;
                        }
                    }
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let cpu = cpu_time() - before;
    eprintln!(
        "{n} /probe requests in {:?}: {:?} CPU per request (server and client)",
        started.elapsed(),
        cpu / n
    );
}

/// Unusable settings: `serve` returns at once with `InvalidInput`, before accepting anything.
#[tokio::test]
async fn serve_refuses_unusable_settings() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let web = WebSettings {
        tls: None,
        basic_auth: vec![("prom".to_string(), "not-a-hash".to_string())],
    };
    let served = tokio::time::timeout(
        Duration::from_secs(5),
        super::serve(listener, Arc::new(fake()), Arc::new(Metrics::new()), web),
    )
    .await
    .expect("returns at once");
    assert_eq!(served.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}
