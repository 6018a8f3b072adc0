//! Operation groups (seed 002's `ofopgroup` and `ofoperation`): every change to a rule is an
//! operation in a group tied to the request that made it. The tables change optimistically when an
//! operation starts; when the datapath reports a failure the change is undone.
//!
//! - A rule has at most one operation pending. A second change to it by the *same* group (only a
//!   bundle does that) is folded into the first operation, which keeps the state to restore.
//! - Groups that are not atomic (one flow mod, an expiry, a flush) finish operation by operation:
//!   a failed one is rolled back alone, the group reports the first error.
//! - An atomic group (a bundle commit) finishes as a whole once every operation completed: if any
//!   failed, all of them are undone in reverse order, and those the datapath had already carried
//!   out are undone there too by a compensating group (which reports nothing).
//! - Reports (flow removed messages, flow-monitor events) of a group go out when it finishes, for
//!   the changes that took effect.

use std::mem;
use std::sync::Arc;

use connmgr_core::{AsyncFlowRemoved, AsyncMsg, ConnId, OpGroupId};
use log::warn;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_removed::{FlowRemoved, OFPRR_DELETE};
use ofp_proto::ofmatch::Match;
use ofp_proto::{Instant, OfpErr};

use std::hash::BuildHasher;

use crate::datapath::{Datapath, OpId, OpResult};
use crate::hash::{hash_flow, MixState};
use crate::ofproto::{Event, OfProto, RuleEvent, RuleEventKind};
use crate::rule::{Rule, RuleId, RuleSnapshot, RuleState};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupKey(u64);

/// What one finished operation has to tell the world.
#[derive(Debug)]
enum Report {
    FlowRemoved(AsyncFlowRemoved),
    Monitor { kind: RuleEventKind, rule: RuleSnapshot, old: Option<Arc<Instructions>>, xid: u32 },
}

#[derive(Debug)]
pub(crate) struct OpGroup {
    /// The connection of the request, if any.
    pub(crate) conn: Option<ConnId>,
    /// The xid given to operations created from now on (the request's, or a bundle entry's).
    pub(crate) xid: u32,
    /// Set once handed to `ConnMgr` (the group outlived its request).
    pub(crate) og: Option<OpGroupId>,
    atomic: bool,
    report: bool,
    pub(crate) ops: Vec<OpId>,
    n_pending: usize,
    submitted: bool,
    /// The first error, with the tag of the operation that failed.
    error: Option<(OfpErr, usize)>,
    /// Tag given to operations created from now on (a bundle's entry index).
    pub(crate) tag: usize,
    reports: Vec<Report>,
    /// `OfProto::epoch` when created.
    epoch: u64,
}

/// How to undo an operation: the rule's situation before its group touched it.
#[derive(Debug)]
pub(crate) enum Undo {
    /// The group created the rule.
    Created,
    /// The group changed the rule in place (a modify, or an add replacing it); `old` is its state
    /// before.
    Changed { old: Box<RuleState>, by_add: bool },
    /// The group took the rule out of its table (after changing it, if `old` is set).
    Removed { old: Option<Box<RuleState>>, reason: u8, fr: Option<Box<FlowRemoved>> },
}

#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) group: GroupKey,
    pub(crate) rule: RuleId,
    pub(crate) undo: Undo,
    result: Option<OpResult>,
    tag: usize,
    xid: u32,
}

/// The flow removed message for `r` leaving its table at `now` (OVS `ofproto_rule_send_removed`).
fn flow_removed(r: &Rule, reason: u8, now: Instant) -> FlowRemoved {
    let ms = now.as_millis().saturating_sub(r.st.created.as_millis());
    FlowRemoved {
        match_: r.match_,
        priority: r.priority as u16,
        cookie: r.st.cookie,
        reason,
        table_id: r.table_id,
        duration_sec: u32::try_from(ms / 1000).unwrap_or(u32::MAX),
        duration_nsec: (ms % 1000) as u32 * 1_000_000,
        idle_timeout: r.st.idle_timeout,
        hard_timeout: r.st.hard_timeout,
        packet_count: r.st.packet_count,
        byte_count: r.st.byte_count,
    }
}

impl<D: Datapath> OfProto<D> {
    pub(crate) fn new_group(&mut self, requester: Option<(ConnId, u32)>, atomic: bool, report: bool) -> GroupKey {
        let g = GroupKey(self.next_group);
        self.next_group += 1;
        let group = OpGroup {
            conn: requester.map(|(c, _)| c),
            xid: requester.map_or(0, |(_, x)| x),
            og: None,
            atomic,
            report,
            ops: Vec::new(),
            n_pending: 0,
            submitted: false,
            error: None,
            tag: 0,
            reports: Vec::new(),
            epoch: self.epoch,
        };
        self.groups.insert(g, group);
        g
    }

