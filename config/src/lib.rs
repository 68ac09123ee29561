//! The `probe.toml` schema: one parser and one set of rules for the `echoprobe serve` daemon and the probe
//! firmware's build.
//!
//! ```toml
//! [defaults]            # any target key but name, address and agent_port
//! [[target]]            # name, address, port, called_ae, calling_ae, interval_ms, connect_timeout_ms,
//!                       # acse_timeout_ms, dimse_timeout_ms, deadline_ms, rise, fall, agent_port,
//!                       # tls, key, certificate, ca_files, profile, verify_host_name,
//!                       # check = "echo" | "find", and for a find: query_model, query, min_matches,
//!                       # max_matches, require
//! [listen]              # http = "ADDR:PORT", agent = "ADDR:PORT"
//! [serve]               # max_concurrent, history (the firmware: max_concurrent only, its check slots)
//! [probe]               # allow = ["CIDR", ...]
//! [module.NAME]         # named settings for /probe: the [defaults] keys
//! [web]                 # tls_key, tls_certificate, basic_auth = { user = "bcrypt hash" }
//! [network] [http] [scp]   # the firmware's own sections
//! ```
//!
//! Every problem is an [`Error`] naming the file, the key, the value and what is wrong, e.g.
//! ``probe.toml: `target[3].called_ae`: `STORESCPSTORESCPX` is not a valid AE title: must be 1 to 16 characters``.
//! Unknown keys are errors.

mod parse;
pub mod query;
mod rules;
#[cfg(test)]
mod tests;

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use rules::{check_ae_title, check_name, Cidr};

/// A configuration problem: where (file and key) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The file as the user named it.
    pub file: String,
    /// The key's path (`target[3].called_ae`), empty for the whole file.
    pub key: String,
    /// What is wrong, with the value.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.file, self.key, self.message)
        }
    }
}

impl core::error::Error for Error {}

impl Error {
    fn at(file: &str, (key, message): (String, String)) -> Error {
        Error {
            file: file.to_string(),
            key,
            message,
        }
    }
}

/// The TLS profile (the CLI's `+py`, `+px`, `+pz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// `bcp195-nd`: non-downgrading BCP 195 (the default).
    #[default]
    Bcp195Nd,
    /// `bcp195`.
    Bcp195,
    /// `bcp195-ex`: extended BCP 195, TLS 1.2 only.
    Bcp195Ex,
}

impl Profile {
    /// The names the file uses.
    pub const NAMES: [&'static str; 3] = ["bcp195-nd", "bcp195", "bcp195-ex"];
    /// The profiles those names stand for, in their order.
    pub const VALUES: [Profile; 3] = [Profile::Bcp195Nd, Profile::Bcp195, Profile::Bcp195Ex];
}

/// A check's TLS settings (the CLI's `+tls`/`+tla`, `+cf`, `+py`..., `--verify-host-name`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tls {
    /// Our private key and certificate (PEM), or none (anonymous TLS).
    pub identity: Option<(PathBuf, PathBuf)>,
    /// Certificates to trust.
    pub ca_files: Vec<PathBuf>,
    /// The profile.
    pub profile: Profile,
    /// Check the peer certificate's names against the address.
    pub verify_host_name: bool,
}

/// How to check: everything of a target but its name and address (also a module's and the defaults' settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// TCP port (default 104).
    pub port: u16,
    /// The peer's AE title (default `ANY-SCP`).
    pub called_ae: String,
    /// Ours (default `ECHOSCU`).
    pub calling_ae: String,
    /// From one check's start to the next's (default 10 s).
    pub interval_ms: u32,
    /// TCP connect (default 5 s).
    pub connect_timeout_ms: u32,
    /// A-ASSOCIATE-AC/RJ and A-RELEASE-RP (default 5 s).
    pub acse_timeout_ms: u32,
    /// C-ECHO-RSP (default 5 s).
    pub dimse_timeout_ms: u32,
    /// The whole check (default: none beyond the phases' own).
    pub deadline_ms: Option<u32>,
    /// Good checks in a row to go up (default 2).
    pub rise: u8,
    /// Bad checks in a row to go down (default 3).
    pub fall: u8,
    /// TLS, or plain TCP.
    pub tls: Option<Tls>,
    /// What the check does once associated (default: a C-ECHO).
    pub check: Check,
}

/// What a check does once associated: `check = "echo"` (the default) or `check = "find"` with its query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Check {
    /// A C-ECHO (`echoprobe`'s check).
    #[default]
    Echo,
    /// A C-FIND (`echoprobe find`'s check).
    Find(Find),
}

impl Check {
    /// The names `check` takes.
    pub const NAMES: [&'static str; 2] = ["echo", "find"];
}

/// The information model a find check queries (`echoprobe find`'s `-S`, `-P`, `-W`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryModel {
    /// `study`: Study Root Query/Retrieve (`-S`).
    Study,
    /// `patient`: Patient Root Query/Retrieve (`-P`).
    Patient,
    /// `worklist`: Modality Worklist (`-W`).
    Worklist,
}

