//! The one error type of the front ends: every way a run can end other than "healthy" is a [`Failure`];
//! [`Failure::code`] is its exit code and [`Failure::kind`] its `--json` result name, both from the table
//! ([`super::ROWS`]); its `Display` is the one line printed on stderr after the program name.

use core::fmt;

use echoprobe_core::dimse::StatusClass;
use echoprobe_core::time::Duration;

use super::{End, TlsError};

/// Why a run did not end healthy. The peer is `host:port` as the user gave it (or the resolved address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Bad command line; the message says what, DCMTK style.
    Usage(String),
    /// An option that is recognized but not implemented (TLS, log config files).
    Unsupported(String),
    /// Name resolution, socket creation, local I/O.
    Local(String),
    /// A-ASSOCIATE-RJ; `detail` is the result/source/reason text.
    Rejected { peer: String, detail: String },
    /// Connection refused, host or network unreachable.
    Unreachable { peer: String, detail: String },
    /// The connect did not complete within `timeout`.
    ConnectTimeout { peer: String, timeout: Duration },
    /// A-ASSOCIATE-AC without any accepted presentation context.
    NoPresentationContext { peer: String },
    /// No A-ASSOCIATE-AC/RJ within `timeout`.
    AcseTimeout { peer: String, timeout: Duration },
    /// No C-ECHO-RSP within `timeout`.
    DimseTimeout { peer: String, timeout: Duration },
    /// C-ECHO-RSP status other than 0x0000.
    EchoStatus {
        peer: String,
        status: u16,
        message_id: u16,
    },
    /// Malformed or unexpected PDU; `detail` says what and which A-ABORT we sent.
    Violation { peer: String, detail: String },
    /// A-ABORT from the peer.
    Aborted { peer: String, detail: String },
    /// TCP close by the peer before the echo completed; `phase` says when.
    ClosedByPeer { peer: String, phase: &'static str },
    /// The overall deadline passed; `phase` says during what.
    Deadline {
        peer: String,
        deadline: Duration,
        phase: &'static str,
    },
    /// A TLS failure with the peer (80..85, or 66 for a handshake timeout).
    Tls {
        peer: String,
        error: TlsError,
        detail: String,
    },
    /// Our own TLS files cannot be used (84).
    TlsFiles(String),
    /// Find: no C-FIND-RSP within `timeout` (67, the echo's DIMSE timeout row).
    FindTimeout { peer: String, timeout: Duration },
    /// Find: the association has no accepted FIND presentation context for `model` (73).
    NoFindContext { peer: String, model: &'static str },
    /// Find: the final C-FIND-RSP has a status other than success (or a cancel we did not ask for) (74).
    FindStatus {
        peer: String,
        status: u16,
        matches: u32,
    },
    /// Find: the query succeeded with `matches` matches, fewer than `min` (75).
    TooFewMatches {
        peer: String,
        matches: u32,
        min: u32,
    },
    /// Find: no match has `key` = `want` (76); `seen` is what the matches had for it (at most a few).
    RequiredValueMismatch {
        peer: String,
        key: String,
        want: String,
        seen: Vec<String>,
    },
}

impl Failure {
    /// Which row of the exit-code table this failure is.
    pub fn end(&self) -> End {
        match self {
            Failure::Usage(_) => End::Usage,
            Failure::Unsupported(_) => End::Unsupported,
            Failure::Local(_) => End::Local,
            Failure::Rejected { .. } => End::Rejected,
            Failure::Unreachable { .. } => End::Unreachable,
            Failure::ConnectTimeout { .. } => End::ConnectTimeout,
            Failure::NoPresentationContext { .. } => End::NoPresentationContext,
            Failure::AcseTimeout { .. } => End::AcseTimeout,
            Failure::DimseTimeout { .. } => End::DimseTimeout,
            Failure::EchoStatus { .. } => End::FailureStatus,
            Failure::Violation { .. } => End::Violation,
            Failure::Aborted { .. } => End::Aborted,
            Failure::ClosedByPeer { .. } => End::Closed,
            Failure::Deadline { .. } => End::Deadline,
            Failure::Tls { error, .. } => error.end(),
            Failure::TlsFiles(_) => End::TlsLocalFiles,
            Failure::FindTimeout { .. } => End::DimseTimeout,
            Failure::NoFindContext { .. } => End::NoFindContext,
            Failure::FindStatus { .. } => End::FindFailureStatus,
            Failure::TooFewMatches { .. } => End::TooFewMatches,
            Failure::RequiredValueMismatch { .. } => End::RequiredValueMismatch,
        }
    }

    /// The process exit code for this failure.
    pub fn code(&self) -> u8 {
        self.end().code()
    }

    /// A short machine-readable name (used by `--json`).
    pub fn kind(&self) -> &'static str {
        self.end().result()
    }
}

