//! The monitoring programs users put in front of `echoprobe serve`, run for real as plain processes with
//! temporary configs on loopback: Prometheus (and its `promtool`), blackbox_exporter and headless Chromium; and
//! the small HTTP/1.0 client the tests read them (and the daemon) with.
//!
//! Each program is looked up at Debian's path (an environment variable overrides it) and *fails* the test when
//! missing, with the package to install: CI installs them with `scripts/install-deps.sh`.

use core::net::SocketAddr;
use core::time::Duration;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Instant;

use serde_json::Value;

use crate::env::setup;
use crate::net::{free_port, spawn_listening};
use crate::process::{run, Outcome, Peer, TempDir};

/// How long Prometheus or blackbox_exporter may take to start answering.
pub const START: Duration = Duration::from_secs(30);
/// The bound of one HTTP exchange.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A Debian program by absolute path: `$var` if set, else `default`; fails the test, naming `package`, when it
/// does not run `--version`.
pub fn program(var: &str, default: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var_os(var).unwrap_or_else(|| default.into()));
    let ok = Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} does not run `--version`: install the Debian package {package} (scripts/install-deps.sh), \
         or set {var}",
        path.display()
    );
    path
}

// ---- HTTP ------------------------------------------------------------------------------------------------------

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header lines after the status line, as sent.
    pub head: String,
    /// The body (lossy UTF-8).
    pub body: String,
}

impl Response {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as JSON; fails the test when it is not.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {:?}", self.status, self.body))
    }
}