impl QueryModel {
    /// The names `query_model` takes.
    pub const NAMES: [&'static str; 3] = ["study", "patient", "worklist"];
    /// The models those names stand for, in their order.
    pub const VALUES: [QueryModel; 3] =
        [QueryModel::Study, QueryModel::Patient, QueryModel::Worklist];
}

/// A find check's query and verdict bounds, as `echoprobe find` takes them. The key strings are the command line's
/// `-k` and `--require` values: the daemon reads them with the command line's own parser (a keyword of its table or
/// `gggg,eeee`; `KEY=VALUE`, or `KEY` alone for a return key), so a key means what it means there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Find {
    /// `query_model` (required).
    pub model: QueryModel,
    /// `query = ["StudyInstanceUID=1.2.3", "PatientID"]`: one `-k` each, at least one.
    pub query: Vec<String>,
    /// `min_matches`: `--min-matches` (`None`: the command line's default, 1).
    pub min_matches: Option<u32>,
    /// `max_matches`: `--max-matches`, then C-CANCEL-RQ (`None`: the command line's default, 100).
    pub max_matches: Option<u32>,
    /// `require = "PatientID=P1"`: `--require`.
    pub require: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            port: 104,
            called_ae: "ANY-SCP".into(),
            calling_ae: "ECHOSCU".into(),
            interval_ms: 10_000,
            connect_timeout_ms: 5_000,
            acse_timeout_ms: 5_000,
            dimse_timeout_ms: 5_000,
            deadline_ms: None,
            rise: 2,
            fall: 3,
            tls: None,
            check: Check::Echo,
        }
    }
}

/// One `[[target]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Unique; what HAProxy's `agent-send` and `/health/NAME` select it by.
    pub name: String,
    /// A host name or an IP address.
    pub address: String,
    /// Its own agent port, answering for it alone.
    pub agent_port: Option<u16>,
    /// How to check it: its keys over `[defaults]` over the built-in defaults.
    pub settings: Settings,
}

/// `[listen]`: where the daemon answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// HTTP (health, metrics, /probe, API, status page); default 127.0.0.1:9104.
    pub http: SocketAddr,
    /// HAProxy agent-check; default 127.0.0.1:5555.
    pub agent: SocketAddr,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            http: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9104),
            agent: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5555),
        }
    }
}

/// `[serve]`: the daemon's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serve {
    /// Checks running at once, over all targets (default 256).
    pub max_concurrent: u32,
    /// Checks kept per target (default 120).
    pub history: u32,
}

impl Default for Serve {
    fn default() -> Self {
        Serve {
            max_concurrent: 256,
            history: 120,
        }
    }
}

impl Serve {
    /// The probe firmware's: 2 checks at once (its check slots, each with its own socket and buffers); `history`
    /// does not apply there.
    pub const FIRMWARE: Serve = Serve {
        max_concurrent: 2,
        history: 1,
    };
}

/// `[web]`: the HTTP listener's TLS and users.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Web {
    /// Key and certificate (PEM): HTTPS instead of HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Basic-auth users and their bcrypt hashes (empty: no authentication).
    pub basic_auth: BTreeMap<String, String>,
}

/// The firmware's `[network]`: how the probe gets its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// `address = "a.b.c.d/prefix"` and `gateway`.
    Static(StaticIpv4),
    /// `address = "dhcp"` (no `gateway`): address, prefix and router come from a DHCP server.
    Dhcp,
}

/// A fixed IPv4 configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticIpv4 {
    /// The probe's own address.
    pub address: Ipv4Addr,
    /// Its prefix length.
    pub prefix: u8,
    /// The default route.
    pub gateway: Ipv4Addr,
}

/// The firmware's `[scp]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scp {
    /// Port it answers C-ECHO on.
    pub port: u16,
    /// Its AE title.
    pub ae_title: String,
}

/// The firmware's sections (the daemon accepts and ignores them, so one file can serve both).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Firmware {
    /// `[network]`.
    pub network: Option<Network>,
    /// `[http] port`.
    pub http_port: Option<u16>,
    /// `[scp]`.
    pub scp: Option<Scp>,
}

/// A whole, valid `probe.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// `[defaults]` over the built-in defaults (what `/probe` uses without a module).
    pub defaults: Settings,
    /// Every `[[target]]`, in file order.
    pub targets: Vec<Target>,
    /// `[listen]`.
    pub listen: Listen,
    /// `[serve]`.
    pub serve: Serve,
    /// `[probe] allow`: where `/probe` may connect (`None`: the targets' own addresses).
    pub probe_allow: Option<Vec<Cidr>>,
    /// `[module.NAME]`, each over `[defaults]`.
    pub modules: BTreeMap<String, Settings>,
    /// `[web]`.
    pub web: Web,
    /// The firmware's sections.
    pub firmware: Firmware,
}

impl Config {
    /// Reads and checks `path`; relative file names inside are relative to the file's folder.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error {
            file: file.clone(),
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, &file, base)
    }

    /// Checks `text` (from `file`, for messages); relative file names are joined to `base`.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Config, Error> {
        parse::config(text, base, parse::Reader::Daemon).map_err(|e| Error::at(file, e))
    }

    /// Checks `text` (from `file`) as the probe firmware's build reads it: only `[network]`, `[http]`, `[scp]` and
    /// `[[target]]`, each required, and every target key given (the firmware has no defaults, TLS or deadline) but the
    /// optional `check` and find keys. The
    /// firmware's own limits (IPv4 targets, how many) are its build's to check.
    pub fn parse_firmware(text: &str, file: &str) -> Result<Config, Error> {
        parse::config(text, Path::new("."), parse::Reader::Firmware).map_err(|e| Error::at(file, e))
    }

    /// A target by name.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// One line: how many targets and modules, and where it listens.
    pub fn summary(&self) -> String {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}, http {}, agent {}",
            plural(self.targets.len(), "target"),
            plural(self.modules.len(), "module"),
            self.listen.http,
            self.listen.agent
        )
    }
}
