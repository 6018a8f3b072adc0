//! The MAC learning table behind the NORMAL action (OVS `lib/mac-learning.c`): which port each
//! (Ethernet address, VLAN) was last seen on, forgotten after 300 s without traffic, the least
//! recently used entry evicted when 8192 are held. Time is the caller's; entries are kept in a
//! `BTreeMap`, so nothing depends on hashing order.

use std::collections::BTreeMap;

use ofp_proto::flow::EthAddr;
use ofp_proto::Instant;

/// OVS `MAC_ENTRY_DEFAULT_IDLE_TIME`, in milliseconds.
pub const MAC_IDLE_MS: u64 = 300_000;
/// OVS `MAC_DEFAULT_MAX`.
pub const MAC_MAX: usize = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    port: u32,
    used: Instant,
    /// Position in the LRU order.
    lru: u64,
}

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub(crate) struct MacLearning {
    entries: BTreeMap<(u16, EthAddr), Entry>,
    /// (lru stamp, key), oldest first.
    lru: BTreeMap<u64, (u16, EthAddr)>,
    next_lru: u64,
}

fn is_multicast(mac: EthAddr) -> bool {
    mac.0[0] & 1 != 0
}

fn expired(e: &Entry, now: Instant) -> bool {
    now.as_millis() >= e.used.as_millis().saturating_add(MAC_IDLE_MS)
}

impl MacLearning {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Records that `src` was seen on `port` in `vlan` at `now` (OVS `mac_learning_update`):
    /// multicast sources are never learned. Returns true if the table changed (new entry or a
    /// move), which would invalidate cached forwarding decisions.
    pub fn learn(&mut self, now: Instant, src: EthAddr, vlan: u16, port: u32) -> bool {
        if is_multicast(src) {
            return false;
        }
        let key = (vlan, src);
        let lru = self.next_lru;
        self.next_lru += 1;
        if let Some(e) = self.entries.get_mut(&key) {
            self.lru.remove(&e.lru);
            self.lru.insert(lru, key);
            let moved = e.port != port || expired(e, now);
            *e = Entry { port, used: now, lru };
            return moved;
        }
        if self.entries.len() >= MAC_MAX {
            if let Some((_, oldest)) = self.lru.pop_first() {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, Entry { port, used: now, lru });
        self.lru.insert(lru, key);
        true
    }

    /// The port `dst` was learned on in `vlan`, unless it is multicast or its entry has aged out.
    pub fn lookup(&self, now: Instant, dst: EthAddr, vlan: u16) -> Option<u32> {
        if is_multicast(dst) {
            return None;
        }
        self.entries.get(&(vlan, dst)).filter(|e| !expired(e, now)).map(|e| e.port)
    }

    /// Forgets the entries that aged out by `now` (OVS `mac_learning_run`).
    pub fn expire(&mut self, now: Instant) {
        while let Some((&stamp, &key)) = self.lru.first_key_value() {
            match self.entries.get(&key) {
                Some(e) if !expired(e, now) => break,
                _ => {
                    self.lru.remove(&stamp);
                    self.entries.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u8) -> EthAddr {
        EthAddr([0x50, 0x54, 0, 0, 0, n])
    }

    #[test]
    fn learns_moves_and_ages_out_at_300_s() {
        let mut ml = MacLearning::default();
        let t0 = Instant::from_secs(10);
        assert!(ml.learn(t0, mac(1), 0, 1));
        assert!(!ml.learn(t0, mac(1), 0, 1));
        assert_eq!(ml.lookup(t0, mac(1), 0), Some(1));
        assert_eq!(ml.lookup(t0, mac(1), 5), None, "per VLAN");
        assert!(ml.learn(t0, mac(1), 0, 2), "moved");
        assert_eq!(ml.lookup(Instant::from_millis(309_999), mac(1), 0), Some(2));
        assert_eq!(ml.lookup(Instant::from_secs(310), mac(1), 0), None);
        ml.expire(Instant::from_secs(310));
        assert_eq!(ml.len(), 0);
    }

    #[test]
    fn multicast_is_never_learned_nor_found() {
        let mut ml = MacLearning::default();
        let bcast = EthAddr::ONES;
        assert!(!ml.learn(Instant::ZERO, bcast, 0, 1));
        assert_eq!(ml.lookup(Instant::ZERO, bcast, 0), None);
        assert_eq!(ml.len(), 0);
    }

    #[test]
    fn the_least_recently_used_entry_makes_room() {
        let mut ml = MacLearning::default();
        for i in 0..MAC_MAX as u64 {
            ml.learn(Instant::ZERO, EthAddr::from_u64(0x0200_0000_0000 + i), 0, 1);
        }
        // Refresh the oldest, so the second oldest goes.
        ml.learn(Instant::ZERO, EthAddr::from_u64(0x0200_0000_0000), 0, 1);
        ml.learn(Instant::ZERO, mac(9), 0, 3);
        assert_eq!(ml.len(), MAC_MAX);
        assert_eq!(ml.lookup(Instant::ZERO, EthAddr::from_u64(0x0200_0000_0000), 0), Some(1));
        assert_eq!(ml.lookup(Instant::ZERO, EthAddr::from_u64(0x0200_0000_0001), 0), None);
        assert_eq!(ml.lookup(Instant::ZERO, mac(9), 0), Some(3));
    }
}
