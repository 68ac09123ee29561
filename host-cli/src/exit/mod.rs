//! THE exit-code table (binding: README "Exit codes"): every way a run ends, with its exit code, its `--json`
//! result name and its lines in the help's exit-code table, in one const array, [`ROWS`]. The named codes below,
//! each read from its row, are what scripts and the tests compare against; [`help_table`] is the text `-h`, `demo -h` and the man page show.
//! Why the numbers are what they are (DCMTK's where it has one, one per failure kind, grouped by phase):
//! docs/exit-codes.md.

mod failure;

pub use failure::Failure;
pub(crate) use failure::{read_named_file, status_text, Secs};

/// Healthy: association accepted, every C-ECHO answered with status 0x0000.
pub const HEALTHY: u8 = End::Healthy.code();
/// Command line syntax error or bad option value (also: an option we recognize but refuse, like `+pa`).
pub const USAGE: u8 = End::Usage.code();
/// Local error: cannot resolve the peer name, cannot create a socket, local I/O error.
pub const LOCAL: u8 = End::Local.code();
/// Association rejected (A-ASSOCIATE-RJ).
pub const REJECTED: u8 = End::Rejected.code();
/// Connection refused, host or network unreachable.
pub const UNREACHABLE: u8 = End::Unreachable.code();
/// Connect timeout.
pub const CONNECT_TIMEOUT: u8 = End::ConnectTimeout.code();
/// Association accepted but no presentation context accepted.
pub const NO_PRESENTATION_CONTEXT: u8 = End::NoPresentationContext.code();
/// No A-ASSOCIATE-AC/RJ in time.
pub const ACSE_TIMEOUT: u8 = End::AcseTimeout.code();
/// No C-ECHO-RSP in time.
pub const DIMSE_TIMEOUT: u8 = End::DimseTimeout.code();
/// C-ECHO-RSP with a non-success status.
pub const FAILURE_STATUS: u8 = End::FailureStatus.code();
/// Protocol violation by the peer (we sent A-ABORT).
pub const VIOLATION: u8 = End::Violation.code();
/// Association aborted by the peer before the echo completed.
pub const ABORTED: u8 = End::Aborted.code();
/// Peer closed the connection before the echo completed.
pub const CLOSED: u8 = End::Closed.code();
/// Overall deadline reached.
pub const DEADLINE: u8 = End::Deadline.code();
/// Find check: association accepted but none of its FIND presentation contexts.
pub const NO_FIND_CONTEXT: u8 = End::NoFindContext.code();
/// Find check: the final C-FIND-RSP has a failure status (or a cancel we did not ask for).
pub const FIND_FAILURE_STATUS: u8 = End::FindFailureStatus.code();
/// Find check: the query succeeded with fewer matches than `--min-matches`.
pub const TOO_FEW_MATCHES: u8 = End::TooFewMatches.code();
/// Find check: no match carries the value `--require` asks for.
pub const REQUIRED_VALUE_MISMATCH: u8 = End::RequiredValueMismatch.code();
/// TLS handshake failed (protocol error, no common version or suite, alert from the peer, not TLS at all).
pub const TLS_HANDSHAKE: u8 = End::TlsHandshake.code();
/// The peer's certificate is not trusted (unknown CA, bad signature, wrong usage, no certificate).
pub const TLS_UNTRUSTED: u8 = End::TlsUntrusted.code();
/// The peer's certificate is expired or not yet valid.
pub const TLS_EXPIRED: u8 = End::TlsExpired.code();
/// The peer's certificate is not valid for the peer name (only with `--verify-host-name`).
pub const TLS_NAME_MISMATCH: u8 = End::TlsNameMismatch.code();
/// Our key, certificate or trusted certificate files are unreadable or unusable.
pub const TLS_LOCAL_FILES: u8 = End::TlsLocalFiles.code();
/// The peer requires a client certificate that we did not send.
pub const TLS_CERT_REQUIRED: u8 = End::TlsCertRequired.code();

