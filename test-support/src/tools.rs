//! Running the real peers and decoders (`ovs-ofctl`, `ovs-testcontroller`, …) from tests.

use std::io::ErrorKind;
use std::process::{Command, Output, Stdio};

/// A missing tool: `false`/`None` with a note, or a failure under `CI=true`.
fn missing(program: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {program} is not installed");
    eprintln!("{program} not found: skipping (install openvswitch-common, openvswitch-testcontroller)");
}

/// Whether `program` runs (`program --version`).
pub fn installed(program: &str) -> bool {
    match Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            missing(program);
            false
        }
        Err(e) => panic!("running {program}: {e}"),
    }
}

/// `program ARGS…` run to completion, or `None` when it is not installed.
pub fn run_tool(program: &str, args: &[&str]) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            missing(program);
            None
        }
        Err(e) => panic!("running {program}: {e}"),
    }
}

/// What `ovs-ofctl ofp-print HEX` prints for `bytes` (it must succeed), or `None` when ovs-ofctl
/// is not installed.
pub fn ovs_ofctl_print(bytes: &[u8]) -> Option<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let out = run_tool("ovs-ofctl", &["ofp-print", &hex])?;
    assert!(out.status.success(), "ovs-ofctl ofp-print {hex} failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).expect("ovs-ofctl prints text"))
}
