//! The daemon's check: the CLI's check (the same plan, observer, timeline and verdict mapping: `echo::Plan` for an
//! echo, `find::FindPlan` for a find) with tokio's I/O under the core's async driver, over TCP or tokio-rustls with the
//! CLI's TLS configuration. A check told to stop sends A-ABORT (once it has connected) and closes.

use core::future::Future;
use core::net::SocketAddr;
use core::pin::{pin, Pin};
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;

use echoprobe_config::{Check, QueryModel};
use echoprobe_core::check::Release;
use echoprobe_core::io::asynch;
use echoprobe_core::time::Instant;
use echoprobe_core::wire::Abort;
use embedded_io_adapters::tokio_1::FromTokio;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::cli::{self, EchoOptions, FindOptions, Invocation};
use crate::echo::{observe, CheckResult, Plan};
use crate::exit::{self, Failure};
use crate::find::{self, FindPlan, FindResult};
use crate::link::transport_failure;
use crate::log::{Log, Verbosity};
use crate::net::{self, AddressWalk, Clock, ConnectError};
use crate::tls::{self, ClientSetup};

/// How long closing (close_notify, FIN) and a stopping A-ABORT may take.
const CLOSE_BOUND: Duration = Duration::from_millis(200);

/// A target's check, settled once when the configuration is loaded: the CLI's options (made by the CLI's own parser
/// from the configured settings, so every value means what it means on the command line) and the TLS configuration.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) options: EchoOptions,
    /// A find check's options (their `link` is `options`); `None` for an echo.
    find: Option<Box<FindOptions>>,
    tls: Option<ClientSetup>,
}

/// Why a configured check cannot be prepared: a find key that the command line's parser refuses (the key in its
/// table, e.g. `query[1]`, and why), or the CLI's failure (a bad TLS file is exit code 84's text).
#[derive(Debug)]
pub(crate) enum Unprepared {
    Key(String, String),
    Check(Failure),
}

impl From<Failure> for Unprepared {
    fn from(f: Failure) -> Self {
        Unprepared::Check(f)
    }
}

impl Unprepared {
    /// The message for the table `at` (`target[3]`, `module.tls`, `defaults`), with the target's name if it is one.
    pub(crate) fn at(&self, at: &str, name: Option<&str>) -> String {
        match (self, name) {
            (Unprepared::Key(key, message), _) => format!("`{at}.{key}`: {message}"),
            (Unprepared::Check(f), Some(name)) => format!("`{at}` ({name}): {f}"),
            (Unprepared::Check(f), None) => format!("`{at}`: {f}"),
        }
    }

    /// As the failure of a check that could not start (`/probe`).
    pub(crate) fn failure(self) -> Failure {
        match self {
            Unprepared::Key(key, message) => Failure::Usage(format!("`{key}`: {message}")),
            Unprepared::Check(f) => f,
        }
    }
}

impl Prepared {
    /// The check of `address` with `settings`.
    pub(crate) fn new(
        address: &str,
        settings: &echoprobe_config::Settings,
    ) -> Result<Prepared, Unprepared> {
        let mut args = match &settings.check {
            Check::Echo => Vec::new(),
            Check::Find(f) => find_arguments(f)?,
        };
        args.extend(arguments(address, settings));
        let (options, find) = match cli::parse("echoprobe", args)? {
            Invocation::Echo(options, _) => (options, None),
            Invocation::Find(find, _) => (find.link.clone(), Some(Box::new(find))),
            _ => return Err(Failure::Local("not an echo or find check".into()).into()),
        };
        if let Some(f) = &find {
            if f.min_matches > f.max_matches {
                let default = match &settings.check {
                    Check::Find(c) if c.max_matches.is_none() => " (the default)",
                    _ => "",
                };
                return Err(Unprepared::Key(
                    "min_matches".into(),
                    format!(
                        "{} is above max_matches {}{default}: the query stops there, so the check could never be \
                         healthy",
                        f.min_matches, f.max_matches
                    ),
                ));
            }
        }
        // The daemon passes `-pw` (no password): nothing is read from stdin, the wait is never used.
        let wait = tls::PasswordWait::within(None, Failure::Local(String::new()));
        let tls = options
            .tls
            .as_ref()
            .map(|t| ClientSetup::new(t, &wait))
            .transpose()?;
        Ok(Prepared { options, find, tls })
    }
}

