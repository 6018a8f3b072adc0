//! The world: a virtual clock that jumps from one event to the next, an event queue, the switches
//! (real state machines), the scripted controllers and the network between them. Every random
//! choice comes from the run's seed; the same scenario and seed give the same run, byte for byte.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use connmgr_core::{ConnId, ControllerSettings, Event as MgrEvent, Output, Role};
use ofp_proto::Instant;
use ofproto_core::timeline::{self, Fed, Input, Record, Recorded, Setup, Step as RecStep};
use rconn_core::ConnError;

use crate::agent::{feed, SwitchAgent};
use crate::controller::{Controller, READ_TICK};
use crate::invariants::Invariants;
use crate::net::{Net, Partition, Seg, StreamId, DOWN, UP};
use crate::rng::Rng;
use crate::scenario::{Action, Fault, Scenario};
use crate::traffic::{self, Source};

/// Events at one instant beyond this mean something spins without time passing.
const LIVELOCK_LIMIT: u64 = 1_000_000;
/// Steps of one switch at one instant beyond this mean its deadline never moves on.
const STEP_LIMIT: u32 = 100_000;

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub seed: u64,
    /// Keep the transcript (off for speed measurements).
    pub transcript: bool,
    /// Switches whose inputs to record.
    pub record: BTreeSet<String>,
}

/// One (switch, controller target) pair's history, for pictures.
#[derive(Clone, Debug, Default)]
pub struct Lane {
    pub switch: String,
    pub controller: String,
    pub states: Vec<(Instant, String)>,
    pub roles: Vec<(Instant, Option<Role>)>,
    pub backlog: Vec<(Instant, u64)>,
    pub dropped: Vec<(Instant, u64)>,
    /// When the transcript last told of drops here.
    pub(crate) noted_drop: Option<Instant>,
}

/// What a run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub transcript: Vec<String>,
    pub violations: Vec<(Instant, String)>,
    pub summary: Vec<String>,
    pub lanes: Vec<Lane>,
    /// The timeline's events (faults, commands, traffic) with their times, for pictures.
    pub marks: Vec<(Instant, String)>,
    pub records: BTreeMap<String, Record>,
    pub events: u64,
    pub end: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Script(usize),
    Arrive(StreamId, usize),
    SwitchWake(usize),
    ControllerWake(usize),
    Traffic(usize),
    PartitionEnd(u64),
    Liveness(Instant),
}

/// A controller target's state as the transcript and the pictures show it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Sample {
    state: String,
    role: Option<Role>,
    /// Packet-ins waiting in the rate limiter.
    backlog: u64,
    /// Packet-ins dropped on the current connection: by the rate limiter and for a full queue.
    dropped: u64,
}

pub(crate) struct SwitchNode<A> {
    pub(crate) name: String,
    pub(crate) agent: A,
    /// The controllers it was configured with, by target.
    pub(crate) controllers: BTreeMap<String, ControllerSettings>,
    /// Its transports: the stream, and the target for those it opened.
    pub(crate) conns: BTreeMap<ConnId, (StreamId, Option<Arc<str>>)>,
    /// Per target, the transport opened last (until it closes).
    pub(crate) current: BTreeMap<Arc<str>, ConnId>,
    scheduled: Option<Instant>,
    /// What the transcript last said of each controller target, and of failing open.
    samples: BTreeMap<String, Sample>,
    fail_open: bool,
    record: Option<Record>,
    frames: u64,
    packet_outs: u64,
    steps_now: (Instant, u32),
}

/// The simulated world. See the crate docs for how a run goes.
pub struct World<A> {
    pub(crate) now: Instant,
    seq: u64,
    seed: u64,
    opts: RunOptions,
    queue: BinaryHeap<Reverse<(Instant, u64, Ev)>>,
    scenario: Scenario,
    pub(crate) switches: Vec<SwitchNode<A>>,
    pub(crate) controllers: Vec<Controller>,
    ctl_scheduled: Vec<Option<Instant>>,
    /// Controller index by name and by target.
    pub(crate) ctl_names: BTreeMap<String, usize>,
    pub(crate) ctl_targets: BTreeMap<String, usize>,
    pub(crate) sw_names: BTreeMap<String, usize>,
    pub(crate) net: Net,
    sources: Vec<Source>,
    pub(crate) inv: Invariants,
    transcript: Vec<String>,
    dirty_sw: BTreeSet<usize>,
    dirty_ctl: BTreeSet<usize>,
    next_frame: u64,
    lanes: BTreeMap<(usize, String), Lane>,
    marks: Vec<(Instant, String)>,
    events: u64,
    /// Reused for the list of a switch's transports.
    scratch: Vec<(ConnId, StreamId)>,
}

