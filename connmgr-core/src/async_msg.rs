//! Asynchronous messages the owner hands to the `ConnMgr`: packet-ins, port status, flow removed,
//! table status and requestforward, each with the facts connection management routes on, and
//! their routing to the connections that get them (OVS `connmgr_send_*`).

use bytes::{Bytes, BytesMut};
use log::info;
use ofp_proto::msg::async_cfg::AsyncMsgType;
use ofp_proto::msg::port::{Port, PortReason};
use ofp_proto::msg::status::{ForwardReason, RequestForward};
use ofp_proto::msg::{Body, Cx, FlowRemoved, PacketIn, PacketInFormat, PortStatus, TableStatus};
use ofp_proto::{header, raw, Instant, Message, MsgType, OfpMsg, Raw};
use rconn_core::SendError;

use crate::connmgr::ConnMgr;
use crate::ofconn::{OfConn, MISS, PACKET_INS};
use crate::owner::ConnId;
use crate::pinsched::Scheduled;
use crate::vlog::RateLimit;

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

// ----- routing (OVS `connmgr_send_*`) -----

/// Encodes `body` in `raw` with xid 0, as OVS sends asynchronous messages.
fn encode_async<B: Body>(body: &B, version: u8, raw: Raw) -> Bytes {
    let mut buf = BytesMut::with_capacity(128);
    let start = raw.put_headers(version, 0, 0, &mut buf);
    body.encode(Cx { version, raw }, &mut buf);
    raw::finish_msg(&mut buf, start);
    buf.freeze()
}

/// A packet-in in the form a connection asked for (OVS `ofputil_encode_packet_in_private`).
fn encode_packet_in(pin: &PacketIn, version: u8, format: PacketInFormat) -> Option<Bytes> {
    let raw = match format {
        PacketInFormat::Standard => Raw::for_type(MsgType::PacketIn, version)?,
        PacketInFormat::Nxt => Raw::NxtPacketIn,
        PacketInFormat::Nxt2 => Raw::NxtPacketIn2,
    };
    raw.supports_version(version).then(|| encode_async(pin, version, raw))
}

/// Remembers one encoding per key within a single routing pass.
struct Encodings<K>(Vec<(K, Option<Bytes>)>);

impl<K: PartialEq + Copy> Encodings<K> {
    fn new() -> Self {
        Encodings(Vec::new())
    }

    fn get(&mut self, key: K, encode: impl FnOnce() -> Option<Bytes>) -> Option<Bytes> {
        if let Some((_, b)) = self.0.iter().find(|(k, _)| *k == key) {
            return b.clone();
        }
        let b = encode();
        self.0.push((key, b.clone()));
        b
    }
}

/// Queues a packet-in within the connection's queue limit (OVS `do_send_packet_ins`).
fn transmit_packet_in(now: Instant, c: &mut OfConn, msg: Bytes, rl: &mut RateLimit) {
    if let Err(SendError::Overflow) = c.rconn.send_with_limit(now, msg, PACKET_INS, c.queue_size) {
        c.n_queue_overflow += 1;
        if rl.allow(now, "connmgr", log::Level::Info) {
            info!(target: "connmgr", "{}: dropping packet-in due to queue overflow", c.rconn.name());
        }
    }
}

impl ConnMgr {
    /// Sends an asynchronous message to every connection that should get it.
    pub fn send_async(&mut self, now: Instant, msg: AsyncMsg) {
        self.route_async(now, msg);
        // Sending changes no rconn state; only snoops get something (copies) to pass on.
        if self.n_snoops > 0 {
            self.pump_all(now);
        }
    }

    pub(crate) fn route_async(&mut self, now: Instant, msg: AsyncMsg) {
        match msg {
            AsyncMsg::PacketIn(p) => self.route_packet_in(now, &p),
            AsyncMsg::PortStatus(pc) => self.route_port_status(now, &pc),
            AsyncMsg::FlowRemoved(fr) => self.route_flow_removed(now, &fr),
            AsyncMsg::TableStatus(ts) => self.route_table_status(now, &ts),
            AsyncMsg::RequestForward(rf) => self.route_requestforward(now, &rf),
        }
    }

