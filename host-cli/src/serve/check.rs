//! The daemon's check: the CLI's check (the same plan, observer, timeline and verdict mapping, `echo::Plan`) with
//! tokio's I/O under the core's async driver, over TCP or tokio-rustls with the CLI's TLS configuration. A check
//! told to stop sends A-ABORT (once it has connected) and closes.

use core::future::Future;
use core::net::SocketAddr;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;

use echoprobe_core::check::Release;
use echoprobe_core::io::asynch;
use echoprobe_core::time::Instant;
use echoprobe_core::wire::Abort;
use embedded_io_adapters::tokio_1::FromTokio;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::cli::{self, EchoOptions, Invocation};
use crate::echo::{observe, CheckResult, Plan};
use crate::exit::{self, Failure};
use crate::link::transport_failure;
use crate::log::{Log, Verbosity};
use crate::net::{self, Clock, ConnectError};
use crate::tls::{self, ClientSetup};

/// How long closing (close_notify, FIN) and a stopping A-ABORT may take.
const CLOSE_BOUND: Duration = Duration::from_millis(200);

/// A target's check, settled once when the configuration is loaded: the CLI's options (made by the CLI's own parser
/// from the configured settings, so every value means what it means on the command line) and the TLS configuration.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) options: EchoOptions,
    tls: Option<ClientSetup>,
}