/// The `echoprobe find` options of a find check, each key checked by the command line's own parser first so that a
/// bad one is named by its place in the file.
fn find_arguments(f: &echoprobe_config::Find) -> Result<Vec<String>, Unprepared> {
    let model = match f.model {
        QueryModel::Study => "-S",
        QueryModel::Patient => "-P",
        QueryModel::Worklist => "-W",
    };
    let mut a: Vec<String> = vec!["find".into(), model.into()];
    for (i, key) in f.query.iter().enumerate() {
        cli::parse_key(key)
            .map_err(|m| Unprepared::Key(format!("query[{i}]"), format!("`{key}`: {m}")))?;
        a.push("-k".into());
        a.push(key.clone());
    }
    if let Some(r) = &f.require {
        cli::parse_required(r)
            .map_err(|m| Unprepared::Key("require".into(), format!("`{r}`: {m}")))?;
        a.push("--require".into());
        a.push(r.clone());
    }
    for (option, n) in [
        ("--min-matches", f.min_matches),
        ("--max-matches", f.max_matches),
    ] {
        if let Some(n) = n {
            a.push(option.into());
            a.push(n.to_string());
        }
    }
    Ok(a)
}

/// Milliseconds as the CLI's seconds.
fn secs(ms: u32) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// The command line that checks `address` with `settings`.
fn arguments(address: &str, s: &echoprobe_config::Settings) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "-aet".into(),
        s.calling_ae.clone(),
        "-aec".into(),
        s.called_ae.clone(),
        "-to".into(),
        secs(s.connect_timeout_ms),
        "-ta".into(),
        secs(s.acse_timeout_ms),
        "-td".into(),
        secs(s.dimse_timeout_ms),
        "--deadline".into(),
        s.deadline_ms.map_or_else(|| "0".into(), secs),
    ];
    if let Some(t) = &s.tls {
        match &t.identity {
            Some((key, cert)) => {
                a.push("+tls".into());
                a.push(key.display().to_string());
                a.push(cert.display().to_string());
                a.push("-pw".into());
            }
            None => a.push("+tla".into()),
        }
        for f in &t.ca_files {
            a.push("+cf".into());
            a.push(f.display().to_string());
        }
        a.push(
            match t.profile {
                echoprobe_config::Profile::Bcp195Nd => "+py",
                echoprobe_config::Profile::Bcp195 => "+px",
                echoprobe_config::Profile::Bcp195Ex => "+pz",
            }
            .into(),
        );
        if t.verify_host_name {
            a.push("--verify-host-name".into());
        }
    }
    a.push(address.into());
    a.push(s.port.to_string());
    a
}

/// The core's async clock on tokio's timers, with the check's origin.
struct TokioClock(Clock);

impl asynch::Clock for TokioClock {
    fn now(&self) -> Instant {
        self.0.now()
    }

    fn sleep_until(&self, at: Instant) -> impl Future<Output = ()> {
        let when = self.0.origin() + Duration::from_micros(at.as_micros());
        tokio::time::sleep_until(when.into())
    }
}

/// The connection under the driver.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A task's stop as its checks wait for it: true once the target is removed or changed, or the daemon stops. Made
/// once per task, so its wait for the change stays registered from check to check and from phase to phase (one
/// registration per task, not one per phase of every check).
pub(crate) struct Stop {
    rx: watch::Receiver<bool>,
    /// Completes when `rx` says true (or its sender is gone); `None` once it has.
    wait: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

impl Stop {
    pub(crate) fn new(rx: watch::Receiver<bool>) -> Stop {
        let mut waiting = rx.clone();
        let wait = Box::pin(async move {
            let _ = waiting.wait_for(|s| *s).await;
        });
        Stop {
            rx,
            wait: Some(wait),
        }
    }

