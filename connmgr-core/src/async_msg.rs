//! Asynchronous messages the owner hands to the `ConnMgr`: packet-ins, port status, flow removed,
//! table status and requestforward, each with the facts connection management routes on.

use bytes::Bytes;
use ofp_proto::msg::port::{Port, PortReason};
use ofp_proto::msg::status::ForwardReason;
use ofp_proto::msg::{FlowRemoved, PacketIn, TableStatus};

use crate::owner::ConnId;

/// A packet-in: the message body, built by the owner, encoded per connection in its version and
/// packet-in format, plus what connection management routes on.
#[derive(Clone, Debug, PartialEq)]
pub struct AsyncPacketIn {
    pub pin: PacketIn,
    /// The reason as a bit number of the async configuration (`async_cfg::packet_in_reason`),
    /// OVS's internal miss reasons included.
    pub reason: u32,
    /// Only connections with this controller id get it (0 unless the controller action named one).
    pub controller_id: u16,
    /// The input port (OF1.1+ numbering): rate-limited packet-ins queue per input port.
    pub in_port: u32,
}

impl AsyncPacketIn {
    /// Miss packet-ins and the others have separate rate limiters (OVS `is_miss`).
    pub fn is_miss(&self) -> bool {
        use ofp_proto::msg::async_cfg::packet_in_reason::{EXPLICIT_MISS, IMPLICIT_MISS, NO_MATCH};
        matches!(self.reason, NO_MATCH | EXPLICIT_MISS | IMPLICIT_MISS)
    }
}

/// A port was added, deleted or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortChange {
    /// The connection whose port mod caused it: below OF1.5 it does not get the port status.
    pub source: Option<ConnId>,
    pub reason: PortReason,
    /// For `Modify`: the description before, so a connection that cannot see the difference in
    /// its version (e.g. OF1.0 and the LIVE bit) is not told.
    pub old: Option<Port>,
    pub new: Port,
}

/// A flow was removed (idle or hard timeout, delete, group/meter delete, eviction).
#[derive(Clone, Debug, PartialEq)]
pub struct AsyncFlowRemoved {
    /// `OFPRR_*` value: idle 0, hard 1, delete 2, group delete 3, meter delete 4, eviction 5.
    pub reason: u32,
    /// Encoded per connection: OFPT_FLOW_REMOVED of its version, NXT_FLOW_REMOVED for OF1.0 + NXM.
    pub fr: FlowRemoved,
}

/// A group or meter mod forwarded to the other controllers. OVS re-encodes the forwarded request
/// in each receiver's version, so the owner supplies the request in every version it can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncRequestForward {
    /// The connection that sent the mod; it does not get the forward.
    pub source: Option<ConnId>,
    pub reason: ForwardReason,
    by_version: [Option<Bytes>; 6],
}

impl AsyncRequestForward {
    pub fn new(source: Option<ConnId>, reason: ForwardReason) -> AsyncRequestForward {
        AsyncRequestForward { source, reason, by_version: Default::default() }
    }

    /// Gives the forwarded request encoded in `version` (1..=6, header and original xid included).
    pub fn with_request(mut self, version: u8, request: Bytes) -> AsyncRequestForward {
        if let Some(slot) = self.by_version.get_mut(usize::from(version).wrapping_sub(1)) {
            *slot = Some(request);
        }
        self
    }

    /// The request for `version`, if the owner gave one.
    pub fn request(&self, version: u8) -> Option<&Bytes> {
        self.by_version.get(usize::from(version).wrapping_sub(1))?.as_ref()
    }
}

/// Everything the owner may send to controllers on its own initiative.
#[derive(Clone, Debug, PartialEq)]
pub enum AsyncMsg {
    PacketIn(AsyncPacketIn),
    PortStatus(PortChange),
    FlowRemoved(AsyncFlowRemoved),
    /// OF1.4+ only.
    TableStatus(TableStatus),
    RequestForward(AsyncRequestForward),
}
