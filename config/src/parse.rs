//! The walk over the TOML document: each table's keys checked against its allowed set, each value by its rule,
//! errors as (key path, message).

use core::net::{Ipv4Addr, SocketAddr};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::rules::{check_ae_title, check_host, check_name, Cidr};
use crate::{
    Check, Config, Find, Firmware, Listen, Network, Profile, QueryModel, Scp, Serve, Settings,
    StaticIpv4, Target, Tls, Web,
};

pub(crate) type Res<T> = Result<T, (String, String)>;

/// A value as the file wrote it, for messages.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(_) => "[...]".into(),
        Value::Table(_) => "{...}".into(),
    }
}

fn err<T>(key: &str, msg: impl Into<String>) -> Res<T> {
    Err((key.to_owned(), msg.into()))
}

const SECTIONS: &[&str] = &[
    "defaults", "target", "listen", "serve", "probe", "module", "web", "network", "http", "scp",
];

/// The sections the firmware reads: each required but `[serve]` (its `max_concurrent` is the firmware's number of
/// check slots).
const FIRMWARE_SECTIONS: &[&str] = &["network", "http", "scp", "serve", "target"];

/// A firmware `[[target]]`'s keys, each required (the firmware has no defaults, TLS or deadline); `check` and the
/// find keys are allowed besides, optional as for the daemon.
const FIRMWARE_TARGET_KEYS: &[&str] = &[
    "name",
    "address",
    "port",
    "called_ae",
    "calling_ae",
    "agent_port",
    "interval_ms",
    "connect_timeout_ms",
    "acse_timeout_ms",
    "dimse_timeout_ms",
    "rise",
    "fall",
];

/// Who reads the file: the daemon (every section, defaults for what is not given) or the firmware's build (its own
/// sections and keys, all required).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    Daemon,
    Firmware,
}

/// The keys of `[defaults]` and `[module.NAME]` but the find's (see [`setting_keys`]).
const SETTING_KEYS: &[&str] = &[
    "port",
    "called_ae",
    "calling_ae",
    "interval_ms",
    "connect_timeout_ms",
    "acse_timeout_ms",
    "dimse_timeout_ms",
    "deadline_ms",
    "rise",
    "fall",
    "tls",
    "key",
    "certificate",
    "ca_files",
    "profile",
    "verify_host_name",
    "check",
];

/// The keys that only a find check (`check = "find"`) has; a setting key too (see [`setting_keys`]).
const FIND_KEYS: &[&str] = &[
    "query_model",
    "query",
    "min_matches",
    "max_matches",
    "require",
];

/// Every key of `[defaults]` and `[module.NAME]`.
fn setting_keys() -> Vec<&'static str> {
    [SETTING_KEYS, FIND_KEYS].concat()
}

/// A table's keys, checked against the allowed set (a typo is an error, not a silently ignored key).
struct Section<'a> {
    name: String,
    table: &'a Table,
}

