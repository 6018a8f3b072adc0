//! Seed sweeps (after TigerBeetle's VOPR): each seed draws its own fault probabilities, then
//! faults from them — network quality, partitions, resets, half-open connections, crashed and
//! refusing controllers, stalled and slow readers, silent echo — over the scenario's span; then
//! everything heals and every controller must be connected again in time (the liveness phase).
//! The faults are written as timeline lines, so a failing seed is a timeline that reproduces it.

use std::time::Duration;

use ofp_proto::Instant;
use ofproto_core::timeline::format_duration;

use crate::agent::SwitchAgent;
use crate::rng::Rng;
use crate::scenario::{Action, Scenario};
use crate::shrink;
use crate::world::{Outcome, RunOptions, World};

/// The faults start this long after the last declaration.
const SETTLE: Duration = Duration::from_secs(1);

/// A timeline line: its time and the rest.
type Line = (Instant, String);

/// The scenario with random faults for `seed`: the faults run from the last declaration to the
/// scenario's end, where `heal-all` starts the liveness phase; the run ends after it.
pub fn with_faults(base: &Scenario, seed: u64) -> String {
    let mut rng = Rng::stream(seed, "faults");
    let heal = base.end();
    let start = base
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Switch { .. } | Action::Controller { .. }))
        .map(|s| s.time)
        .max()
        .unwrap_or(Instant::ZERO)
        + SETTLE;
    let controllers: Vec<&str> = names(base, |a| match a {
        Action::Controller { name, .. } => Some(name),
        _ => None,
    });
    let switches: Vec<&str> = names(base, |a| match a {
        Action::Switch { name, .. } => Some(name),
        _ => None,
    });
    let probing = |c: &str| {
        base.steps.iter().all(|s| match &s.action {
            Action::SwitchController { target, settings, .. } if target == &format!("tcp:{c}") => {
                settings.effective_probe_interval() > 0
            }
            _ => true,
        })
    };
    let mut lines: Vec<Line> = Vec::new();
    let span = heal.saturating_duration_since(start);
    for c in &controllers {
        lines.push((start, link_line(&mut rng, c)));
        if span.is_zero() {
            continue;
        }
        for kind in Kind::ALL {
            // A switch that never probes never notices a connection lost without a word (a
            // crash, a middlebox forgetting it, a reset lost on a cut path).
            if matches!(kind, Kind::HalfOpen | Kind::Down | Kind::Reset) && !probing(c) {
                continue;
            }
            // Each kind is off for about a third of the seeds, else happens 0.2–3 times a minute.
            if rng.chance(0.35) {
                continue;
            }
            let per_minute = 0.2 + 2.8 * rng.unit();
            let mut t = start;
            loop {
                let gap = -(1.0 - rng.unit()).ln() * 60.0 / per_minute;
                t += Duration::from_millis((gap * 1000.0) as u64);
                if t >= heal {
                    break;
                }
                let peer = if switches.len() > 1 && rng.chance(0.5) {
                    format!(" peer={}", switches[rng.below(switches.len() as u64) as usize])
                } else {
                    String::new()
                };
                kind.lines(&mut rng, t, heal, c, &peer, &mut lines);
            }
        }
    }
    for s in &switches {
        if span.is_zero() || rng.chance(0.7) {
            continue;
        }
        let mut t = start;
        loop {
            t += Duration::from_millis(rng.between(5_000, 60_000));
            if t >= heal {
                break;
            }
            lines.push((t, format!("{s} reconnect")));
        }
    }
    let mut text =
        format!("# {} with faults for seed {seed}\n", base.text.first().map_or("", |l| l.trim_start_matches("# ")));
    let mut all: Vec<(Instant, usize, String)> = Vec::new();
    for s in &base.steps {
        if s.action != Action::End {
            let line = base.text[s.line - 1].split(" #").next().unwrap_or("").trim().to_string();
            all.push((s.time, 0, line));
        }
    }
    for (t, l) in lines {
        all.push((t, 1, format!("{t} {l}")));
    }
    let end = heal + liveness_bound(base) + Duration::from_secs(2);
    all.push((heal, 2, format!("{heal} heal-all")));
    all.push((end, 3, format!("{end} end")));
    all.sort_by_key(|(t, rank, _)| (*t, *rank));
    for (_, _, l) in all {
        text.push_str(&l);
        text.push('\n');
    }
    text
}

fn names<'a>(sc: &'a Scenario, f: impl Fn(&'a Action) -> Option<&'a String>) -> Vec<&'a str> {
    sc.steps.iter().filter_map(|s| f(&s.action)).map(String::as_str).collect()
}

/// An upper bound of the liveness allowance the world applies (it adds round trips).
fn liveness_bound(base: &Scenario) -> Duration {
    let worst = base
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::SwitchController { settings, .. } => {
                Some(u64::from(settings.max_backoff) + u64::from(settings.effective_probe_interval()) + 1)
            }
            _ => None,
        })
        .max()
        .unwrap_or(0);
    Duration::from_secs(worst + 1)
}