    /// Whether it has said stop.
    pub(crate) fn is_stopped(&self) -> bool {
        self.wait.is_none() || *self.rx.borrow()
    }

    fn poll_stopped(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.wait {
            None => Poll::Ready(()),
            Some(wait) => {
                let done = wait.as_mut().poll(cx);
                if done.is_ready() {
                    self.wait = None;
                }
                done
            }
        }
    }

    /// `work`'s output, or `None` when the stop comes first. `work` is pinned by the caller: a future taken by value
    /// would be stored twice in the caller's state (as the argument and as the pinned local), several KB for a check.
    pub(crate) async fn until<F: Future>(&mut self, mut work: Pin<&mut F>) -> Option<F::Output> {
        core::future::poll_fn(|cx| {
            if let Poll::Ready(r) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(r));
            }
            self.poll_stopped(cx).map(|()| None)
        })
        .await
    }
}

/// The failure of a check cut short by the daemon stopping.
fn stopping() -> Failure {
    Failure::Local("the daemon is stopping".into())
}

/// The daemon's log for a check: nothing (the verdict and its reason are what it keeps).
fn quiet() -> Log {
    Log::new("echoprobe", Verbosity::Quiet)
}

/// Runs one check of `target` (an echo or a find, as configured); `stop` turning true aborts it (A-ABORT once
/// connected, then close). `addrs`: the addresses to try, already resolved (`None`: resolve the target's host).
pub(crate) async fn check(
    target: &Prepared,
    stop: &mut Stop,
    addrs: Option<Vec<SocketAddr>>,
) -> CheckResult {
    let clock = Clock::start();
    match &target.find {
        None => {
            let mut result = CheckResult::starting(&target.options);
            result.verdict = echo(&clock, target, &mut result, stop, addrs).await;
            result.total = clock.elapsed();
            result
        }
        Some(options) => {
            let mut result = FindResult::starting(options);
            result.check.verdict = query(&clock, target, options, &mut result, stop, addrs).await;
            result.check.total = clock.elapsed();
            result.check
        }
    }
}

async fn echo(
    clock: &Clock,
    target: &Prepared,
    result: &mut CheckResult,
    stop: &mut Stop,
    addrs: Option<Vec<SocketAddr>>,
) -> Result<Release, Failure> {
    let log = quiet();
    let plan = Plan::new(&target.options)?;
    let stream = open(clock, target, &plan, &log, result, stop, addrs, || {
        plan.announce(&log);
    })
    .await?;
    let (rx_len, tx_len) = plan.buffer_lens();
    let (mut rx, mut tx) = (spare::take(rx_len), spare::take(tx_len));
    let mut progress = plan.progress();
    let associating = clock.elapsed();
    let report = drive(clock, stream, stop, async |io, at| {
        let (config, limits) = (plan.config(), plan.limits(clock));
        asynch::check(io, at, config, limits, &mut rx, &mut tx, |ev| {
            observe(&log, &mut progress, clock.elapsed(), ev);
        })
        .await
    })
    .await?;
    spare::give([rx, tx]);
    plan.conclude(result, progress, associating, report, |e| {
        io_failure(target, &plan.peer, e)
    })
}

/// A find check: the echo's connection, then the CLI's find (`find::FindPlan`) under the core's async driver.
async fn query(
    clock: &Clock,
    target: &Prepared,
    options: &FindOptions,
    result: &mut FindResult,
    stop: &mut Stop,
    addrs: Option<Vec<SocketAddr>>,
) -> Result<Release, Failure> {
    let log = quiet();
    let plan = FindPlan::new(options)?;
    let stream = open(
        clock,
        target,
        &plan.link,
        &log,
        &mut result.check,
        stop,
        addrs,
        || plan.announce(&log),
    )
    .await?;
    let (rx_len, tx_len, find_len) = plan.buffer_lens();
    let (mut rx, mut tx, mut find_buf) = (
        spare::take(rx_len),
        spare::take(tx_len),
        spare::take(find_len),
    );
    let mut progress = find::Progress::default();
    let associating = clock.elapsed();
    let report = drive(clock, stream, stop, async |io, at| {
        let (config, query) = (plan.config(), plan.query(clock));
        let (rx, tx, found) = (&mut rx, &mut tx, &mut find_buf);
        asynch::find(io, at, config, query, rx, tx, found, |ev, found| {
            find::observe(&log, &mut progress, clock.elapsed(), ev, found);
        })
        .await
    })
    .await?;
    spare::give([rx, tx, find_buf]);
    plan.conclude(result, progress, associating, report, |e| {
        io_failure(target, &plan.link.peer, e)
    })
}

