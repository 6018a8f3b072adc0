//! Test support: flow mods built in Rust, the tables over a test datapath, and a harness joining
//! the tables to a real `ConnMgr` with one controller over an in-memory transport.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;

use bytes::Bytes;
use connmgr_core::fuzzing::{expected_view, MonitorView};
use connmgr_core::{ConnId, ConnMgr, ControllerSettings, OpGroupId, Output, RuleEvent, RuleEventKind, RuleQuery};
use ofp_proto::actions::Action;
use ofp_proto::flow::{Flow, ETH_TYPE_IP};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand, FlowModFlags};
use ofp_proto::msg::monitor::{FlowMonitor, FlowMonitorRequest, MonitorFlags};
use ofp_proto::msg::Hello;
use ofp_proto::ofmatch::Match;
use ofp_proto::{Framer, Instant, Message, OfpMsg, VersionBitmap};
use ofproto_core::{Config, Datapath, MonitorSink, OfProto, Requester, TestDatapath};

pub mod frames;
pub mod pair;

pub type Tables = OfProto<TestDatapath>;

pub fn tables() -> Tables {
    OfProto::new(Config::default(), TestDatapath::new())
}

pub fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

pub fn output(port: u32) -> Instructions {
    Instructions::apply([Action::Output { port, max_len: 0 }])
}

pub fn in_port(p: u32) -> Match {
    let mut m = Match::catchall();
    m.set_in_port(p);
    m
}

pub fn ip_dst(addr: u32) -> Match {
    let mut m = Match::catchall();
    m.set_dl_type(ETH_TYPE_IP);
    m.set_nw_dst_masked(addr, u32::MAX);
    m
}

/// An OF1.3-style flow mod (modifies do not add, cookies untouched by modifies).
pub fn fm(command: FlowModCommand, m: Match, priority: u16, ins: Instructions) -> FlowMod {
    FlowMod {
        command,
        match_: m,
        priority,
        instructions: ins,
        new_cookie: if command == FlowModCommand::Add { 0 } else { u64::MAX },
        table_id: if command.is_delete() { 255 } else { 0 },
        ..FlowMod::default()
    }
}

pub fn add(m: Match, priority: u16, port: u32) -> FlowMod {
    fm(FlowModCommand::Add, m, priority, output(port))
}

pub fn modify(m: Match, port: u32) -> FlowMod {
    fm(FlowModCommand::Modify, m, 0, output(port))
}

pub fn modify_strict(m: Match, priority: u16, port: u32) -> FlowMod {
    fm(FlowModCommand::ModifyStrict, m, priority, output(port))
}

pub fn delete(m: Match) -> FlowMod {
    fm(FlowModCommand::Delete, m, 0, Instructions::default())
}

pub fn delete_strict(m: Match, priority: u16) -> FlowMod {
    fm(FlowModCommand::DeleteStrict, m, priority, Instructions::default())
}

pub fn with_flags(mut f: FlowMod, flags: u16) -> FlowMod {
    f.flags = FlowModFlags(f.flags.0 | flags);
    f
}

pub fn req(conn: u64, xid: u32, group: u64) -> Option<Requester> {
    Some(Requester { conn: ConnId(conn), xid, group: OpGroupId(group) })
}

pub fn pkt_in_port(p: u32) -> Flow {
    Flow { in_port: p, ..Flow::default() }
}

pub fn pkt_ip_dst(addr: u32) -> Flow {
    Flow { dl_type: ETH_TYPE_IP, nw_dst: addr, ..Flow::default() }
}

/// The output port of rule `id`'s single action.
pub fn out_port_of(tables: &Tables, id: ofproto_core::RuleId) -> u32 {
    match tables.rule(id).expect("rule exists").instructions().apply.first() {
        Some(Action::Output { port, .. }) => *port,
        other => panic!("unexpected action {other:?}"),
    }
}

/// The rule changes the tables report without a `ConnMgr`, in batches, stamped with seqnos from 1
/// as connection management stamps them.
#[derive(Debug)]
pub struct Recorder {
    pub next_seqno: u64,
    pub batches: Vec<Vec<RuleEvent>>,
    open: Vec<RuleEvent>,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder { next_seqno: 1, batches: Vec::new(), open: Vec::new() }
    }
}

impl MonitorSink for Recorder {
    fn rule_event(&mut self, mut event: RuleEvent) -> u64 {
        let seqno = match event.kind {
            RuleEventKind::Removed { .. } => 0,
            kind => {
                let s = self.next_seqno;
                self.next_seqno += 1;
                if kind == RuleEventKind::Added {
                    event.rule.add_seqno = s;
                }
                event.rule.modify_seqno = s;
                s
            }
        };
        self.open.push(event);
        seqno
    }

    fn end_batch(&mut self, _now: Instant) {
        self.batches.push(std::mem::take(&mut self.open));
    }
}

impl Recorder {
    /// Every change recorded so far, in order.
    pub fn events(&self) -> Vec<RuleEvent> {
        self.batches.iter().flatten().cloned().collect()
    }
}