impl<'a> Section<'a> {
    fn new(name: String, table: &'a Table, allowed: &[&str]) -> Res<Self> {
        let section = Section { name, table };
        for k in table.keys() {
            if !allowed.contains(&k.as_str()) {
                return err(
                    &section.key(k),
                    format!("unknown key (known: {})", allowed.join(", ")),
                );
            }
        }
        Ok(section)
    }
    fn key(&self, k: &str) -> String {
        if self.name.is_empty() {
            k.to_owned()
        } else {
            format!("{}.{k}", self.name)
        }
    }
    fn opt(&self, k: &str) -> Option<&'a Value> {
        self.table.get(k)
    }
    fn get(&self, k: &str) -> Res<&'a Value> {
        self.opt(k).map_or_else(|| err(&self.key(k), "missing"), Ok)
    }
    fn str_of(&self, k: &str, v: &'a Value) -> Res<&'a str> {
        v.as_str().map_or_else(
            || err(&self.key(k), format!("`{}` must be a string", show(v))),
            Ok,
        )
    }
    fn str(&self, k: &str) -> Res<&'a str> {
        self.str_of(k, self.get(k)?)
    }
    fn opt_str(&self, k: &str) -> Res<Option<&'a str>> {
        self.opt(k).map(|v| self.str_of(k, v)).transpose()
    }
    fn opt_int(&self, k: &str, min: i64, max: i64) -> Res<Option<i64>> {
        let Some(v) = self.opt(k) else {
            return Ok(None);
        };
        let n = v.as_integer().map_or_else(
            || err(&self.key(k), format!("`{}` must be an integer", show(v))),
            Ok,
        )?;
        if n < min || n > max {
            return err(&self.key(k), format!("{n} is out of range {min}..={max}"));
        }
        Ok(Some(n))
    }
    fn int(&self, k: &str, min: i64, max: i64) -> Res<i64> {
        self.opt_int(k, min, max)?
            .map_or_else(|| err(&self.key(k), "missing"), Ok)
    }
    fn opt_bool(&self, k: &str) -> Res<Option<bool>> {
        self.opt(k)
            .map(|v| {
                v.as_bool().map_or_else(
                    || err(&self.key(k), format!("`{}` must be true or false", show(v))),
                    Ok,
                )
            })
            .transpose()
    }
    fn opt_ae(&self, k: &str) -> Res<Option<String>> {
        let Some(s) = self.opt_str(k)? else {
            return Ok(None);
        };
        check_ae_title(s)
            .map_err(|m| (self.key(k), format!("`{s}` is not a valid AE title: {m}")))?;
        Ok(Some(s.to_owned()))
    }
    fn opt_path(&self, k: &str, base: &Path) -> Res<Option<PathBuf>> {
        let Some(s) = self.opt_str(k)? else {
            return Ok(None);
        };
        if s.is_empty() {
            return err(&self.key(k), "is empty (name a file)");
        }
        Ok(Some(base.join(s)))
    }
    fn socket(&self, k: &str) -> Res<Option<SocketAddr>> {
        let Some(s) = self.opt_str(k)? else {
            return Ok(None);
        };
        s.parse().map(Some).map_err(|_| {
            (
                self.key(k),
                format!("`{s}` is not ADDR:PORT (e.g. 127.0.0.1:5555 or [::1]:5555)"),
            )
        })
    }
    fn ipv4(&self, k: &str) -> Res<Ipv4Addr> {
        let s = self.str(k)?;
        s.parse()
            .map_err(|_| (self.key(k), format!("`{s}` is not an IPv4 address")))
    }
    /// One of `names` (`what` says what it is), as the value of the same place in `values`.
    fn opt_choice<T, const N: usize>(
        &self,
        k: &str,
        names: [&str; N],
        values: [T; N],
        what: &str,
    ) -> Res<Option<T>> {
        let Some(s) = self.opt_str(k)? else {
            return Ok(None);
        };
        match names.iter().zip(values).find(|(name, _)| **name == s) {
            Some((_, value)) => Ok(Some(value)),
            None => err(
                &self.key(k),
                format!("`{s}` is not {what} (known: {})", names.join(", ")),
            ),
        }
    }
    /// A list of non-empty strings: `list` is the message when it is not a list, `item` what each entry must be.
    fn opt_str_list(&self, k: &str, list: &str, item: &str) -> Res<Option<Vec<&'a str>>> {
        let Some(v) = self.opt(k) else {
            return Ok(None);
        };
        let values = v.as_array().map_or_else(|| err(&self.key(k), list), Ok)?;
        let mut out = Vec::with_capacity(values.len());
        for (i, value) in values.iter().enumerate() {
            match value.as_str() {
                Some(text) if !text.is_empty() => out.push(text),
                _ => {
                    return err(
                        &format!("{}[{i}]", self.key(k)),
                        format!("`{}` must be {item}", show(value)),
                    )
                }
            }
        }
        Ok(Some(out))
    }
    fn table(&self, k: &str) -> Res<Option<&'a Table>> {
        self.opt(k)
            .map(|v| {
                v.as_table()
                    .map_or_else(|| err(&self.key(k), "must be a table"), Ok)
            })
            .transpose()
    }
}

