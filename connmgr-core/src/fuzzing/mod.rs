//! Test support: drives a `ConnMgr` with arbitrary operation sequences — configuration, transports
//! and peers sending arbitrary or plausible messages (flow monitor requests and flow mods among
//! them), time, asynchronous messages, rule changes and bursts of them, an owner that handles,
//! postpones, fails or starts operation groups and keeps a toy flow table — checking its
//! invariants after every step, and the order of every connection's flow monitor messages.
//! `run` is the body of the cargo-fuzz target; the proptests call it too.
//!
//! Also the one place packet-in and flow-removed bodies are built for tests (those bodies belong
//! to the flow family of `ofp-proto`), and home of the toy flow table ([`RuleTable`]) and the
//! controller's view of flow monitor messages ([`MonitorView`]) that tests and simulations share,
//! and of an owner that does nothing ([`NullOwner`]) for benchmarks and measurements.

mod monitor_view;
mod null_owner;
mod rules;

pub use monitor_view::{expected_view, MonitorView, RuleKey, ViewRule};
pub use null_owner::NullOwner;
pub use rules::{Requester, RuleTable};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use bytes::Bytes;
use ofp_proto::actions::Action;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::async_cfg::AsyncUpdate;
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand};
use ofp_proto::msg::flow_removed::OFPRR_IDLE_TIMEOUT;
use ofp_proto::msg::monitor::{cancel_message, FlowMonitor, FlowMonitorRequest, MonitorCommand, MonitorFlags};
use ofp_proto::msg::port::{Port, PortMod, PortReason};
use ofp_proto::msg::role::{Role, RoleMsg};
use ofp_proto::msg::status::{ForwardReason, TableDesc, TableReason};
use ofp_proto::msg::{FlowFormat, FlowRemoved, Hello, PacketIn, PacketInFormat, SwitchConfig, TableStatus};
use ofp_proto::ofmatch::Match;
use ofp_proto::view::MsgView;
use ofp_proto::{Instant, Message, OfpErr, OfpMsg, VersionBitmap};
use rconn_core::ConnError;

use crate::async_msg::{AsyncFlowRemoved, AsyncMsg, AsyncPacketIn, AsyncRequestForward, PortChange};
use crate::connmgr::{Config, ConnMgr, Event, Output};
use crate::monitor::{RuleEvent, RuleQuery, RuleSnapshot};
use crate::owner::{BundleCommit, BundleEntry, BundleFailure, ConnId, ConnInfo, ConnType, Disposition, FlowModKind};
use crate::owner::{NormalFlow, OpGroupId, Owner, Replies, Request};
use crate::service::{ControllerSettings, FailMode};

/// A table-miss packet-in carrying `data` as the packet.
pub fn packet_in(data: &[u8]) -> PacketIn {
    PacketIn { data: Bytes::copy_from_slice(data), total_len: data.len() as u32, ..PacketIn::default() }
}

/// A flow-removed for `reason` whose cookie carries the first 8 bytes of `tag`.
pub fn flow_removed(reason: u32, tag: &[u8]) -> AsyncFlowRemoved {
    let cookie = tag.iter().take(8).fold(0, |a, b| a << 8 | u64::from(*b));
    AsyncFlowRemoved { reason, fr: FlowRemoved { cookie, reason: reason as u8, ..FlowRemoved::default() } }
}

/// An owner whose behaviour the input chooses.
#[derive(Debug, Default)]
struct FuzzOwner {
    /// 0: handle, 1: postpone (bundle commits too), 2: fail, 3: handle and start an operation group.
    mode: u8,
    groups: Vec<(ConnId, OpGroupId)>,
    commit_failure: Option<usize>,
    table: RuleTable,
    /// Xids of the flow mods the driver made, each applied to the table once (others, e.g. from
    /// random bytes, are handled without changing it, so that every change has a unique xid).
    flow_mod_xids: BTreeSet<u32>,
    /// Changes made by requests, for the requesters' views to resolve ABBREV updates.
    own: Vec<(ConnId, u32, RuleEvent)>,
}

/// Flow tables the fuzz owner has: monitors on tables 200 and up fail.
const FUZZ_TABLES: u8 = 200;

