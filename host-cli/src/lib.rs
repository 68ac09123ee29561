//! echoprobe: a truthful, bounded, fast DICOM C-ECHO health checker, command line compatible with DCMTK echoscu.
//!
//! `echoprobe [options] peer port` checks a peer; `echoprobe scp [options] port` answers C-ECHOs;
//! `echoprobe demo` runs both on 127.0.0.1. Installed or linked as `echoscu`, it is a drop-in for DCMTK's echoscu.
//! Exit codes: see [`exit`] and `echoprobe -h`.

mod cli;
mod demo;
mod echo;
pub mod exit;
mod generate;
mod link;
mod log;
mod net;
mod scp;
mod tls;

pub use crate::log::Verbosity;
pub use crate::net::Family;

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
    let prog = program_name(argv.next().as_deref());
    let mut args = Vec::new();
    for arg in argv {
        match arg.into_string() {
            Ok(s) => args.push(s),
            Err(bad) => {
                crate::log::stderr_line(format_args!(
                    "{prog}: argument {bad:?} is not valid UTF-8"
                ));
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
        Ok(Invocation::Scp(options)) => scp::run(prog, &options),
        Ok(Invocation::Demo(options)) => demo::run(prog, &options),
        Ok(Invocation::Offline(check)) => tls::run_offline(prog, &check),
        Ok(Invocation::Generate(kind, dir)) => generate::run(prog, kind, &dir),
        Err(failure) => {
            report(prog, &failure);
            failure.code()
        }
    }
}

/// Prints a failure on stderr, prefixed by the program name.
fn report(prog: &str, failure: &Failure) {
    crate::log::stderr_line(format_args!("{prog}: {failure}"));
}
