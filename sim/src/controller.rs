//! Scripted controllers: they accept connections, negotiate with rconn-core's `Vconn`, answer echo
//! requests (unless told not to), claim a role on every new connection, and send what the timeline
//! tells them, built with ofp-proto. They keep what they saw for the invariants and the summary.
//! No switch logic lives here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use connmgr_core::{ConnId, Role};
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
use ofp_proto::msg::flow_mod::FlowMod;
use ofp_proto::msg::monitor::{self, FlowMonitor, FlowMonitorRequest, FlowUpdate, FlowUpdateEvent, MonitorFlags};
use ofp_proto::msg::role::RoleMsg;
use ofp_proto::msg::{AsyncUpdate, FlowStatsRequest, PacketOut};
use ofp_proto::print::ofp_to_string;
use ofp_proto::{Instant, Message, OfpMsg, VersionBitmap};
use rconn_core::{Vconn, VconnState};

use crate::agent::RuleKey;
use crate::bundles::BundleBook;
use crate::net::StreamId;
use crate::traffic;

/// Something a controller is told to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Answer echo requests or not.
    Echo(bool),
    /// Send a role request now, and claim this role on every later connection.
    Role {
        role: Role,
        generation_id: Option<u64>,
    },
    FlowMod(Box<FlowMod>),
    /// `count` flow mods, `rate` per second (0: all at once), each with priority counting up from
    /// the template's and its own TCP destination port.
    FlowMods {
        template: Box<FlowMod>,
        count: u32,
        rate: u32,
    },
    Barrier,
    EchoRequest,
    Features,
    FlowStats,
    BundleCtrl {
        id: u32,
        ctrl: BundleCtrlType,
        flags: u16,
    },
    BundleAdd {
        id: u32,
        flags: u16,
        fm: Box<FlowMod>,
    },
    Monitor {
        id: u32,
        flags: u16,
        table_id: u8,
        out_port: u32,
    },
    MonitorCancel {
        id: u32,
    },
    SetAsync(AsyncUpdate),
    PacketOut {
        port: u32,
    },
    /// Close its connections (FIN).
    Close,
}

/// A connection a controller accepted.
#[derive(Debug)]
pub struct Session {
    pub switch: usize,
    pub conn: ConnId,
    /// "s1#3": the switch and its transport id.
    pub label: Arc<str>,
    pub vconn: Vconn,
    pub version: Option<u8>,
    /// Packet-in ids (from the simulated frames) received, to catch duplicates.
    pub packet_ins: BTreeSet<u64>,
    pub n_packet_ins: u64,
    pub bundles: BundleBook,
    pub paused: bool,
    /// The flows this connection's monitors told of (an all-flows monitor with INITIAL); `None`
    /// when it has none, or lost track (an abbreviated update, which only its own flow mod can
    /// explain).
    pub monitor_view: Option<BTreeSet<RuleKey>>,
    /// Monitor updates received, and their count at the last pause or resume.
    pub monitor_updates: u64,
    monitor_mark: u64,
}

/// Monitoring on `s` paused or resumed: noted with the updates received since the last turn.
fn monitor_turn(name: &str, s: &mut Session, paused: bool, notes_on: bool, notes: &mut Vec<String>) {
    s.paused = paused;
    if notes_on {
        let what = if paused { "PAUSED after" } else { "RESUMED after" };
        notes.push(format!("{name} <- {} flow monitor {what} {} updates", s.label, s.monitor_updates - s.monitor_mark));
    }
    s.monitor_mark = s.monitor_updates;
}

/// A flood of flow mods being sent.
#[derive(Clone, Debug)]
struct Flood {
    template: FlowMod,
    next_index: u32,
    count: u32,
    rate: u32,
    start: Instant,
    peer: Option<usize>,
}

impl Flood {
    fn next(&self) -> Instant {
        traffic::paced(self.start, u64::from(self.next_index), u64::from(self.rate))
    }
}

/// Everything a controller receives, counted by message name.
pub type Counts = BTreeMap<&'static str, u64>;

