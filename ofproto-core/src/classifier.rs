//! One flow table's classifier: tuple space search, as OVS `lib/classifier.c` does it.
//!
//! Rules are grouped into subtables by mask. Within a subtable a rule is found by hashing the packet
//! masked with the subtable's mask (the fast path: one hash probe per distinct mask, whatever the
//! number of rules). Subtables are visited in order of the highest priority they hold, so a lookup
//! stops as soon as no remaining subtable can beat the best match found.
//!
//! Ties: OVS leaves the choice among equal-priority matching rules undefined; here the rule that
//! entered the table first wins (lowest `seq`), so lookups are deterministic.
//!
//! Only the rule ids, priorities and insertion order are stored here; matches are read from the
//! rule slab, which every method is handed.

use std::collections::BTreeMap;

use smallvec::SmallVec;

use ofp_proto::flow::Flow;
use ofp_proto::ofmatch::Match;

use crate::hash::{hash_flow, PreHashedMap};
use crate::minimatch::PackedFlow;
use crate::rule::{RuleId, Rules};

/// The hashes of a match's mask and values ([`hash_flow`]), computed once when a lookup of the
/// match is followed by its insertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MatchHash {
    mask: u64,
    flow: u64,
}

impl MatchHash {
    pub(crate) fn of(m: &Match) -> MatchHash {
        MatchHash { mask: hash_flow(&m.mask), flow: hash_flow(&m.flow) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    priority: u32,
    seq: u64,
    id: RuleId,
}

impl Entry {
    /// True if `self` wins over `other` in a lookup.
    #[inline]
    fn beats(&self, other: &Entry) -> bool {
        self.priority > other.priority || (self.priority == other.priority && self.seq < other.seq)
    }
}

/// Rules with one mask. Buckets are keyed by the hash of the rule's (masked) match values; a bucket
/// holds its rules best first, and in practice all of them have the same values.
#[derive(Clone, Debug)]
struct Subtable {
    mask: Flow,
    buckets: PreHashedMap<SmallVec<[Entry; 1]>>,
    /// Number of rules at each priority, so the maximum is known after removals.
    priorities: BTreeMap<u32, u32>,
}

impl Subtable {
    fn max_priority(&self) -> u32 {
        self.priorities.last_key_value().map_or(0, |(p, _)| *p)
    }
}

/// OVS `cls_rule_is_loose_match`: a rule with match `m` is at least as specific as `target`
/// (canonical): it matches every bit `target` matches, with the same values.
pub(crate) fn is_loose_match(m: &Match, target: &Match) -> bool {
    m.mask.and(&target.mask) == target.mask && m.flow.and(&target.mask) == target.flow
}

/// The rules of one flow table, by match and priority.
#[derive(Clone, Debug, Default)]
pub(crate) struct Classifier {
    subtables: Vec<Option<Subtable>>,
    free: Vec<usize>,
    /// (mask, subtable index), by the mask's hash.
    by_mask: hashbrown::HashTable<(Flow, usize)>,
    /// (max priority, subtable index), highest first.
    order: Vec<(u32, usize)>,
    n_rules: usize,
}

impl Classifier {
    pub(crate) fn len(&self) -> usize {
        self.n_rules
    }

    fn reorder(&mut self, index: usize, max: Option<u32>) {
        if let Some(pos) = self.order.iter().position(|&(_, i)| i == index) {
            self.order.remove(pos);
        }
        if let Some(max) = max {
            let pos = self.order.partition_point(|&(p, _)| p >= max);
            self.order.insert(pos, (max, index));
        }
    }

    /// The index of the subtable for `mask` (hashed `hash`), if there is one.
    fn subtable_index(&self, mask: &Flow, hash: u64) -> Option<usize> {
        self.by_mask.find(hash, |(m, _)| m == mask).map(|&(_, i)| i)
    }

    /// Adds rule `id` (whose match is `m`, canonical, with hashes `h`). The caller guarantees no
    /// rule with the same match and priority is present.
    pub(crate) fn insert(&mut self, m: &Match, h: MatchHash, priority: u32, seq: u64, id: RuleId) {
        let index = match self.subtable_index(&m.mask, h.mask) {
            Some(i) => i,
            None => {
                let st = Subtable { mask: m.mask, buckets: PreHashedMap::default(), priorities: BTreeMap::new() };
                let i = match self.free.pop() {
                    Some(i) => {
                        self.subtables[i] = Some(st);
                        i
                    }
                    None => {
                        self.subtables.push(Some(st));
                        self.subtables.len() - 1
                    }
                };
                self.by_mask.insert_unique(h.mask, (m.mask, i), |(mask, _)| hash_flow(mask));
                i
            }
        };
        let st = self.subtables[index].as_mut().expect("indexed subtables exist");
        let old_max = (!st.priorities.is_empty()).then(|| st.max_priority());
        let e = Entry { priority, seq, id };
        let bucket = st.buckets.entry(h.flow).or_default();
        let pos = bucket.partition_point(|x| x.beats(&e));
        bucket.insert(pos, e);
        *st.priorities.entry(priority).or_default() += 1;
        let new_max = st.max_priority();
        self.n_rules += 1;
        if old_max != Some(new_max) {
            self.reorder(index, Some(new_max));
        }
    }

    /// Removes rule `id`, which has match `m` and `priority`. Returns false if it was not present.
    pub(crate) fn remove(&mut self, m: &Match, priority: u32, id: RuleId) -> bool {
        let mask_hash = hash_flow(&m.mask);
        let Some(index) = self.subtable_index(&m.mask, mask_hash) else { return false };
        let st = self.subtables[index].as_mut().expect("indexed subtables exist");
        let h = hash_flow(&m.flow);
        let Some(bucket) = st.buckets.get_mut(&h) else { return false };
        let Some(pos) = bucket.iter().position(|e| e.id == id) else { return false };
        bucket.remove(pos);
        if bucket.is_empty() {
            st.buckets.remove(&h);
        }
        let old_max = st.max_priority();
        match st.priorities.get_mut(&priority) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                st.priorities.remove(&priority);
            }
        }
        self.n_rules -= 1;
        if st.priorities.is_empty() {
            if let Ok(entry) = self.by_mask.find_entry(mask_hash, |(mask, _)| *mask == m.mask) {
                entry.remove();
            }
            self.subtables[index] = None;
            self.free.push(index);
            self.reorder(index, None);
        } else if st.max_priority() != old_max {
            let max = st.max_priority();
            self.reorder(index, Some(max));
        }
        true
    }