/// Settings as one table gives them: each key optional, laid over another layer with [`Partial::over`].
#[derive(Default, Clone)]
struct Partial {
    port: Option<u16>,
    called_ae: Option<String>,
    calling_ae: Option<String>,
    interval_ms: Option<u32>,
    connect_timeout_ms: Option<u32>,
    acse_timeout_ms: Option<u32>,
    dimse_timeout_ms: Option<u32>,
    deadline_ms: Option<u32>,
    rise: Option<u8>,
    fall: Option<u8>,
    tls: Option<bool>,
    key: Option<PathBuf>,
    certificate: Option<PathBuf>,
    ca_files: Option<Vec<PathBuf>>,
    profile: Option<Profile>,
    verify_host_name: Option<bool>,
    /// `check = "find"`.
    find: Option<bool>,
    query_model: Option<QueryModel>,
    query: Option<Vec<String>>,
    min_matches: Option<u32>,
    max_matches: Option<u32>,
    require: Option<String>,
    /// The first find-only key this very table sets (not one it inherits): an error where the check is an echo.
    own_find_key: Option<&'static str>,
}

fn ms(s: &Section<'_>, k: &str, min: i64, max: i64) -> Res<Option<u32>> {
    Ok(s.opt_int(k, min, max)?.map(|n| n as u32))
}

impl Partial {
    fn read(s: &Section<'_>, base: &Path) -> Res<Partial> {
        let profile = s.opt_choice("profile", Profile::NAMES, Profile::VALUES, "a TLS profile")?;
        let ca_files = s
            .opt_str_list("ca_files", "must be a list of file names", "a file name")?
            .map(|names| names.iter().map(|n| base.join(n)).collect());
        let find = s.opt_choice("check", Check::NAMES, [false, true], "a check")?;
        let query_model = s.opt_choice(
            "query_model",
            QueryModel::NAMES,
            QueryModel::VALUES,
            "a query model",
        )?;
        let hint = "must be a list of query keys as -k takes them, e.g. [\"StudyInstanceUID=1.2.3\", \"PatientID\"]";
        let query = s.opt_str_list("query", hint, "a query key such as \"PatientID=P1\"")?;
        if query.as_ref().is_some_and(Vec::is_empty) {
            return err(&s.key("query"), format!("is empty: {hint}"));
        }
        let require = s.opt_str("require")?;
        Ok(Partial {
            port: s.opt_int("port", 1, 65535)?.map(|p| p as u16),
            called_ae: s.opt_ae("called_ae")?,
            calling_ae: s.opt_ae("calling_ae")?,
            interval_ms: ms(s, "interval_ms", 100, 86_400_000)?,
            connect_timeout_ms: ms(s, "connect_timeout_ms", 1, 600_000)?,
            acse_timeout_ms: ms(s, "acse_timeout_ms", 1, 600_000)?,
            dimse_timeout_ms: ms(s, "dimse_timeout_ms", 1, 600_000)?,
            deadline_ms: ms(s, "deadline_ms", 1, 3_600_000)?,
            rise: s.opt_int("rise", 1, 255)?.map(|n| n as u8),
            fall: s.opt_int("fall", 1, 255)?.map(|n| n as u8),
            tls: s.opt_bool("tls")?,
            key: s.opt_path("key", base)?,
            certificate: s.opt_path("certificate", base)?,
            ca_files,
            profile,
            verify_host_name: s.opt_bool("verify_host_name")?,
            find,
            query_model,
            query: query.map(|q| q.into_iter().map(str::to_owned).collect()),
            min_matches: s
                .opt_int("min_matches", 0, i64::from(u32::MAX))?
                .map(|n| n as u32),
            max_matches: s
                .opt_int("max_matches", 1, i64::from(u32::MAX))?
                .map(|n| n as u32),
            require: require.map(str::to_owned),
            own_find_key: FIND_KEYS.iter().copied().find(|k| s.opt(k).is_some()),
        })
    }

