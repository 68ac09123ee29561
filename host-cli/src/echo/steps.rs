//! What the blocking check (the CLI) and the async one (the daemon) share: the plan made before any traffic (AE
//! titles, transfer syntaxes, buffers, limits), the failures of name lookup and connect, the event observer with its
//! timeline, and the mapping of the core's report to the verdict. Only the I/O differs between the two.

use core::net::SocketAddr;
use core::time::Duration;

use echoprobe_core::assoc::{Config, Event, Violation};
use echoprobe_core::check::{CheckOptions, Outcome, Release};
use echoprobe_core::io::{Error as DriverError, Report as DriverReport};
use echoprobe_core::wire::{AeTitle, Uid};

use crate::cli::{EchoOptions, TRANSFER_SYNTAXES};
use crate::exit::{self, Failure};
use crate::log::{core_ms, Log};
use crate::net::{self, Clock, ConnectError};

use super::CheckResult;

/// A check settled before any network traffic: the titles, the proposed transfer syntaxes, and the options.
pub(crate) struct Plan<'o> {
    pub(crate) options: &'o EchoOptions,
    /// `host:port` (IPv6 in brackets).
    pub(crate) peer: String,
    calling: AeTitle,
    called: AeTitle,
    ts: Vec<Uid<'static>>,
}

impl<'o> Plan<'o> {
    /// Checks the AE titles (a bad one is a usage error, before any traffic).
    pub(crate) fn new(options: &'o EchoOptions) -> Result<Self, Failure> {
        let calling = AeTitle::new(&options.calling)
            .map_err(|e| Failure::Usage(format!("calling AE title: {e}")))?;
        let called = AeTitle::new(&options.called)
            .map_err(|e| Failure::Usage(format!("called AE title: {e}")))?;
        let ts = TRANSFER_SYNTAXES
            .iter()
            .take(usize::from(options.propose_ts))
            .map(|t| Uid::new_unchecked(t.as_bytes()))
            .collect();
        Ok(Plan {
            options,
            peer: peer_label(&options.peer, options.port),
            calling,
            called,
            ts,
        })
    }

    /// Time left before the deadline (`None`: no deadline).
    pub(crate) fn remaining(&self, clock: &Clock) -> Option<Duration> {
        self.options
            .deadline
            .map(|d| d.saturating_sub(clock.elapsed()))
    }

    /// The deadline passed in `phase`.
    pub(crate) fn deadline_failure(&self, phase: &'static str) -> Failure {
        Failure::Deadline {
            peer: self.peer.clone(),
            deadline: net::to_core(self.options.deadline.unwrap_or_default()),
            phase,
        }
    }

    /// The name lookup's bound: the connect timeout and the deadline.
    pub(crate) fn lookup_limit(&self, clock: &Clock) -> Duration {
        let timeout = self.options.connect_timeout;
        self.remaining(clock)
            .map_or(timeout, |left| left.min(timeout))
    }

    /// A failed name lookup as the verdict.
    pub(crate) fn resolve_failure(&self, clock: &Clock, e: ConnectError) -> Failure {
        let o = self.options;
        match e {
            ConnectError::ResolveTimeout if self.remaining(clock).is_some_and(|l| l.is_zero()) => {
                self.deadline_failure("while resolving the peer name")
            }
            ConnectError::ResolveTimeout => Failure::ConnectTimeout {
                peer: self.peer.clone(),
                timeout: net::to_core(o.connect_timeout),
            },
            ConnectError::Resolve(e) => Failure::Local(format!("cannot resolve '{}': {e}", o.peer)),
            e => Failure::Local(format!("cannot resolve '{}': {e:?}", o.peer)),
        }
    }

    /// Notes the addresses found (the first in `result`).
    pub(crate) fn found(&self, log: &Log, result: &mut CheckResult, addrs: &[SocketAddr]) {
        result.address = addrs.first().copied();
        if addrs.len() > 1 {
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            log.debug(format_args!(
                "{} resolves to {}",
                self.options.peer,
                list.join(", ")
            ));
        }
    }

