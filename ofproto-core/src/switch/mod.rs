//! [`Switch`]: the whole switch as one deterministic state machine — connection management
//! (`ConnMgr`), the flow tables (`OfProto`), the ports and packet path, and the upcall dispatcher
//! (`Udpif`) — driven alike by the daemon, a simulator and a fuzzer.
//!
//! # Driving it
//!
//! Inputs are `handle_*(now, …)` calls; after each, drain the outputs: [`Switch::poll_output`]
//! (transports to open, close, listen on), [`Switch::poll_transmit`] per connection (bytes to
//! write), [`Switch::poll_packet_out`] (frames leaving ports), [`Switch::poll_conn_event`]
//! (connections up and down). [`Switch::poll_timeout`] says when [`Switch::handle_timeout`] next
//! has work (a past instant means now): it reads received messages, runs the upcall handlers on
//! received frames, fires timers, completes datapath operations. No clock, no randomness but the
//! seed, no I/O: the same configuration, seed and inputs at the same instants give the same
//! outputs, byte for byte.
//!
//! # One frame, end to end
//!
//! [`Switch::handle_frame`] counts the frame on its port and hands a miss upcall (with the flow key
//! a datapath would report) to the `Udpif`; the next step runs the handlers: they extract each
//! flow, merge packets of equal flows, and translate each flow once through the tables (`xlate`),
//! crediting rules; the datapath executes the actions on every packet in arrival order (frames to
//! [`Switch::poll_packet_out`]); flows with controller actions are translated again per packet
//! for their packet-ins, which go to `ConnMgr::send_async`.
//!
//! # Where this differs from OVS 3.1
//!
//! - No datapath flow cache: every packet is a miss, translated in its handler batch (so table
//!   changes need no revalidation; OVS would install a datapath flow).
//! - Fail-open traffic is shown to controllers as NO_MATCH packet-ins (OVS 2.0's behaviour, kept
//!   by upcall-core); OVS 3.1 only sends its periodic bogus packet-ins.
//! - A table miss on a port with NO_PACKET_IN drops (OVS 3.1 honours the bit only under an
//!   explicit table-miss configuration; OVS 2.0 always).
//! - No groups and no meters: group and meter actions and the meter instruction are refused when
//!   the flow or packet out arrives (OFPBAC_BAD_OUT_GROUP, OFPMMFC_INVALID_METER, as for ones that
//!   do not exist), and so are what the packet path does not implement — set-field of MPLS and ND
//!   fields (OFPBAC_BAD_SET_TYPE) and pausing controller actions (OFPBAC_BAD_TYPE). Queue and
//!   tunnel-id actions are accepted and change nothing on the built-in ports, as on OVS's dummy
//!   ports. Group, meter and queue requests get OVS's answers for a switch without any
//!   (`absent.rs`), without bucket and band validation and without requestforward.
//! - MPLS, conntrack, learn, multipath, bundle and sample actions are not in the codec at all;
//!   STP, bonds, mirrors, VLAN port modes and multicast snooping are not in NORMAL.

mod absent;
mod bridge;
mod commit;
mod normal;
mod odp;
mod packet;
mod ports;
mod requests;
mod status;
mod support;
mod xlate;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use bytes::{Bytes, BytesMut};
use connmgr_core::{AsyncMsg, ConnId, ConnInfo, ConnMgr, ControllerSettings, Event as ConnEvent, FailMode, Output};
use ofp_proto::flow::Flow;
use ofp_proto::msg::stats::DescStats;
use ofp_proto::{Instant, OfpErr};
use rconn_core::{ConnError, ConnName, TargetError};
use upcall_core::Udpif;

use self::bridge::{fail_open_traffic, Bridge, Handler};
use self::ports::PortTable;
use crate::datapath::{Datapath, OpId, TestDatapath};
use crate::ofproto::OfProto;
use crate::owner::WithSwitch;

pub use self::bridge::{PacketCounters, MAX_OUT_QUEUE};
pub use self::normal::{MAC_IDLE_MS, MAC_MAX};
pub use self::ports::PortCounters;
pub use self::status::{PortStatus, SwitchStatus};
pub use self::xlate::{MAX_ACTIONS, MAX_DEPTH, MAX_RESUBMITS};

/// Connection events kept for [`Switch::poll_conn_event`]; older ones are dropped.
pub const MAX_CONN_EVENTS: usize = 1024;