/// The rule changes the tables have queued, forwarded into a fresh recorder (its seqnos start at 1
/// whatever the tables were told before).
pub fn monitor_events(tb: &mut Tables, now: Instant) -> Vec<RuleEvent> {
    let mut r = Recorder::default();
    tb.forward_monitor_events(now, &mut r);
    r.events()
}

/// The tables behind a `ConnMgr` with one primary controller (an active target) speaking
/// `version`, over an in-memory transport, in virtual time.
pub struct Harness {
    pub mgr: ConnMgr,
    pub tables: Tables,
    pub now: Instant,
    pub conn: ConnId,
    pub version: u8,
    framer: Framer,
}

impl Harness {
    pub fn new(version: u8) -> Harness {
        Harness::with_tables(version, tables())
    }

    pub fn with_tables(version: u8, mut tables: Tables) -> Harness {
        let mut mgr = ConnMgr::new(connmgr_core::Config { name: "br0".into(), seed: 1 });
        let now = Instant::from_secs(1000);
        let settings = ControllerSettings { probe_interval: 0, ..ControllerSettings::default() };
        let controllers = BTreeMap::from([("tcp:192.0.2.1:6653".to_string(), settings)]);
        assert!(mgr.set_controllers(now, &controllers, &mut tables).is_empty());
        let conn = loop {
            match mgr.poll_output().expect("asked to connect") {
                Output::Connect { conn, .. } => break conn,
                _ => continue,
            }
        };
        mgr.handle_connected(now, conn);
        let mut h = Harness { mgr, tables, now, conn, version, framer: Framer::new() };
        let hello = Message::Hello(Hello::new(VersionBitmap::single(version)));
        h.send(&OfpMsg::new(version, 1, hello));
        let replies = h.recv();
        assert!(matches!(replies[0].body, Message::Hello(_)), "{replies:?}");
        h
    }

    /// Runs connection management and the tables until nothing is due at `now`.
    pub fn run(&mut self) {
        for _ in 0..100 {
            self.mgr.handle_timeout(self.now, &mut self.tables);
            self.tables.forward_events(self.now, &mut self.mgr);
            if self.mgr.poll_timeout().is_none_or(|t| t > self.now) {
                return;
            }
        }
        panic!("connection management does not settle");
    }

    pub fn send_bytes(&mut self, b: &[u8]) {
        self.mgr.handle_bytes(self.now, self.conn, b);
        self.run();
    }

    pub fn send(&mut self, m: &OfpMsg) {
        self.send_bytes(&m.to_bytes());
    }

    /// Everything the switch sent since the last call, decoded.
    pub fn recv(&mut self) -> Vec<OfpMsg> {
        let mut out = Vec::new();
        while let Some(b) = self.mgr.poll_transmit(self.now, self.conn) {
            self.framer.push(&b);
        }
        while let Some(frame) = self.framer.next_frame().expect("well framed") {
            out.push(OfpMsg::decode(&frame).expect("decodes"));
        }
        out
    }

    /// Lets `ms` milliseconds pass, running every timer.
    pub fn advance(&mut self, ms: u64) {
        self.now = Instant::from_millis(self.now.as_millis() + ms);
        self.tables.handle_timeout(self.now);
        self.tables.forward_events(self.now, &mut self.mgr);
        self.run();
    }

    /// Picks up datapath completions (after unclogging it).
    pub fn complete(&mut self) {
        self.tables.run(self.now);
        self.tables.forward_events(self.now, &mut self.mgr);
        self.run();
    }

    pub fn flow_mod_msg(&self, xid: u32, f: FlowMod) -> Bytes {
        OfpMsg::new(self.version, xid, Message::FlowMod(f)).to_bytes()
    }
}

/// The management listener `ovs-ofctl` connects to.
pub const MGMT: &str = "punix:/run/openvswitch/br0.mgmt";
/// A primary controller that never answers (so no standalone NORMAL flow is added).
pub const CONTROLLER: &str = "tcp:192.0.2.1:6653";

/// One connection's far end: what it received, and its flow monitors' view built from it.
pub struct Peer {
    pub version: u8,
    framer: Framer,
    pub inbox: Vec<OfpMsg>,
    /// A peer that stops reading lets the switch's messages pile up (and its monitors pause).
    pub reading: bool,
    pub view: MonitorView,
}

/// The tables behind a `ConnMgr` with a management listener and any number of connections to it
/// (as `ovs-ofctl` makes them), in virtual time, run the way a switch runs them.
pub struct Net<D = TestDatapath> {
    pub mgr: ConnMgr,
    pub tables: OfProto<D>,
    pub now: Instant,
    pub peers: BTreeMap<ConnId, Peer>,
    n_accepted: usize,
}

impl Net {
    pub fn new() -> Net {
        Net::with_tables(tables(), Instant::from_secs(1000))
    }
}

