//! How much to print: the one setting every log line is judged by.

/// How much to print. DCMTK's `-q`, `-v`, `-d` and `-ll LEVEL`; the last one given wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only (one line on stderr); no summary, no warnings.
    Quiet,
    /// The one-line summary on stdout, warnings and errors on stderr.
    Normal,
    /// Plus the negotiation (what we proposed, what the peer accepted) and each echo.
    Verbose,
    /// Plus hex dumps of every PDU sent and received.
    Debug,
}
