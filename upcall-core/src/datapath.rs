//! What upcall-core is handed by the layers around it: the datapath (receive upcalls, execute operations) and
//! the ofproto side (receive a flow from a key and packet, look up and translate it).

use std::hash::Hash;

use bytes::Bytes;

use crate::handler::MissStats;
use crate::upcall::DpifUpcall;

/// The receive side of a datapath (OVS `dpif_recv`).
pub trait DpifRecv {
    /// The next pending upcall, or `None` when there is nothing more to read this round.
    fn recv(&mut self) -> Option<DpifUpcall>;
}

/// One datapath operation (OVS `struct dpif_op`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DpifOp {
    /// Install or modify a datapath flow (`DPIF_OP_FLOW_PUT` with create|modify). Empty actions drop.
    FlowPut { key: Bytes, actions: Bytes },
    /// Run `actions` on `packet` (`DPIF_OP_EXECUTE`); `key` is the flow key of the packet's miss.
    Execute { key: Bytes, packet: Bytes, actions: Bytes },
}

/// The operate side of a datapath (OVS `dpif_operate`). A handler calls it once per batch.
pub trait DpifOperate {
    /// Carries out `ops` in order. Failures are the datapath's to report; handlers do not look at them.
    fn operate(&mut self, ops: &[DpifOp]);
}

/// Why a flow could not be received from an upcall (the error of OVS `xlate_receive`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiveError {
    /// The datapath port belongs to no bridge (`ENODEV`): the handler queues a drop key for the key.
    NoDevice { odp_port: u32 },
    /// Anything else (an unparseable key, ...): the upcall is dropped.
    Invalid,
}

/// A flow received from an upcall (OVS `xlate_receive` + `flow_extract`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received<F> {
    /// The flow, including whatever identifies its bridge: upcalls are merged when their flows are equal.
    pub flow: F,
    /// OpenFlow input port, reported in fail-open packet-ins.
    pub in_port: u32,
    /// TCP flags of this packet (0 if not TCP), OR-ed into the miss statistics.
    pub tcp_flags: u16,
}

/// The result of looking up and translating one flow miss (OVS `rule_dpif_lookup` + `xlate_actions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Xlated {
    /// Datapath actions (netlink `OVS_ACTION_ATTR_*`); empty means drop, and no execute operation is issued.
    pub actions: Bytes,
    /// The flow must be slow-pathed: each packet is translated again on its own for its side effects.
    pub slow: bool,
    /// The matching rule is the fail-open rule: every packet of the batch goes to the controllers.
    pub fail_open: bool,
}

/// Flow lookup and translation, implemented above upcall-core (ofproto-core) and handed to handlers.
pub trait Xlate {
    /// A flow as the flow tables see it. Two upcalls with equal flows form one flow miss.
    type Flow: Hash + Eq;

    /// Extracts the flow of one upcall from its key and packet.
    fn receive(&mut self, key: &Bytes, packet: &Bytes) -> Result<Received<Self::Flow>, ReceiveError>;

    /// Looks up the rule for `flow`, credits it with `stats` and translates it, once per flow miss.
    fn lookup_and_translate(&mut self, flow: &Self::Flow, stats: &MissStats) -> Xlated;

    /// Translates one packet of a slow-pathed flow again for its side effects (CFM, LACP, STP, BFD,
    /// controller actions), in arrival order.
    fn translate_for_side_effects(&mut self, flow: &Self::Flow, packet: &Bytes);
}
