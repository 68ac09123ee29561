//! Command line: DCMTK echoscu syntax in front of clap.
//!
//! DCMTK uses single-dash multi-letter options (`-aet X`, `-to 5`, `-pdu 32768`) and plus options (`+tls K C`) that
//! clap cannot parse (it would read `-aet` as `-a -e -t`). [`translate`] therefore rewrites argv first: every known
//! DCMTK token, short or long, becomes its long form, and an option's value is glued to it (`--aetitle=X`) so that a
//! value starting with a dash is never mistaken for an option. Unknown dash or plus tokens are refused right there
//! (DCMTK: "Unknown option"); `-lc` and the TLS options we do not implement yet are recognized and refused with a
//! clear message. Then clap parses the long forms, and [`EchoOptions`] & co. hold the validated values (the TLS ones
//! via [`crate::tls::TlsCli`]).
//!
//! Three modes: `echoprobe [options] peer port` (echoscu), `echoprobe scp [options] port` and `echoprobe demo`. The
//! subcommand is recognized only as the very first argument, and not when the program runs as `echoscu` (there it is a
//! pure drop-in and `echoscu scp 104` talks to a host named `scp`).

use core::net::IpAddr;
use core::time::Duration;

use clap::{ArgAction, Parser};

use crate::exit::{self, Failure};
use crate::log::config::LogConfig;
use crate::log::Verbosity;
use crate::net::Family;
use crate::tls::{self, TlsCli, TlsOptions};

/// The transfer syntaxes `-pts N` proposes the first N of, in DCMTK echoscu's order (3.6.7 has 38).
pub(crate) const TRANSFER_SYNTAXES: [&str; 38] = [
    "1.2.840.10008.1.2",       // Implicit VR Little Endian (default, first)
    "1.2.840.10008.1.2.1",     // Explicit VR Little Endian
    "1.2.840.10008.1.2.2",     // Explicit VR Big Endian (retired)
    "1.2.840.10008.1.2.4.50",  // JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51",  // JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.52",  // JPEG Extended (Process 3 & 5)
    "1.2.840.10008.1.2.4.53",  // JPEG Spectral Selection (Process 6 & 8)
    "1.2.840.10008.1.2.4.54",  // JPEG Spectral Selection (Process 7 & 9)
    "1.2.840.10008.1.2.4.55",  // JPEG Full Progression (Process 10 & 12)
    "1.2.840.10008.1.2.4.56",  // JPEG Full Progression (Process 11 & 13)
    "1.2.840.10008.1.2.4.57",  // JPEG Lossless (Process 14)
    "1.2.840.10008.1.2.4.58",  // JPEG Lossless (Process 15)
    "1.2.840.10008.1.2.4.59",  // JPEG Extended Hierarchical (Process 16 & 18)
    "1.2.840.10008.1.2.4.60",  // JPEG Extended Hierarchical (Process 17 & 19)
    "1.2.840.10008.1.2.4.61",  // JPEG Spectral Selection Hierarchical (Process 20 & 22)
    "1.2.840.10008.1.2.4.62",  // JPEG Spectral Selection Hierarchical (Process 21 & 23)
    "1.2.840.10008.1.2.4.63",  // JPEG Full Progression Hierarchical (Process 24 & 26)
    "1.2.840.10008.1.2.4.64",  // JPEG Full Progression Hierarchical (Process 25 & 27)
    "1.2.840.10008.1.2.4.65",  // JPEG Lossless Hierarchical (Process 28)
    "1.2.840.10008.1.2.4.66",  // JPEG Lossless Hierarchical (Process 29)
    "1.2.840.10008.1.2.4.70",  // JPEG Lossless SV1 (Process 14)
    "1.2.840.10008.1.2.5",     // RLE Lossless
    "1.2.840.10008.1.2.1.99",  // Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.4.80",  // JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",  // JPEG-LS Near-Lossless
    "1.2.840.10008.1.2.4.90",  // JPEG 2000 Lossless Only
    "1.2.840.10008.1.2.4.91",  // JPEG 2000
    "1.2.840.10008.1.2.4.92",  // JPEG 2000 Part 2 Lossless Only
    "1.2.840.10008.1.2.4.93",  // JPEG 2000 Part 2
    "1.2.840.10008.1.2.4.100", // MPEG2 Main Profile @ Main Level
    "1.2.840.10008.1.2.4.101", // MPEG2 Main Profile @ High Level
    "1.2.840.10008.1.2.4.102", // MPEG-4 AVC/H.264 High Profile / Level 4.1
    "1.2.840.10008.1.2.4.103", // MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1
    "1.2.840.10008.1.2.4.104", // MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video
    "1.2.840.10008.1.2.4.105", // MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video
    "1.2.840.10008.1.2.4.106", // MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2
    "1.2.840.10008.1.2.4.107", // HEVC/H.265 Main Profile / Level 5.1
    "1.2.840.10008.1.2.4.108", // HEVC/H.265 Main 10 Profile / Level 5.1
];

/// Defaults (documented in the help and the README).
pub(crate) mod defaults {
    use core::time::Duration;
    /// echoscu's calling AE title.
    pub(crate) const CALLING_AE: &str = "ECHOSCU";
    /// echoscu's called AE title.
    pub(crate) const CALLED_AE: &str = "ANY-SCP";
    /// Connect timeout when `-to` is not given (echoscu: unlimited, i.e. the OS's ~2 minutes).
    pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Socket write timeout when `-ts` is not given (echoscu's default).
    pub(crate) const SOCKET_TIMEOUT: Duration = Duration::from_secs(60);
    /// ACSE timeout (echoscu's default).
    pub(crate) const ACSE_TIMEOUT: Duration = Duration::from_secs(30);
    /// DIMSE timeout when `-td` is not given (echoscu: unlimited).
    pub(crate) const DIMSE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Overall deadline when `--deadline` is not given.
    pub(crate) const DEADLINE: Duration = Duration::from_secs(30);
    /// Max receive PDU (echoscu's default).
    pub(crate) const MAX_PDU: u32 = 16384;
    /// Smallest and largest `-pdu` (DCMTK's ASC_MINIMUMPDUSIZE, ASC_MAXIMUMPDUSIZE).
    pub(crate) const MIN_PDU: u32 = 4096;
    /// See [`MIN_PDU`].
    pub(crate) const MAX_MAX_PDU: u32 = 131072;
    /// The SCP's AE title.
    pub(crate) const SCP_AE: &str = "ECHOPROBE";
    /// The SCP's bind address (like storescp: every interface).
    pub(crate) const SCP_BIND: &str = "0.0.0.0";
    /// The SCP's limit on concurrent associations.
    pub(crate) const SCP_MAX_ASSOCIATIONS: u32 = 32;
    /// The SCP's idle timeout (no PDU from the peer in an established association).
    pub(crate) const SCP_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
}

/// `echoprobe [options] peer port`: the echoscu mode, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EchoOptions {
    /// Host name or address of the peer (IPv6 brackets removed).
    pub(crate) peer: String,
    /// TCP port of the peer, 1..=65535.
    pub(crate) port: u16,
    /// Our (calling) AE title, validated.
    pub(crate) calling: String,
    /// The peer's (called) AE title, validated.
    pub(crate) called: String,
    /// How many transfer syntaxes each presentation context proposes (1..=38, first N of [`TRANSFER_SYNTAXES`]).
    pub(crate) propose_ts: u8,
    /// How many presentation contexts to propose (1..=128).
    pub(crate) propose_pc: u8,
    /// Connect timeout.
    pub(crate) connect_timeout: Duration,
    /// Socket write timeout (None: none).
    pub(crate) socket_timeout: Option<Duration>,
    /// ACSE timeout.
    pub(crate) acse_timeout: Duration,
    /// DIMSE timeout (per C-ECHO-RSP).
    pub(crate) dimse_timeout: Duration,
    /// Max receive PDU we advertise.
    pub(crate) max_pdu: u32,
    /// Number of C-ECHO-RQs on the association.
    pub(crate) repeat: u32,
    /// Abort instead of release at the end.
    pub(crate) abort: bool,
    /// Overall limit for the whole run (None: `--deadline 0`).
    pub(crate) deadline: Option<Duration>,
    /// Print one JSON object instead of the summary line.
    pub(crate) json: bool,
    /// How much to print.
    pub(crate) verbosity: Verbosity,
    /// `--arguments`: print the expanded and translated argument list first.
    pub(crate) show_arguments: bool,
    /// TLS settings (None: plain TCP, `-tls`).
    pub(crate) tls: Option<TlsOptions>,
    /// `-lc FILE`: where log lines go (None: stderr, by `verbosity`).
    pub(crate) log_config: Option<LogConfig>,
    /// `-i4`/`-i6`/`-i0`: which addresses of the peer name to use.
    pub(crate) family: Family,
}