    /// `self`'s keys where set, else `under`'s.
    fn over(self, under: &Partial) -> Partial {
        let u = under.clone();
        Partial {
            port: self.port.or(u.port),
            called_ae: self.called_ae.or(u.called_ae),
            calling_ae: self.calling_ae.or(u.calling_ae),
            interval_ms: self.interval_ms.or(u.interval_ms),
            connect_timeout_ms: self.connect_timeout_ms.or(u.connect_timeout_ms),
            acse_timeout_ms: self.acse_timeout_ms.or(u.acse_timeout_ms),
            dimse_timeout_ms: self.dimse_timeout_ms.or(u.dimse_timeout_ms),
            deadline_ms: self.deadline_ms.or(u.deadline_ms),
            rise: self.rise.or(u.rise),
            fall: self.fall.or(u.fall),
            tls: self.tls.or(u.tls),
            key: self.key.or(u.key),
            certificate: self.certificate.or(u.certificate),
            ca_files: self.ca_files.or(u.ca_files),
            profile: self.profile.or(u.profile),
            verify_host_name: self.verify_host_name.or(u.verify_host_name),
            find: self.find.or(u.find),
            query_model: self.query_model.or(u.query_model),
            query: self.query.or(u.query),
            min_matches: self.min_matches.or(u.min_matches),
            max_matches: self.max_matches.or(u.max_matches),
            require: self.require.or(u.require),
            own_find_key: self.own_find_key,
        }
    }

    /// The check the layers settle on; `at` names the table for errors. A find needs its model and query; a table
    /// whose check is an echo must not set a find key itself (one inherited from `[defaults]` is ignored, as the TLS
    /// keys under `tls = false`).
    fn check(&self, at: &str) -> Res<Check> {
        if self.find != Some(true) {
            return match self.own_find_key {
                Some(k) => err(
                    &format!("{at}.{k}"),
                    "only a find check has it: the check here is an echo (set check = \"find\")",
                ),
                None => Ok(Check::Echo),
            };
        }
        let model = self.query_model.map_or_else(
            || {
                err(
                    &format!("{at}.query_model"),
                    format!(
                        "missing (a find check names its model: {})",
                        QueryModel::NAMES.join(", ")
                    ),
                )
            },
            Ok,
        )?;
        let query = self.query.clone().map_or_else(
            || {
                err(
                    &format!("{at}.query"),
                    "missing (a find check needs at least one query key, e.g. [\"StudyInstanceUID=1.2.3\"])",
                )
            },
            Ok,
        )?;
        Ok(Check::Find(Find {
            model,
            query,
            min_matches: self.min_matches,
            max_matches: self.max_matches,
            require: self.require.clone(),
        }))
    }

    /// The finished settings (built-in defaults for what no layer set); `at` names the table for errors.
    fn finish(self, at: &str) -> Res<Settings> {
        let d = Settings::default();
        let check = self.check(at)?;
        let any_tls = self.key.is_some()
            || self.certificate.is_some()
            || self.ca_files.is_some()
            || self.profile.is_some()
            || self.verify_host_name.is_some();
        let tls = match (self.tls, any_tls) {
            (Some(false), _) | (None, false) => None,
            _ => {
                let identity = match (self.key, self.certificate) {
                    (Some(k), Some(c)) => Some((k, c)),
                    (None, None) => None,
                    (Some(_), None) => {
                        return err(
                            &format!("{at}.certificate"),
                            "missing (key needs a certificate)",
                        )
                    }
                    (None, Some(_)) => {
                        return err(&format!("{at}.key"), "missing (certificate needs a key)")
                    }
                };
                Some(Tls {
                    identity,
                    ca_files: self.ca_files.unwrap_or_default(),
                    profile: self.profile.unwrap_or_default(),
                    verify_host_name: self.verify_host_name.unwrap_or(false),
                })
            }
        };
        Ok(Settings {
            port: self.port.unwrap_or(d.port),
            called_ae: self.called_ae.unwrap_or(d.called_ae),
            calling_ae: self.calling_ae.unwrap_or(d.calling_ae),
            interval_ms: self.interval_ms.unwrap_or(d.interval_ms),
            connect_timeout_ms: self.connect_timeout_ms.unwrap_or(d.connect_timeout_ms),
            acse_timeout_ms: self.acse_timeout_ms.unwrap_or(d.acse_timeout_ms),
            dimse_timeout_ms: self.dimse_timeout_ms.unwrap_or(d.dimse_timeout_ms),
            deadline_ms: self.deadline_ms.or(d.deadline_ms),
            rise: self.rise.unwrap_or(d.rise),
            fall: self.fall.unwrap_or(d.fall),
            tls,
            check,
        })
    }
}

