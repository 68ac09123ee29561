//! `cargo run --example trace -- requestor|acceptor FILE`: the script of a saved input and what
//! the machine did with it (up to the first failed check).
use echoprobe_fuzz_harness::script::Script;
use echoprobe_fuzz_harness::{machine, Role};

fn main() {
    let mut args = std::env::args().skip(1);
    let role = match args.next().as_deref() {
        Some("requestor") => Role::Requestor,
        _ => Role::Acceptor,
    };
    let data = std::fs::read(args.next().expect("FILE")).expect("read");
    let script = Script::decode(&data);
    println!("flags {:#04x} contexts {}", script.flags, script.contexts);
    for op in &script.ops {
        match op {
            echoprobe_fuzz_harness::script::Op::Feed(b) => {
                println!("  Feed {} bytes {:02x?}", b.len(), &b[..b.len().min(12)])
            }
            o => println!("  {o:?}"),
        }
    }
    let s = machine(role, &data);
    println!("{s:#?}");
}
