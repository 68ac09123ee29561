//! echoprobe's exit codes (README "Exit codes"), the one copy the tests use.
//!
//! The names and values are those of the host CLI's exit-code table; once that table is a library
//! item, this module's body becomes a re-export of it.

/// Healthy: association accepted, every C-ECHO answered with status 0x0000.
pub const HEALTHY: u8 = 0;
/// Command line syntax error or bad option value.
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
/// Protocol violation by the peer (echoprobe sent A-ABORT).
pub const VIOLATION: u8 = 69;
/// Association aborted by the peer before the echo completed.
pub const ABORTED: u8 = 70;
/// Peer closed the connection before the echo completed.
pub const CLOSED: u8 = 71;
/// Overall deadline reached.
pub const DEADLINE: u8 = 72;
/// TLS handshake failed.
pub const TLS_HANDSHAKE: u8 = 80;
/// The peer's certificate is not trusted.
pub const TLS_UNTRUSTED: u8 = 81;
/// The peer's certificate is expired or not yet valid.
pub const TLS_EXPIRED: u8 = 82;
/// The peer's certificate is not valid for the peer name.
pub const TLS_NAME_MISMATCH: u8 = 83;
/// Our key, certificate or trusted certificate files are unreadable or unusable.
pub const TLS_LOCAL_FILES: u8 = 84;
/// The peer requires a client certificate that we did not send.
pub const TLS_CERT_REQUIRED: u8 = 85;
