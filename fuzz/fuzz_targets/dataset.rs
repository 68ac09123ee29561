#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| echoprobe_fuzz_harness::find::dataset(data));
