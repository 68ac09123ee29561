//! The echoscu mode: resolve, connect, associate, echo (`--repeat` times), release; one verdict, one exit code.
//!
//! Every phase is bounded: the name lookup and the connect by `-to` (default 10 s), the association by `-ta`, each
//! echo by `-td` (default 10 s), and all of it by `--deadline` (default 30 s), which the core enforces inside the
//! association and this module before it.

use core::time::Duration;

use echoprobe_core::assoc::Negotiated;
use echoprobe_core::check::{EchoStats, Release};
use echoprobe_core::io::blocking;

use crate::cli::EchoOptions;
use crate::exit::{self, Failure};
use crate::link::{self, Link};
use crate::log::{core_ms, ms, Log};
use crate::net::{self, Clock, TcpTransport};
use crate::report::{self, Report, Rtt, Timeline};
use crate::tls::{self, ClientSetup, TlsTransport};

mod steps;

#[cfg(test)]
use steps::tx_len;
pub(crate) use steps::{
    driver_failure, max_pdu_text, observe, peer_label, verdict, Exchange, Plan,
};

/// What one check found.
#[derive(Debug)]
pub struct CheckResult {
    /// `host:port` as given (IPv6 in brackets).
    pub peer: String,
    /// The address connected to, once resolved.
    pub address: Option<core::net::SocketAddr>,
    /// Healthy (with how the association ended) or why not.
    pub verdict: Result<Release, Failure>,
    /// Echo round trips.
    pub stats: EchoStats,
    /// What the association settled on, if it got that far.
    pub negotiated: Option<Negotiated>,
    /// The TLS session, for a check over TLS that got through the handshake.
    pub tls: Option<tls::Session>,
    /// From start to verdict.
    pub total: Duration,
    /// When the check started (wall clock).
    pub started: std::time::SystemTime,
    /// How long each phase took, each echo's round trip included.
    pub timeline: Timeline,
    /// The status of the last C-ECHO-RSP, if one arrived.
    pub status: Option<u16>,
}

impl CheckResult {
    /// A check of `options`'s peer starting now, with no verdict yet.
    pub(crate) fn starting(options: &EchoOptions) -> Self {
        Self::failed(
            peer_label(&options.peer, options.port),
            Failure::Local(String::new()),
        )
    }

    /// A check of `peer` that ended with `failure` before any traffic.
    pub(crate) fn failed(peer: String, failure: Failure) -> Self {
        CheckResult {
            peer,
            address: None,
            verdict: Err(failure),
            stats: EchoStats::default(),
            negotiated: None,
            tls: None,
            total: Duration::ZERO,
            started: std::time::SystemTime::now(),
            timeline: Timeline::default(),
            status: None,
        }
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        match &self.verdict {
            Ok(_) => exit::HEALTHY,
            Err(f) => f.code(),
        }
    }
}

/// Runs the echoscu mode as the command does: the check, then its verdict printed (summary or JSON on stdout, errors
/// on stderr). `prog` names the program in messages; `translated` is the argument list `--arguments` shows. Returns
/// the exit code.
pub fn run(prog: &str, options: &EchoOptions, translated: &[String]) -> u8 {
    let log = Log::new(prog, options.verbosity);
    if let Some(config) = &options.log_config {
        if let Err(f) = crate::log::configure(&log, config) {
            // A usage error like those of the command line: with --json, its report too.
            let started = std::time::SystemTime::now();
            report::print_failure(prog, &f, options.json.then_some(started));
            return f.code();
        }
    }
    if options.show_arguments {
        let list: Vec<String> = translated.iter().map(|a| format!("'{a}'")).collect();
        crate::log::stderr_line(format_args!(
            "I: calling '{prog}' with {} arguments: {}",
            translated.len(),
            list.join(" ")
        ));
    }
    let clock = Clock::start();
    let result = check_with(&clock, options, &log);
    print_result(&log, options, &result);
    result.code()
}