impl Owner for FuzzOwner {
    fn handle_request(&mut self, _now: Instant, req: &Request<'_>, out: &mut Replies) -> Disposition {
        assert!(!req.parts.is_empty());
        match self.mode % 4 {
            1 => Disposition::Postponed,
            2 => Disposition::Error(OfpErr::OFPBRC_EPERM),
            m => {
                let msg = req.msg();
                if let (Message::FlowMod(fm), true) = (&msg.body, self.flow_mod_xids.remove(&msg.xid)) {
                    let (conn, xid, own) = (req.conn.id, msg.xid, &mut self.own);
                    self.table.apply(fm, Some((conn, xid)), |e| {
                        own.push((conn, xid, e.clone()));
                        out.flow_monitor_event(e)
                    });
                }
                out.send_msg(&OfpMsg::new(msg.version, msg.xid, Message::EchoReply(Bytes::from_static(b"reply"))));
                out.report_flow_mod(FlowModKind::Add);
                if m == 3 {
                    self.groups.push((req.conn.id, out.start_op_group()));
                }
                out.notify(AsyncMsg::PacketIn(AsyncPacketIn {
                    pin: packet_in(b"from a request"),
                    reason: 5,
                    controller_id: 0,
                    in_port: 1,
                }));
                Disposition::Handled
            }
        }
    }

    fn check_bundle_entry(
        &mut self,
        _now: Instant,
        _conn: &ConnInfo,
        _entry: &BundleEntry,
        _view: &MsgView<'_>,
    ) -> Result<(), OfpErr> {
        if self.mode % 4 == 2 {
            Err(OfpErr::OFPBFC_MSG_FAILED)
        } else {
            Ok(())
        }
    }

    fn commit_bundle(
        &mut self,
        _now: Instant,
        _conn: &ConnInfo,
        _flags: u16,
        entries: &[BundleEntry],
        _out: &mut Replies,
    ) -> Result<BundleCommit, BundleFailure> {
        match self.commit_failure {
            _ if self.mode % 4 == 1 => Ok(BundleCommit::Postponed),
            Some(i) if !entries.is_empty() => {
                Err(BundleFailure { index: i % entries.len(), error: OfpErr::OFPBRC_EPERM })
            }
            _ => Ok(BundleCommit::Committed),
        }
    }

    fn n_tables(&self) -> u8 {
        FUZZ_TABLES
    }

    fn flow_monitor_rules(&mut self, _now: Instant, query: &RuleQuery<'_>) -> Vec<RuleSnapshot> {
        self.table.query(query)
    }

    fn flush(&mut self, _now: Instant) {}

    fn add_normal_flow(&mut self, _now: Instant, _flow: NormalFlow) {}

    fn delete_normal_flow(&mut self, _now: Instant, _flow: NormalFlow) {}

    fn fail_open_packet_in(&mut self, _now: Instant, frame: Bytes) -> Option<AsyncPacketIn> {
        Some(AsyncPacketIn { pin: packet_in(&frame), reason: 0, controller_id: 0, in_port: ofp_proto::port_no::LOCAL })
    }
}

const TARGETS: [&str; 4] = ["tcp:192.0.2.1:6653", "tcp:192.0.2.2:6653", "ptcp:6653", "punix:/run/br0.mgmt"];
const SNOOP: &str = "punix:/run/br0.snoop";

/// Reads a byte, 0 once the input is used up.
fn byte(data: &mut &[u8]) -> u8 {
    let (&b, rest) = data.split_first().unwrap_or((&0, &[]));
    *data = rest;
    b
}

/// The transport a fuzzer byte names among those seen so far.
fn pick(transports: &[ConnId], b: u8) -> Option<ConnId> {
    (!transports.is_empty()).then(|| transports[usize::from(b) % transports.len()])
}

/// A `ConnMgr`, its owner, and what the driver believes from the outputs it has seen.
struct Driver {
    mgr: ConnMgr,
    owner: FuzzOwner,
    now: Instant,
    transports: Vec<ConnId>,
    open: BTreeSet<ConnId>,
    versions: HashMap<ConnId, u8>,
    connected: BTreeSet<ConnId>,
    disconnected: BTreeSet<ConnId>,
    transcript_hash: u64,
    /// What each connection's controller saw of its flow monitors.
    views: BTreeMap<ConnId, MonitorView>,
    /// Connections that were sent raw bytes: their views are not kept.
    unjudged: BTreeSet<ConnId>,
    /// Xids of the flow mods and monitor requests the driver makes (unique, never 0, so views can
    /// tell replies from updates and resolve ABBREVs).
    next_xid: u32,
}

