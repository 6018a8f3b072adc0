//! How fast the simulator runs: one simulated hour of 100 controllers, each with an idle
//! connection probed every 5 s, as (a) 100 switches with one controller each and (b) 10 switches
//! with 10 controllers each. Criterion's throughput ("elem/s") is simulated seconds per wall
//! second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim::agent::Agent;
use sim::scenario::Scenario;
use sim::world::{RunOptions, World};

/// `switches` switches, each connected to `per_switch` controllers of its own, for an hour.
fn hour(switches: usize, per_switch: usize) -> Scenario {
    let mut text = String::new();
    for c in 1..=switches * per_switch {
        text.push_str(&format!("0 controller c{c} versions=1.3\n"));
    }
    for s in 1..=switches {
        text.push_str(&format!("0 switch s{s}\n"));
        for k in 0..per_switch {
            text.push_str(&format!("0 switch s{s} controller tcp:c{}\n", (s - 1) * per_switch + k + 1));
        }
    }
    text.push_str("3600 end\n");
    Scenario::parse(&text).expect("parses")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("one simulated hour, 100 controllers");
    g.sample_size(10);
    g.throughput(Throughput::Elements(3600));
    for (name, switches, per) in [("100 switches x 1", 100, 1), ("10 switches x 10", 10, 10)] {
        let sc = hour(switches, per);
        g.bench_function(name, |b| {
            b.iter(|| {
                let out = World::<Agent>::new(sc.clone(), RunOptions { seed: 1, ..RunOptions::default() }).run();
                assert!(out.violations.is_empty());
                out.events
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