/// One echo check as `options` say: resolve, connect, (TLS,) associate, echo, release. Nothing is printed but the
/// progress `options.verbosity` asks for on stderr; the verdict is in the result, the exit code is
/// [`CheckResult::code`].
pub fn check(options: &EchoOptions) -> CheckResult {
    let log = Log::new("echoprobe", options.verbosity);
    check_with(&Clock::start(), options, &log)
}

/// The check itself, without printing the verdict, on `clock` and printing progress through `log`.
pub(crate) fn check_with(clock: &Clock, options: &EchoOptions, log: &Log) -> CheckResult {
    let mut result = CheckResult::starting(options);
    result.verdict = check_inner(clock, options, log, &mut result);
    result.total = clock.elapsed();
    result
}

fn check_inner(
    clock: &Clock,
    options: &EchoOptions,
    log: &Log,
    result: &mut CheckResult,
) -> Result<Release, Failure> {
    let plan = Plan::new(options)?;
    let peer = plan.peer.clone();
    let mut transport = open(clock, &plan, log, result, || plan.announce(log))?;
    let (mut rx, mut tx) = plan.buffers();
    let mut progress = plan.progress();
    let associating = clock.elapsed();
    let report = blocking::check(
        &mut transport,
        plan.config(),
        plan.limits(clock),
        &mut rx,
        &mut tx,
        |ev| observe(log, &mut progress, clock.elapsed(), ev),
    );
    transport.close();
    plan.conclude(result, progress, associating, report, |e| {
        transport.failure(&peer, e)
    })
}

/// Opens the check's connection as `plan` says: the TLS files read, the name resolved, the connection made (and the
/// TLS handshake done), each bounded by its timeout and the deadline, recording the address, the connect and TLS
/// times and the TLS session in `result`. `announce` logs what is about to be requested (called after the name
/// lookup, before connecting). The echo and the find check both start here.
pub(crate) fn open(
    clock: &Clock,
    plan: &Plan<'_>,
    log: &Log,
    result: &mut CheckResult,
    announce: impl FnOnce(),
) -> Result<Link, Failure> {
    let options = plan.options;
    let peer = &plan.peer;

    // TLS files are read before any network traffic: a bad file is exit code 84 whatever the peer does.
    let tls = match &options.tls {
        Some(t) => {
            let wait = tls::PasswordWait::within(
                plan.remaining(clock),
                plan.deadline_failure("while waiting for the private key password on stdin (+ps)"),
            );
            let setup = ClientSetup::new(t, &wait)?;
            for note in &setup.notes {
                log.info(format_args!("TLS: {note}"));
            }
            Some(setup)
        }
        None => None,
    };

    // Name lookup, bounded by the connect timeout and the deadline.
    let limit = Some(plan.lookup_limit(clock));
    let addrs = net::resolve(&options.peer, options.port, options.family, limit)
        .map_err(|e| plan.resolve_failure(clock, e))?;
    plan.found(log, result, &addrs);
    announce();

    // Connect, bounded by -to and the deadline.
    let (timeout, by_deadline) = plan.connect_limit(clock)?;
    let started = clock.elapsed();
    let (stream, addr) = net::connect_any(&addrs, timeout, options.socket_timeout, |a, e| {
        Plan::retrying(log, a, e)
    })
    .map_err(|e| plan.connect_failure(by_deadline, e))?;
    plan.connected(log, clock, started, addr, result);

    let tcp_dump = if tls.is_some() {
        None
    } else {
        log.dump_prefix()
    };
    let tcp = TcpTransport::new(stream, *clock, tcp_dump)
        .map_err(|e| Failure::Local(format!("socket setup failed: {e}")))?;
    Ok(match &tls {
        None => Link::Tcp(tcp),
        Some(setup) => {
            let started = clock.elapsed();
            let (link, session) = handshake(clock, options, log, peer, tcp, setup)?;
            result.timeline.tls = Some(clock.elapsed().saturating_sub(started));
            result.tls = Some(session);
            link
        }
    })
}