    pub(crate) fn group_mut(&mut self, g: GroupKey) -> &mut OpGroup {
        self.groups.get_mut(&g).expect("groups live until finished")
    }

    /// True if rule `id` has an operation pending in a group other than `g`.
    pub(crate) fn pending_elsewhere(&self, id: RuleId, g: GroupKey) -> bool {
        self.rules.at(id).pending.is_some_and(|op| self.ops.get(&op).is_none_or(|o| o.group != g))
    }

    fn add_op(&mut self, g: GroupKey, id: RuleId, undo: Undo) -> OpId {
        let op = OpId(self.next_op);
        self.next_op += 1;
        self.unschedule(id);
        self.rules.at_mut(id).pending = Some(op);
        let group = self.group_mut(g);
        group.ops.push(op);
        let (tag, xid) = (group.tag, group.xid);
        self.ops.insert(op, Operation { group: g, rule: id, undo, result: None, tag, xid });
        op
    }

    // ----- the table side of operations -----

    fn insert_in_table(&mut self, id: RuleId) {
        let r = self.rules.at(id);
        let t = &mut self.tables[usize::from(r.table_id)];
        t.cls.insert(&r.match_, r.priority, r.seq, id);
        t.n_hidden_rules += usize::from(r.is_hidden());
    }

    fn take_from_table(&mut self, id: RuleId) {
        let r = self.rules.at(id);
        let t = &mut self.tables[usize::from(r.table_id)];
        let present = t.cls.remove(&r.match_, r.priority, id);
        debug_assert!(present, "rule {id:?} was in its table");
        t.n_hidden_rules -= usize::from(r.is_hidden());
    }

    fn deletion_key(table_id: u8, priority: u32, m: &Match) -> u64 {
        let (values, mask) = (hash_flow(&m.flow), hash_flow(&m.mask));
        MixState::default().hash_one((table_id, priority, values, mask))
    }

    fn note_deletion(&mut self, id: RuleId) {
        let r = self.rules.at(id);
        self.deletions.entry(Self::deletion_key(r.table_id, r.priority, &r.match_)).or_default().push(id);
    }

    fn forget_deletion(&mut self, id: RuleId) {
        let r = self.rules.at(id);
        let key = Self::deletion_key(r.table_id, r.priority, &r.match_);
        if let Some(ids) = self.deletions.get_mut(&key) {
            ids.retain(|x| *x != id);
            if ids.is_empty() {
                self.deletions.remove(&key);
            }
        }
    }

    /// True if a rule with this table, match and priority is being removed by a group other than
    /// `g` (by any group if `None`) (OVS `is_flow_deletion_pending`).
    pub(crate) fn deletion_pending(&self, table_id: u8, m: &Match, priority: u32, g: Option<GroupKey>) -> bool {
        !self.deletions.is_empty()
            && self.deletions.get(&Self::deletion_key(table_id, priority, m)).is_some_and(|ids| {
                ids.iter().any(|&id| {
                    let r = self.rules.at(id);
                    r.table_id == table_id
                        && r.priority == priority
                        && r.match_ == *m
                        && g.is_none_or(|g| self.pending_elsewhere(id, g))
                })
            })
    }

    /// Adds a new rule to `table_id` in group `g`. The caller checked that no rule with this match
    /// and priority is in the table.
    pub(crate) fn create_rule(&mut self, g: GroupKey, table_id: u8, m: Match, priority: u32, st: RuleState) -> RuleId {
        let seq = self.next_seq;
        self.next_seq += 1;
        let rule = Rule { table_id, match_: m, priority, seq, st, pending: None, scheduled: None };
        let id = self.rules.insert(rule);
        self.insert_in_table(id);
        self.add_op(g, id, Undo::Created);
        id
    }

    /// Gives rule `id` a new state in group `g` (the caller checked it has no operation pending
    /// elsewhere).
    pub(crate) fn change_rule(&mut self, g: GroupKey, id: RuleId, st: RuleState, by_add: bool) {
        let r = self.rules.at_mut(id);
        let old = mem::replace(&mut r.st, st);
        if r.pending.is_none() {
            self.add_op(g, id, Undo::Changed { old: Box::new(old), by_add });
        }
    }

