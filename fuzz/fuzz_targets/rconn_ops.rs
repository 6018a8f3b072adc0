//! Arbitrary (time, event, bytes) sequences against an Rconn, with its invariants checked after every step.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rconn_core::fuzzing::run(data));
