//! Translation (OVS `ofproto-dpif-xlate.c`, simplified but real): a packet's flow through the
//! OpenFlow pipeline — table lookups with the table-miss behaviour, goto-table, apply and write
//! actions, write-metadata, clear-actions, resubmit, the action set — turned into datapath
//! actions, with the packet-ins the actions ask for marked where they happen.
//!
//! One translation serves three purposes ([`Purpose`]): a flow miss (rule and table statistics
//! credited, MAC addresses learned), the same flow again per packet for its side effects
//! (packet-ins only), and a packet out (everything at once).

use bytes::Bytes;
use connmgr_core::FAIL_OPEN_PRIORITY;
use ofp_proto::actions::Action;
use ofp_proto::flow::{Flow, FLOW_NW_FRAG_ANY};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::packet_in::OFPR_IMPLICIT_MISS;
use ofp_proto::msg::port::config;
use ofp_proto::msg::switch::FragHandling;
use ofp_proto::ofmatch::Match;
use ofp_proto::Instant;

mod actions;

pub(crate) use actions::pin_metadata;

use crate::datapath::Datapath;
use crate::ofproto::OfProto;
use crate::rule::RuleId;
use crate::switch::commit::commit;
use crate::switch::normal::MacLearning;
use crate::switch::odp::DpAction;
use crate::switch::ports::PortTable;

/// OVS `MAX_DEPTH`: nested resubmits (and goto/output TABLE that go backwards).
pub const MAX_DEPTH: usize = 64;
/// OVS `MAX_RESUBMITS`: rules one translation may run.
pub const MAX_RESUBMITS: usize = MAX_DEPTH * MAX_DEPTH;
/// Actions one translation may produce (OVS refuses datapath action lists over 64 KiB).
pub const MAX_ACTIONS: usize = 8192;

/// What translation reads and changes besides the flow.
pub(crate) struct Env<'a, D> {
    pub tables: &'a mut OfProto<D>,
    pub ports: &'a PortTable,
    pub mac: &'a mut MacLearning,
    pub now: Instant,
    pub frag: FragHandling,
    /// A table miss sends a packet-in (some controller speaks OpenFlow below 1.3).
    pub miss_to_controller: bool,
}

/// Why a flow is translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Purpose {
    /// Credit rules and tables with (packets, bytes); `None` for a re-translation.
    pub stats: Option<(u64, u64)>,
    /// Let NORMAL learn source addresses.
    pub learn: bool,
    /// The actions are a packet out's (output to CONTROLLER gives reason PACKET_OUT).
    pub packet_out: bool,
}

/// A packet-in an action asks for, with what the message says besides the packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PinSpec {
    /// `OFPR_*`, OVS's internal miss reasons included.
    pub reason: u8,
    pub controller_id: u16,
    pub table_id: u8,
    pub cookie: u64,
    pub userdata: Bytes,
    /// In port and the pipeline fields set (OVS `flow_get_metadata`).
    pub metadata: Match,
    pub in_port: u32,
}

/// One step of a translation's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum XAction {
    Dp(DpAction),
    /// Send the frame as it is at this point to the controllers.
    Controller(Box<PinSpec>),
}

/// A translation's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Translation {
    pub actions: Vec<XAction>,
    /// The first rule was the fail-open rule.
    pub fail_open: bool,
}

impl Translation {
    pub fn has_controller(&self) -> bool {
        self.actions.iter().any(|a| matches!(a, XAction::Controller(_)))
    }

    /// The datapath's part.
    pub fn dp_actions(&self) -> impl Iterator<Item = DpAction> + '_ {
        self.actions.iter().filter_map(|a| match a {
            XAction::Dp(d) => Some(*d),
            XAction::Controller(_) => None,
        })
    }
}

/// Where translation starts.
pub(crate) enum Start<'p> {
    /// Table 0 (a packet received on a port).
    Pipeline,
    /// A packet out's action list.
    Actions(&'p [Action]),
}

/// The rule whose actions are running, as packet-ins report it.
#[derive(Clone, Copy, Debug)]
struct Running {
    cookie: u64,
    /// Priority 0 with a catch-all match (OVS `rule_is_table_miss`).
    table_miss: bool,
}

struct Ctx<'e, 'a, D> {
    env: &'e mut Env<'a, D>,
    purpose: Purpose,
    flow: Flow,
    /// The headers the frame has, as far as emitted actions changed it.
    base: Flow,
    out: Vec<XAction>,
    action_set: Vec<Action>,
    table_id: u8,
    rule: Running,
    depth: usize,
    resubmits: usize,
    exit: bool,
    error: bool,
    in_action_set: bool,
}

