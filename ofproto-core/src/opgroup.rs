//! Operation groups (seed 002's `ofopgroup` and `ofoperation`): every change to a rule is an
//! operation in a group tied to the request that made it. The tables change optimistically when an
//! operation starts; when the datapath reports a failure the change is undone.
//!
//! - A rule has at most one operation pending. A second change to it by the *same* group (only a
//!   bundle does that) is folded into the first operation, which keeps the state to restore.
//! - A group finishes once every operation of it completed, and its rules stay busy until then
//!   (OVS 1.9–2.3 `ofopgroup_complete`; the first asynchronous version, seed 002, freed each rule
//!   as its own operation completed). A group that is not atomic (one flow mod, an expiry, a
//!   flush) rolls back each failed operation alone and reports the first error. An atomic group
//!   (a bundle commit) with a failure undoes all its operations in reverse order, and those the
//!   datapath had already carried out are undone there too by a compensating group.
//! - Reports (flow removed messages, flow-monitor events) of a group go out when it finishes, for
//!   the changes that took effect: flow monitors only ever hear about changes the datapath
//!   confirmed, as in OVS 2.x, so nothing they were told is ever rolled back. The one exception
//!   is a compensation that fails: the bundle's change it could not undo stays, and is reported
//!   then.

use std::hash::BuildHasher;
use std::mem;
use std::sync::Arc;

use connmgr_core::{AsyncFlowRemoved, AsyncMsg, ConnId, OpGroupId, RuleEvent, RuleEventKind};
use log::warn;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_removed::{FlowRemoved, OFPRR_DELETE};
use ofp_proto::ofmatch::Match;
use ofp_proto::{Instant, OfpErr};

use crate::classifier::MatchHash;
use crate::datapath::{Datapath, OpId, OpResult};
use crate::hash::{hash_flow, MixState};
use crate::monitor::MonitorBatch;
use crate::ofproto::{Event, OfProto};
use crate::rule::{Rule, RuleId, RuleState};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupKey(pub(crate) u64);

/// Where the rule changes of a finishing group go.
#[derive(Debug)]
pub(crate) enum Changes {
    /// Flow-monitor events in full.
    Events(Vec<(RuleId, RuleEvent)>),
    /// The group of a request no flow monitor can hear of: only the rules that take a seqno, in
    /// order (true: an add).
    Seqnos(Vec<(RuleId, bool)>),
}

/// What the finished operations of a group have to tell the world.
#[derive(Debug)]
struct Reports {
    removed: Vec<AsyncFlowRemoved>,
    changes: Changes,
    /// The requester the events name (none if the group failed).
    conn: Option<ConnId>,
}

