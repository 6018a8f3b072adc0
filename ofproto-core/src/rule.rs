//! A flow-table rule (OVS `struct rule`), the part of it a flow mod changes, and the slab rules live in.

use std::sync::Arc;

use connmgr_core::RuleSnapshot;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::FlowModFlags;
use ofp_proto::ofmatch::Match;
use ofp_proto::Instant;

use crate::datapath::OpId;
use crate::minimatch::{MiniMatch, PackedFlow};

/// Identifies a rule for as long as it exists; never names another rule afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId {
    index: u32,
    generation: u32,
}

/// Priorities above this are hidden from OpenFlow (fail-open and in-band flows), as in OVS.
pub const MAX_OPENFLOW_PRIORITY: u32 = u16::MAX as u32;

/// What a flow mod may change in a rule, kept whole so a failed change can be put back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleState {
    pub cookie: u64,
    /// Seconds; 0 means none.
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    /// The flags a rule keeps (SEND_FLOW_REM, CHECK_OVERLAP, RESET_COUNTS, NO_PKT/BYT_COUNTS).
    pub flags: FlowModFlags,
    pub importance: u16,
    /// Shared, so snapshots for flow monitors and undo records cost a reference count.
    pub instructions: Arc<Instructions>,
    pub created: Instant,
    /// Last add or modify; the hard timeout counts from here (OVS `rule->modified`).
    pub modified: Instant,
    /// Last packet, or `modified` before any; the idle timeout counts from here.
    pub used: Instant,
    pub packet_count: u64,
    pub byte_count: u64,
}

impl RuleState {
    /// When the hard and idle timeouts fire, if set.
    pub(crate) fn hard_deadline(&self) -> Option<Instant> {
        (self.hard_timeout != 0)
            .then(|| Instant::from_millis(self.modified.as_millis() + 1000 * u64::from(self.hard_timeout)))
    }

    pub(crate) fn idle_deadline(&self) -> Option<Instant> {
        (self.idle_timeout != 0)
            .then(|| Instant::from_millis(self.used.as_millis() + 1000 * u64::from(self.idle_timeout)))
    }

    /// The earlier of the two deadlines.
    pub(crate) fn expiry(&self) -> Option<Instant> {
        match (self.hard_deadline(), self.idle_deadline()) {
            (Some(h), Some(i)) => Some(h.min(i)),
            (h, i) => h.or(i),
        }
    }
}

/// A rule in a flow table.
#[derive(Clone, Debug)]
pub struct Rule {
    pub(crate) table_id: u8,
    /// Canonical (values zero wherever the mask is).
    match_: MiniMatch,
    pub(crate) priority: u32,
    /// Order of insertion: among equal-priority matches the earliest rule wins lookups.
    pub(crate) seq: u64,
    pub(crate) st: RuleState,
    /// The operation in progress on this rule (OVS `rule->pending`).
    pub(crate) pending: Option<OpId>,
    /// The deadline this rule is filed under in the expiry timer, if any.
    pub(crate) scheduled: Option<Instant>,
    /// The flow-monitor seqnos connection management stamped on its last reported add and on its
    /// last reported add or modify (OVS `rule->add_seqno`, `rule->modify_seqno`); 0 before any.
    pub(crate) add_seqno: u64,
    pub(crate) modify_seqno: u64,
}

impl Rule {
    /// A rule with no operation, no expiry filed and no seqnos yet.
    pub(crate) fn new(table_id: u8, match_: &Match, priority: u32, seq: u64, st: RuleState) -> Rule {
        let match_ = MiniMatch::new(match_);
        Rule { table_id, match_, priority, seq, st, pending: None, scheduled: None, add_seqno: 0, modify_seqno: 0 }
    }

    pub fn table_id(&self) -> u8 {
        self.table_id
    }

    /// In canonical form (values zero wherever the mask is).
    pub fn match_(&self) -> Match {
        self.match_.to_match()
    }

    /// True if the match's values are `flow`, compared without building the match.
    pub(crate) fn flow_is(&self, flow: &PackedFlow) -> bool {
        self.match_.flow_is(flow)
    }

    /// True if the match's values under `mask` are `want`.
    pub(crate) fn masked_flow_is(&self, mask: &PackedFlow, want: &PackedFlow) -> bool {
        self.match_.masked_flow_is(mask, want)
    }

    /// Above 65535 for hidden rules.
    pub fn priority(&self) -> u32 {
        self.priority
    }

    pub fn state(&self) -> &RuleState {
        &self.st
    }

    pub fn instructions(&self) -> &Instructions {
        &self.st.instructions
    }

