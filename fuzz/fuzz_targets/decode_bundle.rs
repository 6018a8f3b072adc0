//! The bundle message family: bodies behind valid headers, decoded and re-encoded stably.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ofp_proto::fuzzing::check_family(ofp_proto::fuzzing::Family::Bundle, data));