/// What a table lookup found.
enum Found {
    Rule(RuleId),
    Miss,
    /// A fragment while fragments are dropped (OVS's `drop_frags_rule`).
    DroppedFragment,
}

/// Translates `flow`, from table 0 or from a packet out's actions.
pub(crate) fn translate<D: Datapath>(
    env: &mut Env<'_, D>,
    flow: &Flow,
    purpose: Purpose,
    start: Start<'_>,
) -> Translation {
    let mut ctx = Ctx {
        env,
        purpose,
        flow: *flow,
        base: *flow,
        out: Vec::new(),
        action_set: Vec::new(),
        table_id: 0,
        rule: Running { cookie: u64::MAX, table_miss: false },
        depth: 0,
        resubmits: 0,
        exit: false,
        error: false,
        in_action_set: false,
    };
    let mut fail_open = false;
    let in_port = ctx.in_port();
    let may_receive = ctx.env.ports.get(in_port).is_none_or(|p| p.desc.config & config::NO_RECV == 0);
    match start {
        Start::Pipeline => {
            let found = ctx.lookup(0, in_port);
            if let Found::Rule(id) = found {
                fail_open =
                    ctx.env.tables.rule(id).is_some_and(|r| r.is_hidden() && r.priority() == FAIL_OPEN_PRIORITY);
            }
            if may_receive {
                ctx.run_found(found, true, 0);
            } else if let (Found::Rule(id), Some((p, b))) = (found, purpose.stats) {
                ctx.env.tables.credit(ctx.env.now, id, p, b);
            }
        }
        Start::Actions(actions) => ctx.do_actions(actions),
    }
    if !ctx.exit && !ctx.error {
        ctx.run_action_set();
    }
    if ctx.error {
        return Translation { actions: Vec::new(), fail_open };
    }
    Translation { actions: ctx.out, fail_open }
}

impl<D: Datapath> Ctx<'_, '_, D> {
    fn in_port(&self) -> u32 {
        self.flow.in_port
    }

    fn push(&mut self, a: XAction) {
        if self.out.len() >= MAX_ACTIONS {
            self.error = true;
        } else {
            self.out.push(a);
        }
    }

    fn commit(&mut self) {
        let mut emitted = Vec::new();
        commit(&mut self.base, &self.flow, &mut |a| emitted.push(a));
        emitted.into_iter().for_each(|a| self.push(XAction::Dp(a)));
    }

    /// OVS `rule_dpif_lookup_from_table` for one table, with the fragment handling.
    fn lookup(&mut self, table_id: u8, in_port: u32) -> Found {
        let mut f = self.flow;
        f.in_port = in_port;
        if f.nw_frag & FLOW_NW_FRAG_ANY != 0 {
            match self.env.frag {
                FragHandling::NxMatch => {}
                FragHandling::Normal | FragHandling::Reassemble => (f.tp_src, f.tp_dst) = (0, 0),
                FragHandling::Drop => return Found::DroppedFragment,
            }
        }
        let found = match self.purpose.stats {
            Some((packets, _)) => self.env.tables.lookup_n(table_id, &f, packets),
            None => self.env.tables.classify(table_id, &f),
        };
        found.map_or(Found::Miss, Found::Rule)
    }

    /// Runs what a lookup in table `table_id` found. A miss sends a packet-in when allowed, as
    /// OVS's internal miss rule does (reason implicit miss, cookie 0).
    fn run_found(&mut self, found: Found, may_packet_in: bool, table_id: u8) {
        let old_table = std::mem::replace(&mut self.table_id, table_id);
        match found {
            Found::Rule(id) => self.run_rule(id, table_id <= old_table),
            Found::Miss => {
                let no_packet_in =
                    self.env.ports.get(self.in_port()).is_some_and(|p| p.desc.config & config::NO_PACKET_IN != 0);
                if may_packet_in && self.env.miss_to_controller && !no_packet_in {
                    let old = std::mem::replace(&mut self.rule, Running { cookie: 0, table_miss: false });
                    self.controller(OFPR_IMPLICIT_MISS, 0, Bytes::new());
                    self.rule = old;
                }
            }
            Found::DroppedFragment => {}
        }
        self.table_id = old_table;
    }

