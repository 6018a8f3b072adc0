//! Golden transcripts: every timeline in `sim/scenarios/` runs with seed 1 and must print exactly
//! the transcript checked in beside it (`NAME.golden`). Each golden was reviewed by hand against
//! OVS's rules (see the comments at the top of each scenario). After a deliberate change, rerun
//! with `OFSIM_BLESS=1` to rewrite the goldens, then review the diff.

// A test harness reads and writes files.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use sim::agent::Agent;
use sim::scenario::Scenario;
use sim::world::{RunOptions, World};

fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("sim/scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tl"))
        .collect();
    v.sort();
    v
}

/// The transcript, summary and violations of a run, as `ofsim run` prints them.
pub fn render(path: &Path, seed: u64) -> String {
    let text = std::fs::read_to_string(path).expect("read scenario");
    let sc = Scenario::parse(&text).unwrap_or_else(|e| panic!("{}:{}: {}", path.display(), e.line, e.message));
    let out = World::<Agent>::new(sc, RunOptions { seed, transcript: true, ..RunOptions::default() }).run();
    let mut s = String::new();
    for l in out.transcript.iter().chain(std::iter::once(&"--- summary".to_string())).chain(&out.summary) {
        s.push_str(l);
        s.push('\n');
    }
    for (t, v) in &out.violations {
        s.push_str(&format!("violation at {t}: {v}\n"));
    }
    s
}

#[test]
fn every_scenario_matches_its_golden_transcript() {
    let bless = std::env::var_os("OFSIM_BLESS").is_some();
    let all = scenarios();
    assert!(all.len() >= 4, "the scenario library is missing");
    let mut failures = Vec::new();
    for path in all {
        let got = render(&path, 1);
        let golden = path.with_extension("golden");
        if bless {
            std::fs::write(&golden, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
            let i = g.iter().zip(&w).position(|(a, b)| a != b).unwrap_or(g.len().min(w.len()));
            failures.push(format!(
                "{}: line {}: got `{}`, golden has `{}`",
                path.display(),
                i + 1,
                g.get(i).unwrap_or(&"(end)"),
                w.get(i).unwrap_or(&"(end)")
            ));
        }
        assert!(!got.contains("violation at"), "{}: the golden run breaks an invariant:\n{got}", path.display());
    }
    assert!(failures.is_empty(), "transcripts differ (OFSIM_BLESS=1 rewrites the goldens):\n{}", failures.join("\n"));
}