/// Port numbers that must be distinct, with the key that took each first.
#[derive(Default)]
struct Ports(HashMap<u16, String>);

impl Ports {
    fn claim(&mut self, key: &str, port: u16) -> Res<()> {
        if port == 0 {
            return Ok(()); // any free port: the OS keeps them apart
        }
        if let Some(first) = self.0.get(&port) {
            return err(key, format!("port {port} is already used by `{first}`"));
        }
        self.0.insert(port, key.to_owned());
        Ok(())
    }
}

pub(crate) fn config(text: &str, base: &Path, reader: Reader) -> Res<Config> {
    let doc: Table = text
        .parse()
        .map_err(|e: toml::de::Error| (String::new(), format!("not valid TOML: {e}")))?;
    let sections = match reader {
        Reader::Daemon => SECTIONS,
        Reader::Firmware => FIRMWARE_SECTIONS,
    };
    let root = Section::new(String::new(), &doc, sections).map_err(|(k, _)| {
        (
            k,
            format!("unknown section (known: {})", sections.join(", ")),
        )
    })?;
    let sub = |k: &str, allowed: &[&str]| -> Res<Option<Section<'_>>> {
        match root.opt(k) {
            None => Ok(None),
            Some(v) => {
                let t = v.as_table().map_or_else(|| err(k, "must be a table"), Ok)?;
                Section::new(k.to_owned(), t, allowed).map(Some)
            }
        }
    };
    let mut ports = Ports::default();
    let mut c = Config::default();

    let defaults = match sub("defaults", &setting_keys())? {
        Some(s) => Partial::read(&s, base)?,
        None => Partial::default(),
    };
    c.defaults = defaults.clone().finish("defaults")?;

    if let Some(s) = sub("listen", &["http", "agent"])? {
        c.listen = Listen {
            http: s.socket("http")?.unwrap_or(c.listen.http),
            agent: s.socket("agent")?.unwrap_or(c.listen.agent),
        };
    }
    if reader == Reader::Daemon {
        ports.claim("listen.http", c.listen.http.port())?;
        ports.claim("listen.agent", c.listen.agent.port())?;
    }

    // The firmware keeps no history; its default is its own (few check slots).
    let (serve_keys, d): (&[&str], _) = match reader {
        Reader::Daemon => (&["max_concurrent", "history"], Serve::default()),
        Reader::Firmware => (&["max_concurrent"], Serve::FIRMWARE),
    };
    c.serve = d;
    if let Some(s) = sub("serve", serve_keys)? {
        c.serve = Serve {
            max_concurrent: s
                .opt_int("max_concurrent", 1, 65_535)?
                .map_or(d.max_concurrent, |n| n as u32),
            history: s
                .opt_int("history", 1, 10_000)?
                .map_or(d.history, |n| n as u32),
        };
    }

    if let Some(s) = sub("probe", &["allow"])? {
        if let Some(v) = s.opt("allow") {
            let list = v.as_array().map_or_else(
                || {
                    err(
                        "probe.allow",
                        "must be a list of CIDR ranges, e.g. [\"10.1.0.0/16\"]",
                    )
                },
                Ok,
            )?;
            let mut allow = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let key = format!("probe.allow[{i}]");
                let text = item.as_str().map_or_else(
                    || err(&key, format!("`{}` must be a string", show(item))),
                    Ok,
                )?;
                allow.push(
                    text.parse::<Cidr>()
                        .map_err(|m| (key, format!("`{text}`: {m}")))?,
                );
            }
            c.probe_allow = Some(allow);
        }
    }

    if let Some(modules) = root.table("module")? {
        for (name, v) in modules {
            let at = format!("module.{name}");
            check_name(name).map_err(|m| {
                (
                    at.clone(),
                    format!("`{name}` is not a valid module name: {m}"),
                )
            })?;
            let t = v
                .as_table()
                .map_or_else(|| err(&at, "must be a table"), Ok)?;
            let m = Section::new(at.clone(), t, &setting_keys())?;
            let settings = Partial::read(&m, base)?.over(&defaults).finish(&at)?;
            c.modules.insert(name.clone(), settings);
        }
    }

    if let Some(s) = sub("web", &["tls_key", "tls_certificate", "basic_auth"])? {
        c.web = Web {
            tls: match (
                s.opt_path("tls_key", base)?,
                s.opt_path("tls_certificate", base)?,
            ) {
                (Some(k), Some(c)) => Some((k, c)),
                (None, None) => None,
                (Some(_), None) => {
                    return err(
                        "web.tls_certificate",
                        "missing (tls_key needs a certificate)",
                    )
                }
                (None, Some(_)) => {
                    return err("web.tls_key", "missing (tls_certificate needs a key)")
                }
            },
            basic_auth: BTreeMap::new(),
        };
        if let Some(users) = s.table("basic_auth")? {
            for (user, hash) in users {
                let key = format!("web.basic_auth.{user}");
                let h = hash.as_str().map_or_else(
                    || err(&key, format!("`{}` must be a string", show(hash))),
                    Ok,
                )?;
                if user.is_empty() || user.contains(':') {
                    return err(&key, "a user name is non-empty and has no `:`");
                }
                let bcrypt =
                    h.len() == 60 && ["$2a$", "$2b$", "$2y$"].iter().any(|p| h.starts_with(p));
                if !bcrypt {
                    return err(
                        &key,
                        "is not a bcrypt hash ($2b$..., 60 characters; e.g. from `htpasswd -nbB`)",
                    );
                }
                c.web.basic_auth.insert(user.clone(), h.to_owned());
            }
        }
    }

    c.firmware = firmware(&sub, &mut ports, reader)?;

    if reader == Reader::Firmware && root.opt("target").is_none() {
        return err("target", "missing");
    }
    if let Some(v) = root.opt("target") {
        let list = v.as_array().map_or_else(
            || err("target", "must be an array of tables ([[target]])"),
            Ok,
        )?;
        let mut names = HashSet::new();
        let keys: Vec<&str> = match reader {
            Reader::Daemon => [&["name", "address", "agent_port"][..], &setting_keys()].concat(),
            // The check and its find keys are optional there too (an echo by default).
            Reader::Firmware => [FIRMWARE_TARGET_KEYS, &["check"][..], FIND_KEYS].concat(),
        };
        for (i, t) in list.iter().enumerate() {
            let at = format!("target[{i}]");
            let table = t
                .as_table()
                .map_or_else(|| err(&at, "must be a table"), Ok)?;
            let s = Section::new(at.clone(), table, &keys)?;
            if reader == Reader::Firmware {
                for k in FIRMWARE_TARGET_KEYS {
                    s.get(k)?;
                }
            }
            let name = s.str("name")?;
            check_name(name).map_err(|m| (s.key("name"), format!("`{name}`: {m}")))?;
            if !names.insert(name.to_owned()) {
                return err(&s.key("name"), format!("`{name}` is used twice"));
            }
            let address = s.str("address")?;
            check_host(address).map_err(|m| (s.key("address"), format!("`{address}`: {m}")))?;
            let agent_port = s.opt_int("agent_port", 1, 65535)?.map(|p| p as u16);
            if let Some(p) = agent_port {
                ports.claim(&s.key("agent_port"), p)?;
            }
            let settings = Partial::read(&s, base)?.over(&defaults).finish(&at)?;
            c.targets.push(Target {
                name: name.to_owned(),
                address: address.to_owned(),
                agent_port,
                settings,
            });
        }
    }
    Ok(c)
}

