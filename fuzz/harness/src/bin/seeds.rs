//! `seeds OUT_DIR` writes the seed corpora to `OUT_DIR/<target>/<name>`.

use std::fs;
use std::path::Path;

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    let out = Path::new(&out);
    for seed in echoprobe_fuzz_harness::seeds::all() {
        let dir = out.join(seed.target);
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join(&seed.name), &seed.bytes).expect("write seed");
    }
}
