//! `ofagent`: the OpenFlow switch agent daemon and its command-line tools.
//!
//! Exit status: 0 on success (and after SIGINT/SIGTERM), 1 on a runtime failure, 2 on a usage or
//! configuration error (nothing is started then).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::process::ExitCode;

use clap::Parser;

use io_shell::cli::{Cli, Command, RunArgs};
use io_shell::config::Config;
use io_shell::event_loop::{Clock, EventLoop};
use io_shell::fake_core::FakeCore;
use io_shell::{control, logger, ofp_print};

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
    // `ofproto_core::Switch` replaces the fake here once it implements `SwitchCore`.
    let core = FakeCore::new(clock.now(), &config);
    let result = EventLoop::new(core, clock, &config).and_then(EventLoop::run);
    match result {
        Ok(_signal) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
