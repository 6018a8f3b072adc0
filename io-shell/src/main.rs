//! `ofagent`: the OpenFlow switch agent daemon and its command-line tools.
//!
//! Exit status: 0 on success (and after SIGINT/SIGTERM), 1 on a runtime failure, 2 on a usage or
//! configuration error (nothing is started then).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::Read;
use std::process::ExitCode;

use clap::Parser;

use io_shell::cli::{Cli, Command, RunArgs};
use io_shell::config::Config;
use io_shell::core::SwitchCore;
use io_shell::event_loop::{Clock, EventLoop};
use io_shell::fake_core::FakeCore;
use io_shell::record::Recording;
use io_shell::switch_core::switch_config;
use io_shell::{control, logger, ofp_print};
use log::{info, warn};
use ofp_proto::port_no;
use ofproto_core::{Switch, SwitchStatus};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => run(&args),
        Command::Status(args) => control::status_cmd(&args),
        Command::Inject(args) => control::inject_cmd(&args),
        Command::Reconnect(args) => control::reconnect_cmd(&args),
        Command::OfpPrint(args) => ofp_print::main(&args),
    }
}

fn run(args: &RunArgs) -> ExitCode {
    let config = match Config::load(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ofagent: {e}");
            return ExitCode::from(2);
        }
    };
    if args.dry_run {
        println!("{}", serde_json::to_string_pretty(&config).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    logger::init(config.log_level);
    let clock = Clock::start();
    if args.fake_core {
        return serve(FakeCore::new(clock.now(), &config), clock, &config);
    }
    let seed = config.seed.unwrap_or_else(os_seed);
    info!("{}: seed {seed} (run with --seed {seed} to repeat it)", config.bridge);
    let start = clock.now();
    let setup = switch_config(&config, seed);
    let switch = Switch::new(start, &setup);
    for e in switch.config_errors() {
        // The configuration was checked, so the switch should accept every target.
        warn!("{}: {e}", config.bridge);
    }
    log_bridge(&switch.status(clock.now()));
    match &args.record {
        None => serve(switch, clock, &config),
        Some(path) => {
            let recording = std::fs::File::create(path)
                .and_then(|f| Recording::new(switch, start, &setup, Box::new(std::io::BufWriter::new(f))));
            match recording {
                Ok(r) => serve(r, clock, &config),
                Err(e) => {
                    eprintln!("ofagent: {}: {e}", path.display());
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// Runs the event loop around `core` until a signal.
fn serve<C: SwitchCore>(core: C, clock: Clock, config: &Config) -> ExitCode {
    match EventLoop::new(core, clock, config).and_then(EventLoop::run) {
        Ok(_signal) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// What ovs-vswitchd's bridge module logs when it creates a bridge.
fn log_bridge(s: &SwitchStatus) {
    for p in &s.ports {
        // OVS prints OpenFlow 1.0 port numbers (LOCAL is 65534).
        let n = if p.port_no == port_no::LOCAL { 65534 } else { p.port_no };
        info!(target: "bridge", "bridge {}: added interface {} on port {n}", s.bridge, p.name);
    }
    info!(target: "bridge", "bridge {}: using datapath ID {:016x}", s.bridge, s.datapath_id);
}

/// A seed from the operating system's random source; the time and process id if it cannot be read.
fn os_seed() -> u64 {
    let mut b = [0u8; 8];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        Ok(()) => u64::from_le_bytes(b),
        Err(e) => {
            warn!("/dev/urandom: {e}; seeding from the clock");
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            t.as_nanos() as u64 ^ u64::from(std::process::id())
        }
    }
}
