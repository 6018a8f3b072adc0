//! What a flow mod does to the tables (OVS 3.1 `ofproto.c` semantics, with seed 002's
//! postponement): which rules a request selects, adds that replace, modifies that may add, deletes
//! with out_port/out_group filters, and the checks done before anything changes.

use std::borrow::Cow;
use std::sync::Arc;

use connmgr_core::{ConnId, OpGroupId};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand, FlowModFlags, NO_BUFFER, OFPG_ANY, OFPTT_ALL};
use ofp_proto::msg::flow_removed::OFPRR_DELETE;
use ofp_proto::ofmatch::Match;
use ofp_proto::port_no;
use ofp_proto::{Instant, OfpErr};

use crate::classifier::MatchHash;
use crate::datapath::Datapath;
use crate::ofproto::{OfProto, MAX_PENDING_GROUPS};
use crate::opgroup::GroupKey;
use crate::rule::{RuleId, RuleState};

/// Why a request was not carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not processed at all: a rule it concerns has an operation pending, too many groups are in
    /// flight, or a flush is under way. Offer it again after the next group completes.
    Postpone,
    /// Failed with this error (nothing changed).
    Error(OfpErr),
}

impl From<OfpErr> for Refusal {
    fn from(e: OfpErr) -> Refusal {
        Refusal::Error(e)
    }
}

/// Where a started request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Every operation completed (successfully) before the call returned.
    Done,
    /// Operations are in flight; the requester (if any) gets `Event::OpGroupCompleted` for the
    /// group it named.
    Pending,
}

/// Who asked: the connection, the request's xid, and the `ConnMgr` operation group to report the
/// completion under if the request outlives the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requester {
    pub conn: ConnId,
    pub xid: u32,
    pub group: OpGroupId,
}

/// A bundle that failed synchronously: entry `index` failed (nothing remains applied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleRefusal {
    pub index: usize,
    pub refusal: Refusal,
}

/// Which rules a request selects (OVS `struct rule_criteria`).
#[derive(Clone, Debug)]
pub(crate) struct Criteria {
    pub(crate) table_id: u8,
    /// Canonical.
    pub(crate) target: Match,
    /// `Some` for strict matching.
    pub(crate) priority: Option<u32>,
    pub(crate) cookie: u64,
    pub(crate) cookie_mask: u64,
    pub(crate) out_port: u32,
    pub(crate) out_group: u32,
    /// Only internal requests (priorities above 65535) see hidden rules.
    pub(crate) include_hidden: bool,
    /// Reads see rules of read-only tables; changes do not.
    pub(crate) include_readonly: bool,
}

impl Criteria {
    /// What a flow or aggregate statistics request selects.
    pub(crate) fn read(
        table_id: u8,
        target: &Match,
        cookie: u64,
        cookie_mask: u64,
        out_port: u32,
        out_group: u32,
    ) -> Self {
        Criteria {
            table_id,
            target: target.canonical(),
            priority: None,
            cookie,
            cookie_mask,
            out_port,
            out_group,
            include_hidden: false,
            include_readonly: true,
        }
    }

    /// What a modify or delete selects (OVS `rule_criteria_init` + `rule_criteria_require_rw`).
    fn write(fm: &FlowMod, priority: Option<u32>, out_port: u32, out_group: u32) -> Self {
        Criteria {
            table_id: fm.table_id,
            target: fm.match_.canonical(),
            priority,
            cookie: fm.cookie,
            cookie_mask: fm.cookie_mask,
            out_port,
            out_group,
            include_hidden: priority.is_some_and(|p| p > u32::from(u16::MAX)),
            include_readonly: false,
        }
    }
}

/// A new rule's state from an add (OVS `ofproto_rule_create`), with `instructions` (`fm`'s).
fn added_state(fm: &FlowMod, instructions: Arc<Instructions>, now: Instant) -> RuleState {
    RuleState {
        cookie: fm.new_cookie,
        idle_timeout: fm.idle_timeout,
        hard_timeout: fm.hard_timeout,
        flags: FlowModFlags(fm.flags.0 & !FlowModFlags::EMERG),
        importance: fm.importance,
        instructions,
        created: now,
        modified: now,
        used: now,
        packet_count: 0,
        byte_count: 0,
    }
}

