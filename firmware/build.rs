//! Build script: puts the board's memory map where the linker finds it, and compiles the probe configuration (probe.toml, or the file
//! named by ECHOPROBE_CONFIG) into `$OUT_DIR/probe_config.rs`, a `Probe` constant. Every value is checked here: a bad
//! configuration fails the build with a message naming the file, the key and what is wrong.

use std::collections::HashSet;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process;

use echoprobe_core::wire::{AeTitle, AeTitleError};
use toml::{Table, Value};

/// Must match `config::MAX_TARGETS` (the generated code asserts it).
const MAX_TARGETS: usize = 4;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The board's memory map: memory.x (LM3S6965, the default) or memory-<board>.x.
    let memory = if env::var_os("CARGO_FEATURE_STM32F429").is_some() {
        "memory-stm32f429.x"
    } else {
        "memory.x"
    };
    fs::copy(memory, out.join("memory.x")).expect("copy the memory map");
    println!("cargo:rerun-if-changed={memory}");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ECHOPROBE_CONFIG");

    let path = env::var("ECHOPROBE_CONFIG").unwrap_or_else(|_| "probe.toml".to_owned());
    println!("cargo:rerun-if-changed={path}");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| fail(&path, "", &format!("cannot read: {e}")));
    let code = compile(&text).unwrap_or_else(|(key, msg)| fail(&path, &key, &msg));
    fs::write(out.join("probe_config.rs"), code.0).expect("write probe_config.rs");
    fs::write(out.join("probe_tasks.rs"), tasks(code.1)).expect("write probe_tasks.rs");
}

fn fail(path: &str, key: &str, msg: &str) -> ! {
    if key.is_empty() {
        eprintln!("error: probe configuration {path}: {msg}");
    } else {
        eprintln!("error: probe configuration {path}: `{key}`: {msg}");
    }
    process::exit(1);
}

type Res<T> = Result<T, (String, String)>;

fn err<T>(key: &str, msg: impl Into<String>) -> Res<T> {
    Err((key.to_owned(), msg.into()))
}

/// A table's keys, checked against the allowed set (a typo is an error, not a silently ignored key).
struct Section<'a> {
    name: String,
    table: &'a Table,
}

impl<'a> Section<'a> {
    fn new(name: String, table: &'a Table, allowed: &[&str]) -> Res<Self> {
        for k in table.keys() {
            if !allowed.contains(&k.as_str()) {
                return err(
                    &format!("{name}.{k}"),
                    format!("unknown key (known: {})", allowed.join(", ")),
                );
            }
        }
        Ok(Section { name, table })
    }
    fn key(&self, k: &str) -> String {
        format!("{}.{k}", self.name)
    }
    fn get(&self, k: &str) -> Res<&'a Value> {
        self.table
            .get(k)
            .map_or_else(|| err(&self.key(k), "missing"), Ok)
    }
    fn str(&self, k: &str) -> Res<&'a str> {
        self.get(k)?
            .as_str()
            .map_or_else(|| err(&self.key(k), "must be a string"), Ok)
    }
    fn int(&self, k: &str, min: i64, max: i64) -> Res<i64> {
        let v = self
            .get(k)?
            .as_integer()
            .map_or_else(|| err(&self.key(k), "must be an integer"), Ok)?;
        if v < min || v > max {
            return err(&self.key(k), format!("{v} is out of range {min}..={max}"));
        }
        Ok(v)
    }
    fn ipv4(&self, k: &str) -> Res<Ipv4Addr> {
        let s = self.str(k)?;
        s.parse()
            .map_err(|_| (self.key(k), format!("`{s}` is not an IPv4 address")))
    }
    fn ae_title(&self, k: &str) -> Res<String> {
        let s = self.str(k)?;
        check_ae(s).map_err(|m| (self.key(k), format!("`{s}` is not a valid AE title: {m}")))?;
        Ok(s.to_owned())
    }
}

/// An AE title by the core's rules (`echoprobe_core::wire::AeTitle::new`: 1 to 16 characters of printable ASCII, no
/// backslash, PS3.5 VR AE), plus one of our own: leading and trailing spaces are not significant, so we refuse them
/// rather than guess.
fn check_ae(s: &str) -> Result<(), &'static str> {
    match AeTitle::new(s) {
        Ok(title) if title.as_bytes() == s.as_bytes() => Ok(()),
        Ok(_) => Err("no leading or trailing spaces"),
        Err(AeTitleError::Empty) if !s.is_empty() && s.len() <= 16 => {
            Err("no leading or trailing spaces")
        }
        Err(AeTitleError::BadChar) => Err("only printable ASCII without backslash"),
        Err(_) => Err("must be 1 to 16 characters"),
    }
}

fn octets(a: Ipv4Addr) -> String {
    let o = a.octets();
    format!("[{}, {}, {}, {}]", o[0], o[1], o[2], o[3])
}

/// The probe loop for `n` targets, included in `main`: each target's check future is built where it is pinned (one
/// copy on the stack; an array of futures would be copied through temporaries), then all run under one `block_on`.
fn tasks(n: usize) -> String {
    let mut code = String::from(
        "// Generated by build.rs for the configured number of targets. Do not edit.\n{\n",
    );
    let names: Vec<String> = (0..n).map(|i| format!("b{i}")).collect();
    writeln!(
        code,
        "    let [{}] = mem.assoc.each_mut();",
        names.join(", ")
    )
    .expect("write");
    for i in 0..n {
        writeln!(
            code,
            "    let t{i} = pin!(target::run({i}, &PROBE.targets[{i}], &net, &clock, client[{i}], b{i}, &verdicts[{i}]));"
        )
        .expect("write");
    }
    let ts: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
    let checks = match n {
        1 => ts.join(""),
        2 => format!("embassy_futures::join::join({})", ts.join(", ")),
        3 => format!("embassy_futures::join::join3({})", ts.join(", ")),
        _ => format!("embassy_futures::join::join4({})", ts.join(", ")),
    };
    writeln!(code, "    embassy_futures::block_on(embassy_futures::join::join3(net_task, scp_task, {checks}))\n}}")
        .expect("write");
    code
}

