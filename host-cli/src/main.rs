//! The `echoprobe` command: everything is in the library ([`echoprobe::main`]); this only hands it the process's
//! arguments and turns its exit code into the process's.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(echoprobe::main(std::env::args_os()))
}