impl Driver {
    fn new(seed: u64) -> Driver {
        Driver {
            mgr: ConnMgr::new(Config { name: "br0".into(), seed }),
            owner: FuzzOwner::default(),
            now: Instant::from_secs(1000),
            transports: Vec::new(),
            open: BTreeSet::new(),
            versions: HashMap::new(),
            connected: BTreeSet::new(),
            disconnected: BTreeSet::new(),
            transcript_hash: 0xcbf2_9ce4_8422_2325,
            views: BTreeMap::new(),
            unjudged: BTreeSet::new(),
            next_xid: 0x1000,
        }
    }

    /// The view of `t`'s controller, unless raw bytes made it unable to judge.
    fn view(&mut self, t: ConnId) -> Option<&mut MonitorView> {
        let judged = self.connected.contains(&t) && !self.unjudged.contains(&t);
        judged.then(|| self.views.entry(t).or_insert_with(|| MonitorView::new(true)))
    }

    /// A message `t` transmitted: recorded, and shown to its controller's view.
    fn transmitted(&mut self, t: ConnId, msg: &[u8]) {
        self.record(msg);
        if let Some(v) = self.view(t) {
            v.receive(msg);
        }
    }

    fn fresh_xid(&mut self) -> u32 {
        self.next_xid += 1;
        self.next_xid
    }

    /// Hands the owner's record of what requests did to the requesters' views.
    fn note_own_changes(&mut self) {
        for (conn, xid, e) in std::mem::take(&mut self.owner.own) {
            if let Some(v) = self.view(conn) {
                v.own_change(xid, &e);
            }
        }
    }

