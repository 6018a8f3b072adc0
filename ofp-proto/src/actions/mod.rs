//! Version-independent actions (OVS `ofpact`s) with their OpenFlow 1.0–1.5 and Nicira codecs,
//! OVS's consistency checks against a match, and OVS's text (`ofpacts_format`).
//!
//! Wire forms are remembered where OVS remembers them (e.g. `strip_vlan` vs `pop_vlan`,
//! `load` vs `set_field`) so that text and re-encoding match what came in.

mod check;
pub(crate) mod decode;
pub(crate) mod encode;
mod format;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::flow::EthAddr;
use crate::mf::MfId;

pub use check::{check_actions, check_instructions, check_output_port, CheckParams};
pub use decode::{decode_action_set, decode_actions};
pub(crate) use decode::{decode_items, Item};
pub use encode::encode_actions;

/// A decoded action list; up to two actions stay inline (rules and flow mods hold two lists, so a
/// larger inline capacity costs every flow table entry memory most never use).
pub type ActionList = SmallVec<[Action; 2]>;

/// Packet-in reasons (OFPR_*), as carried by `controller` actions and packet-ins.
pub const OFPR_NO_MATCH: u8 = 0;
pub const OFPR_ACTION: u8 = 1;
pub const OFPR_INVALID_TTL: u8 = 2;
pub const OFPR_ACTION_SET: u8 = 3;
pub const OFPR_GROUP: u8 = 4;
pub const OFPR_PACKET_OUT: u8 = 5;

/// Largest meter id (OFPM13_MAX); ids above are reserved.
pub const OFPM13_MAX: u32 = 0xffff_0000;

/// Which wire action a `SetField` came from, so it goes back out the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetFieldRaw {
    /// OFPAT_SET_FIELD (or a legacy set action in OF1.0/1.1).
    SetField,
    /// NXAST_REG_LOAD ("load:").
    RegLoad,
    /// NXAST_REG_LOAD2.
    RegLoad2,
}

/// Set field `field` to `value` in the bits of `mask` (whole-field sets have an all-ones mask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SetField {
    pub field: MfId,
    pub value: u128,
    pub mask: u128,
    pub raw: SetFieldRaw,
    /// Set by `check`: the flow had a VLAN tag (used when encoding vlan_tci to OF1.1).
    pub flow_has_vlan: bool,
}

impl SetField {
    pub fn new(field: MfId, value: u128) -> SetField {
        SetField { field, value, mask: field.all_ones(), raw: SetFieldRaw::SetField, flow_has_vlan: false }
    }
}

/// NXAST_CONTROLLER / NXAST_CONTROLLER2: send to controllers with more control than output.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Controller {
    pub max_len: u16,
    pub controller_id: u16,
    pub reason: u8,
    pub userdata: Bytes,
    pub pause: bool,
    /// 0: no meter.
    pub meter_id: u32,
    /// Came in (or must go out) as NXAST_CONTROLLER2.
    pub v2: bool,
}

impl Default for Controller {
    fn default() -> Self {
        Controller {
            max_len: u16::MAX,
            controller_id: 0,
            reason: OFPR_ACTION,
            userdata: Bytes::new(),
            pause: false,
            meter_id: 0,
            v2: false,
        }
    }
}

/// One action. Port numbers are in the OF1.1+ 32-bit space (see `port_no`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Output to a port; `max_len` matters for CONTROLLER.
    Output {
        port: u32,
        max_len: u16,
    },
    Group(u32),
    Controller(Controller),
    /// OF1.0 enqueue (OF1.1+: set_queue, output, pop_queue).
    Enqueue {
        port: u32,
        queue: u32,
    },
    /// NXAST_OUTPUT_TRUNC.
    OutputTrunc {
        port: u32,
        max_len: u32,
    },
    /// `push_vlan_if_needed` is the OF1.0 form ("mod_vlan_vid"), which adds a tag if there is
    /// none; `flow_has_vlan` is filled in by `check`.
    SetVlanVid {
        vid: u16,
        push_vlan_if_needed: bool,
        flow_has_vlan: bool,
    },
    SetVlanPcp {
        pcp: u8,
        push_vlan_if_needed: bool,
        flow_has_vlan: bool,
    },
    /// `pop_vlan` true for the OF1.1+ form.
    StripVlan {
        pop_vlan: bool,
    },
    PushVlan {
        ethertype: u16,
    },
    SetEthSrc(EthAddr),
    SetEthDst(EthAddr),
    SetIpv4Src(u32),
    SetIpv4Dst(u32),
    /// DSCP in the TOS byte's high 6 bits.
    SetIpDscp(u8),
    SetIpEcn(u8),
    SetIpTtl(u8),
    /// `flow_ip_proto` (from `check`) picks tcp/udp/sctp when encoding as set_field.
    SetL4SrcPort {
        port: u16,
        flow_ip_proto: u8,
    },
    SetL4DstPort {
        port: u16,
        flow_ip_proto: u8,
    },
    SetField(SetField),
    /// Decrement TTL; packet-in to these controller ids when it expires. `cnt_ids_form` when it
    /// came as NXAST_DEC_TTL_CNT_IDS.
    DecTtl {
        cnt_ids: SmallVec<[u16; 2]>,
        cnt_ids_form: bool,
    },
    /// `tun64` when it came as NXAST_SET_TUNNEL64.
    SetTunnel {
        tun_id: u64,
        tun64: bool,
    },
    SetQueue(u32),
    PopQueue,
    /// `in_port` OFPP_IN_PORT keeps the port; `table_id` 255 means the current table. `plain`
    /// when it came as NXAST_RESUBMIT (no table).
    Resubmit {
        in_port: u32,
        table_id: u8,
        with_ct_orig: bool,
        plain: bool,
    },
    Note(Bytes),
    Exit,
    /// OF1.5 meter action.
    Meter(u32),
    CtClear,
}

pub use format::{format_actions, format_instructions, packet_in_reason_name};