/// The TLS handshake over a connected `tcp`, bounded by the ACSE timeout and the overall deadline.
fn handshake(
    clock: &Clock,
    options: &EchoOptions,
    log: &Log,
    peer: &str,
    tcp: TcpTransport,
    setup: &ClientSetup,
) -> Result<(Link, tls::Session), Failure> {
    let started = clock.elapsed();
    let t = TlsTransport::client(tcp, setup, &options.peer, log.dump_prefix())?;
    let acse = tls::after(&t, options.acse_timeout);
    let (limit, by_deadline) = match options.deadline.map(|d| clock.at(d)) {
        Some(deadline) if deadline < acse => (deadline, true),
        _ => (acse, false),
    };
    let side = link::Side::Client {
        peer,
        acse_timeout: options.acse_timeout,
        deadline: options.deadline.filter(|_| by_deadline),
    };
    let (link, session) = link::handshake(t, limit, &side)?;
    log.info(format_args!(
        "TLS handshake done in {}: {session}",
        ms(clock.elapsed().saturating_sub(started))
    ));
    Ok((link, session))
}

fn release_warning(release: Release) -> Option<&'static str> {
    match release {
        Release::Released | Release::AbortedByUs => None,
        Release::ClosedByPeer => {
            Some("peer closed the connection instead of answering A-RELEASE-RQ")
        }
        Release::AbortedByPeer => Some("peer sent A-ABORT instead of answering A-RELEASE-RQ"),
        Release::TimedOut => Some("peer did not answer A-RELEASE-RQ in time (we aborted)"),
    }
}

fn rtt_text(stats: &EchoStats) -> String {
    let n = stats.ok.max(1);
    if stats.sent <= 1 {
        format!("rtt {}", core_ms(stats.max_rtt))
    } else {
        let avg =
            echoprobe_core::time::Duration::from_micros(stats.total_rtt.as_micros() / u64::from(n));
        let bare = |d| core_ms(d).to_string().trim_end_matches(" ms").to_string();
        format!(
            "rtt min/avg/max {}/{}/{} ms",
            bare(stats.min_rtt),
            bare(avg),
            bare(stats.max_rtt)
        )
    }
}

/// The summary line (without the program name) of a healthy check.
fn summary(options: &EchoOptions, r: &CheckResult) -> String {
    let echoes = if r.stats.ok == 1 {
        "1 echo".to_string()
    } else {
        format!("{} echoes", r.stats.ok)
    };
    let pdu = r.negotiated.map_or_else(
        || "?".to_string(),
        |n| max_pdu_text(n.peer_max_pdu).to_string(),
    );
    let tls = r
        .tls
        .as_ref()
        .map_or_else(String::new, |t| format!(", {}", t.version));
    format!(
        "{} {} <- {}: healthy, {echoes}, {}, max PDU {pdu}{tls} (total {})",
        r.peer,
        options.called,
        options.calling,
        rtt_text(&r.stats),
        ms(r.total)
    )
}

