//! The switch as the simulator drives it: [`SwitchAgent`] is the state machine's API (the transport
//! calls of `ConnMgr`, frames in and out of the datapath, status), and [`feed`] is the one function
//! every input passes through, in the record format of `ofproto_core::timeline` — so a run can be
//! recorded and replayed exactly as the daemon's.

use std::collections::BTreeMap;

use bytes::Bytes;
use connmgr_core::{ConnId, Event, Output, Role};
use ofp_proto::Instant;
use ofproto_core::timeline::{Fed, Input, Setup};
use ofproto_core::{OfProto, Switch};
use rconn_core::ConnError;

/// A connection's packet-in rate limiters (both schedulers), as OVS's `packet-in-*` status keys
/// count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinStats {
    /// Sent at once (`bypassed`).
    pub bypassed: u64,
    /// Held back to keep to the rate (`queued`).
    pub queued: u64,
    /// Dropped from a full queue (`dropped`).
    pub dropped: u64,
    /// Waiting now (`backlog`).
    pub backlog: u64,
}

/// One configured active controller, as the switch reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerState {
    /// The rconn state (VOID, BACKOFF, CONNECTING, ACTIVE, IDLE).
    pub state: String,
    pub role: Option<Role>,
    /// With a rate limit, its counters for the current connection.
    pub pins: Option<PinStats>,
}

impl ControllerState {
    /// From `ConnMgr::controller_info`'s OVS status pairs.
    pub fn from_info(ci: &connmgr_core::ControllerInfo) -> ControllerState {
        let get =
            |kind: &str, key: &str| -> Option<u64> { ci.pairs.get(&format!("packet-in-{kind}-{key}"))?.parse().ok() };
        let sum = |key: &str| -> Option<u64> {
            let (a, m) = (get("action", key), get("miss", key));
            (a.is_some() || m.is_some()).then(|| a.unwrap_or(0) + m.unwrap_or(0))
        };
        let pins = sum("backlog").map(|backlog| PinStats {
            bypassed: sum("bypassed").unwrap_or(0),
            queued: sum("queued").unwrap_or(0),
            dropped: sum("dropped").unwrap_or(0),
            backlog,
        });
        ControllerState { state: ci.pairs.get("state").cloned().unwrap_or_default(), role: ci.role, pins }
    }
}

/// A flow as monitors see it: table, priority, match (in `ovs-ofctl` words).
pub type RuleKey = (u8, u16, String);

/// What the simulator watches of a switch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentStatus {
    /// By target, active controllers only (as OVS's Controller table).
    pub controllers: BTreeMap<String, ControllerState>,
    /// Flows OpenFlow sees.
    pub flows: u64,
    /// Failing open (standalone mode, no controller for long enough).
    pub fail_open: bool,
    /// The packet path's counters (upcalls, frames forwarded, packet-ins, …) under OVS's names.
    pub upcalls: BTreeMap<String, u64>,
}

/// The switch state machine: the transport API of `connmgr_core::ConnMgr`, plus the datapath.
pub trait SwitchAgent {
    fn build(now: Instant, setup: &Setup) -> Self
    where
        Self: Sized;
    fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId>;
    fn handle_listen_error(&mut self, now: Instant, target: &str, err: ConnError);
    fn handle_connected(&mut self, now: Instant, conn: ConnId);
    fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError);
    fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError);
    fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]);
    fn handle_eof(&mut self, now: Instant, conn: ConnId);
    fn poll_transmit(&mut self, now: Instant, conn: ConnId) -> Option<Bytes>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn handle_timeout(&mut self, now: Instant);
    fn handle_frame(&mut self, now: Instant, port: u32, frame: Bytes) -> Result<(), String>;
    fn reconnect(&mut self, now: Instant);
    /// Whether the switch takes more bytes from `conn` now (else they wait in the network).
    fn may_read(&self, conn: ConnId) -> bool;
    fn poll_output(&mut self) -> Option<Output>;
    fn poll_event(&mut self) -> Option<Event>;
    /// A frame the datapath sends out of a port.
    fn poll_packet_out(&mut self) -> Option<(u32, Bytes)>;
    fn status(&self, now: Instant) -> AgentStatus;
    /// Packet-ins dropped on `conn` because its transmit queue was full.
    fn packet_in_overflow(&self, conn: ConnId) -> u64;
    /// Every flow OpenFlow can see (hidden ones excluded).
    fn rules(&self) -> std::collections::BTreeSet<RuleKey>;
}

