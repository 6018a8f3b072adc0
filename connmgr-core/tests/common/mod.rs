//! Test support: a fake owner that records what connection management asks of it, peers that
//! speak OpenFlow over in-memory transports, virtual time, and log capture.
#![allow(dead_code, unused_imports)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Once;

use bytes::Bytes;
use connmgr_core::fuzzing::RuleTable;
use connmgr_core::{
    AsyncPacketIn, BundleCommit, BundleEntry, BundleFailure, Config, ConnId, ConnInfo, ConnMgr, ControllerSettings,
    Disposition, Event, NormalFlow, OpGroupId, Output, Owner, Part, Replies, Request, RuleQuery, RuleSnapshot,
};
use ofp_proto::msg::Hello;
use ofp_proto::print::{ofp_to_string, parse_hex};
use ofp_proto::view::MsgView;
use ofp_proto::{Framer, Instant, Message, MsgType, OfpErr, OfpMsg, VersionBitmap};

pub use test_support::{capture_logs, take_logs};

/// Captured lines from `target` at INFO or above.
pub fn logs_from(target: &str) -> Vec<String> {
    take_logs().into_iter().filter(|l| !l.starts_with("DBG") && l.contains(&format!(" {target}: "))).collect()
}

pub fn hex(s: &str) -> Bytes {
    Bytes::from(parse_hex(s).unwrap_or_else(|| panic!("bad hex {s}")))
}

pub use connmgr_core::fuzzing::{flow_removed, packet_in};

/// An asynchronous packet-in with `reason` (a packet_in_reason bit), controller id and input port.
pub fn pin(data: &[u8], reason: u32, controller_id: u16, in_port: u32) -> AsyncPacketIn {
    AsyncPacketIn { pin: packet_in(data), reason, controller_id, in_port }
}