/// The `--json` report of a check.
pub(crate) fn to_report(options: &EchoOptions, r: &CheckResult) -> Report {
    let (result, message, warning) = match &r.verdict {
        Ok(release) => (
            exit::End::Healthy.result(),
            summary(options, r),
            release_warning(*release),
        ),
        Err(f) => (f.kind(), f.to_string(), None),
    };
    let n = r.negotiated;
    Report {
        timestamp: report::rfc3339(r.started),
        peer: Some(r.peer.clone()),
        address: r.address.map(|a| a.to_string()),
        called: Some(options.called.clone()),
        calling: Some(options.calling.clone()),
        healthy: r.verdict.is_ok(),
        exit_code: r.code(),
        result,
        message,
        warning: warning.map(str::to_string),
        echoes_sent: r.stats.sent,
        echoes_ok: r.stats.ok,
        echoes_answered: u32::try_from(r.timeline.echoes.len()).unwrap_or(u32::MAX),
        rtt_ms: Rtt::over(&r.timeline.echoes),
        dimse_status: r.status,
        dimse_status_hex: r.status.map(report::status_hex),
        peer_max_pdu: n.map(|n| n.peer_max_pdu),
        transfer_syntax: n.map(|n| n.transfer_syntax.to_string()),
        peer_implementation_class_uid: n.map(|n| n.peer_implementation_class.to_string()),
        peer_implementation_version: n.map(|n| n.peer_implementation_version.to_string()),
        tls: r.tls.as_ref().map(|t| report::Tls {
            version: t.version.clone(),
            cipher_suite: t.suite.clone(),
            peer_certificates: t.peer_certificates,
        }),
        total_ms: Some(report::millis(r.total)),
        timeline_ms: (&r.timeline).into(),
    }
}

/// Prints the verdict: summary (stdout) or JSON (stdout), warnings and errors (stderr).
pub(crate) fn print_result(log: &Log, options: &EchoOptions, r: &CheckResult) {
    match &r.verdict {
        Ok(release) => {
            if let Some(w) = release_warning(*release) {
                log.warn(format_args!("{}: {w}", r.peer));
            }
            if options.json {
                crate::log::stdout_line(format_args!("{}", to_report(options, r).to_json()));
            } else if log.verbosity > crate::log::Verbosity::Quiet {
                crate::log::stdout_line(format_args!("{}: {}", log.prog, summary(options, r)));
            }
        }
        Err(failure) => {
            log.error(failure);
            if options.json {
                crate::log::stdout_line(format_args!("{}", to_report(options, r).to_json()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{self, Invocation};

    fn options(args: &[&str]) -> EchoOptions {
        match cli::parse("echoprobe", args.iter().map(|s| s.to_string()).collect()) {
            Ok(Invocation::Echo(options, _)) => options,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn labels_and_sizes() {
        assert_eq!(peer_label("::1", 104), "[::1]:104");
        assert_eq!(peer_label("pacs", 104), "pacs:104");
        assert_eq!(tx_len(&options(&["h", "1"])), 16 * 1024);
        // 128 contexts of 38 transfer syntaxes: well above the default.
        assert!(tx_len(&options(&["-ppc", "128", "-pts", "38", "h", "1"])) > 128 * 38 * 22);
    }

    #[test]
    fn refused_connection_is_63_and_json_says_so() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let echo_options = options(&["--json", "127.0.0.1", &port.to_string()]);
        let log = Log::new("echoprobe", echo_options.verbosity);
        let r = check_with(&Clock::start(), &echo_options, &log);
        assert_eq!(r.code(), 63, "{r:?}");
        let j = to_report(&echo_options, &r).to_json();
        assert!(j.contains("\"result\":\"unreachable\""), "{j}");
        assert!(j.contains("\"healthy\":false,\"exit_code\":63"), "{j}");
    }

    #[test]
    fn silent_peer_is_an_acse_timeout_or_the_deadline() {
        // A listener that never answers: the kernel completes the connect, nobody reads.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let log = Log::new("echoprobe", crate::log::Verbosity::Quiet);

        let echo_options = options(&["-ta", "0.2", "127.0.0.1", &port]);
        let r = check_with(&Clock::start(), &echo_options, &log);
        assert_eq!(r.code(), 66, "{r:?}");
        assert!(r.total < Duration::from_secs(2), "{r:?}");

        let echo_options = options(&["--deadline", "0.2", "127.0.0.1", &port]);
        let r = check_with(&Clock::start(), &echo_options, &log);
        assert_eq!(r.code(), 72, "{r:?}");
        assert!(r.total < Duration::from_secs(2), "{r:?}");
    }
}
