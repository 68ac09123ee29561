//! The clap definitions of the three modes (long forms only; the `-h` texts are ours, in `help.rs`), and all three
//! as one command for the man pages and shell completions.

use core::net::IpAddr;
use core::time::Duration;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser};

use super::defaults;
use super::find::{FindArgs, RecordArgs};
use super::values::{
    parse_ae_title, parse_ae_title_truncating, parse_count, parse_level, parse_seconds_or_zero,
    parse_status, parse_timeout, TruncatedAe,
};
use crate::log::Verbosity;
use crate::tls::TlsCli;

// clap definitions (long forms only; help is ours, see `help_*`)

/// The options every mode has, defined once: `-q`, `-v`, `-d`, `-ll` (the last one given wins). The help strings are
/// the echoscu mode's; [`clap_command`] gives `scp` and `demo` their own.
#[derive(Args, Debug)]
pub(super) struct Levels {
    /// [-q] quiet mode: no summary, no warnings (errors still go to stderr; the exit code tells the rest)
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["verbose", "debug", "log_level"])]
    pub(super) quiet: bool,
    /// [-v] verbose mode: print the negotiation and each echo on stderr
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "debug", "log_level"])]
    pub(super) verbose: bool,
    /// [-d] debug mode: -v and a hex dump of every PDU sent and received
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["quiet", "verbose", "log_level"])]
    pub(super) debug: bool,
    /// [-ll] log level: fatal or error = -q, warn = default, info = -v, debug or trace = -d
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "level", value_parser = parse_level, overrides_with_all = ["quiet", "verbose", "debug"])]
    pub(super) log_level: Option<Verbosity>,
}

impl Levels {
    /// The verbosity asked for, or `default`. clap's overrides_with leaves only the last of the four set.
    pub(super) fn verbosity(&self, default: Verbosity) -> Verbosity {
        super::chosen(
            [
                (self.quiet, Verbosity::Quiet),
                (self.verbose, Verbosity::Verbose),
                (self.debug, Verbosity::Debug),
            ],
            self.log_level.unwrap_or(default),
        )
    }

    /// True if any of the four was given (`-lc` is not allowed with them).
    pub(super) fn any(&self) -> bool {
        self.quiet || self.verbose || self.debug || self.log_level.is_some()
    }
}