/// A scripted controller at `tcp:ADDR:6653`.
#[derive(Debug)]
pub struct Controller {
    pub name: String,
    pub addr: String,
    pub versions: VersionBitmap,
    pub echo: bool,
    /// Listening (else SYNs get a reset: connection refused).
    pub accepting: bool,
    /// Not reading until then.
    pub stalled_until: Option<Instant>,
    /// Bytes read per second; 0: as fast as they come.
    pub read_rate: u64,
    /// When the next slow read may happen.
    pub next_read: Instant,
    pub claim: Option<(Role, Option<u64>)>,
    /// Monitor requests made again on every new connection.
    monitors: Vec<Command>,
    pub sessions: BTreeMap<StreamId, Session>,
    floods: Vec<Flood>,
    next_xid: u32,
    pub received: Counts,
    pub n_sessions: u64,
    /// Packet-ins received on connections that are gone.
    pub closed_packet_ins: u64,
    /// Whether to describe what happens (for the transcript).
    pub notes_on: bool,
}

/// Slow readers read in steps this far apart.
pub const READ_TICK: Duration = Duration::from_millis(10);

impl Controller {
    pub fn new(name: &str, addr: String) -> Controller {
        Controller {
            name: name.to_string(),
            addr,
            versions: VersionBitmap::DEFAULT,
            echo: true,
            accepting: true,
            stalled_until: None,
            read_rate: 0,
            next_read: Instant::ZERO,
            claim: None,
            monitors: Vec::new(),
            sessions: BTreeMap::new(),
            floods: Vec::new(),
            next_xid: 1,
            received: Counts::new(),
            n_sessions: 0,
            closed_packet_ins: 0,
            notes_on: true,
        }
    }

    /// The target a switch uses for this controller.
    pub fn target(&self) -> String {
        format!("tcp:{}:6653", self.addr)
    }

    pub fn is_reading(&self, now: Instant) -> bool {
        self.stalled_until.is_none_or(|t| now >= t)
    }

    /// How many bytes it reads now (`usize::MAX`: all).
    pub fn read_budget(&mut self, now: Instant) -> usize {
        if !self.is_reading(now) {
            return 0;
        }
        if self.read_rate == 0 {
            return usize::MAX;
        }
        if now < self.next_read {
            return 0;
        }
        self.next_read = now + READ_TICK;
        (self.read_rate as usize / 100).max(1)
    }

    /// A connection arrived (its SYN): the hello goes out at once.
    pub fn accept(&mut self, stream: StreamId, switch: usize, conn: ConnId, label: Arc<str>) {
        let xid = self.xid();
        let vconn = Vconn::accepted((&*label).into(), self.versions, xid);
        let s = Session {
            switch,
            conn,
            label,
            vconn,
            version: None,
            packet_ins: BTreeSet::new(),
            n_packet_ins: 0,
            bundles: BundleBook::default(),
            paused: false,
            monitor_view: None,
            monitor_updates: 0,
            monitor_mark: 0,
        };
        self.sessions.insert(stream, s);
        self.n_sessions += 1;
    }

    fn xid(&mut self) -> u32 {
        let x = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        x
    }

    /// Bytes from the switch. Notes say what happened, for the transcript; `violations` get what
    /// breaks an invariant.
    pub fn receive(&mut self, stream: StreamId, data: &[u8], notes: &mut Vec<String>, violations: &mut Vec<String>) {
        let Some(s) = self.sessions.get_mut(&stream) else { return };
        s.vconn.handle_bytes(data);
        self.after_input(stream, notes, violations);
    }

    /// The switch closed its side (FIN, after all its data).
    pub fn eof(&mut self, stream: StreamId, notes: &mut Vec<String>, violations: &mut Vec<String>) {
        let Some(s) = self.sessions.get_mut(&stream) else { return };
        s.vconn.handle_eof();
        self.after_input(stream, notes, violations);
    }

    fn after_input(&mut self, stream: StreamId, notes: &mut Vec<String>, violations: &mut Vec<String>) {
        let Some(s) = self.sessions.get_mut(&stream) else { return };
        let was_up = s.version.is_some();
        if !was_up && s.vconn.state() == VconnState::Connected {
            s.version = s.vconn.version();
            let v = s.version.unwrap_or(1);
            notes.push(format!("{} hello done with {} (OF1.{})", self.name, s.label, v - 1));
            if let Some((role, generation_id)) = self.claim {
                self.send_role(stream, role, generation_id, notes);
            }
            for m in self.monitors.clone() {
                self.send_command(stream, &m, notes);
            }
        }
        loop {
            let Some(s) = self.sessions.get_mut(&stream) else { return };
            let Some(r) = s.vconn.recv() else { break };
            match r {
                Ok(frame) => self.handle_msg(stream, frame, notes, violations),
                Err(e) => {
                    notes.push(format!("{} connection from {} ended ({e})", self.name, s.label));
                    break;
                }
            }
        }
    }

