//! A handler's step (OVS `handle_miss_upcalls`): one batch of miss upcalls in, one flow-miss batch, drop keys and
//! fail-open packet-ins out. A pure function of its inputs and the traits it is handed, so it can run on any
//! thread; its output goes back to the [`crate::Udpif`] as a value.

use std::hash::BuildHasher;

use bytes::Bytes;
use hashbrown::HashTable;
use ofp_proto::Instant;

use crate::datapath::{DpifOp, DpifOperate, ReceiveError, Received, Xlate, Xlated};
use crate::hash::BuildFlowHasher;
use crate::upcall::DpifUpcall;

/// Upcalls a handler takes at a time, and the queue length that wakes it (OVS `FLOW_MISS_MAX_BATCH`).
pub const FLOW_MISS_MAX_BATCH: usize = 50;

/// OpenFlow `OFPR_NO_MATCH`, the reason of fail-open packet-ins.
pub const OFPR_NO_MATCH: u8 = 0;

/// Up to [`FLOW_MISS_MAX_BATCH`] miss upcalls of one handler, in arrival order, handed out by
/// [`crate::Udpif::poll_handler_batch`]. Owned and `Send`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerBatch {
    pub handler: usize,
    /// The udpif's revalidation sequence number when the batch was taken.
    pub reval_seq: u64,
    pub upcalls: Vec<DpifUpcall>,
}

/// Statistics of the packets merged into one flow miss (OVS `struct dpif_flow_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MissStats {
    pub n_packets: u64,
    pub n_bytes: u64,
    pub tcp_flags: u16,
    /// When the handler took the batch.
    pub used: Instant,
}

/// All upcalls of one flow within a batch, translated once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowMiss<F> {
    pub flow: F,
    /// Flow key of the first upcall of the flow; execute operations and the flow to install use it.
    pub key: Bytes,
    /// `DPIF_UC_MISS` or `DPIF_UC_ACTION` (slow path) of the first upcall.
    pub upcall_type: u32,
    /// OpenFlow input port, as received.
    pub in_port: u32,
    pub stats: MissStats,
    pub xout: Xlated,
}

/// The flow misses of one handler batch, in order of their first packet, for the main thread to install
/// (OVS `struct flow_miss_batch`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowMissBatch<F> {
    pub reval_seq: u64,
    pub misses: Vec<FlowMiss<F>>,
}

/// A key to install as a dropping datapath flow: its packets came in on a port that belongs to no bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropKey {
    pub key: Bytes,
    pub odp_port: u32,
}

impl DropKey {
    /// The datapath operation that installs the drop flow (a put with no actions).
    pub fn flow_put(&self) -> DpifOp {
        DpifOp::FlowPut { key: self.key.clone(), actions: Bytes::new() }
    }
}

/// A packet to send to the controllers because the switch is in fail-open mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketIn {
    pub in_port: u32,
    pub packet: Bytes,
    pub total_len: usize,
    /// Always [`OFPR_NO_MATCH`].
    pub reason: u8,
}

/// What happened to each upcall of a batch; the fields sum to the batch size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandlerCounts {
    pub no_port: u64,
    pub receive_error: u64,
    pub executed: u64,
    pub no_actions: u64,
}

/// Everything a handler step produces, for [`crate::Udpif::handle_batch_done`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerOutput<F> {
    pub handler: usize,
    pub n_upcalls: usize,
    pub fmb: FlowMissBatch<F>,
    pub drop_keys: Vec<DropKey>,
    pub packet_ins: Vec<PacketIn>,
    pub counts: HandlerCounts,
}

/// Handles one batch: receives each upcall's flow, merges upcalls of equal flows into one miss with summed
/// statistics, looks up and translates each miss once, then executes the packets in arrival order as one
/// datapath batch (slow-pathed packets are translated again one by one first). A miss on the fail-open rule
/// sends every packet of the batch to the controllers.
pub fn handle_miss_upcalls<X, D>(
    now: Instant,
    batch: HandlerBatch,
    xlate: &mut X,
    dpif: &mut D,
) -> HandlerOutput<X::Flow>
where
    X: Xlate,
    D: DpifOperate + ?Sized,
{
    let HandlerBatch { handler, reval_seq, upcalls } = batch;
    let n_upcalls = upcalls.len();
    let mut counts = HandlerCounts::default();
    let mut drop_keys = Vec::new();

    // Misses in order of first arrival, found by flow through `table` (indices into `misses`).
    let hasher = BuildFlowHasher::default();
    let mut table: HashTable<usize> = HashTable::with_capacity(n_upcalls);
    let mut pending: Vec<FlowMiss<X::Flow>> = Vec::with_capacity(n_upcalls);
    // (miss index, packet) for every received upcall, in arrival order.
    let mut arrivals: Vec<(usize, Bytes)> = Vec::with_capacity(n_upcalls);
    for upcall in upcalls {
        let Received { flow, in_port, tcp_flags } = match xlate.receive(&upcall.key, &upcall.packet) {
            Ok(r) => r,
            Err(ReceiveError::NoDevice { odp_port }) => {
                counts.no_port += 1;
                drop_keys.push(DropKey { key: upcall.key, odp_port });
                continue;
            }
            Err(ReceiveError::Invalid) => {
                counts.receive_error += 1;
                continue;
            }
        };
        let hash = hasher.hash_one(&flow);
        let idx = match table.find(hash, |&i| pending[i].flow == flow) {
            Some(&i) => i,
            None => {
                let i = pending.len();
                pending.push(FlowMiss {
                    flow,
                    key: upcall.key,
                    upcall_type: upcall.kind,
                    in_port,
                    stats: MissStats { used: now, ..MissStats::default() },
                    xout: Xlated::default(),
                });
                table.insert_unique(hash, i, |&j| hasher.hash_one(&pending[j].flow));
                i
            }
        };
        let stats = &mut pending[idx].stats;
        stats.n_packets += 1;
        stats.n_bytes += upcall.packet.len() as u64;
        stats.tcp_flags |= tcp_flags;
        arrivals.push((idx, upcall.packet));
    }

    // Translate per miss, not per packet: the packets of a miss almost always share actions, and the
    // translation needs the TCP flags of all of them.
    let mut misses = pending;
    let mut fail_open = false;
    for miss in &mut misses {
        miss.xout = xlate.lookup_and_translate(&miss.flow, &miss.stats);
        fail_open |= miss.xout.fail_open;
    }

    let mut ops = Vec::with_capacity(arrivals.len());
    for (idx, packet) in &arrivals {
        let miss = &misses[*idx];
        if miss.xout.slow {
            xlate.translate_for_side_effects(&miss.flow, packet);
        }
        if miss.xout.actions.is_empty() {
            counts.no_actions += 1;
        } else {
            counts.executed += 1;
            ops.push(DpifOp::Execute {
                key: miss.key.clone(),
                packet: packet.clone(),
                actions: miss.xout.actions.clone(),
            });
        }
    }
    dpif.operate(&ops);

    // In fail-open mode with a controller connected, show it the traffic in the hope that it sets up flows
    // and so ends fail-open.
    let packet_ins = if fail_open {
        arrivals
            .into_iter()
            .map(|(idx, packet)| PacketIn {
                in_port: misses[idx].in_port,
                total_len: packet.len(),
                packet,
                reason: OFPR_NO_MATCH,
            })
            .collect()
    } else {
        Vec::new()
    };

    HandlerOutput { handler, n_upcalls, fmb: FlowMissBatch { reval_seq, misses }, drop_keys, packet_ins, counts }
}