    /// Logs the echo's association request about to be made.
    pub(crate) fn announce(&self, log: &Log) {
        let o = self.options;
        log.info(format_args!(
            "Requesting Association with {}: called {}, calling {}, {} presentation context{} \
             (Verification) with {} transfer syntax{}, max PDU {}",
            self.peer,
            self.called,
            self.calling,
            o.propose_pc,
            if o.propose_pc == 1 { "" } else { "s" },
            self.ts.len(),
            if self.ts.len() == 1 { "" } else { "es" },
            o.max_pdu,
        ));
        for t in &self.ts {
            log.debug(format_args!("  proposed transfer syntax {t}"));
        }
    }

    /// The calling and called AE titles.
    pub(crate) fn titles(&self) -> (AeTitle, AeTitle) {
        (self.calling, self.called)
    }

    /// The connect's bound (the connect timeout or what is left of the deadline) and whether it is the deadline's.
    pub(crate) fn connect_limit(&self, clock: &Clock) -> Result<(Duration, bool), Failure> {
        let (timeout, by_deadline) = match self.remaining(clock) {
            Some(left) if left <= self.options.connect_timeout => (left, true),
            _ => (self.options.connect_timeout, false),
        };
        if timeout.is_zero() {
            return Err(self.deadline_failure("before connecting"));
        }
        Ok((timeout, by_deadline))
    }

    /// Logs an address given up on before trying the next.
    pub(crate) fn retrying(log: &Log, addr: SocketAddr, e: &ConnectError) {
        log.info(format_args!(
            "Cannot connect to {addr} ({}), trying the next address",
            match e {
                ConnectError::Unreachable(e) | ConnectError::Local(e) => e.to_string(),
                other => format!("{other:?}"),
            }
        ));
    }

    /// A failed connect as the verdict (`by_deadline`: the bound was the deadline's).
    pub(crate) fn connect_failure(&self, by_deadline: bool, e: ConnectError) -> Failure {
        let peer = self.peer.clone();
        match e {
            ConnectError::Timeout if by_deadline => self.deadline_failure("while connecting"),
            ConnectError::Timeout => Failure::ConnectTimeout {
                peer,
                timeout: net::to_core(self.options.connect_timeout),
            },
            ConnectError::Unreachable(e) => Failure::Unreachable {
                peer,
                detail: e.to_string(),
            },
            ConnectError::Reset => Failure::ClosedByPeer {
                peer,
                phase: "right after accepting it (connection reset)",
            },
            ConnectError::Local(e) => Failure::Local(format!("cannot connect to {peer}: {e}")),
            e => Failure::Local(format!("cannot connect to {peer}: {e:?}")),
        }
    }

    /// Notes the connection in `result` and the log (`started`: when the connect began, on `clock`).
    pub(crate) fn connected(
        &self,
        log: &Log,
        clock: &Clock,
        started: Duration,
        addr: SocketAddr,
        result: &mut CheckResult,
    ) {
        let took = clock.elapsed().saturating_sub(started);
        result.address = Some(addr);
        result.timeline.connect = Some(took);
        log.info(format_args!(
            "Connected to {addr} in {}",
            crate::log::Ms(took)
        ));
    }