/// `echoprobe scp [options] port`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScpOptions {
    /// Port to listen on (0: any free port, printed at start).
    pub(crate) port: u16,
    /// Address to bind.
    pub(crate) bind: IpAddr,
    /// Our AE title.
    pub(crate) ae_title: String,
    /// Reject (1/1/7) associations whose called AE title is not ours.
    pub(crate) require_called_aet: bool,
    /// Calling AE titles allowed (empty: any); others are rejected 1/1/3.
    pub(crate) allow_calling: Vec<String>,
    /// The status every C-ECHO-RSP carries.
    pub(crate) status: u16,
    /// Concurrent associations; above it new connections get A-ASSOCIATE-RJ 2/3/2 (local limit exceeded).
    pub(crate) max_associations: u32,
    /// Idle timeout in an established association.
    pub(crate) idle_timeout: Duration,
    /// How long to wait for the A-ASSOCIATE-RQ after accepting a connection.
    pub(crate) acse_timeout: Duration,
    /// Max receive PDU we advertise.
    pub(crate) max_pdu: u32,
    /// Stop after this many associations (None: run until killed).
    pub(crate) exit_after: Option<u64>,
    /// How much to print.
    pub(crate) verbosity: Verbosity,
    /// TLS settings (None: plain TCP).
    pub(crate) tls: Option<TlsOptions>,
    /// `-lc FILE`: where log lines go (None: stderr, by `verbosity`).
    pub(crate) log_config: Option<LogConfig>,
}

/// `echoprobe demo`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DemoOptions {
    /// How much to print (default Verbose).
    pub(crate) verbosity: Verbosity,
    /// C-ECHO-RQs to send.
    pub(crate) repeat: u32,
    /// The status the demo SCP answers with (to see exit code 68).
    pub(crate) status: u16,
    /// The called AE title the check uses (the demo SCP is ECHOPROBE and checks it: another title shows 1/1/7).
    pub(crate) called: String,
    /// Print JSON.
    pub(crate) json: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Invocation {
    /// Print this text on stdout and exit 0.
    Help(String),
    /// Print this text on stdout and exit 0.
    Version(String),
    /// echoscu mode; the Vec is the translated argument list (for `--arguments`).
    Echo(EchoOptions, Vec<String>),
    /// SCP mode.
    Scp(ScpOptions),
    /// Demo mode.
    Demo(DemoOptions),
    /// `+vc FILE` / `+rc FILE`: an offline certificate check.
    Offline(tls::Offline),
    /// `generate man|bash|zsh|fish|elvish|powershell [DIR]`: write the man pages or a completion script.
    Generate(crate::generate::Kind, std::path::PathBuf),
}

/// The DCMTK option table: `(short, long, number of values, what we do with it)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Passed on to clap in long form.
    Supported,
    /// Recognized, refused with its own message.
    Refused(&'static str),
}

const OPTIONS: &[(&str, &str, usize, Kind)] = &[
    // general options
    ("-h", "--help", 0, Kind::Supported),
    ("", "--version", 0, Kind::Supported),
    ("", "--arguments", 0, Kind::Supported),
    ("-q", "--quiet", 0, Kind::Supported),
    ("-v", "--verbose", 0, Kind::Supported),
    ("-d", "--debug", 0, Kind::Supported),
    ("-ll", "--log-level", 1, Kind::Supported),
    ("-lc", "--log-config", 1, Kind::Supported),
    // network options
    ("-aet", "--aetitle", 1, Kind::Supported),
    ("-aec", "--call", 1, Kind::Supported),
    ("-pts", "--propose-ts", 1, Kind::Supported),
    ("-ppc", "--propose-pc", 1, Kind::Supported),
    ("-to", "--timeout", 1, Kind::Supported),
    ("-ts", "--socket-timeout", 1, Kind::Supported),
    ("-ta", "--acse-timeout", 1, Kind::Supported),
    ("-td", "--dimse-timeout", 1, Kind::Supported),
    ("-pdu", "--max-pdu", 1, Kind::Supported),
    ("", "--repeat", 1, Kind::Supported),
    ("", "--abort", 0, Kind::Supported),
    // IP protocol version (DCMTK 3.6.8)
    ("-i4", "--ipv4", 0, Kind::Supported),
    ("-i6", "--ipv6", 0, Kind::Supported),
    ("-i0", "--ip-auto", 0, Kind::Supported),
    // echoprobe options
    ("", "--deadline", 1, Kind::Supported),
    ("", "--json", 0, Kind::Supported),
    // scp / demo options
    ("", "--require-called-aet", 0, Kind::Supported),
    ("", "--allow-calling", 1, Kind::Supported),
    ("", "--status", 1, Kind::Supported),
    ("", "--bind", 1, Kind::Supported),
    ("", "--max-associations", 1, Kind::Supported),
    ("", "--idle-timeout", 1, Kind::Supported),
    ("", "--exit-after", 1, Kind::Supported),
    // TLS (see tls.rs for what each does with rustls)
    ("-tls", "--disable-tls", 0, Kind::Supported),
    ("+tls", "--enable-tls", 2, Kind::Supported),
    ("+tla", "--anonymous-tls", 0, Kind::Supported),
    ("+ps", "--std-passwd", 0, Kind::Supported),
    ("+pw", "--use-passwd", 1, Kind::Supported),
    ("-pw", "--null-passwd", 0, Kind::Supported),
    ("-pem", "--pem-keys", 0, Kind::Supported),
    ("-der", "--der-keys", 0, Kind::Supported),
    ("+cf", "--add-cert-file", 1, Kind::Supported),
    ("+cd", "--add-cert-dir", 1, Kind::Supported),
    ("+crl", "--add-crl-file", 1, Kind::Supported),
    ("+crv", "--enable-crl-vfy", 0, Kind::Supported),
    ("+cra", "--enable-crl-all", 0, Kind::Supported),
    ("+py", "--profile-bcp195-nd", 0, Kind::Supported),
    ("+px", "--profile-bcp195", 0, Kind::Supported),
    ("+pz", "--profile-bcp195-ex", 0, Kind::Supported),
    (
        "+pa",
        "--profile-aes",
        0,
        Kind::Refused(
            "the retired AES TLS profile (+pa) needs RSA key exchange with AES-CBC suites, which rustls does not have \
             (and which BCP 195 forbids): use +py (the default)",
        ),
    ),
    (
        "+pn",
        "--profile-null",
        0,
        Kind::Refused(
            "the retired authenticated-unencrypted profile (+pn) needs NULL cipher suites, which rustls does not have: \
             use +py (the default)",
        ),
    ),
    ("+cc", "--list-ciphers", 0, Kind::Supported),
    ("+cs", "--cipher", 1, Kind::Supported),
    ("+dp", "--dhparam", 1, Kind::Supported),
    ("+rs", "--seed", 1, Kind::Supported),
    ("+ws", "--write-seed", 0, Kind::Supported),
    ("+wf", "--write-seed-file", 1, Kind::Supported),
    ("-rc", "--require-peer-cert", 0, Kind::Supported),
    ("-vc", "--verify-peer-cert", 0, Kind::Supported),
    ("-ic", "--ignore-peer-cert", 0, Kind::Supported),
    ("", "--verify-host-name", 0, Kind::Supported),
    ("+vc", "--verify-cert", 1, Kind::Supported),
    ("+rc", "--is-root-cert", 1, Kind::Supported),
];

fn lookup(token: &str) -> Option<(&'static str, usize, Kind)> {
    OPTIONS
        .iter()
        .find(|(short, long, _, _)| (!short.is_empty() && *short == token) || *long == token)
        .map(|&(_, long, n, kind)| (long, n, kind))
}

/// Rewrites DCMTK-style argv (without the program name) into long options clap understands.
///
/// `-aet X` and `--aetitle X` become `--aetitle=X`; flags become their long form; `--` and everything after it, and
/// positional arguments, pass unchanged. `+tls K C` becomes `--enable-tls K C` (two values). Unknown options, missing
/// values, `-lc` and the refused TLS options are errors.
pub(crate) fn translate(args: &[String]) -> Result<Vec<String>, Failure> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.iter();
    while let Some(token) = iter.next() {
        if token == "--" {
            out.push(token.clone());
            out.extend(iter.by_ref().cloned());
            break;
        }
        let (name, glued) = match token.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (token.as_str(), None),
        };
        let is_option = (name.starts_with('-') || name.starts_with('+')) && name.len() > 1;
        if !is_option {
            out.push(token.clone());
            continue;
        }
        let Some((long, arity, kind)) = lookup(name) else {
            return Err(Failure::Usage(format!("unknown option {name}")));
        };
        if let Kind::Refused(msg) = kind {
            return Err(Failure::Unsupported(msg.to_string()));
        }
        match (arity, glued) {
            (0, None) => out.push(long.to_string()),
            (0, Some(_)) => return Err(Failure::Usage(format!("option {long} takes no value"))),
            (2, first) => {
                // Two values (only +tls KEY CERT): passed as separate words after the option.
                out.push(long.to_string());
                let first = first.map(str::to_string).or_else(|| iter.next().cloned());
                match (first, iter.next()) {
                    (Some(a), Some(b)) => out.extend([a, b.clone()]),
                    _ => {
                        return Err(Failure::Usage(format!(
                            "missing value for option {long} (needs 2)"
                        )))
                    }
                }
            }
            (_, Some(value)) => out.push(format!("{long}={value}")),
            (_, None) => match iter.next() {
                Some(value) => out.push(format!("{long}={value}")),
                None => return Err(Failure::Usage(format!("missing value for option {long}"))),
            },
        }
    }
    Ok(out)
}

