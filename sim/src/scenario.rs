//! Scenario timelines: what the world contains and what happens when, one line per event in the
//! shared line format of `ofproto_core::timeline` (`TIME SUBJECT VERB ARGS key=value…`, `#`
//! comments, errors naming the line). See the README for the full list of lines.

use std::time::Duration;

use connmgr_core::{ConnType, ControllerSettings, Role};
use ofp_proto::actions::{Action as OfAction, Controller as CtlAction};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::bundle::{BundleCtrlType, OFPBF_ATOMIC, OFPBF_ORDERED};
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand, FlowModFlags};
use ofp_proto::msg::monitor::MonitorFlags;
use ofp_proto::msg::AsyncUpdate;
use ofp_proto::port_no;
use ofp_proto::{Instant, VersionBitmap};
use ofproto_core::timeline::{
    lines, parse_bool, parse_duration, parse_fail_mode, parse_number, parse_versions, Line, LineError, Opts,
};

use crate::controller::Command;
use crate::net::{LinkCfg, PathCfg, DOWN, UP};

/// A switch's construction options.
#[derive(Clone, Debug, PartialEq)]
pub struct SwitchSpec {
    pub ports: u16,
    pub fail_mode: connmgr_core::FailMode,
    pub datapath_id: Option<u64>,
    pub bundle_idle_timeout: u32,
    /// How long each flow-table operation takes in the datapath ("slow hardware").
    pub datapath_delay: Duration,
    pub handlers: usize,
}

/// A controller's construction options.
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerSpec {
    pub versions: VersionBitmap,
    pub echo: bool,
    pub accepting: bool,
    pub claim: Option<(Role, Option<u64>)>,
}

/// A change to some links' settings; unset fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkChange {
    pub latency: Option<Duration>,
    pub jitter: Option<Duration>,
    pub bandwidth: Option<u64>,
    pub loss: Option<f64>,
    pub burst: Option<f64>,
    pub window: Option<usize>,
    /// Which directions the path settings apply to.
    pub dirs: [bool; 2],
}

impl LinkChange {
    pub fn apply(&self, mut cfg: LinkCfg) -> LinkCfg {
        for dir in [UP, DOWN].into_iter().filter(|d| self.dirs[*d]) {
            let p: &mut PathCfg = &mut cfg.path[dir];
            p.latency = self.latency.unwrap_or(p.latency);
            p.jitter = self.jitter.unwrap_or(p.jitter);
            p.bandwidth = self.bandwidth.unwrap_or(p.bandwidth);
            p.loss = self.loss.unwrap_or(p.loss);
            p.burst = self.burst.unwrap_or(p.burst);
        }
        cfg.window = self.window.unwrap_or(cfg.window);
        cfg
    }
}

/// Network and host faults, applied to a controller (and its links to one switch, or all).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Cut the links; `None`: until `heal`. `dirs`: [to the controller, from it].
    Partition {
        duration: Option<Duration>,
        dirs: [bool; 2],
    },
    Heal,
    /// Both ends of each connection get a reset.
    Reset,
    /// The controller forgets its connections without a word and a middlebox drops their
    /// packets until the network heals.
    HalfOpen,
    /// The host crashes (connections vanish, SYNs go unanswered) / comes back.
    Down,
    Up,
    /// The port is closed (connection refused) / open again.
    Refuse,
    Accept,
    /// Stop reading (`None`: until `resume`).
    Stall(Option<Duration>),
    Resume,
    /// Bytes per second read (0: as fast as data comes).
    ReadRate(u64),
}

