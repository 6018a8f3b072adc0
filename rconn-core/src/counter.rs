//! Per-source counts of messages queued on an `Rconn` (OVS `rconn_packet_counter`).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Packets and bytes that one source (replies, packet-ins, monitor updates, …) has queued and not yet
/// handed to the transport. Clones share the same counts, like OVS's reference-counted counter; a
/// queued message holds a clone until it is transmitted or discarded.
#[derive(Clone, Debug, Default)]
pub struct PacketCounter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    packets: AtomicU32,
    bytes: AtomicU64,
}

impl PacketCounter {
    pub fn new() -> Self {
        PacketCounter::default()
    }

    /// Messages queued and not yet transmitted or discarded.
    pub fn n_packets(&self) -> u32 {
        self.0.packets.load(Ordering::Relaxed)
    }

    pub fn n_bytes(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    /// True if `other` is a clone of this counter.
    pub fn same_as(&self, other: &PacketCounter) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub(crate) fn inc(&self, n_bytes: usize) {
        self.0.packets.fetch_add(1, Ordering::Relaxed);
        self.0.bytes.fetch_add(n_bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn dec(&self, n_bytes: usize) {
        self.0.packets.fetch_sub(1, Ordering::Relaxed);
        self.0.bytes.fetch_sub(n_bytes as u64, Ordering::Relaxed);
    }
}