/// `GET path` from `addr` (`host:port`) as HTTP/1.0 (the server closes after the response: no chunking, no
/// keep-alive), with extra header lines, within [`HTTP_TIMEOUT`].
pub fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
    let sockaddr: SocketAddr = addr
        .parse()
        .map_err(|e| std::io::Error::other(format!("{addr}: {e}")))?;
    let mut conn = TcpStream::connect_timeout(&sockaddr, HTTP_TIMEOUT)?;
    conn.set_read_timeout(Some(HTTP_TIMEOUT))?;
    conn.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    conn.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    conn.take(16 << 20).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no end of head in {text:?}")))?;
    let (status_line, head) = head.split_once("\r\n").unwrap_or((head, ""));
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    Ok(Response {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

/// [`get`], failing the test on a transport error.
#[track_caller]
pub fn must_get(addr: &str, path: &str) -> Response {
    get(addr, path, &[]).unwrap_or_else(|e| panic!("GET http://{addr}{path}: {e}"))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `probe` every 200 ms until it returns `Some`, at most `limit`; fails the test with `what` and the last
/// thing `describe` said.
#[track_caller]
pub fn wait_until<T>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        let last = match probe() {
            Ok(v) => return v,
            Err(e) => e,
        };
        assert!(
            start.elapsed() < limit,
            "{what}: not within {limit:?}; last seen: {last}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

// ---- Prometheus ------------------------------------------------------------------------------------------------

/// A Prometheus server (Debian `prometheus`) on 127.0.0.1 with a temporary config and data directory.
#[derive(Debug)]
pub struct Prometheus {
    pub peer: Peer,
    /// `127.0.0.1:PORT` of its web UI and API.
    pub addr: String,
    _dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus with `config` (a prometheus.yml) and waits until `/-/ready` says 200.
    pub fn start(config: &str) -> Prometheus {
        setup();
        let bin = program("ECHOPROBE_PROMETHEUS", "/usr/bin/prometheus", "prometheus");
        let dir = TempDir::new("prometheus");
        let cfg = dir.path().join("prometheus.yml");
        fs::write(&cfg, config).expect("write prometheus.yml");
        let data = dir.path().join("data");
        fs::create_dir_all(&data).expect("mkdir prometheus data");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=info");
        let peer = spawn_listening("prometheus", &mut cmd, port, START);
        let prometheus = Prometheus {
            peer,
            addr,
            _dir: dir,
        };
        wait_until("prometheus /-/ready", START, || {
            match get(&prometheus.addr, "/-/ready", &[]) {
                Ok(r) if r.status == 200 => Ok(()),
                Ok(r) => Err(format!("{} {}", r.status, r.body)),
                Err(e) => Err(e.to_string()),
            }
        });
        prometheus
    }

    /// An instant query (`/api/v1/query`): each series of the vector as its labels and value.
    pub fn query(&self, expr: &str) -> Result<Vec<(Value, f64)>, String> {
        let path = format!("/api/v1/query?query={}", urlencode(expr));
        let response = get(&self.addr, &path, &[]).map_err(|e| e.to_string())?;
        let json: Value = serde_json::from_str(&response.body)
            .map_err(|e| format!("{e}: {} {}", response.status, response.body))?;
        if json["status"] != "success" {
            return Err(format!("query {expr:?}: {json}"));
        }
        let result = json["data"]["result"]
            .as_array()
            .ok_or_else(|| format!("query {expr:?}: no result vector in {json}"))?;
        result
            .iter()
            .map(|series| {
                let value = series["value"][1]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
                    .ok_or_else(|| format!("no value in {series}"))?;
                Ok((series["metric"].clone(), value))
            })
            .collect()
    }

    /// Waits until `expr` has exactly one series and its value is `want`, at most `limit`.
    #[track_caller]
    pub fn wait_value(&self, expr: &str, want: f64, limit: Duration) {
        wait_until(
            &format!("prometheus: {expr} == {want}"),
            limit,
            || match self.query(expr)?.as_slice() {
                [(_, v)] if *v == want => Ok(()),
                other => Err(format!(
                    "{other:?}; prometheus log tail:\n{}",
                    tail(&self.peer.log())
                )),
            },
        )
    }

    /// The scrape targets' health as Prometheus sees it (`/api/v1/targets`): `(job, health, lastError)`.
    pub fn target_health(&self) -> Vec<(String, String, String)> {
        let json = must_get(&self.addr, "/api/v1/targets").json();
        json["data"]["activeTargets"]
            .as_array()
            .map(|targets| {
                targets
                    .iter()
                    .map(|t| {
                        let s = |k: &str| t[k].as_str().unwrap_or("").to_string();
                        (s("scrapePool"), s("health"), s("lastError"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails unless every scrape target's last scrape succeeded (a failed check or probe is a sample's value, not a
    /// failed scrape); returns the health, for more checks.
    #[track_caller]
    pub fn assert_scrapes_up(&self) -> Vec<(String, String, String)> {
        let health = self.target_health();
        assert!(
            health.iter().all(|(_, h, _)| h == "up"),
            "every scrape itself succeeds (the check or probe result is a value): {health:?}"
        );
        health
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

/// `promtool check metrics` on `text` (a /metrics body, fed on stdin), bounded to 30 s.
pub fn promtool_check_metrics(text: &str) -> Outcome {
    let bin = program("ECHOPROBE_PROMTOOL", "/usr/bin/promtool", "prometheus");
    let dir = TempDir::new("promtool");
    let file = dir.path().join("metrics.txt");
    fs::write(&file, text).expect("write metrics.txt");
    // promtool reads the metrics from stdin; `run` closes stdin, so a shell redirects the file.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("exec \"$0\" check metrics < \"$1\"")
        .arg(&bin)
        .arg(&file);
    run(&mut cmd, Duration::from_secs(30))
}

// ---- blackbox_exporter -----------------------------------------------------------------------------------------

/// Debian's prometheus-blackbox-exporter on 127.0.0.1 with a `tcp_connect` module (`module=tcp_connect`).
#[derive(Debug)]
pub struct Blackbox {
    pub peer: Peer,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    _dir: TempDir,
}

/// The blackbox_exporter config with the one module the comparison uses.
pub const BLACKBOX_CONFIG: &str = "modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 5s\n";

impl Blackbox {
    /// Starts it and waits until it listens.
    pub fn start() -> Blackbox {
        setup();
        let bin = program(
            "ECHOPROBE_BLACKBOX",
            "/usr/bin/prometheus-blackbox-exporter",
            "prometheus-blackbox-exporter",
        );
        let dir = TempDir::new("blackbox");
        let cfg = dir.path().join("blackbox.yml");
        fs::write(&cfg, BLACKBOX_CONFIG).expect("write blackbox.yml");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--web.listen-address={addr}"));
        let peer = spawn_listening("blackbox_exporter", &mut cmd, port, START);
        Blackbox {
            peer,
            addr,
            _dir: dir,
        }
    }

    /// `GET /probe?module=tcp_connect&target=TARGET`.
    pub fn probe(&self, target: &str) -> Response {
        must_get(
            &self.addr,
            &format!("/probe?module=tcp_connect&target={}", urlencode(target)),
        )
    }
}

/// The value of the sample `name` (with no labels, or the first one) in a Prometheus text body.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '{']))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

// ---- Chromium --------------------------------------------------------------------------------------------------

/// Headless Chromium (Debian `chromium`): one run per call, with its own throw-away profile.
#[derive(Debug)]
pub struct Chromium {
    bin: PathBuf,
    profile: TempDir,
}

/// How long one headless run may take.
pub const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

impl Chromium {
    /// Finds Chromium; fails the test when it is missing.
    pub fn new() -> Chromium {
        setup();
        Chromium {
            bin: program("ECHOPROBE_CHROMIUM", "/usr/bin/chromium", "chromium"),
            profile: TempDir::new("chromium-profile"),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        // Root in a container: no sandbox; no GPU, no first-run work, the profile in a temp dir.
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", self.profile.path().display()));
        cmd
    }

    /// The DOM of `url` after its scripts ran (`--dump-dom`).
    #[track_caller]
    pub fn dump_dom(&self, url: &str) -> String {
        let mut cmd = self.command();
        cmd.arg("--dump-dom").arg(url);
        let out = run(&mut cmd, CHROMIUM_TIMEOUT);
        out.assert_code(0);
        out.stdout
    }

    /// A screenshot of `url` at 1200x800 into `file` (PNG); fails the test unless the file is a PNG.
    #[track_caller]
    pub fn screenshot(&self, url: &str, file: &Path) {
        let _ = fs::remove_file(file);
        let mut cmd = self.command();
        cmd.arg(format!("--screenshot={}", file.display()))
            .arg("--window-size=1200,800")
            .arg(url);
        let out = run(&mut cmd, CHROMIUM_TIMEOUT);
        out.assert_code(0);
        let png = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}\n{out}", file.display()));
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
            "{} is not a PNG screenshot ({} bytes)\n{out}",
            file.display(),
            png.len()
        );
    }
}

impl Default for Chromium {
    fn default() -> Self {
        Chromium::new()
    }
}

/// Where a test keeps a file for CI to archive: the workspace's `target/` directory (created if needed).
pub fn artifact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("target");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    dir.join(name)
}

/// A prometheus.yml: a 1 s scrape interval, then `jobs` (from [`scrape_job`] and [`probe_job`]).
pub fn prometheus_config(jobs: &[String]) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{}",
        jobs.concat()
    )
}

/// A plain scrape job: `GET http://ADDR/metrics`.
pub fn scrape_job(job: &str, addr: &str) -> String {
    format!("  - job_name: {job}\n    static_configs:\n      - targets: ['{addr}']\n")
}

/// blackbox_exporter's relabel recipe: Prometheus asks the exporter at `exporter` for
/// `/probe?target=T&PARAM=...` once per entry of `targets`, and labels the series `instance="T"`. Every 2 s with a
/// 2 s scrape timeout: the exporter bounds its check by the timeout it is sent minus a margin.
pub fn probe_job(job: &str, exporter: &str, params: &[(&str, &str)], targets: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|(k, v)| format!("      {k}: ['{v}']\n"))
        .collect();
    let targets: String = targets.iter().map(|t| format!("'{t}', ")).collect();
    format!(
        "  - job_name: {job}\n    scrape_interval: 2s\n    scrape_timeout: 2s\n    metrics_path: /probe\n    params:\n{params}    static_configs:\n      \
         - targets: [{targets}]\n    relabel_configs:\n      - source_labels: [__address__]\n        \
         target_label: __param_target\n      - source_labels: [__param_target]\n        \
         target_label: instance\n      - target_label: __address__\n        replacement: '{exporter}'\n",
        targets = targets.trim_end_matches(", ")
    )
}

/// A tiny HTTP server on 127.0.0.1 answering every request with one fixed body (a page for Chromium, a metrics
/// text for Prometheus), until dropped.
#[derive(Debug)]
pub struct StaticServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    stop: std::sync::Arc<core::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `body` with `content_type`.
    pub fn start(content_type: &str, body: &str) -> StaticServer {
        use core::sync::atomic::{AtomicBool, Ordering};
        setup();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind static server");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr").to_string();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let response = format!(
            "HTTP/1.0 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let s = stop.clone();
        let thread = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                        // Read the request head (bounded), then answer and close.
                        let mut head = Vec::new();
                        let mut buf = [0u8; 1024];
                        while head.len() < 16 << 10 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match conn.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        let _ = conn.write_all(response.as_bytes());
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        StaticServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, core::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
