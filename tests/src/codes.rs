//! echoprobe's exit codes: the host CLI's one exit-code table (`echoprobe::exit`, README "Exit codes",
//! docs/exit-codes.md), re-exported so that every test names a code, never a bare number.

pub use echoprobe::exit::{
    ABORTED, ACSE_TIMEOUT, CLOSED, CONNECT_TIMEOUT, DEADLINE, DIMSE_TIMEOUT, FAILURE_STATUS,
    FIND_FAILURE_STATUS, HEALTHY, LOCAL, NO_FIND_CONTEXT, NO_PRESENTATION_CONTEXT, REJECTED,
    REQUIRED_VALUE_MISMATCH, TLS_CERT_REQUIRED, TLS_EXPIRED, TLS_HANDSHAKE, TLS_LOCAL_FILES,
    TLS_NAME_MISMATCH, TLS_UNTRUSTED, TOO_FEW_MATCHES, UNREACHABLE, USAGE, VIOLATION,
};