impl Reports {
    /// Records a change to visible rule `r` (`id`) made by the operation of request `xid`.
    fn change(&mut self, id: RuleId, r: &Rule, kind: RuleEventKind, old: Option<Arc<Instructions>>, xid: u32) {
        match &mut self.changes {
            Changes::Events(events) => {
                let (conn, xid) = (self.conn, if self.conn.is_some() { xid } else { 0 });
                events.push((id, RuleEvent { kind, rule: r.snapshot(), old_instructions: old, conn, xid }));
            }
            Changes::Seqnos(seqnos) => match kind {
                RuleEventKind::Added => seqnos.push((id, true)),
                RuleEventKind::Modified => seqnos.push((id, false)),
                RuleEventKind::Removed { .. } => {}
            },
        }
    }
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
    /// Undoes in the datapath what a failed atomic group did there: monitors never heard of that
    /// group's changes, so only a compensation that fails (leaving the change) is reported.
    pub(crate) compensating: bool,
    pub(crate) ops: Vec<OpId>,
    n_pending: usize,
    submitted: bool,
    /// The first error, with the tag of the operation that failed.
    error: Option<(OfpErr, usize)>,
    /// Tag given to operations created from now on (a bundle's entry index).
    pub(crate) tag: usize,
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
        match_: r.match_(),
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
    pub(crate) fn new_group(&mut self, requester: Option<(ConnId, u32)>, atomic: bool, compensating: bool) -> GroupKey {
        let g = GroupKey(self.next_group);
        self.next_group += 1;
        let group = OpGroup {
            conn: requester.map(|(c, _)| c),
            xid: requester.map_or(0, |(_, x)| x),
            og: None,
            atomic,
            compensating,
            ops: Vec::new(),
            n_pending: 0,
            submitted: false,
            error: None,
            tag: 0,
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

    /// Puts rule `id` (whose match is `m`, with hashes `h`) into its table.
    fn insert_in_table(&mut self, id: RuleId, m: &Match, h: MatchHash) {
        let r = self.rules.at(id);
        let t = &mut self.tables[usize::from(r.table_id)];
        t.cls.insert(m, h, r.priority, r.seq, id);
        t.n_hidden_rules += usize::from(r.is_hidden());
    }

    fn take_from_table(&mut self, id: RuleId) {
        let r = self.rules.at(id);
        let t = &mut self.tables[usize::from(r.table_id)];
        let present = t.cls.remove(&r.match_(), r.priority, id);
        debug_assert!(present, "rule {id:?} was in its table");
        t.n_hidden_rules -= usize::from(r.is_hidden());
    }

    fn deletion_key(table_id: u8, priority: u32, m: &Match) -> u64 {
        let (values, mask) = (hash_flow(&m.flow), hash_flow(&m.mask));
        MixState::default().hash_one((table_id, priority, values, mask))
    }

    fn note_deletion(&mut self, id: RuleId) {
        let r = self.rules.at(id);
        self.deletions.entry(Self::deletion_key(r.table_id, r.priority, &r.match_())).or_default().push(id);
    }

    fn forget_deletion(&mut self, id: RuleId) {
        let r = self.rules.at(id);
        let key = Self::deletion_key(r.table_id, r.priority, &r.match_());
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
                        && r.match_() == *m
                        && g.is_none_or(|g| self.pending_elsewhere(id, g))
                })
            })
    }

    /// Adds a new rule to `table_id` in group `g`. The caller checked (with the match's hashes `h`)
    /// that no rule with this match and priority is in the table.
    pub(crate) fn create_rule(
        &mut self,
        g: GroupKey,
        table_id: u8,
        m: &Match,
        h: MatchHash,
        priority: u32,
        st: RuleState,
    ) -> RuleId {
        let seq = self.next_seq;
        self.next_seq += 1;
        let rule = Rule::new(table_id, m, priority, seq, st);
        let id = self.rules.insert(rule);
        self.insert_in_table(id, m, h);
        self.add_op(g, id, Undo::Created);
        id
    }

    /// Gives rule `id` a new state in group `g` (the caller checked it has no operation pending
    /// elsewhere). A change folded into the group's earlier one is a replacing add if either was
    /// (it is then reported as one: an add may change what a modify cannot, the timeouts).
    pub(crate) fn change_rule(&mut self, g: GroupKey, id: RuleId, st: RuleState, by_add: bool) {
        let r = self.rules.at_mut(id);
        let old = mem::replace(&mut r.st, st);
        match r.pending {
            None => {
                self.add_op(g, id, Undo::Changed { old: Box::new(old), by_add });
            }
            Some(op) => {
                if let Some(Operation { undo: Undo::Changed { by_add: earlier, .. }, .. }) = self.ops.get_mut(&op) {
                    *earlier |= by_add;
                }
            }
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
        let m = self.rules.at(id).match_();
        self.insert_in_table(id, &m, MatchHash::of(&m));
        self.schedule(id);
    }

    /// Hands group `g`'s operations to the datapath, in order. A change the datapath does not see
    /// (same instructions) completes at once.
    pub(crate) fn submit(&mut self, g: GroupKey) {
        let group = self.group_mut(g);
        group.submitted = true;
        group.n_pending = group.ops.len();
        if group.ops.is_empty() {
            self.group_done(g);
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
        if group.n_pending == 0 && group.submitted {
            self.group_done(g);
        }
    }

    /// Every operation of group `g` completed: it finishes now, unless `ConnMgr` is handling a
    /// request that did not start it (its reports could not join that request's and must not
    /// precede them), in which case it finishes at the next call into the tables outside requests.
    fn group_done(&mut self, g: GroupKey) {
        if self.request_floor.is_some_and(|floor| g < floor) {
            self.deferred.push(g);
        } else {
            self.finish_group(g);
        }
    }

    /// Finishes the groups [`Self::group_done`] held back.
    pub(crate) fn finish_deferred(&mut self) {
        for g in mem::take(&mut self.deferred) {
            self.finish_group(g);
        }
    }

    /// Makes operation `op` final: its change is kept if `ok`, rolled back if not. What monitors
    /// must hear goes into `reports`: a kept change of an ordinary group, or the rollback of a
    /// compensation (which leaves the failed bundle's change in place).
    fn finish_op(&mut self, op: OpId, ok: bool, compensating: bool, reports: &mut Reports) {
        let o = self.ops.remove(&op).expect("finished operations exist");
        let (id, xid) = (o.rule, o.xid);
        self.rules.at_mut(id).pending = None;
        // Hidden rules are never reported to flow monitors.
        let report = ok != compensating && !self.rules.at(id).is_hidden();
        match o.undo {
            Undo::Created if ok => {
                if report {
                    reports.change(id, self.rules.at(id), RuleEventKind::Added, None, xid);
                }
            }
            Undo::Created => {
                if report {
                    let kind = RuleEventKind::Removed { reason: OFPRR_DELETE };
                    reports.change(id, self.rules.at(id), kind, None, xid);
                }
                self.take_from_table(id);
                self.rules.remove(id);
                return;
            }
            Undo::Changed { old, by_add } => {
                let before = if ok { *old } else { mem::replace(&mut self.rules.at_mut(id).st, *old) };
                let r = self.rules.at(id);
                let new_actions = before.instructions != r.st.instructions;
                let old_instructions = new_actions.then(|| before.instructions.clone());
                // OVS reports a replacing add always, a modify only if it changed actions or cookie.
                let kind = if by_add { RuleEventKind::Added } else { RuleEventKind::Modified };
                if report && (by_add || new_actions || before.cookie != r.st.cookie) {
                    reports.change(id, r, kind, old_instructions, xid);
                }
            }
            Undo::Removed { reason, fr, .. } => {
                if let Some(fr) = fr {
                    reports.removed.push(AsyncFlowRemoved { reason: u32::from(reason), fr: *fr });
                }
                if report {
                    reports.change(id, self.rules.at(id), RuleEventKind::Removed { reason }, None, xid);
                }
                self.forget_deletion(id);
                self.rules.remove(id);
                return;
            }
        }
        self.schedule(id);
    }

    fn finish_group(&mut self, g: GroupKey) {
        let group = self.groups.remove(&g).expect("groups live until finished");
        // A group that failed cannot be summed up as "what request xid did" (OVS 2.x gives no
        // ABBREV then): its requester gets the changes that took effect in full, like everyone.
        let conn = if group.error.is_some() { None } else { group.conn };
        let changes = match self.request_seqnos.as_mut() {
            Some(seqnos) if self.request_floor == Some(g) => Changes::Seqnos(mem::take(seqnos)),
            _ => Changes::Events(Vec::with_capacity(group.ops.len())),
        };
        let mut reports = Reports { removed: Vec::new(), changes, conn };
        if group.atomic && group.error.is_some() {
            self.compensate(&group.ops);
        } else {
            for &op in &group.ops {
                let ok = self.ops[&op].result == Some(Ok(()));
                self.finish_op(op, ok, group.compensating, &mut reports);
            }
        }
        for fr in reports.removed {
            self.events.push_back(Event::Async(AsyncMsg::FlowRemoved(fr)));
        }
        match reports.changes {
            Changes::Events(events) if !events.is_empty() => {
                self.monitor.push_back(MonitorBatch { group: g, events });
            }
            Changes::Events(_) => {}
            Changes::Seqnos(seqnos) => self.request_seqnos = Some(seqnos),
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
    /// are undone there by a compensating group.
    fn compensate(&mut self, ops: &[OpId]) {
        let comp = self.new_group(None, false, true);
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
                Undo::Changed { old, by_add } => {
                    let new = mem::replace(&mut self.rules.at_mut(id).st, *old);
                    if done {
                        self.add_op(comp, id, Undo::Changed { old: Box::new(new), by_add });
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
        if self.request_floor.is_none() {
            self.finish_deferred();
        }
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