/// How a [`Switch`] is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The bridge name: connection names, log lines, the LOCAL port's name.
    pub bridge: String,
    pub datapath_id: u64,
    /// Ports 1..=n_ports, named p1..pN (LOCAL comes on top).
    pub n_ports: u16,
    pub fail_mode: FailMode,
    /// Active and passive targets in OVS syntax ("tcp:IP:PORT", "ptcp:PORT", "unix:PATH", …).
    pub controllers: BTreeMap<String, ControllerSettings>,
    /// Passive targets snoop connections are accepted on.
    pub snoops: BTreeSet<String>,
    /// Seconds a bundle may stay idle; 0 means OVS's default (10).
    pub bundle_idle_timeout: u32,
    /// Seeds everything random: pinsched tie-breaks, fail-open addresses, the upcall hash.
    pub seed: u64,
    /// Milliseconds each flow-table operation takes in the built-in datapath ("slow hardware").
    pub datapath_delay_ms: u64,
    /// Upcall handlers (OVS `n-handler-threads`); 1..=64.
    pub n_handlers: usize,
    /// `DP Description` and `Serial Num` of the description reply ("None" as in OVS when unset).
    pub dp_desc: String,
    pub serial_num: String,
}

impl Default for Config {
    /// OVS's defaults where it has them: standalone fail mode, one handler.
    fn default() -> Config {
        Config {
            bridge: "br0".into(),
            datapath_id: 0x0000_aa55_aa55_ff01,
            n_ports: 4,
            fail_mode: FailMode::Standalone,
            controllers: BTreeMap::new(),
            snoops: BTreeSet::new(),
            bundle_idle_timeout: 0,
            seed: 0,
            datapath_delay_ms: 0,
            n_handlers: 1,
            dp_desc: "None".into(),
            serial_num: "None".into(),
        }
    }
}

/// A frame for a port the switch does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoSuchPort(pub u32);

impl fmt::Display for NoSuchPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no such port {}", self.0)
    }
}

impl std::error::Error for NoSuchPort {}

/// A splitmix64 step: spreads the seed into the upcall hash secret.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The switch. See the module docs.
pub struct Switch<D = TestDatapath> {
    mgr: ConnMgr,
    tables: OfProto<D>,
    bridge: Bridge,
    udpif: Udpif<Flow>,
    /// Frames dispatched to handlers since the last step.
    upcalls_pending: bool,
    conn_events: VecDeque<ConnEvent>,
    config_errors: Vec<TargetError>,
}

impl Switch<TestDatapath> {
    /// A switch on the built-in datapath, configured at `now`.
    pub fn new(now: Instant, cfg: &Config) -> Switch<TestDatapath> {
        Switch::with_datapath(now, cfg, TestDatapath::builtin(cfg.datapath_delay_ms))
    }
}

impl<D: Datapath> Switch<D> {
    /// A switch whose flow tables program `dp` (a hardware datapath; the packet path stays
    /// in software).
    pub fn with_datapath(now: Instant, cfg: &Config, dp: D) -> Switch<D> {
        let mut tables = OfProto::new(crate::Config::default(), dp);
        tables.set_action_check(support::check_instructions);
        tables.datapath_mut().handle_timeout(now);
        let desc = DescStats {
            mfr_desc: "ofagent".into(),
            hw_desc: "ofagent userspace switch".into(),
            sw_desc: env!("CARGO_PKG_VERSION").into(),
            serial_num: cfg.serial_num.clone(),
            dp_desc: cfg.dp_desc.clone(),
        };
        let ports = PortTable::new(&cfg.bridge, cfg.datapath_id, cfg.n_ports, now);
        let mut sw = Switch {
            mgr: ConnMgr::new(connmgr_core::Config { name: cfg.bridge.clone(), seed: cfg.seed }),
            tables,
            bridge: Bridge::new(&cfg.bridge, ports, cfg.datapath_id, desc),
            udpif: Udpif::new(mix(cfg.seed) as u32, cfg.n_handlers),
            upcalls_pending: false,
            conn_events: VecDeque::new(),
            config_errors: Vec::new(),
        };
        sw.mgr.set_bundle_idle_timeout(cfg.bundle_idle_timeout);
        let mut errors = sw.mgr.set_snoops(&cfg.snoops);
        errors.extend(sw.set_controllers(now, &cfg.controllers));
        sw.set_fail_mode(now, cfg.fail_mode);
        sw.config_errors = errors;
        sw
    }

    /// Targets of the configuration that did not parse (they were left out).
    pub fn config_errors(&self) -> &[TargetError] {
        &self.config_errors
    }

