//! Command line: DCMTK echoscu syntax in front of clap.
//!
//! DCMTK uses single-dash multi-letter options (`-aet X`, `-to 5`, `-pdu 32768`) and plus options (`+tls K C`) that
//! clap cannot parse (it would read `-aet` as `-a -e -t`). [`translate`] therefore rewrites argv first: every known
//! DCMTK token, short or long, becomes its long form, and an option's value is glued to it (`--aetitle=X`) so that a
//! value starting with a dash is never mistaken for an option. Unknown dash or plus tokens are refused right there
//! (DCMTK: "Unknown option"); the retired TLS profiles (`+pa`, `+pn`) are recognized and refused with a clear
//! message. Then clap parses the long forms, and [`EchoOptions`] & co. hold the validated values (the TLS ones
//! via `crate::tls::TlsCli`).
//!
//! Three modes: `echoprobe [options] peer port` (echoscu), `echoprobe scp [options] port` and `echoprobe demo`. The
//! subcommand is recognized only as the very first argument, and not when the program runs as `echoscu` (there it is a
//! pure drop-in and `echoscu scp 104` talks to a host named `scp`).
//!
//! Files by job: `tokens.rs` (the DCMTK token table and translation), `command.rs` (the clap definitions, the
//! options every mode shares defined once and flattened), `values.rs` (value parsers), `help.rs` (the `-h` texts).

use core::net::IpAddr;
use core::time::Duration;
use std::path::PathBuf;

use clap::Parser;
use clap_complete::Shell;

use crate::exit::Failure;
use crate::log::config::LogConfig;
use crate::log::Verbosity;
use crate::net::Family;
use crate::tls::{self, TlsOptions};

mod command;
mod find;
mod help;
mod tokens;
mod values;

pub(crate) use command::clap_command;
use command::{DemoCli, EchoCli, FindCli, ScpCli, ServeCli, StatusCli};
use find::help_find;
pub(crate) use find::{
    keyword_of, model_name, parse_key, parse_required, tag_text, DEFAULT_MAX_MATCHES,
};
pub use find::{FindOptions, Key, Model};
use help::{help_demo, help_echo, help_scp, version};
pub(crate) use tokens::dcmtk_spellings;
use tokens::{expand_command_files, translate};
use values::{clap_failure, parse_port, truncation_warning, TruncatedAe};

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
pub struct EchoOptions {
    /// Host name or address of the peer (IPv6 brackets removed).
    pub peer: String,
    /// TCP port of the peer, 1..=65535.
    pub port: u16,
    /// Our (calling) AE title, validated.
    pub calling: String,
    /// The peer's (called) AE title, validated.
    pub called: String,
    /// How many transfer syntaxes each presentation context proposes (1..=38, first N of [`TRANSFER_SYNTAXES`]).
    pub propose_ts: u8,
    /// How many presentation contexts to propose (1..=128).
    pub propose_pc: u8,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Socket write timeout (None: none).
    pub socket_timeout: Option<Duration>,
    /// ACSE timeout.
    pub acse_timeout: Duration,
    /// DIMSE timeout (per C-ECHO-RSP).
    pub dimse_timeout: Duration,
    /// Max receive PDU we advertise.
    pub max_pdu: u32,
    /// Number of C-ECHO-RQs on the association.
    pub repeat: u32,
    /// Abort instead of release at the end.
    pub abort: bool,
    /// Overall limit for the whole run (None: `--deadline 0`).
    pub deadline: Option<Duration>,
    /// Print one JSON object instead of the summary line.
    pub json: bool,
    /// How much to print.
    pub verbosity: Verbosity,
    /// `--arguments`: print the expanded and translated argument list first.
    pub show_arguments: bool,
    /// TLS settings (None: plain TCP, `-tls`).
    pub tls: Option<TlsOptions>,
    /// `-lc FILE`: where log lines go (None: stderr, by `verbosity`).
    pub log_config: Option<LogConfig>,
    /// `-i4`/`-i6`/`-i0`: which addresses of the peer name to use.
    pub family: Family,
}

