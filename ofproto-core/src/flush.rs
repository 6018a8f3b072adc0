//! What connection management asks of the tables outside requests: flushing every flow (seed 002's
//! `S_FLUSH` state) and keeping its catch-all NORMAL flows (OVS `ofproto_add_flow` and
//! `ofproto_delete_flow`, used by fail-open and standalone mode).

use std::sync::Arc;

use connmgr_core::{NormalFlow, FAIL_OPEN_PRIORITY};
use ofp_proto::actions::Action;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::FlowModFlags;
use ofp_proto::msg::flow_removed::OFPRR_DELETE;
use ofp_proto::ofmatch::Match;
use ofp_proto::port_no::NORMAL as OFPP_NORMAL;
use ofp_proto::Instant;

use crate::classifier::MatchHash;
use crate::datapath::Datapath;
use crate::ofproto::{OfProto, N_NORMAL};
use crate::rule::{RuleId, RuleState};

fn slot(f: NormalFlow) -> usize {
    match f {
        NormalFlow::Standalone => 0,
        NormalFlow::FailOpen => 1,
    }
}

fn priority(slot: usize) -> u32 {
    if slot == 0 {
        0
    } else {
        FAIL_OPEN_PRIORITY
    }
}

/// The single action of every NORMAL flow.
fn normal_instructions() -> Instructions {
    Instructions::apply([Action::Output { port: OFPP_NORMAL, max_len: 0 }])
}

impl<D: Datapath> OfProto<D> {
    /// Deletes every flow of the visible tables, hidden flows included (OVS `ofproto_flush_flows`),
    /// sending flow removed messages (reason delete) for those that asked. Until every operation
    /// in flight has completed the tables are flushing: requests are postponed and NORMAL-flow
    /// changes wait, then `Event::Retry` is sent. Pending NORMAL-flow requests are dropped (the
    /// flush removes those flows; connection management re-adds what it needs).
    pub fn flush(&mut self, now: Instant) {
        self.normal = [None; N_NORMAL];
        self.flushing = true;
        self.pump(now);
    }

    /// Deletes the flows of visible tables that have no operation pending. Returns true if it
    /// started any deletion.
    pub(crate) fn sweep(&mut self, now: Instant) -> bool {
        let mut ids: Vec<RuleId> = Vec::new();
        for t in self.tables.iter().filter(|t| !t.hidden) {
            t.cls.for_each(|id| {
                if self.rules.at(id).pending.is_none() {
                    ids.push(id);
                }
            });
        }
        if ids.is_empty() {
            return false;
        }
        self.sort_rules(&mut ids);
        let g = self.new_group(None, false, false);
        for id in ids {
            self.remove_rule(now, g, id, OFPRR_DELETE);
        }
        self.submit(g);
        true
    }

    /// Adds (or gives the NORMAL action back to) connection management's flow `f`: a catch-all in
    /// table 0, priority 0 for standalone mode, hidden priority 0xf0f0f0 while failing open. Done
    /// at once unless a flush is under way or the flow has an operation pending.
    pub fn add_normal_flow(&mut self, now: Instant, f: NormalFlow) {
        self.normal[slot(f)] = Some(true);
        self.pump(now);
    }

    /// Deletes connection management's flow `f`, if present (same timing as `add_normal_flow`).
    pub fn delete_normal_flow(&mut self, now: Instant, f: NormalFlow) {
        self.normal[slot(f)] = Some(false);
        self.pump(now);
    }

    /// Carries out the NORMAL-flow requests that can go now. Returns true if it started any
    /// operation.
    pub(crate) fn apply_normal_flows(&mut self, now: Instant) -> bool {
        if self.flushing || self.tables.is_empty() {
            return false;
        }
        let mut started = false;
        let catchall = Match::catchall();
        let hash = MatchHash::of(&catchall);
        for s in 0..N_NORMAL {
            let Some(add) = self.normal[s] else { continue };
            let prio = priority(s);
            let existing = self.tables[0].cls.find_exactly(&self.rules, &catchall, hash, prio);
            let busy = match existing {
                Some(id) => self.rules.at(id).pending.is_some(),
                None => self.deletion_pending(0, &catchall, prio, None),
            };
            if busy {
                continue;
            }
            self.normal[s] = None;
            let g = self.new_group(None, false, false);
            let wanted = Arc::new(normal_instructions());
            match (add, existing) {
                (true, None) => {
                    let st = RuleState {
                        cookie: 0,
                        idle_timeout: 0,
                        hard_timeout: 0,
                        flags: FlowModFlags::default(),
                        importance: 0,
                        instructions: wanted,
                        created: now,
                        modified: now,
                        used: now,
                        packet_count: 0,
                        byte_count: 0,
                    };
                    self.create_rule(g, 0, &catchall, hash, prio, st);
                }
                (true, Some(id)) if self.rules.at(id).st.instructions != wanted => {
                    // OVS falls back to a modify-strict flow mod: cookie, timeouts and counters stay.
                    let old = &self.rules.at(id).st;
                    let st = RuleState { instructions: wanted, modified: now, ..old.clone() };
                    self.change_rule(g, id, st, false);
                }
                (false, Some(id)) => self.remove_rule(now, g, id, OFPRR_DELETE),
                _ => {}
            }
            if self.group_mut(g).ops.is_empty() {
                self.groups.remove(&g);
            } else {
                self.submit(g);
                started = true;
            }
        }
        started
    }
}
