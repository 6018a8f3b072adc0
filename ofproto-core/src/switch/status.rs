//! What an operator asks the switch about (the daemon's `status`): controllers with OVS's keys,
//! flows, ports with their counters, upcall counters, queue figures.

use std::collections::BTreeMap;

use connmgr_core::{ControllerInfo, FailMode};

use super::ports::PortCounters;

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