    // ----- routing -----

    /// Calls `f` with the connection manager and the owner of the tables (the tables beside the
    /// port and packet state), then hands the tables' events to the connection manager.
    fn with_owner<R>(&mut self, now: Instant, f: impl FnOnce(&mut ConnMgr, &mut WithSwitch<'_, D, Bridge>) -> R) -> R {
        self.bridge.miss_to_controller = self.mgr.wants_packet_in_on_miss();
        let r = f(&mut self.mgr, &mut WithSwitch { tables: &mut self.tables, switch: &mut self.bridge });
        self.forward(now);
        r
    }

    /// Hands the tables' events to the connection manager and keeps its connection events.
    fn forward(&mut self, now: Instant) {
        self.tables.forward_events(now, &mut self.mgr);
        while let Some(e) = self.mgr.poll_event() {
            if self.conn_events.len() == MAX_CONN_EVENTS {
                self.conn_events.pop_front();
            }
            self.conn_events.push_back(e);
        }
    }

    // ----- configuration -----

    /// Reconfigures the controllers, listeners (passive targets) and their settings (OVS
    /// `connmgr_set_controllers`); returns the targets that did not parse.
    pub fn set_controllers(
        &mut self,
        now: Instant,
        controllers: &BTreeMap<String, ControllerSettings>,
    ) -> Vec<TargetError> {
        self.with_owner(now, |mgr, owner| mgr.set_controllers(now, controllers, owner))
    }

    pub fn set_fail_mode(&mut self, now: Instant, mode: FailMode) {
        self.with_owner(now, |mgr, owner| mgr.set_fail_mode(now, mode, owner));
    }

    pub fn set_snoops(&mut self, targets: &BTreeSet<String>) -> Vec<TargetError> {
        self.mgr.set_snoops(targets)
    }

    /// Drops and re-establishes every controller connection (OVS `connmgr_reconnect`).
    pub fn reconnect(&mut self, now: Instant) {
        self.mgr.reconnect(now);
        self.forward(now);
    }

    // ----- transports (connmgr's API) -----

    /// A connection arrived on passive target `listener` from `peer`; `None`: close it.
    pub fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId> {
        let id = self.mgr.handle_accept(now, listener, peer);
        self.forward(now);
        id
    }

    pub fn handle_listen_error(&mut self, now: Instant, target: &str, err: ConnError) {
        self.mgr.handle_listen_error(now, target, err);
        self.forward(now);
    }

    pub fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        self.mgr.handle_connected(now, conn);
        self.forward(now);
    }