/// `echoprobe scp [options] port`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScpOptions {
    /// Port to listen on (0: any free port, printed at start).
    pub port: u16,
    /// Address to bind.
    pub bind: IpAddr,
    /// Our AE title.
    pub ae_title: String,
    /// Reject (1/1/7) associations whose called AE title is not ours.
    pub require_called_aet: bool,
    /// Calling AE titles allowed (empty: any); others are rejected 1/1/3.
    pub allow_calling: Vec<String>,
    /// The status every C-ECHO-RSP carries.
    pub status: u16,
    /// Concurrent associations; above it new connections get A-ASSOCIATE-RJ 2/3/2 (local limit exceeded).
    pub max_associations: u32,
    /// Idle timeout in an established association.
    pub idle_timeout: Duration,
    /// How long to wait for the A-ASSOCIATE-RQ after accepting a connection.
    pub acse_timeout: Duration,
    /// Max receive PDU we advertise.
    pub max_pdu: u32,
    /// Stop after this many associations (None: run until killed).
    pub exit_after: Option<u64>,
    /// How much to print.
    pub verbosity: Verbosity,
    /// TLS settings (None: plain TCP).
    pub tls: Option<TlsOptions>,
    /// `-lc FILE`: where log lines go (None: stderr, by `verbosity`).
    pub log_config: Option<LogConfig>,
    /// The records C-FIND is answered from (`--record`, `--records`); empty: no FIND presentation context accepted.
    pub records: Vec<Vec<Key>>,
}

/// `echoprobe demo`.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// How much to print (default Verbose).
    pub verbosity: Verbosity,
    /// C-ECHO-RQs to send.
    pub repeat: u32,
    /// The status the demo SCP answers with (to see exit code 68).
    pub status: u16,
    /// The called AE title the check uses (the demo SCP is ECHOPROBE and checks it: another title shows 1/1/7).
    pub called: String,
    /// Print JSON.
    pub json: bool,
    /// `--find`: a find check of the demo SCP's records instead of an echo.
    pub find: bool,
}

/// Where `echoprobe serve` and `echoprobe status` read the configuration by default.
pub(crate) const DEFAULT_CONFIG: &str = "/etc/echoprobe/probe.toml";

/// `echoprobe serve [--config FILE] [--check-config]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeOptions {
    /// The configuration file.
    pub config: PathBuf,
    /// Only check it.
    pub check_config: bool,
}

/// `echoprobe status NAME [--agent ADDR:PORT | --http ADDR:PORT | --config FILE]`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusOptions {
    /// The target.
    pub name: String,
    /// The daemon's agent-check address.
    pub agent: Option<String>,
    /// The daemon's HTTP address (asked instead of the agent port).
    pub http: Option<String>,
    /// The configuration to find the agent port in (None: the default file if it exists, else the default address).
    pub config: Option<PathBuf>,
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
    /// Find mode; the Vec is the translated argument list (for `--arguments`).
    Find(FindOptions, Vec<String>),
    /// SCP mode.
    Scp(ScpOptions),
    /// Demo mode.
    Demo(DemoOptions),
    /// `+vc FILE` / `+rc FILE`: an offline certificate check.
    Offline(tls::Offline),
    /// `generate man|bash|zsh|fish|elvish|powershell [DIR]`: write the man pages or a completion script.
    Generate(GenerateKind, PathBuf),
    /// The probe daemon.
    Serve(ServeOptions),
    /// Ask the daemon.
    Status(StatusOptions),
}

/// The value of the first flag set, else `default` (clap's `overrides_with` leaves at most one of a group set).
pub(super) fn chosen<T, const N: usize>(flags: [(bool, T); N], default: T) -> T {
    flags
        .into_iter()
        .find_map(|(set, value)| set.then_some(value))
        .unwrap_or(default)
}

/// The TLS options for `role` (`None`: plain TCP), or (`Err`) the cipher list or offline check asked for instead.
fn tls_options(
    cli: tls::TlsCli,
    role: tls::Role,
) -> Result<Result<Option<TlsOptions>, Invocation>, Failure> {
    Ok(match cli.parse(role)? {
        tls::Parsed::ListCiphers(text) => Err(Invocation::Help(text)),
        tls::Parsed::Offline(check) => Err(Invocation::Offline(check)),
        tls::Parsed::Off => Ok(None),
        tls::Parsed::On(options) => Ok(Some(options)),
    })
}

/// A mode's arguments translated to clap's long forms, or (`Err`) the help (`help`) or version they ask for, which
/// ends the parse.
fn translate_mode(
    prog: &str,
    args: &[String],
    help: fn(&str) -> String,
) -> Result<Result<Vec<String>, Invocation>, Failure> {
    let translated = translate(args)?;
    Ok(if wants(&translated, "--help") {
        Err(Invocation::Help(help(prog)))
    } else if wants(&translated, "--version") {
        Err(Invocation::Version(version(prog)))
    } else {
        Ok(translated)
    })
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
        Some("find") if !as_echoscu => return parse_find(prog, args.get(1..).unwrap_or_default()),
        Some("generate") if !as_echoscu => {
            return parse_generate(args.get(1..).unwrap_or_default())
        }
        Some("serve") if !as_echoscu => return parse_serve(args.get(1..).unwrap_or_default()),
        Some("status") if !as_echoscu => return parse_status(args.get(1..).unwrap_or_default()),
        _ => {}
    }
    if args.is_empty() {
        // DCMTK prints the help and exits 0 here; a health check whose arguments went missing must not look healthy.
        return Err(Failure::Usage(
            "missing parameters peer and port (try --help)".to_string(),
        ));
    }
    let args = expand_command_files(args)?;
    let translated = match translate_mode(prog, &args, help_echo)? {
        Ok(translated) => translated,
        Err(info) => return Ok(info),
    };
    parse_echo(prog, translated)
}

