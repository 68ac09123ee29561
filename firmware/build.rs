//! Build script: puts the board's memory map where the linker finds it, and compiles the probe configuration (probe.toml, or the file
//! named by ECHOPROBE_CONFIG) into `$OUT_DIR/probe_config.rs`, a `Probe` constant. The file is read and checked by
//! `echoprobe-config` (the daemon's parser and rules), then by the firmware's own limits here: a bad configuration
//! fails the build with a message naming the file, the key and what is wrong.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process;

use echoprobe_config::{Config, Error, Network};

#[path = "build/find.rs"]
mod find;

/// Must match `config::MAX_TARGETS` and `config::MAX_SLOTS` (the generated code asserts it).
const MAX_TARGETS: usize = 16;
const MAX_SLOTS: usize = 4;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The board's memory map, memory-<board>.x, given to the linker as OUT_DIR/memory.x (no file named memory.x
    // lies in the package: the linker would find it first, from its working directory).
    let memory = if env::var_os("CARGO_FEATURE_STM32F429").is_some() {
        "memory-stm32f429.x"
    } else {
        "memory-lm3s6965.x"
    };
    let mut map = fs::read_to_string(memory).expect("read the memory map");
    if env::var_os("CARGO_FEATURE_FIND").is_some() {
        // A find check's futures sit deeper in the stack (measured: ~0.9 KB over the echo's): 1 KiB more reserved.
        map = more_stack(&map, 1);
    }
    fs::write(out.join("memory.x"), map).expect("write the memory map");
    println!("cargo:rerun-if-changed={memory}");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ECHOPROBE_CONFIG");

    let path = env::var("ECHOPROBE_CONFIG").unwrap_or_else(|_| "probe.toml".to_owned());
    println!("cargo:rerun-if-changed={path}");
    let (code, find) = load(&path).unwrap_or_else(|e| {
        eprintln!("error: probe configuration {e}");
        process::exit(1);
    });
    fs::write(out.join("probe_config.rs"), code.0).expect("write probe_config.rs");
    fs::write(out.join("probe_tasks.rs"), tasks(code.1)).expect("write probe_tasks.rs");
    fs::write(out.join("probe_find.rs"), find).expect("write probe_find.rs");
}

