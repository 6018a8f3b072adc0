//! A toy flow table for the fake owners of tests, the fuzz driver and simulations: enough of OVS's
//! flow-mod semantics to drive flow monitors (add or replace; loose and strict modify and delete
//! with cookie, out_port and out_group filters), reporting each change as a [`RuleEvent`] and
//! answering [`RuleQuery`]s. No priorities in lookups, no timeouts, no overlap checks.

use std::sync::Arc;

use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand, OFPG_ANY};
use ofp_proto::msg::flow_removed::OFPRR_DELETE;
use ofp_proto::port_no::ANY as OFPP_ANY;

use crate::monitor::{is_loose_match, RuleEvent, RuleEventKind, RuleQuery, RuleSnapshot};
use crate::owner::ConnId;

/// The rules, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleTable {
    rules: Vec<RuleSnapshot>,
}

/// Who made a change: the connection and xid of its request, if any.
pub type Requester = Option<(ConnId, u32)>;

fn event(kind: RuleEventKind, rule: &RuleSnapshot, by: Requester) -> RuleEvent {
    RuleEvent {
        kind,
        rule: rule.clone(),
        old_instructions: None,
        conn: by.map(|(c, _)| c),
        xid: by.map_or(0, |(_, x)| x),
    }
}

impl RuleTable {
    pub fn rules(&self) -> &[RuleSnapshot] {
        &self.rules
    }

    /// Carries out `fm` (its table 0xff means table 0 for an add, every table otherwise), calling
    /// `report` with each change and storing the seqnos it returns on the rule, as an owner must.
    pub fn apply(&mut self, fm: &FlowMod, by: Requester, mut report: impl FnMut(RuleEvent) -> u64) {
        let match_ = fm.match_.canonical();
        let strict = matches!(fm.command, FlowModCommand::ModifyStrict | FlowModCommand::DeleteStrict);
        let selected = |r: &RuleSnapshot| {
            (fm.table_id == 0xff || fm.table_id == r.table_id)
                && (r.cookie ^ fm.cookie) & fm.cookie_mask == 0
                && if strict {
                    r.match_ == match_ && r.priority == fm.priority
                } else {
                    is_loose_match(&r.match_, &match_)
                }
        };
        match fm.command {
            FlowModCommand::Add => {
                let table_id = if fm.table_id == 0xff { 0 } else { fm.table_id };
                let new = RuleSnapshot {
                    table_id,
                    priority: fm.priority,
                    match_,
                    cookie: fm.new_cookie,
                    idle_timeout: fm.idle_timeout,
                    hard_timeout: fm.hard_timeout,
                    instructions: Arc::new(fm.instructions.clone()),
                    add_seqno: 0,
                    modify_seqno: 0,
                };
                let same = |r: &RuleSnapshot| r.table_id == table_id && r.priority == fm.priority && r.match_ == match_;
                let mut ev = event(RuleEventKind::Added, &new, by);
                let slot = match self.rules.iter().position(same) {
                    Some(i) => {
                        let old = std::mem::replace(&mut self.rules[i], new);
                        ev.old_instructions = (old.instructions != ev.rule.instructions).then_some(old.instructions);
                        i
                    }
                    None => {
                        self.rules.push(new);
                        self.rules.len() - 1
                    }
                };
                let seqno = report(ev);
                let r = &mut self.rules[slot];
                (r.add_seqno, r.modify_seqno) = (seqno, seqno);
            }
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => {
                let instructions = Arc::new(fm.instructions.clone());
                for r in self.rules.iter_mut().filter(|r| selected(r)) {
                    let old = std::mem::replace(&mut r.instructions, instructions.clone());
                    let changed_actions = old != r.instructions;
                    let old_cookie = r.cookie;
                    if fm.modify_cookie && fm.new_cookie != u64::MAX {
                        r.cookie = fm.new_cookie;
                    }
                    if changed_actions || r.cookie != old_cookie {
                        let mut ev = event(RuleEventKind::Modified, r, by);
                        ev.old_instructions = changed_actions.then_some(old);
                        r.modify_seqno = report(ev);
                    }
                }
            }
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let out_port =
                    |r: &RuleSnapshot| fm.out_port == OFPP_ANY || r.instructions.outputs_to_port(fm.out_port);
                let out_group =
                    |r: &RuleSnapshot| fm.out_group == OFPG_ANY || r.instructions.outputs_to_group(fm.out_group);
                self.remove_where(|r| selected(r) && out_port(r) && out_group(r), OFPRR_DELETE, by, report);
            }
        }
    }

    /// Removes the rules `which` picks (a delete, an expiry, a flush), reporting each.
    pub fn remove_where(
        &mut self,
        mut which: impl FnMut(&RuleSnapshot) -> bool,
        reason: u8,
        by: Requester,
        mut report: impl FnMut(RuleEvent) -> u64,
    ) {
        self.rules.retain(|r| {
            if !which(r) {
                return true;
            }
            report(event(RuleEventKind::Removed { reason }, r, by));
            false
        });
    }

    /// [`Owner::flow_monitor_rules`](crate::Owner::flow_monitor_rules) for these rules.
    pub fn query(&self, q: &RuleQuery<'_>) -> Vec<RuleSnapshot> {
        self.rules
            .iter()
            .filter(|r| (q.table_id == 0xff || q.table_id == r.table_id) && is_loose_match(&r.match_, q.match_))
            .filter(|r| q.since == 0 || r.modify_seqno > q.since)
            .cloned()
            .collect()
    }
}
