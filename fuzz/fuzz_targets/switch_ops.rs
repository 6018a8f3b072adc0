//! Arbitrary inputs to a whole Switch (connections, messages in every version, frames, links, time,
//! a clogged or failing datapath), with its accounting and determinism invariants checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ofproto_core::fuzzing::run(data));