impl Prepared {
    /// The check of `address` with `settings`: an error is the CLI's (a bad TLS file is exit code 84's text).
    pub(crate) fn new(
        address: &str,
        settings: &echoprobe_config::Settings,
    ) -> Result<Prepared, Failure> {
        let args = arguments(address, settings);
        let options = match cli::parse("echoprobe", args)? {
            Invocation::Echo(options, _) => options,
            _ => return Err(Failure::Local("not an echo check".into())),
        };
        // The daemon passes `-pw` (no password): nothing is read from stdin, the wait is never used.
        let wait = tls::PasswordWait::within(None, Failure::Local(String::new()));
        let tls = options
            .tls
            .as_ref()
            .map(|t| ClientSetup::new(t, &wait))
            .transpose()?;
        Ok(Prepared { options, tls })
    }
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

/// Completes once `stop` says true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The failure of a check cut short by the daemon stopping.
fn stopping() -> Failure {
    Failure::Local("the daemon is stopping".into())
}

/// Runs one check of `target`; `stop` turning true aborts it (A-ABORT once connected, then close). `addrs`: the
/// addresses to try, already resolved (`None`: resolve the target's host).
pub(crate) async fn check(
    target: &Prepared,
    stop: &watch::Receiver<bool>,
    addrs: Option<Vec<SocketAddr>>,
) -> CheckResult {
    let clock = Clock::start();
    let mut result = CheckResult::starting(&target.options);
    result.verdict = run(&clock, target, &mut result, stop, addrs).await;
    result.total = clock.elapsed();
    result
}

async fn run(
    clock: &Clock,
    target: &Prepared,
    result: &mut CheckResult,
    stop: &watch::Receiver<bool>,
    addrs: Option<Vec<SocketAddr>>,
) -> Result<Release, Failure> {
    let options = &target.options;
    let log = Log::new("echoprobe", Verbosity::Quiet);
    let plan = Plan::new(options)?;
    let peer = plan.peer.clone();

    let reach = async {
        let addrs = match addrs {
            Some(addrs) => addrs,
            None => resolve(options, plan.lookup_limit(clock))
                .await
                .map_err(|e| plan.resolve_failure(clock, e))?,
        };
        let (timeout, by_deadline) = plan.connect_limit(clock)?;
        let started = clock.elapsed();
        let (tcp, addr) = connect_any(&log, &addrs, timeout)
            .await
            .map_err(|e| plan.connect_failure(by_deadline, e))?;
        Ok::<_, Failure>((addrs, started, tcp, addr))
    };
    let (addrs, started, tcp, addr) = tokio::select! {
        r = reach => r?,
        () = stopped(stop.clone()) => return Err(stopping()),
    };
    plan.resolved(&log, result, &addrs);
    plan.connected(&log, clock, started, addr, result);

    let stream = match &target.tls {
        None => Stream::Tcp(tcp),
        Some(setup) => {
            let started = clock.elapsed();
            let handshake = handshake(clock, &plan, setup, tcp);
            let (tls, session) = tokio::select! {
                r = handshake => r?,
                () = stopped(stop.clone()) => return Err(stopping()),
            };
            result.timeline.tls = Some(clock.elapsed().saturating_sub(started));
            result.tls = Some(session);
            tls
        }
    };

    let (mut rx, mut tx) = plan.buffers();
    let mut progress = plan.progress();
    let associating = clock.elapsed();
    let async_clock = TokioClock(*clock);
    let mut io = FromTokio::new(stream);
    let report = {
        let checking = asynch::check(
            &mut io,
            &async_clock,
            plan.config(),
            plan.limits(clock),
            &mut rx,
            &mut tx,
            |ev| observe(&log, &mut progress, clock.elapsed(), ev),
        );
        tokio::select! {
            r = checking => Some(r),
            () = stopped(stop.clone()) => None,
        }
    };
    let mut stream = io.into_inner();
    let Some(report) = report else {
        let mut pdu = [0u8; 10];
        if let Ok(n) = Abort::USER.emit(&mut pdu) {
            let abort = pdu.get(..n).unwrap_or_default();
            let _ = tokio::time::timeout(CLOSE_BOUND, stream.write_all(abort)).await;
        }
        let _ = tokio::time::timeout(CLOSE_BOUND, stream.shutdown()).await;
        return Err(stopping());
    };
    let _ = tokio::time::timeout(CLOSE_BOUND, stream.shutdown()).await;
    plan.conclude(result, progress, associating, report, |e| match &stream {
        Stream::Tls(_) if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => {
            let (error, detail) = tls::classify_client_io(target.tls.as_ref(), e, false);
            Failure::Tls {
                peer: peer.clone(),
                error,
                detail,
            }
        }
        _ => transport_failure(&peer, e),
    })
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
/// (`net::connect_any`): refused or unreachable addresses give way to the next.
async fn connect_any(
    log: &Log,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let start = tokio::time::Instant::now();
    let mut last = ConnectError::Resolve("no address".into());
    for (i, addr) in addrs.iter().enumerate() {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(ConnectError::Timeout);
        }
        let attempt = match tokio::time::timeout(left, TcpStream::connect(addr)).await {
            Err(_) => return Err(ConnectError::Timeout),
            Ok(r) => r.map_err(net::connect_error),
        };
        match attempt {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok((s, *addr));
            }
            Err(e @ (ConnectError::Unreachable(_) | ConnectError::Local(_))) => {
                if i + 1 < addrs.len() {
                    Plan::retrying(log, *addr, &e);
                }
                last = e;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
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
        let e = Prepared::new("127.0.0.1", &s).unwrap_err();
        assert_eq!(e.code(), exit::TLS_LOCAL_FILES, "{e}");
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
        let r = check(&p, &stop, None).await;
        assert_eq!(r.code(), exit::UNREACHABLE, "{r:?}");
        let text = r.verdict.unwrap_err().to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
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
        let (tx, stop) = watch::channel(false);
        let r = check(&p, &stop, None).await;
        assert_eq!(r.code(), exit::ACSE_TIMEOUT, "{r:?}");
        assert!(r.total < Duration::from_secs(2), "{r:?}");

        // Stopping in the middle: the peer reads the A-ASSOCIATE-RQ, then our A-ABORT (type 7), then EOF.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = echoprobe_config::Settings {
            port: listener.local_addr().unwrap().port(),
            acse_timeout_ms: 10_000,
            ..Default::default()
        };
        let p = Prepared::new("127.0.0.1", &s).unwrap();
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
        let (r, t0) = tokio::join!(check(&p, &stop, None), stopping);
        assert!(t0.elapsed() < Duration::from_secs(1));
        assert_eq!(r.code(), exit::LOCAL, "{r:?}");
        let got = peer.await.unwrap();
        assert_eq!(got.first(), Some(&1), "A-ASSOCIATE-RQ first");
        assert_eq!(&got[got.len() - 10..], &[7, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    }
}