impl<D: Datapath> Net<D> {
    pub fn with_tables(mut tables: OfProto<D>, now: Instant) -> Net<D> {
        let mut mgr = ConnMgr::new(connmgr_core::Config { name: "br0".into(), seed: 1 });
        let settings = ControllerSettings { probe_interval: 0, ..ControllerSettings::default() };
        let targets = BTreeMap::from([(MGMT.to_string(), settings), (CONTROLLER.to_string(), settings)]);
        assert!(mgr.set_controllers(now, &targets, &mut tables).is_empty());
        tables.forward_events(now, &mut mgr);
        let mut net = Net { mgr, tables, now, peers: BTreeMap::new(), n_accepted: 0 };
        net.run();
        net
    }

    /// Accepts a connection speaking `version` whose monitors ask for actions.
    pub fn accept(&mut self, version: u8) -> ConnId {
        self.n_accepted += 1;
        let peer = format!("unix#{}", self.n_accepted);
        let id = self.mgr.handle_accept(self.now, MGMT, &peer).expect("accepted");
        let view = MonitorView::new(true);
        self.peers.insert(id, Peer { version, framer: Framer::new(), inbox: Vec::new(), reading: true, view });
        let hello = Message::Hello(Hello::new(VersionBitmap::single(version)));
        self.send(id, &OfpMsg::new(version, 1, hello));
        let got = self.recv(id);
        assert!(matches!(got[0].body, Message::Hello(_)), "{got:?}");
        id
    }

    /// Runs connection management (forwarding what the tables hand out) until nothing is due
    /// now, and lets every reading peer read.
    pub fn run(&mut self) {
        for _ in 0..1000 {
            self.mgr.handle_timeout(self.now, &mut self.tables);
            self.tables.forward_events(self.now, &mut self.mgr);
            self.read();
            if self.mgr.poll_timeout().is_none_or(|t| t > self.now) {
                return;
            }
        }
        panic!("the switch does not settle");
    }

    fn read(&mut self) {
        while self.mgr.poll_output().is_some() {}
        while self.mgr.poll_event().is_some() {}
        for (&id, p) in self.peers.iter_mut().filter(|(_, p)| p.reading) {
            while let Some(b) = self.mgr.poll_transmit(self.now, id) {
                p.framer.push(&b);
            }
            while let Some(frame) = p.framer.next_frame().expect("well framed") {
                p.view.receive(&frame);
                p.inbox.push(OfpMsg::decode(&frame).expect("decodes"));
            }
        }
    }

    pub fn send(&mut self, c: ConnId, m: &OfpMsg) {
        self.send_bytes(c, &m.to_bytes());
    }

    pub fn send_bytes(&mut self, c: ConnId, b: &[u8]) {
        self.mgr.handle_bytes(self.now, c, b);
        self.run();
    }

    /// Everything `c` received since the last call.
    pub fn recv(&mut self, c: ConnId) -> Vec<OfpMsg> {
        self.run();
        std::mem::take(&mut self.peers.get_mut(&c).expect("peer").inbox)
    }

    /// A flow mod from `c`.
    pub fn flow_mod(&mut self, c: ConnId, xid: u32, f: FlowMod) {
        let v = self.peers[&c].version;
        self.send(c, &OfpMsg::new(v, xid, Message::FlowMod(f)));
    }

    /// One flow monitor request from `c` adding monitor `id` with `flags` on every table.
    pub fn monitor(&mut self, c: ConnId, xid: u32, id: u32, flags: u16) {
        let v = self.peers[&c].version;
        let req = FlowMonitorRequest { monitors: vec![FlowMonitor::new(id, MonitorFlags(flags))] };
        self.send(c, &OfpMsg::new(v, xid, Message::FlowMonitorStatsRequest(req)));
    }

    /// Lets `ms` milliseconds pass, running every timer at its own time.
    pub fn advance(&mut self, ms: u64) {
        let end = Instant::from_millis(self.now.as_millis() + ms);
        self.run();
        loop {
            let next = [self.mgr.poll_timeout(), self.tables.poll_timeout()].into_iter().flatten().min();
            match next.filter(|t| *t <= end) {
                Some(t) => {
                    self.now = self.now.max(t);
                    self.tables.handle_timeout(self.now);
                    self.tables.forward_events(self.now, &mut self.mgr);
                    self.run();
                }
                None => break,
            }
        }
        self.now = end;
        self.run();
    }

    /// Picks up datapath completions (after unclogging it).
    pub fn complete(&mut self) {
        self.tables.run(self.now);
        self.tables.forward_events(self.now, &mut self.mgr);
        self.run();
    }

    /// Every visible rule as flow monitors know it.
    pub fn monitored(&self) -> Vec<connmgr_core::RuleSnapshot> {
        self.tables.monitored_rules(&RuleQuery { table_id: 0xff, match_: &Match::catchall(), since: 0 })
    }

    /// Checks that `c`'s view, rebuilt from what it read, holds exactly the rules monitors know,
    /// and that nothing it received broke the monitor protocol's promises.
    pub fn assert_view(&self, c: ConnId) {
        let view = &self.peers[&c].view;
        assert!(view.violations.is_empty(), "{:?}", view.violations);
        assert_eq!(view.rules(), &expected_view(&self.monitored(), true));
    }
}

impl Default for Net {
    fn default() -> Net {
        Net::new()
    }
}

pub use test_support::ovs_ofctl_print;
