//! Every count the dispatcher keeps: OVS's coverage counters under their OVS names, plus the dispositions OVS
//! leaves uncounted, so that each upcall received is accounted for exactly once.

/// Counters of a [`crate::Udpif`]. Each upcall received ends in exactly one of: `upcall_bad`,
/// `miss_queue_overflow`, `upcall_queue_overflow`, a handler queue, a batch in flight, the main queue (and
/// from there the caller), `miss_no_port`, `miss_receive_error`, `miss_executed`, `miss_no_actions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Upcalls handed to the dispatcher.
    pub upcall_received: u64,
    /// Upcalls dropped by classification (unexpected type, missing or mis-sized cookie).
    pub upcall_bad: u64,
    /// Flow-key attributes skipped by the dispatcher's hash for not being 4 bytes long.
    pub upcall_bad_hash_attr: u64,
    /// OVS `upcall_queue_overflow`: sFlow/flow-sample/IPFIX upcalls dropped, main queue full.
    pub upcall_queue_overflow: u64,
    /// OVS `miss_queue_overflow`: misses dropped, their handler's queue full.
    pub miss_queue_overflow: u64,
    /// Misses whose packet arrived on a datapath port with no bridge (`ENODEV`): dropped, a drop key made.
    pub miss_no_port: u64,
    /// Misses whose flow could not be received for another reason: dropped, as OVS does.
    pub miss_receive_error: u64,
    /// Miss packets sent to the datapath in an execute operation.
    pub miss_executed: u64,
    /// Miss packets whose translation had no datapath actions (no operation issued, as OVS).
    pub miss_no_actions: u64,
    /// OVS `drop_queue_overflow`: drop keys dropped, drop queue full.
    pub drop_queue_overflow: u64,
    /// Drop keys discarded by revalidation (queued, or produced by a batch finished under an old sequence).
    pub drop_queue_flushed: u64,
    /// OVS `fmb_queue_overflow`: finished flow-miss batches dropped, batch queue full.
    pub fmb_queue_overflow: u64,
    /// OVS `fmb_queue_revalidated`: finished batches discarded because revalidation happened meanwhile.
    pub fmb_queue_revalidated: u64,
    /// Queued batches discarded by `revalidate()`.
    pub fmb_queue_flushed: u64,
    /// Fail-open packet-ins produced by handlers.
    pub packet_in_sent: u64,
    /// OVS `packet_in_overflow` (ofproto-dpif): fail-open packet-ins dropped, packet-in queue full.
    pub packet_in_overflow: u64,
}

impl Counters {
    /// `(name, value)` for every counter, in a fixed order, for status output.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("upcall_received", self.upcall_received),
            ("upcall_bad", self.upcall_bad),
            ("upcall_bad_hash_attr", self.upcall_bad_hash_attr),
            ("upcall_queue_overflow", self.upcall_queue_overflow),
            ("miss_queue_overflow", self.miss_queue_overflow),
            ("miss_no_port", self.miss_no_port),
            ("miss_receive_error", self.miss_receive_error),
            ("miss_executed", self.miss_executed),
            ("miss_no_actions", self.miss_no_actions),
            ("drop_queue_overflow", self.drop_queue_overflow),
            ("drop_queue_flushed", self.drop_queue_flushed),
            ("fmb_queue_overflow", self.fmb_queue_overflow),
            ("fmb_queue_revalidated", self.fmb_queue_revalidated),
            ("fmb_queue_flushed", self.fmb_queue_flushed),
            ("packet_in_sent", self.packet_in_sent),
            ("packet_in_overflow", self.packet_in_overflow),
        ]
        .into_iter()
    }

    /// Upcalls that reached a final disposition inside the dispatcher or a handler (everything but the
    /// queued, in-flight and main-queue ones).
    pub fn upcalls_finished(&self) -> u64 {
        self.upcall_bad
            + self.miss_queue_overflow
            + self.upcall_queue_overflow
            + self.miss_no_port
            + self.miss_receive_error
            + self.miss_executed
            + self.miss_no_actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iter_names_every_field_once() {
        let c = Counters { fmb_queue_revalidated: 3, miss_queue_overflow: 5, ..Counters::default() };
        let all: Vec<_> = c.iter().collect();
        assert_eq!(all.len(), 16);
        let mut names: Vec<_> = all.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 16);
        assert!(all.contains(&("fmb_queue_revalidated", 3)));
        assert!(all.contains(&("miss_queue_overflow", 5)));
        assert_eq!(all.iter().map(|(_, v)| v).sum::<u64>(), 8);
    }
}