    /// The association's configuration.
    pub(crate) fn config(&self) -> Config<'_> {
        let o = self.options;
        let mut config = Config::requestor(self.calling, self.called);
        config.transfer_syntaxes = &self.ts;
        config.presentation_contexts = o.propose_pc;
        config.acse_timeout = net::to_core(o.acse_timeout);
        // DCMTK's -ta is also its ARTIM: it bounds the wait for the peer to close after a
        // release or reject, like every other association-control wait.
        config.artim_timeout = net::to_core(o.acse_timeout);
        config.dimse_timeout = net::to_core(o.dimse_timeout);
        config
    }

    /// The check's limits, the deadline on `clock`.
    pub(crate) fn limits(&self, clock: &Clock) -> CheckOptions {
        CheckOptions {
            repeat: self.options.repeat,
            abort_at_end: self.options.abort,
            deadline: self.options.deadline.map(|d| clock.at(d)),
        }
    }

    /// The receive and transmit buffers (the receive one sized by our max PDU).
    pub(crate) fn buffers(&self) -> (Vec<u8>, Vec<u8>) {
        let (rx, tx) = self.buffer_lens();
        (vec![0u8; rx], vec![0u8; tx])
    }

    /// The lengths of [`Plan::buffers`]: the largest PDU we accept with its header, and our largest PDU.
    pub(crate) fn buffer_lens(&self) -> (usize, usize) {
        (self.options.max_pdu as usize + 6, tx_len(self.options))
    }

    /// The observer's starting state.
    pub(crate) fn progress(&self) -> Progress {
        Progress {
            repeat: self.options.repeat,
            abort: self.options.abort,
            ..Progress::default()
        }
    }

    /// After the driver: the timeline and statistics into `result`, the driver's report as the verdict
    /// (`associating`: when the association began; `transport`: a transport error as a failure).
    pub(crate) fn conclude<E>(
        &self,
        result: &mut CheckResult,
        mut progress: Progress,
        associating: Duration,
        report: Result<DriverReport, DriverError<E>>,
        transport: impl FnOnce(&E) -> Failure,
    ) -> Result<Release, Failure> {
        let timeline = &mut result.timeline;
        timeline.associate = progress.accepted.map(|t| t.saturating_sub(associating));
        timeline.echoes = core::mem::take(&mut progress.echoes);
        result.status = progress.status;
        let report = report.map_err(|e| driver_failure(e, transport))?;
        result.stats = report.stats;
        result.negotiated = report.negotiated;
        result.timeline.release = progress
            .release_end
            .zip(progress.release_sent)
            .map(|(end, sent)| end.saturating_sub(sent));
        verdict(
            report.outcome,
            &self.peer,
            self.options,
            progress.accepted.is_some(),
            Exchange::Echo,
        )
    }
}

/// A failure of the core's driver: the transport's (`transport` maps it), or misuse of the machine (an internal
/// error, 60).
pub(crate) fn driver_failure<E>(
    e: DriverError<E>,
    transport: impl FnOnce(&E) -> Failure,
) -> Failure {
    match e {
        DriverError::Transport(e) => transport(&e),
        DriverError::Assoc(e) => Failure::Local(format!("internal error: {e}")),
    }
}

/// `host:port`, with brackets around an IPv6 address.
pub(crate) fn peer_label(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Bytes our A-ASSOCIATE-RQ needs at most (it is the largest PDU we send).
pub(crate) fn tx_len(options: &EchoOptions) -> usize {
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
pub(crate) struct Progress {
    /// Echoes to send and whether we abort instead of releasing (`--repeat`, `--abort`).
    pub(crate) repeat: u32,
    pub(crate) abort: bool,
    pub(crate) accepted: Option<Duration>,
    /// Each C-ECHO-RSP's round trip and the last one's status.
    pub(crate) echoes: Vec<Duration>,
    pub(crate) status: Option<u16>,
    /// When the last C-ECHO-RSP arrived and we sent A-RELEASE-RQ; cleared if the release timed out.
    pub(crate) release_sent: Option<Duration>,
    /// When the A-RELEASE-RP (or the A-ABORT or close that answered the A-RELEASE-RQ) arrived.
    pub(crate) release_end: Option<Duration>,
}

/// Logs one event at -v / -d and keeps track of how far we got and when (`now`).
pub(crate) fn observe(log: &Log, progress: &mut Progress, now: Duration, ev: &Event) {
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

/// A peer's maximum PDU length as shown: `unlimited` for 0 (written when shown: a quiet check formats nothing).
pub(crate) fn max_pdu_text(n: u32) -> impl core::fmt::Display {
    struct MaxPdu(u32);
    impl core::fmt::Display for MaxPdu {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self.0 {
                0 => f.write_str("unlimited"),
                n => write!(f, "{n}"),
            }
        }
    }
    MaxPdu(n)
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