/// What a line does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Switch {
        name: String,
        spec: SwitchSpec,
    },
    /// A controller target of a switch; `target` as written (`tcp:c1` names a controller).
    SwitchController {
        switch: String,
        target: String,
        settings: ControllerSettings,
    },
    Controller {
        name: String,
        spec: ControllerSpec,
    },
    /// Link settings between a switch and a controller (`None`: all of them).
    Link {
        switch: Option<String>,
        controller: Option<String>,
        change: LinkChange,
    },
    Fault {
        controller: String,
        peer: Option<String>,
        fault: Fault,
    },
    Command {
        controller: String,
        peer: Option<String>,
        cmd: Command,
    },
    /// `count` frames into `port`, `rate` per second (0: at once), over `flows` flows.
    Traffic {
        switch: String,
        port: u32,
        count: u64,
        rate: u64,
        flows: u32,
        size: usize,
    },
    Reconnect {
        switch: String,
    },
    /// Checks on a switch's view of a controller, or the switch as a whole.
    Expect {
        switch: String,
        controller: Option<String>,
        checks: Vec<(String, String)>,
    },
    /// Heal everything and check every controller is connected again in time (the liveness phase).
    HealAll,
    End,
}

/// One line of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub line: usize,
    pub time: Instant,
    pub action: Action,
}

/// A parsed timeline, with its text kept line by line (to write shrunk copies).
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub steps: Vec<Step>,
    /// The source lines, numbered from 1.
    pub text: Vec<String>,
}

impl Scenario {
    pub fn parse(text: &str) -> Result<Scenario, LineError> {
        let mut steps = Vec::new();
        for line in lines(text)? {
            steps.push(Step { line: line.number, time: line.time, action: parse_line(&line)? });
        }
        let sc = Scenario { steps, text: text.lines().map(str::to_string).collect() };
        sc.check_names()?;
        Ok(sc)
    }

    /// When the run ends: at the `end` line, else at the last line.
    pub fn end(&self) -> Instant {
        self.steps.iter().find(|s| s.action == Action::End).or(self.steps.last()).map_or(Instant::ZERO, |s| s.time)
    }

    /// Line `number` as the transcript shows it: without its time and comment.
    pub fn shown(&self, number: usize) -> String {
        let line = self.text.get(number.wrapping_sub(1)).map_or("", |l| l.trim());
        let rest = line.split_once(char::is_whitespace).map_or("", |(_, rest)| rest);
        let words: Vec<&str> = rest.split_whitespace().take_while(|w| !w.starts_with('#')).collect();
        words.join(" ")
    }