    fn handle_msg(&mut self, stream: StreamId, frame: Bytes, notes: &mut Vec<String>, violations: &mut Vec<String>) {
        let Some(s) = self.sessions.get_mut(&stream) else { return };
        let msg = match OfpMsg::decode(&frame) {
            Ok(m) => m,
            Err(e) => {
                violations.push(format!(
                    "{} got an undecodable message from {}: {}",
                    self.name,
                    s.label,
                    e.error.name()
                ));
                return;
            }
        };
        *self.received.entry(msg.raw.name()).or_default() += 1;
        let quiet = match &msg.body {
            Message::EchoRequest(_) | Message::EchoReply(_) | Message::PacketIn(_) => true,
            // Updates are counted; pauses and resumes are told below.
            Message::FlowMonitorStatsReply(_) => msg.xid == 0,
            _ => false,
        };
        if self.notes_on && !quiet {
            notes.push(format!("{} <- {} {}", self.name, s.label, summary(&frame)));
        }
        match &msg.body {
            Message::EchoRequest(data) if self.echo => {
                let reply = OfpMsg::new(msg.version, msg.xid, Message::EchoReply(data.clone())).to_bytes();
                let _ = s.vconn.send(reply);
            }
            Message::PacketIn(pin) => {
                s.n_packet_ins += 1;
                if let Some(id) = traffic::frame_id(&pin.data) {
                    if !s.packet_ins.insert(id) {
                        violations.push(format!("{} got packet {id} twice from {}", self.name, s.label));
                    }
                }
            }
            Message::BundleControl(b) => {
                if let Some(v) = s.bundles.reply(msg.xid, b.bundle_id, b.ctrl_type) {
                    violations.push(format!("{}: {v} on {}", self.name, s.label));
                }
            }
            Message::Error(e) => {
                // An expired bundle is reported with an error quoting its open request.
                let expired = match OfpMsg::decode(&e.data).map(|m| m.body) {
                    Ok(Message::BundleControl(b)) => Some(b.bundle_id),
                    _ => None,
                };
                if let Some(v) = s.bundles.error(msg.xid, e.error(), expired) {
                    violations.push(format!("{}: {v} on {}", self.name, s.label));
                }
            }
            Message::FlowMonitorPaused | Message::FlowMonitorResumed => {
                let paused = matches!(msg.body, Message::FlowMonitorPaused);
                monitor_turn(&self.name, s, paused, self.notes_on, notes);
            }
            Message::FlowMonitorStatsReply(r) => {
                for u in &r.updates {
                    if !matches!(u, FlowUpdate::Paused | FlowUpdate::Resumed) {
                        s.monitor_updates += 1;
                    }
                    match u {
                        FlowUpdate::Full(f) => {
                            let key = (f.table_id, f.priority, f.match_.to_text(f.priority));
                            // While paused only removals of flows added before the pause come (then
                            // the refresh).
                            if s.paused && f.event == FlowUpdateEvent::Removed && self.notes_on {
                                let what = format!("flow monitor REMOVED while paused: table {} {}", key.0, key.2);
                                notes.push(format!("{} <- {} {what}", self.name, s.label));
                            }
                            if let Some(view) = s.monitor_view.as_mut() {
                                if f.event == FlowUpdateEvent::Removed {
                                    view.remove(&key);
                                } else {
                                    view.insert(key);
                                }
                            }
                        }
                        FlowUpdate::Abbrev { .. } => s.monitor_view = None,
                        FlowUpdate::Paused => monitor_turn(&self.name, s, true, self.notes_on, notes),
                        FlowUpdate::Resumed => monitor_turn(&self.name, s, false, self.notes_on, notes),
                    }
                }
            }
            _ => {}
        }
    }