/// The help strings of the shared options in `scp` and `demo` (for the man pages and completions).
fn with_levels_help(cmd: clap::Command, help: [&'static str; 4]) -> clap::Command {
    // mut_args keeps the order (mut_arg would move the argument to the end, reordering the man page).
    cmd.mut_args(|a| {
        let text = match a.get_id().as_str() {
            "quiet" => help[0],
            "verbose" => help[1],
            "debug" => help[2],
            "log_level" => help[3],
            _ => return a,
        };
        a.help(text)
    })
}

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    override_usage = "echoprobe [options] peer port"
)]
pub(super) struct EchoCli {
    /// print the expanded and translated command line arguments first
    #[arg(help_heading = "general options")]
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) arguments: bool,
    #[command(flatten)]
    pub(super) levels: Levels,
    /// [-lc] read DCMTK's log4cplus-style logger configuration file: root level, one console and one file appender, Threshold, RollingFileAppender size limit; layouts ignored; syslog, socket, daily appenders, filters and unknown keys refused (exit 1); not with -q/-v/-d/-ll
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "filename")]
    pub(super) log_config: Option<String>,
    /// [-aet] set my calling AE title (default: ECHOSCU; 1 to 16 printable characters, no backslash)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title_truncating)]
    pub(super) aetitle: Option<TruncatedAe>,
    /// [-aec] set the called AE title of the peer (default: ANY-SCP)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title_truncating)]
    pub(super) call: Option<TruncatedAe>,
    /// [-pts] propose n transfer syntaxes (1..38)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u8).range(1..=38))]
    pub(super) propose_ts: Option<u8>,
    /// [-ppc] propose n presentation contexts (1..128)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u8).range(1..=128))]
    pub(super) propose_pc: Option<u8>,
    /// [-to] timeout for connection requests, seconds, decimals allowed (default: 10; echoscu: unlimited)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    pub(super) timeout: Option<Duration>,
    /// [-ts] timeout for each socket write, seconds (default: 60, 0 for none)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_seconds_or_zero)]
    pub(super) socket_timeout: Option<Duration>,
    /// [-ta] timeout for ACSE messages (A-ASSOCIATE-AC/RJ, A-RELEASE-RP) and the TLS handshake, seconds (default: 30)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    pub(super) acse_timeout: Option<Duration>,
    /// [-td] timeout for each C-ECHO-RSP, seconds (default: 10; echoscu: unlimited)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    pub(super) dimse_timeout: Option<Duration>,
    /// [-pdu] set max receive PDU to n bytes (4096..131072, default: 16384)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u32).range(i64::from(defaults::MIN_PDU)..=i64::from(defaults::MAX_MAX_PDU)))]
    pub(super) max_pdu: Option<u32>,
    /// send n C-ECHO-RQs on the association (default: 1)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = parse_count)]
    pub(super) repeat: Option<u32>,
    /// abort the association instead of releasing it
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) abort: bool,
    /// [-i4] use IPv4 addresses of the peer name only (DCMTK 3.6.8's default)
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["ipv6", "ip_auto"])]
    pub(super) ipv4: bool,
    /// [-i6] use IPv6 addresses of the peer name only
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["ipv4", "ip_auto"])]
    pub(super) ipv6: bool,
    /// [-i0] use every address the peer name resolves to, the next after a refusal, all within -to (default)
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["ipv4", "ipv6"])]
    pub(super) ip_auto: bool,
    /// overall limit for the whole check: name lookup, connect, association, echoes, release; seconds (default: 30, 0 for none; exit code 72)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "seconds", value_parser = parse_seconds_or_zero)]
    pub(super) deadline: Option<Duration>,
    /// print the result as one JSON object on stdout
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) tls: TlsCli,
    /// host name or IP address of the DICOM peer (IPv6 in brackets allowed)
    #[arg(value_name = "peer")]
    pub(super) peer: Option<String>,
    /// TCP port of the peer
    #[arg(value_name = "port")]
    pub(super) port: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    override_usage = "echoprobe scp [options] port"
)]
pub(super) struct ScpCli {
    #[command(flatten)]
    pub(super) levels: Levels,
    /// [-lc] read DCMTK's log4cplus-style logger configuration file (as in echoprobe -h); not with -q/-v/-d/-ll
    #[arg(help_heading = "general options")]
    #[arg(long, value_name = "filename")]
    pub(super) log_config: Option<String>,
    /// [-aet] my AE title (default: ECHOPROBE)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title_truncating)]
    pub(super) aetitle: Option<TruncatedAe>,
    /// reject associations whose called AE title is not mine (A-ASSOCIATE-RJ 1/1/7)
    #[arg(help_heading = "network options")]
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) require_called_aet: bool,
    /// accept only this calling AE title (repeatable); others get A-ASSOCIATE-RJ 1/1/3 (default: any)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title, action = ArgAction::Append)]
    pub(super) allow_calling: Vec<String>,
    /// the status of every C-ECHO-RSP, 0xNNNN or decimal (default: 0x0000), to test checkers
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "status", value_parser = parse_status)]
    pub(super) status: Option<u16>,
    /// the address to listen on (default: 0.0.0.0, every interface, like storescp)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "address")]
    pub(super) bind: Option<IpAddr>,
    /// concurrent associations; above it A-ASSOCIATE-RJ 2/3/2 (default: 32)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(super) max_associations: Option<u32>,
    /// close an association idle for this many seconds (default: 30)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    pub(super) idle_timeout: Option<Duration>,
    /// [-ta] wait this many seconds for the A-ASSOCIATE-RQ (default: 30)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "seconds", value_parser = parse_timeout)]
    pub(super) acse_timeout: Option<Duration>,
    /// [-pdu] max receive PDU in bytes (4096..131072, default: 16384)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u32).range(i64::from(defaults::MIN_PDU)..=i64::from(defaults::MAX_MAX_PDU)))]
    pub(super) max_pdu: Option<u32>,
    /// exit after n associations (default: run until killed)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) exit_after: Option<u64>,
    #[command(flatten)]
    pub(super) records: RecordArgs,
    #[command(flatten)]
    pub(super) tls: TlsCli,
    /// TCP port to listen on (0: any free port, printed at start)
    #[arg(value_name = "port")]
    pub(super) port: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    override_usage = "echoprobe demo [options]"
)]
pub(super) struct DemoCli {
    #[command(flatten)]
    pub(super) levels: Levels,
    /// send n C-ECHO-RQs (default: 1)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "n", value_parser = parse_count)]
    pub(super) repeat: Option<u32>,
    /// the demo SCP answers with this status (default: 0x0000; 0x0110 shows exit code 68)
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, value_name = "status", value_parser = parse_status)]
    pub(super) status: Option<u16>,
    /// [-aec] the called AE title the check uses (default: ECHOPROBE; another one shows exit code 61)
    #[arg(help_heading = "network options")]
    #[arg(long, value_name = "aetitle", value_parser = parse_ae_title)]
    pub(super) call: Option<String>,
    /// print the result as JSON
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) json: bool,
    /// run a find check of the demo SCP's records instead of an echo
    #[arg(help_heading = "echoprobe options")]
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) find: bool,
}