/// Expands DCMTK command files: an argument `@file` is replaced by the words in `file` (whitespace separated, `"..."`
/// or `'...'` quote a word). Files are read once, not recursively, and must be under 64 KiB.
pub(crate) fn expand_command_files(args: Vec<String>) -> Result<Vec<String>, Failure> {
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let Some(path) = arg.strip_prefix('@').filter(|p| !p.is_empty()) else {
            out.push(arg);
            continue;
        };
        let meta = std::fs::metadata(path)
            .map_err(|e| Failure::Usage(format!("cannot read command file {path}: {e}")))?;
        if meta.len() > 64 * 1024 {
            return Err(Failure::Usage(format!(
                "command file {path} is larger than 64 KiB"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read command file {path}: {e}")))?;
        out.extend(
            split_words(&text).map_err(|e| Failure::Usage(format!("command file {path}: {e}")))?,
        );
    }
    Ok(out)
}

fn split_words(text: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(current.take()),
            (None, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated quote");
    }
    words.extend(current);
    Ok(words)
}

// ---------------------------------------------------------------------------------------------------------------
// clap definitions (long forms only; help is ours, see `help_*`)

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    override_usage = "echoprobe [options] peer port"
)]
struct EchoCli {
    /// print the expanded and translated command line arguments first
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue)]
    arguments: bool,
    /// [-q] quiet mode: no summary, no warnings (errors still go to stderr; the exit code tells the rest)
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["verbose", "debug", "log_level"])]
    quiet: bool,
    /// [-v] verbose mode: print the negotiation and each echo on stderr
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "debug", "log_level"])]
    verbose: bool,
    /// [-d] debug mode: -v and a hex dump of every PDU sent and received
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "verbose", "log_level"])]
    debug: bool,
    /// [-ll] log level: fatal or error = -q, warn = default, info = -v, debug or trace = -d
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "level", value_parser = parse_level, overrides_with_all = ["quiet", "verbose", "debug"])]
    log_level: Option<Verbosity>,
    /// [-lc] read DCMTK's log4cplus-style logger configuration file: root level, one console and one file appender, Threshold, RollingFileAppender size limit; layouts ignored; syslog, socket, daily appenders, filters and unknown keys refused (exit 1); not with -q/-v/-d/-ll
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "filename")]
    log_config: Option<String>,
    /// [-aet] set my calling AE title (default: ECHOSCU; 1 to 16 printable characters, no backslash)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title)]
    aetitle: Option<String>,
    /// [-aec] set the called AE title of the peer (default: ANY-SCP)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title)]
    call: Option<String>,
    /// [-pts] propose n transfer syntaxes (1..38)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u8).range(1..=38))]
    propose_ts: Option<u8>,
    /// [-ppc] propose n presentation contexts (1..128)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u8).range(1..=128))]
    propose_pc: Option<u8>,
    /// [-to] timeout for connection requests, seconds, decimals allowed (default: 10; echoscu: unlimited)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    timeout: Option<Duration>,
    /// [-ts] timeout for each socket write, seconds (default: 60, 0 for none)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_seconds_or_zero)]
    socket_timeout: Option<Duration>,
    /// [-ta] timeout for ACSE messages (A-ASSOCIATE-AC/RJ, A-RELEASE-RP) and the TLS handshake, seconds (default: 30)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    acse_timeout: Option<Duration>,
    /// [-td] timeout for each C-ECHO-RSP, seconds (default: 10; echoscu: unlimited)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    dimse_timeout: Option<Duration>,
    /// [-pdu] set max receive PDU to n bytes (4096..131072, default: 16384)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u32).range(i64::from(defaults::MIN_PDU)..=i64::from(defaults::MAX_MAX_PDU)))]
    max_pdu: Option<u32>,
    /// send n C-ECHO-RQs on the association (default: 1)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = parse_count)]
    repeat: Option<u32>,
    /// abort the association instead of releasing it
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue)]
    abort: bool,
    /// [-i4] use IPv4 addresses of the peer name only (DCMTK 3.6.8's default)
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["ipv6", "ip_auto"])]
    ipv4: bool,
    /// [-i6] use IPv6 addresses of the peer name only
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["ipv4", "ip_auto"])]
    ipv6: bool,
    /// [-i0] use every address the peer name resolves to, the next after a refusal, all within -to (default)
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["ipv4", "ipv6"])]
    ip_auto: bool,
    /// overall limit for the whole check: name lookup, connect, association, echoes, release; seconds (default: 30, 0 for none; exit code 72)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "seconds", value_parser = parse_seconds_or_zero)]
    deadline: Option<Duration>,
    /// print the result as one JSON object on stdout
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, action = ArgAction::SetTrue)]
    json: bool,
    #[command(flatten)]
    tls: TlsCli,
    /// host name or IP address of the DICOM peer (IPv6 in brackets allowed)
    #[arg(value_name = "peer")]
    peer: Option<String>,
    /// TCP port of the peer
    #[arg(value_name = "port")]
    port: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    override_usage = "echoprobe scp [options] port"
)]
struct ScpCli {
    /// [-q] print errors only
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["verbose", "debug", "log_level"])]
    quiet: bool,
    /// [-v] also print each A-ASSOCIATE-RQ, the negotiation and each C-ECHO-RQ
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "debug", "log_level"])]
    verbose: bool,
    /// [-d] debug mode: -v and a hex dump of every PDU sent and received
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "verbose", "log_level"])]
    debug: bool,
    /// [-ll] log level: fatal or error = -q, warn = default, info = -v, debug or trace = -d
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "level", value_parser = parse_level, overrides_with_all = ["quiet", "verbose", "debug"])]
    log_level: Option<Verbosity>,
    /// [-lc] read DCMTK's log4cplus-style logger configuration file (as in echoprobe -h); not with -q/-v/-d/-ll
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "filename")]
    log_config: Option<String>,
    /// [-aet] my AE title (default: ECHOPROBE)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title)]
    aetitle: Option<String>,
    /// reject associations whose called AE title is not mine (A-ASSOCIATE-RJ 1/1/7)
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue)]
    require_called_aet: bool,
    /// accept only this calling AE title (repeatable); others get A-ASSOCIATE-RJ 1/1/3 (default: any)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title, action = ArgAction::Append)]
    allow_calling: Vec<String>,
    /// the status of every C-ECHO-RSP, 0xNNNN or decimal (default: 0x0000), to test checkers
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "status", value_parser = parse_status)]
    status: Option<u16>,
    /// the address to listen on (default: 0.0.0.0, every interface, like storescp)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "address")]
    bind: Option<IpAddr>,
    /// concurrent associations; above it A-ASSOCIATE-RJ 2/3/2 (default: 32)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_associations: Option<u32>,
    /// close an association idle for this many seconds (default: 30)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    idle_timeout: Option<Duration>,
    /// [-ta] wait this many seconds for the A-ASSOCIATE-RQ (default: 30)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    acse_timeout: Option<Duration>,
    /// [-pdu] max receive PDU in bytes (4096..131072, default: 16384)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u32).range(i64::from(defaults::MIN_PDU)..=i64::from(defaults::MAX_MAX_PDU)))]
    max_pdu: Option<u32>,
    /// exit after n associations (default: run until killed)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u64).range(1..))]
    exit_after: Option<u64>,
    #[command(flatten)]
    tls: TlsCli,
    /// TCP port to listen on (0: any free port, printed at start)
    #[arg(value_name = "port")]
    port: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    override_usage = "echoprobe demo [options]"
)]
struct DemoCli {
    /// [-q] print errors only (the exit code says the rest)
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["verbose", "debug", "log_level"])]
    quiet: bool,
    /// [-v] print the negotiation and each echo (the demo's default)
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "debug", "log_level"])]
    verbose: bool,
    /// [-d] debug mode: -v and a hex dump of every PDU sent and received
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "verbose", "log_level"])]
    debug: bool,
    /// [-ll] log level: fatal or error = -q, warn = default, info = -v, debug or trace = -d
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "level", value_parser = parse_level, overrides_with_all = ["quiet", "verbose", "debug"])]
    log_level: Option<Verbosity>,
    /// send n C-ECHO-RQs (default: 1)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "n", value_parser = parse_count)]
    repeat: Option<u32>,
    /// the demo SCP answers with this status (default: 0x0000; 0x0110 shows exit code 68)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "status", value_parser = parse_status)]
    status: Option<u16>,
    /// [-aec] the called AE title the check uses (default: ECHOPROBE; another one shows exit code 61)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title)]
    call: Option<String>,
    /// print the result as JSON
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, action = ArgAction::SetTrue)]
    json: bool,
}

