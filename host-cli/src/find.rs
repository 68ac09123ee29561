//! The find mode: `echoprobe find [options] peer port`. The link is the echo's (resolve, connect, TLS: `echo::open`);
//! the association proposes the FIND presentation context of the model; one C-FIND-RQ with the query keys; the
//! core's find verdict; one exit code.

use crate::cli::FindOptions;
use crate::exit::{self, Failure};
use crate::log::Log;

/// Runs the find mode as the command does. Returns the exit code.
pub fn run(prog: &str, options: &FindOptions, _translated: &[String]) -> u8 {
    let log = Log::new(prog, options.link.verbosity);
    log.error(Failure::Unsupported("find: not built yet".to_string()));
    exit::USAGE
}
