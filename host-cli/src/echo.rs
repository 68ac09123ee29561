//! The echoscu mode: resolve, connect, associate, echo (`--repeat` times), release; one verdict, one exit code.
//!
//! Every phase is bounded: the name lookup and the connect by `-to` (default 10 s), the association by `-ta`, each
//! echo by `-td` (default 10 s), and all of it by `--deadline` (default 30 s), which the core enforces inside the
//! association and this module before it.

use core::time::Duration;

use echoprobe_core::assoc::{Config, Event, Negotiated, Violation};
use echoprobe_core::check::{CheckOptions, EchoStats, Outcome, Release};
use echoprobe_core::io::blocking;
use echoprobe_core::wire::{AeTitle, Uid};

use crate::cli::{EchoOptions, TRANSFER_SYNTAXES};
use crate::exit::{self, Failure};
use crate::link::{self, Link};
use crate::log::{core_ms, ms, Log};
use crate::net::{self, Clock, ConnectError, TcpTransport};
use crate::report::{self, Report, Rtt, Timeline};
use crate::tls::{self, ClientSetup, TlsTransport};

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

/// `host:port`, with brackets around an IPv6 address.
fn peer_label(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Bytes our A-ASSOCIATE-RQ needs at most (it is the largest PDU we send).
fn tx_len(options: &EchoOptions) -> usize {
    let ts: usize = TRANSFER_SYNTAXES
        .iter()
        .take(usize::from(options.propose_ts))
        .map(|t| 4 + t.len())
        .sum();
    let per_context = 4 + 4 + (4 + 17) + ts;
    (1024 + usize::from(options.propose_pc) * per_context).max(16 * 1024)
}

/// What the observer saw, with when (on the check's clock).
#[derive(Debug, Default)]
struct Progress {
    /// Echoes to send and whether we abort instead of releasing (`--repeat`, `--abort`).
    repeat: u32,
    abort: bool,
    accepted: Option<Duration>,
    /// Each C-ECHO-RSP's round trip and the last one's status.
    echoes: Vec<Duration>,
    status: Option<u16>,
    /// When the last C-ECHO-RSP arrived and we sent A-RELEASE-RQ; cleared if the release timed out.
    release_sent: Option<Duration>,
    /// When the A-RELEASE-RP (or the A-ABORT or close that answered the A-RELEASE-RQ) arrived.
    release_end: Option<Duration>,
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
    let mut result = blank_result(options);
    result.verdict = check_inner(clock, options, log, &mut result);
    result.total = clock.elapsed();
    result
}

/// The result of a check of `options` that has not started yet (started now).
pub(crate) fn blank_result(options: &EchoOptions) -> CheckResult {
    CheckResult {
        peer: peer_label(&options.peer, options.port),
        address: None,
        verdict: Err(Failure::Local(String::new())),
        stats: EchoStats::default(),
        negotiated: None,
        tls: None,
        total: Duration::ZERO,
        started: std::time::SystemTime::now(),
        timeline: Timeline::default(),
        status: None,
    }
}

fn check_inner(
    clock: &Clock,
    options: &EchoOptions,
    log: &Log,
    result: &mut CheckResult,
) -> Result<Release, Failure> {
    let peer = result.peer.clone();
    let ts: Vec<Uid<'static>> = TRANSFER_SYNTAXES
        .iter()
        .take(usize::from(options.propose_ts))
        .map(|t| Uid::new_unchecked(t.as_bytes()))
        .collect();
    let (mut transport, calling, called) = open(
        clock,
        options,
        log,
        result,
        &|calling, called| {
            log.info(format_args!(
            "Requesting Association with {peer}: called {called}, calling {calling}, {} presentation context{} \
             (Verification) with {} transfer syntax{}, max PDU {}",
            options.propose_pc,
            if options.propose_pc == 1 { "" } else { "s" },
            ts.len(),
            if ts.len() == 1 { "" } else { "es" },
            options.max_pdu,
        ));
            for t in &ts {
                log.debug(format_args!("  proposed transfer syntax {t}"));
            }
        },
    )?;

    let mut config = Config::requestor(calling, called);
    config.transfer_syntaxes = &ts;
    config.presentation_contexts = options.propose_pc;
    config.acse_timeout = net::to_core(options.acse_timeout);
    // DCMTK's -ta is also its ARTIM: it bounds the wait for the peer to close after a
    // release or reject, like every other association-control wait.
    config.artim_timeout = net::to_core(options.acse_timeout);
    config.dimse_timeout = net::to_core(options.dimse_timeout);
    let limits = CheckOptions {
        repeat: options.repeat,
        abort_at_end: options.abort,
        deadline: options.deadline.map(|d| clock.at(d)),
    };
    let mut rx = vec![0u8; options.max_pdu as usize + 6];
    let mut tx = vec![0u8; tx_len(options)];
    let mut progress = Progress {
        repeat: options.repeat,
        abort: options.abort,
        ..Progress::default()
    };
    let associating = clock.elapsed();
    let report = blocking::check(&mut transport, config, limits, &mut rx, &mut tx, |ev| {
        observe(log, &mut progress, clock.elapsed(), ev);
    });
    transport.close();
    let timeline = &mut result.timeline;
    timeline.associate = progress.accepted.map(|t| t.saturating_sub(associating));
    timeline.echoes = core::mem::take(&mut progress.echoes);
    result.status = progress.status;
    let report = report.map_err(|e| transport.driver_failure(&peer, e))?;
    result.stats = report.stats;
    result.negotiated = report.negotiated;
    result.timeline.release = progress
        .release_end
        .zip(progress.release_sent)
        .map(|(end, sent)| end.saturating_sub(sent));
    verdict(
        report.outcome,
        &peer,
        options,
        progress.accepted.is_some(),
        Exchange::Echo,
    )
}

/// Opens the check's connection as `options` say: the AE titles checked, the TLS files read, the name resolved, the
/// connection made (and the TLS handshake done), each bounded by its timeout and the deadline, recording the address,
/// the connect and TLS times and the TLS session in `result`. `announce` logs what is about to be requested (called
/// with the AE titles after the name lookup, before connecting). The echo and the find check both start here.
pub(crate) fn open(
    clock: &Clock,
    options: &EchoOptions,
    log: &Log,
    result: &mut CheckResult,
    announce: &dyn Fn(&AeTitle, &AeTitle),
) -> Result<(Link, AeTitle, AeTitle), Failure> {
    let peer = result.peer.clone();
    let remaining = || options.deadline.map(|d| d.saturating_sub(clock.elapsed()));
    let deadline_failure = |phase| Failure::Deadline {
        peer: peer.clone(),
        deadline: net::to_core(options.deadline.unwrap_or_default()),
        phase,
    };

    let calling = AeTitle::new(&options.calling)
        .map_err(|e| Failure::Usage(format!("calling AE title: {e}")))?;
    let called = AeTitle::new(&options.called)
        .map_err(|e| Failure::Usage(format!("called AE title: {e}")))?;

    // TLS files are read before any network traffic: a bad file is exit code 84 whatever the peer does.
    let tls = match &options.tls {
        Some(t) => {
            let wait = tls::PasswordWait::within(
                remaining(),
                deadline_failure("while waiting for the private key password on stdin (+ps)"),
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
    let lookup_limit = Some(remaining().map_or(options.connect_timeout, |left| {
        left.min(options.connect_timeout)
    }));
    let addrs = match net::resolve(&options.peer, options.port, options.family, lookup_limit) {
        Ok(addrs) => addrs,
        Err(ConnectError::ResolveTimeout) if remaining().is_some_and(|l| l.is_zero()) => {
            return Err(deadline_failure("while resolving the peer name"))
        }
        Err(ConnectError::ResolveTimeout) => {
            return Err(Failure::ConnectTimeout {
                peer,
                timeout: net::to_core(options.connect_timeout),
            })
        }
        Err(ConnectError::Resolve(e)) => {
            return Err(Failure::Local(format!(
                "cannot resolve '{}': {e}",
                options.peer
            )))
        }
        Err(e) => {
            return Err(Failure::Local(format!(
                "cannot resolve '{}': {e:?}",
                options.peer
            )))
        }
    };
    result.address = addrs.first().copied();
    if addrs.len() > 1 {
        let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        log.debug(format_args!(
            "{} resolves to {}",
            options.peer,
            list.join(", ")
        ));
    }

    announce(&calling, &called);

    // Connect, bounded by -to and the deadline.
    let (timeout, by_deadline) = match remaining() {
        Some(left) if left <= options.connect_timeout => (left, true),
        _ => (options.connect_timeout, false),
    };
    if timeout.is_zero() {
        return Err(deadline_failure("before connecting"));
    }
    let started = clock.elapsed();
    let connected = net::connect_any(&addrs, timeout, options.socket_timeout, |a, e| {
        log.info(format_args!(
            "Cannot connect to {a} ({}), trying the next address",
            match e {
                ConnectError::Unreachable(e) | ConnectError::Local(e) => e.to_string(),
                other => format!("{other:?}"),
            }
        ));
    });
    let (stream, addr) = match connected {
        Ok(s) => s,
        Err(ConnectError::Timeout) if by_deadline => {
            return Err(deadline_failure("while connecting"))
        }
        Err(ConnectError::Timeout) => {
            return Err(Failure::ConnectTimeout {
                peer,
                timeout: net::to_core(options.connect_timeout),
            })
        }
        Err(ConnectError::Unreachable(e)) => {
            return Err(Failure::Unreachable {
                peer,
                detail: e.to_string(),
            })
        }
        Err(ConnectError::Reset) => {
            return Err(Failure::ClosedByPeer {
                peer,
                phase: "right after accepting it (connection reset)",
            })
        }
        Err(ConnectError::Local(e)) => {
            return Err(Failure::Local(format!("cannot connect to {peer}: {e}")))
        }
        Err(e) => return Err(Failure::Local(format!("cannot connect to {peer}: {e:?}"))),
    };
    result.address = Some(addr);
    result.timeline.connect = Some(clock.elapsed().saturating_sub(started));
    log.info(format_args!(
        "Connected to {addr} in {}",
        ms(clock.elapsed().saturating_sub(started))
    ));

    let tcp_dump = if tls.is_some() {
        None
    } else {
        log.dump_prefix()
    };
    let tcp = TcpTransport::new(stream, *clock, tcp_dump)
        .map_err(|e| Failure::Local(format!("socket setup failed: {e}")))?;
    let transport = match &tls {
        None => Link::Tcp(tcp),
        Some(setup) => {
            let started = clock.elapsed();
            let (link, session) = handshake(clock, options, log, &peer, tcp, setup)?;
            result.timeline.tls = Some(clock.elapsed().saturating_sub(started));
            result.tls = Some(session);
            link
        }
    };
    Ok((transport, calling, called))
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

/// Logs one event at -v / -d and keeps track of how far we got and when (`now`).
fn observe(log: &Log, progress: &mut Progress, now: Duration, ev: &Event) {
    if progress.release_sent.is_some() && progress.release_end.is_none() {
        match ev {
            Event::Released | Event::Aborted(_) | Event::Closed => progress.release_end = Some(now),
            Event::Timeout(_) => progress.release_sent = None,
            _ => {}
        }
    }
    match ev {
        Event::Accepted(n) => {
            progress.accepted = Some(now);
            log.info(format_args!(
                "Association Accepted: context {}, {}, {} of {} contexts accepted, peer max PDU {}, our max PDU {}",
                n.pc_id,
                n.transfer_syntax,
                n.accepted_contexts,
                n.proposed_contexts,
                max_pdu_text(n.peer_max_pdu),
                n.our_max_pdu
            ));
            log.info(format_args!(
                "Peer implementation: class {}, version {}",
                n.peer_implementation_class, n.peer_implementation_version
            ));
        }
        Event::EchoResponse {
            message_id,
            status,
            rtt,
        } => {
            progress.echoes.push(Duration::from_micros(rtt.as_micros()));
            progress.status = Some(*status);
            // The last echo (all sent, or a failure status) is followed by A-RELEASE-RQ, unless we abort.
            let last = *status != 0 || progress.echoes.len() >= progress.repeat as usize;
            if last && !progress.abort {
                progress.release_sent = Some(now);
            }
            log.info(format_args!(
                "Received Echo Response (MsgID {message_id}): status 0x{status:04X} ({}), rtt {}",
                exit::status_text(*status),
                core_ms(*rtt)
            ));
        }
        Event::Rejected(rj) => log.info(format_args!("Association Rejected: {rj}")),
        Event::NoPresentationContext => log.info("No Acceptable Presentation Contexts"),
        Event::Released => log.info("Association Released"),
        Event::Aborted(a) => log.info(format_args!("Peer Aborted Association: {a}")),
        Event::Violation { kind, abort } => match abort {
            Some(a) => log.info(format_args!(
                "Protocol violation by peer: {kind}; sent A-ABORT {a}"
            )),
            None => log.info(format_args!("Protocol violation by peer: {kind}")),
        },
        Event::Timeout(t) => log.info(format_args!("Timeout: {t}")),
        Event::Closed => log.info("Peer closed the connection"),
        Event::ReleaseRequested => log.info("Peer requested release"),
        Event::AssociationRequested { .. } | Event::EchoRequest { .. } | Event::Find(_) => {}
    }
}

fn max_pdu_text(n: u32) -> String {
    if n == 0 {
        "unlimited".to_string()
    } else {
        n.to_string()
    }
}

/// The hint for a plain client that a TLS server did not answer (the reverse of the TLS client's "is it a plain DICOM
/// port?"); [`verdict`] adds it to the close (71) or the TLS record (69) that came instead of an A-ASSOCIATE-AC/RJ.
macro_rules! tls_port_hint {
    () => {
        "is it a TLS port? try +tls"
    };
}

/// What the association was for, for the words of the verdict: the echo, or the find check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exchange {
    Echo,
    Find,
}

impl Exchange {
    fn during(self) -> &'static str {
        match self {
            Exchange::Echo => "while echoing",
            Exchange::Find => "while querying",
        }
    }

    fn before_answer(self) -> &'static str {
        match self {
            Exchange::Echo => "before the C-ECHO-RSP",
            Exchange::Find => "before the final C-FIND-RSP",
        }
    }

    fn incomplete(self) -> &'static str {
        match self {
            Exchange::Echo => "association ended before the echo completed",
            Exchange::Find => "association ended before the find completed",
        }
    }
}

/// The core's outcome as our verdict (`accepted`: the association got that far).
pub(crate) fn verdict(
    outcome: Outcome,
    peer: &str,
    options: &EchoOptions,
    accepted: bool,
    exchange: Exchange,
) -> Result<Release, Failure> {
    let peer = peer.to_string();
    // A plain connection whose A-ASSOCIATE-RQ got no DICOM answer: the peer may be a TLS server (a DCMTK one closes,
    // a rustls one answers with a TLS alert). Said only then, so that it cannot mislead on other failures.
    let plain_unanswered = options.tls.is_none() && !accepted;
    Err(match outcome {
        Outcome::Healthy(release) => return Ok(release),
        Outcome::Rejected(rj) => Failure::Rejected {
            peer,
            detail: rj.to_string(),
        },
        Outcome::NoPresentationContext => Failure::NoPresentationContext { peer },
        Outcome::AcseTimeout => Failure::AcseTimeout {
            peer,
            timeout: net::to_core(options.acse_timeout),
        },
        Outcome::DimseTimeout if exchange == Exchange::Find => Failure::FindTimeout {
            peer,
            timeout: net::to_core(options.dimse_timeout),
        },
        Outcome::DimseTimeout => Failure::DimseTimeout {
            peer,
            timeout: net::to_core(options.dimse_timeout),
        },
        Outcome::DeadlineExceeded => Failure::Deadline {
            peer,
            deadline: net::to_core(options.deadline.unwrap_or_default()),
            phase: if accepted {
                exchange.during()
            } else {
                "while associating"
            },
        },
        Outcome::Aborted(a) => Failure::Aborted {
            peer,
            detail: a.to_string(),
        },
        Outcome::FailureStatus { status, message_id } => Failure::EchoStatus {
            peer,
            status,
            message_id,
        },
        // A TLS record (alert 0x15, handshake 0x16) where the A-ASSOCIATE-AC/RJ should be: a TLS server's answer.
        Outcome::Violation(v @ Violation::UnrecognizedPdu(0x15 | 0x16)) if plain_unanswered => {
            Failure::Violation {
                peer,
                detail: format!("{v} (sent A-ABORT), a TLS record; {}", tls_port_hint!()),
            }
        }
        Outcome::Violation(v) => Failure::Violation {
            peer,
            detail: format!("{v} (sent A-ABORT)"),
        },
        Outcome::ClosedByPeer => Failure::ClosedByPeer {
            peer,
            phase: match (accepted, plain_unanswered) {
                (true, _) => exchange.before_answer(),
                (false, true) => concat!("before answering the A-ASSOCIATE-RQ; ", tls_port_hint!()),
                (false, false) => "before answering the A-ASSOCIATE-RQ",
            },
        },
        Outcome::Incomplete => Failure::Violation {
            peer,
            detail: exchange.incomplete().into(),
        },
    })
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
        let bare = |d| core_ms(d).trim_end_matches(" ms").to_string();
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
    let pdu = r
        .negotiated
        .map_or_else(|| "?".to_string(), |n| max_pdu_text(n.peer_max_pdu));
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