    /// OVS `xlate_resubmit_resource_check`.
    fn resources_left(&mut self) -> bool {
        if self.depth >= MAX_DEPTH || self.resubmits >= MAX_RESUBMITS {
            self.error = true;
        }
        !self.error
    }

    /// Looks up `table_id` (as if the packet came in on `in_port`) and runs what it finds (OVS
    /// `xlate_table_action`).
    fn goto_table(&mut self, table_id: u8, in_port: u32, may_packet_in: bool) {
        if self.resources_left() {
            let found = self.lookup(table_id, in_port);
            self.run_found(found, may_packet_in, table_id);
        }
    }

    /// OVS `xlate_recursively`: credits the rule and runs its instructions.
    fn run_rule(&mut self, id: RuleId, deepens: bool) {
        if !self.resources_left() {
            return;
        }
        self.resubmits += 1;
        let Some(r) = self.env.tables.rule(id) else { return };
        let ins = r.state().instructions.clone();
        let running = Running { cookie: r.state().cookie, table_miss: r.priority() == 0 && r.match_().is_catchall() };
        if let Some((packets, bytes)) = self.purpose.stats {
            self.env.tables.credit(self.env.now, id, packets, bytes);
        }
        let old = std::mem::replace(&mut self.rule, running);
        self.depth += usize::from(deepens);
        self.do_instructions(&ins);
        self.depth -= usize::from(deepens);
        self.rule = old;
    }

    fn do_instructions(&mut self, ins: &Instructions) {
        if !self.do_list(&ins.apply) {
            return;
        }
        if ins.clear_actions {
            self.action_set.clear();
        }
        if let Some(w) = &ins.write_actions {
            self.action_set.extend(w.iter().cloned());
        }
        if let Some((value, mask)) = ins.write_metadata {
            self.flow.metadata = (self.flow.metadata & !mask) | (value & mask);
        }
        if let Some(t) = ins.goto_table {
            if !self.exit && !self.error {
                self.goto_table(t, self.in_port(), true);
            }
        }
    }

    /// A packet out's actions.
    fn do_actions(&mut self, actions: &[Action]) {
        self.do_list(actions);
    }

    /// Runs an action list; false if it stopped early (exit, error, a TTL exception).
    fn do_list(&mut self, actions: &[Action]) -> bool {
        for a in actions {
            if self.exit || self.error || !self.do_action(a) {
                return false;
            }
        }
        !self.exit && !self.error
    }

    /// OVS `xlate_action_set` / `ofpacts_execute_action_set`: nothing unless a final action
    /// (resubmit, output, group) was written; then the last strip-vlan, push-vlan and dec-ttl,
    /// every set in order, and the last final action of the highest class.
    fn run_action_set(&mut self) {
        let set = std::mem::take(&mut self.action_set);
        let slot = |a: &Action| match a {
            Action::StripVlan { .. } => Some(0),
            Action::PushVlan { .. } => Some(1),
            Action::DecTtl { .. } => Some(2),
            _ => None,
        };
        let final_class = |a: &Action| match a {
            Action::CtClear => Some(1),
            Action::Resubmit { .. } => Some(2),
            Action::Output { .. } => Some(3),
            Action::Group(_) => Some(4),
            _ => None,
        };
        let is_set = |a: &Action| {
            matches!(
                a,
                Action::SetField(_)
                    | Action::SetEthSrc(_)
                    | Action::SetEthDst(_)
                    | Action::SetIpDscp(_)
                    | Action::SetIpEcn(_)
                    | Action::SetIpTtl(_)
                    | Action::SetIpv4Src(_)
                    | Action::SetIpv4Dst(_)
                    | Action::SetL4SrcPort { .. }
                    | Action::SetL4DstPort { .. }
                    | Action::SetQueue(_)
                    | Action::SetTunnel { .. }
                    | Action::SetVlanPcp { .. }
                    | Action::SetVlanVid { .. }
            )
        };
        let mut final_action: Option<(u8, &Action)> = None;
        for a in &set {
            if let Some(c) = final_class(a) {
                if final_action.is_none_or(|(fc, _)| c >= fc) {
                    final_action = Some((c, a));
                }
            }
        }
        let Some((_, last)) = final_action else { return };
        let mut list: Vec<&Action> = (0..3).filter_map(|s| set.iter().rev().find(|a| slot(a) == Some(s))).collect();
        list.extend(set.iter().filter(|a| is_set(a)));
        list.push(last);
        let list: Vec<Action> = list.into_iter().cloned().collect();
        self.in_action_set = true;
        self.do_list(&list);
        self.in_action_set = false;
    }
}