fn link_line(rng: &mut Rng, c: &str) -> String {
    let mut l = format!("link * {c} latency={}ms", rng.between(1, 40));
    if rng.chance(0.5) {
        l.push_str(&format!(" jitter={}ms", rng.between(1, 20)));
    }
    if rng.chance(0.5) {
        l.push_str(&format!(" loss={:.3} burst={:.2}", 0.05 * rng.unit(), 0.6 * rng.unit()));
    }
    if rng.chance(0.2) {
        l.push_str(&format!(" bandwidth={}kbps", rng.between(100, 10_000)));
    }
    l
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Partition,
    Reset,
    HalfOpen,
    Down,
    Refuse,
    Stall,
    EchoOff,
    SlowRead,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Partition,
        Kind::Reset,
        Kind::HalfOpen,
        Kind::Down,
        Kind::Refuse,
        Kind::Stall,
        Kind::EchoOff,
        Kind::SlowRead,
    ];

    /// The lines of one fault at `t` (and of its end, if it ends before the heal).
    fn lines(self, rng: &mut Rng, t: Instant, heal: Instant, c: &str, peer: &str, out: &mut Vec<Line>) {
        let dur = |rng: &mut Rng, lo: u64, hi: u64| Duration::from_millis(rng.between(lo, hi));
        let until = |out: &mut Vec<Line>, d: Duration, start: String, stop: String| {
            out.push((t, start));
            if t + d < heal {
                out.push((t + d, stop));
            }
        };
        match self {
            Kind::Partition => {
                let d = dur(rng, 1000, 30_000);
                let dir = match rng.below(5) {
                    0 => " dir=in",
                    1 => " dir=out",
                    _ => "",
                };
                out.push((t, format!("{c} partition {}{dir}{peer}", format_duration(d))));
            }
            Kind::Reset => out.push((t, format!("{c} reset{peer}"))),
            Kind::HalfOpen => out.push((t, format!("{c} half-open{peer}"))),
            Kind::Down => until(out, dur(rng, 1000, 20_000), format!("{c} down"), format!("{c} up")),
            Kind::Refuse => until(out, dur(rng, 1000, 20_000), format!("{c} refuse"), format!("{c} accept")),
            Kind::Stall => out.push((t, format!("{c} stall {}", format_duration(dur(rng, 500, 15_000))))),
            Kind::EchoOff => until(out, dur(rng, 1000, 20_000), format!("{c} echo off"), format!("{c} echo on")),
            Kind::SlowRead => {
                let rate = rng.between(200, 20_000);
                until(out, dur(rng, 1000, 20_000), format!("{c} read-rate {rate}"), format!("{c} read-rate off"));
            }
        }
    }
}

/// One seed's run.
#[derive(Debug)]
pub struct SeedRun {
    pub seed: u64,
    /// The timeline with this seed's faults.
    pub timeline: String,
    pub outcome: Outcome,
    /// Set when a second run of the same seed gave another transcript: the first difference.
    pub nondeterminism: Option<String>,
}

impl SeedRun {
    pub fn failed(&self) -> bool {
        !self.outcome.violations.is_empty() || self.nondeterminism.is_some()
    }
}

/// Runs `base` with `seed`'s faults (twice if `check_determinism`, comparing transcripts).
pub fn run_seed<A: SwitchAgent>(base: &Scenario, seed: u64, check_determinism: bool) -> SeedRun {
    let timeline = with_faults(base, seed);
    let run = || {
        let sc = Scenario::parse(&timeline).expect("generated timelines parse");
        World::<A>::new(sc, RunOptions { seed, transcript: true, ..RunOptions::default() }).run()
    };
    let outcome = run();
    let nondeterminism =
        if check_determinism { first_difference(&outcome.transcript, &run().transcript) } else { None };
    SeedRun { seed, timeline, outcome, nondeterminism }
}

/// Where two transcripts first differ.
pub fn first_difference(a: &[String], b: &[String]) -> Option<String> {
    let i = a.iter().zip(b).position(|(x, y)| x != y).or((a.len() != b.len()).then(|| a.len().min(b.len())))?;
    let show = |t: &[String]| t.get(i).cloned().unwrap_or_else(|| "(end)".into());
    Some(format!("transcript line {}: `{}` then `{}`", i + 1, show(a), show(b)))
}

/// A violation without its numbers, so a shrunk timeline counts as failing "the same way".
pub fn signature(violation: &str) -> String {
    violation.chars().filter(|c| !c.is_ascii_digit()).collect()
}

/// Shrinks a failing seed's timeline: removes the lines it can while the same violation stays.
/// Returns the shrunk timeline and how many runs it took.
pub fn shrink_failure<A: SwitchAgent>(run: &SeedRun, max_runs: usize) -> (String, usize) {
    let Some((_, first)) = run.outcome.violations.first() else { return (run.timeline.clone(), 0) };
    let want = signature(first);
    let seed = run.seed;
    let still_fails = |text: &str| {
        let Ok(sc) = Scenario::parse(text) else { return false };
        let out = World::<A>::new(sc, RunOptions { seed, transcript: false, ..RunOptions::default() }).run();
        out.violations.iter().any(|(_, v)| signature(v) == want)
    };
    shrink::shrink(&run.timeline, still_fails, max_runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "\
# two controllers
0 controller c1
0 controller c2
0 switch s1
0 switch s1 controller tcp:c1
0 switch s1 controller tcp:c2
120 end
";

    #[test]
    fn faults_are_timeline_lines_fixed_by_the_seed() {
        let base = Scenario::parse(BASE).unwrap();
        let a = with_faults(&base, 7);
        assert_eq!(a, with_faults(&base, 7));
        assert_ne!(a, with_faults(&base, 8));
        let sc = Scenario::parse(&a).unwrap();
        assert!(sc.steps.iter().any(|s| s.action == Action::HealAll && s.time == Instant::from_secs(120)));
        assert_eq!(sc.end(), Instant::from_secs(120 + 8 + 5 + 1 + 1 + 2));
        assert!(a.starts_with("# two controllers with faults for seed 7\n0 controller c1\n0 controller c2\n"), "{a}");
    }
}
