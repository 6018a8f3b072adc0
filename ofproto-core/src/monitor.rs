//! What the tables tell flow monitors (OVS `ofmonitor_report` call sites and
//! `ofproto_collect_ofmonitor_refresh_rules`): the rule changes of finished operation groups, one
//! batch per group, delivered to connection management with the seqnos it stamps written back on
//! the rules; and the rules as monitors know them, for initial replies and refreshes.
//!
//! Monitors hear of a change once the datapath confirmed it (when its group finishes), so the
//! rules they are shown are the tables minus what is still pending: a rule whose add is pending is
//! left out, one whose modify is pending shows its state before, one whose removal is pending is
//! still there.

use connmgr_core::{ConnMgr, Replies, RuleEvent, RuleEventKind, RuleQuery, RuleSnapshot};
use hashbrown::HashMap;
use ofp_proto::msg::flow_mod::OFPTT_ALL;
use ofp_proto::Instant;

use crate::classifier::is_loose_match;
use crate::datapath::Datapath;
use crate::ofproto::OfProto;
use crate::opgroup::{GroupKey, Undo};
use crate::rule::{RuleId, RuleState};

/// Where the tables' rule changes go: `ConnMgr` (changes that complete outside requests), a
/// request's `Replies` (changes made while `ConnMgr` handles it), or a test's recorder.
pub trait MonitorSink {
    /// Reports one change; returns the seqno it took (0 for a removal).
    fn rule_event(&mut self, event: RuleEvent) -> u64;
    /// Ends a batch: the changes of one request, or of one operation of the switch's own.
    fn end_batch(&mut self, now: Instant);
}

impl MonitorSink for ConnMgr {
    fn rule_event(&mut self, event: RuleEvent) -> u64 {
        self.flow_monitor_event(event)
    }

    fn end_batch(&mut self, now: Instant) {
        self.flow_monitor_flush(now);
    }
}

/// `ConnMgr` ends the batch after the request itself.
impl MonitorSink for Replies {
    fn rule_event(&mut self, event: RuleEvent) -> u64 {
        self.flow_monitor_event(event)
    }

    fn end_batch(&mut self, _now: Instant) {}
}

/// The reported changes of one finished group, in order.
#[derive(Debug)]
pub(crate) struct MonitorBatch {
    pub(crate) group: GroupKey,
    pub(crate) events: Vec<(RuleId, RuleEvent)>,
}

impl<D: Datapath> OfProto<D> {
    /// Hands every queued rule change to `sink`, one batch per operation group, and stores the
    /// seqnos it returns on the rules. Groups whose completions arrived while `ConnMgr` was
    /// handling another request finish first. [`OfProto::forward_events`] does this for a
    /// `ConnMgr`.
    pub fn forward_monitor_events(&mut self, now: Instant, sink: &mut impl MonitorSink) {
        if !self.deferred.is_empty() {
            self.pump(now);
        }
        // Seqnos of rules gone before their earlier changes were delivered.
        let mut carried = HashMap::new();
        while let Some(batch) = self.monitor.pop_front() {
            self.deliver(batch, sink, &mut carried);
            sink.end_batch(now);
        }
    }

    /// True if changes wait to be delivered: a request that would report its own changes through
    /// its `Replies` must wait for them, or monitors could hear of a rule's changes out of order.
    /// (Groups held back during a request keep their rules busy, so no request can change those.)
    pub(crate) fn has_undelivered_changes(&self) -> bool {
        !self.monitor.is_empty()
    }

    /// Delivers the changes of the group a request started (`group`), if it finished during the
    /// request, into the request's `Replies`.
    pub(crate) fn report_request_changes(&mut self, group: GroupKey, out: &mut Replies) {
        let Some(i) = self.monitor.iter().rposition(|b| b.group == group) else { return };
        let batch = self.monitor.remove(i).expect("found");
        self.deliver(batch, out, &mut HashMap::new());
    }

    fn deliver(&mut self, batch: MonitorBatch, sink: &mut impl MonitorSink, carried: &mut HashMap<RuleId, (u64, u64)>) {
        for (id, mut event) in batch.events {
            // The snapshot was taken when the group finished; changes delivered since (an add
            // queued before this removal, say) may have stamped newer seqnos.
            if let Some((add, modify)) = self.rules.get(id).map(|r| r.seqnos()).or_else(|| carried.get(&id).copied()) {
                (event.rule.add_seqno, event.rule.modify_seqno) = (add, modify);
            }
            let (kind, add) = (event.kind, event.rule.add_seqno);
            let seqno = sink.rule_event(event);
            let seqnos = match kind {
                RuleEventKind::Added => (seqno, seqno),
                RuleEventKind::Modified => (add, seqno),
                RuleEventKind::Removed { .. } => continue,
            };
            match self.rules.get_mut(id) {
                Some(r) => (r.add_seqno, r.modify_seqno) = seqnos,
                None => {
                    carried.insert(id, seqnos);
                }
            }
        }
    }

    /// The rules flow monitors know of in `query.table_id` (0xff: every visible table) at least
    /// as specific as `query.match_` (OVS `CLS_FOR_EACH_TARGET`), with their seqnos, by table,
    /// priority and age; with `query.since` above 0 only those changed after it. Hidden rules
    /// never appear.
    pub fn monitored_rules(&self, query: &RuleQuery<'_>) -> Vec<RuleSnapshot> {
        let target = query.match_.canonical();
        let in_scope = |table_id: u8| {
            if query.table_id == OFPTT_ALL {
                !self.tables[usize::from(table_id)].hidden
            } else {
                table_id == query.table_id
            }
        };
        let mut ids = Vec::new();
        for (table_id, t) in self.tables.iter().enumerate() {
            if in_scope(table_id as u8) {
                t.cls.for_each_loose(&self.rules, &target, |id| ids.push(id));
            }
        }
        for &id in self.deletions.values().flatten() {
            let r = self.rules.at(id);
            if in_scope(r.table_id) && is_loose_match(&r.match_(), &target) {
                ids.push(id);
            }
        }
        self.sort_rules(&mut ids);
        ids.into_iter()
            .filter_map(|id| {
                let r = self.rules.at(id);
                let st = self.monitored_state(id)?;
                (!r.is_hidden() && (query.since == 0 || r.modify_seqno > query.since)).then(|| r.snapshot_with(st))
            })
            .collect()
    }

    /// Rule `id` (in its table or being removed) as monitors know it, if they know it at all.
    fn monitored_state(&self, id: RuleId) -> Option<&RuleState> {
        let r = self.rules.at(id);
        let Some(op) = r.pending else { return Some(&r.st) };
        let o = &self.ops[&op];
        if self.groups.get(&o.group).is_some_and(|g| g.compensating) {
            // Restoring what monitors know: it shows as it is now, and a rule the failed bundle
            // created (being removed again) was never there.
            return (!matches!(o.undo, Undo::Removed { .. })).then_some(&r.st);
        }
        match &o.undo {
            Undo::Created => None,
            Undo::Changed { old, .. } => Some(old),
            Undo::Removed { old, .. } => Some(old.as_deref().unwrap_or(&r.st)),
        }
    }
}
