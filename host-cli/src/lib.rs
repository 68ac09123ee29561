//! echoprobe: a truthful, bounded, fast DICOM C-ECHO health checker, command line compatible with DCMTK echoscu.
//!
//! `echoprobe [options] peer port` checks a peer; `echoprobe find [options] peer port` checks it with a C-FIND (the
//! deep check); `echoprobe scp [options] port` answers C-ECHOs (and C-FIND from `--record`s);
//! `echoprobe demo` runs both on 127.0.0.1; `echoprobe serve` is the probe daemon and `echoprobe status NAME` asks
//! it. Installed or linked as `echoscu`, it is a drop-in for DCMTK's echoscu.
//! Exit codes: see [`exit`] and `echoprobe -h`.
//!
//! As a library: [`check`] runs one echo check and returns its [`CheckResult`] (no printing of the verdict, no
//! process exit), [`check_find`] one find check ([`FindResult`]); [`run_echo`], [`run_find`], [`run_scp`] and
//! [`run_demo`] are the modes as the command runs them; [`main`] is the whole command.
//!
//! Modules by job, dependencies pointing one way (a unit test below checks it):
//!
//! ```text
//! daemon:       serve (config, schedule, async checks, agent port, HTTP, status)
//!                 |
//! modes:        echo  find  scp  demo  generate  plugin (check_dicom, on echo)  notify (systemd READY=1)
//!                 |     |     |    |      |
//! front/link:   cli (DCMTK tokens, clap, values, help)   link (TCP or TLS, the handshake, transport failures)
//!               report (the --json result, serde)
//!                 |                                        |
//! tls:          tls (options, suites, keys, legacy PEM, verify, setup, transport, offline)
//!                 |
//! net:          net (resolve, connect, Family, TCP transport, -d dumps)
//!                 |
//! log:          log (Verbosity, log configuration files)
//!                 |
//! exit:         exit (THE exit-code table, Failure)
//! ```

mod cli;
mod demo;
mod echo;
pub mod exit;
mod find;
mod generate;
mod link;
mod log;
mod net;
pub mod notify;
mod plugin;
pub mod report;
mod scp;
pub mod serve;
mod tls;

pub use crate::cli::{
    DemoOptions, EchoOptions, FindOptions, Key, Model, ScpOptions, ServeOptions, StatusOptions,
};
pub use crate::demo::run as run_demo;
pub use crate::echo::{check, run as run_echo, CheckResult};
pub use crate::find::{check as check_find, run as run_find, FindResult};
pub use crate::log::config::LogConfig;
pub use crate::log::Verbosity;
pub use crate::net::Family;
pub use crate::scp::run as run_scp;
pub use crate::tls::{Session as TlsSession, TlsOptions};

use std::ffi::OsString;
use std::io::Write as _;

use crate::cli::Invocation;
use crate::exit::Failure;

/// The name to use in messages: `echoscu` when invoked under that name (e.g. through a symlink), else `echoprobe`.
fn program_name(argv0: Option<&std::ffi::OsStr>) -> &'static str {
    let base = argv0
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("echoprobe");
    if base == "echoscu" {
        "echoscu"
    } else {
        "echoprobe"
    }
}

/// Runs the whole command line (`argv` with the program name first, as from [`std::env::args_os`]) and returns
/// the exit code; everything it prints goes to stdout, stderr or the configured log.
pub fn main(argv: impl IntoIterator<Item = OsString>) -> u8 {
    let mut argv = argv.into_iter();
    let argv0 = argv.next();
    let prog = program_name(argv0.as_deref());
    let started = std::time::SystemTime::now();
    let argv: Vec<OsString> = argv.collect();
    if plugin::wanted(argv0.as_deref(), &argv) {
        return plugin::run(argv);
    }
    let json = argv.iter().any(|a| a == "--json");
    let mut args = Vec::new();
    for arg in argv {
        match arg.into_string() {
            Ok(s) => args.push(s),
            Err(bad) => {
                let failure = Failure::Usage(format!("argument {bad:?} is not valid UTF-8"));
                report::print_failure(prog, &failure, json.then_some(started));
                return exit::USAGE;
            }
        }
    }
    match cli::parse(prog, args) {
        Ok(Invocation::Help(text)) | Ok(Invocation::Version(text)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            exit::HEALTHY
        }
        Ok(Invocation::Echo(options, translated)) => echo::run(prog, &options, &translated),
        Ok(Invocation::Find(options, translated)) => find::run(prog, &options, &translated),
        Ok(Invocation::Scp(options)) => scp::run(prog, &options),
        Ok(Invocation::Demo(options)) => demo::run(prog, &options),
        Ok(Invocation::Offline(check)) => tls::run_offline(prog, &check),
        Ok(Invocation::Generate(kind, dir)) => generate::run(prog, kind, &dir),
        Ok(Invocation::Serve(options)) => serve::run(prog, &options),
        Ok(Invocation::Status(options)) => serve::run_status(prog, &options),
        Err(failure) => {
            report::print_failure(prog, &failure, json.then_some(started));
            failure.code()
        }
    }
}

#[cfg(test)]
mod tests {
    /// The layers of the module doc, lowest first; a module may use its own layer and the ones below.
    const LAYERS: &[(&str, u8)] = &[
        ("exit", 0),
        ("log", 1),
        ("net", 2),
        ("tls", 3),
        ("link", 4),
        ("cli", 4),
        ("report", 4),
        ("echo", 5),
        ("find", 5),
        ("scp", 5),
        ("demo", 5),
        ("generate", 5),
        ("serve", 6),
        ("plugin", 6),
        ("notify", 1),
    ];

    /// Every source file of the crate (below src/, except lib.rs and main.rs), path relative to src/, and its text.
    fn files() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).expect("read src/") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path
                        .strip_prefix(base)
                        .expect("below src/")
                        .to_string_lossy()
                        .into_owned();
                    if rel != "lib.rs" && rel != "main.rs" {
                        out.push((rel, std::fs::read_to_string(&path).expect("read source")));
                    }
                }
            }
        }
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = Vec::new();
        walk(&base, &base, &mut out);
        out.sort();
        out
    }

    fn rank(module: &str) -> u8 {
        LAYERS
            .iter()
            .find(|(m, _)| *m == module)
            .map(|(_, r)| *r)
            .unwrap_or_else(|| panic!("module {module} is not in LAYERS"))
    }

    /// The crate modules `text` names (`crate::x` and `crate::{x, y}`).
    fn uses(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(list) => list.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for n in names {
                let n: String = n
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Dependencies point one way: no module uses a module of a higher layer, and no two modules use each other.
    #[test]
    fn no_import_cycle() {
        let mut edges = Vec::new();
        let files = files();
        assert!(files.len() > 20, "found only {} source files", files.len());
        for (path, text) in &files {
            let module = path.split(['/', '.']).next().unwrap_or(path);
            for used in uses(text) {
                if used == module || LAYERS.iter().all(|(m, _)| *m != used) {
                    continue;
                }
                assert!(
                    rank(&used) <= rank(module),
                    "{path} uses crate::{used}, a higher layer"
                );
                edges.push((module.to_string(), used));
            }
        }
        for (a, b) in &edges {
            assert!(
                !edges.iter().any(|(x, y)| x == b && y == a),
                "{a} and {b} use each other"
            );
        }
    }
}