/// Every way a run can end: one row of [`ROWS`] each, in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Every C-ECHO answered with success.
    Healthy,
    /// Bad command line.
    Usage,
    /// A recognized option that cannot be honoured.
    Unsupported,
    /// Name resolution, socket creation, local I/O.
    Local,
    /// A-ASSOCIATE-RJ.
    Rejected,
    /// Connection refused, host or network unreachable.
    Unreachable,
    /// The connect did not complete in time.
    ConnectTimeout,
    /// No presentation context accepted.
    NoPresentationContext,
    /// No A-ASSOCIATE-AC/RJ in time.
    AcseTimeout,
    /// No C-ECHO-RSP in time.
    DimseTimeout,
    /// C-ECHO-RSP with a non-success status.
    FailureStatus,
    /// Protocol violation by the peer.
    Violation,
    /// A-ABORT from the peer.
    Aborted,
    /// The peer closed the connection.
    Closed,
    /// The overall deadline passed.
    Deadline,
    /// Find: no FIND presentation context accepted.
    NoFindContext,
    /// Find: the final C-FIND-RSP has a failure status.
    FindFailureStatus,
    /// Find: fewer matches than asked for.
    TooFewMatches,
    /// Find: the required value is in no match.
    RequiredValueMismatch,
    /// The TLS handshake failed.
    TlsHandshake,
    /// The peer's certificate is not trusted.
    TlsUntrusted,
    /// The peer's certificate is expired or not yet valid.
    TlsExpired,
    /// The peer's certificate does not name the peer.
    TlsNameMismatch,
    /// Our TLS files are unusable.
    TlsLocalFiles,
    /// The peer wants a client certificate we did not send.
    TlsCertRequired,
    /// The TLS handshake did not finish within the ACSE timeout (like a silent DICOM peer).
    TlsTimeout,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Which ending.
    pub end: End,
    /// The exit code.
    pub code: u8,
    /// The `--json` `result` name.
    pub result: &'static str,
    /// Its entry in the help's table (continuation lines indented by 6 spaces); empty when it shares the entry of
    /// the row above with the same code.
    pub help: &'static str,
}

const fn row(end: End, code: u8, result: &'static str, help: &'static str) -> Row {
    Row {
        end,
        code,
        result,
        help,
    }
}

/// The table: outcome -> exit code, `--json` result name, help text.
pub const ROWS: [Row; 26] = [
    row(
        End::Healthy,
        0,
        "healthy",
        "healthy: association accepted, every C-ECHO answered with status 0x0000
      (a release answered by a close or an A-ABORT, or not answered in time,
      still counts, with a warning on stderr)",
    ),
    row(
        End::Usage,
        1,
        "usage",
        "command line syntax error, bad option value, or a recognized option that
      cannot be honoured (+pa, +pn, a -lc file asking for syslog, ...)",
    ),
    // An option we refuse is a usage error to scripts: the code of `Usage`, whose help entry says so.
    row(End::Unsupported, 1, "unsupported", ""),
    row(
        End::Local,
        60,
        "local-error",
        "local error: cannot resolve the peer name, cannot create a socket, local I/O error",
    ),
    row(
        End::Rejected,
        61,
        "rejected",
        "association rejected by the peer (A-ASSOCIATE-RJ; result/source/reason printed)",
    ),
    row(
        End::Unreachable,
        63,
        "unreachable",
        "connection refused, host or network unreachable",
    ),
    row(
        End::ConnectTimeout,
        64,
        "connect-timeout",
        "connect timeout (-to, or the deadline while connecting)",
    ),
    row(
        End::NoPresentationContext,
        65,
        "no-presentation-context",
        "association accepted but no presentation context accepted",
    ),
    row(
        End::AcseTimeout,
        66,
        "acse-timeout",
        "ACSE timeout: no A-ASSOCIATE-AC/RJ in time (-ta)",
    ),
    row(
        End::DimseTimeout,
        67,
        "dimse-timeout",
        "DIMSE timeout: no C-ECHO-RSP in time (-td)",
    ),
    row(
        End::FailureStatus,
        68,
        "failure-status",
        "C-ECHO-RSP with a non-success status (status printed, e.g. 0x0110)",
    ),
    row(
        End::Violation,
        69,
        "protocol-violation",
        "protocol violation by the peer (malformed or unexpected PDU; we sent A-ABORT)",
    ),
    row(
        End::Aborted,
        70,
        "aborted-by-peer",
        "association aborted by the peer (A-ABORT before the echo completed)",
    ),
    row(
        End::Closed,
        71,
        "closed-by-peer",
        "peer closed the connection before the echo completed",
    ),
    row(
        End::Deadline,
        72,
        "deadline",
        "overall deadline (--deadline) reached",
    ),
    row(
        End::NoFindContext,
        73,
        "no-find-context",
        "find: association accepted but no FIND presentation context accepted
      (the peer does not serve the query model of -S/-P/-W)",
    ),
    row(
        End::FindFailureStatus,
        74,
        "find-failure-status",
        "find: final C-FIND-RSP with a failure status (printed, e.g. 0xC000)",
    ),
    row(
        End::TooFewMatches,
        75,
        "too-few-matches",
        "find: the query succeeded with fewer matches than --min-matches (default 1)",
    ),
    row(
        End::RequiredValueMismatch,
        76,
        "required-value-mismatch",
        "find: no match has the value --require asks for",
    ),
    row(
        End::TlsHandshake,
        80,
        "tls-handshake-failed",
        "TLS handshake failed (protocol error, alert from the peer, not TLS)",
    ),
    row(
        End::TlsUntrusted,
        81,
        "tls-peer-certificate-untrusted",
        "TLS: peer certificate not trusted (unknown CA, bad signature)",
    ),
    row(
        End::TlsExpired,
        82,
        "tls-peer-certificate-expired",
        "TLS: peer certificate expired or not yet valid",
    ),
    row(
        End::TlsNameMismatch,
        83,
        "tls-peer-certificate-name-mismatch",
        "TLS: peer certificate not valid for the peer name (--verify-host-name)",
    ),
    row(
        End::TlsLocalFiles,
        84,
        "tls-local-files",
        "TLS: our key, certificate or trusted certificate file unreadable or unusable
      (missing, bad format, wrong or missing password for an encrypted key,
      key does not match certificate)",
    ),
    row(
        End::TlsCertRequired,
        85,
        "tls-client-certificate-required",
        "TLS: the peer requires a client certificate we did not send",
    ),
    // A TLS handshake that does not finish is a silent peer: the code of `AcseTimeout`, whose help entry covers it.
    row(End::TlsTimeout, 66, "tls-handshake-timeout", ""),
];

