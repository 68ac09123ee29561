//! `cargo run --release --example replay -- [CORPUS_DIR]` (default `corpus`): runs every file of
//! `CORPUS_DIR/<target>/` through its target's checks on stable Rust, e.g. to re-check a corpus
//! after the checks or the core changed. Panics (with the file name) on the first failure.
use std::fs;
use std::path::Path;

use echoprobe_fuzz_harness::{command, frame, machine, pdu, Role};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    for target in ["frame", "pdu", "command", "requestor", "acceptor"] {
        let Ok(entries) = fs::read_dir(Path::new(&dir).join(target)) else {
            continue;
        };
        let mut n = 0;
        for e in entries.flatten() {
            let data = fs::read(e.path()).expect("read");
            eprintln!("{}", e.path().display());
            match target {
                "frame" => frame(&data),
                "pdu" => pdu(&data),
                "command" => command(&data),
                "requestor" => drop(machine(Role::Requestor, &data)),
                _ => drop(machine(Role::Acceptor, &data)),
            }
            n += 1;
        }
        println!("{target}: {n} inputs ok");
    }
}
