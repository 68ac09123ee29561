//! Exit codes (binding table: README "Exit codes") and the one error type of the command line front end.
//!
//! Every way a run can end other than "healthy" is a [`Failure`]; [`Failure::code`] is its exit code and its
//! `Display` is the one line printed on stderr after the program name.

use core::fmt;

use echoprobe_core::dimse::StatusClass;
use echoprobe_core::time::Duration;

/// Healthy: association accepted, every C-ECHO answered with status 0x0000.
pub const HEALTHY: u8 = 0;
/// Command line syntax error or bad option value (also: an option we recognize but refuse, like `+pa`).
pub const USAGE: u8 = 1;
/// Local error: cannot resolve the peer name, cannot create a socket, local I/O error.
pub const LOCAL: u8 = 60;
/// Association rejected (A-ASSOCIATE-RJ).
pub const REJECTED: u8 = 61;
/// Connection refused, host or network unreachable.
pub const UNREACHABLE: u8 = 63;
/// Connect timeout.
pub const CONNECT_TIMEOUT: u8 = 64;
/// Association accepted but no presentation context accepted.
pub const NO_PRESENTATION_CONTEXT: u8 = 65;
/// No A-ASSOCIATE-AC/RJ in time.
pub const ACSE_TIMEOUT: u8 = 66;
/// No C-ECHO-RSP in time.
pub const DIMSE_TIMEOUT: u8 = 67;
/// C-ECHO-RSP with a non-success status.
pub const FAILURE_STATUS: u8 = 68;
/// Protocol violation by the peer (we sent A-ABORT).
pub const VIOLATION: u8 = 69;
/// Association aborted by the peer before the echo completed.
pub const ABORTED: u8 = 70;
/// Peer closed the connection before the echo completed.
pub const CLOSED: u8 = 71;
/// Overall deadline reached.
pub const DEADLINE: u8 = 72;
/// TLS handshake failed (protocol error, no common version or suite, alert from the peer, not TLS at all).
pub const TLS_HANDSHAKE: u8 = 80;
/// The peer's certificate is not trusted (unknown CA, bad signature, wrong usage, no certificate).
pub const TLS_UNTRUSTED: u8 = 81;
/// The peer's certificate is expired or not yet valid.
pub const TLS_EXPIRED: u8 = 82;
/// The peer's certificate is not valid for the peer name (only with `--verify-host-name`).
pub const TLS_NAME_MISMATCH: u8 = 83;
/// Our key, certificate or trusted certificate files are unreadable or unusable.
pub const TLS_LOCAL_FILES: u8 = 84;
/// The peer requires a client certificate that we did not send.
pub const TLS_CERT_REQUIRED: u8 = 85;

/// The TLS failures that have their own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsError {
    /// 80.
    Handshake,
    /// 81.
    Untrusted,
    /// 82.
    Expired,
    /// 83.
    NameMismatch,
    /// 85.
    CertificateRequired,
    /// The handshake did not finish within the ACSE timeout: 66, like a silent DICOM peer.
    Timeout,
}

impl TlsError {
    /// The exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            TlsError::Handshake => TLS_HANDSHAKE,
            TlsError::Untrusted => TLS_UNTRUSTED,
            TlsError::Expired => TLS_EXPIRED,
            TlsError::NameMismatch => TLS_NAME_MISMATCH,
            TlsError::CertificateRequired => TLS_CERT_REQUIRED,
            TlsError::Timeout => ACSE_TIMEOUT,
        }
    }

    /// The `--json` result name.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            TlsError::Handshake => "tls-handshake-failed",
            TlsError::Untrusted => "tls-peer-certificate-untrusted",
            TlsError::Expired => "tls-peer-certificate-expired",
            TlsError::NameMismatch => "tls-peer-certificate-name-mismatch",
            TlsError::CertificateRequired => "tls-client-certificate-required",
            TlsError::Timeout => "tls-handshake-timeout",
        }
    }
}