/// The last line of the help's table: codes kept free.
const RESERVED: &str = "  86..89 reserved for TLS failures\n";

impl End {
    /// Its row of [`ROWS`].
    pub const fn row(self) -> &'static Row {
        // ROWS is in the order of End (a unit test checks it).
        &ROWS[self as usize]
    }

    /// The exit code.
    pub const fn code(self) -> u8 {
        self.row().code
    }

    /// The `--json` result name.
    pub fn result(self) -> &'static str {
        self.row().result
    }
}

/// The TLS failures that have their own row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsError {
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
    /// Its row of the table.
    pub fn end(self) -> End {
        match self {
            TlsError::Handshake => End::TlsHandshake,
            TlsError::Untrusted => End::TlsUntrusted,
            TlsError::Expired => End::TlsExpired,
            TlsError::NameMismatch => End::TlsNameMismatch,
            TlsError::CertificateRequired => End::TlsCertRequired,
            TlsError::Timeout => End::TlsTimeout,
        }
    }

    /// The exit code.
    pub fn code(self) -> u8 {
        self.end().code()
    }
}

/// The exit code table as shown in the long help and the man page, made from [`ROWS`].
pub(crate) fn help_table() -> String {
    let mut s = String::from("exit codes:\n");
    for row in ROWS.iter().filter(|r| !r.help.is_empty()) {
        s.push_str(&format!("{:>4}  {}\n", row.code, row.help));
    }
    s.push_str(RESERVED);
    s
}

/// The meaning of an exit code: the first line of its entry in the help's table.
pub(crate) fn meaning(code: u8) -> &'static str {
    ROWS.iter()
        .find(|r| r.code == code && !r.help.is_empty())
        .and_then(|r| r.help.lines().next())
        .unwrap_or("unknown exit code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_the_order_of_end_and_names_are_unique() {
        for (i, row) in ROWS.iter().enumerate() {
            assert_eq!(row.end as usize, i, "{row:?}");
            assert_eq!(row.end.row(), row);
            assert_eq!(
                ROWS.iter().filter(|r| r.result == row.result).count(),
                1,
                "{row:?}"
            );
        }
    }

    /// The help table, byte for byte as the help has always shown it.
    #[test]
    fn help_table_text() {
        assert_eq!(
            help_table(),
            "\
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
  73  find: association accepted but no FIND presentation context accepted
      (the peer does not serve the query model of -S/-P/-W)
  74  find: final C-FIND-RSP with a failure status (printed, e.g. 0xC000)
  75  find: the query succeeded with fewer matches than --min-matches (default 1)
  76  find: no match has the value --require asks for
  80  TLS handshake failed (protocol error, alert from the peer, not TLS)
  81  TLS: peer certificate not trusted (unknown CA, bad signature)
  82  TLS: peer certificate expired or not yet valid
  83  TLS: peer certificate not valid for the peer name (--verify-host-name)
  84  TLS: our key, certificate or trusted certificate file unreadable or unusable
      (missing, bad format, wrong or missing password for an encrypted key,
      key does not match certificate)
  85  TLS: the peer requires a client certificate we did not send
  86..89 reserved for TLS failures
"
        );
    }

    #[test]
    fn meanings() {
        assert_eq!(
            meaning(68),
            "C-ECHO-RSP with a non-success status (status printed, e.g. 0x0110)"
        );
        assert!(meaning(0).starts_with("healthy"));
        assert_eq!(meaning(2), "unknown exit code");
        assert_eq!(meaning(86), "unknown exit code");
    }

    #[test]
    fn tls_errors_and_names() {
        for (e, code, name) in [
            (TlsError::Handshake, 80, "tls-handshake-failed"),
            (TlsError::Untrusted, 81, "tls-peer-certificate-untrusted"),
            (TlsError::Expired, 82, "tls-peer-certificate-expired"),
            (
                TlsError::NameMismatch,
                83,
                "tls-peer-certificate-name-mismatch",
            ),
            (
                TlsError::CertificateRequired,
                85,
                "tls-client-certificate-required",
            ),
            (TlsError::Timeout, 66, "tls-handshake-timeout"),
        ] {
            assert_eq!((e.code(), e.end().result()), (code, name));
        }
    }
}