    /// The highest-priority rule matching `pkt` (OVS `classifier_lookup`).
    pub(crate) fn lookup(&self, rules: &Rules, pkt: &Flow) -> Option<RuleId> {
        let mut best: Option<Entry> = None;
        for &(max, index) in &self.order {
            if best.is_some_and(|b| max < b.priority) {
                break;
            }
            let st = self.subtables[index].as_ref().expect("ordered subtables exist");
            let key = pkt.and(&st.mask);
            let Some(bucket) = st.buckets.get(&hash_flow(&key)) else { continue };
            let key = PackedFlow::of(&key);
            for e in bucket {
                if best.is_some_and(|b| !e.beats(&b)) {
                    break;
                }
                if rules.at(e.id).flow_is(&key) {
                    best = Some(*e);
                    break;
                }
            }
        }
        best.map(|e| e.id)
    }

    /// The rule with exactly this match (hashes `h`) and priority (OVS
    /// `classifier_find_match_exactly`).
    pub(crate) fn find_exactly(&self, rules: &Rules, m: &Match, h: MatchHash, priority: u32) -> Option<RuleId> {
        let st = self.subtables[self.subtable_index(&m.mask, h.mask)?].as_ref()?;
        let bucket = st.buckets.get(&h.flow)?;
        let flow = PackedFlow::of(&m.flow);
        bucket.iter().find(|e| e.priority == priority && rules.at(e.id).flow_is(&flow)).map(|e| e.id)
    }

    /// True if a rule of the same priority could match a packet `target` matches (OVS
    /// `classifier_rule_overlaps`). Visits every rule of subtables holding that priority.
    pub(crate) fn overlaps(&self, rules: &Rules, target: &Match, priority: u32) -> bool {
        self.subtables.iter().flatten().filter(|st| st.priorities.contains_key(&priority)).any(|st| {
            let both = target.mask.and(&st.mask);
            let (want, both) = (PackedFlow::of(&target.flow.and(&both)), PackedFlow::of(&both));
            st.buckets.values().flatten().any(|e| e.priority == priority && rules.at(e.id).masked_flow_is(&both, &want))
        })
    }

    /// Calls `f` for every rule at least as specific as `target` (canonical; OVS
    /// `CLS_FOR_EACH_TARGET`, see [`is_loose_match`]), a whole subtable at a time.
    pub(crate) fn for_each_loose(&self, rules: &Rules, target: &Match, mut f: impl FnMut(RuleId)) {
        let (mask, want) = (PackedFlow::of(&target.mask), PackedFlow::of(&target.flow));
        for st in self.subtables.iter().flatten() {
            if target.mask.and(&st.mask) != target.mask {
                continue;
            }
            if st.mask == target.mask {
                if let Some(bucket) = st.buckets.get(&hash_flow(&target.flow)) {
                    bucket.iter().filter(|e| rules.at(e.id).flow_is(&want)).for_each(|e| f(e.id));
                }
            } else {
                for e in st.buckets.values().flatten() {
                    if rules.at(e.id).masked_flow_is(&mask, &want) {
                        f(e.id);
                    }
                }
            }
        }
    }

