//! `ofsim`: runs scenario timelines against the real cores in virtual time, sweeps seeds with
//! random faults, and replays records of a switch's inputs.

// The simulator is a driver: it reads and writes files and runs seeds on threads.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::{Parser, Subcommand};
use ofproto_core::timeline::Record;
use sim::agent::Agent;
use sim::scenario::Scenario;
use sim::sweep::{run_seed, shrink_failure, SeedRun};
use sim::world::{RunOptions, World};
use sim::{replay, svg};

#[derive(Parser)]
#[command(name = "ofsim", about = "Deterministic simulator for the ofagent switch cores")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a timeline: print its transcript and a summary (exit 1 if an invariant broke).
    Run {
        file: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Draw per-connection state lanes, roles, packet-in backlogs and drops.
        #[arg(long, value_name = "OUT.svg")]
        svg: Option<PathBuf>,
        /// Write switch SWITCH's inputs as a record (`ofsim replay` reads it).
        #[arg(long, value_name = "SWITCH=FILE")]
        record: Vec<String>,
        /// Print only the summary.
        #[arg(long)]
        quiet: bool,
    },
    /// Run a scenario under random faults for many seeds; shrink and save each failure.
    Sweep {
        file: PathBuf,
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 1)]
        first: u64,
        /// Run each seed twice and compare the transcripts.
        #[arg(long)]
        check_determinism: bool,
        /// Seeds run at once.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Where shrunk failing timelines go.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Runs allowed for shrinking one failure.
        #[arg(long, default_value_t = 300)]
        shrink_runs: usize,
    },
    /// Feed a record of a switch's inputs to a new switch and compare what comes back.
    Replay { file: PathBuf },
}

fn read_scenario(path: &Path) -> Result<Scenario, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("ofsim: {}: {e}", path.display());
        ExitCode::from(2)
    })?;
    Scenario::parse(&text).map_err(|e| {
        eprintln!("{}:{}: {}", path.display(), e.line, e.message);
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, seed, svg, record, quiet } => run(&file, seed, svg, &record, quiet),
        Command::Sweep { file, seeds, first, check_determinism, jobs, out, shrink_runs } => {
            sweep(&file, first..first + seeds, check_determinism, jobs, &out, shrink_runs)
        }
        Command::Replay { file } => replay_file(&file),
    };
    result.unwrap_or_else(|code| code)
}

fn write_file(path: &Path, text: &str) -> Result<(), ExitCode> {
    std::fs::write(path, text).map_err(|e| {
        eprintln!("ofsim: {}: {e}", path.display());
        ExitCode::from(1)
    })
}

fn run(file: &Path, seed: u64, svg_out: Option<PathBuf>, record: &[String], quiet: bool) -> Result<ExitCode, ExitCode> {
    let sc = read_scenario(file)?;
    let mut targets = Vec::new();
    for r in record {
        let Some((switch, path)) = r.split_once('=') else {
            eprintln!("ofsim: --record takes SWITCH=FILE, not `{r}`");
            return Err(ExitCode::from(2));
        };
        targets.push((switch.to_string(), PathBuf::from(path)));
    }
    let opts = RunOptions { seed, transcript: !quiet, record: targets.iter().map(|(s, _)| s.clone()).collect() };
    let out = World::<Agent>::new(sc, opts).run();
    let mut stdout = std::io::stdout().lock();
    for l in out.transcript.iter().chain(std::iter::once(&"--- summary".to_string())).chain(&out.summary) {
        let _ = writeln!(stdout, "{l}");
    }
    for (t, v) in &out.violations {
        let _ = writeln!(stdout, "violation at {t}: {v}");
    }
    if let Some(path) = svg_out {
        write_file(&path, &svg::render(&format!("{} (seed {seed})", file.display()), &out))?;
    }
    for (switch, path) in &targets {
        let Some(rec) = out.records.get(switch) else {
            eprintln!("ofsim: no switch `{switch}` to record");
            return Err(ExitCode::from(2));
        };
        write_file(path, &rec.to_string())?;
    }
    Ok(if out.violations.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// A one-line progress bar on stderr, when it is a terminal.
fn progress(done: usize, total: usize, failures: usize) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let width = 40;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    eprint!("\r[{}{}] {done}/{total} seeds, {failures} failing", "#".repeat(filled), ".".repeat(width - filled));
    if done == total {
        eprintln!();
    }
}

fn sweep(
    file: &Path,
    seeds: std::ops::Range<u64>,
    check: bool,
    jobs: usize,
    out_dir: &Path,
    shrink_runs: usize,
) -> Result<ExitCode, ExitCode> {
    let base = read_scenario(file)?;
    let total = seeds.clone().count();
    let next = AtomicU64::new(seeds.start);
    let done = AtomicUsize::new(0);
    let failures: Mutex<Vec<SeedRun>> = Mutex::new(Vec::new());
    progress(0, total, 0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= seeds.end {
                    break;
                }
                let r = run_seed::<Agent>(&base, seed, check);
                let mut f = failures.lock().unwrap_or_else(|e| e.into_inner());
                if r.failed() {
                    f.push(r);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(n, total, f.len());
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by_key(|r| r.seed);
    let name = file.file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    for r in &failures {
        if let Some(d) = &r.nondeterminism {
            println!("seed {}: not deterministic: {d}", r.seed);
        }
        let Some((t, v)) = r.outcome.violations.first() else { continue };
        println!("seed {}: violation at {t}: {v}", r.seed);
        let (shrunk, runs) = shrink_failure::<Agent>(r, shrink_runs);
        let path = out_dir.join(format!("{name}-seed{}.tl", r.seed));
        let header = format!(
            "# ofsim sweep of {}: seed {} fails with: {v}\n# shrunk in {runs} runs; reproduce with: ofsim run {} --seed {}\n",
            file.display(),
            r.seed,
            path.display(),
            r.seed
        );
        write_file(&path, &(header + &shrunk))?;
        println!("  shrunk to {} lines: {}", shrunk.lines().count(), path.display());
    }
    println!("{total} seeds{}: {} failing", if check { " (each run twice)" } else { "" }, failures.len());
    Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn replay_file(file: &Path) -> Result<ExitCode, ExitCode> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        eprintln!("ofsim: {}: {e}", file.display());
        ExitCode::from(2)
    })?;
    let record = Record::parse(&text).map_err(|e| {
        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
        ExitCode::from(2)
    })?;
    let report = replay::replay::<Agent>(&record);
    for d in &report.differences {
        println!("{}: {d}", file.display());
    }
    println!(
        "replayed {} inputs: {} results and {} outputs compared, {}",
        report.inputs,
        report.results_compared,
        report.outputs_compared,
        if report.is_identical() {
            "identical".to_string()
        } else {
            format!("{} differences", report.differences.len())
        }
    );
    Ok(if report.is_identical() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