    /// Takes rule `id` out of its table in group `g` (the caller checked it has no operation
    /// pending elsewhere). The flow removed message, if the rule asked for one, is built now and
    /// sent when the removal completes.
    pub(crate) fn remove_rule(&mut self, now: Instant, g: GroupKey, id: RuleId, reason: u8) {
        let r = self.rules.at(id);
        let fr = (r.st.flags.has(ofp_proto::msg::flow_mod::FlowModFlags::SEND_FLOW_REM) && !r.is_hidden())
            .then(|| Box::new(flow_removed(r, reason, now)));
        self.take_from_table(id);
        match self.rules.at(id).pending {
            Some(op) => {
                let o = self.ops.get_mut(&op).expect("pending operations exist");
                match mem::replace(&mut o.undo, Undo::Created) {
                    Undo::Created => {
                        // Created and removed by the same group: as if it never existed.
                        self.ops.remove(&op);
                        self.group_mut(g).ops.retain(|x| *x != op);
                        self.rules.remove(id);
                        return;
                    }
                    Undo::Changed { old, .. } => o.undo = Undo::Removed { old: Some(old), reason, fr },
                    removed @ Undo::Removed { .. } => o.undo = removed,
                }
            }
            None => {
                self.add_op(g, id, Undo::Removed { old: None, reason, fr });
            }
        }
        self.note_deletion(id);
    }

    /// Undoes group `g`, which was never submitted, and drops it (a request that failed part way).
    pub(crate) fn revert_unsubmitted(&mut self, g: GroupKey) {
        let group = self.groups.remove(&g).expect("groups live until finished");
        for op in group.ops.into_iter().rev() {
            let o = self.ops.remove(&op).expect("group operations exist");
            self.rules.at_mut(o.rule).pending = None;
            match o.undo {
                Undo::Created => {
                    self.take_from_table(o.rule);
                    self.rules.remove(o.rule);
                }
                Undo::Changed { old, .. } => {
                    self.rules.at_mut(o.rule).st = *old;
                    self.schedule(o.rule);
                }
                Undo::Removed { old, .. } => self.restore_removed(o.rule, old),
            }
        }
    }

    fn restore_removed(&mut self, id: RuleId, old: Option<Box<RuleState>>) {
        self.forget_deletion(id);
        if let Some(old) = old {
            self.rules.at_mut(id).st = *old;
        }
        self.insert_in_table(id);
        self.schedule(id);
    }

    /// Hands group `g`'s operations to the datapath, in order. A change the datapath does not see
    /// (same instructions) completes at once.
    pub(crate) fn submit(&mut self, g: GroupKey) {
        let group = self.group_mut(g);
        group.submitted = true;
        group.n_pending = group.ops.len();
        if group.ops.is_empty() {
            self.finish_group(g);
            return;
        }
        for i in 0..self.groups[&g].ops.len() {
            let op = self.groups[&g].ops[i];
            let o = &self.ops[&op];
            let r = self.rules.at(o.rule);
            match &o.undo {
                Undo::Created => self.dp.install(op, r),
                Undo::Changed { old, .. } if old.instructions == r.st.instructions => {
                    self.local.push_back((op, Ok(())))
                }
                Undo::Changed { .. } => self.dp.modify(op, r),
                Undo::Removed { .. } => self.dp.remove(op, r),
            }
        }
    }

    /// Records the completion of `op`; the group finishes when its last operation completes.
    pub(crate) fn complete_op(&mut self, op: OpId, result: OpResult) {
        let Some(o) = self.ops.get_mut(&op) else {
            warn!(target: "ofproto", "completion of unknown operation {}", op.0);
            return;
        };
        if o.result.is_some() {
            warn!(target: "ofproto", "operation {} completed twice", op.0);
            return;
        }
        let result = match (&o.undo, result) {
            (Undo::Removed { .. }, Err(e)) => {
                warn!(target: "ofproto", "datapath failed to remove a flow ({e}); removals cannot fail");
                Ok(())
            }
            (_, r) => r,
        };
        o.result = Some(result);
        let (g, tag) = (o.group, o.tag);
        let group = self.group_mut(g);
        group.n_pending -= 1;
        if let Err(e) = result {
            group.error.get_or_insert((e, tag));
        }
        let (atomic, done) = (group.atomic, group.n_pending == 0 && group.submitted);
        if !atomic {
            let reports = self.finish_op(op, result.is_ok());
            self.group_mut(g).reports.extend(reports);
        }
        if done {
            self.finish_group(g);
        }
    }