/// Looks up a top-level table by name with its allowed keys.
type SubSection<'a> = dyn Fn(&str, &[&str]) -> Res<Option<Section<'a>>> + 'a;

/// The firmware's `[network]`, `[http]` and `[scp]`: optional for the daemon, required for the firmware.
fn firmware<'a>(sub: &SubSection<'a>, ports: &mut Ports, reader: Reader) -> Res<Firmware> {
    let sub = |k: &str, allowed: &[&str]| -> Res<Option<Section<'a>>> {
        match sub(k, allowed)? {
            None if reader == Reader::Firmware => err(k, "missing table"),
            s => Ok(s),
        }
    };
    let mut fw = Firmware::default();
    if let Some(net) = sub("network", &["address", "gateway"])? {
        fw.network = Some(network(&net)?);
    }
    if let Some(http) = sub("http", &["port"])? {
        let port = http.int("port", 1, 65535)? as u16;
        ports.claim("http.port", port)?;
        fw.http_port = Some(port);
    }
    if let Some(scp) = sub("scp", &["port", "ae_title"])? {
        let port = scp.int("port", 1, 65535)? as u16;
        ports.claim("scp.port", port)?;
        let ae_title = scp
            .opt_ae("ae_title")?
            .map_or_else(|| err("scp.ae_title", "missing"), Ok)?;
        fw.scp = Some(Scp { port, ae_title });
    }
    Ok(fw)
}