    fn record(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.transcript_hash = (self.transcript_hash ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    /// Runs what is due, drains outputs and events, and checks every invariant.
    fn settle(&mut self) {
        for _ in 0..1000 {
            self.drain();
            match self.mgr.poll_timeout() {
                Some(t) if t <= self.now => self.mgr.handle_timeout(self.now, &mut self.owner),
                _ => {
                    if let Err(e) = self.mgr.check_invariants() {
                        panic!("invariant broken: {e}");
                    }
                    self.note_own_changes();
                    self.check_views();
                    return;
                }
            }
        }
        panic!("livelock: work still due after 1000 steps");
    }

    fn drain(&mut self) {
        while let Some(o) = self.mgr.poll_output() {
            self.record(format!("{o:?}").as_bytes());
            match o {
                Output::Connect { conn, .. } => self.new_transport(conn),
                Output::Close { conn, .. } => assert!(self.open.remove(&conn), "close of {conn} which is not open"),
                Output::Listen { .. } | Output::Unlisten { .. } => {}
            }
        }
        while let Some(e) = self.mgr.poll_event() {
            self.record(format!("{e:?}").as_bytes());
            match e {
                Event::Connected { conn, version, .. } => {
                    assert!(self.connected.insert(conn), "{conn} connected twice");
                    self.versions.insert(conn, version);
                }
                Event::Disconnected { conn } => {
                    assert!(self.connected.contains(&conn), "{conn} disconnected without connecting");
                    assert!(self.disconnected.insert(conn), "{conn} disconnected twice");
                }
            }
        }
    }

    fn new_transport(&mut self, conn: ConnId) {
        assert!(self.transports.last().is_none_or(|l| conn > *l), "{conn} is not a new id");
        self.transports.push(conn);
        self.open.insert(conn);
    }

    /// The public views agree with the events.
    fn check_views(&self) {
        for c in &self.disconnected {
            assert!(self.mgr.conn_info(*c).is_none(), "{c} disconnected but still has a connection");
        }
        for c in self.connected.difference(&self.disconnected) {
            assert!(self.mgr.conn_info(*c).is_some(), "{c} connected but gone without an event");
        }
        assert_eq!(self.mgr.memory_usage().ofconns, self.mgr.conn_ids().count());
        for (c, v) in &self.views {
            assert!(v.violations.is_empty(), "{c}: flow monitor messages out of order: {:?}", v.violations);
        }
    }

    fn configure(&mut self, b: u8) {
        let variant = match b >> 4 & 3 {
            0 => ControllerSettings::default(),
            1 => ControllerSettings { rate_limit: 5, burst_limit: 2, controller_queue_size: 3, ..Default::default() },
            2 => ControllerSettings { allowed_versions: VersionBitmap(1 << 4 | 1 << 1), ..Default::default() },
            _ => ControllerSettings {
                dscp: 10,
                probe_interval: 0,
                conn_type: Some(ConnType::Primary),
                ..Default::default()
            },
        };
        let map: BTreeMap<String, ControllerSettings> =
            (0..4).filter(|i| b & 1 << i != 0).map(|i| (TARGETS[i].to_string(), variant)).collect();
        assert!(self.mgr.set_controllers(self.now, &map, &mut self.owner).is_empty());
    }

    fn accept(&mut self, listener: u8, peer: u8) {
        let listeners = [TARGETS[2], TARGETS[3], SNOOP, "ptcp:9"];
        let l = listeners[usize::from(listener) % listeners.len()];
        if let Some(id) = self.mgr.handle_accept(self.now, l, &format!("peer{peer}")) {
            self.new_transport(id);
        }
    }

    /// A plausible message of kind `kind` for `t` (in its version when known).
    fn message(&mut self, t: ConnId, kind: u8, v: u8, x: u8) -> Bytes {
        let version = self.versions.get(&t).copied().unwrap_or(1 + v % 6);
        let xid = u32::from(x);
        let body = match kind % 21 {
            0 => Message::EchoRequest(Bytes::from_static(b"ping")),
            1 => Message::BarrierRequest,
            2 => Message::FeaturesRequest,
            3 => Message::RoleRequest(RoleMsg {
                role: Role::from_wire(u32::from(v % 4)).unwrap_or(Role::Equal),
                generation_id: Some(u64::from(x) << (v % 64)),
            }),
            4 => Message::SetAsyncConfig(AsyncUpdate::from(ofp_proto::msg::AsyncConfig::default_for(version))),
            5 => Message::GetAsyncRequest,
            6 => Message::SetConfig(SwitchConfig { miss_send_len: u16::from(x), ..SwitchConfig::default() }),
            7 => Message::SetControllerId(u16::from(x % 3)),
            8 => Message::SetPacketInFormat(if x.is_multiple_of(2) {
                PacketInFormat::Standard
            } else {
                PacketInFormat::Nxt2
            }),
            9 => Message::SetFlowFormat(FlowFormat::from_wire(u32::from(x % 3))),
            10 => Message::FlowModTableId(x % 2 == 1),
            11 => Message::BundleControl(BundleCtrl::new(u32::from(x % 2), BundleCtrlType(u16::from(v % 9)), 0)),
            12 => {
                let pm = OfpMsg::new(version, xid, Message::PortMod(PortMod { port_no: 1, ..PortMod::default() }));
                return BundleAdd::wrap(u32::from(v % 2), 0, pm)
                    .map_or_else(|| Bytes::from_static(b""), |m| m.to_bytes());
            }
            13 => Message::PortMod(PortMod { port_no: u32::from(x), ..PortMod::default() }),
            14 => Message::DescStatsRequest,
            15 => Message::Hello(Hello::new(VersionBitmap::DEFAULT)),
            16 if version >= 4 => {
                let tables = ofp_proto::msg::TableFeaturesMsg::ovs_reply(version, 1).tables;
                let raw = ofp_proto::Raw::Ofpst13TableFeaturesRequest;
                let mut b = ofp_proto::msg::multipart::MultipartBuilder::new(raw, version, xid);
                if v.is_multiple_of(2) {
                    let _ = b.append_with(|buf| tables[0].encode(buf));
                }
                let mut m = b.finish().remove(0).to_vec();
                m[11] = v % 2;
                return Bytes::from(m);
            }
            17 => {
                let xid = self.fresh_xid();
                let body = Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors: monitors(version, v, x) });
                return OfpMsg::try_new(version, xid, body).map_or_else(Bytes::new, |m| m.to_bytes());
            }
            18 => {
                return cancel_message(version, self.fresh_xid(), u32::from(x % 4))
                    .map_or_else(Bytes::new, |m| m.to_bytes())
            }
            19 | 20 => {
                let xid = self.fresh_xid();
                self.owner.flow_mod_xids.insert(xid);
                return OfpMsg::try_new(version, xid, Message::FlowMod(flow_mod(v, x)))
                    .map_or_else(Bytes::new, |m| m.to_bytes());
            }
            _ => Message::EchoReply(Bytes::new()),
        };
        OfpMsg::try_new(version, xid, body).map_or_else(Bytes::new, |m| m.to_bytes())
    }

