//! `ofsim`: replays timelines against the real cores in virtual time.

use std::process::ExitCode;

use sim::agent::Interim;
use sim::scenario::Scenario;
use sim::world::{RunOptions, World};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[2]).unwrap();
    let sc = match Scenario::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}:{}: {}", args[2], e.line, e.message);
            return ExitCode::from(2);
        }
    };
    let out = World::<Interim>::new(sc, RunOptions { seed: 1, transcript: true, ..RunOptions::default() }).run();
    for l in &out.transcript {
        println!("{l}");
    }
    for l in &out.summary {
        println!("{l}");
    }
    ExitCode::SUCCESS
}