    /// The scenario without the given source lines (for shrinking).
    pub fn without(&self, drop: &[usize]) -> String {
        let mut out = String::new();
        for (i, l) in self.text.iter().enumerate() {
            if !drop.contains(&(i + 1)) {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// Names must be declared before use, and be unique.
    fn check_names(&self) -> Result<(), LineError> {
        let mut switches: Vec<(&str, Instant)> = Vec::new();
        let mut controllers: Vec<&str> = Vec::new();
        for s in &self.steps {
            let err = |m: String| Err(LineError::new(s.line, m));
            let known = |names: &Vec<&str>, n: &str| names.contains(&n);
            let sw_names: Vec<&str> = switches.iter().map(|(n, _)| *n).collect();
            let created = |n: &str| switches.iter().find(|(x, _)| *x == n).map(|(_, t)| *t);
            match &s.action {
                Action::Switch { name, .. } | Action::Controller { name, .. }
                    if known(&sw_names, name) || known(&controllers, name) =>
                {
                    return err(format!("`{name}` is declared twice"));
                }
                Action::Switch { name, .. } => switches.push((name, s.time)),
                Action::SwitchController { switch, .. } if created(switch).is_some_and(|t| t != s.time) => {
                    return err(format!(
                        "`{switch}`'s controllers are set when it is created, at {}",
                        created(switch).unwrap_or_default()
                    ));
                }
                Action::Controller { name, .. } => controllers.push(name),
                Action::SwitchController { switch, .. }
                | Action::Traffic { switch, .. }
                | Action::Reconnect { switch }
                    if !known(&sw_names, switch) =>
                {
                    return err(format!("no switch `{switch}` declared before this line"));
                }
                Action::Fault { controller, peer, .. } | Action::Command { controller, peer, .. } => {
                    if !known(&controllers, controller) {
                        return err(format!("no controller `{controller}` declared before this line"));
                    }
                    if let Some(p) = peer.as_deref().filter(|p| !known(&sw_names, p)) {
                        return err(format!("no switch `{p}` declared before this line"));
                    }
                }
                Action::Link { switch, controller, .. } => {
                    if let Some(x) = switch.as_deref().filter(|x| !known(&sw_names, x)) {
                        return err(format!("no switch `{x}` declared before this line"));
                    }
                    if let Some(x) = controller.as_deref().filter(|x| !known(&controllers, x)) {
                        return err(format!("no controller `{x}` declared before this line"));
                    }
                }
                Action::Expect { switch, controller, .. } => {
                    if !known(&sw_names, switch) {
                        return err(format!("no switch `{switch}` declared before this line"));
                    }
                    if let Some(x) = controller.as_deref().filter(|x| !known(&controllers, x)) {
                        return err(format!("no controller `{x}` declared before this line"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn no_plain(line: &Line<'_>, plain: &[&str]) -> Result<(), LineError> {
    match plain.first() {
        Some(w) => Err(line.error(format!("unexpected `{w}`"))),
        None => Ok(()),
    }
}

fn parse_line(line: &Line<'_>) -> Result<Action, LineError> {
    let w0 = line.words[0];
    match w0 {
        "end" => {
            no_plain(line, &line.words[1..])?;
            Ok(Action::End)
        }
        "heal-all" => {
            no_plain(line, &line.words[1..])?;
            Ok(Action::HealAll)
        }
        "switch" => parse_switch(line),
        "controller" => parse_controller(line),
        "link" => parse_link(line),
        "expect" => parse_expect(line),
        subject => parse_subject(line, subject),
    }
}

fn parse_switch(line: &Line<'_>) -> Result<Action, LineError> {
    let name = line.word(1, "switch name")?.to_string();
    if line.words.get(2) == Some(&"controller") {
        let target = line.word(3, "controller target")?.to_string();
        let (plain, mut o) = Opts::split(line, 4)?;
        no_plain(line, &plain)?;
        let settings = parse_switch_controller(&mut o)?;
        o.finish()?;
        return Ok(Action::SwitchController { switch: name, target, settings });
    }
    let (plain, mut o) = Opts::split(line, 2)?;
    no_plain(line, &plain)?;
    let spec = SwitchSpec {
        ports: o.number("ports")?.unwrap_or(4),
        fail_mode: o.take("fail_mode", parse_fail_mode)?.unwrap_or(connmgr_core::FailMode::Standalone),
        datapath_id: o.take("datapath_id", |v| u64::from_str_radix(v, 16).map_err(|_| format!("bad hex `{v}`")))?,
        bundle_idle_timeout: o.number("bundle_idle_timeout")?.unwrap_or(0),
        datapath_delay: o.take("datapath_delay", parse_duration)?.unwrap_or_default(),
        handlers: o.number("handlers")?.unwrap_or(1),
    };
    o.finish()?;
    Ok(Action::Switch { name, spec })
}

/// A switch's controller options in OVS's units (ms for times, as the Controller table has them).
fn parse_switch_controller(o: &mut Opts<'_>) -> Result<ControllerSettings, LineError> {
    let mut c = ControllerSettings::default();
    if let Some(ms) = o.number::<u32>("max_backoff")? {
        c.max_backoff = (ms / 1000).max(1);
    }
    if let Some(ms) = o.number::<u32>("inactivity_probe")? {
        c.probe_interval = ms / 1000;
    }
    c.controller_queue_size = o.number("queue_size")?.unwrap_or(c.controller_queue_size);
    c.rate_limit = o.number("rate_limit")?.unwrap_or(c.rate_limit);
    c.burst_limit = o.number("burst_limit")?.unwrap_or(c.burst_limit);
    c.allowed_versions = o.take("versions", parse_versions)?.unwrap_or(c.allowed_versions);
    c.enable_async_msgs = o.take("async", parse_bool)?.unwrap_or(c.enable_async_msgs);
    c.conn_type = o.take("type", |v| match v {
        "primary" => Ok(ConnType::Primary),
        "service" => Ok(ConnType::Service),
        _ => Err(format!("`{v}` is not primary or service")),
    })?;
    Ok(c)
}

fn parse_role(v: &str) -> Result<Role, String> {
    match v {
        "master" | "primary" => Ok(Role::Primary),
        "slave" | "secondary" => Ok(Role::Secondary),
        "equal" | "other" => Ok(Role::Equal),
        "nochange" => Ok(Role::NoChange),
        _ => Err(format!("`{v}` is not master, slave, equal or nochange")),
    }
}

fn parse_controller(line: &Line<'_>) -> Result<Action, LineError> {
    let name = line.word(1, "controller name")?.to_string();
    if name.starts_with(|c: char| !c.is_ascii_alphabetic()) || name.contains(['-', ':', '=']) {
        return Err(line.error(format!("bad name `{name}` (a letter, then letters, digits or _)")));
    }
    let (plain, mut o) = Opts::split(line, 2)?;
    no_plain(line, &plain)?;
    let role = o.take("role", parse_role)?;
    let generation_id = o.number("generation_id")?;
    let spec = ControllerSpec {
        versions: o.take("versions", parse_versions)?.unwrap_or(VersionBitmap::DEFAULT),
        echo: o.take("echo", parse_bool)?.unwrap_or(true),
        accepting: o.take("accept", parse_bool)?.unwrap_or(true),
        claim: role.map(|r| (r, generation_id)),
    };
    o.finish()?;
    Ok(Action::Controller { name, spec })
}

/// `NAME` or `*`.
fn name_or_all(w: &str) -> Option<String> {
    (w != "*").then(|| w.to_string())
}

fn parse_link(line: &Line<'_>) -> Result<Action, LineError> {
    let switch = name_or_all(line.word(1, "switch name or *")?);
    let controller = name_or_all(line.word(2, "controller name or *")?);
    let (plain, mut o) = Opts::split(line, 3)?;
    no_plain(line, &plain)?;
    let prob = |v: &str| -> Result<f64, String> {
        v.parse::<f64>().ok().filter(|p| (0.0..=1.0).contains(p)).ok_or_else(|| format!("`{v}` is not a probability"))
    };
    let change = LinkChange {
        latency: o.take("latency", parse_duration)?,
        jitter: o.take("jitter", parse_duration)?,
        bandwidth: o.take("bandwidth", parse_rate)?,
        loss: o.take("loss", prob)?,
        burst: o.take("burst", prob)?,
        window: o.number("window")?,
        dirs: o.take("dir", parse_dirs)?.unwrap_or([true, true]),
    };
    o.finish()?;
    Ok(Action::Link { switch, controller, change })
}

/// Bytes per second: `1000`, `64kbps`, `10mbps`, `1gbps` (bits per second with a unit).
fn parse_rate(v: &str) -> Result<u64, String> {
    let (n, mult) = if let Some(n) = v.strip_suffix("gbps") {
        (n, 1_000_000_000 / 8)
    } else if let Some(n) = v.strip_suffix("mbps") {
        (n, 1_000_000 / 8)
    } else if let Some(n) = v.strip_suffix("kbps") {
        (n, 1000 / 8)
    } else {
        (v, 1)
    };
    n.parse::<u64>().map(|n| n * mult).map_err(|_| format!("bad rate `{v}` (bytes/s, or 10mbps)"))
}

/// `both`, `in` (toward the controller) or `out` (from it).
fn parse_dirs(v: &str) -> Result<[bool; 2], String> {
    match v {
        "both" => Ok([true, true]),
        "in" | "up" => Ok([true, false]),
        "out" | "down" => Ok([false, true]),
        _ => Err(format!("`{v}` is not both, in or out")),
    }
}

fn parse_expect(line: &Line<'_>) -> Result<Action, LineError> {
    let switch = line.word(1, "switch name")?.to_string();
    let (plain, o) = Opts::split(line, 2)?;
    let controller = match plain.as_slice() {
        [] => None,
        [c] => Some(c.to_string()),
        [_, extra, ..] => return Err(line.error(format!("unexpected `{extra}`"))),
    };
    let mut checks = Vec::new();
    let mut o = o;
    for key in ["state", "role", "connected", "flows", "sessions"] {
        if let Some(v) = o.take(key, |v| Ok(v.to_string()))? {
            checks.push((key.to_string(), v));
        }
    }
    o.finish()?;
    if checks.is_empty() {
        return Err(line.error("nothing to expect (state=, role=, connected=, flows=, sessions=)"));
    }
    Ok(Action::Expect { switch, controller, checks })
}

/// `SUBJECT VERB …` where the subject is a declared switch or controller.
fn parse_subject(line: &Line<'_>, subject: &str) -> Result<Action, LineError> {
    let verb = line.word(1, "verb")?;
    let (plain, mut o) = Opts::split(line, 2)?;
    let peer = o.take("peer", |v| Ok(v.to_string()))?;
    let controller = subject.to_string();
    let fault = |fault| Action::Fault { controller: controller.clone(), peer: peer.clone(), fault };
    let command = |cmd| Action::Command { controller: controller.clone(), peer: peer.clone(), cmd };
    let dur = |plain: &[&str]| -> Result<Option<Duration>, LineError> {
        match plain {
            [] => Ok(None),
            [d] => parse_duration(d).map(Some).map_err(|e| line.error(e)),
            [_, x, ..] => Err(line.error(format!("unexpected `{x}`"))),
        }
    };
    let action = match verb {
        "partition" => {
            let dirs = o.take("dir", parse_dirs)?.unwrap_or([true, true]);
            fault(Fault::Partition { duration: dur(&plain)?, dirs })
        }
        "stall" => fault(Fault::Stall(dur(&plain)?)),
        "heal" | "reset" | "half-open" | "down" | "up" | "refuse" | "accept" | "resume" => {
            no_plain(line, &plain)?;
            fault(match verb {
                "heal" => Fault::Heal,
                "reset" => Fault::Reset,
                "half-open" => Fault::HalfOpen,
                "down" => Fault::Down,
                "up" => Fault::Up,
                "refuse" => Fault::Refuse,
                "accept" => Fault::Accept,
                _ => Fault::Resume,
            })
        }
        "read-rate" => match plain.as_slice() {
            ["off"] => fault(Fault::ReadRate(0)),
            [r] => fault(Fault::ReadRate(parse_rate(r).map_err(|e| line.error(e))?)),
            _ => return Err(line.error("read-rate takes a rate (bytes/s) or off")),
        },
        "echo" => match plain.as_slice() {
            [v] => command(Command::Echo(parse_bool(v).map_err(|e| line.error(e))?)),
            _ => return Err(line.error("echo takes on or off")),
        },
        "role" => {
            let [r] = plain.as_slice() else { return Err(line.error("role takes master, slave, equal or nochange")) };
            let role = parse_role(r).map_err(|e| line.error(e))?;
            command(Command::Role { role, generation_id: o.number("generation_id")? })
        }
        "flow-mod" => {
            let [c] = plain.as_slice() else { return Err(line.error("flow-mod takes a command (add, delete, …)")) };
            command(Command::FlowMod(Box::new(parse_flow_mod(line, c, &mut o)?)))
        }
        "flow-mods" => {
            let [n] = plain.as_slice() else { return Err(line.error("flow-mods takes a count")) };
            let count =
                parse_number(n).ok().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| line.error("bad count"))?;
            let rate = o.number("rate")?.unwrap_or(0);
            let template = Box::new(parse_flow_mod(line, "add", &mut o)?);
            command(Command::FlowMods { template, count, rate })
        }
        "barrier" | "echo-request" | "features" | "flow-stats" | "close" => {
            no_plain(line, &plain)?;
            command(match verb {
                "barrier" => Command::Barrier,
                "echo-request" => Command::EchoRequest,
                "features" => Command::Features,
                "flow-stats" => Command::FlowStats,
                _ => Command::Close,
            })
        }
        "bundle" => {
            let [op] = plain.as_slice() else { return Err(line.error("bundle takes open, add, commit or discard")) };
            let id = o.number("id")?.ok_or_else(|| line.error("bundle needs id="))?;
            let flags = o.take("flags", parse_bundle_flags)?.unwrap_or(0);
            let ctrl = match *op {
                "open" => BundleCtrlType::OPEN_REQUEST,
                "close" => BundleCtrlType::CLOSE_REQUEST,
                "commit" => BundleCtrlType::COMMIT_REQUEST,
                "discard" => BundleCtrlType::DISCARD_REQUEST,
                "add" => {
                    let fm = parse_flow_mod(
                        line,
                        o.take("command", |v| Ok(v.to_string()))?.as_deref().unwrap_or("add"),
                        &mut o,
                    )?;
                    o.finish()?;
                    return Ok(command(Command::BundleAdd { id, flags, fm: Box::new(fm) }));
                }
                _ => return Err(line.error(format!("unknown bundle operation `{op}`"))),
            };
            command(Command::BundleCtrl { id, ctrl, flags })
        }
        "monitor" => {
            no_plain(line, &plain)?;
            let id = o.number("id")?.ok_or_else(|| line.error("monitor needs id="))?;
            let flags = o
                .take("flags", parse_monitor_flags)?
                .unwrap_or(MonitorFlags::INITIAL | MonitorFlags::ADD | MonitorFlags::REMOVED | MonitorFlags::MODIFY);
            let table_id = o.number("table")?.unwrap_or(0xff);
            let out_port = o.number("out_port")?.unwrap_or(ofp_proto::port_no::ANY);
            command(Command::Monitor { id, flags, table_id, out_port })
        }
        "monitor-cancel" => {
            no_plain(line, &plain)?;
            command(Command::MonitorCancel {
                id: o.number("id")?.ok_or_else(|| line.error("monitor-cancel needs id="))?,
            })
        }
        "set-async" => {
            no_plain(line, &plain)?;
            let mut u = AsyncUpdate::default();
            for (i, key) in
                ["packet_in", "port_status", "flow_removed", "role_status", "table_status", "requestforward"]
                    .iter()
                    .enumerate()
            {
                u.primary[i] = o.number(&format!("master_{key}"))?;
                u.secondary[i] = o.number(&format!("slave_{key}"))?;
            }
            command(Command::SetAsync(u))
        }
        "packet-out" => {
            no_plain(line, &plain)?;
            command(Command::PacketOut { port: o.number("port")?.ok_or_else(|| line.error("packet-out needs port="))? })
        }
        "traffic" | "burst" => {
            no_plain(line, &plain)?;
            if peer.is_some() {
                return Err(line.error("unknown option `peer`"));
            }
            let port = o.number("port")?.unwrap_or(1);
            let flows = o.number("flows")?.unwrap_or(1);
            let size = o.number("size")?.unwrap_or(64);
            let (count, rate) = if verb == "burst" {
                (o.number("count")?.ok_or_else(|| line.error("burst needs count="))?, 0)
            } else {
                let rate: u64 = o.number("rate")?.ok_or_else(|| line.error("traffic needs rate= (frames/s)"))?;
                let d = o.take("duration", parse_duration)?.ok_or_else(|| line.error("traffic needs duration="))?;
                ((rate * d.as_millis() as u64).div_ceil(1000), rate)
            };
            Action::Traffic { switch: subject.to_string(), port, count, rate, flows, size }
        }
        "reconnect" => {
            no_plain(line, &plain)?;
            Action::Reconnect { switch: subject.to_string() }
        }
        other => return Err(line.error(format!("unknown verb `{other}`"))),
    };
    o.finish()?;
    Ok(action)
}

fn parse_flags(v: &str, names: &[(&str, u16)]) -> Result<u16, String> {
    let mut flags = 0;
    for f in v.split(',') {
        let (_, bit) = names.iter().find(|(n, _)| *n == f).ok_or_else(|| format!("unknown flag `{f}`"))?;
        flags |= bit;
    }
    Ok(flags)
}

fn parse_bundle_flags(v: &str) -> Result<u16, String> {
    parse_flags(v, &[("atomic", OFPBF_ATOMIC), ("ordered", OFPBF_ORDERED)])
}

fn parse_monitor_flags(v: &str) -> Result<u16, String> {
    let names = [
        ("initial", MonitorFlags::INITIAL),
        ("add", MonitorFlags::ADD),
        ("delete", MonitorFlags::REMOVED),
        ("modify", MonitorFlags::MODIFY),
        ("actions", MonitorFlags::INSTRUCTIONS),
        ("own", MonitorFlags::ONLY_OWN),
    ];
    parse_flags(v, &names)
}

/// A flow mod from options: `table= priority= cookie= idle_timeout= hard_timeout= flags=
/// in_port= dl_type= nw_proto= tp_src= tp_dst= out_port= actions=` (actions: `output:N`,
/// `controller`, `normal`, `flood`, `drop`, comma-separated).
fn parse_flow_mod(line: &Line<'_>, command: &str, o: &mut Opts<'_>) -> Result<FlowMod, LineError> {
    let command = match command {
        "add" => FlowModCommand::Add,
        "modify" => FlowModCommand::Modify,
        "modify_strict" => FlowModCommand::ModifyStrict,
        "delete" => FlowModCommand::Delete,
        "delete_strict" => FlowModCommand::DeleteStrict,
        other => return Err(line.error(format!("unknown flow-mod command `{other}`"))),
    };
    let mut fm = FlowMod { command, ..FlowMod::default() };
    let deleting = matches!(command, FlowModCommand::Delete | FlowModCommand::DeleteStrict);
    fm.table_id = o.number("table")?.unwrap_or(if deleting { 0xff } else { 0 });
    fm.priority = o.number("priority")?.unwrap_or(fm.priority);
    if let Some(c) = o.number("cookie")? {
        fm.new_cookie = c;
        fm.cookie = c;
    }
    fm.idle_timeout = o.number("idle_timeout")?.unwrap_or(0);
    fm.hard_timeout = o.number("hard_timeout")?.unwrap_or(0);
    let names = [("send_flow_rem", FlowModFlags::SEND_FLOW_REM), ("check_overlap", FlowModFlags::CHECK_OVERLAP)];
    fm.flags = FlowModFlags(o.take("flags", |v| parse_flags(v, &names))?.unwrap_or(0));
    fm.out_port = o.number("out_port")?.unwrap_or(port_no::ANY);
    if let Some(p) = o.number::<u32>("in_port")? {
        fm.match_.set_in_port(p);
    }
    if let Some(t) = o.number::<u16>("dl_type")? {
        fm.match_.set_dl_type(t);
    }
    if let Some(p) = o.number::<u8>("nw_proto")? {
        fm.match_.set_nw_proto(p);
    }
    if let Some(p) = o.number::<u16>("tp_src")? {
        fm.match_.set_tp_src_masked(p, u16::MAX);
    }
    if let Some(p) = o.number::<u16>("tp_dst")? {
        fm.match_.set_tp_dst_masked(p, u16::MAX);
    }
    if let Some(actions) = o.take("actions", parse_actions)? {
        fm.instructions = Instructions::apply(actions);
    }
    Ok(fm)
}

fn parse_actions(v: &str) -> Result<Vec<OfAction>, String> {
    let mut out = Vec::new();
    for a in v.split(',') {
        let port = match a {
            "drop" => continue,
            "controller" => {
                out.push(OfAction::Controller(CtlAction { max_len: u16::MAX, ..CtlAction::default() }));
                continue;
            }
            "normal" => port_no::NORMAL,
            "flood" => port_no::FLOOD,
            _ => match a.strip_prefix("output:") {
                Some(p) => u32::try_from(parse_number(p)?).map_err(|_| format!("bad port `{p}`"))?,
                None => return Err(format!("unknown action `{a}` (output:N, controller, normal, flood, drop)")),
            },
        };
        let max_len = if port == port_no::CONTROLLER { u16::MAX } else { 0 };
        out.push(OfAction::Output { port, max_len });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_scenario_parses() {
        let text = "\
# comment
0.000 controller c1 versions=1.3 role=master generation_id=5
0.000 switch s1 ports=2
0.000 switch s1 controller tcp:c1 max_backoff=4000 inactivity_probe=10000
0.000 link s1 c1 latency=10ms jitter=2ms
1.500 c1 partition 30s dir=in peer=s1
2.000 c1 flow-mod add priority=10 in_port=1 actions=output:2
3.000 c1 flow-mods 100 rate=50 priority=1000
4.000 s1 traffic port=1 rate=100 duration=2s flows=4
5.000 expect s1 c1 state=ACTIVE
60 end
";
        let sc = Scenario::parse(text).unwrap();
        assert_eq!(sc.steps.len(), 10);
        assert_eq!(sc.end(), Instant::from_secs(60));
        match &sc.steps[2].action {
            Action::SwitchController { settings, target, .. } => {
                assert_eq!(target, "tcp:c1");
                assert_eq!((settings.max_backoff, settings.probe_interval), (4, 10));
            }
            a => panic!("{a:?}"),
        }
        assert_eq!(
            sc.steps[4].action,
            Action::Fault {
                controller: "c1".into(),
                peer: Some("s1".into()),
                fault: Fault::Partition { duration: Some(Duration::from_secs(30)), dirs: [true, false] }
            }
        );
        assert!(matches!(&sc.steps[7].action, Action::Traffic { count: 200, rate: 100, flows: 4, .. }));
        assert_eq!(sc.without(&[2, 3]).lines().count(), 9);
    }

    #[test]
    fn errors_name_the_line() {
        let err = |t: &str| Scenario::parse(t).unwrap_err();
        assert_eq!(err("0 controller c1\n1 c1 warp"), LineError::new(2, "unknown verb `warp`"));
        assert_eq!(err("0 c1 partition"), LineError::new(1, "no controller `c1` declared before this line"));
        assert_eq!(err("0 controller c1\n0 controller c1"), LineError::new(2, "`c1` is declared twice"));
        assert_eq!(
            err("0 controller c1\n1 c1 partition 3x"),
            LineError::new(2, "bad duration `3x` (e.g. 250ms, 30s, 1.5s, 2m, 1h)")
        );
        assert_eq!(err("0 switch s1 controller tcp:c1 probe=1"), LineError::new(1, "unknown option `probe`"));
        assert_eq!(
            err("0 controller c1\n1 c1 flow-mod add actions=jump"),
            LineError::new(2, "actions: unknown action `jump` (output:N, controller, normal, flood, drop)")
        );
        assert_eq!(err("0 switch s1\n1 s1 traffic rate=10"), LineError::new(2, "traffic needs duration="));
    }
}
