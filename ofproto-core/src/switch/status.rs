//! What an operator asks the switch about (the daemon's `status`): controllers with OVS's keys,
//! flows, ports with their counters, upcall counters, queue figures.

use std::collections::BTreeMap;

use connmgr_core::{ControllerInfo, FailMode};
use ofp_proto::Instant;

use super::ports::PortCounters;
use super::Switch;
use crate::datapath::Datapath;

/// One port's state and counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortStatus {
    pub port_no: u32,
    pub name: String,
    /// `OFPPC_*` config bits.
    pub config: u32,
    /// `OFPPS_*` state bits.
    pub state: u32,
    pub counters: PortCounters,
}

/// A snapshot of the switch (see `Switch::status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchStatus {
    pub bridge: String,
    pub datapath_id: u64,
    pub fail_mode: FailMode,
    /// Active controller targets, as `ConnMgr::controller_info` gives them (OVS's Controller
    /// table keys: `is_connected`, `role`, `state`, `last_error`, `sec_since_*`, `packet-in-*`).
    pub controllers: BTreeMap<String, ControllerInfo>,
    /// True while failing open.
    pub fail_open_active: bool,
    /// Flows OpenFlow sees, in every visible table.
    pub flows: u64,
    /// In port order, LOCAL last.
    pub ports: Vec<PortStatus>,
    /// upcall-core's counters under OVS's coverage names, and what became of received frames
    /// (`frames_*`, `packet_ins`, `packet_out_frames`).
    pub upcalls: BTreeMap<String, u64>,
    /// Queue lengths: upcall queues, frames waiting to leave, MAC table size, messages queued to
    /// controllers, packet-ins dropped for queue overflow, pending flow-table operations.
    pub queues: BTreeMap<String, u64>,
}

impl<D: Datapath> Switch<D> {
    /// Everything `status` shows, at `now`.
    pub fn status(&self, now: Instant) -> SwitchStatus {
        let ports = (self.bridge.ports.iter())
            .zip(&self.bridge.counters)
            .map(|(p, c)| PortStatus {
                port_no: p.desc.port_no,
                name: p.desc.name.to_string_lossy(),
                config: p.desc.config,
                state: p.desc.state,
                counters: *c,
            })
            .collect();
        let mut upcalls: BTreeMap<String, u64> =
            self.udpif.counters().iter().map(|(k, v)| (k.to_string(), v)).collect();
        let pkt = &self.bridge.pkt;
        for (k, v) in [
            ("frames_received", pkt.frames_received),
            ("frames_port_down", pkt.frames_port_down),
            ("frames_forwarded", pkt.frames_forwarded),
            ("frames_unsent", pkt.frames_unsent),
            ("packet_ins", pkt.packet_ins),
            ("packet_out_frames", pkt.packet_out_frames),
        ] {
            upcalls.insert(k.to_string(), v);
        }
        let u = &self.udpif;
        let mem = self.mgr.memory_usage();
        let overflow: u64 = self.mgr.conn_ids().filter_map(|c| self.mgr.n_packet_in_overflow(c)).sum();
        let handler_queue: usize = (0..u.n_handlers()).map(|i| u.handler_queue_len(i)).sum();
        let queues = [
            ("handler_queue", handler_queue),
            ("upcalls_in_flight", u.in_flight()),
            ("fail_open_packet_in_queue", u.packet_in_queue_len()),
            ("frames_out_queue", self.bridge.out.len()),
            ("mac_entries", self.bridge.mac.len()),
            ("ofconns", mem.ofconns),
            ("controller_tx_packets", mem.packets),
            ("packet_in_queue_overflow", overflow as usize),
            ("pending_op_groups", self.tables.n_pending_groups()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v as u64))
        .collect();
        SwitchStatus {
            bridge: self.bridge.name.clone(),
            datapath_id: self.bridge.datapath_id,
            fail_mode: self.mgr.fail_mode(),
            controllers: self.mgr.controller_info(now),
            fail_open_active: self.mgr.is_fail_open_active(),
            flows: self.tables.n_visible_flows() as u64,
            ports,
            upcalls,
            queues,
        }
    }
}