/// Buffers kept between checks on this thread: a check's receive buffer (16 KiB by default) is allocated and
/// zeroed once, not per check. A reused buffer keeps old bytes, which the core never reads (it reads only what it
/// received or wrote). At most [`spare::KEEP`] are kept; a check that fails before the driver keeps nothing back.
mod spare {
    use core::cell::RefCell;

    /// Buffers kept at most.
    pub(super) const KEEP: usize = 32;

    thread_local! {
        static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    /// A buffer of `len` bytes: the smallest kept one that holds it, else a new one.
    pub(super) fn take(len: usize) -> Vec<u8> {
        let mut v = SPARE
            .with(|s| {
                let mut s = s.borrow_mut();
                let fit = (0..s.len())
                    .filter(|&i| s[i].capacity() >= len)
                    .min_by_key(|&i| s[i].capacity());
                fit.map(|i| s.swap_remove(i))
            })
            .unwrap_or_default();
        v.resize(len, 0);
        v
    }

    /// Keeps `buffers` for the next checks.
    pub(super) fn give<const N: usize>(buffers: [Vec<u8>; N]) {
        SPARE.with(|s| {
            let mut s = s.borrow_mut();
            for b in buffers {
                if s.len() < KEEP {
                    s.push(b);
                }
            }
        });
    }
}

/// Resolves (unless `addrs` are given), connects and does the TLS handshake as `plan` says, each bounded as the
/// CLI's and cut short by `stop`, recording the address, the connect and TLS times and the session in `result`.
/// `announce` logs the association about to be requested.
#[allow(clippy::too_many_arguments)]
async fn open(
    clock: &Clock,
    target: &Prepared,
    plan: &Plan<'_>,
    log: &Log,
    result: &mut CheckResult,
    stop: &mut Stop,
    addrs: Option<Vec<SocketAddr>>,
    announce: impl FnOnce(),
) -> Result<Stream, Failure> {
    let reach = async {
        let addrs = match addrs {
            Some(addrs) => addrs,
            None => resolve(plan.options, plan.lookup_limit(clock))
                .await
                .map_err(|e| plan.resolve_failure(clock, e))?,
        };
        let (timeout, by_deadline) = plan.connect_limit(clock)?;
        let started = clock.elapsed();
        let (tcp, addr) = connect_any(log, &addrs, timeout)
            .await
            .map_err(|e| plan.connect_failure(by_deadline, e))?;
        Ok::<_, Failure>((addrs, started, tcp, addr))
    };
    let (addrs, started, tcp, addr) = stop.until(pin!(reach)).await.ok_or_else(stopping)??;
    plan.found(log, result, &addrs);
    announce();
    plan.connected(log, clock, started, addr, result);

    match &target.tls {
        None => Ok(Stream::Tcp(tcp)),
        Some(setup) => {
            let started = clock.elapsed();
            let (tls, session) = stop
                .until(pin!(handshake(clock, plan, setup, tcp)))
                .await
                .ok_or_else(stopping)??;
            result.timeline.tls = Some(clock.elapsed().saturating_sub(started));
            result.tls = Some(session);
            Ok(tls)
        }
    }
}

/// Runs the core's driver (`work`, given the connection and the clock) until it ends or `stop` turns true, then
/// closes the connection (see [`close`]).
async fn drive<T>(
    clock: &Clock,
    stream: Stream,
    stop: &mut Stop,
    work: impl AsyncFnOnce(&mut FromTokio<Stream>, &TokioClock) -> T,
) -> Result<T, Failure> {
    let async_clock = TokioClock(*clock);
    let mut io = FromTokio::new(stream);
    let report = stop.until(pin!(work(&mut io, &async_clock))).await;
    close(io.into_inner(), report).await
}

/// Closes the connection after the driver (after a stop, with an A-ABORT first; each step bounded) and passes its
/// report on, or the stop's failure.
async fn close<T>(mut stream: Stream, report: Option<T>) -> Result<T, Failure> {
    if report.is_none() {
        let mut pdu = [0u8; 10];
        if let Ok(n) = Abort::USER.emit(&mut pdu) {
            let abort = pdu.get(..n).unwrap_or_default();
            let _ = tokio::time::timeout(CLOSE_BOUND, stream.write_all(abort)).await;
        }
    }
    if let Stream::Tls(_) = stream {
        let _ = tokio::time::timeout(CLOSE_BOUND, stream.shutdown()).await;
    }
    report.ok_or_else(stopping)
}

/// A transport error of the driver as the verdict: a TLS one as the CLI classifies it, else the plain one's.
fn io_failure(target: &Prepared, peer: &str, e: &io::Error) -> Failure {
    match &target.tls {
        Some(setup) if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => {
            let (error, detail) = tls::classify_client_io(Some(setup), e, false);
            Failure::Tls {
                peer: peer.to_string(),
                error,
                detail,
            }
        }
        _ => transport_failure(peer, e),
    }
}

/// The peer's addresses: an IP literal at once, a name on the blocking pool (the CLI's resolver, with its bound).
async fn resolve(options: &EchoOptions, limit: Duration) -> Result<Vec<SocketAddr>, ConnectError> {
    let (host, port, family) = (options.peer.clone(), options.port, options.family);
    if host.parse::<core::net::IpAddr>().is_ok() {
        return net::resolve(&host, port, family, Some(limit));
    }
    tokio::task::spawn_blocking(move || net::resolve(&host, port, family, Some(limit)))
        .await
        .unwrap_or_else(|e| Err(ConnectError::Resolve(format!("resolver task failed: {e}"))))
}

/// Connects to the first of `addrs` that answers, all within `timeout` together, as the CLI does
/// (`net::AddressWalk`): refused or unreachable addresses give way to the next.
async fn connect_any(
    log: &Log,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let start = tokio::time::Instant::now();
    let mut walk = AddressWalk::new(addrs, timeout);
    loop {
        let (addr, left) = walk.next(start.elapsed())?;
        match tokio::time::timeout(left, TcpStream::connect(addr)).await {
            Err(_) => return Err(ConnectError::Timeout),
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, addr));
            }
            Ok(Err(e)) => {
                if let Some(e) = walk.failed(net::connect_error(e))? {
                    Plan::retrying(log, addr, e);
                }
            }
        }
    }
}