    /// Runs a command on every connection whose hello is done (to one switch if `peer` is set).
    pub fn execute(&mut self, now: Instant, cmd: &Command, peer: Option<usize>, notes: &mut Vec<String>) {
        match cmd {
            Command::Echo(on) => self.echo = *on,
            Command::Role { role, generation_id } => {
                self.claim = Some((*role, *generation_id));
                for id in self.up_sessions(peer) {
                    self.send_role(id, *role, *generation_id, notes);
                }
            }
            Command::Monitor { .. } => {
                self.monitors.push(cmd.clone());
                for id in self.up_sessions(peer) {
                    self.send_command(id, cmd, notes);
                }
            }
            Command::MonitorCancel { id: mid } => {
                self.monitors.retain(|m| !matches!(m, Command::Monitor { id, .. } if id == mid));
                for id in self.up_sessions(peer) {
                    self.send_command(id, cmd, notes);
                }
            }
            Command::FlowMods { template, count, rate } => {
                let flood = Flood {
                    template: (**template).clone(),
                    next_index: 0,
                    count: *count,
                    rate: *rate,
                    start: now,
                    peer,
                };
                if self.notes_on {
                    let n = self.up_sessions(peer).len();
                    notes.push(format!("{} sends {count} flow mods on {n} connections", self.name));
                }
                self.floods.push(flood);
                self.run_floods(now, notes);
            }
            Command::Close => {
                for s in self.sessions.values_mut().filter(|s| peer.is_none_or(|p| p == s.switch)) {
                    s.vconn.handle_eof();
                }
            }
            _ => {
                for id in self.up_sessions(peer) {
                    self.send_command(id, cmd, notes);
                }
            }
        }
    }

    fn up_sessions(&self, peer: Option<usize>) -> Vec<StreamId> {
        self.sessions
            .iter()
            .filter(|(_, s)| s.version.is_some() && peer.is_none_or(|p| p == s.switch))
            .map(|(id, _)| *id)
            .collect()
    }

    fn send_role(&mut self, id: StreamId, role: Role, generation_id: Option<u64>, notes: &mut Vec<String>) {
        self.send_body(id, Message::RoleRequest(RoleMsg { role, generation_id }), notes);
    }

    /// Encodes `body` in the session's version with a fresh xid, queues it and notes it. Returns
    /// the xid.
    fn send_body(&mut self, id: StreamId, body: Message, notes: &mut Vec<String>) -> Option<u32> {
        self.send_quietly(id, body, notes, true)
    }

    /// [`Controller::send_body`], noting the message only if `show`.
    fn send_quietly(&mut self, id: StreamId, body: Message, notes: &mut Vec<String>, show: bool) -> Option<u32> {
        let xid = self.xid();
        let s = self.sessions.get_mut(&id)?;
        let version = s.version?;
        let t = body.msg_type();
        let Some(msg) = OfpMsg::try_new(version, xid, body) else {
            notes.push(format!("{} cannot send {t:?} in OF1.{}", self.name, version - 1));
            return None;
        };
        let bytes = msg.to_bytes();
        if self.notes_on && show {
            notes.push(format!("{} -> {} {}", self.name, s.label, summary(&bytes)));
        }
        s.vconn.send(bytes).ok()?;
        Some(xid)
    }

