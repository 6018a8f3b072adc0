//! The command line: `ofagent run | status | inject | reconnect | ofp-print`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "ofagent", version, about = "OpenFlow switch agent (the control-plane half of ovs-vswitchd)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the switch agent (embedded default: bridge br0, 4 ports, listener ptcp:6634:127.0.0.1).
    Run(Box<RunArgs>),
    /// Print controller, listener, flow, port and upcall status from a running agent.
    Status(StatusArgs),
    /// Hand a frame to a running agent as if it arrived on a built-in datapath port.
    Inject(InjectArgs),
    /// Drop and re-establish a running agent's controller connections.
    Reconnect(ControlArgs),
    /// Decode OpenFlow messages given in hex (one per argument, or one per line on stdin).
    OfpPrint(OfpPrintArgs),
}

/// Settings given here override the configuration file's.
#[derive(Debug, Default, Args)]
pub struct RunArgs {
    /// TOML configuration file ([bridge], [[controller]], [[listener]], [[snoop]]).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    pub bridge: Option<String>,
    /// 16 hex digits, or 0x and up to 16 hex digits (OVS's datapath-id syntax).
    #[arg(long, value_name = "HEX")]
    pub datapath_id: Option<String>,
    /// Active controller target: tcp:IP[:PORT] or unix:PATH. Replaces the file's controllers.
    #[arg(long = "controller", value_name = "TARGET")]
    pub controllers: Vec<String>,
    /// Passive target to accept OpenFlow connections on: ptcp:[PORT][:IP] or punix:PATH.
    /// Replaces the file's (and the default) listeners.
    #[arg(long = "listen", value_name = "PTARGET")]
    pub listeners: Vec<String>,
    /// Passive target where monitors see copies of the controller connection's traffic.
    #[arg(long = "snoop", value_name = "PTARGET")]
    pub snoops: Vec<String>,
    /// Allowed OpenFlow versions, e.g. OpenFlow10,OpenFlow13 (default: OpenFlow10 to OpenFlow15).
    #[arg(long, value_name = "LIST")]
    pub protocols: Option<String>,
    /// Milliseconds of silence before an inactivity probe (0: never; below 5000 means 5 s). Applies to
    /// every controller and listener.
    #[arg(long, value_name = "MS")]
    pub inactivity_probe: Option<u64>,
    /// Longest reconnection backoff in milliseconds (at least 1000).
    #[arg(long, value_name = "MS")]
    pub max_backoff: Option<u64>,
    /// Packet-ins per second per connection (at least 100); unset: no limit.
    #[arg(long, value_name = "PPS")]
    pub controller_rate_limit: Option<u64>,
    /// Packet-ins sent in a burst (at least 25; default a quarter of the rate).
    #[arg(long, value_name = "N")]
    pub controller_burst_limit: Option<u64>,
    /// Packet-ins queued per connection (1 to 512, default 100).
    #[arg(long, value_name = "N")]
    pub controller_queue_size: Option<u64>,
    #[arg(long, value_enum, value_name = "MODE")]
    pub fail_mode: Option<FailModeArg>,
    /// Seconds a bundle may stay idle before it is discarded (0: the default, 10).
    #[arg(long, value_name = "SECS")]
    pub bundle_idle_timeout: Option<u64>,
    /// Number of built-in datapath ports (numbered from 1).
    #[arg(long, value_name = "N")]
    pub ports: Option<u64>,
    /// Unix socket for status/inject/reconnect (default: RUNDIR/BRIDGE.ctl; see README).
    #[arg(long, value_name = "PATH")]
    pub control_socket: Option<PathBuf>,
    /// off, emer, err, warn, info, dbg (or error, debug, trace).
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Seed for everything random in the switch (default: drawn from the OS and logged, so that
    /// a run can be repeated with the same seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Write every input the switch is given (with its time), and what came back, to FILE;
    /// `ofsim replay FILE` reproduces the run.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Check the configuration, print the settings in effect as JSON, and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Run the line-protocol stand-in core instead of the switch (the event loop's tests).
    #[arg(long, hide = true)]
    pub fake_core: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailModeArg {
    Standalone,
    Secure,
}

#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The agent's control socket (default: RUNDIR/br0.ctl).
    #[arg(long, value_name = "PATH")]
    pub control_socket: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InjectArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// The datapath port the frame arrives on.
    #[arg(long, value_name = "N")]
    pub port: u32,
    /// The Ethernet frame in hex.
    #[arg(value_name = "HEX")]
    pub frame: String,
}

#[derive(Debug, Args)]
pub struct OfpPrintArgs {
    /// One JSON object per message instead of ovs-ofctl's text.
    #[arg(long)]
    pub json: bool,
    /// Messages in hex; none: read one message per line from stdin.
    #[arg(value_name = "HEX")]
    pub messages: Vec<String>,
}