/// The TLS handshake over `tcp`, bounded by the ACSE timeout and the deadline, as the CLI's.
async fn handshake(
    clock: &Clock,
    plan: &Plan<'_>,
    setup: &ClientSetup,
    tcp: TcpStream,
) -> Result<(Stream, tls::Session), Failure> {
    let options = plan.options;
    let name = tls::server_name(setup, &options.peer)?;
    let connector = tokio_rustls::TlsConnector::from(setup.config());
    let acse = options.acse_timeout;
    let (limit, by_deadline) = match plan.remaining(clock) {
        Some(left) if left < acse => (left, true),
        _ => (acse, false),
    };
    match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => {
            let session = tls::session_of(s.get_ref().1);
            Ok((Stream::Tls(Box::new(s)), session))
        }
        Err(_) if by_deadline => Err(plan.deadline_failure("during the TLS handshake")),
        Err(_) => Err(Failure::Tls {
            peer: plan.peer.clone(),
            error: exit::TlsError::Timeout,
            detail: format!(
                "the TLS handshake did not complete within {} (ACSE timeout)",
                exit::Secs(net::to_core(acse))
            ),
        }),
        Ok(Err(e)) => {
            let (error, detail) = tls::classify_client_io(Some(setup), &e, true);
            Err(Failure::Tls {
                peer: plan.peer.clone(),
                error,
                detail,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_the_cli_options() {
        let mut s = echoprobe_config::Settings {
            port: 11112,
            called_ae: "STORESCP".into(),
            deadline_ms: Some(2500),
            ..Default::default()
        };
        let p = Prepared::new("127.0.0.1", &s).unwrap();
        let o = &p.options;
        assert_eq!((o.peer.as_str(), o.port), ("127.0.0.1", 11112));
        assert_eq!(o.called, "STORESCP");
        assert_eq!(o.calling, "ECHOSCU");
        assert_eq!(o.connect_timeout, Duration::from_secs(5));
        assert_eq!(o.acse_timeout, Duration::from_secs(5));
        assert_eq!(o.dimse_timeout, Duration::from_secs(5));
        assert_eq!(o.deadline, Some(Duration::from_millis(2500)));
        assert!(o.tls.is_none());
        s.deadline_ms = None;
        assert_eq!(Prepared::new("::1", &s).unwrap().options.deadline, None);
        // A TLS file that is not there is the CLI's error, when the configuration is loaded.
        s.tls = Some(echoprobe_config::Tls {
            identity: Some(("/nonexistent/k.pem".into(), "/nonexistent/c.pem".into())),
            ca_files: vec!["/nonexistent/ca.pem".into()],
            ..Default::default()
        });
        let e = Prepared::new("127.0.0.1", &s).unwrap_err().failure();
        assert_eq!(e.code(), exit::TLS_LOCAL_FILES, "{e}");
    }

    fn find_settings(query: &[&str]) -> echoprobe_config::Find {
        echoprobe_config::Find {
            model: QueryModel::Study,
            query: query.iter().map(|k| k.to_string()).collect(),
            min_matches: None,
            max_matches: None,
            require: None,
        }
    }

    fn with_find(find: echoprobe_config::Find) -> echoprobe_config::Settings {
        echoprobe_config::Settings {
            port: 11112,
            called_ae: "QRSCP".into(),
            check: Check::Find(find),
            ..Default::default()
        }
    }

    /// A find target's settings become `echoprobe find`'s options, made by its own parser: the level added, the
    /// required key added as a return key, the keys in tag order, the command line's default bounds.
    #[test]
    fn find_settings_become_the_find_options() {
        let s = with_find(echoprobe_config::Find {
            require: Some("PatientID=P1".into()),
            ..find_settings(&["StudyInstanceUID=1.2.3"])
        });
        let p = Prepared::new("127.0.0.1", &s).unwrap();
        let f = p.find.as_ref().unwrap();
        assert_eq!(f.link, p.options);
        assert_eq!(
            (p.options.called.as_str(), p.options.port),
            ("QRSCP", 11112)
        );
        assert_eq!(f.model, cli::Model::StudyRoot);
        let keys: Vec<(String, &str)> = f
            .keys
            .iter()
            .map(|k| (k.name(), k.value.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("QueryRetrieveLevel".to_string(), "STUDY"),
                ("PatientID".to_string(), ""),
                ("StudyInstanceUID".to_string(), "1.2.3"),
            ]
        );
        assert_eq!(
            (f.min_matches, f.max_matches),
            (1, cli::DEFAULT_MAX_MATCHES)
        );
        assert_eq!(f.require.as_ref().map(|k| k.value.as_str()), Some("P1"));

        let s = with_find(echoprobe_config::Find {
            model: QueryModel::Worklist,
            min_matches: Some(0),
            max_matches: Some(3),
            ..find_settings(&["0008,0050=A1", "patientid"])
        });
        let f = Prepared::new("127.0.0.1", &s).unwrap().find.unwrap();
        assert_eq!(f.model, cli::Model::Worklist);
        assert_eq!((f.min_matches, f.max_matches), (0, 3));
        let names: Vec<String> = f.keys.iter().map(cli::Key::name).collect();
        assert_eq!(names, ["AccessionNumber", "PatientID"]);
        // An echo has none.
        let echo = Prepared::new("127.0.0.1", &echoprobe_config::Settings::default()).unwrap();
        assert!(echo.find.is_none());
    }

    /// What the command line's parser refuses is named by its place in the file.
    #[test]
    fn bad_find_keys_are_named_by_their_key() {
        let message = |find: echoprobe_config::Find| {
            Prepared::new("127.0.0.1", &with_find(find))
                .unwrap_err()
                .at("target[2]", Some("pacs"))
        };
        let m = message(find_settings(&["PatientID", "Nope=1"]));
        assert!(
            m.starts_with("`target[2].query[1]`: `Nope=1`: unknown key 'Nope': give a tag"),
            "{m}"
        );
        let m = message(find_settings(&["0002,0010=1"]));
        assert!(
            m.starts_with(
                "`target[2].query[0]`: `0002,0010=1`: 0002,0010 is a command or file meta element"
            ),
            "{m}"
        );
        let m = message(echoprobe_config::Find {
            require: Some("PatientID".into()),
            ..find_settings(&["PatientID"])
        });
        assert_eq!(
            m,
            "`target[2].require`: `PatientID`: --require takes KEY=VALUE with a value"
        );
        let m = message(echoprobe_config::Find {
            min_matches: Some(101),
            ..find_settings(&["PatientID"])
        });
        assert!(
            m.starts_with("`target[2].min_matches`: 101 is above max_matches 100 (the default): the query stops there"),
            "{m}"
        );
        let m = message(echoprobe_config::Find {
            min_matches: Some(6),
            max_matches: Some(5),
            ..find_settings(&["PatientID"])
        });
        assert!(m.contains("6 is above max_matches 5: "), "{m}");
        // As the failure of a /probe that could not start: a usage error.
        let e = Prepared::new("h", &with_find(find_settings(&["Nope"])))
            .unwrap_err()
            .failure();
        assert_eq!(e.code(), exit::USAGE, "{e}");
        // The CLI's own failures keep their table's message.
        let s = echoprobe_config::Settings {
            tls: Some(echoprobe_config::Tls {
                ca_files: vec!["/nonexistent/ca.pem".into()],
                ..Default::default()
            }),
            ..with_find(find_settings(&["PatientID"]))
        };
        let m = Prepared::new("h", &s).unwrap_err().at("module.tls", None);
        assert!(m.starts_with("`module.tls`: "), "{m}");
    }

    /// A check of `settings` against a peer that reads and never answers, stopped after 200 ms: the result, how long
    /// it went on after the stop, and all the peer read until EOF.
    async fn stopped_midway(
        settings: echoprobe_config::Settings,
    ) -> (CheckResult, Duration, Vec<u8>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = echoprobe_config::Settings {
            port: listener.local_addr().unwrap().port(),
            acse_timeout_ms: 10_000,
            ..settings
        };
        let p = Prepared::new("127.0.0.1", &s).unwrap();
        let (tx, stop) = watch::channel(false);
        let peer = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut all)).await;
            all
        });
        let stopping = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            tx.send(true).unwrap();
            std::time::Instant::now()
        };
        let mut stop = Stop::new(stop);
        let (r, t0) = tokio::join!(check(&p, &mut stop, None), stopping);
        let after_stop = t0.elapsed();
        (r, after_stop, peer.await.unwrap())
    }

    /// Stopping a find in the middle: the peer reads our A-ASSOCIATE-RQ (proposing the model's FIND context), then
    /// our A-ABORT, then EOF, as for an echo.
    #[tokio::test]
    async fn stop_aborts_a_find() {
        let (r, after_stop, got) = stopped_midway(with_find(find_settings(&["PatientID"]))).await;
        assert!(after_stop < Duration::from_secs(1));
        assert_eq!(r.code(), exit::LOCAL, "{r:?}");
        assert_eq!(got.first(), Some(&1), "A-ASSOCIATE-RQ first");
        let study_root_find = b"1.2.840.10008.5.1.4.1.2.2.1";
        assert!(got
            .windows(study_root_find.len())
            .any(|w| w == study_root_find));
        assert_eq!(&got[got.len() - 10..], &[7, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    }

    /// A find target whose peer refuses the connection: the same verdict as the echo's (the link is the echo's).
    #[tokio::test]
    async fn a_find_of_a_closed_port_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = echoprobe_config::Settings {
            port,
            ..with_find(find_settings(&["PatientID"]))
        };
        let p = Prepared::new("127.0.0.1", &s).unwrap();
        let (_tx, stop) = watch::channel(false);
        let r = check(&p, &mut Stop::new(stop), None).await;
        assert_eq!(r.code(), exit::UNREACHABLE, "{r:?}");
        assert!(r.timeline.find.is_none());
    }

    #[tokio::test]
    async fn refused_is_the_cli_verdict() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = echoprobe_config::Settings {
            port,
            ..Default::default()
        };
        let p = Prepared::new("127.0.0.1", &s).unwrap();
        let (_tx, stop) = watch::channel(false);
        let r = check(&p, &mut Stop::new(stop), None).await;
        assert_eq!(r.code(), exit::UNREACHABLE, "{r:?}");
        let text = r.verdict.unwrap_err().to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    }

    /// One `Stop` serves one phase after another: work that ends first is its output, the stop ends the phase it
    /// comes in, and every later phase at once (its wait has completed and is not polled again).
    #[tokio::test]
    async fn one_stop_serves_phase_after_phase() {
        // Bounded: a stop that is never seen would otherwise hang the test instead of failing it.
        tokio::time::timeout(Duration::from_secs(10), phase_after_phase())
            .await
            .expect("a phase did not end at the stop");
    }

    async fn phase_after_phase() {
        let (tx, rx) = watch::channel(false);
        let mut stop = Stop::new(rx);
        assert_eq!(stop.until(pin!(async { 7 })).await, Some(7));
        assert!(!stop.is_stopped());
        let stopping = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.send(true).unwrap();
        };
        let never = pin!(core::future::pending::<u8>());
        let (cut, ()) = tokio::join!(stop.until(never), stopping);
        assert_eq!(cut, None);
        assert!(stop.is_stopped());
        let later = tokio::time::sleep(Duration::from_secs(5));
        let t0 = std::time::Instant::now();
        assert_eq!(stop.until(pin!(later)).await, None);
        assert!(t0.elapsed() < Duration::from_secs(1));
        // A sender gone is a stop too.
        let (tx, rx) = watch::channel(false);
        let mut stop = Stop::new(rx);
        drop(tx);
        assert_eq!(stop.until(pin!(core::future::pending::<()>())).await, None);
    }

    #[tokio::test]
    async fn a_silent_peer_is_an_acse_timeout_and_stop_aborts() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = echoprobe_config::Settings {
            port,
            acse_timeout_ms: 200,
            ..Default::default()
        };
        let p = Prepared::new("127.0.0.1", &s).unwrap();
        let (_tx, stop) = watch::channel(false);
        let r = check(&p, &mut Stop::new(stop), None).await;
        assert_eq!(r.code(), exit::ACSE_TIMEOUT, "{r:?}");
        assert!(r.total < Duration::from_secs(2), "{r:?}");

        // Stopping in the middle: the peer reads the A-ASSOCIATE-RQ, then our A-ABORT (type 7), then EOF.
        let (r, after_stop, got) = stopped_midway(echoprobe_config::Settings::default()).await;
        assert!(after_stop < Duration::from_secs(1));
        assert_eq!(r.code(), exit::LOCAL, "{r:?}");
        assert_eq!(got.first(), Some(&1), "A-ASSOCIATE-RQ first");
        assert_eq!(&got[got.len() - 10..], &[7, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    }
}
