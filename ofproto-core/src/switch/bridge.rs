//! The switch's port and packet state (OVS's `ofproto-dpif` bridge plus the dummy datapath under
//! it): ports and their counters, the MAC learning table, fragment handling, the frames waiting to
//! leave, and the two faces the upcall handlers need — translation ([`Handler`], upcall-core's
//! `Xlate`) and execution ([`Dpif`], upcall-core's `DpifOperate`).

use std::collections::VecDeque;

use bytes::Bytes;
use connmgr_core::AsyncPacketIn;
use ofp_proto::flow::{Flow, ETH_TYPE_IP, IPPROTO_TCP, IPPROTO_UDP};
use ofp_proto::msg::flow_mod::NO_BUFFER;
use ofp_proto::msg::stats::DescStats;
use ofp_proto::msg::switch::FragHandling;
use ofp_proto::msg::PacketIn;
use ofp_proto::Instant;
use upcall_core::odp::{key_in_port, AttrBuilder};
use upcall_core::{DpifOp, DpifOperate, DpifUpcall, MissStats, ReceiveError, Received, Xlate, Xlated, DPIF_UC_MISS};

use super::normal::MacLearning;
use super::odp::{self, DpAction, Executor, Frame};
use super::ports::{PortCounters, PortTable};
use super::xlate::{pin_metadata, translate, Env, PinSpec, Purpose, Start, Translation, XAction};
use crate::datapath::Datapath;
use crate::ofproto::OfProto;

/// Frames that may wait in the output queue; more are dropped (counted in `tx_dropped`).
pub const MAX_OUT_QUEUE: usize = 4096;

/// What became of the frames the switch received and executed (each frame received ends in
/// exactly one of the `frames_*` dispositions or in the upcall counters' drops).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketCounters {
    /// Frames handed to `Switch::handle_frame` on an existing port.
    pub frames_received: u64,
    /// Dropped on arrival: the port was down.
    pub frames_port_down: u64,
    /// Executed by the datapath and sent out of at least one port.
    pub frames_forwarded: u64,
    /// Executed by the datapath and sent nowhere (every output was to a down port, or the output
    /// queue was full).
    pub frames_unsent: u64,
    /// Packet-ins made by the packet path (controller actions, table misses, packet outs).
    pub packet_ins: u64,
    /// Frames sent by packet outs.
    pub packet_out_frames: u64,
}

/// See the module docs.
pub(crate) struct Bridge {
    /// The bridge name, in log lines.
    pub name: String,
    pub ports: PortTable,
    /// Beside `ports`, same order.
    pub counters: Vec<PortCounters>,
    pub mac: MacLearning,
    pub frag: FragHandling,
    /// Cached from `ConnMgr::wants_packet_in_on_miss` before every step.
    pub miss_to_controller: bool,
    pub out: VecDeque<(u32, Bytes)>,
    pub pkt: PacketCounters,
    pub datapath_id: u64,
    pub desc: DescStats,
}

impl Bridge {
    pub fn new(name: &str, ports: PortTable, datapath_id: u64, desc: DescStats) -> Bridge {
        let counters = vec![PortCounters::default(); ports.len()];
        Bridge {
            name: name.to_string(),
            ports,
            counters,
            mac: MacLearning::default(),
            frag: FragHandling::Normal,
            miss_to_controller: false,
            out: VecDeque::new(),
            pkt: PacketCounters::default(),
            datapath_id,
            desc,
        }
    }

    /// Translation's view and the datapath's, side by side.
    pub fn parts<'a, D>(&'a mut self, tables: &'a mut OfProto<D>, now: Instant) -> (Env<'a, D>, Dpif<'a>) {
        let env = Env {
            tables,
            ports: &self.ports,
            mac: &mut self.mac,
            now,
            frag: self.frag,
            miss_to_controller: self.miss_to_controller,
        };
        let dpif = Dpif { ports: &self.ports, counters: &mut self.counters, out: &mut self.out, pkt: &mut self.pkt };
        (env, dpif)
    }

    /// A frame arrived on `port` (which exists): counted, and made into a miss upcall unless the
    /// port is down.
    pub fn receive(&mut self, port: u32, frame: Bytes) -> Option<DpifUpcall> {
        let i = self.ports.index(port)?;
        let p = &self.ports.iter().nth(i)?;
        self.pkt.frames_received += 1;
        let c = &mut self.counters[i];
        if !p.is_up() {
            c.rx_dropped += 1;
            self.pkt.frames_port_down += 1;
            return None;
        }
        c.rx(frame.len());
        let flow = Flow::extract(&frame, port);
        let key = upcall_key(self.ports.odp_port(port)?, &flow);
        Some(DpifUpcall { kind: DPIF_UC_MISS, key, packet: frame, userdata: None })
    }
}

/// The flow key a datapath would report: input port, Ethernet, Ethertype, and for IPv4 the
/// network and TCP/UDP headers (what the upcall hash reads).
fn upcall_key(odp_port: u32, f: &Flow) -> Bytes {
    let mut b = AttrBuilder::new();
    b.in_port(odp_port).ethernet(f.dl_src.0, f.dl_dst.0).ethertype(f.dl_type);
    if f.dl_type == ETH_TYPE_IP {
        b.ipv4(f.nw_src, f.nw_dst, f.nw_proto, f.nw_tos, f.nw_ttl, f.nw_frag);
        match f.nw_proto {
            IPPROTO_TCP => {
                b.tcp(f.tp_src, f.tp_dst);
            }
            IPPROTO_UDP => {
                b.udp(f.tp_src, f.tp_dst);
            }
            _ => {}
        }
    }
    b.finish()
}

