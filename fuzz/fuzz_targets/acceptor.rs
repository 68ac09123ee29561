#![no_main]

use echoprobe_fuzz_harness::Role;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = echoprobe_fuzz_harness::machine(Role::Acceptor, data);
});
