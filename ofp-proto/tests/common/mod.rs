//! Test vectors decoded by `ovs-ofctl ofp-print` 3.1 (copied from the project's shared vectors).
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;

/// One message: where it came from, its bytes, and the full text `ovs-ofctl ofp-print` printed.
#[derive(Clone, Debug)]
pub struct Vector {
    pub name: String,
    pub bytes: Vec<u8>,
    pub ovs_text: String,
}

impl Vector {
    pub fn first_line(&self) -> &str {
        self.ovs_text.lines().next().unwrap_or("")
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

pub fn hex(s: &str) -> Vec<u8> {
    ofp_proto::print::parse_hex(s).unwrap_or_else(|| panic!("bad hex {s:?}"))
}

/// `ofp-print-tests.json`: messages from OVS's own tests/ofp-print.at.
pub fn ofp_print_tests() -> Vec<Vector> {
    let text = std::fs::read_to_string(dir().join("ofp-print-tests.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| Vector {
            name: e["name"].as_str().unwrap().to_string(),
            bytes: hex(e["hex"].as_str().unwrap()),
            ovs_text: e["ovs_ofctl_ofp_print"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// `handbuilt.txt`: "### name", "$ ovs-ofctl ofp-print HEX", then the output.
pub fn handbuilt() -> Vec<Vector> {
    let text = std::fs::read_to_string(dir().join("handbuilt.txt")).unwrap();
    let mut out = vec![];
    for block in text.split("### ").skip(1) {
        let mut lines = block.lines();
        let name = lines.next().unwrap().trim().to_string();
        let cmd = lines.next().unwrap();
        let hexs = cmd.trim_start_matches("$ ovs-ofctl ofp-print ").trim();
        // ovs-ofctl's own log lines (stderr, captured with the output) are not part of the decode.
        let body: Vec<&str> = lines.filter(|l| !is_ovs_log_line(l)).collect();
        let ovs_text = body.join("\n").trim_end().to_string() + "\n";
        out.push(Vector { name, bytes: hex(hexs), ovs_text });
    }
    out
}

/// "2026-11-21T00:31:15Z|00001|ofp_msgs|WARN|..." as OVS's vlog writes to stderr.
fn is_ovs_log_line(l: &str) -> bool {
    let b = l.as_bytes();
    b.len() > 21 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z' && b[20] == b'|'
}

/// `sessions-ovs-3.1.txt`: captured conversations; each message as "# conn=N A->B", hex, decode.
pub fn sessions() -> Vec<(String, Vector)> {
    let text = std::fs::read_to_string(dir().join("sessions-ovs-3.1.txt")).unwrap();
    let mut out = vec![];
    for (i, block) in text.split("# conn=").skip(1).enumerate() {
        let mut lines = block.lines();
        let conn = lines.next().unwrap().trim().to_string();
        let hexs = lines.next().unwrap().trim();
        let body: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
        let ovs_text = body.join("\n") + "\n";
        out.push((
            conn.clone(),
            Vector { name: format!("session message {i} (conn={conn})"), bytes: hex(hexs), ovs_text },
        ));
    }
    out
}

pub fn all() -> Vec<Vector> {
    let mut v = ofp_print_tests();
    v.extend(handbuilt());
    v.extend(sessions().into_iter().map(|(_, v)| v));
    v
}

pub use test_support::ovs_ofctl_print;

/// Asserts that `ovs-ofctl ofp-print` decodes `bytes` without error and prints `expected_first_line`.
pub fn assert_ovs_decodes(bytes: &[u8], expected_first_line: &str) {
    if let Some(text) = ovs_ofctl_print(bytes) {
        assert!(!text.contains("***decode error"), "ovs-ofctl could not decode {bytes:02x?}:\n{text}");
        assert_eq!(text.lines().next().unwrap_or(""), expected_first_line, "full ovs-ofctl output:\n{text}");
    }
}
