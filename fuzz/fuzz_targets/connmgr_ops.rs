//! Arbitrary operation sequences against a ConnMgr (connections, bytes, timers, owner answers), invariants checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| connmgr_core::fuzzing::run(data));
