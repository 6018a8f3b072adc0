//! The framer yields the same frames however the stream is chunked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ofp_proto::fuzzing::check_framer(data));