    fn send_command(&mut self, id: StreamId, cmd: &Command, notes: &mut Vec<String>) {
        let version = self.sessions.get(&id).and_then(|s| s.version).unwrap_or(1);
        match cmd {
            Command::FlowMod(fm) => {
                self.send_body(id, Message::FlowMod((**fm).clone()), notes);
            }
            Command::Barrier => {
                self.send_body(id, Message::BarrierRequest, notes);
            }
            Command::EchoRequest => {
                self.send_body(id, Message::EchoRequest(Bytes::new()), notes);
            }
            Command::Features => {
                self.send_body(id, Message::FeaturesRequest, notes);
            }
            Command::FlowStats => {
                self.send_body(id, Message::FlowStatsRequest(FlowStatsRequest::default()), notes);
            }
            Command::BundleCtrl { id: bid, ctrl, flags } => {
                if let Some(xid) =
                    self.send_body(id, Message::BundleControl(BundleCtrl::new(*bid, *ctrl, *flags)), notes)
                {
                    if let Some(s) = self.sessions.get_mut(&id) {
                        s.bundles.sent_ctrl(xid, *bid, *ctrl);
                    }
                }
            }
            Command::BundleAdd { id: bid, flags, fm } => {
                let xid = self.next_xid;
                let Some(inner) = OfpMsg::try_new(version, xid, Message::FlowMod((**fm).clone())) else { return };
                let add = BundleAdd { bundle_id: *bid, flags: *flags, msg: inner.to_bytes(), properties: Bytes::new() };
                if let Some(xid) = self.send_body(id, Message::BundleAddMessage(add), notes) {
                    if let Some(s) = self.sessions.get_mut(&id) {
                        s.bundles.sent_add(xid, *bid);
                    }
                }
            }
            Command::Monitor { id: mid, flags, table_id, out_port } => {
                let all_flows = *table_id == 0xff && *out_port == ofp_proto::port_no::ANY;
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.monitor_view = (all_flows && flags & MonitorFlags::INITIAL != 0).then(BTreeSet::new);
                }
                let mut m = FlowMonitor::new(*mid, MonitorFlags(*flags));
                m.table_id = *table_id;
                m.out_port = *out_port;
                let xid = self.xid();
                let req = FlowMonitorRequest { monitors: vec![m] };
                let Some(s) = self.sessions.get_mut(&id) else { return };
                for bytes in req.encode_requests(version, xid).unwrap_or_default() {
                    notes.push(format!("{} -> {} {}", self.name, s.label, summary(&bytes)));
                    let _ = s.vconn.send(bytes);
                }
            }
            Command::MonitorCancel { id: mid } => {
                let xid = self.xid();
                let Some(s) = self.sessions.get_mut(&id) else { return };
                if let Some(m) = monitor::cancel_message(version, xid, *mid) {
                    let bytes = m.to_bytes();
                    notes.push(format!("{} -> {} {}", self.name, s.label, summary(&bytes)));
                    let _ = s.vconn.send(bytes);
                }
            }
            Command::SetAsync(u) => {
                self.send_body(id, Message::SetAsyncConfig(*u), notes);
            }
            Command::PacketOut { port } => {
                let actions = [ofp_proto::actions::Action::Output { port: *port, max_len: 0 }].into_iter().collect();
                let po = PacketOut::new(ofp_proto::port_no::CONTROLLER, actions, traffic::frame(0, 0, 0, 64));
                self.send_body(id, Message::PacketOut(po), notes);
            }
            Command::Echo(_) | Command::Role { .. } | Command::FlowMods { .. } | Command::Close => {}
        }
    }

    fn run_floods(&mut self, now: Instant, notes: &mut Vec<String>) {
        let mut floods = std::mem::take(&mut self.floods);
        for f in &mut floods {
            let mut sent = 0;
            while f.next_index < f.count && f.next() <= now {
                let mut fm = f.template.clone();
                fm.priority = fm.priority.wrapping_add(f.next_index as u16);
                // One TCP destination port per flow mod (with the match's prerequisites).
                fm.match_.set_dl_type(0x0800);
                fm.match_.set_nw_proto(6);
                fm.match_.set_tp_dst_masked(1 + f.next_index as u16, u16::MAX);
                for id in self.up_sessions(f.peer) {
                    self.send_quietly(id, Message::FlowMod(fm.clone()), notes, false);
                }
                f.next_index += 1;
                sent += 1;
            }
            if sent > 0 && f.next_index == f.count && self.notes_on {
                notes.push(format!("{} sent its {} flow mods", self.name, f.count));
            }
        }
        floods.retain(|f| f.next_index < f.count);
        self.floods = floods;
    }

    /// When something is due: a flood's next flow mod, the end of a stall, a slow read.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let floods = self.floods.iter().map(Flood::next).min();
        let stall = self.stalled_until.filter(|t| *t != Instant::FAR_FUTURE);
        [floods, stall].into_iter().flatten().min()
    }

    pub fn handle_timeout(&mut self, now: Instant, notes: &mut Vec<String>) {
        if self.stalled_until.is_some_and(|t| now >= t) {
            self.stalled_until = None;
            notes.push(format!("{} reads again", self.name));
        }
        self.run_floods(now, notes);
    }

    /// Forgets a connection.
    pub fn drop_session(&mut self, stream: StreamId) {
        if let Some(s) = self.sessions.remove(&stream) {
            self.closed_packet_ins += s.n_packet_ins;
        }
    }
}

/// Longest message description in a transcript line.
const SUMMARY_MAX: usize = 160;

/// A message as `ovs-ofctl ofp-print` shows it, on one line and cut short.
pub fn summary(msg: &[u8]) -> String {
    let text = ofp_to_string(msg, 1);
    let mut s = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() > SUMMARY_MAX {
        let mut cut = SUMMARY_MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}