    fn async_msg(&mut self, kind: u8, a: u8, b: u8) -> AsyncMsg {
        let source = pick(&self.transports, b).filter(|_| a & 0x80 != 0);
        match kind % 5 {
            0 => AsyncMsg::PacketIn(AsyncPacketIn {
                pin: packet_in(&[a, b]),
                reason: u32::from(a % 8),
                controller_id: u16::from(b % 2),
                in_port: u32::from(b % 4),
            }),
            1 => {
                let reason = [PortReason::Add, PortReason::Delete, PortReason::Modify][usize::from(a % 3)];
                let port = |state| Port { port_no: 1, state, ..Port::default() };
                AsyncMsg::PortStatus(PortChange { source, reason, old: Some(port(u32::from(b & 4))), new: port(4) })
            }
            2 => AsyncMsg::FlowRemoved(flow_removed(u32::from(a % 6), &[b])),
            3 => {
                let reason = if a.is_multiple_of(2) { TableReason::VacancyDown } else { TableReason::VacancyUp };
                AsyncMsg::TableStatus(TableStatus { reason, desc: TableDesc::default() })
            }
            _ => {
                let reason = if a.is_multiple_of(2) { ForwardReason::GroupMod } else { ForwardReason::MeterMod };
                let mut rf = AsyncRequestForward::new(source, reason);
                for v in 1..=6 {
                    rf = rf.with_request(v, Bytes::from(vec![v, 0x0f, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]));
                }
                AsyncMsg::RequestForward(rf)
            }
        }
    }