    /// Makes operation `op` final: kept if `ok`, rolled back if not.
    fn finish_op(&mut self, op: OpId, ok: bool) -> Vec<Report> {
        let o = self.ops.remove(&op).expect("finished operations exist");
        let (id, xid) = (o.rule, o.xid);
        let mut reports = Vec::new();
        // Hidden rules are never reported to flow monitors.
        let monitored = !self.rules.at(id).is_hidden();
        match o.undo {
            Undo::Created if !ok => {
                self.take_from_table(id);
                self.rules.remove(id);
                return reports;
            }
            Undo::Created if monitored => {
                let rule = self.rules.at(id).snapshot();
                reports.push(Report::Monitor { kind: RuleEventKind::Added, rule, old: None, xid })
            }
            Undo::Created => {}
            Undo::Changed { old, .. } if !ok => self.rules.at_mut(id).st = *old,
            Undo::Changed { .. } if !monitored => {}
            Undo::Changed { old, by_add } => {
                let r = self.rules.at(id);
                let new_actions = old.instructions != r.st.instructions;
                let old_actions = new_actions.then(|| old.instructions.clone());
                let kind = if by_add { RuleEventKind::Added } else { RuleEventKind::Modified };
                if by_add || new_actions || old.cookie != r.st.cookie {
                    reports.push(Report::Monitor { kind, rule: r.snapshot(), old: old_actions, xid });
                }
            }
            Undo::Removed { reason, fr, .. } => {
                if let Some(fr) = fr {
                    reports.push(Report::FlowRemoved(AsyncFlowRemoved { reason: u32::from(reason), fr: *fr }));
                }
                if monitored {
                    let rule = self.rules.at(id).snapshot();
                    reports.push(Report::Monitor { kind: RuleEventKind::Removed { reason }, rule, old: None, xid });
                }
                self.forget_deletion(id);
                self.rules.remove(id);
                return reports;
            }
        }
        self.rules.at_mut(id).pending = None;
        self.schedule(id);
        reports
    }

    fn finish_group(&mut self, g: GroupKey) {
        let mut group = self.groups.remove(&g).expect("groups live until finished");
        if group.atomic {
            if group.error.is_none() {
                for &op in &group.ops {
                    let reports = self.finish_op(op, true);
                    group.reports.extend(reports);
                }
            } else {
                self.compensate(&group.ops);
            }
        }
        if group.report {
            let conn = group.conn;
            for report in group.reports {
                match report {
                    Report::FlowRemoved(fr) => self.events.push_back(Event::Async(AsyncMsg::FlowRemoved(fr))),
                    Report::Monitor { kind, rule, old, xid } => {
                        let seqno = self.next_seqno;
                        self.next_seqno += 1;
                        let old_instructions = old;
                        self.monitor.push_back(RuleEvent { seqno, kind, rule, old_instructions, conn, xid });
                    }
                }
            }
        }
        match (group.conn, group.og) {
            (Some(conn), Some(og)) => {
                let result = group.error.map_or(Ok(()), |(e, _)| Err(e));
                self.events.push_back(Event::OpGroupCompleted { conn, group: og, result });
            }
            (Some(_), None) => self.finished.push((g, group.error)),
            // Nothing waited for a group that started and ended within one call.
            (None, _) if group.epoch != self.epoch => self.push_retry(),
            (None, _) => {}
        }
    }

    /// Undoes a failed atomic group's operations in reverse order. Those the datapath carried out
    /// are undone there by a new group, which reports nothing.
    fn compensate(&mut self, ops: &[OpId]) {
        let comp = self.new_group(None, false, false);
        for &op in ops.iter().rev() {
            let o = self.ops.remove(&op).expect("group operations exist");
            let (id, done) = (o.rule, o.result == Some(Ok(())));
            self.rules.at_mut(id).pending = None;
            match o.undo {
                Undo::Created => {
                    self.take_from_table(id);
                    if done {
                        self.add_op(comp, id, Undo::Removed { old: None, reason: OFPRR_DELETE, fr: None });
                        self.note_deletion(id);
                    } else {
                        self.rules.remove(id);
                    }
                }
                Undo::Changed { old, .. } => {
                    let new = mem::replace(&mut self.rules.at_mut(id).st, *old);
                    if done {
                        self.add_op(comp, id, Undo::Changed { old: Box::new(new), by_add: false });
                    } else {
                        self.schedule(id);
                    }
                }
                Undo::Removed { old, .. } => {
                    self.restore_removed(id, old);
                    self.add_op(comp, id, Undo::Created);
                }
            }
        }
        self.submit(comp);
    }

    /// Processes completions until none are left, then moves a flush or connection management's
    /// NORMAL flows along, which may start more operations.
    pub(crate) fn pump(&mut self, now: Instant) {
        loop {
            while let Some((op, r)) = self.local.pop_front().or_else(|| self.dp.poll_completion()) {
                self.complete_op(op, r);
            }
            if self.flushing {
                if self.sweep(now) {
                    continue;
                }
                if !self.groups.is_empty() {
                    break;
                }
                self.flushing = false;
                self.push_retry();
            }
            if self.apply_normal_flows(now) {
                continue;
            }
            break;
        }
        self.epoch += 1;
    }
}