/// Reads a text file the command line names (`what` is how messages call it: `command file`), at most `max` bytes
/// (`max_text` in the message); every failure is a usage error.
pub(crate) fn read_named_file(
    what: &str,
    path: &str,
    max: u64,
    max_text: &str,
) -> Result<String, Failure> {
    let unreadable = |e: std::io::Error| Failure::Usage(format!("cannot read {what} {path}: {e}"));
    if std::fs::metadata(path).map_err(unreadable)?.len() > max {
        return Err(Failure::Usage(format!(
            "{what} {path} is larger than {max_text}"
        )));
    }
    std::fs::read_to_string(path).map_err(unreadable)
}

/// Seconds as the user typed them: whole seconds without decimals.
pub(crate) struct Secs(pub(crate) Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        if us.is_multiple_of(1_000_000) {
            write!(f, "{} s", us / 1_000_000)
        } else {
            write!(f, "{} ms", us / 1000)
        }
    }
}

/// A short text for a C-ECHO-RSP status: its class and meaning, e.g. `failure: Processing failure` (written when
/// shown: a quiet check formats nothing).
pub(crate) fn status_text(status: u16) -> impl fmt::Display {
    StatusText(status)
}

struct StatusText(u16);

impl fmt::Display for StatusText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            StatusClass::of(self.0),
            echoprobe_core::dimse::status::describe(self.0)
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(msg) => write!(f, "{msg}"),
            Failure::Unsupported(msg) => write!(f, "{msg}"),
            Failure::Local(msg) => write!(f, "{msg}"),
            Failure::Rejected { peer, detail } => write!(f, "association rejected by {peer}: {detail}"),
            Failure::Unreachable { peer, detail } => write!(f, "cannot connect to {peer}: {detail}"),
            Failure::ConnectTimeout { peer, timeout } => {
                write!(f, "cannot connect to {peer}: no answer within {} (connect timeout)", Secs(*timeout))
            }
            Failure::NoPresentationContext { peer } => write!(
                f,
                "association with {peer} accepted but no presentation context accepted (Verification not supported?)"
            ),
            Failure::AcseTimeout { peer, timeout } => {
                write!(f, "no A-ASSOCIATE-AC/RJ from {peer} within {} (ACSE timeout)", Secs(*timeout))
            }
            Failure::DimseTimeout { peer, timeout } => {
                write!(f, "no C-ECHO-RSP from {peer} within {} (DIMSE timeout)", Secs(*timeout))
            }
            Failure::EchoStatus { peer, status, message_id } => write!(
                f,
                "C-ECHO-RSP from {peer} (message id {message_id}) has status 0x{status:04X} ({})",
                status_text(*status)
            ),
            Failure::Violation { peer, detail } => write!(f, "protocol violation by {peer}: {detail}"),
            Failure::Aborted { peer, detail } => write!(f, "association aborted by {peer}: {detail}"),
            Failure::ClosedByPeer { peer, phase } => write!(f, "{peer} closed the connection {phase}"),
            Failure::Deadline { peer, deadline, phase } => {
                write!(f, "deadline of {} reached {phase} ({peer})", Secs(*deadline))
            }
            Failure::Tls { peer, detail, .. } => write!(f, "TLS with {peer}: {detail}"),
            Failure::TlsFiles(msg) => write!(f, "TLS: {msg}"),
            Failure::FindTimeout { peer, timeout } => {
                write!(f, "no C-FIND-RSP from {peer} within {} (DIMSE timeout)", Secs(*timeout))
            }
            Failure::NoFindContext { peer, model } => write!(
                f,
                "association with {peer} accepted but not for C-FIND in the {model} model (no FIND presentation context accepted)"
            ),
            Failure::FindStatus { peer, status, matches } => write!(
                f,
                "C-FIND-RSP from {peer} has status 0x{status:04X} ({}: {}) after {matches} match{}",
                StatusClass::of(*status),
                echoprobe_core::find::describe(*status),
                if *matches == 1 { "" } else { "es" }
            ),
            Failure::TooFewMatches { peer, matches, min } => write!(
                f,
                "C-FIND to {peer} succeeded with {matches} match{}, fewer than the {min} required (--min-matches)",
                if *matches == 1 { "" } else { "es" }
            ),
            Failure::RequiredValueMismatch { peer, key, want, seen } => {
                write!(f, "no match from {peer} has {key}={want} (--require)")?;
                if seen.is_empty() {
                    write!(f, "; the matches do not have {key}")
                } else {
                    write!(f, "; seen: {}", seen.join(", "))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_table() {
        let p = || "127.0.0.1:11112".to_string();
        let d = Duration::from_secs(5);
        let all = [
            (Failure::Usage("x".into()), 1),
            (Failure::Unsupported("x".into()), 1),
            (Failure::Local("x".into()), 60),
            (
                Failure::Rejected {
                    peer: p(),
                    detail: "x".into(),
                },
                61,
            ),
            (
                Failure::Unreachable {
                    peer: p(),
                    detail: "x".into(),
                },
                63,
            ),
            (
                Failure::ConnectTimeout {
                    peer: p(),
                    timeout: d,
                },
                64,
            ),
            (Failure::NoPresentationContext { peer: p() }, 65),
            (
                Failure::AcseTimeout {
                    peer: p(),
                    timeout: d,
                },
                66,
            ),
            (
                Failure::DimseTimeout {
                    peer: p(),
                    timeout: d,
                },
                67,
            ),
            (
                Failure::EchoStatus {
                    peer: p(),
                    status: 0x0110,
                    message_id: 1,
                },
                68,
            ),
            (
                Failure::Violation {
                    peer: p(),
                    detail: "x".into(),
                },
                69,
            ),
            (
                Failure::Aborted {
                    peer: p(),
                    detail: "x".into(),
                },
                70,
            ),
            (
                Failure::ClosedByPeer {
                    peer: p(),
                    phase: "x",
                },
                71,
            ),
            (
                Failure::Deadline {
                    peer: p(),
                    deadline: d,
                    phase: "x",
                },
                72,
            ),
            (
                Failure::Tls {
                    peer: p(),
                    error: TlsError::Handshake,
                    detail: "x".into(),
                },
                80,
            ),
            (
                Failure::Tls {
                    peer: p(),
                    error: TlsError::Untrusted,
                    detail: "x".into(),
                },
                81,
            ),
            (
                Failure::Tls {
                    peer: p(),
                    error: TlsError::Expired,
                    detail: "x".into(),
                },
                82,
            ),
            (
                Failure::Tls {
                    peer: p(),
                    error: TlsError::NameMismatch,
                    detail: "x".into(),
                },
                83,
            ),
            (Failure::TlsFiles("x".into()), 84),
            (
                Failure::Tls {
                    peer: p(),
                    error: TlsError::CertificateRequired,
                    detail: "x".into(),
                },
                85,
            ),
            (
                Failure::Tls {
                    peer: p(),
                    error: TlsError::Timeout,
                    detail: "x".into(),
                },
                66,
            ),
            (
                Failure::FindTimeout {
                    peer: p(),
                    timeout: d,
                },
                67,
            ),
            (
                Failure::NoFindContext {
                    peer: p(),
                    model: "study root",
                },
                73,
            ),
            (
                Failure::FindStatus {
                    peer: p(),
                    status: 0xC000,
                    matches: 0,
                },
                74,
            ),
            (
                Failure::TooFewMatches {
                    peer: p(),
                    matches: 0,
                    min: 1,
                },
                75,
            ),
            (
                Failure::RequiredValueMismatch {
                    peer: p(),
                    key: "PatientID".into(),
                    want: "P1".into(),
                    seen: vec!["P2".into()],
                },
                76,
            ),
        ];
        for (failure, code) in all {
            assert_eq!(failure.code(), code, "{failure:?}");
            assert!(
                super::super::help_table().contains(&format!("\n  {code:>2}  ")),
                "code {code} missing from the help table"
            );
        }
    }

    #[test]
    fn messages() {
        let f = Failure::Rejected {
            peer: "127.0.0.1:11112".into(),
            detail: "rejected-permanent, service-user, called-AE-title-not-recognized (1/1/7)"
                .into(),
        };
        assert_eq!(
            f.to_string(),
            "association rejected by 127.0.0.1:11112: rejected-permanent, service-user, \
             called-AE-title-not-recognized (1/1/7)"
        );
        let f = Failure::EchoStatus {
            peer: "h:1".into(),
            status: 0x0110,
            message_id: 1,
        };
        assert_eq!(
            f.to_string(),
            "C-ECHO-RSP from h:1 (message id 1) has status 0x0110 (failure: Processing failure)"
        );
        let f = Failure::AcseTimeout {
            peer: "h:1".into(),
            timeout: Duration::from_millis(1500),
        };
        assert_eq!(
            f.to_string(),
            "no A-ASSOCIATE-AC/RJ from h:1 within 1500 ms (ACSE timeout)"
        );
        let f = Failure::FindStatus {
            peer: "h:1".into(),
            status: 0xC000,
            matches: 0,
        };
        assert!(
            f.to_string()
                .starts_with("C-FIND-RSP from h:1 has status 0xC000 (failure: "),
            "{f}"
        );
        let f = Failure::TooFewMatches {
            peer: "h:1".into(),
            matches: 1,
            min: 2,
        };
        assert_eq!(
            f.to_string(),
            "C-FIND to h:1 succeeded with 1 match, fewer than the 2 required (--min-matches)"
        );
    }
}