/// The echo's options from the translated arguments (after `--help` and `--version`); also the link part of `find`.
fn parse_echo(prog: &str, translated: Vec<String>) -> Result<Invocation, Failure> {
    let cli = EchoCli::try_parse_from(&translated).map_err(clap_failure)?;
    let tls = match tls_options(cli.tls, tls::Role::Client)? {
        Ok(tls) => tls,
        Err(info) => return Ok(info),
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
    let log_config = log_config(cli.log_config.as_deref(), &cli.levels, prog)?;
    let family = chosen(
        [(cli.ipv4, Family::V4), (cli.ipv6, Family::V6)],
        Family::Any,
    );
    let verbosity = match &log_config {
        Some(c) => c.level,
        None => cli.levels.verbosity(Verbosity::Normal),
    };
    warn_truncated(
        prog,
        verbosity,
        &[
            ("-aet/--aetitle", cli.aetitle.as_ref()),
            ("-aec/--call", cli.call.as_ref()),
        ],
    );
    let options = EchoOptions {
        peer,
        port,
        calling: cli
            .aetitle
            .map_or_else(|| defaults::CALLING_AE.to_string(), |a| a.title),
        called: cli
            .call
            .map_or_else(|| defaults::CALLED_AE.to_string(), |a| a.title),
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
        verbosity,
        show_arguments: cli.arguments,
        tls,
        log_config,
        family,
    };
    Ok(Invocation::Echo(options, translated))
}

/// One warning for each AE title option that was cut to 16 characters (not with `-q`).
fn warn_truncated(prog: &str, verbosity: Verbosity, options: &[(&str, Option<&TruncatedAe>)]) {
    let log = crate::log::Log::new(prog, verbosity);
    for (name, ae) in options {
        if let Some(text) = ae.and_then(|ae| truncation_warning(name, ae)) {
            log.warn(text);
        }
    }
}

fn parse_scp(prog: &str, args: &[String]) -> Result<Invocation, Failure> {
    let translated = match translate_mode(prog, args, help_scp)? {
        Ok(translated) => translated,
        Err(info) => return Ok(info),
    };
    let cli = ScpCli::try_parse_from(&translated).map_err(clap_failure)?;
    let tls = match tls_options(cli.tls, tls::Role::Server)? {
        Ok(tls) => tls,
        Err(info) => return Ok(info),
    };
    let log_config = log_config(cli.log_config.as_deref(), &cli.levels, prog)?;
    let verbosity = match &log_config {
        Some(c) => c.level,
        None => cli.levels.verbosity(Verbosity::Normal),
    };
    warn_truncated(prog, verbosity, &[("-aet/--aetitle", cli.aetitle.as_ref())]);
    Ok(Invocation::Scp(ScpOptions {
        port: parse_port(cli.port, true)?,
        bind: cli.bind.unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ae_title: cli
            .aetitle
            .map_or_else(|| defaults::SCP_AE.to_string(), |a| a.title),
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
        verbosity,
        tls,
        log_config,
        records: cli.records.all()?,
    }))
}

fn parse_demo(prog: &str, args: &[String]) -> Result<Invocation, Failure> {
    let translated = match translate_mode(prog, args, help_demo)? {
        Ok(translated) => translated,
        Err(info) => return Ok(info),
    };
    let cli = DemoCli::try_parse_from(&translated).map_err(clap_failure)?;
    Ok(Invocation::Demo(DemoOptions {
        verbosity: cli.levels.verbosity(Verbosity::Verbose),
        repeat: cli.repeat.unwrap_or(1),
        status: cli.status.unwrap_or(0),
        called: cli.call.unwrap_or_else(|| defaults::SCP_AE.to_string()),
        json: cli.json,
        find: cli.find,
    }))
}

/// The echo options `find` does not take (echoscu's negotiation debugging, repeated checks, aborting instead of
/// releasing: the find check always releases).
const NOT_FOR_FIND: [&str; 4] = ["--propose-ts", "--propose-pc", "--repeat", "--abort"];

/// `find [options] peer port`: the find options taken out, the rest parsed as the echo's.
fn parse_find(prog: &str, args: &[String]) -> Result<Invocation, Failure> {
    if args.is_empty() {
        return Err(Failure::Usage(
            "missing parameters peer and port (try find --help)".to_string(),
        ));
    }
    let args = expand_command_files(args.to_vec())?;
    let translated = match translate_mode(prog, &args, help_find)? {
        Ok(translated) => translated,
        Err(info) => return Ok(info),
    };
    let longs = find::find_longs();
    let (mut ours, mut rest) = (Vec::new(), Vec::new());
    let mut positional = false;
    for arg in &translated {
        let name = arg.split('=').next().unwrap_or(arg);
        positional |= arg == "--";
        if !positional && NOT_FOR_FIND.contains(&name) {
            return Err(Failure::Usage(format!(
                "option {name} is not a find option"
            )));
        }
        if !positional && longs.iter().any(|l| l == name) {
            ours.push(arg.clone());
        } else {
            rest.push(arg.clone());
        }
    }
    let find = FindCli::try_parse_from(&ours).map_err(clap_failure)?;
    match parse_echo(prog, rest)? {
        Invocation::Echo(link, _) => {
            Ok(Invocation::Find(find.find.into_options(link)?, translated))
        }
        other => Ok(other),
    }
}

/// Parses a subcommand's words with clap: the options, or `--help`'s text as an invocation.
fn subcommand<T: Parser>(args: &[String]) -> Result<Result<T, Invocation>, Failure> {
    match T::try_parse_from(args) {
        Ok(cli) => Ok(Ok(cli)),
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            Ok(Err(Invocation::Help(e.render().to_string())))
        }
        Err(e) => Err(clap_failure(e)),
    }
}