    /// Applies one operation read from the front of `data`.
    fn step(&mut self, data: &mut &[u8]) {
        let op = byte(data) % 28;
        match op {
            0 => self.now += Duration::from_millis(u64::from(byte(data)) * 37),
            1 => self.now += Duration::from_secs(u64::from(byte(data))),
            2 => {
                if let Some(t) = self.mgr.poll_timeout() {
                    self.now = self.now.max(t.min(self.now + Duration::from_secs(3600)));
                }
            }
            3 => {
                let b = byte(data);
                self.configure(b);
            }
            4 => {
                let mode = if byte(data).is_multiple_of(2) { FailMode::Secure } else { FailMode::Standalone };
                self.mgr.set_fail_mode(self.now, mode, &mut self.owner);
            }
            5 => {
                let (l, p) = (byte(data), byte(data));
                self.accept(l, p);
            }
            6..=9 => {
                if let Some(t) = pick(&self.transports, byte(data)) {
                    match op {
                        6 => self.mgr.handle_connected(self.now, t),
                        7 => self.mgr.handle_open_failed(self.now, t, ConnError::CONNECTION_REFUSED),
                        8 => self.mgr.handle_error(self.now, t, ConnError::CONNECTION_RESET),
                        _ => self.mgr.handle_eof(self.now, t),
                    }
                }
            }
            10 => {
                let (b, v) = (byte(data), byte(data));
                if let Some(t) = pick(&self.transports, b) {
                    let v = 1 + v % 6;
                    let hello = OfpMsg::new(v, 1, Message::Hello(Hello::new(VersionBitmap(1 << v)))).to_bytes();
                    self.mgr.handle_bytes(self.now, t, &hello);
                }
            }
            11 => {
                let (b, kind, v, x) = (byte(data), byte(data), byte(data), byte(data));
                if let Some(t) = pick(&self.transports, b) {
                    let msg = self.message(t, kind, v, x);
                    self.mgr.handle_bytes(self.now, t, &msg);
                }
            }
            12 => {
                let b = byte(data);
                let n = usize::from(byte(data) % 48).min(data.len());
                let (bytes, rest) = data.split_at(n);
                *data = rest;
                if let Some(t) = pick(&self.transports, b) {
                    // Raw bytes may hold monitor requests with xid 0 (whose initial replies look
                    // like updates) or reused xids: that connection's view can no longer judge.
                    self.unjudged.insert(t);
                    self.views.remove(&t);
                    self.mgr.handle_bytes(self.now, t, bytes);
                }
            }
            13 => {
                let (b, n) = (byte(data), byte(data));
                if let Some(t) = pick(&self.transports, b) {
                    for _ in 0..n {
                        match self.mgr.poll_transmit(self.now, t) {
                            Some(m) => self.transmitted(t, &m),
                            None => break,
                        }
                    }
                }
            }
            14..=18 => {
                let (a, b) = (byte(data), byte(data));
                let msg = self.async_msg(op - 14, a, b);
                self.mgr.send_async(self.now, msg);
            }
            19 => {
                let (i, ok) = (byte(data), byte(data));
                if !self.owner.groups.is_empty() {
                    let (c, g) = self.owner.groups.remove(usize::from(i) % self.owner.groups.len());
                    let result = if ok.is_multiple_of(2) { Ok(()) } else { Err(OfpErr::OFPFMFC_UNKNOWN) };
                    self.mgr.op_group_completed(self.now, c, g, result);
                }
            }
            20 => self.mgr.retry(),
            21 => {
                let b = byte(data);
                self.owner.mode = b;
                self.owner.commit_failure = (b & 0x10 != 0).then_some(usize::from(b >> 5));
            }
            22 => {
                let on = byte(data) % 2 == 1;
                let snoops: BTreeSet<String> = if on { [SNOOP.to_string()].into() } else { BTreeSet::new() };
                assert!(self.mgr.set_snoops(&snoops).is_empty());
            }
            23 => self.mgr.reconnect(self.now),
            24 => self.mgr.set_bundle_idle_timeout(u32::from(byte(data) % 20)),
            25 => {
                for t in self.transports.clone() {
                    while let Some(m) = self.mgr.poll_transmit(self.now, t) {
                        self.transmitted(t, &m);
                    }
                }
            }
            26 => {
                // The switch removes rules on its own (an expiry): no requester, no ABBREV.
                let k = byte(data);
                let Driver { mgr, owner, now, .. } = self;
                owner.table.remove_where(
                    |r| r.priority % 4 == u16::from(k % 4),
                    OFPRR_IDLE_TIMEOUT,
                    None,
                    |e| mgr.flow_monitor_event(e),
                );
                mgr.flow_monitor_flush(*now);
            }
            _ => {
                // A burst of adds with long instructions, reported outside any request (as
                // completions of operations are), by a connection or by nobody: enough for pauses.
                let (n, b, x) = (byte(data), byte(data), byte(data));
                let by = pick(&self.transports, b).filter(|_| b & 0x80 != 0).map(|c| (c, self.fresh_xid()));
                let Driver { mgr, owner, now, .. } = self;
                for i in 0..u16::from(n % 64 + 1) * 4 {
                    let mut fm = flow_mod(x, i as u8);
                    fm.command = FlowModCommand::Add;
                    fm.priority = i;
                    let own = &mut owner.own;
                    owner.table.apply(&fm, by, |e| {
                        if let Some((c, xid)) = by {
                            own.push((c, xid, e.clone()));
                        }
                        mgr.flow_monitor_event(e)
                    });
                }
                mgr.flow_monitor_flush(*now);
            }
        }
        self.settle();
    }
}

/// A rule match from a fuzzer byte: one of 16 input ports, or every packet.
fn rule_match(b: u8) -> Match {
    let mut m = Match::catchall();
    if b % 17 != 16 {
        m.set_in_port(u32::from(b % 17));
    }
    m
}

/// Monitors of a request from fuzzer bytes: ids 0–3, any command OF1.4+ has, random flags (some
/// invalid), tables (some beyond the owner's), out_ports and matches.
fn monitors(version: u8, v: u8, x: u8) -> Vec<FlowMonitor> {
    (0..=v % 2)
        .map(|i| {
            let b = x.rotate_left(u32::from(i) * 3);
            let command = if version < ofp_proto::header::OFP14_VERSION {
                MonitorCommand::Add
            } else {
                [MonitorCommand::Add, MonitorCommand::Modify, MonitorCommand::Delete, MonitorCommand::Other(9)]
                    [usize::from(b >> 6)]
            };
            let flags = MonitorFlags(u16::from(v >> 1) & 0x5f | if b & 1 == 0 { MonitorFlags::REMOVED } else { 0 });
            FlowMonitor {
                command,
                out_port: if b & 0x10 != 0 { u32::from(b & 3) } else { ofp_proto::port_no::ANY },
                table_id: [0xff, 0, 1, 250][usize::from(b >> 2 & 3)],
                match_: rule_match(b.rotate_right(1)),
                ..FlowMonitor::new(u32::from(b % 4), flags)
            }
        })
        .collect()
}