/// What carries over when a rule is replaced or modified (OVS `replace_rule_start` and
/// `rule_insert`): the last-used time always, the counters unless the flow mod resets them, and the
/// cookie unless the flow mod changes it.
fn carry_over(new: &mut RuleState, old: &RuleState, fm: &FlowMod, modify_cookie: bool) {
    new.used = old.used;
    (new.packet_count, new.byte_count) =
        if fm.flags.has(FlowModFlags::RESET_COUNTS) { (0, 0) } else { (old.packet_count, old.byte_count) };
    new.cookie = if modify_cookie && fm.new_cookie != u64::MAX { fm.new_cookie } else { old.cookie };
}

impl<D: Datapath> OfProto<D> {
    /// `instructions` to store in a rule: shared with the rule added or modified last if they are
    /// the same (controllers often program many flows with the same actions in a row), so each
    /// such rule costs a reference count rather than a copy.
    fn share_instructions(&mut self, instructions: &Instructions) -> Arc<Instructions> {
        match &self.last_instructions {
            Some(last) if **last == *instructions => last.clone(),
            _ => self.last_instructions.insert(Arc::new(instructions.clone())).clone(),
        }
    }

    /// OVS `check_table_id`.
    pub(crate) fn check_table_id(&self, table_id: u8) -> bool {
        table_id == OFPTT_ALL || table_id < self.cfg.n_tables
    }

    /// The checks OVS makes before a flow mod starts (`ofproto_flow_mod_init`, also run when a flow
    /// mod is added to a bundle).
    pub fn check_flow_mod(&self, fm: &FlowMod) -> Result<(), OfpErr> {
        self.check_flow_mod_fields(fm.table_id, fm.command, fm.buffer_id)
    }

    /// [`OfProto::check_flow_mod`] on the only fields it reads, which a flow mod's view has too.
    pub fn check_flow_mod_fields(&self, table_id: u8, command: FlowModCommand, buffer_id: u32) -> Result<(), OfpErr> {
        if !self.check_table_id(table_id) {
            return Err(OfpErr::OFPBRC_BAD_TABLE_ID);
        }
        if !command.is_delete() {
            // Adds, and modifies that may add, go to table 0 when none is named.
            let table = if table_id == OFPTT_ALL { 0 } else { table_id };
            if self.tables[usize::from(table)].hidden {
                return Err(OfpErr::OFPBRC_EPERM);
            }
            if buffer_id != NO_BUFFER {
                return Err(OfpErr::OFPBRC_BUFFER_UNKNOWN);
            }
        }
        Ok(())
    }

    /// The rules `c` selects, in statistics order (OVS `collect_rules_loose`/`_strict`). A selected
    /// rule with an operation pending in a group other than `g` (any group, for reads) postpones
    /// the request, as seed 002 does.
    pub(crate) fn collect(&self, c: &Criteria, g: Option<GroupKey>) -> Result<Vec<RuleId>, Refusal> {
        if !self.check_table_id(c.table_id) {
            return Err(Refusal::Error(OfpErr::OFPBRC_BAD_TABLE_ID));
        }
        let (mut ids, mut n_readonly, mut postpone) = (Vec::new(), 0usize, false);
        let tables: Vec<u8> = if c.table_id == OFPTT_ALL {
            (0..self.cfg.n_tables).filter(|&t| !self.tables[usize::from(t)].hidden).collect()
        } else {
            vec![c.table_id]
        };
        for t in tables {
            let table = &self.tables[usize::from(t)];
            let mut visit = |id: RuleId| {
                let r = self.rules.at(id);
                if r.pending.is_some() && g.is_none_or(|g| self.pending_elsewhere(id, g)) {
                    postpone = true;
                    return;
                }
                // OVS `ofproto_rule_has_out_port` / `_out_group`.
                let ins = &r.st.instructions;
                if (c.out_port != port_no::ANY && !ins.outputs_to_port(c.out_port))
                    || (c.out_group != OFPG_ANY && !ins.outputs_to_group(c.out_group))
                    || (r.st.cookie ^ c.cookie) & c.cookie_mask != 0
                    || (r.is_hidden() && !c.include_hidden)
                {
                    return;
                }
                if table.hidden && !c.include_readonly {
                    n_readonly += 1;
                } else {
                    ids.push(id);
                }
            };
            match c.priority {
                Some(p) => {
                    if let Some(id) = table.cls.find_exactly(&self.rules, &c.target, MatchHash::of(&c.target), p) {
                        visit(id);
                    }
                }
                None => table.cls.for_each_loose(&self.rules, &c.target, visit),
            }
        }
        if postpone {
            return Err(Refusal::Postpone);
        }
        if ids.is_empty() && n_readonly > 0 {
            return Err(Refusal::Error(OfpErr::OFPBRC_EPERM));
        }
        self.sort_rules(&mut ids);
        Ok(ids)
    }

