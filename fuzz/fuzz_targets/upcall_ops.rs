//! Arbitrary upcall sequences through the dispatcher and handlers, with exactly-once accounting checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| upcall_core::fuzzing::run(data));