    /// Hidden rules (fail-open, in-band) are never shown, counted or changed by OpenFlow requests.
    pub fn is_hidden(&self) -> bool {
        self.priority > MAX_OPENFLOW_PRIORITY
    }

    /// True while an operation on this rule waits for the datapath.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The seqnos of the rule's last reported add and of its last reported add or modify.
    pub fn seqnos(&self) -> (u64, u64) {
        (self.add_seqno, self.modify_seqno)
    }

    /// The rule as a flow monitor reports it (meaningful for visible rules only).
    pub fn snapshot(&self) -> RuleSnapshot {
        self.snapshot_with(&self.st)
    }

    /// The rule with state `st` (its state before a change not yet reported).
    pub(crate) fn snapshot_with(&self, st: &RuleState) -> RuleSnapshot {
        RuleSnapshot {
            table_id: self.table_id,
            priority: self.priority as u16,
            match_: self.match_(),
            cookie: st.cookie,
            idle_timeout: st.idle_timeout,
            hard_timeout: st.hard_timeout,
            instructions: st.instructions.clone(),
            add_seqno: self.add_seqno,
            modify_seqno: self.modify_seqno,
        }
    }
}

#[derive(Clone, Debug)]
struct Slot {
    generation: u32,
    rule: Option<Rule>,
}

/// Every rule, in or out of a table (rules being deleted stay here until the datapath confirms).
#[derive(Clone, Debug, Default)]
pub(crate) struct Rules {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

impl Rules {
    pub(crate) fn insert(&mut self, rule: Rule) -> RuleId {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.rule = Some(rule);
            return RuleId { index, generation: slot.generation };
        }
        let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 rules");
        self.slots.push(Slot { generation: 0, rule: Some(rule) });
        RuleId { index, generation: 0 }
    }

    pub(crate) fn remove(&mut self, id: RuleId) -> Option<Rule> {
        let slot = self.slots.get_mut(id.index as usize).filter(|s| s.generation == id.generation)?;
        let rule = slot.rule.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        self.len -= 1;
        Some(rule)
    }

    #[inline]
    pub(crate) fn get(&self, id: RuleId) -> Option<&Rule> {
        self.slots.get(id.index as usize).filter(|s| s.generation == id.generation)?.rule.as_ref()
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, id: RuleId) -> Option<&mut Rule> {
        self.slots.get_mut(id.index as usize).filter(|s| s.generation == id.generation)?.rule.as_mut()
    }

    /// The rule `id`, which the caller knows exists (it is in a table or has an operation).
    #[inline]
    pub(crate) fn at(&self, id: RuleId) -> &Rule {
        self.get(id).expect("rule ids held by tables and operations stay valid")
    }

    #[inline]
    pub(crate) fn at_mut(&mut self, id: RuleId) -> &mut Rule {
        self.get_mut(id).expect("rule ids held by tables and operations stay valid")
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `n` more rules at once (a large bundle), rather than by repeated doubling,
    /// which copies every rule each time.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.slots.reserve(n.saturating_sub(self.free.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: u32) -> Rule {
        let t = Instant::from_secs(1);
        Rule::new(
            0,
            &Match::catchall(),
            priority,
            0,
            RuleState {
                cookie: 0,
                idle_timeout: 0,
                hard_timeout: 0,
                flags: FlowModFlags::default(),
                importance: 0,
                instructions: Arc::default(),
                created: t,
                modified: t,
                used: t,
                packet_count: 0,
                byte_count: 0,
            },
        )
    }

    #[test]
    fn stale_ids_name_nothing() {
        let mut rules = Rules::default();
        let a = rules.insert(rule(1));
        assert_eq!(rules.remove(a).map(|r| r.priority), Some(1));
        let b = rules.insert(rule(2));
        assert_ne!(a, b);
        assert!(rules.get(a).is_none());
        assert_eq!(rules.at(b).priority, 2);
        assert_eq!(rules.len(), 1);
        assert!(rules.remove(a).is_none());
    }

    #[test]
    fn deadlines() {
        let mut st = rule(1).st;
        assert_eq!(st.expiry(), None);
        st.hard_timeout = 10;
        st.idle_timeout = 3;
        st.used = Instant::from_secs(8);
        assert_eq!(st.hard_deadline(), Some(Instant::from_secs(11)));
        assert_eq!(st.idle_deadline(), Some(Instant::from_secs(11)));
        st.used = Instant::from_millis(7_500);
        assert_eq!(st.expiry(), Some(Instant::from_millis(10_500)));
        assert!(rule(0x10000).is_hidden() && !rule(0xffff).is_hidden());
    }
}