fn verbosity(
    quiet: bool,
    verbose: bool,
    debug: bool,
    level: Option<Verbosity>,
    default: Verbosity,
) -> Verbosity {
    // clap's overrides_with leaves only the last of the four set.
    if quiet {
        Verbosity::Quiet
    } else if verbose {
        Verbosity::Verbose
    } else if debug {
        Verbosity::Debug
    } else {
        level.unwrap_or(default)
    }
}

/// `-ll LEVEL`: DCMTK's log levels mapped onto ours.
fn parse_level(s: &str) -> Result<Verbosity, String> {
    match s {
        "fatal" | "error" => Ok(Verbosity::Quiet),
        "warn" => Ok(Verbosity::Normal),
        "info" => Ok(Verbosity::Verbose),
        "debug" | "trace" => Ok(Verbosity::Debug),
        _ => Err("expected one of fatal, error, warn, info, debug, trace".to_string()),
    }
}

/// An AE title as PS3.5 allows it: 1 to 16 characters after trimming spaces, printable ASCII, no backslash.
pub(crate) fn parse_ae_title(s: &str) -> Result<String, String> {
    let trimmed = s.trim_matches(' ');
    if trimmed.is_empty() {
        return Err("an AE title needs 1 to 16 characters other than spaces".to_string());
    }
    if trimmed.len() > 16 {
        return Err(format!(
            "an AE title has at most 16 characters, this one has {}",
            trimmed.len()
        ));
    }
    if let Some(c) = trimmed
        .chars()
        .find(|&c| !(' '..='~').contains(&c) || c == '\\')
    {
        return Err(format!(
            "character {c:?} is not allowed in an AE title (printable ASCII, no backslash)"
        ));
    }
    Ok(trimmed.to_string())
}

/// Seconds, whole or with up to 3 decimals ("5", "0.25"), as a Duration. Not negative, at most ~one day.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let bad = || format!("'{s}' is not a number of seconds");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 3
    {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    if secs > 86_400 {
        return Err(format!("{secs} seconds is more than a day (overflow)"));
    }
    let mut millis: u64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        millis += u64::from(b - b'0') * [100, 10, 1][i];
    }
    Ok(Duration::from_secs(secs) + Duration::from_millis(millis))
}

/// A timeout: seconds, more than zero (DCMTK: integer >= 1; we also take decimals).
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_seconds(s)?;
    if d.is_zero() {
        return Err(format!(
            "{s} is too small (underflow): at least 0.001 seconds"
        ));
    }
    Ok(d)
}

/// Seconds where 0 means "none".
fn parse_seconds_or_zero(s: &str) -> Result<Duration, String> {
    parse_seconds(s)
}

/// A count of at least 1.
fn parse_count(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (underflow)".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a number from 1 to {}", u32::MAX)),
    }
}

/// A DIMSE status: `0xNNNN` or decimal.
fn parse_status(s: &str) -> Result<u16, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("'{s}' is not a 16-bit status (0xNNNN or decimal)"))
}

fn parse_port(s: Option<String>, allow_zero: bool) -> Result<u16, Failure> {
    let s = s.ok_or_else(|| Failure::Usage("missing parameter port".to_string()))?;
    match s.parse::<u32>() {
        Ok(0) if allow_zero => Ok(0),
        Ok(p @ 1..=65535) => Ok(p as u16),
        Ok(p) => Err(Failure::Usage(format!(
            "invalid port {p}: must be 1..65535"
        ))),
        Err(_) => Err(Failure::Usage(format!(
            "invalid port '{s}': must be a number 1..65535"
        ))),
    }
}

fn clap_failure(e: clap::Error) -> Failure {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    Failure::Usage(format!("{first} (try --help)"))
}

/// True if the translated arguments ask for `flag` before any `--`.
fn wants(translated: &[String], flag: &str) -> bool {
    translated
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == flag)
}

/// Parses the whole command line (`args` without the program name). `prog` is the name used in help texts.
pub(crate) fn parse(prog: &str, args: Vec<String>) -> Result<Invocation, Failure> {
    let as_echoscu = prog == "echoscu";
    match args.first().map(String::as_str) {
        Some("scp") if !as_echoscu => return parse_scp(prog, args.get(1..).unwrap_or_default()),
        Some("demo") if !as_echoscu => return parse_demo(prog, args.get(1..).unwrap_or_default()),
        Some("generate") if !as_echoscu => {
            return crate::generate::parse(args.get(1..).unwrap_or_default())
        }
        _ => {}
    }
    if args.is_empty() {
        // DCMTK prints the help and exits 0 here; a health check whose arguments went missing must not look healthy.
        return Err(Failure::Usage(
            "missing parameters peer and port (try --help)".to_string(),
        ));
    }
    let args = expand_command_files(args)?;
    let translated = translate(&args)?;
    if wants(&translated, "--help") {
        return Ok(Invocation::Help(help_echo(prog)));
    }
    if wants(&translated, "--version") {
        return Ok(Invocation::Version(version(prog)));
    }
    let cli = EchoCli::try_parse_from(&translated).map_err(clap_failure)?;
    let tls = match cli.tls.parse(tls::Role::Client)? {
        tls::Parsed::ListCiphers(text) => return Ok(Invocation::Help(text)),
        tls::Parsed::Offline(check) => return Ok(Invocation::Offline(check)),
        tls::Parsed::Off => None,
        tls::Parsed::On(o) => Some(o),
    };
    let peer = cli
        .peer
        .ok_or_else(|| Failure::Usage("missing parameter peer".to_string()))?;
    let peer = peer
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .map(str::to_string)
        .unwrap_or(peer);
    if peer.is_empty() {
        return Err(Failure::Usage("empty peer name".to_string()));
    }
    let port = parse_port(cli.port, false)?;
    let log_config = match &cli.log_config {
        None => None,
        Some(_) if cli.quiet || cli.verbose || cli.debug || cli.log_level.is_some() => {
            // DCMTK: "--log-config not allowed with --verbose, --debug or --quiet" (and --log-level).
            return Err(Failure::Usage(
                "--log-config not allowed with --verbose, --debug, --quiet or --log-level"
                    .to_string(),
            ));
        }
        Some(path) => Some(crate::log::config::load(path, prog)?),
    };
    let family = if cli.ipv4 {
        Family::V4
    } else if cli.ipv6 {
        Family::V6
    } else {
        Family::Any
    };
    let options = EchoOptions {
        peer,
        port,
        calling: cli
            .aetitle
            .unwrap_or_else(|| defaults::CALLING_AE.to_string()),
        called: cli.call.unwrap_or_else(|| defaults::CALLED_AE.to_string()),
        propose_ts: cli.propose_ts.unwrap_or(1),
        propose_pc: cli.propose_pc.unwrap_or(1),
        connect_timeout: cli.timeout.unwrap_or(defaults::CONNECT_TIMEOUT),
        socket_timeout: match cli.socket_timeout {
            None => Some(defaults::SOCKET_TIMEOUT),
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
        },
        acse_timeout: cli.acse_timeout.unwrap_or(defaults::ACSE_TIMEOUT),
        dimse_timeout: cli.dimse_timeout.unwrap_or(defaults::DIMSE_TIMEOUT),
        max_pdu: cli.max_pdu.unwrap_or(defaults::MAX_PDU),
        repeat: cli.repeat.unwrap_or(1),
        abort: cli.abort,
        deadline: match cli.deadline {
            None => Some(defaults::DEADLINE),
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
        },
        json: cli.json,
        verbosity: match &log_config {
            Some(c) => c.level,
            None => verbosity(
                cli.quiet,
                cli.verbose,
                cli.debug,
                cli.log_level,
                Verbosity::Normal,
            ),
        },
        show_arguments: cli.arguments,
        tls,
        log_config,
        family,
    };
    Ok(Invocation::Echo(options, translated))
}

fn parse_scp(prog: &str, args: &[String]) -> Result<Invocation, Failure> {
    let translated = translate(args)?;
    if wants(&translated, "--help") {
        return Ok(Invocation::Help(help_scp(prog)));
    }
    if wants(&translated, "--version") {
        return Ok(Invocation::Version(version(prog)));
    }
    let cli = ScpCli::try_parse_from(&translated).map_err(clap_failure)?;
    let tls = match cli.tls.parse(tls::Role::Server)? {
        tls::Parsed::ListCiphers(text) => return Ok(Invocation::Help(text)),
        tls::Parsed::Offline(check) => return Ok(Invocation::Offline(check)),
        tls::Parsed::Off => None,
        tls::Parsed::On(o) => Some(o),
    };
    let log_config = match &cli.log_config {
        None => None,
        Some(_) if cli.quiet || cli.verbose || cli.debug || cli.log_level.is_some() => {
            return Err(Failure::Usage(
                "--log-config not allowed with --verbose, --debug, --quiet or --log-level"
                    .to_string(),
            ));
        }
        Some(path) => Some(crate::log::config::load(path, prog)?),
    };
    Ok(Invocation::Scp(ScpOptions {
        port: parse_port(cli.port, true)?,
        bind: cli.bind.unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ae_title: cli.aetitle.unwrap_or_else(|| defaults::SCP_AE.to_string()),
        require_called_aet: cli.require_called_aet,
        allow_calling: cli.allow_calling,
        status: cli.status.unwrap_or(0),
        max_associations: cli
            .max_associations
            .unwrap_or(defaults::SCP_MAX_ASSOCIATIONS),
        idle_timeout: cli.idle_timeout.unwrap_or(defaults::SCP_IDLE_TIMEOUT),
        acse_timeout: cli.acse_timeout.unwrap_or(defaults::ACSE_TIMEOUT),
        max_pdu: cli.max_pdu.unwrap_or(defaults::MAX_PDU),
        exit_after: cli.exit_after,
        verbosity: match &log_config {
            Some(c) => c.level,
            None => verbosity(
                cli.quiet,
                cli.verbose,
                cli.debug,
                cli.log_level,
                Verbosity::Normal,
            ),
        },
        tls,
        log_config,
    }))
}

