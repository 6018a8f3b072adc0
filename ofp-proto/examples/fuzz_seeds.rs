//! Writes the fuzz seed corpora from the test vectors: `cargo run -p ofp-proto --example fuzz_seeds -- fuzz/seeds`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "../tests/common/mod.rs"]
mod common;

use ofp_proto::fuzzing::Family;
use ofp_proto::raw;

fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: fuzz_seeds OUT_DIR"));
    let vectors = common::all();
    let write = |target: &str, name: usize, data: &[u8]| {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("v{name:03}")), data).unwrap();
    };
    let mut stream = vec![];
    for (i, v) in vectors.iter().enumerate() {
        write("decode_any", i, &v.bytes);
        write("decode_view", i, &v.bytes);
        stream.extend_from_slice(&v.bytes);
        let Ok(r) = raw::identify(&v.bytes) else { continue };
        let version = v.bytes[0];
        for (family, target) in [
            (Family::Control, "decode_control"),
            (Family::Flow, "decode_flow"),
            (Family::Multipart, "decode_multipart"),
            (Family::Bundle, "decode_bundle"),
        ] {
            if let Some(idx) = family.layouts().iter().position(|&(rr, vv)| rr == r && vv == version) {
                let mut seed = (idx as u16).to_be_bytes().to_vec();
                seed.extend_from_slice(&v.bytes[r.hdrs_len(version).min(v.bytes.len())..]);
                write(target, i, &seed);
            }
        }
    }
    for (i, chunk) in stream.chunks(4096).enumerate() {
        write("framer", i, chunk);
    }
}