    /// Makes the table changes of `fm` as operations of group `g` (OVS `ofproto_flow_mod_start`).
    /// On error the caller reverts the group.
    pub(crate) fn start_flow_mod(&mut self, now: Instant, g: GroupKey, fm: &FlowMod) -> Result<(), Refusal> {
        self.check_flow_mod(fm)?;
        let strict = |c: FlowModCommand| (fm.command == c).then_some(u32::from(fm.priority));
        match fm.command {
            FlowModCommand::Add => self.start_add(now, g, fm),
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => {
                let criteria = Criteria::write(fm, strict(FlowModCommand::ModifyStrict), port_no::ANY, OFPG_ANY);
                let ids = self.collect(&criteria, Some(g))?;
                if ids.is_empty() {
                    // OF1.0 and NXM modifies (which carry a new cookie) add when nothing matches.
                    if fm.new_cookie != u64::MAX && fm.cookie_mask == 0 {
                        return self.start_add(now, g, fm);
                    }
                    return Ok(());
                }
                (self.action_check)(&fm.instructions)?;
                let instructions = self.share_instructions(&fm.instructions);
                for id in ids {
                    let old = &self.rules.at(id).st;
                    let mut st = RuleState { instructions: instructions.clone(), modified: now, ..old.clone() };
                    carry_over(&mut st, old, fm, fm.modify_cookie);
                    self.change_rule(g, id, st, false);
                }
                Ok(())
            }
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let criteria = Criteria::write(fm, strict(FlowModCommand::DeleteStrict), fm.out_port, fm.out_group);
                for id in self.collect(&criteria, Some(g))? {
                    self.remove_rule(now, g, id, OFPRR_DELETE);
                }
                Ok(())
            }
        }
    }

    /// OVS `add_flow_start`: replaces a rule with the same match and priority (keeping what
    /// `carry_over` keeps), or checks for overlap and adds.
    fn start_add(&mut self, now: Instant, g: GroupKey, fm: &FlowMod) -> Result<(), Refusal> {
        (self.action_check)(&fm.instructions)?;
        let table_id = if fm.table_id == OFPTT_ALL { 0 } else { fm.table_id };
        // A decoded match is nearly always canonical already: copied only when it is not.
        let m = if fm.match_.is_canonical() { Cow::Borrowed(&fm.match_) } else { Cow::Owned(fm.match_.canonical()) };
        let priority = u32::from(fm.priority);
        let table = &self.tables[usize::from(table_id)];
        let hash = MatchHash::of(&m);
        match table.cls.find_exactly(&self.rules, &m, hash, priority) {
            None => {
                if fm.flags.has(FlowModFlags::CHECK_OVERLAP) && table.cls.overlaps(&self.rules, &m, priority) {
                    return Err(Refusal::Error(OfpErr::OFPFMFC_OVERLAP));
                }
                if self.deletion_pending(table_id, &m, priority, Some(g)) {
                    return Err(Refusal::Postpone);
                }
                let instructions = self.share_instructions(&fm.instructions);
                self.create_rule(g, table_id, &m, hash, priority, added_state(fm, instructions, now));
            }
            Some(id) => {
                if self.pending_elsewhere(id, g) {
                    return Err(Refusal::Postpone);
                }
                let mut st = added_state(fm, self.share_instructions(&fm.instructions), now);
                carry_over(&mut st, &self.rules.at(id).st, fm, true);
                self.change_rule(g, id, st, true);
            }
        }
        Ok(())
    }

    /// Carries out a flow mod (OVS `handle_flow_mod__`) for `requester`: postponed while a flush is
    /// under way or `MAX_PENDING_GROUPS` groups are in flight; otherwise the tables change at once
    /// and the datapath is asked. If operations are still in flight when this returns, the
    /// requester gets `Event::OpGroupCompleted` (with the first error, if any) for `group` later.
    pub fn flow_mod(&mut self, now: Instant, fm: &FlowMod, requester: Option<Requester>) -> Result<Progress, Refusal> {
        let pending = self.run_flow_mod(now, fm, requester.map(|r| (r.conn, r.xid)))?;
        Ok(self.attach(pending, requester.map(|r| r.group)))
    }

    /// Hands a group that outlived its request to `ConnMgr`'s operation group `og`.
    pub(crate) fn attach(&mut self, pending: Option<GroupKey>, og: Option<OpGroupId>) -> Progress {
        match pending {
            None => Progress::Done,
            Some(g) => {
                self.group_mut(g).og = og;
                Progress::Pending
            }
        }
    }

    /// [`OfProto::flow_mod`] before the group is named: the group still in flight, if any.
    pub(crate) fn run_flow_mod(
        &mut self,
        now: Instant,
        fm: &FlowMod,
        requester: Option<(ConnId, u32)>,
    ) -> Result<Option<GroupKey>, Refusal> {
        if self.flushing || self.groups.len() >= MAX_PENDING_GROUPS {
            return Err(Refusal::Postpone);
        }
        let g = self.new_group(requester, false, false);
        if let Err(r) = self.start_flow_mod(now, g, fm) {
            self.revert_unsubmitted(g);
            return Err(r);
        }
        self.settle(now, g).map_err(|(e, _)| Refusal::Error(e))
    }

    /// Submits group `g` and processes what completes at once: `Ok(Some(g))` if it is still in
    /// flight, its first error (with the failing operation's tag) if it already failed.
    pub(crate) fn settle(&mut self, now: Instant, g: GroupKey) -> Result<Option<GroupKey>, (OfpErr, usize)> {
        self.finished.clear();
        self.submit(g);
        self.pump(now);
        if self.groups.contains_key(&g) {
            return Ok(Some(g));
        }
        match self.finished.iter().find(|(k, _)| *k == g) {
            Some((_, Some(e))) => Err(*e),
            _ => Ok(None),
        }
    }

    /// Commits flow mods as one atomic change (OVS `do_bundle_commit` for flow mods): applied in
    /// order; if one fails, none remains applied. A datapath failure reported later also undoes
    /// the whole bundle (the requester then gets the error with `Event::OpGroupCompleted`).
    pub fn bundle(
        &mut self,
        now: Instant,
        fms: &[FlowMod],
        requester: Option<Requester>,
    ) -> Result<Progress, BundleRefusal> {
        let xid = requester.map_or(0, |r| r.xid);
        let mut source = SliceSource { fms, next: 0, xid };
        let pending = self.run_bundle(now, &mut source, requester.map(|r| r.conn))?;
        Ok(self.attach(pending, requester.map(|r| r.group)))
    }

    /// [`OfProto::bundle`] with each flow mod's tag (entry index) and xid. A flow mod may come as
    /// the error decoding it gave, which fails the bundle there.
    pub(crate) fn run_bundle(
        &mut self,
        now: Instant,
        fms: &mut impl BundleSource,
        conn: Option<ConnId>,
    ) -> Result<Option<GroupKey>, BundleRefusal> {
        if self.flushing {
            return Err(BundleRefusal { index: 0, refusal: Refusal::Postpone });
        }
        let g = self.new_group(conn.map(|c| (c, 0)), true, false);
        // Room for a bundle of adds: each makes a rule and an operation.
        let n = fms.max_len();
        self.rules.reserve(n);
        self.ops.reserve(n);
        self.group_mut(g).ops.reserve(n);
        while let Some((index, xid, fm)) = fms.next_flow_mod() {
            let group = self.group_mut(g);
            (group.tag, group.xid) = (index, xid);
            if let Err(refusal) = fm.map_err(Refusal::Error).and_then(|fm| self.start_flow_mod(now, g, fm)) {
                self.revert_unsubmitted(g);
                return Err(BundleRefusal { index, refusal });
            }
        }
        self.settle(now, g).map_err(|(e, index)| BundleRefusal { index, refusal: Refusal::Error(e) })
    }
}

/// The flow mods of a bundle for [`OfProto::run_bundle`], one at a time: each may be borrowed from
/// the source (a bundle's entries are decoded one by one into the same place).
pub(crate) trait BundleSource {
    /// At most how many flow mods are to come (room is made for that many).
    fn max_len(&self) -> usize;

    /// The next flow mod with its entry index and xid, or the error decoding it gave.
    fn next_flow_mod(&mut self) -> Option<(usize, u32, Result<&FlowMod, OfpErr>)>;
}

/// Flow mods given decoded, all with one xid.
struct SliceSource<'a> {
    fms: &'a [FlowMod],
    next: usize,
    xid: u32,
}

impl BundleSource for SliceSource<'_> {
    fn max_len(&self) -> usize {
        self.fms.len()
    }

    fn next_flow_mod(&mut self) -> Option<(usize, u32, Result<&FlowMod, OfpErr>)> {
        let index = self.next;
        self.next += 1;
        self.fms.get(index).map(|fm| (index, self.xid, Ok(fm)))
    }
}