/// How the fake owner answers one request.
pub type Handler = Box<dyn FnMut(Instant, &Request<'_>, &mut Replies) -> Disposition>;

/// An owner that handles every request and records what it is asked, unless a test installs its
/// own handler; flow mods it handles change its toy flow table, reporting to flow monitors.
#[derive(Default)]
pub struct FakeOwner {
    /// (connection, message type, xid) of every request offered, in order (postponed ones again
    /// each time they are offered).
    pub requests: Vec<(ConnId, MsgType, u32)>,
    /// What connection management asked: "flush", "add Standalone", "delete FailOpen", "commit …".
    pub actions: Vec<String>,
    pub handler: Option<Handler>,
    /// Bundle entries checked at add time fail with this error if set.
    pub bundle_add_error: Option<OfpErr>,
    pub commit_result: Option<BundleFailure>,
    /// Commits offered while this is above 0 are postponed (and counted down).
    pub postpone_commits: u32,
    /// Every bundle commit offered: (connection, flags, xids of the entries' embedded messages).
    pub commits: Vec<(ConnId, u16, Vec<u32>)>,
    pub conn_infos: Vec<ConnInfo>,
    pub rules: RuleTable,
    /// `Owner::n_tables`, if not the default.
    pub n_tables: Option<u8>,
    /// Every flow monitor query: (table, since).
    pub queries: Vec<(u8, u64)>,
    /// Answers flow monitor queries with every rule, selected or not.
    pub query_returns_everything: bool,
    /// Every rule change reported while handling requests and commits, as reported.
    pub reported: Vec<connmgr_core::RuleEvent>,
}

impl Owner for FakeOwner {
    fn handle_request(&mut self, now: Instant, req: &Request<'_>, out: &mut Replies) -> Disposition {
        self.requests.push((req.conn.id, req.msg().msg_type(), req.msg().xid));
        self.conn_infos.push(*req.conn);
        let d = self.handler.as_mut().map_or(Disposition::Handled, |h| h(now, req, out));
        if let (Disposition::Handled, Message::FlowMod(fm)) = (d, &req.msg().body) {
            let reported = &mut self.reported;
            self.rules.apply(fm, Some((req.conn.id, req.msg().xid)), |e| {
                reported.push(e.clone());
                out.flow_monitor_event(e)
            });
        }
        d
    }

    fn check_bundle_entry(
        &mut self,
        _now: Instant,
        _conn: &ConnInfo,
        _entry: &BundleEntry,
        _view: &MsgView<'_>,
    ) -> Result<(), OfpErr> {
        self.bundle_add_error.map_or(Ok(()), Err)
    }

    fn commit_bundle(
        &mut self,
        _now: Instant,
        conn: &ConnInfo,
        flags: u16,
        entries: &[BundleEntry],
        out: &mut Replies,
    ) -> Result<BundleCommit, BundleFailure> {
        let xids = entries.iter().map(BundleEntry::xid).collect();
        self.commits.push((conn.id, flags, xids));
        if self.postpone_commits > 0 {
            self.postpone_commits -= 1;
            return Ok(BundleCommit::Postponed);
        }
        if let Some(f) = self.commit_result {
            return Err(f);
        }
        for part in entries.iter().filter_map(|e| e.decode().ok()) {
            if let Message::FlowMod(fm) = &part.msg.body {
                self.rules.apply(fm, Some((conn.id, part.msg.xid)), |ev| out.flow_monitor_event(ev));
            }
        }
        Ok(BundleCommit::Committed)
    }

    fn n_tables(&self) -> u8 {
        self.n_tables.unwrap_or(u8::MAX)
    }

    fn flow_monitor_rules(&mut self, _now: Instant, query: &RuleQuery<'_>) -> Vec<RuleSnapshot> {
        self.queries.push((query.table_id, query.since));
        if self.query_returns_everything {
            return self.rules.rules().to_vec();
        }
        self.rules.query(query)
    }

    fn flush(&mut self, _now: Instant) {
        self.actions.push("flush".into());
    }

    fn add_normal_flow(&mut self, _now: Instant, flow: NormalFlow) {
        self.actions.push(format!("add {flow:?}"));
    }

    fn delete_normal_flow(&mut self, _now: Instant, flow: NormalFlow) {
        self.actions.push(format!("delete {flow:?}"));
    }

    fn fail_open_packet_in(&mut self, _now: Instant, frame: Bytes) -> Option<AsyncPacketIn> {
        self.actions.push(format!("bogus packet-in from {:02x?}", &frame[6..12]));
        Some(AsyncPacketIn { pin: packet_in(&frame), reason: 0, controller_id: 0, in_port: ofp_proto::port_no::LOCAL })
    }
}

/// The far end of one transport: a controller (or ovs-ofctl, or a snoop) speaking OpenFlow.
#[derive(Debug)]
pub struct Peer {
    framer: Framer,
    /// Every message received from the switch, hellos included.
    pub inbox: Vec<Bytes>,
    /// Whether this peer reads what the switch sends (a peer that stops reading stalls replies).
    pub reading: bool,
    /// Whether it answers the switch's inactivity probes.
    pub answers_probes: bool,
    pub closed: bool,
}

impl Default for Peer {
    fn default() -> Peer {
        Peer { framer: Framer::new(), inbox: Vec::new(), reading: true, answers_probes: true, closed: false }
    }
}

/// A `ConnMgr` named br0 with a fake owner, in-memory peers and virtual time starting at 1000 s.
pub struct Sw {
    pub mgr: ConnMgr,
    pub owner: FakeOwner,
    pub now: Instant,
    pub peers: HashMap<ConnId, Peer>,
    /// Every output seen, in order.
    pub outputs: Vec<Output>,
    pub events: Vec<Event>,
}

/// Settings for tests: no inactivity probes unless a test asks for them.
pub fn settings() -> ControllerSettings {
    ControllerSettings { probe_interval: 0, ..ControllerSettings::default() }
}

impl Default for Sw {
    fn default() -> Self {
        Sw::new()
    }
}

impl Sw {
    pub fn new() -> Sw {
        Sw {
            mgr: ConnMgr::new(Config { name: "br0".into(), seed: 1 }),
            owner: FakeOwner::default(),
            now: Instant::from_secs(1000),
            peers: HashMap::new(),
            outputs: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn set_controllers(&mut self, targets: &[(&str, ControllerSettings)]) -> Vec<String> {
        let map: BTreeMap<String, ControllerSettings> = targets.iter().map(|(t, s)| (t.to_string(), *s)).collect();
        let errors = self.mgr.set_controllers(self.now, &map, &mut self.owner);
        self.run();
        errors.into_iter().map(|e| e.to_string()).collect()
    }

    /// Runs every step due now, then moves bytes between the switch and its reading peers.
    pub fn run(&mut self) {
        for _ in 0..10_000 {
            self.drain();
            match self.mgr.poll_timeout() {
                Some(t) if t <= self.now => self.mgr.handle_timeout(self.now, &mut self.owner),
                _ => return,
            }
        }
        panic!("livelock: still busy after 10000 steps");
    }

    fn drain(&mut self) {
        while let Some(o) = self.mgr.poll_output() {
            if let Output::Close { conn, .. } = &o {
                if let Some(p) = self.peers.get_mut(conn) {
                    p.closed = true;
                }
            }
            self.outputs.push(o);
        }
        while let Some(e) = self.mgr.poll_event() {
            self.events.push(e);
        }
        let ids: Vec<ConnId> = self.peers.iter().filter(|(_, p)| p.reading && !p.closed).map(|(id, _)| *id).collect();
        for id in ids {
            let mut probes = Vec::new();
            while let Some(b) = self.mgr.poll_transmit(self.now, id) {
                let p = self.peers.get_mut(&id).unwrap();
                p.framer.push(&b);
                while let Ok(Some(frame)) = p.framer.next_frame() {
                    if p.answers_probes && frame[1] == 2 && frame[4..8] == [0, 0, 0, 0] {
                        probes.push(OfpMsg::new(frame[0], 0, Message::EchoReply(Bytes::new())).to_bytes());
                    }
                    p.inbox.push(frame);
                }
            }
            for reply in probes {
                self.mgr.handle_bytes(self.now, id, &reply);
            }
        }
        while let Some(o) = self.mgr.poll_output() {
            self.outputs.push(o);
        }
    }

    /// Lets `ms` milliseconds pass, running every deadline on the way at its own time.
    pub fn advance(&mut self, ms: u64) {
        let end = Instant::from_millis(self.now.as_millis() + ms);
        self.run();
        while let Some(t) = self.mgr.poll_timeout().filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.mgr.handle_timeout(self.now, &mut self.owner);
            self.run();
        }
        self.now = end;
        self.run();
    }

    /// The transport the switch last asked to open to `target`.
    pub fn pending_connect(&self, target: &str) -> ConnId {
        self.outputs
            .iter()
            .rev()
            .find_map(|o| match o {
                Output::Connect { conn, target: t, .. } if &**t == target => Some(*conn),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no connect to {target} in {:?}", self.outputs))
    }

    /// Completes the switch's pending connection to `target` with a peer speaking `version`.
    pub fn connect(&mut self, target: &str, version: u8) -> ConnId {
        let id = self.pending_connect(target);
        self.peers.insert(id, Peer::default());
        self.mgr.handle_connected(self.now, id);
        self.peer_hello(id, version);
        id
    }

    /// Accepts a connection on `listener` from a peer speaking `version`.
    pub fn accept(&mut self, listener: &str, peer: &str, version: u8) -> ConnId {
        let id = self.mgr.handle_accept(self.now, listener, peer).expect("accepted");
        self.peers.insert(id, Peer::default());
        self.peer_hello(id, version);
        id
    }

    /// The peer's hello, offering only `version`.
    pub fn peer_hello(&mut self, id: ConnId, version: u8) {
        let hello = Hello::new(VersionBitmap(1 << version));
        let bytes = OfpMsg::new(version, 1, Message::Hello(hello)).to_bytes();
        self.send_bytes(id, &bytes);
    }

    pub fn send_bytes(&mut self, id: ConnId, bytes: &[u8]) {
        self.mgr.handle_bytes(self.now, id, bytes);
        self.run();
    }

    /// The peer sends a message given in hex (spaces allowed), as `ovs-appctl ofctl/send` does.
    pub fn send(&mut self, id: ConnId, hex_msg: &str) {
        let b = hex(&hex_msg.replace([' ', '\n'], ""));
        self.send_bytes(id, &b);
    }

    pub fn send_msg(&mut self, id: ConnId, msg: &OfpMsg) {
        self.send_bytes(id, &msg.to_bytes());
    }

    /// Messages the peer received since last asked, hellos and the switch's probes left out.
    pub fn take(&mut self, id: ConnId) -> Vec<Bytes> {
        self.run();
        let p = self.peers.get_mut(&id).expect("peer");
        std::mem::take(&mut p.inbox)
            .into_iter()
            .filter(|f| f[1] != 0 && !(f[1] == 2 && f[4..8] == [0, 0, 0, 0]))
            .collect()
    }

    /// [`Sw::take`] as `ovs-ofctl ofp-print` text with the xids left out (OVS `strip_xids`).
    pub fn take_text(&mut self, id: ConnId) -> String {
        self.take(id).iter().map(|f| strip_xid(&ofp_to_string(f, 1))).collect()
    }

    /// [`Sw::take`] as message names (first word of each message's text).
    pub fn take_names(&mut self, id: ConnId) -> Vec<String> {
        self.take(id).iter().map(|f| name_of(f)).collect()
    }

    pub fn events(&mut self) -> Vec<Event> {
        self.run();
        std::mem::take(&mut self.events)
    }

    /// The peer closes its end.
    pub fn hang_up(&mut self, id: ConnId) {
        self.mgr.handle_eof(self.now, id);
        self.run();
    }
}

/// The message's name as `ovs-ofctl` prints it, e.g. "OFPT_PACKET_IN" (from its headers alone:
/// packet-in and flow-removed bodies are opaque on this branch).
pub fn name_of(frame: &[u8]) -> String {
    ofp_proto::raw::identify(frame).map_or_else(|e| format!("unidentified: {e}"), |r| r.name().to_string())
}

/// Removes " (xid=0x..)" as OVS's test macro `strip_xids` does.
pub fn strip_xid(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(" (xid=0x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        rest = &tail[tail.find(')').map_or(tail.len(), |j| j + 1)..];
    }
    out.push_str(rest);
    out
}

/// The op group the fake owner's handler should start: a handler starting one per `t` request,
/// recording the ids in `groups`.
pub fn op_group_handler(t: MsgType, groups: std::rc::Rc<RefCell<Vec<(ConnId, OpGroupId)>>>) -> Handler {
    Box::new(move |_now, req, out| {
        if req.msg().msg_type() == t {
            groups.borrow_mut().push((req.conn.id, out.start_op_group()));
        }
        Disposition::Handled
    })
}