/// The exit code table as shown in the long help (keep in sync with the constants above and the README).
pub(crate) const TABLE: &str = "\
exit codes:
   0  healthy: association accepted, every C-ECHO answered with status 0x0000
      (a release answered by a close or an A-ABORT, or not answered in time,
      still counts, with a warning on stderr)
   1  command line syntax error, bad option value, or a recognized option that
      cannot be honoured (+pa, +pn, a -lc file asking for syslog, ...)
  60  local error: cannot resolve the peer name, cannot create a socket, local I/O error
  61  association rejected by the peer (A-ASSOCIATE-RJ; result/source/reason printed)
  63  connection refused, host or network unreachable
  64  connect timeout (-to, or the deadline while connecting)
  65  association accepted but no presentation context accepted
  66  ACSE timeout: no A-ASSOCIATE-AC/RJ in time (-ta)
  67  DIMSE timeout: no C-ECHO-RSP in time (-td)
  68  C-ECHO-RSP with a non-success status (status printed, e.g. 0x0110)
  69  protocol violation by the peer (malformed or unexpected PDU; we sent A-ABORT)
  70  association aborted by the peer (A-ABORT before the echo completed)
  71  peer closed the connection before the echo completed
  72  overall deadline (--deadline) reached
  80  TLS handshake failed (protocol error, alert from the peer, not TLS)
  81  TLS: peer certificate not trusted (unknown CA, bad signature)
  82  TLS: peer certificate expired or not yet valid
  83  TLS: peer certificate not valid for the peer name (--verify-host-name)
  84  TLS: our key, certificate or trusted certificate file unreadable or unusable
      (missing, bad format, encrypted key, key does not match certificate)
  85  TLS: the peer requires a client certificate we did not send
  86..89 reserved for TLS failures
";

/// The meaning of an exit code, from [`TABLE`] (first line of its entry).
pub(crate) fn meaning(code: u8) -> &'static str {
    let key = format!("{code:>4}  ");
    TABLE
        .lines()
        .find_map(|l| l.strip_prefix(key.as_str()))
        .unwrap_or("unknown exit code")
}

/// Why a run did not end healthy. The peer is `host:port` as the user gave it (or the resolved address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
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
}

impl Failure {
    /// The process exit code for this failure.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) | Failure::Unsupported(_) => USAGE,
            Failure::Local(_) => LOCAL,
            Failure::Rejected { .. } => REJECTED,
            Failure::Unreachable { .. } => UNREACHABLE,
            Failure::ConnectTimeout { .. } => CONNECT_TIMEOUT,
            Failure::NoPresentationContext { .. } => NO_PRESENTATION_CONTEXT,
            Failure::AcseTimeout { .. } => ACSE_TIMEOUT,
            Failure::DimseTimeout { .. } => DIMSE_TIMEOUT,
            Failure::EchoStatus { .. } => FAILURE_STATUS,
            Failure::Violation { .. } => VIOLATION,
            Failure::Aborted { .. } => ABORTED,
            Failure::ClosedByPeer { .. } => CLOSED,
            Failure::Deadline { .. } => DEADLINE,
            Failure::Tls { error, .. } => error.code(),
            Failure::TlsFiles(_) => TLS_LOCAL_FILES,
        }
    }

    /// A short machine-readable name (used by `--json`).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "usage",
            Failure::Unsupported(_) => "unsupported",
            Failure::Local(_) => "local-error",
            Failure::Rejected { .. } => "rejected",
            Failure::Unreachable { .. } => "unreachable",
            Failure::ConnectTimeout { .. } => "connect-timeout",
            Failure::NoPresentationContext { .. } => "no-presentation-context",
            Failure::AcseTimeout { .. } => "acse-timeout",
            Failure::DimseTimeout { .. } => "dimse-timeout",
            Failure::EchoStatus { .. } => "failure-status",
            Failure::Violation { .. } => "protocol-violation",
            Failure::Aborted { .. } => "aborted-by-peer",
            Failure::ClosedByPeer { .. } => "closed-by-peer",
            Failure::Deadline { .. } => "deadline",
            Failure::Tls { error, .. } => error.kind(),
            Failure::TlsFiles(_) => "tls-local-files",
        }
    }
}

/// Seconds as the user typed them: whole seconds without decimals.
pub(crate) struct Secs(pub(crate) Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        if us % 1_000_000 == 0 {
            write!(f, "{} s", us / 1_000_000)
        } else {
            write!(f, "{} ms", us / 1000)
        }
    }
}

/// A short text for a C-ECHO-RSP status: its class and meaning, e.g. `failure: Processing failure`.
pub(crate) fn status_text(status: u16) -> String {
    format!(
        "{}: {}",
        StatusClass::of(status),
        echoprobe_core::dimse::status::describe(status)
    )
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
        ];
        for (failure, code) in all {
            assert_eq!(failure.code(), code, "{failure:?}");
            assert!(
                TABLE.contains(&format!("\n  {code:>2}  ")),
                "code {code} missing from the help table"
            );
        }
    }

    #[test]
    fn meanings() {
        assert_eq!(
            meaning(68),
            "C-ECHO-RSP with a non-success status (status printed, e.g. 0x0110)"
        );
        assert!(meaning(0).starts_with("healthy"));
        assert_eq!(meaning(2), "unknown exit code");
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
    }
}