    /// OVS `connmgr_send_async_msg`: to connected connections with the packet-in's controller id
    /// that want its reason, through their rate limiter and queue limit.
    pub(crate) fn route_packet_in(&mut self, now: Instant, p: &AsyncPacketIn) {
        let mut encodings = Encodings::new();
        let sched = if p.is_miss() { MISS } else { 0 };
        let ConnMgr { conns, overflow_rl, .. } = self;
        for c in conns.values_mut() {
            let Some(proto) = c.protocol else { continue };
            if c.controller_id != p.controller_id || !c.receives(AsyncMsgType::PacketIn, p.reason) {
                continue;
            }
            let (version, format) = (proto.version(), c.packet_in_format);
            let Some(msg) = encodings.get((version, format), || encode_packet_in(&p.pin, version, format)) else {
                continue;
            };
            let msg = match c.scheduler_mut(sched) {
                None => msg,
                Some(ps) => match ps.send(now, p.in_port, msg) {
                    Scheduled::Now(msg) => msg,
                    Scheduled::Queued { .. } => continue,
                },
            };
            transmit_packet_in(now, c, msg, overflow_rl);
        }
    }

    /// A packet-in released by `id`'s rate limiter.
    pub(crate) fn send_packet_in_now(&mut self, now: Instant, id: ConnId, msg: Bytes) {
        let ConnMgr { conns, overflow_rl, .. } = self;
        if let Some(c) = conns.get_mut(&id) {
            transmit_packet_in(now, c, msg, overflow_rl);
        }
    }

    /// OVS `connmgr_send_port_status`: not back to the controller whose port mod caused it before
    /// OF1.5, and not when the change is invisible in the connection's version.
    fn route_port_status(&mut self, now: Instant, pc: &PortChange) {
        let mut new = Encodings::new();
        let mut old = Encodings::new();
        let encode = |desc: &Port, v: u8| {
            let body = Message::PortStatus(PortStatus { reason: pc.reason, desc: desc.clone() });
            OfpMsg::try_new(v, 0, body).map(|m| m.to_bytes())
        };
        for c in self.conns.values_mut() {
            let Some(v) = c.protocol.map(|p| p.version()) else { continue };
            if !c.receives(AsyncMsgType::PortStatus, pc.reason as u32) {
                continue;
            }
            if pc.source == Some(c.id) && v < header::OFP15_VERSION {
                continue;
            }
            let Some(msg) = new.get(v, || encode(&pc.new, v)) else { continue };
            if let (PortReason::Modify, Some(before)) = (pc.reason, &pc.old) {
                if old.get(v, || encode(before, v)).as_ref() == Some(&msg) {
                    continue;
                }
            }
            c.send(now, msg);
        }
    }

    /// OVS `connmgr_send_flow_removed`: counted as a reply, so a controller that does not read
    /// them stops being read (and so stops adding flows).
    fn route_flow_removed(&mut self, now: Instant, fr: &AsyncFlowRemoved) {
        let mut encodings = Encodings::new();
        for c in self.conns.values_mut() {
            let Some(proto) = c.protocol else { continue };
            if !c.receives(AsyncMsgType::FlowRemoved, fr.reason) {
                continue;
            }
            let v = proto.version();
            let raw = if proto.is_nxm() { Some(Raw::NxtFlowRemoved) } else { Raw::for_type(MsgType::FlowRemoved, v) };
            let Some(msg) = encodings.get((v, raw), || raw.map(|r| encode_async(&fr.fr, v, r))) else { continue };
            c.send_reply(now, msg);
        }
    }

    /// OVS `connmgr_send_table_status` (OF1.4+).
    fn route_table_status(&mut self, now: Instant, ts: &TableStatus) {
        let mut encodings = Encodings::new();
        for c in self.conns.values_mut() {
            let Some(v) = c.protocol.map(|p| p.version()) else { continue };
            if !c.receives(AsyncMsgType::TableStatus, ts.reason as u32) {
                continue;
            }
            let encode = || OfpMsg::try_new(v, 0, Message::TableStatus(*ts)).map(|m| m.to_bytes());
            if let Some(msg) = encodings.get(v, encode) {
                c.send(now, msg);
            }
        }
    }

    /// OVS `connmgr_send_requestforward`: to everyone but the source; meter mods only from OF1.3.
    fn route_requestforward(&mut self, now: Instant, rf: &AsyncRequestForward) {
        let mut encodings = Encodings::new();
        for c in self.conns.values_mut() {
            let Some(v) = c.protocol.map(|p| p.version()) else { continue };
            if rf.reason == ForwardReason::MeterMod && v < header::OFP13_VERSION {
                continue;
            }
            if !c.receives(AsyncMsgType::RequestForward, rf.reason as u32) || rf.source == Some(c.id) {
                continue;
            }
            let encode = || {
                let body = RequestForward { reason: rf.reason, request: rf.request(v)?.clone() };
                OfpMsg::try_new(v, 0, Message::Requestforward(body)).map(|m| m.to_bytes())
            };
            if let Some(msg) = encodings.get(v, encode) {
                c.send(now, msg);
            }
        }
    }
}