    pub fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        self.mgr.handle_open_failed(now, conn, err);
        self.forward(now);
    }

    pub fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        self.mgr.handle_error(now, conn, err);
        self.forward(now);
    }

    /// Bytes received on `conn`; the next [`Switch::handle_timeout`] reads the messages.
    pub fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        self.mgr.handle_bytes(now, conn, data);
        self.forward(now);
    }

    /// `conn`'s receive buffer, to read the transport straight into; then call
    /// [`Switch::handle_received`] (see `ConnMgr::recv_buffer`).
    pub fn recv_buffer(&mut self, conn: ConnId) -> Option<&mut BytesMut> {
        self.mgr.recv_buffer(conn)
    }

    /// Bytes were appended to [`Switch::recv_buffer`]: as [`Switch::handle_bytes`] after its copy.
    pub fn handle_received(&mut self, now: Instant, conn: ConnId) {
        self.mgr.handle_received(now, conn);
        self.forward(now);
    }

    pub fn handle_eof(&mut self, now: Instant, conn: ConnId) {
        self.mgr.handle_eof(now, conn);
        self.forward(now);
    }

    /// The log name of `conn` (see `ConnMgr::conn_name`).
    pub fn conn_name(&self, conn: ConnId) -> Option<ConnName> {
        self.connmgr().conn_name(conn)
    }

    /// Whether to read more from `conn` now (see `ConnMgr::may_read`).
    pub fn may_read(&self, conn: ConnId) -> bool {
        self.mgr.may_read(conn)
    }

    /// The next bytes to write on `conn`.
    pub fn poll_transmit(&mut self, now: Instant, conn: ConnId) -> Option<Bytes> {
        self.mgr.poll_transmit(now, conn)
    }

    /// The next transport action (connect, close, listen, unlisten).
    pub fn poll_output(&mut self) -> Option<Output> {
        self.mgr.poll_output()
    }

    /// The next connection event (an OpenFlow connection up, or gone).
    pub fn poll_conn_event(&mut self) -> Option<ConnEvent> {
        self.conn_events.pop_front()
    }

    pub fn conn_info(&self, conn: ConnId) -> Option<ConnInfo> {
        self.mgr.conn_info(conn)
    }

    // ----- the step -----

    /// When [`Switch::handle_timeout`] next has work; a past instant means now.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let work = (self.upcalls_pending || self.udpif.main_pending()).then_some(Instant::ZERO);
        [self.mgr.poll_timeout(), self.tables.poll_timeout(), self.tables.datapath().poll_timeout(), work]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs everything due at `now`: datapath completions, flow expiry, connection management
    /// (timers, reading up to 50 messages per connection and handing requests to the tables and
    /// ports), the upcall handlers, MAC aging.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tables.datapath_mut().handle_timeout(now);
        self.tables.run(now);
        self.tables.handle_timeout(now);
        self.forward(now);
        self.with_owner(now, |mgr, owner| mgr.handle_timeout(now, owner));
        self.run_upcalls(now);
        self.bridge.mac.expire(now);
    }

    /// Runs the upcall handlers on what was received, then sends the packet-ins they made.
    fn run_upcalls(&mut self, now: Instant) {
        if !self.upcalls_pending && !self.udpif.main_pending() {
            return;
        }
        self.upcalls_pending = false;
        self.bridge.miss_to_controller = self.mgr.wants_packet_in_on_miss();
        let mut pins = Vec::new();
        {
            let (mut env, mut dpif) = self.bridge.parts(&mut self.tables, now);
            let mut handler = Handler { env: &mut env, pins: &mut pins };
            self.udpif.run_handlers(now, &mut handler, &mut dpif);
        }
        self.bridge.pkt.packet_ins += pins.len() as u64;
        self.forward(now);
        for pin in pins {
            self.mgr.send_async(now, AsyncMsg::PacketIn(pin));
        }
        // Without a datapath flow cache there is nothing to install, no drop flows and no samples.
        while self.udpif.flow_miss_batch_next().is_some() {}
        while self.udpif.drop_key_next().is_some() {}
        while self.udpif.upcall_next().is_some() {}
        while let Some(p) = self.udpif.packet_in_next() {
            self.mgr.send_async(now, AsyncMsg::PacketIn(fail_open_traffic(p)));
        }
        self.forward(now);
    }

    // ----- the datapath -----

    /// A frame arrived on port `port` (1..=N, or LOCAL `0xfffffffe`). The next step forwards it.
    pub fn handle_frame(&mut self, now: Instant, port: u32, frame: Bytes) -> Result<(), NoSuchPort> {
        if self.bridge.ports.get(port).is_none() {
            return Err(NoSuchPort(port));
        }
        if let Some(upcall) = self.bridge.receive(port, frame) {
            if let upcall_core::Dispatch::MissQueueOverflow(_) = self.udpif.handle_upcall(now, upcall) {
                if let Some(i) = self.bridge.ports.index(port) {
                    self.bridge.counters[i].rx_dropped += 1;
                }
            }
            self.udpif.end_recv_round();
            self.upcalls_pending = true;
        }
        Ok(())
    }

    /// The next frame leaving a port: (port, frame).
    pub fn poll_packet_out(&mut self) -> Option<(u32, Bytes)> {
        self.bridge.out.pop_front()
    }

    /// Sets port `port`'s link up or down; a change goes to controllers as a port status.
    pub fn set_port_link(&mut self, now: Instant, port: u32, up: bool) -> Result<(), NoSuchPort> {
        self.bridge.ports.get(port).ok_or(NoSuchPort(port))?;
        if let Some(status) = self.bridge.set_link(port, up) {
            self.mgr.send_async(now, status);
            self.forward(now);
        }
        Ok(())
    }

    /// Reports that datapath operation `op` completed (for a datapath that completes later).
    pub fn complete_datapath_op(&mut self, now: Instant, op: OpId, result: Result<(), OfpErr>) {
        self.tables.complete(now, op, result);
        self.forward(now);
    }

    pub fn datapath(&self) -> &D {
        self.tables.datapath()
    }

    pub fn datapath_mut(&mut self) -> &mut D {
        self.tables.datapath_mut()
    }

    /// The flow tables, to look at.
    pub fn tables(&self) -> &OfProto<D> {
        &self.tables
    }

    pub fn connmgr(&self) -> &ConnMgr {
        &self.mgr
    }
}