/// The datapath's execute side: frames to ports, counted, into the output queue.
pub(crate) struct Dpif<'a> {
    ports: &'a PortTable,
    counters: &'a mut [PortCounters],
    out: &'a mut VecDeque<(u32, Bytes)>,
    pkt: &'a mut PacketCounters,
}

impl Dpif<'_> {
    /// Sends `frame` out of datapath port `odp`; false if it was dropped.
    fn transmit(&mut self, odp: u32, frame: Bytes) -> bool {
        let Some(port) = self.ports.of_port(odp) else { return false };
        let (Some(i), Some(p)) = (self.ports.index(port), self.ports.get(port)) else { return false };
        let c = &mut self.counters[i];
        if !p.is_up() || self.out.len() >= MAX_OUT_QUEUE {
            c.tx_dropped += 1;
            return false;
        }
        c.tx(frame.len());
        self.out.push_back((port, frame));
        true
    }

    /// Runs datapath actions on `frame`; returns how many frames left the switch.
    fn execute(&mut self, frame: Bytes, actions: impl IntoIterator<Item = DpAction>) -> usize {
        let mut ex = Executor::new(frame);
        let mut sent = 0;
        for a in actions {
            ex.step(&a, |odp, f| sent += usize::from(self.transmit(odp, f)));
        }
        sent
    }
}

impl DpifOperate for Dpif<'_> {
    fn operate(&mut self, ops: &[DpifOp]) {
        for op in ops {
            if let DpifOp::Execute { packet, actions, .. } = op {
                let sent = self.execute(packet.clone(), odp::decode(actions));
                let counter = if sent > 0 { &mut self.pkt.frames_forwarded } else { &mut self.pkt.frames_unsent };
                *counter += 1;
            }
        }
    }
}

/// The packet-in for `spec` carrying the whole `frame`.
fn packet_in(spec: &PinSpec, frame: &Frame) -> AsyncPacketIn {
    let total = frame.data().len();
    let pin = PacketIn {
        reason: spec.reason,
        table_id: spec.table_id,
        cookie: spec.cookie,
        metadata: spec.metadata,
        total_len: u32::try_from(total).unwrap_or(u32::MAX),
        buffer_id: NO_BUFFER,
        data: frame.head(usize::MAX),
        userdata: spec.userdata.clone(),
        continuation: None,
    };
    AsyncPacketIn { pin, reason: u32::from(spec.reason), controller_id: spec.controller_id, in_port: spec.in_port }
}

/// The packet-in upcall-core asks for while failing open (OVS 2.0: reason no_match, table 0,
/// cookie 0, the flow's metadata, the whole packet).
pub(crate) fn fail_open_traffic(p: upcall_core::PacketIn) -> AsyncPacketIn {
    let flow = Flow::extract(&p.packet, p.in_port);
    let pin = PacketIn {
        reason: p.reason,
        table_id: 0,
        cookie: 0,
        metadata: pin_metadata(&flow),
        total_len: u32::try_from(p.total_len).unwrap_or(u32::MAX),
        buffer_id: NO_BUFFER,
        data: p.packet,
        ..PacketIn::default()
    };
    AsyncPacketIn { pin, reason: u32::from(p.reason), controller_id: 0, in_port: p.in_port }
}

/// Runs a translation on `frame` in order: header changes, outputs through `dpif` (none when it
/// is `None`: a re-translation for side effects), packet-ins into `pins`. Returns the frames sent.
pub(crate) fn run(
    t: &Translation,
    frame: Bytes,
    mut dpif: Option<&mut Dpif<'_>>,
    pins: &mut Vec<AsyncPacketIn>,
) -> usize {
    let mut ex = Executor::new(frame);
    let mut sent = 0;
    for a in &t.actions {
        match a {
            XAction::Controller(spec) => pins.push(packet_in(spec, ex.frame())),
            XAction::Dp(d) => ex.step(d, |port, f| {
                if let Some(dpif) = dpif.as_deref_mut() {
                    sent += usize::from(dpif.transmit(port, f));
                }
            }),
        }
    }
    sent
}

/// Translation for upcall-core's handlers: flows from keys and packets, lookups with statistics,
/// and packet-ins from re-translation of slow-pathed packets.
pub(crate) struct Handler<'e, 'a, D> {
    pub env: &'e mut Env<'a, D>,
    pub pins: &'e mut Vec<AsyncPacketIn>,
}

impl<D: Datapath> Xlate for Handler<'_, '_, D> {
    type Flow = Flow;

    fn receive(&mut self, key: &Bytes, packet: &Bytes) -> Result<Received<Flow>, ReceiveError> {
        let odp_port = key_in_port(key).ok_or(ReceiveError::Invalid)?;
        let port = self.env.ports.of_port(odp_port).ok_or(ReceiveError::NoDevice { odp_port })?;
        let flow = Flow::extract(packet, port);
        Ok(Received { in_port: port, tcp_flags: flow.tcp_flags, flow })
    }

    fn lookup_and_translate(&mut self, flow: &Flow, stats: &MissStats) -> Xlated {
        let purpose = Purpose { stats: Some((stats.n_packets, stats.n_bytes)), learn: true, packet_out: false };
        let t = translate(self.env, flow, purpose, Start::Pipeline);
        let mut b = AttrBuilder::new();
        t.dp_actions().for_each(|a| odp::put(&mut b, &a));
        Xlated { actions: b.finish(), slow: t.has_controller(), fail_open: t.fail_open }
    }

    fn translate_for_side_effects(&mut self, flow: &Flow, packet: &Bytes) {
        let purpose = Purpose { stats: None, learn: false, packet_out: false };
        let t = translate(self.env, flow, purpose, Start::Pipeline);
        run(&t, packet.clone(), None, self.pins);
    }
}
