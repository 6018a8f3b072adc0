//! The `ofsim` binary: errors name the file and line, `run` writes pictures and records,
//! `replay` reproduces a record, `sweep` reports and shrinks failures; exit codes say how it went.

// A test of a command-line tool reads and writes files.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn ofsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ofsim")).args(args).output().expect("run ofsim")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ofsim-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn errors_name_the_file_and_line() {
    let dir = scratch("errors");
    let bad = dir.join("bad.tl");
    std::fs::write(&bad, "0 controller c1\n# fine\n3 c1 partition forever\n").unwrap();
    let out = ofsim(&["run", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("{}:3: bad duration `forever` (e.g. 250ms, 30s, 1.5s, 2m, 1h)\n", bad.display())
    );
    let rec = dir.join("bad.rec");
    std::fs::write(&rec, "0 setup bridge=br0\n1 bytes 1 0g\n").unwrap();
    let out = ofsim(&["replay", rec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), format!("{}:2: bad hex bytes\n", rec.display()));
}

#[test]
fn run_draws_records_and_replay_reproduces() {
    let dir = scratch("run");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/failover.tl");
    let (svg, rec) = (dir.join("f.svg"), dir.join("s1.rec"));
    let out = ofsim(&["run", scenario, "--svg", svg.to_str().unwrap(), "--record", &format!("s1={}", rec.display())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\n--- summary\n") && stdout.contains("invariants: "), "{stdout}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let out = ofsim(&["replay", rec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).ends_with(" identical\n"), "{}", text(&out.stdout));
    let quiet = ofsim(&["run", scenario, "--quiet"]);
    assert!(text(&quiet.stdout).starts_with("--- summary\n"));
}

#[test]
fn sweep_reports_and_shrinks_failures() {
    let dir = scratch("sweep");
    let mesh = concat!(env!("CARGO_MANIFEST_DIR"), "/sweeps/mesh.tl");
    let out = ofsim(&["sweep", mesh, "--seeds", "4", "--check-determinism", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "4 seeds (each run twice): 0 failing\n");

    let strict = dir.join("strict.tl");
    std::fs::write(
        &strict,
        "0 controller c1\n0 switch s1\n0 switch s1 controller tcp:c1\n40 expect s1 c1 state=ACTIVE\n60 end\n",
    )
    .unwrap();
    let out = ofsim(&["sweep", strict.to_str().unwrap(), "--seeds", "30", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let seed: u64 =
        stdout.strip_prefix("seed ").and_then(|s| s.split(':').next()).and_then(|s| s.parse().ok()).expect(&stdout);
    let shrunk = dir.join(format!("strict-seed{seed}.tl"));
    let saved = std::fs::read_to_string(&shrunk).expect("the shrunk timeline");
    assert!(saved.starts_with(&format!(
        "# ofsim sweep of {}: seed {seed} fails with: expect s1 c1: state=ACTIVE",
        strict.display()
    )));
    let again = ofsim(&["run", shrunk.to_str().unwrap(), "--seed", &seed.to_string(), "--quiet"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stdout).contains("violation at 40.000: expect s1 c1: state=ACTIVE"));
}