fn compile(text: &str) -> Res<(String, usize)> {
    let doc: Table = text
        .parse()
        .map_err(|e: toml::de::Error| (String::new(), format!("not valid TOML: {e}")))?;
    let root = Section {
        name: String::new(),
        table: &doc,
    };
    for k in doc.keys() {
        if !["network", "http", "scp", "target"].contains(&k.as_str()) {
            return err(k, "unknown section (known: network, http, scp, target)");
        }
    }
    let sub = |k: &str, allowed: &[&str]| -> Res<Section<'_>> {
        let t = doc
            .get(k)
            .and_then(Value::as_table)
            .map_or_else(|| err(k, "missing table"), Ok)?;
        Section::new(k.to_owned(), t, allowed)
    };

    let net = sub("network", &["address", "gateway"])?;
    let cidr = net.str("address")?;
    let (addr, prefix) = cidr.split_once('/').map_or_else(
        || {
            err(
                "network.address",
                format!("`{cidr}`: write address/prefix, e.g. 192.0.2.15/24"),
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
    let in_subnet = |a: Ipv4Addr| u32::from(a) & mask == u32::from(address) & mask;
    if !in_subnet(gateway) {
        return err(
            "network.gateway",
            format!("{gateway} is outside {address}/{prefix}"),
        );
    }
    if gateway == address {
        return err("network.gateway", "is the probe's own address");
    }
    let self_addr = address;
    let host_part = u32::from(address) & !mask;
    if host_part == 0 || host_part == !mask {
        return err(
            "network.address",
            format!("{address} is the network or broadcast address of /{prefix}"),
        );
    }

    let mut ports: HashSet<i64> = HashSet::new();
    let mut claim = |key: &str, p: i64| -> Res<u16> {
        if !ports.insert(p) {
            return err(key, format!("port {p} is used twice"));
        }
        Ok(p as u16)
    };

    let http = sub("http", &["port"])?;
    let http_port = claim("http.port", http.int("port", 1, 65535)?)?;
    let scp = sub("scp", &["port", "ae_title"])?;
    let scp_port = claim("scp.port", scp.int("port", 1, 65535)?)?;
    let scp_ae = scp.ae_title("ae_title")?;

    let targets = root.get("target")?.as_array().map_or_else(
        || err("target", "must be an array of tables ([[target]])"),
        Ok,
    )?;
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return err(
            "target",
            format!("{} targets: need 1 to {MAX_TARGETS}", targets.len()),
        );
    }
    let mut names = HashSet::new();
    let mut out = String::new();
    for (i, t) in targets.iter().enumerate() {
        let table = t
            .as_table()
            .map_or_else(|| err(&format!("target[{i}]"), "must be a table"), Ok)?;
        let s = Section::new(
            format!("target[{i}]"),
            table,
            &[
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
            ],
        )?;
        let name = s.str("name")?;
        if name.is_empty()
            || name.len() > 32
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return err(
                &s.key("name"),
                format!("`{name}`: 1 to 32 of A-Z a-z 0-9 - _ ."),
            );
        }
        if !names.insert(name.to_owned()) {
            return err(&s.key("name"), format!("`{name}` is used twice"));
        }
        let address = s.ipv4("address")?;
        if address.is_unspecified()
            || address.is_broadcast()
            || address.is_multicast()
            || address.is_loopback()
        {
            return err(
                &s.key("address"),
                format!("{address} is not a unicast host address"),
            );
        }
        if address == self_addr {
            return err(
                &s.key("address"),
                "is the probe's own address (its SCP answers there anyway)",
            );
        }
        let port = s.int("port", 1, 65535)?;
        let called = s.ae_title("called_ae")?;
        let calling = s.ae_title("calling_ae")?;
        let agent_port = claim(&s.key("agent_port"), s.int("agent_port", 1, 65535)?)?;
        let interval = s.int("interval_ms", 100, 86_400_000)?;
        let connect = s.int("connect_timeout_ms", 1, 600_000)?;
        let acse = s.int("acse_timeout_ms", 1, 600_000)?;
        let dimse = s.int("dimse_timeout_ms", 1, 600_000)?;
        let rise = s.int("rise", 1, 255)?;
        let fall = s.int("fall", 1, 255)?;
        writeln!(
            out,
            "        Target {{ name: {name:?}, address: {addr}, port: {port}, called_ae: {called:?}, \
             calling_ae: {calling:?}, agent_port: {agent_port}, interval_ms: {interval}, \
             connect_timeout_ms: {connect}, acse_timeout_ms: {acse}, dimse_timeout_ms: {dimse}, \
             rise: {rise}, fall: {fall} }},",
            addr = octets(address),
        )
        .expect("write to String");
    }

    let mut code = String::new();
    writeln!(
        code,
        "// Generated by build.rs from the probe configuration. Do not edit."
    )
    .expect("write");
    writeln!(code, "const _: () = assert!(MAX_TARGETS == {MAX_TARGETS});").expect("write");
    writeln!(
        code,
        "pub const PROBE: Probe = Probe {{\n    address: {}, prefix_len: {prefix}, gateway: {},\n    \
         http_port: {http_port}, scp_port: {scp_port}, scp_ae: {scp_ae:?},\n    targets: &[\n{out}    ],\n}};",
        octets(address),
        octets(gateway),
    )
    .expect("write");
    Ok((code, targets.len()))
}