fn parse_demo(prog: &str, args: &[String]) -> Result<Invocation, Failure> {
    let translated = translate(args)?;
    if wants(&translated, "--help") {
        return Ok(Invocation::Help(help_demo(prog)));
    }
    if wants(&translated, "--version") {
        return Ok(Invocation::Version(version(prog)));
    }
    let cli = DemoCli::try_parse_from(&translated).map_err(clap_failure)?;
    Ok(Invocation::Demo(DemoOptions {
        verbosity: verbosity(
            cli.quiet,
            cli.verbose,
            cli.debug,
            cli.log_level,
            Verbosity::Verbose,
        ),
        repeat: cli.repeat.unwrap_or(1),
        status: cli.status.unwrap_or(0),
        called: cli.call.unwrap_or_else(|| defaults::SCP_AE.to_string()),
        json: cli.json,
    }))
}

/// The clap definition of all three modes as one command, for the man pages and shell completions. Every option is
/// there in its long form, its help string naming echoscu's short form (`[-aet]`); the hand-written `-h` texts below
/// group them like echoscu's help.
pub(crate) fn clap_command() -> clap::Command {
    use clap::CommandFactory as _;
    EchoCli::command()
        .name("echoprobe")
        .bin_name("echoprobe")
        .no_binary_name(false)
        .version(env!("CARGO_PKG_VERSION"))
        .about("a truthful, bounded DICOM C-ECHO health checker, command line compatible with DCMTK echoscu")
        .long_about(
            "echoprobe checks that a DICOM peer answers: it connects, requests an association for the \
             Verification SOP class, sends C-ECHO-RQs, checks every C-ECHO-RSP status, and releases. It takes \
             DCMTK echoscu's command line (-aet, -aec, -to, -ta, -td, +tls ...; installed or linked as echoscu it \
             is a drop-in), gives a distinct exit code for every way a check can fail (see EXIT STATUS), and \
             bounds every phase by default (--deadline). Each option below is shown in its long form; the form \
             in brackets is echoscu's, which works the same (-aet X = --aetitle X = --aetitle=X).",
        )
        .override_usage("echoprobe [options] peer port\n       echoprobe scp [options] port\n       echoprobe demo [options]")
        .disable_help_subcommand(true)
        .args_conflicts_with_subcommands(true)
        .subcommand(
            ScpCli::command()
                .name("scp")
                .no_binary_name(false)
                .about("a DICOM C-ECHO SCP (storescp's option spelling), with TLS and association limits")
                .override_usage("echoprobe scp [options] port"),
        )
        .subcommand(
            DemoCli::command()
                .name("demo")
                .no_binary_name(false)
                .about("start a C-ECHO SCP on 127.0.0.1 and check it, verbosely")
                .override_usage("echoprobe demo [options]"),
        )
}

// ---------------------------------------------------------------------------------------------------------------
// help and version texts

/// `--version`.
pub(crate) fn version(prog: &str) -> String {
    let name = if prog == "echoprobe" {
        format!("echoprobe {}", env!("CARGO_PKG_VERSION"))
    } else {
        format!("{prog} (echoprobe {})", env!("CARGO_PKG_VERSION"))
    };
    format!(
        "{name}\n\
         DICOM verification (C-ECHO) SCU and SCP; command line compatible with DCMTK echoscu 3.6.x\n\
         TLS: rustls 0.23 with the ring provider (TLS 1.2 and 1.3)\n"
    )
}