/// `find`'s own options; the rest of its command line is [`EchoCli`]'s.
#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    override_usage = "echoprobe find [options] peer port"
)]
pub(super) struct FindCli {
    #[command(flatten)]
    pub(super) find: FindArgs,
}

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_version_flag = true,
    args_override_self = true,
    name = "echoprobe serve",
    about = "check every configured DICOM node on its schedule and answer HAProxy agent-checks, HTTP health \
             checks, Prometheus, a status page and `echoprobe status` (SIGHUP reloads, SIGTERM stops)",
    override_usage = "echoprobe serve [--config FILE] [--check-config]"
)]
pub(super) struct ServeCli {
    /// the configuration file
    #[arg(long, value_name = "FILE", default_value = super::DEFAULT_CONFIG)]
    pub(super) config: PathBuf,
    /// check the configuration, print a one-line summary and exit (0: good, 1: bad)
    #[arg(long, action = ArgAction::SetTrue)]
    pub(super) check_config: bool,
}

#[derive(Parser, Debug)]
#[command(
    no_binary_name = true,
    disable_version_flag = true,
    args_override_self = true,
    name = "echoprobe status",
    about = "ask a running `echoprobe serve` for a target's verdict and exit with its code, in about a \
             millisecond (for keepalived MISC_CHECK, ldirectord and other script checks)",
    override_usage = "echoprobe status NAME [--agent ADDR:PORT | --http ADDR:PORT | --config FILE]",
    after_help = "It asks the daemon's agent port (one line each way; no TLS or basic auth there), or with \
                  --http its plain-HTTP API.\n\n\
                  exit codes:\n   \
                  0  the target is up\n  \
                  60+ the target is down: the code of its last failed check, as `echoprobe` exits (60 before its \
                  first check)\n   \
                  1  no verdict: unknown target, the daemon not reachable or not answering, bad command line"
)]
pub(super) struct StatusCli {
    /// the target's name
    #[arg(value_name = "NAME")]
    pub(super) name: String,
    /// the daemon's agent-check address (default: the configuration's [listen] agent)
    #[arg(long, value_name = "ADDR:PORT")]
    pub(super) agent: Option<String>,
    /// ask the daemon's HTTP API here instead (plain HTTP)
    #[arg(long, value_name = "ADDR:PORT")]
    pub(super) http: Option<String>,
    /// the daemon's configuration file, for its [listen] agent (default: /etc/echoprobe/probe.toml if it exists,
    /// else 127.0.0.1:5555)
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
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
        .override_usage("echoprobe [options] peer port\n       echoprobe find [options] peer port\n       echoprobe scp [options] port\n       echoprobe demo [options]")
        .disable_help_subcommand(true)
        .args_conflicts_with_subcommands(true)
        .subcommand(
            with_levels_help(
                ScpCli::command(),
                [
                    "[-q] print errors only",
                    "[-v] also print each A-ASSOCIATE-RQ, the negotiation and each C-ECHO-RQ",
                    "[-d] debug mode: -v and a hex dump of every PDU sent and received",
                    "[-ll] log level: fatal or error = -q, warn = default, info = -v, debug or trace = -d",
                ],
            )
                .name("scp")
                .no_binary_name(false)
                .about("a DICOM C-ECHO SCP (storescp's option spelling), with TLS and association limits")
                .override_usage("echoprobe scp [options] port"),
        )
        .subcommand(
            with_levels_help(
                DemoCli::command(),
                [
                    "[-q] print errors only (the exit code says the rest)",
                    "[-v] print the negotiation and each echo (the demo's default)",
                    "[-d] debug mode: -v and a hex dump of every PDU sent and received",
                    "[-ll] log level: fatal or error = -q, warn = default, info = -v, debug or trace = -d",
                ],
            )
                .name("demo")
                .no_binary_name(false)
                .about("start a C-ECHO SCP on 127.0.0.1 and check it, verbosely")
                .override_usage("echoprobe demo [options]"),
        )
        .subcommand(
            FindArgs::augment_args(EchoCli::command())
                .mut_args(|a| {
                    let id = a.get_id().as_str();
                    if ["propose_ts", "propose_pc", "repeat", "abort"].contains(&id) {
                        a.hide(true)
                    } else {
                        a
                    }
                })
                .name("find")
                .no_binary_name(false)
                .about("a C-FIND check (findscu's -W/-P/-S/-k) with a verdict: matches, required value, failure status")
                .override_usage("echoprobe find [options] peer port"),
        )
}