fn ctl_addr(index: usize) -> String {
    let n = index + 1;
    format!("10.0.{}.{}", n / 250, n % 250 + 1)
}

impl<A: SwitchAgent> World<A> {
    pub fn new(scenario: Scenario, opts: RunOptions) -> World<A> {
        let mut w = World {
            now: Instant::ZERO,
            seq: 0,
            seed: opts.seed,
            queue: BinaryHeap::new(),
            switches: Vec::new(),
            controllers: Vec::new(),
            ctl_scheduled: Vec::new(),
            ctl_names: BTreeMap::new(),
            ctl_targets: BTreeMap::new(),
            sw_names: BTreeMap::new(),
            net: Net::new(opts.seed),
            sources: Vec::new(),
            inv: Invariants::default(),
            transcript: Vec::new(),
            dirty_sw: BTreeSet::new(),
            dirty_ctl: BTreeSet::new(),
            next_frame: 1,
            lanes: BTreeMap::new(),
            marks: Vec::new(),
            events: 0,
            scratch: Vec::new(),
            opts,
            scenario,
        };
        for i in 0..w.scenario.steps.len() {
            let t = w.scenario.steps[i].time;
            w.schedule(t, Ev::Script(i));
        }
        w
    }

    fn schedule(&mut self, at: Instant, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, ev)));
    }

    pub(crate) fn note(&mut self, text: impl FnOnce(&Self) -> String) {
        if self.opts.transcript {
            let line = format!("{} {}", self.now, text(self));
            self.transcript.push(line);
        }
    }

    pub(crate) fn violation(&mut self, text: String) {
        self.note(|_| format!("VIOLATION {text}"));
        self.inv.violation(self.now, text);
    }

    /// Runs the scenario to its end.
    pub fn run(mut self) -> Outcome {
        let end = self.scenario.end();
        let mut same_instant = 0u64;
        while let Some(Reverse((t, _, ev))) = self.queue.pop() {
            if t > end {
                break;
            }
            same_instant = if t == self.now { same_instant + 1 } else { 0 };
            if same_instant > LIVELOCK_LIMIT {
                self.violation(format!("livelock: {LIVELOCK_LIMIT} events at {t} without time passing"));
                break;
            }
            self.now = t;
            self.events += 1;
            self.handle(ev);
            self.settle();
            if self.inv.violations.len() > 100 {
                break;
            }
        }
        self.now = self.now.max(end);
        self.finish()
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Script(i) => self.script(i),
            Ev::Arrive(id, dir) => self.arrive(id, dir),
            Ev::SwitchWake(s) => {
                if self.switches[s].scheduled == Some(self.now) {
                    self.switches[s].scheduled = None;
                    self.dirty_sw.insert(s);
                }
            }
            Ev::ControllerWake(c) => {
                if self.ctl_scheduled[c] == Some(self.now) {
                    self.ctl_scheduled[c] = None;
                    self.dirty_ctl.insert(c);
                }
            }
            Ev::Traffic(i) => self.traffic(i),
            Ev::PartitionEnd(id) => {
                if self.net.partitions.remove(&id).is_some() {
                    self.note(|_| "net partition ends".to_string());
                    self.release();
                }
            }
            Ev::Liveness(healed) => self.check_liveness(healed),
        }
    }

    // ----- the script -----

    fn script(&mut self, i: usize) {
        let step = self.scenario.steps[i].clone();
        let shown = self.scenario.shown(step.line);
        if !matches!(step.action, Action::SwitchController { .. }) {
            self.note(|_| format!("> {shown}"));
        }
        if matches!(
            step.action,
            Action::Fault { .. }
                | Action::Command { .. }
                | Action::Traffic { .. }
                | Action::Reconnect { .. }
                | Action::HealAll
        ) {
            self.marks.push((self.now, shown.clone()));
        }
        match step.action {
            Action::Controller { name, spec } => {
                let idx = self.controllers.len();
                let mut c = Controller::new(&name, ctl_addr(idx));
                c.versions = spec.versions;
                c.echo = spec.echo;
                c.accepting = spec.accepting;
                c.claim = spec.claim;
                c.notes_on = self.opts.transcript;
                self.ctl_targets.insert(c.target(), idx);
                self.ctl_names.insert(name, idx);
                self.controllers.push(c);
                self.ctl_scheduled.push(None);
                self.net.down.push(false);
            }
            Action::Switch { name, spec } => self.create_switch(name, spec),
            Action::SwitchController { .. } => {} // taken when the switch is created
            Action::Link { switch, controller, change } => {
                let s = switch.map(|n| self.sw_names[&n]);
                let c = controller.map(|n| self.ctl_names[&n]);
                let base = match (s, c) {
                    (Some(s), Some(c)) => self.net.link(s, c),
                    (None, Some(c)) => self.net.link(usize::MAX, c),
                    _ => self.net.link(usize::MAX, usize::MAX),
                };
                self.net.set_link(s, c, change.apply(base));
            }
            Action::Fault { controller, peer, fault } => {
                let c = self.ctl_names[&controller];
                let peer = peer.map(|p| self.sw_names[&p]);
                self.fault(c, peer, fault);
            }
            Action::Command { controller, peer, cmd } => {
                let c = self.ctl_names[&controller];
                let peer = peer.map(|p| self.sw_names[&p]);
                let mut notes = Vec::new();
                self.controllers[c].execute(self.now, &cmd, peer, &mut notes);
                self.notes(notes);
                self.dirty_ctl.insert(c);
            }
            Action::Traffic { switch, port, count, rate, flows, size } => {
                let s = self.sw_names[&switch];
                let src = Source { switch: s, port, flows, size, count, rate, start: self.now, sent: 0 };
                self.sources.push(src);
                let idx = self.sources.len() - 1;
                self.traffic(idx);
            }
            Action::Reconnect { switch } => {
                let s = self.sw_names[&switch];
                self.input(s, &Input::Reconnect);
                self.dirty_sw.insert(s);
            }
            Action::Expect { switch, controller, checks } => self.expect(&switch, controller.as_deref(), &checks),
            Action::HealAll => self.heal_all(),
            Action::End => {}
        }
    }

    fn create_switch(&mut self, name: String, spec: crate::scenario::SwitchSpec) {
        let idx = self.switches.len();
        let mut controllers = BTreeMap::new();
        let mut shown = Vec::new();
        for step in &self.scenario.steps {
            if let Action::SwitchController { switch, target, settings } = &step.action {
                if *switch == name {
                    controllers.insert(self.resolve(target), *settings);
                    shown.push(self.scenario.shown(step.line));
                }
            }
        }
        for line in shown {
            self.note(|_| format!("> {line}"));
        }
        let setup = Setup {
            datapath_id: spec.datapath_id.unwrap_or(idx as u64 + 1),
            seed: Rng::stream(self.seed, &format!("switch {name}")).next_u64(),
            n_ports: spec.ports,
            fail_mode: spec.fail_mode,
            bundle_idle_timeout: spec.bundle_idle_timeout,
            controllers: controllers.clone(),
            datapath_delay_ms: spec.datapath_delay.as_millis() as u64,
            n_handlers: spec.handlers,
            ..Setup::default()
        };
        let agent = A::build(self.now, &setup);
        let record = self.opts.record.contains(&name).then(|| Record {
            start: self.now,
            setup,
            initial_outputs: Vec::new(),
            steps: Vec::new(),
        });
        self.sw_names.insert(name.clone(), idx);
        self.switches.push(SwitchNode {
            name,
            agent,
            controllers,
            conns: BTreeMap::new(),
            current: BTreeMap::new(),
            scheduled: None,
            samples: BTreeMap::new(),
            fail_open: false,
            record,
            frames: 0,
            packet_outs: 0,
            steps_now: (Instant::ZERO, 0),
        });
        self.dirty_sw.insert(idx);
    }

    /// `tcp:c1` is controller c1's target; anything else is taken as written.
    fn resolve(&self, target: &str) -> String {
        match target.strip_prefix("tcp:").and_then(|n| self.ctl_names.get(n)) {
            Some(&c) => self.controllers[c].target(),
            None => target.to_string(),
        }
    }

    /// A target's name in the transcript: the controller's name if it is one.
    fn target_name(&self, target: &str) -> String {
        match self.ctl_targets.get(target) {
            Some(&c) => self.controllers[c].name.clone(),
            None => target.to_string(),
        }
    }

    fn notes(&mut self, notes: Vec<String>) {
        if self.opts.transcript {
            for n in notes {
                self.transcript.push(format!("{} {n}", self.now));
            }
        }
    }

    fn streams_of(&self, c: usize, peer: Option<usize>) -> Vec<StreamId> {
        self.net
            .streams
            .iter()
            .filter(|(_, s)| s.controller == Some(c) && peer.is_none_or(|p| p == s.switch))
            .map(|(id, _)| id)
            .collect()
    }

    fn fault(&mut self, c: usize, peer: Option<usize>, fault: Fault) {
        match fault {
            Fault::Partition { duration, dirs } => {
                let until = duration.map_or(Instant::FAR_FUTURE, |d| self.now + d);
                let id = self.net.add_partition(Partition { controller: c, switch: peer, dirs, until });
                if let Some(d) = duration {
                    self.schedule(self.now + d, Ev::PartitionEnd(id));
                }
            }
            Fault::Heal => {
                self.net.partitions.retain(|_, p| !(p.controller == c && (peer.is_none() || p.switch == peer)));
                for id in self.streams_of(c, peer) {
                    if let Some(s) = self.net.streams.get_mut(&id) {
                        s.nat_drop = false;
                    }
                }
                self.release();
            }
            Fault::Reset => {
                for id in self.streams_of(c, peer) {
                    let Some(s) = self.net.streams.get(&id) else { continue };
                    if !s.switch_open && !s.ctl_open {
                        continue;
                    }
                    for dir in [UP, DOWN] {
                        if let Some(at) = self.net.reset(self.now, id, dir) {
                            self.schedule(at, Ev::Arrive(id, dir));
                        }
                    }
                }
            }
            Fault::HalfOpen => {
                for id in self.streams_of(c, peer) {
                    let Some(s) = self.net.streams.get_mut(&id) else { continue };
                    if s.ctl_open {
                        s.ctl_open = false;
                        s.nat_drop = true;
                        self.controllers[c].drop_session(id);
                    }
                }
            }
            Fault::Down => {
                self.net.down[c] = true;
                for id in self.streams_of(c, None) {
                    if let Some(s) = self.net.streams.get_mut(&id) {
                        s.ctl_open = false;
                    }
                    self.controllers[c].drop_session(id);
                }
            }
            Fault::Up => {
                self.net.down[c] = false;
                self.release();
            }
            Fault::Refuse => self.controllers[c].accepting = false,
            Fault::Accept => self.controllers[c].accepting = true,
            Fault::Stall(d) => {
                self.controllers[c].stalled_until = Some(d.map_or(Instant::FAR_FUTURE, |d| self.now + d));
            }
            Fault::Resume => {
                self.controllers[c].stalled_until = None;
                self.dirty_ctl.insert(c);
            }
            Fault::ReadRate(r) => {
                self.controllers[c].read_rate = r;
                self.dirty_ctl.insert(c);
            }
        }
        self.dirty_ctl.insert(c);
    }

    fn release(&mut self) {
        for (id, dir, at) in self.net.release(self.now) {
            self.schedule(at, Ev::Arrive(id, dir));
        }
    }

    /// The liveness phase begins: every fault is undone, and every controller must be connected
    /// again in time.
    fn heal_all(&mut self) {
        self.net.partitions.clear();
        for s in self.net.streams.values_mut() {
            s.nat_drop = false;
        }
        for d in self.net.down.iter_mut() {
            *d = false;
        }
        let n = self.controllers.len();
        for c in 0..n {
            let ctl = &mut self.controllers[c];
            ctl.accepting = true;
            ctl.echo = true;
            ctl.stalled_until = None;
            ctl.read_rate = 0;
            self.dirty_ctl.insert(c);
        }
        self.net.clear_loss();
        self.release();
        let deadline = self.now + self.liveness_allowance();
        self.schedule(deadline, Ev::Liveness(self.now));
    }

    // ----- traffic -----

    fn traffic(&mut self, i: usize) {
        let due = self.sources[i].due(self.now);
        let (s, port, size) = (self.sources[i].switch, self.sources[i].port, self.sources[i].size);
        for flow in due {
            let id = self.next_frame;
            self.next_frame += 1;
            let frame = traffic::frame(id, flow, port, size);
            self.switches[s].frames += 1;
            if let Some(Fed::Frame(Err(e))) = self.input(s, &Input::Frame { port, frame }) {
                self.note(|w| format!("{} refuses a frame on port {port}: {e}", w.switches[s].name));
            }
        }
        self.dirty_sw.insert(s);
        if !self.sources[i].is_done() {
            let next = self.sources[i].next();
            self.schedule(next, Ev::Traffic(i));
        }
    }

    // ----- the switch's inputs and outputs -----

    /// Hands one input to switch `s`, recording it if asked.
    fn input(&mut self, s: usize, input: &Input) -> Option<Fed> {
        let now = self.now;
        let node = &mut self.switches[s];
        let fed = feed(&mut node.agent, now, input);
        if let Some(r) = node.record.as_mut() {
            r.steps.push(RecStep { line: 0, time: now, input: input.clone(), fed: fed.clone(), outputs: Vec::new() });
        }
        fed
    }

    fn recorded(&mut self, s: usize, out: Recorded) {
        if let Some(r) = self.switches[s].record.as_mut() {
            match r.steps.last_mut() {
                Some(step) => step.outputs.push(out),
                None => r.initial_outputs.push(out),
            }
        }
    }

    fn send(&mut self, id: StreamId, dir: usize, seg: Seg) {
        if let Some(at) = self.net.send(self.now, id, dir, seg) {
            self.schedule(at, Ev::Arrive(id, dir));
        }
    }

    fn label(&self, s: usize, conn: ConnId) -> String {
        format!("{}#{}", self.switches[s].name, conn.0)
    }

    /// Runs what is dirty until nothing is.
    fn settle(&mut self) {
        loop {
            if let Some(s) = self.dirty_sw.pop_first() {
                self.service_switch(s);
            } else if let Some(c) = self.dirty_ctl.pop_first() {
                self.service_controller(c);
            } else {
                break;
            }
        }
    }

    fn service_switch(&mut self, s: usize) {
        let next = loop {
            let mut progress = self.switch_read(s);
            let next = self.switches[s].agent.poll_timeout();
            if next.is_some_and(|t| t <= self.now) {
                let (at, n) = self.switches[s].steps_now;
                let n = if at == self.now { n + 1 } else { 1 };
                self.switches[s].steps_now = (self.now, n);
                if n > STEP_LIMIT {
                    self.violation(format!(
                        "{}: its deadline stays at {} after {n} steps",
                        self.switches[s].name, self.now
                    ));
                    break None;
                }
                self.inv.on_step(self.now, s);
                self.input(s, &Input::Timeout);
                progress = true;
            }
            progress |= self.switch_outputs(s);
            progress |= self.switch_transmit(s);
            if !progress {
                // Nothing changed since `next` was asked for.
                break next;
            }
        };
        self.switch_status(s);
        if let Some(t) = next.map(|t| t.max(self.now)) {
            if self.switches[s].scheduled != Some(t) {
                self.switches[s].scheduled = Some(t);
                self.schedule(t, Ev::SwitchWake(s));
            }
        }
    }

    /// Switch `s`'s transports and their streams (in the reused scratch list).
    fn conns_of(&mut self, s: usize) -> Vec<(ConnId, StreamId)> {
        let mut v = std::mem::take(&mut self.scratch);
        v.clear();
        v.extend(self.switches[s].conns.iter().map(|(c, (id, _))| (*c, *id)));
        v
    }

    /// Hands the switch what arrived for it, while it takes more.
    fn switch_read(&mut self, s: usize) -> bool {
        let mut progress = false;
        let conns = self.conns_of(s);
        for &(conn, id) in &conns {
            while let Some(st) = self.net.streams.get_mut(&id) {
                // Cheapest test first: most wakeups find nothing to read on most connections.
                let pending = st.pipes[DOWN].has_unread() || st.pipes[DOWN].fin;
                if !pending || !st.switch_open || !self.switches[s].agent.may_read(conn) {
                    break;
                }
                let pipe = &mut st.pipes[DOWN];
                if let Some(data) = pipe.read(usize::MAX) {
                    if let Some(c) = st.controller {
                        self.dirty_ctl.insert(c);
                    }
                    self.input(s, &Input::Bytes(conn, data));
                    progress = true;
                } else if pipe.fin {
                    pipe.fin = false;
                    self.input(s, &Input::Eof(conn));
                    progress = true;
                } else {
                    break;
                }
            }
        }
        self.scratch = conns;
        progress
    }

    /// Carries out the switch's transport requests and reports its events.
    fn switch_outputs(&mut self, s: usize) -> bool {
        let mut progress = false;
        while let Some(out) = self.switches[s].agent.poll_output() {
            progress = true;
            self.recorded(s, Recorded::Output(out.clone()));
            match out {
                Output::Connect { conn, target, .. } => {
                    let max_backoff = self.switches[s].controllers.get(&*target).map_or(8, |c| c.max_backoff);
                    self.inv.on_connect(self.now, s, conn, &target, max_backoff);
                    let ctl = self.ctl_targets.get(&*target).copied();
                    let id = self.net.open(s, conn, ctl);
                    self.switches[s].conns.insert(conn, (id, Some(target.clone())));
                    self.switches[s].current.insert(target.clone(), conn);
                    self.note(|w| format!("{} connect {}", w.label(s, conn), w.target_name(&target)));
                    self.send(id, UP, Seg::Syn);
                }
                Output::Close { conn, error, unsent } => {
                    let target = self.switches[s].conns.get(&conn).and_then(|(_, t)| t.clone());
                    self.inv.on_close(self.now, s, conn, target.as_ref());
                    if let Some(t) = &target {
                        if self.switches[s].current.get(t) == Some(&conn) {
                            self.switches[s].current.remove(t);
                        }
                    }
                    let why = error.map(|e| format!(" ({e})")).unwrap_or_default();
                    self.note(|w| format!("{} close{why}", w.label(s, conn)));
                    if let Some((id, _)) = self.switches[s].conns.remove(&conn) {
                        self.close_switch_end(id, unsent);
                    }
                }
                Output::Listen { target, .. } => self.note(|w| format!("{} listen {target}", w.switches[s].name)),
                Output::Unlisten { target } => self.note(|w| format!("{} unlisten {target}", w.switches[s].name)),
            }
        }
        while let Some(ev) = self.switches[s].agent.poll_event() {
            match ev {
                MgrEvent::Connected { conn, version, .. } => {
                    self.note(|w| format!("{} up (OF1.{})", w.label(s, conn), version - 1));
                }
                MgrEvent::Disconnected { conn } => self.note(|w| format!("{} down", w.label(s, conn))),
            }
        }
        while let Some((port, frame)) = self.switches[s].agent.poll_packet_out() {
            self.switches[s].packet_outs += 1;
            self.recorded(s, Recorded::PacketOut { port, frame });
        }
        progress
    }

    /// The switch's end of a stream closes: what it had left to say, then a FIN.
    fn close_switch_end(&mut self, id: StreamId, unsent: Bytes) {
        let Some(st) = self.net.streams.get_mut(&id) else { return };
        st.switch_open = false;
        if !st.established {
            // A connect in progress is abandoned: no more SYN retransmissions.
            self.net.abort(id, UP);
            return;
        }
        if st.switch_reset {
            return;
        }
        if !unsent.is_empty() {
            self.send(id, UP, Seg::Data(unsent));
        }
        self.send(id, UP, Seg::Fin);
    }

    /// Takes what the switch has to send, while the network takes it.
    fn switch_transmit(&mut self, s: usize) -> bool {
        let mut progress = false;
        let conns = self.conns_of(s);
        for &(conn, id) in &conns {
            while let Some(st) = self.net.streams.get(&id) {
                let window = st.controller.map_or(usize::MAX, |c| self.net.link(st.switch, c).window);
                if !st.established || !st.switch_open || st.pipes[UP].outstanding() >= window {
                    break;
                }
                let Some(Fed::Transmit(Some(data))) = self.input(s, &Input::Transmit(conn)) else { break };
                progress = true;
                self.inv.on_transmit(s, conn, &data);
                self.send(id, UP, Seg::Data(data));
            }
        }
        self.scratch = conns;
        progress
    }

    /// Notes changes in what the switch reports about its controllers (for the transcript and
    /// the pictures only: checks ask the switch when they need to).
    fn switch_status(&mut self, s: usize) {
        if !self.opts.transcript {
            return;
        }
        let status = self.switches[s].agent.status(self.now);
        if status.fail_open != self.switches[s].fail_open {
            self.switches[s].fail_open = status.fail_open;
            let (name, now) = (&self.switches[s].name, self.now);
            let what = if status.fail_open { "fails open" } else { "no longer fails open" };
            self.transcript.push(format!("{now} {name} {what}"));
        }
        let mut samples = BTreeMap::new();
        for (target, cs) in &status.controllers {
            let overflow = self.switches[s]
                .current
                .get(target.as_str())
                .map_or(0, |c| self.switches[s].agent.packet_in_overflow(*c));
            let pins = cs.pins.unwrap_or_default();
            samples.insert(
                target.clone(),
                Sample {
                    state: cs.state.clone(),
                    role: cs.role,
                    backlog: pins.backlog,
                    dropped: pins.dropped + overflow,
                },
            );
        }
        if samples == self.switches[s].samples {
            return;
        }
        let old = std::mem::replace(&mut self.switches[s].samples, samples.clone());
        let now = self.now;
        for (target, cs) in samples {
            let before = old.get(&target);
            let name = self.target_name(&target);
            let sw = self.switches[s].name.clone();
            let lane = self.lanes.entry((s, target)).or_insert_with(|| Lane {
                switch: sw.clone(),
                controller: name.clone(),
                ..Lane::default()
            });
            let mut lines = Vec::new();
            if before.map(|b| &b.state) != Some(&cs.state) {
                lane.states.push((now, cs.state.clone()));
                lines.push(format!("{sw} {name} state {}", cs.state));
            }
            if before.map(|b| b.role) != Some(cs.role) {
                lane.roles.push((now, cs.role));
                if let Some(r) = cs.role {
                    lines.push(format!("{sw} {name} role {}", role_name(r)));
                }
            }
            if before.map(|b| b.backlog) != Some(cs.backlog) {
                lane.backlog.push((now, cs.backlog));
            }
            if before.map_or(0, |b| b.dropped) != cs.dropped {
                lane.dropped.push((now, cs.dropped));
                // At most one line a second about drops.
                if lane.noted_drop.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1)) {
                    lane.noted_drop = Some(now);
                    lines.push(format!("{sw} {name} packet-ins dropped {}", cs.dropped));
                }
            }
            for l in lines {
                self.transcript.push(format!("{now} {l}"));
            }
        }
    }

    // ----- the network -----

    fn arrive(&mut self, id: StreamId, dir: usize) {
        loop {
            match self.net.arrive(self.now, id, dir) {
                Ok(seg) => self.deliver(id, dir, seg),
                Err(Some(t)) => {
                    self.schedule(t, Ev::Arrive(id, dir));
                    break;
                }
                Err(None) => break,
            }
        }
    }

    fn deliver(&mut self, id: StreamId, dir: usize, seg: Seg) {
        let Some(st) = self.net.streams.get(&id) else { return };
        let (s, conn, ctl) = (st.switch, st.conn, st.controller);
        if dir == UP {
            let Some(c) = ctl else { return };
            let label = self.label(s, conn);
            let st = &self.net.streams[&id];
            match seg {
                Seg::Syn if self.controllers[c].accepting => {
                    self.net.streams.get_mut(&id).expect("exists").ctl_open = true;
                    self.controllers[c].accept(id, s, conn, label.clone().into());
                    self.note(|w| format!("{} accepts {label}", w.controllers[c].name));
                    self.send(id, DOWN, Seg::SynAck);
                    self.dirty_ctl.insert(c);
                }
                Seg::Syn => {
                    self.note(|w| format!("{} refuses {label}", w.controllers[c].name));
                    self.send(id, DOWN, Seg::Rst(ConnError::CONNECTION_REFUSED));
                }
                Seg::Data(data) if st.ctl_open => {
                    if !self.net.deliver_data(id, UP, data) {
                        self.violation(format!("{label}: bytes to {} out of order", self.controllers[c].name));
                    }
                    self.dirty_ctl.insert(c);
                }
                // Nobody has this connection any more: the host answers with a reset.
                Seg::Data(_) => self.send(id, DOWN, Seg::Rst(ConnError::CONNECTION_RESET)),
                Seg::Fin if st.ctl_open => {
                    self.net.streams.get_mut(&id).expect("exists").pipes[UP].fin = true;
                    self.dirty_ctl.insert(c);
                }
                Seg::Rst(_) if st.ctl_open => {
                    self.net.streams.get_mut(&id).expect("exists").ctl_open = false;
                    self.controllers[c].drop_session(id);
                    self.note(|w| format!("{} reset by {label}", w.controllers[c].name));
                }
                _ => {}
            }
        } else {
            let st = &self.net.streams[&id];
            // The switch's socket, until it closes it or a reset aborts it.
            let alive = st.switch_open && !st.switch_reset;
            match seg {
                Seg::SynAck if alive => {
                    self.net.streams.get_mut(&id).expect("exists").established = true;
                    self.input(s, &Input::Connected(conn));
                    self.dirty_sw.insert(s);
                }
                Seg::SynAck | Seg::Data(_) if !alive => self.send(id, UP, Seg::Rst(ConnError::CONNECTION_RESET)),
                Seg::Data(data) => {
                    if !self.net.deliver_data(id, DOWN, data) {
                        self.violation(format!("{}: bytes from the controller out of order", self.label(s, conn)));
                    }
                    self.dirty_sw.insert(s);
                }
                Seg::Fin if alive => {
                    self.net.streams.get_mut(&id).expect("exists").pipes[DOWN].fin = true;
                    self.dirty_sw.insert(s);
                }
                Seg::Rst(e) if alive => {
                    self.net.streams.get_mut(&id).expect("exists").switch_reset = true;
                    self.input(s, &Input::Error(conn, e));
                    self.dirty_sw.insert(s);
                }
                _ => {}
            }
        }
    }

    // ----- controllers -----

    fn service_controller(&mut self, c: usize) {
        let now = self.now;
        let mut notes = Vec::new();
        let mut violations = Vec::new();
        if self.controllers[c].poll_timeout().is_some_and(|t| t <= now) {
            self.controllers[c].handle_timeout(now, &mut notes);
        }
        let ids: Vec<StreamId> = self.controllers[c].sessions.keys().copied().collect();
        let mut waiting_to_read = false;
        for id in ids {
            let Some(st) = self.net.streams.get_mut(&id) else { continue };
            let s = st.switch;
            loop {
                let pipe = &mut self.net.streams.get_mut(&id).expect("exists").pipes[UP];
                if !pipe.has_unread() && !pipe.fin {
                    break;
                }
                let budget = self.controllers[c].read_budget(now);
                if budget == 0 {
                    waiting_to_read = true;
                    break;
                }
                let pipe = &mut self.net.streams.get_mut(&id).expect("exists").pipes[UP];
                if let Some(data) = pipe.read(budget) {
                    self.dirty_sw.insert(s);
                    self.controllers[c].receive(id, &data, &mut notes, &mut violations);
                    if self.controllers[c].read_rate > 0 {
                        waiting_to_read |= self.net.streams[&id].pipes[UP].has_unread();
                        break;
                    }
                } else {
                    pipe.fin = false;
                    self.controllers[c].eof(id, &mut notes, &mut violations);
                    break;
                }
            }
            self.controller_transmit(c, id);
        }
        self.notes(notes);
        for v in violations {
            self.violation(v);
        }
        let mut next = self.controllers[c].poll_timeout();
        if waiting_to_read && self.controllers[c].is_reading(now) {
            let t = self.controllers[c].next_read.max(now + READ_TICK.min(Duration::from_millis(1)));
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        if let Some(t) = next.map(|t| t.max(now)) {
            if self.ctl_scheduled[c] != Some(t) {
                self.ctl_scheduled[c] = Some(t);
                self.schedule(t, Ev::ControllerWake(c));
            }
        }
    }

    /// Sends what the controller queued on `id`, while the network takes it; a session whose
    /// connection ended is closed.
    fn controller_transmit(&mut self, c: usize, id: StreamId) {
        let Some(st) = self.net.streams.get(&id) else { return };
        let window = self.net.link(st.switch, c).window;
        // A stalled controller is hung: it writes nothing either.
        let hung = !self.controllers[c].is_reading(self.now);
        while let (false, Some(st)) = (hung, self.net.streams.get(&id)) {
            if !st.ctl_open || st.pipes[DOWN].outstanding() >= window {
                break;
            }
            let Some(sess) = self.controllers[c].sessions.get_mut(&id) else { break };
            let Some(data) = sess.vconn.poll_transmit() else { break };
            self.send(id, DOWN, Seg::Data(data));
        }
        let ended = self.controllers[c]
            .sessions
            .get(&id)
            .is_some_and(|s| s.vconn.state() == rconn_core::VconnState::Disconnected);
        if ended {
            self.controllers[c].drop_session(id);
            let st = self.net.streams.get_mut(&id).expect("exists");
            st.ctl_open = false;
            self.send(id, DOWN, Seg::Fin);
        }
    }

    // ----- the end -----

    fn finish(mut self) -> Outcome {
        self.check_monitors();
        self.check_packet_ins();
        let now = self.now;
        let mut summary = Vec::new();
        summary.push(format!("ran {} events over {} simulated", self.events, format_secs(now - Instant::ZERO)));
        for sw in &self.switches {
            let st = sw.agent.status(now);
            summary.push(format!(
                "{}: {} flows, {} frames in, {} packets out",
                sw.name, st.flows, sw.frames, sw.packet_outs
            ));
            let counters: Vec<String> =
                st.upcalls.iter().filter(|(_, v)| **v > 0).map(|(k, v)| format!("{k}={v}")).collect();
            if !counters.is_empty() {
                summary.push(format!("  {}", counters.join(" ")));
            }
            for (target, cs) in &st.controllers {
                let role = cs.role.map_or("-".to_string(), role_name);
                let overflow = sw.current.get(target.as_str()).map_or(0, |c| sw.agent.packet_in_overflow(*c));
                let mut line = format!("  {}: {} role={role}", self.target_name(target), cs.state);
                if let Some(p) = cs.pins {
                    line.push_str(&format!(
                        " packet-ins bypassed={} queued={} dropped={} backlog={}",
                        p.bypassed, p.queued, p.dropped, p.backlog
                    ));
                }
                if overflow > 0 {
                    line.push_str(&format!(" overflow={overflow}"));
                }
                summary.push(line);
            }
        }
        for c in &self.controllers {
            let pins: u64 = c.sessions.values().map(|s| s.n_packet_ins).sum::<u64>() + c.closed_packet_ins;
            summary.push(format!("{}: {} connections accepted, {} packet-ins", c.name, c.n_sessions, pins));
            let counts: Vec<String> = c.received.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if !counts.is_empty() {
                summary.push(format!("  received {}", counts.join(" ")));
            }
        }
        summary.push(format!(
            "invariants: {} violations (watched over {} events; {} connection attempts and end-of-run accounts checked)",
            self.inv.violations.len(),
            self.events,
            self.inv.n_checked
        ));
        let records = self.switches.iter_mut().filter_map(|sw| Some((sw.name.clone(), sw.record.take()?))).collect();
        Outcome {
            transcript: self.transcript,
            violations: self.inv.violations,
            summary,
            lanes: self.lanes.into_values().collect(),
            marks: self.marks,
            records,
            events: self.events,
            end: now,
        }
    }
}

pub fn role_name(r: Role) -> String {
    match r {
        Role::Primary => "master",
        Role::Secondary => "slave",
        Role::Equal => "equal",
        Role::NoChange => "nochange",
    }
    .to_string()
}

pub(crate) fn format_secs(d: Duration) -> String {
    timeline::format_duration(d)
}