/// Reads `path` by the shared schema, then checks the firmware's own limits; also the find queries' code.
fn load(path: &str) -> Result<((String, usize), String), Error> {
    let text = fs::read_to_string(path).map_err(|e| Error {
        file: path.to_owned(),
        key: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    let config = Config::parse_firmware(&text, path)?;
    let at = |(key, message)| Error {
        file: path.to_owned(),
        key,
        message,
    };
    let code = compile(&config).map_err(at)?;
    let find = find::compile(&config, env::var_os("CARGO_FEATURE_FIND").is_some()).map_err(at)?;
    Ok((code, find))
}

type Res<T> = Result<T, (String, String)>;

fn err<T>(key: &str, msg: impl Into<String>) -> Res<T> {
    Err((key.to_owned(), msg.into()))
}

/// The firmware's limits over the shared schema (which requires its sections and keys): IPv4 target addresses that
/// are unicast hosts other than the probe itself, 1 to MAX_TARGETS targets, 1 to MAX_SLOTS check slots
/// (`[serve] max_concurrent`; more slots than targets would never run, so there are at most as many).
fn compile(config: &Config) -> Res<(String, usize)> {
    let fw = &config.firmware;
    let (Some(net), Some(http_port), Some(scp)) = (fw.network, fw.http_port, fw.scp.as_ref())
    else {
        unreachable!("parse_firmware requires [network], [http] and [scp]");
    };
    let targets = &config.targets;
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return err(
            "target",
            format!("{} targets: need 1 to {MAX_TARGETS}", targets.len()),
        );
    }
    let max_concurrent = config.serve.max_concurrent as usize;
    if max_concurrent > MAX_SLOTS {
        return err(
            "serve.max_concurrent",
            format!("{max_concurrent} check slots: the probe has room for 1 to {MAX_SLOTS}"),
        );
    }
    let slots = max_concurrent.min(targets.len());
    let mut out = String::new();
    for (i, t) in targets.iter().enumerate() {
        let key = format!("target[{i}].address");
        let address: Ipv4Addr = t.address.parse().map_err(|_| {
            (
                key.clone(),
                format!("`{}` is not an IPv4 address", t.address),
            )
        })?;
        if address.is_unspecified()
            || address.is_broadcast()
            || address.is_multicast()
            || address.is_loopback()
        {
            return err(&key, format!("{address} is not a unicast host address"));
        }
        if matches!(net, Network::Static(s) if s.address == address) {
            return err(
                &key,
                "is the probe's own address (its SCP answers there anyway)",
            );
        }
        let s = &t.settings;
        writeln!(
            out,
            "        Target {{ name: {name:?}, address: {addr}, port: {port}, called_ae: {called:?}, \
             calling_ae: {calling:?}, agent_port: {agent_port}, interval_ms: {interval}, \
             connect_timeout_ms: {connect}, acse_timeout_ms: {acse}, dimse_timeout_ms: {dimse}, \
             rise: {rise}, fall: {fall} }},",
            name = t.name,
            addr = octets(address),
            port = s.port,
            called = s.called_ae,
            calling = s.calling_ae,
            agent_port = t.agent_port.expect("parse_firmware requires agent_port"),
            interval = s.interval_ms,
            connect = s.connect_timeout_ms,
            acse = s.acse_timeout_ms,
            dimse = s.dimse_timeout_ms,
            rise = s.rise,
            fall = s.fall,
        )
        .expect("write to String");
    }

    let mut code = String::new();
    writeln!(
        code,
        "// Generated by build.rs from the probe configuration. Do not edit."
    )
    .expect("write");
    writeln!(
        code,
        "const _: () = assert!(MAX_TARGETS == {MAX_TARGETS} && MAX_SLOTS == {MAX_SLOTS});"
    )
    .expect("write");
    writeln!(
        code,
        "pub const PROBE: Probe = Probe {{\n    {}\n    \
         http_port: {http_port}, scp_port: {}, scp_ae: {:?}, slots: {slots},\n    targets: &[\n{out}    ],\n}};",
        network(net)?,
        scp.port,
        scp.ae_title,
    )
    .expect("write");
    Ok((code, slots))
}

/// The `Probe` fields of `[network]`, in a build whose `dhcp` feature matches it (the feature carries smoltcp's DHCP
/// client: a static build without it saves that flash, and a DHCP build cannot do without it).
fn network(net: Network) -> Res<String> {
    let dhcp_build = env::var_os("CARGO_FEATURE_DHCP").is_some();
    match net {
        Network::Static(s) if !dhcp_build => Ok(format!(
            "address: {}, prefix_len: {}, gateway: {},",
            octets(s.address),
            s.prefix,
            octets(s.gateway)
        )),
        Network::Dhcp if dhcp_build => Ok("// address, prefix and gateway: from a DHCP server".to_owned()),
        Network::Static(_) => err(
            "network.address",
            "is a static address, but this build has the `dhcp` feature: build without it",
        ),
        Network::Dhcp => err(
            "network.address",
            "\"dhcp\" needs the firmware's `dhcp` feature: build.sh sets it, or `cargo build --features dhcp`",
        ),
    }
}

/// `map` with its `_stack_size = NK;` raised by `kib` KiB.
fn more_stack(map: &str, kib: u32) -> String {
    map.lines()
        .map(|line| {
            let k = line
                .strip_prefix("_stack_size = ")
                .and_then(|rest| rest.strip_suffix("K;"))
                .and_then(|n| n.parse::<u32>().ok());
            match k {
                Some(k) => format!("_stack_size = {}K;\n", k + kib),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

fn octets(a: Ipv4Addr) -> String {
    let o = a.octets();
    format!("[{}, {}, {}, {}]", o[0], o[1], o[2], o[3])
}

/// The probe loop for `k` check slots, included in `main`: each slot's future is built where it is pinned (one copy
/// on the stack; an array of futures would be copied through temporaries), then all run under one `block_on`.
fn tasks(k: usize) -> String {
    let mut code = String::from(
        "// Generated by build.rs for the configured number of check slots. Do not edit.\n{\n",
    );
    let names: Vec<String> = (0..k).map(|i| format!("b{i}")).collect();
    writeln!(
        code,
        "    let [{}] = mem.assoc.each_mut();",
        names.join(", ")
    )
    .expect("write");
    for i in 0..k {
        writeln!(
            code,
            "    let s{i} = pin!(slot::run({i}, &fleet, client[{i}], b{i}));"
        )
        .expect("write");
    }
    let ss: Vec<String> = (0..k).map(|i| format!("s{i}")).collect();
    let checks = match k {
        1 => ss.join(""),
        2 => format!("embassy_futures::join::join({})", ss.join(", ")),
        3 => format!("embassy_futures::join::join3({})", ss.join(", ")),
        _ => format!("embassy_futures::join::join4({})", ss.join(", ")),
    };
    writeln!(
        code,
        "    embassy_futures::block_on(embassy_futures::join::join(net_task, {checks}))\n}}"
    )
    .expect("write");
    code
}