/// `-h` in echoscu mode: grouped like echoscu's, with our defaults and the exit code table.
pub(crate) fn help_echo(prog: &str) -> String {
    let first = if prog == "echoscu" {
        format!(
            "{prog}: DICOM verification (C-ECHO) SCU (echoprobe {})",
            env!("CARGO_PKG_VERSION")
        )
    } else {
        format!("{prog}: DICOM verification (C-ECHO) SCU, a truthful and bounded echoscu")
    };
    let subcommands = if prog == "echoscu" {
        String::new()
    } else {
        format!(
            "       {prog} scp [options] port    C-ECHO SCP (see {prog} scp -h)\n\
             \x20      {prog} demo [options]        an SCP and a check on 127.0.0.1, to try it out\n"
        )
    };
    format!(
        "{first}
usage: {prog} [options] peer port
{subcommands}
parameters:
  peer                         hostname or IP address of DICOM peer
  port                         tcp/ip port number of peer

general options:
  -h      --help               print this help text and exit
          --version            print version information and exit
          --arguments          print expanded command line arguments
  -q      --quiet              quiet mode: no summary, no warnings (errors still
                               go to stderr, the exit code tells the rest)
  -v      --verbose            verbose mode: print the negotiation and each echo
  -d      --debug              debug mode: also hex dump every PDU
  -ll     --log-level          [l]evel: string constant
                               (fatal, error, warn, info, debug, trace)
                               fatal/error = -q, warn = default, info = -v,
                               debug/trace = -d
  -lc     --log-config         [f]ilename: string
                               use config file f for the logger (DCMTK's
                               log4cplus format: root level, console and file
                               appenders; not with -q/-v/-d/-ll; see below)
network options:
  IP protocol version:
    -i4   --ipv4               use IPv4 addresses of the peer name only
                               (DCMTK's default)
    -i6   --ipv6               use IPv6 addresses of the peer name only
    -i0   --ip-auto            use every address the name resolves to (default)
                               (if one is refused or unreachable, the next is
                               tried, all within -to)
  application entity titles:
    -aet  --aetitle            [a]etitle: string
                               set my calling AE title (default: {calling})
    -aec  --call               [a]etitle: string
                               set called AE title of peer (default: {called})
                               (1 to 16 printable characters, no backslash)
  association negotiation debugging:
    -pts  --propose-ts         [n]umber: integer (1..38)
                               propose n transfer syntaxes
    -ppc  --propose-pc         [n]umber: integer (1..128)
                               propose n presentation contexts
  other network options:
    -to   --timeout            [s]econds: number (default: 10; echoscu: unlimited)
                               timeout for connection requests
    -ts   --socket-timeout     [s]econds: number (default: 60, 0 for none)
                               timeout for each socket write
    -ta   --acse-timeout       [s]econds: number (default: 30)
                               timeout for ACSE messages
    -td   --dimse-timeout      [s]econds: number (default: 10; echoscu: unlimited)
                               timeout for DIMSE messages
    -pdu  --max-pdu            [n]umber of bytes: integer (4096..131072)
                               set max receive pdu to n bytes (default: 16384)
          --repeat             [n]umber: integer
                               repeat n times
          --abort              abort association instead of releasing it
echoprobe options:
          --deadline           [s]econds: number (default: 30, 0 for none)
                               overall limit for the whole check: name lookup,
                               connect, association, every echo, release; it caps
                               every timeout above (exit code 72 when it hits)
          --json               print the result as one JSON object on stdout
  Timeouts take whole seconds like echoscu, or decimals (-to 0.5).
transport layer security (TLS) options:
  transport protocol stack:
    -tls  --disable-tls        use normal TCP/IP connection (default)
    +tls  --enable-tls         [p]rivate key file, [c]ertificate file: string
                               use authenticated secure TLS connection
    +tla  --anonymous-tls      use secure TLS connection without certificate
  private key password (only with --enable-tls):
    +ps   --std-passwd         prompt user to type password on stdin (default)
    +pw   --use-passwd         [p]assword: string
                               use specified password
    -pw   --null-passwd        use empty string as password
                               (PKCS#8 and OpenSSL's legacy encrypted PEM;
                               wrong or missing password: exit code 84)
  key and certificate file format:
    -pem  --pem-keys           read keys and certificates as PEM file (default)
    -der  --der-keys           read keys and certificates as DER file
  certification authority:
    +cf   --add-cert-file      [f]ilename: string
                               add certificate file to list of certificates
    +cd   --add-cert-dir       [d]irectory: string
                               add certificates in d to list of certificates
    +crl  --add-crl-file       [f]ilename: string
                               add certificate revocation list file
                               (implies --enable-crl-vfy)
    +crv  --enable-crl-vfy     enable leaf CRL verification
    +cra  --enable-crl-all     enable full chain CRL verification
                               (a revoked peer certificate is exit code 81; an
                               expired CRL fails like in OpenSSL)
  security profile:
    +py   --profile-bcp195-nd  Non-downgrading BCP 195 TLS Profile (default):
                               TLS 1.2 and 1.3, ECDHE with AES-GCM/ChaCha20
    +px   --profile-bcp195     BCP 195 TLS Profile (same as +py with rustls)
    +pz   --profile-bcp195-ex  Extended BCP 195 TLS Profile (TLS 1.2 only, the
                               four ECDHE AES-GCM suites, as DCMTK)
    +pa, +pn                   retired profiles: refused (rustls has no CBC or
                               NULL suites)
  ciphersuite:
    +cc   --list-ciphers       show list of supported TLS ciphersuites and exit
    +cs   --cipher             [c]iphersuite name: string (IANA or OpenSSL name)
                               add ciphersuite to list of negotiated suites
    +dp   --dhparam            [f]ilename: string (accepted, unused: no DHE)
  pseudo random generator:
    +rs   --seed               [f]ilename: string (accepted, unused: rustls
    +ws   --write-seed         seeds from the OS; +ws/+wf write nothing)
    +wf   --write-seed-file    [f]ilename: string
  peer authentication:
    -rc   --require-peer-cert  verify peer certificate, fail if absent (default)
    -vc   --verify-peer-cert   verify peer certificate if present (= -rc here)
    -ic   --ignore-peer-cert   don't verify peer certificate (DANGEROUS)
          --verify-host-name   also check that the server certificate names the
                               peer (DCMTK does not; exit code 83 if not)
  offline certificate verification:
    +vc   --verify-cert        [f]ilename: string
                               verify certificate against CA settings (+cf, +cd,
                               +crl; needs +tla or +tls) and exit
    +rc   --is-root-cert       [f]ilename: string
                               check if certificate is self-signed root CA and exit
                               (exit 0 if so; else 81/82/84 where DCMTK says 22)
  The chain and validity of the server certificate are checked against the +cf
  and +cd certificates; the host name is not (as in DCMTK). -v prints what each
  accepted-but-unused option means.

log configuration (-lc):
  The root logger's level works like -ll (OFF = -q). A ConsoleAppender prints
  progress and warnings on stderr with logToStderr = true, else stdout; one
  FileAppender or RollingFileAppender gets progress, debug lines, PDU dumps,
  warnings and errors (File, Append, CreateDirs; a rolling file is rotated at
  start when over MaxFileSize). Errors are always printed on stderr too; the
  summary line and --json stay on stdout. Threshold per appender is honoured;
  layouts, ImmediateFlush and named DCMTK loggers are ignored (-v says so);
  syslog, socket and daily appenders, filters and unknown keys are refused
  (exit code 1, naming the key). DCMTK's /etc/dcmtk/logger.cfg works as is.

output:
  healthy: one line on stdout, e.g.
    {prog}: 127.0.0.1:11112 LB-SCP <- LOADBALANCER: healthy, 1 echo, rtt 0.412 ms,
    max PDU 16384 (total 1.9 ms)
  otherwise: one line on stderr saying what went wrong, and the exit code below.
  Arguments of the form @file are replaced by the words in file (as DCMTK does).

{table}",
        calling = defaults::CALLING_AE,
        called = defaults::CALLED_AE,
        table = exit::help_table(),
    )
}

/// `scp -h`.
pub(crate) fn help_scp(prog: &str) -> String {
    format!(
        "{prog} scp: DICOM verification (C-ECHO) SCP
usage: {prog} scp [options] port

parameters:
  port                         tcp/ip port number to listen on (0: any free port)

options:
  -h      --help               print this help text and exit
  -q      --quiet              print errors only
  -v      --verbose            also print each A-ASSOCIATE-RQ, the negotiation
                               and each C-ECHO-RQ (default: the listening line
                               and one line per association on stdout)
  -d      --debug              also hex dump every PDU
  -ll     --log-level          [l]evel: fatal, error, warn, info, debug, trace
  -lc     --log-config         [f]ilename: DCMTK logger configuration file (as
                               echoprobe -h describes; not with -q/-v/-d/-ll)
  -aet    --aetitle            [a]etitle: string
                               my AE title (default: {ae})
          --require-called-aet reject associations whose called AE title is not
                               mine (A-ASSOCIATE-RJ 1/1/7)
          --allow-calling      [a]etitle: string (repeatable)
                               accept only these calling AE titles, reject others
                               with A-ASSOCIATE-RJ 1/1/3 (default: any)
          --status             [s]tatus: 0xNNNN or decimal (default: 0x0000)
                               status of every C-ECHO-RSP (to test checkers)
          --bind               [a]ddress: IPv4 or IPv6 address (default: {bind},
                               every interface, like storescp; use 127.0.0.1 or ::1
                               for local tests)
          --max-associations   [n]umber: integer (default: {max_assoc})
                               concurrent associations; further connections get
                               A-ASSOCIATE-RJ 2/3/2 (local limit exceeded)
          --idle-timeout       [s]econds: number (default: {idle})
                               close an association idle for this long
  -ta     --acse-timeout       [s]econds: number (default: 30)
                               wait this long for the A-ASSOCIATE-RQ
  -pdu    --max-pdu            [n]umber of bytes: integer (4096..131072)
                               max receive pdu (default: 16384)
          --exit-after         [n]umber: integer
                               exit after n associations (default: run until killed)

TLS options (DCMTK storescp spelling):
  -tls    --disable-tls        plain TCP (default)
  +tls    --enable-tls         [p]rivate key file, [c]ertificate file: string
                               accept TLS connections only
  -pem/-der, +ps/+pw/-pw       key and certificate format, key password (as echoprobe -h)
  +cf     --add-cert-file      [f]ilename: trusted certificates for client certificates
  +cd     --add-cert-dir       [d]irectory: the same, every certificate file in d
  -rc     --require-peer-cert  clients must send a certificate signed by a trusted
                               CA (default; needs +cf or +cd)
  -vc     --verify-peer-cert   verify a client certificate if one is sent
  -ic     --ignore-peer-cert   do not ask clients for a certificate
  +py/+px/+pz, +cs, +cc, +dp, +rs/+ws/+wf   as echoprobe -h
  The TLS handshake is bounded by -ta; a failed handshake is logged with its cause.
",
        ae = defaults::SCP_AE,
        bind = defaults::SCP_BIND,
        max_assoc = defaults::SCP_MAX_ASSOCIATIONS,
        idle = defaults::SCP_IDLE_TIMEOUT.as_secs(),
    )
}

/// `demo -h`.
pub(crate) fn help_demo(prog: &str) -> String {
    format!(
        "{prog} demo: start a C-ECHO SCP on 127.0.0.1 (any free port) and check it, verbosely
usage: {prog} demo [options]

options:
  -h      --help               print this help text and exit
  -q      --quiet              print errors only (the exit code says the rest)
  -v      --verbose            print the negotiation and each echo (default)
  -d      --debug              also hex dump every PDU
          --repeat             [n]umber: send n C-ECHO-RQs (default: 1)
          --status             [s]tatus: the demo SCP answers with this status
                               (default: 0x0000; try 0x0110 to see exit code 68)
  -aec    --call               [a]etitle: called AE title the check uses (default:
                               {ae}; the SCP checks it: try WRONG for exit code 61)
          --json               print the result as JSON

The demo exits with the check's exit code:
{table}",
        ae = defaults::SCP_AE,
        table = exit::help_table(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    fn echo(args: &[&str]) -> EchoOptions {
        match parse("echoprobe", v(args)) {
            Ok(Invocation::Echo(o, _)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn usage_error(args: &[&str]) -> String {
        match parse("echoprobe", v(args)) {
            Err(f @ (Failure::Usage(_) | Failure::Unsupported(_))) => {
                assert_eq!(f.code(), 1);
                f.to_string()
            }
            other => panic!("{args:?} should be a usage error: {other:?}"),
        }
    }

    #[test]
    fn translate_short_forms() {
        let t = translate(&v(&[
            "-aet", "LB", "-aec", "PACS", "-to", "5", "-ta", "6", "-td", "7", "-q", "h", "104",
        ]))
        .unwrap();
        assert_eq!(
            t,
            v(&[
                "--aetitle=LB",
                "--call=PACS",
                "--timeout=5",
                "--acse-timeout=6",
                "--dimse-timeout=7",
                "--quiet",
                "h",
                "104"
            ])
        );
    }

    #[test]
    fn translate_keeps_dash_values_and_double_dash() {
        let t = translate(&v(&["-aet", "-X-", "--call", "+Y", "--", "-weird", "1"])).unwrap();
        assert_eq!(t, v(&["--aetitle=-X-", "--call=+Y", "--", "-weird", "1"]));
        let t = translate(&v(&["--aetitle=A", "--repeat", "3"])).unwrap();
        assert_eq!(t, v(&["--aetitle=A", "--repeat=3"]));
    }

    #[test]
    fn translate_errors() {
        assert!(
            matches!(translate(&v(&["-xx"])), Err(Failure::Usage(m)) if m == "unknown option -xx")
        );
        assert!(
            matches!(translate(&v(&["+foo"])), Err(Failure::Usage(m)) if m == "unknown option +foo")
        );
        assert!(
            matches!(translate(&v(&["-aet"])), Err(Failure::Usage(m)) if m.contains("missing value"))
        );
        assert!(
            matches!(translate(&v(&["--abort=1"])), Err(Failure::Usage(m)) if m.contains("takes no value"))
        );
    }

    #[test]
    fn defaults_are_documented_values() {
        let o = echo(&["localhost", "104"]);
        assert_eq!(o.peer, "localhost");
        assert_eq!(o.port, 104);
        assert_eq!(o.calling, "ECHOSCU");
        assert_eq!(o.called, "ANY-SCP");
        assert_eq!((o.propose_ts, o.propose_pc), (1, 1));
        assert_eq!(o.connect_timeout, Duration::from_secs(10));
        assert_eq!(o.socket_timeout, Some(Duration::from_secs(60)));
        assert_eq!(o.acse_timeout, Duration::from_secs(30));
        assert_eq!(o.dimse_timeout, Duration::from_secs(10));
        assert_eq!(o.max_pdu, 16384);
        assert_eq!(o.repeat, 1);
        assert!(!o.abort);
        assert_eq!(o.deadline, Some(Duration::from_secs(30)));
        assert_eq!(o.verbosity, Verbosity::Normal);
        assert!(!o.json && !o.show_arguments);
    }

    /// Every option of echoscu 3.6.0 and 3.6.7 is either accepted or refused with exit code 1 and a clear message.
    #[test]
    fn every_echoscu_option() {
        let accepted: &[&[&str]] = &[
            &["--arguments"],
            &["-q"],
            &["--quiet"],
            &["-v"],
            &["--verbose"],
            &["-d"],
            &["--debug"],
            &["-ll", "trace"],
            &["--log-level", "info"],
            &["-aet", "ME"],
            &["--aetitle", "ME"],
            &["-aec", "YOU"],
            &["--call", "YOU"],
            &["-pts", "38"],
            &["--propose-ts", "3"],
            &["-ppc", "128"],
            &["--propose-pc", "2"],
            &["-to", "5"],
            &["--timeout", "5"],
            &["-ts", "0"],
            &["--socket-timeout", "60"],
            &["-ta", "30"],
            &["--acse-timeout", "30"],
            &["-td", "1"],
            &["--dimse-timeout", "1"],
            &["-pdu", "4096"],
            &["--max-pdu", "131072"],
            &["--repeat", "3"],
            &["--abort"],
            &["-tls"],
            &["--disable-tls"],
        ];
        for opts in accepted {
            let mut args = opts.to_vec();
            args.extend(["h", "104"]);
            echo(&args);
        }
        assert!(matches!(
            parse("echoprobe", v(&["-h"])),
            Ok(Invocation::Help(_))
        ));
        assert!(matches!(
            parse("echoprobe", v(&["--help"])),
            Ok(Invocation::Help(_))
        ));
        assert!(matches!(
            parse("echoprobe", v(&["--version"])),
            Ok(Invocation::Version(_))
        ));

        // TLS options: accepted with DCMTK's syntax (with +tls or +tla, which they need).
        let base = ["+tla", "+cf", "ca.pem"];
        let tls_accepted: &[&[&str]] = &[
            &["+tls", "key.pem", "cert.pem"],
            &["--enable-tls", "key.pem", "cert.pem"],
            &["--enable-tls=key.pem", "cert.pem"],
            &["+tla"],
            &["--anonymous-tls"],
            &["-pem"],
            &["--pem-keys"],
            &["-der"],
            &["--der-keys"],
            &["+cf", "ca2.pem"],
            &["--add-cert-file", "ca2.pem"],
            &["+cd", "/etc/ssl"],
            &["--add-cert-dir", "/etc/ssl"],
            &["+py"],
            &["--profile-bcp195-nd"],
            &["+px"],
            &["--profile-bcp195"],
            &["+pz"],
            &["--profile-bcp195-ex"],
            &["+cs", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
            &["--cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
            &["+cs", "TLS_AES_128_GCM_SHA256"],
            &["+dp", "dh.pem"],
            &["--dhparam", "dh.pem"],
            &["+rs", "seed"],
            &["--seed", "seed", "+ws"],
            &["+rs", "seed", "--write-seed"],
            &["+rs", "seed", "+wf", "f"],
            &["+rs", "seed", "--write-seed-file", "f"],
            &["-rc"],
            &["--require-peer-cert"],
            &["-vc"],
            &["--verify-peer-cert"],
            &["-ic"],
            &["--ignore-peer-cert"],
            &["--verify-host-name"],
            &["+crl", "crl.pem"],
            &["--add-crl-file", "crl.pem"],
            &["+crv"],
            &["--enable-crl-vfy"],
            &["+cra"],
            &["--enable-crl-all"],
        ];
        for opts in tls_accepted {
            let mut args = base.to_vec();
            args.extend_from_slice(opts);
            args.extend(["h", "104"]);
            echo(&args);
        }
        for pw in [
            &["+ps"][..],
            &["--std-passwd"],
            &["+pw", "secret"],
            &["--use-passwd", "s"],
            &["-pw"],
            &["--null-passwd"],
        ] {
            let mut args = vec!["+tls", "k", "c", "+cf", "ca.pem"];
            args.extend_from_slice(pw);
            args.extend(["h", "104"]);
            assert!(echo(&args).tls.is_some());
        }
        assert!(matches!(
            parse("echoprobe", v(&["+cc"])),
            Ok(Invocation::Help(t)) if t.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        ));
        assert!(matches!(
            parse("echoprobe", v(&["--list-ciphers"])),
            Ok(Invocation::Help(_))
        ));
        for args in [
            &["+tla", "+cf", "ca.pem", "+vc", "x.pem"][..],
            &[
                "+tla",
                "+cf",
                "ca.pem",
                "--verify-cert",
                "x.pem",
                "h",
                "104",
            ],
            &["+rc", "ca.pem"],
            &["--is-root-cert", "ca.pem", "h", "104"],
        ] {
            assert!(
                matches!(parse("echoprobe", v(args)), Ok(Invocation::Offline(_))),
                "{args:?}"
            );
        }
        assert!(usage_error(&["+vc", "x.pem"]).contains("needs trusted certificates"));

        // Recognized and refused, with a message saying why.
        let tls_refused: &[(&[&str], &str)] = &[
            (&["+pa"], "retired"),
            (&["--profile-aes"], "retired"),
            (&["+pn"], "retired"),
            (&["--profile-null"], "retired"),
            (&["+cs", "TLS_RSA_WITH_AES_128_CBC_SHA"], "not supported"),
            (&["+cs", "NOPE"], "not supported"),
        ];
        // TLS options need TLS on; a client needs something to trust unless -ic; the SCP needs +tls.
        for (args, why) in [
            (&["+cf", "ca.pem", "h", "1"][..], "only with +tls"),
            (
                &["+tla", "+cf", "ca.pem", "-tls", "h", "1"],
                "only with +tls",
            ),
            (&["-ic", "h", "1"], "only with +tls"),
            (&["+tla", "h", "1"], "+cf FILE or +cd DIR"),
            (
                &["+tla", "+pw", "x", "-ic", "h", "1"],
                "+pw/-pw only with +tls",
            ),
            (
                &["+tla", "-ic", "--verify-host-name", "h", "1"],
                "--verify-host-name only",
            ),
            (&["h", "1", "+tls", "k"], "missing value"),
            (
                &[
                    "+tla",
                    "-ic",
                    "+pz",
                    "+cs",
                    "TLS_AES_128_GCM_SHA256",
                    "h",
                    "1",
                ],
                "not with +pz",
            ),
            (&["+tla", "-ic", "+ws", "h", "1"], "only with +rs"),
            (
                &["+tla", "-ic", "+crv", "h", "1"],
                "which -ic does not verify",
            ),
            (&["+crl", "x", "h", "1"], "only with +tls"),
            (&["scp", "+tla", "-ic", "1"], "a TLS server needs +tls"),
            (&["scp", "+tls", "k", "c", "1"], "+cf FILE or +cd DIR"),
        ] {
            let msg = usage_error(args);
            assert!(msg.contains(why), "{args:?}: {msg}");
        }
        let Ok(Invocation::Scp(o)) = parse("echoprobe", v(&["scp", "+tls", "k", "c", "-ic", "1"]))
        else {
            panic!()
        };
        assert_eq!(
            o.tls.map(|t| t.peer_cert),
            Some(crate::tls::PeerCert::Ignore)
        );

        for (opts, why) in tls_refused {
            let mut args = base.to_vec();
            args.extend_from_slice(opts);
            args.extend(["h", "104"]);
            let msg = usage_error(&args);
            assert!(msg.contains(why), "{args:?}: {msg}");
        }
        for lc in ["-lc", "--log-config"] {
            let msg = usage_error(&[lc, "/nonexistent/log.cfg", "h", "104"]);
            assert!(msg.contains("cannot read --log-config file"), "{msg}");
            for other in [&["-v"][..], &["-q"], &["-d"], &["-ll", "info"]] {
                let mut args = other.to_vec();
                args.extend([lc, "/nonexistent/log.cfg", "h", "104"]);
                let msg = usage_error(&args);
                assert!(msg.contains("--log-config not allowed with"), "{msg}");
            }
        }
        assert_eq!(echo(&["h", "1"]).family, Family::Any);
        for (flags, family) in [
            (&["-i4"][..], Family::V4),
            (&["--ipv4"], Family::V4),
            (&["-i6"], Family::V6),
            (&["--ipv6"], Family::V6),
            (&["-i0"], Family::Any),
            (&["--ip-auto"], Family::Any),
            (&["-i4", "-i6"], Family::V6),
            (&["-i6", "-i0"], Family::Any),
        ] {
            let mut args = flags.to_vec();
            args.extend(["h", "1"]);
            assert_eq!(echo(&args).family, family, "{flags:?}");
        }
    }

    #[test]
    fn values_are_applied() {
        let o = echo(&[
            "-aet",
            "LOADBALANCER",
            "-aec",
            "LB-SCP",
            "-pts",
            "3",
            "-ppc",
            "5",
            "-to",
            "2",
            "-ta",
            "0.5",
            "-td",
            "7",
            "-pdu",
            "32768",
            "--repeat",
            "4",
            "--abort",
            "--deadline",
            "9",
            "--json",
            "-ts",
            "0",
            "[::1]",
            "11112",
        ]);
        assert_eq!(o.calling, "LOADBALANCER");
        assert_eq!(o.called, "LB-SCP");
        assert_eq!((o.propose_ts, o.propose_pc), (3, 5));
        assert_eq!(o.connect_timeout, Duration::from_secs(2));
        assert_eq!(o.acse_timeout, Duration::from_millis(500));
        assert_eq!(o.dimse_timeout, Duration::from_secs(7));
        assert_eq!(o.socket_timeout, None);
        assert_eq!(o.max_pdu, 32768);
        assert_eq!(o.repeat, 4);
        assert!(o.abort && o.json);
        assert_eq!(o.deadline, Some(Duration::from_secs(9)));
        assert_eq!(o.peer, "::1");
        assert_eq!(o.port, 11112);
        assert_eq!(echo(&["--deadline", "0", "h", "1"]).deadline, None);
    }

    #[test]
    fn last_option_wins() {
        assert_eq!(echo(&["-aet", "A", "-aet", "B", "h", "1"]).calling, "B");
        assert_eq!(echo(&["-q", "-v", "h", "1"]).verbosity, Verbosity::Verbose);
        assert_eq!(echo(&["-v", "-q", "h", "1"]).verbosity, Verbosity::Quiet);
        assert_eq!(
            echo(&["-d", "-ll", "warn", "h", "1"]).verbosity,
            Verbosity::Normal
        );
        assert_eq!(
            echo(&["-ll", "fatal", "-d", "h", "1"]).verbosity,
            Verbosity::Debug
        );
    }

    #[test]
    fn validation_like_dcmtk() {
        for bad in [
            &["-pts", "0"][..],
            &["-pts", "39"],
            &["-ppc", "0"],
            &["-ppc", "129"],
            &["-pdu", "4095"],
            &["-pdu", "131073"],
            &["-pdu", "0"],
            &["-to", "0"],
            &["-ta", "0"],
            &["-td", "0"],
            &["-to", "-1"],
            &["-to", "x"],
            &["-ta", "1.2345"],
            &["--repeat", "0"],
            &["-ll", "loud"],
            &["-aet", ""],
            &["-aet", "    "],
            &["-aet", "12345678901234567"],
            &["-aet", "A\\B"],
            &["-aec", "A\tB"],
            &["-aec", "Ä"],
            &["--deadline", "x"],
        ] {
            let mut args = bad.to_vec();
            args.extend(["h", "104"]);
            usage_error(&args);
        }
        usage_error(&[]);
        usage_error(&["h"]);
        usage_error(&["h", "0"]);
        usage_error(&["h", "65536"]);
        usage_error(&["h", "port"]);
        usage_error(&["h", "1", "extra"]);
        assert_eq!(echo(&["-aet", " PADDED ", "h", "1"]).calling, "PADDED");
        assert_eq!(
            echo(&["-aet", "1234567890123456", "h", "1"]).calling,
            "1234567890123456"
        );
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds(".5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("2."), Ok(Duration::from_secs(2)));
        assert!(parse_seconds(".").is_err());
        assert!(parse_seconds("").is_err());
        assert!(parse_seconds("1e3").is_err());
        assert!(parse_seconds("86401").is_err());
    }

    #[test]
    fn subcommands() {
        let Ok(Invocation::Scp(o)) = parse(
            "echoprobe",
            v(&[
                "scp",
                "-aet",
                "LB-SCP",
                "--require-called-aet",
                "--allow-calling",
                "A",
                "--allow-calling",
                "B",
                "--status",
                "0x0110",
                "--bind",
                "127.0.0.1",
                "--max-associations",
                "4",
                "--idle-timeout",
                "5",
                "-ta",
                "3",
                "-pdu",
                "8192",
                "--exit-after",
                "2",
                "-v",
                "0",
            ]),
        ) else {
            panic!()
        };
        assert_eq!(o.port, 0);
        assert_eq!(o.ae_title, "LB-SCP");
        assert!(o.require_called_aet);
        assert_eq!(o.allow_calling, v(&["A", "B"]));
        assert_eq!(o.status, 0x0110);
        assert_eq!(o.bind, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(o.max_associations, 4);
        assert_eq!(o.idle_timeout, Duration::from_secs(5));
        assert_eq!(o.acse_timeout, Duration::from_secs(3));
        assert_eq!(o.max_pdu, 8192);
        assert_eq!(o.exit_after, Some(2));
        assert_eq!(o.verbosity, Verbosity::Verbose);

        let Ok(Invocation::Scp(o)) = parse("echoprobe", v(&["scp", "11112"])) else {
            panic!()
        };
        assert_eq!(o.bind, IpAddr::from([0, 0, 0, 0]));
        assert_eq!(o.ae_title, "ECHOPROBE");
        assert_eq!(o.max_associations, 32);
        assert_eq!(o.idle_timeout, Duration::from_secs(30));
        assert!(o.allow_calling.is_empty() && !o.require_called_aet && o.exit_after.is_none());
        assert!(matches!(
            parse("echoprobe", v(&["scp", "-h"])),
            Ok(Invocation::Help(_))
        ));
        assert!(parse("echoprobe", v(&["scp"])).is_err());
        assert!(parse("echoprobe", v(&["scp", "--status", "0x10000", "1"])).is_err());
        assert!(parse("echoprobe", v(&["scp", "--bind", "localhost", "1"])).is_err());
        assert!(parse("echoprobe", v(&["scp", "--repeat", "1", "1"])).is_err());

        let Ok(Invocation::Demo(d)) = parse("echoprobe", v(&["demo"])) else {
            panic!()
        };
        assert_eq!(d.verbosity, Verbosity::Verbose);
        assert_eq!((d.repeat, d.status, d.called.as_str()), (1, 0, "ECHOPROBE"));
        let Ok(Invocation::Demo(d)) = parse(
            "echoprobe",
            v(&["demo", "-q", "--status", "272", "-aec", "X"]),
        ) else {
            panic!()
        };
        assert_eq!(
            (d.verbosity, d.status, d.called.as_str()),
            (Verbosity::Quiet, 0x0110, "X")
        );

        // As echoscu there are no subcommands: "scp" is a host name.
        let Ok(Invocation::Echo(o, _)) = parse("echoscu", v(&["scp", "104"])) else {
            panic!()
        };
        assert_eq!(o.peer, "scp");
    }

    #[test]
    fn command_files() {
        let dir = std::env::temp_dir().join(format!("echoprobe-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("opts");
        std::fs::write(&file, "-aet 'LOAD BALANCER'\n -aec \"LB-SCP\"\n").unwrap();
        let o = echo(&[&format!("@{}", file.display()), "h", "1"]);
        assert_eq!(o.calling, "LOAD BALANCER");
        assert_eq!(o.called, "LB-SCP");
        std::fs::write(&file, "-aet 'open").unwrap();
        usage_error(&[&format!("@{}", file.display()), "h", "1"]);
        usage_error(&["@/nonexistent/echoprobe", "h", "1"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn help_texts() {
        let h = help_echo("echoprobe");
        for needle in [
            "-aet  --aetitle",
            "-pts  --propose-ts",
            "(1..38)",
            "--deadline",
            "72  overall deadline",
        ] {
            assert!(h.contains(needle), "{needle}");
        }
        assert!(help_echo("echoscu").starts_with("echoscu: "));
        assert!(!help_echo("echoscu").contains("echoscu scp"));
        assert!(help_scp("echoprobe").contains("--require-called-aet"));
        assert!(help_demo("echoprobe").contains("68"));
    }
}
