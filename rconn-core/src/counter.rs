//! Per-source counts of messages queued on an `Rconn` (OVS `rconn_packet_counter`).
//!
//! OVS allocates a shared, reference-counted counter per source (replies, packet-ins, monitor
//! updates) and lets every queued message point at it. The counts only ever describe one rconn's
//! transmit queue, so here the rconn keeps them inline and a queued message names its counter by
//! index: nothing to allocate per connection.

/// How many counters an rconn keeps.
pub const N_COUNTERS: usize = 3;

/// One of an rconn's counters; the owner decides which source counts in which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterId(u8);

impl CounterId {
    /// Counter `i`, for `i` below [`N_COUNTERS`]; higher numbers wrap around.
    pub const fn nth(i: u8) -> CounterId {
        CounterId(i % N_COUNTERS as u8)
    }

    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Messages and bytes one source has queued and not yet handed to the transport. Both wrap as OVS's
/// unsigned counters do; an increment and its decrement always cancel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketCount {
    pub n_packets: u32,
    pub n_bytes: u32,
}

impl PacketCount {
    pub(crate) fn inc(&mut self, n_bytes: usize) {
        self.n_packets = self.n_packets.wrapping_add(1);
        self.n_bytes = self.n_bytes.wrapping_add(n_bytes as u32);
    }

    pub(crate) fn dec(&mut self, n_bytes: usize) {
        self.n_packets = self.n_packets.wrapping_sub(1);
        self.n_bytes = self.n_bytes.wrapping_sub(n_bytes as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_numbers_wrap_into_range() {
        assert_eq!(CounterId::nth(1), CounterId::nth(1 + N_COUNTERS as u8));
        assert!((0..=255).all(|i| CounterId::nth(i).index() < N_COUNTERS));
    }

    #[test]
    fn an_increment_and_its_decrement_cancel_even_past_wrapping() {
        let mut c = PacketCount { n_packets: 1, n_bytes: u32::MAX - 10 };
        c.inc(100);
        assert_eq!(c, PacketCount { n_packets: 2, n_bytes: 89 });
        c.dec(100);
        assert_eq!(c, PacketCount { n_packets: 1, n_bytes: u32::MAX - 10 });
    }
}