/// `[network]`: `address = "dhcp"` (no `gateway`: the DHCP server names the router), or `address = "a.b.c.d/prefix"`
/// with a `gateway` inside that subnet.
fn network(net: &Section<'_>) -> Res<Network> {
    let cidr = net.str("address")?;
    if cidr == "dhcp" {
        if net.opt("gateway").is_some() {
            return err(
                "network.gateway",
                "not with address = \"dhcp\" (the DHCP server names the router)",
            );
        }
        return Ok(Network::Dhcp);
    }
    let (addr, prefix) = cidr.split_once('/').map_or_else(
        || {
            err(
                "network.address",
                format!("`{cidr}`: write address/prefix, e.g. 192.0.2.15/24, or \"dhcp\""),
            )
        },
        Ok,
    )?;
    let address: Ipv4Addr = addr.parse().map_err(|_| {
        (
            "network.address".to_owned(),
            format!("`{addr}` is not an IPv4 address"),
        )
    })?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| (1..=30).contains(p))
        .map_or_else(
            || {
                err(
                    "network.address",
                    format!("prefix `{prefix}` must be 1..=30"),
                )
            },
            Ok,
        )?;
    let gateway = net.ipv4("gateway")?;
    let mask = u32::MAX << (32 - u32::from(prefix));
    if u32::from(gateway) & mask != u32::from(address) & mask {
        return err(
            "network.gateway",
            format!("{gateway} is outside {address}/{prefix}"),
        );
    }
    if gateway == address {
        return err("network.gateway", "is the probe's own address");
    }
    let host_part = u32::from(address) & !mask;
    if host_part == 0 || host_part == !mask {
        return err(
            "network.address",
            format!("{address} is the network or broadcast address of /{prefix}"),
        );
    }
    Ok(Network::Static(StaticIpv4 {
        address,
        prefix,
        gateway,
    }))
}