    /// Calls `f` for every rule.
    pub(crate) fn for_each(&self, mut f: impl FnMut(RuleId)) {
        for st in self.subtables.iter().flatten() {
            st.buckets.values().flatten().for_each(|e| f(e.id));
        }
    }

    /// Number of distinct masks.
    #[cfg(test)]
    fn n_subtables(&self) -> usize {
        self.by_mask.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ofp_proto::flow::ETH_TYPE_IP;
    use ofp_proto::msg::flow_mod::FlowModFlags;
    use ofp_proto::Instant;

    use super::*;
    use crate::rule::{Rule, RuleState};

    struct Fixture {
        rules: Rules,
        cls: Classifier,
        seq: u64,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture { rules: Rules::default(), cls: Classifier::default(), seq: 0 }
        }

        fn add(&mut self, m: Match, priority: u32) -> RuleId {
            let st = RuleState {
                cookie: 0,
                idle_timeout: 0,
                hard_timeout: 0,
                flags: FlowModFlags::default(),
                importance: 0,
                instructions: Arc::default(),
                created: Instant::ZERO,
                modified: Instant::ZERO,
                used: Instant::ZERO,
                packet_count: 0,
                byte_count: 0,
            };
            self.seq += 1;
            let rule = Rule::new(0, &m, priority, self.seq, st);
            let id = self.rules.insert(rule);
            self.cls.insert(&m, MatchHash::of(&m), priority, self.seq, id);
            id
        }

        fn remove(&mut self, id: RuleId) {
            let r = self.rules.remove(id).unwrap();
            assert!(self.cls.remove(&r.match_(), r.priority, id));
        }
    }

    fn port(p: u32) -> Match {
        let mut m = Match::catchall();
        m.set_in_port(p);
        m
    }

    fn net(addr: u32, len: u32) -> Match {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_dst_masked(addr, u32::MAX.checked_shl(32 - len).unwrap_or(0));
        m
    }

    fn pkt(in_port: u32, nw_dst: u32) -> Flow {
        Flow { in_port, dl_type: ETH_TYPE_IP, nw_dst, ..Flow::default() }
    }

    #[test]
    fn highest_priority_then_oldest_wins() {
        let mut f = Fixture::new();
        let low = f.add(Match::catchall(), 1);
        let p1 = f.add(port(1), 10);
        let n8 = f.add(net(0x0a00_0000, 8), 10);
        let n24 = f.add(net(0x0a01_0200, 24), 20);
        assert_eq!(f.cls.n_subtables(), 4);
        assert_eq!(f.cls.lookup(&f.rules, &pkt(1, 0x0a01_0203)), Some(n24));
        // p1 and n8 tie at 10: the older one wins.
        assert_eq!(f.cls.lookup(&f.rules, &pkt(1, 0x0a09_0000)), Some(p1));
        assert_eq!(f.cls.lookup(&f.rules, &pkt(2, 0x0a09_0000)), Some(n8));
        assert_eq!(f.cls.lookup(&f.rules, &pkt(2, 0x0b00_0000)), Some(low));
        f.remove(n24);
        f.remove(p1);
        assert_eq!(f.cls.lookup(&f.rules, &pkt(1, 0x0a01_0203)), Some(n8));
        f.remove(low);
        f.remove(n8);
        assert_eq!((f.cls.len(), f.cls.n_subtables()), (0, 0));
        assert_eq!(f.cls.lookup(&f.rules, &pkt(1, 0)), None);
    }

    #[test]
    fn exact_loose_and_overlap() {
        let mut f = Fixture::new();
        let a = f.add(net(0x0a00_0000, 8), 5);
        let b = f.add(net(0x0a01_0000, 16), 5);
        let c = f.add(port(3), 7);
        assert_eq!(f.cls.find_exactly(&f.rules, &net(0x0a00_0000, 8), MatchHash::of(&net(0x0a00_0000, 8)), 5), Some(a));
        assert_eq!(f.cls.find_exactly(&f.rules, &net(0x0a00_0000, 8), MatchHash::of(&net(0x0a00_0000, 8)), 6), None);
        let mut loose = Vec::new();
        f.cls.for_each_loose(&f.rules, &net(0x0a00_0000, 8), |id| loose.push(id));
        loose.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(loose, want);
        let mut all = Vec::new();
        f.cls.for_each_loose(&f.rules, &Match::catchall(), |id| all.push(id));
        assert_eq!(all.len(), 3);
        // port(3) at 7 overlaps anything at 7 that does not fix another port.
        assert!(f.cls.overlaps(&f.rules, &net(0x0b00_0000, 8), 7));
        assert!(!f.cls.overlaps(&f.rules, &port(4), 7));
        assert!(!f.cls.overlaps(&f.rules, &net(0x0b00_0000, 8), 5));
        assert!(f.cls.overlaps(&f.rules, &net(0x0a01_0203, 32), 5));
        let _ = c;
    }
}