/// A flow mod from fuzzer bytes: any command, on one of two tables, with an output and sometimes a
/// long note (so that bursts of updates fill a connection's 128 KiB quickly).
fn flow_mod(v: u8, x: u8) -> FlowMod {
    let commands = [
        FlowModCommand::Add,
        FlowModCommand::Modify,
        FlowModCommand::ModifyStrict,
        FlowModCommand::Delete,
        FlowModCommand::DeleteStrict,
    ];
    let mut actions = vec![Action::Output { port: u32::from(x % 4), max_len: 0 }];
    if v & 1 != 0 {
        actions.push(Action::Note(Bytes::from(vec![x; 600])));
    }
    FlowMod {
        command: commands[usize::from(v >> 1) % commands.len()],
        table_id: if v & 0x40 != 0 { 1 } else { 0xff },
        priority: u16::from(x % 4),
        new_cookie: u64::from(x),
        match_: rule_match(x),
        instructions: Instructions::apply(actions),
        ..FlowMod::default()
    }
}

/// Drives a `ConnMgr` through the operations `data` encodes, checking invariants after each, and
/// checks that the same input gives the same transcript twice.
pub fn run(data: &[u8]) {
    let seed = u64::from(data.first().copied().unwrap_or(0));
    let transcript = |mut d: &[u8]| {
        let mut driver = Driver::new(seed);
        while !d.is_empty() {
            driver.step(&mut d);
        }
        driver.transcript_hash
    };
    assert_eq!(transcript(data), transcript(data), "same input, different behaviour");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setup_the_proptests_use_makes_live_connections() {
        // Configure all targets, accept on ptcp, connect the first controller, hellos in OF1.3.
        let mut d: &[u8] = &[3, 0x0f, 5, 0, 1, 6, 0, 10, 0, 3, 10, 1, 3, 10, 2, 3, 25];
        let mut driver = Driver::new(0);
        while !d.is_empty() {
            driver.step(&mut d);
        }
        assert_eq!(driver.connected.len(), 2);
        assert_eq!(driver.mgr.conn_ids().count(), 2);
        // A request to each gets through to the owner's reply.
        for t in driver.connected.clone() {
            let msg = driver.message(t, 2, 0, 9);
            driver.mgr.handle_bytes(driver.now, t, &msg);
        }
        driver.settle();
        for t in driver.connected.clone() {
            let mut got = Vec::new();
            while let Some(m) = driver.mgr.poll_transmit(driver.now, t) {
                got.push(m);
            }
            assert!(got.iter().any(|m| m.ends_with(b"reply")), "{t}: {got:?}");
        }
    }

    #[test]
    fn the_driver_reaches_flow_monitor_pauses() {
        let setup: &[u8] = &[3, 0x0f, 5, 0, 1, 6, 0, 10, 0, 3, 10, 1, 3, 10, 2, 3, 25];
        // A monitor request on transport 0 (OF1.3): one catch-all monitor of everything, with actions.
        let x = (0..=255u8).find(|x| x & 0x1c == 0 && x.rotate_right(1) % 17 == 16).unwrap();
        let mut input = setup.to_vec();
        input.extend_from_slice(&[11, 0, 17, 0b0011_1110, x, 25]);
        // 256 adds with long notes while nobody reads; then read, let it resume, read again.
        input.extend_from_slice(&[27, 63, 0, 1, 25, 25]);
        let mut d: &[u8] = &input;
        let mut driver = Driver::new(0);
        while !d.is_empty() {
            driver.step(&mut d);
        }
        let t = driver.transports[0];
        let status = driver.mgr.flow_monitor_status(t).unwrap();
        assert_eq!((status.monitors.len(), status.paused), (1, None));
        let view = &driver.views[&t];
        assert_eq!((view.n_paused, view.n_resumed), (1, 1));
        assert!(view.rules().len() > 200, "the refresh brought the rest: {}", view.rules().len());
    }
}