/// Parses the words after `serve`.
fn parse_serve(args: &[String]) -> Result<Invocation, Failure> {
    let cli = match subcommand::<ServeCli>(args)? {
        Ok(cli) => cli,
        Err(help) => return Ok(help),
    };
    Ok(Invocation::Serve(ServeOptions {
        config: cli.config,
        check_config: cli.check_config,
    }))
}

/// Parses the words after `status`.
fn parse_status(args: &[String]) -> Result<Invocation, Failure> {
    let cli = match subcommand::<StatusCli>(args)? {
        Ok(cli) => cli,
        Err(help) => return Ok(help),
    };
    let given: Vec<&str> = [
        ("--agent", cli.agent.is_some()),
        ("--http", cli.http.is_some()),
        ("--config", cli.config.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    if given.len() > 1 {
        return Err(Failure::Usage(format!(
            "{}: give one of them",
            given.join(" and ")
        )));
    }
    Ok(Invocation::Status(StatusOptions {
        name: cli.name,
        agent: cli.agent,
        http: cli.http,
        config: cli.config,
    }))
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GenerateKind {
    /// The man pages.
    Man,
    /// A completion script for this shell.
    Completion(Shell),
}

const GENERATE_USAGE: &str =
    "usage: echoprobe generate man|bash|zsh|fish|elvish|powershell [DIR] (default DIR: .)";

/// Parses the words after `generate`.
fn parse_generate(args: &[String]) -> Result<Invocation, Failure> {
    let (kind, dir) = match args {
        [kind] => (kind, PathBuf::from(".")),
        [kind, dir] => (kind, PathBuf::from(dir)),
        _ => return Err(Failure::Usage(GENERATE_USAGE.to_string())),
    };
    let kind = match kind.as_str() {
        "man" => GenerateKind::Man,
        "bash" => GenerateKind::Completion(Shell::Bash),
        "zsh" => GenerateKind::Completion(Shell::Zsh),
        "fish" => GenerateKind::Completion(Shell::Fish),
        "elvish" => GenerateKind::Completion(Shell::Elvish),
        "powershell" => GenerateKind::Completion(Shell::PowerShell),
        "-h" | "--help" => return Ok(Invocation::Help(format!("{GENERATE_USAGE}\n"))),
        other => {
            return Err(Failure::Usage(format!(
                "unknown kind '{other}': {GENERATE_USAGE}"
            )))
        }
    };
    Ok(Invocation::Generate(kind, dir))
}

/// `-lc FILE`, loaded; refused with `-q`/`-v`/`-d`/`-ll` as DCMTK does ("--log-config not allowed with --verbose,
/// --debug or --quiet").
fn log_config(
    path: Option<&str>,
    levels: &command::Levels,
    prog: &str,
) -> Result<Option<LogConfig>, Failure> {
    match path {
        None => Ok(None),
        Some(_) if levels.any() => Err(Failure::Usage(
            "--log-config not allowed with --verbose, --debug, --quiet or --log-level".to_string(),
        )),
        Some(path) => crate::log::config::load(path, prog).map(Some),
    }
}

#[cfg(test)]
mod tests;