/// Hands one input to the switch (the simulator's counterpart of `io_shell::core::feed`).
pub fn feed<A: SwitchAgent>(a: &mut A, now: Instant, input: &Input) -> Option<Fed> {
    match input {
        Input::Accept { listener, peer } => return Some(Fed::Accepted(a.handle_accept(now, listener, peer))),
        Input::ListenError { target, err } => a.handle_listen_error(now, target, *err),
        Input::Connected(c) => a.handle_connected(now, *c),
        Input::OpenFailed(c, e) => a.handle_open_failed(now, *c, *e),
        Input::Error(c, e) => a.handle_error(now, *c, *e),
        Input::Bytes(c, data) => a.handle_bytes(now, *c, data),
        Input::Eof(c) => a.handle_eof(now, *c),
        Input::Transmit(c) => return Some(Fed::Transmit(a.poll_transmit(now, *c))),
        Input::Timeout => a.handle_timeout(now),
        Input::Frame { port, frame } => return Some(Fed::Frame(a.handle_frame(now, *port, frame.clone()))),
        Input::Reconnect => a.reconnect(now),
    }
    None
}

/// The real switch.
impl SwitchAgent for Switch {
    fn build(now: Instant, setup: &Setup) -> Switch {
        Switch::new(now, setup)
    }
    fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId> {
        Switch::handle_accept(self, now, listener, peer)
    }
    fn handle_listen_error(&mut self, now: Instant, target: &str, err: ConnError) {
        Switch::handle_listen_error(self, now, target, err);
    }
    fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        Switch::handle_connected(self, now, conn);
    }
    fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        Switch::handle_open_failed(self, now, conn, err);
    }
    fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        Switch::handle_error(self, now, conn, err);
    }
    fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        Switch::handle_bytes(self, now, conn, data);
    }
    fn handle_eof(&mut self, now: Instant, conn: ConnId) {
        Switch::handle_eof(self, now, conn);
    }
    fn poll_transmit(&mut self, now: Instant, conn: ConnId) -> Option<Bytes> {
        Switch::poll_transmit(self, now, conn)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Switch::poll_timeout(self)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Switch::handle_timeout(self, now);
    }
    fn handle_frame(&mut self, now: Instant, port: u32, frame: Bytes) -> Result<(), String> {
        Switch::handle_frame(self, now, port, frame).map_err(|e| e.to_string())
    }
    fn reconnect(&mut self, now: Instant) {
        Switch::reconnect(self, now);
    }
    fn may_read(&self, conn: ConnId) -> bool {
        Switch::may_read(self, conn)
    }
    fn poll_output(&mut self) -> Option<Output> {
        Switch::poll_output(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        self.poll_conn_event()
    }
    fn poll_packet_out(&mut self) -> Option<(u32, Bytes)> {
        Switch::poll_packet_out(self)
    }
    fn status(&self, now: Instant) -> AgentStatus {
        let st = Switch::status(self, now);
        let controllers = st.controllers.iter().map(|(t, ci)| (t.clone(), ControllerState::from_info(ci))).collect();
        AgentStatus { controllers, flows: st.flows, fail_open: st.fail_open_active, upcalls: st.upcalls }
    }
    fn packet_in_overflow(&self, conn: ConnId) -> u64 {
        self.connmgr().n_packet_in_overflow(conn).unwrap_or(0)
    }
    fn rules(&self) -> std::collections::BTreeSet<RuleKey> {
        visible_rules(self.tables())
    }
}

/// The flows of `tables` OpenFlow can see.
fn visible_rules<D: ofproto_core::Datapath>(tables: &OfProto<D>) -> std::collections::BTreeSet<RuleKey> {
    let mut out = std::collections::BTreeSet::new();
    for t in 0..tables.n_visible_tables() {
        for id in tables.table_rules(t) {
            let Some(r) = tables.rule(id).filter(|r| !r.is_hidden()) else { continue };
            let priority = r.priority() as u16;
            out.insert((t, priority, r.match_().to_text(priority)));
        }
    }
    out
}

/// The switch the simulator drives.
pub type Agent = Switch;
