//! Whole runs: the same seed gives the same transcript and another seed another one; a recorded
//! switch replays bit for bit (and a tampered record is caught at its line); a bounded sweep of
//! random faults breaks no invariant; a failure a sweep finds is shrunk to the lines it needs.

use std::path::Path;

use ofproto_core::timeline::Record;
use sim::agent::Agent;
use sim::replay::replay;
use sim::scenario::Scenario;
use sim::sweep::{run_seed, shrink_failure, signature, with_faults};
use sim::world::{Outcome, RunOptions, World};

fn read(rel: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    Scenario::parse(&std::fs::read_to_string(path).expect("read")).expect("parse")
}

fn run(sc: Scenario, seed: u64, record: &[&str]) -> Outcome {
    let opts = RunOptions { seed, transcript: true, record: record.iter().map(|s| s.to_string()).collect() };
    World::<Agent>::new(sc, opts).run()
}

#[test]
fn same_seed_same_transcript_other_seed_another() {
    let base = read("sweeps/mesh.tl");
    let text = with_faults(&base, 11);
    let a = run(Scenario::parse(&text).unwrap(), 11, &[]);
    let b = run(Scenario::parse(&text).unwrap(), 11, &[]);
    assert!(a.transcript.len() > 500, "a real run: {} lines", a.transcript.len());
    assert_eq!(a.transcript, b.transcript);
    assert_eq!(a.summary, b.summary);
    // The same timeline under another seed: other jitter, loss and switch seeds.
    let c = run(Scenario::parse(&text).unwrap(), 12, &[]);
    assert_ne!(a.transcript, c.transcript);
}

#[test]
fn a_recorded_switch_replays_bit_for_bit() {
    let base = read("sweeps/mesh.tl");
    let text = with_faults(&base, 5);
    let out = run(Scenario::parse(&text).unwrap(), 5, &["s1", "s2"]);
    for name in ["s1", "s2"] {
        let rec = &out.records[name];
        let written = rec.to_string();
        let back = Record::parse(&written).expect("a record reads back");
        assert_eq!(back.steps.len(), rec.steps.len());
        let report = replay::<Agent>(&back);
        assert!(report.is_identical(), "{name}: {:?}", report.differences);
        assert!(report.inputs > 500 && report.results_compared > 300 && report.outputs_compared > 10, "{report:?}");
    }
    // One byte changed in something the switch sent: the replay names that line.
    let written = out.records["s1"].to_string();
    let (i, line) = written
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("-> transmitted ") && !l.ends_with("none"))
        .expect("a transmit");
    let (head, hex) = line.rsplit_once(' ').expect("hex");
    let last = if hex.ends_with('0') { "1" } else { "0" };
    let flipped = format!("{head} {}{last}", &hex[..hex.len() - 1]);
    let tampered: String =
        written.lines().map(|l| if l == line { flipped.clone() } else { l.to_string() } + "\n").collect();
    let report = replay::<Agent>(&Record::parse(&tampered).unwrap());
    assert_eq!(report.differences.len(), 1, "{:?}", report.differences);
    assert!(report.differences[0].starts_with(&format!("line {}: `transmit ", i)), "{:?}", report.differences);
}

#[test]
fn a_bounded_sweep_breaks_no_invariant() {
    let base = read("sweeps/mesh.tl");
    // 200 seeds (the first 20 run twice to compare transcripts), on two threads.
    let failing: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2u64)
            .map(|w| {
                let base = &base;
                scope.spawn(move || {
                    let mut failing = Vec::new();
                    for seed in (1..=200).filter(|s| s % 2 == w) {
                        let r = run_seed::<Agent>(base, seed, seed <= 20);
                        if r.failed() {
                            failing.push(format!(
                                "seed {seed}: {:?} {:?}",
                                r.outcome.violations.first(),
                                r.nondeterminism
                            ));
                        }
                    }
                    failing
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("worker")).collect()
    });
    assert!(failing.is_empty(), "{}", failing.join("\n"));
}

#[test]
fn a_failure_found_by_a_sweep_is_shrunk_to_what_it_needs() {
    // c1 must be connected at 40 s: some seeds' faults prevent that.
    let base = Scenario::parse(
        "0 controller c1\n0 switch s1\n0 switch s1 controller tcp:c1 max_backoff=2000\n40 expect s1 c1 state=ACTIVE\n60 end\n",
    )
    .unwrap();
    let failed =
        (1..100).map(|seed| run_seed::<Agent>(&base, seed, false)).find(|r| r.failed()).expect("a failing seed");
    let want = signature(&failed.outcome.violations[0].1);
    assert!(want.starts_with("expect s c: state=ACTIVE (is "), "{want}");
    let (shrunk, runs) = shrink_failure::<Agent>(&failed, 300);
    assert!(runs > 0);
    let before = failed.timeline.lines().filter(|l| !l.starts_with('#')).count();
    let after = shrunk.lines().count();
    assert!(after < before, "{before} -> {after} lines:\n{shrunk}");
    assert!(shrunk.contains("expect s1 c1 state=ACTIVE"), "{shrunk}");
    let again = run(Scenario::parse(&shrunk).unwrap(), failed.seed, &[]);
    assert!(again.violations.iter().any(|(_, v)| signature(v) == want), "{:?}", again.violations);
}
