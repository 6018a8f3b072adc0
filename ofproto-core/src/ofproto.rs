//! `OfProto`: the flow tables, the rules in them, lookups and statistics, and what the tables hand
//! out for their embedder to drain (asynchronous messages, op-group completions, retries; rule
//! changes for flow monitors are in `monitor.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use connmgr_core::{AsyncMsg, ConnId, ConnMgr, OpGroupId};
use ofp_proto::flow::Flow;
use ofp_proto::instructions::Instructions;
use ofp_proto::port_no::MAX_PHYSICAL as OFPP_MAX;
use ofp_proto::{Instant, OfpErr};

use crate::classifier::{Classifier, MatchHash};
use crate::datapath::{Datapath, OpId, OpResult};
use crate::hash::{MixMap, PreHashedMap};
use crate::monitor::MonitorBatch;
use crate::opgroup::{GroupKey, OpGroup, Operation};
use crate::rule::{Rule, RuleId, Rules};

/// How many flow tables there are and which are internal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Tables 0..n_tables exist (at most 255: 255 means "all tables" in requests).
    pub n_tables: u8,
    /// The last `n_hidden_tables` tables are internal, as OVS's table 254 is: hidden from
    /// "all tables" requests, statistics and table features, and read-only to OpenFlow.
    pub n_hidden_tables: u8,
    /// Output ports at or above this (and below the reserved ports) are refused in actions.
    pub max_ports: u32,
}

impl Default for Config {
    /// ovs-vswitchd's: 255 tables, 0–253 visible, 254 internal.
    fn default() -> Config {
        Config { n_tables: 255, n_hidden_tables: 1, max_ports: OFPP_MAX }
    }
}

/// What the switch can carry out, checked when a flow mod adds or changes instructions (OVS
/// `ofproto_check_ofpacts`: groups and meters that exist; here also whatever the packet path does
/// not implement). The default accepts everything.
pub type ActionCheck = fn(&Instructions) -> Result<(), OfpErr>;

fn accept_all(_: &Instructions) -> Result<(), OfpErr> {
    Ok(())
}

/// Groups in flight at which new flow mods are postponed (OVS: 50).
pub const MAX_PENDING_GROUPS: usize = 50;

/// One flow table.
#[derive(Clone, Debug, Default)]
pub(crate) struct OfTable {
    pub(crate) cls: Classifier,
    /// Hidden rules in it, left out of its active count.
    pub(crate) n_hidden_rules: usize,
    /// Internal table: hidden and read-only.
    pub(crate) hidden: bool,
    pub(crate) n_matched: u64,
    pub(crate) n_missed: u64,
}

/// Something the tables hand their embedder (see [`OfProto::poll_event`]).
// Few events and drained at once: not worth boxing the message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// For `ConnMgr::send_async`: flow removed messages from expiries, flushes and the completion
    /// of deletions requested earlier.
    Async(AsyncMsg),
    /// For `ConnMgr::op_group_completed`: a request's operations all completed.
    OpGroupCompleted { conn: ConnId, group: OpGroupId, result: Result<(), OfpErr> },
    /// For `ConnMgr::retry`: an internal operation group completed, or a flush ended, so postponed
    /// requests may now go through.
    Retry,
}

/// Which of connection management's NORMAL flows a pending request is about.
pub(crate) const N_NORMAL: usize = 2;

/// The flow tables with asynchronous operations (OVS `struct ofproto` with seed 002's `ofopgroup`s).
pub struct OfProto<D> {
    pub(crate) cfg: Config,
    pub(crate) dp: D,
    pub(crate) tables: Vec<OfTable>,
    pub(crate) rules: Rules,
    pub(crate) next_seq: u64,
    pub(crate) groups: BTreeMap<GroupKey, OpGroup>,
    pub(crate) ops: MixMap<OpId, Operation>,
    pub(crate) next_op: u64,
    pub(crate) next_group: u64,
    /// Completions decided without the datapath (changes it need not see), processed like its own.
    pub(crate) local: VecDeque<(OpId, OpResult)>,
    /// Rules out of their table whose removal is pending, by hash of (table, priority, match).
    pub(crate) deletions: PreHashedMap<smallvec::SmallVec<[RuleId; 1]>>,
    /// Expiry deadlines of rules with no operation pending.
    pub(crate) timers: BTreeSet<(Instant, RuleId)>,
    /// OVS `S_FLUSH`: deleting everything, no requests processed until nothing is pending.
    pub(crate) flushing: bool,
    /// Connection management's pending NORMAL-flow requests (true: add, false: delete), applied
    /// when not flushing and the flow has no operation pending.
    pub(crate) normal: [Option<bool>; N_NORMAL],
    pub(crate) events: VecDeque<Event>,
    /// Rule changes of finished groups not yet handed to flow monitors, a batch per group.
    pub(crate) monitor: VecDeque<MonitorBatch>,
    /// While `ConnMgr` has the tables handle a request: the key its group gets (or got). Groups
    /// created before it that complete meanwhile are held back in `deferred`.
    pub(crate) request_floor: Option<GroupKey>,
    /// While `ConnMgr` has the tables handle a request no flow monitor can hear of: the rules its
    /// group changed that take a seqno (see `Changes::Seqnos`), stamped when the request ends.
    pub(crate) request_seqnos: Option<Vec<(RuleId, bool)>>,
    /// Groups whose operations all completed during a request that did not start them.
    pub(crate) deferred: Vec<GroupKey>,
    /// A request waited for undelivered rule changes: `ConnMgr` should retry once they are out.
    pub(crate) retry_after_reports: bool,
    /// Groups finished during the current call that were never handed to `ConnMgr`, with their
    /// first error and the tag (bundle entry) of the operation that caused it.
    pub(crate) finished: Vec<(GroupKey, Option<(OfpErr, usize)>)>,
    /// Counts returns from `pump`, i.e. calls into the tables: a group created in an earlier
    /// epoch than the one it finishes in may have made requests wait, so its end means a retry.
    pub(crate) epoch: u64,
    pub(crate) action_check: ActionCheck,
    /// The instructions of the last add or modify, for the next one to share.
    pub(crate) last_instructions: Option<Arc<Instructions>>,
}

impl<D: Datapath> OfProto<D> {
    /// # Panics
    /// If `cfg.n_tables` is 0.
    pub fn new(cfg: Config, dp: D) -> OfProto<D> {
        assert!(cfg.n_tables > 0, "a switch needs a flow table");
        let n_visible = cfg.n_tables.saturating_sub(cfg.n_hidden_tables);
        let tables = (0..cfg.n_tables).map(|i| OfTable { hidden: i >= n_visible, ..OfTable::default() }).collect();
        OfProto {
            cfg,
            dp,
            tables,
            rules: Rules::default(),
            next_seq: 0,
            groups: BTreeMap::new(),
            ops: MixMap::default(),
            next_op: 0,
            next_group: 0,
            local: VecDeque::new(),
            deletions: PreHashedMap::default(),
            timers: BTreeSet::new(),
            flushing: false,
            normal: [None; N_NORMAL],
            events: VecDeque::new(),
            monitor: VecDeque::new(),
            request_floor: None,
            request_seqnos: None,
            deferred: Vec::new(),
            retry_after_reports: false,
            finished: Vec::new(),
            epoch: 0,
            action_check: accept_all,
            last_instructions: None,
        }
    }

    /// Sets what adds and modifies check their instructions with (see [`ActionCheck`]).
    pub fn set_action_check(&mut self, check: ActionCheck) {
        self.action_check = check;
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn datapath(&self) -> &D {
        &self.dp
    }

    pub fn datapath_mut(&mut self) -> &mut D {
        &mut self.dp
    }

    /// Tables OpenFlow sees (OVS `ofproto_get_n_visible_tables`), what a features reply announces.
    pub fn n_visible_tables(&self) -> u8 {
        self.cfg.n_tables.saturating_sub(self.cfg.n_hidden_tables)
    }

    // ----- rules -----

    pub fn rule(&self, id: RuleId) -> Option<&Rule> {
        self.rules.get(id)
    }

    /// Rules in tables plus rules whose removal is still pending.
    pub fn n_rules(&self) -> usize {
        self.rules.len()
    }

    /// Flows OpenFlow sees: the rules of the visible tables, hidden ones excluded (what
    /// `ovs-ofctl dump-flows` would list).
    pub fn n_visible_flows(&self) -> usize {
        self.tables.iter().filter(|t| !t.hidden).map(|t| t.cls.len() - t.n_hidden_rules).sum()
    }

    /// Rules in table `table_id` (pending additions included, pending removals not).
    pub fn table_len(&self, table_id: u8) -> usize {
        self.tables.get(usize::from(table_id)).map_or(0, |t| t.cls.len())
    }

    /// Every rule in table `table_id`, best first (priority descending, then insertion order).
    pub fn table_rules(&self, table_id: u8) -> Vec<RuleId> {
        let mut ids = Vec::new();
        if let Some(t) = self.tables.get(usize::from(table_id)) {
            t.cls.for_each(|id| ids.push(id));
        }
        self.sort_rules(&mut ids);
        ids
    }

    /// Orders rules as statistics list them: by table, then priority descending, then age.
    pub(crate) fn sort_rules(&self, ids: &mut [RuleId]) {
        ids.sort_by_key(|&id| {
            let r = self.rules.at(id);
            (r.table_id, std::cmp::Reverse(r.priority), r.seq)
        });
    }

    /// The rule in `table_id` with exactly this match and priority.
    pub fn find_exactly(&self, table_id: u8, m: &ofp_proto::ofmatch::Match, priority: u32) -> Option<RuleId> {
        let t = self.tables.get(usize::from(table_id))?;
        let m = m.canonical();
        t.cls.find_exactly(&self.rules, &m, MatchHash::of(&m), priority)
    }

    /// The highest-priority rule of `table_id` matching `pkt`, counted in the table's lookup and
    /// matched statistics (OVS `rule_dpif_lookup_in_table`). Among equal priorities the oldest rule
    /// wins. Rules whose addition is pending already match; rules whose removal is pending do not.
    pub fn lookup(&mut self, table_id: u8, pkt: &Flow) -> Option<RuleId> {
        self.lookup_n(table_id, pkt, 1)
    }

    /// [`OfProto::lookup`] on behalf of `n_packets` packets of the same flow.
    pub fn lookup_n(&mut self, table_id: u8, pkt: &Flow, n_packets: u64) -> Option<RuleId> {
        let t = self.tables.get_mut(usize::from(table_id))?;
        let found = t.cls.lookup(&self.rules, pkt);
        let counter = if found.is_some() { &mut t.n_matched } else { &mut t.n_missed };
        *counter = counter.wrapping_add(n_packets);
        found
    }

    /// [`OfProto::lookup`] without touching the statistics.
    pub fn classify(&self, table_id: u8, pkt: &Flow) -> Option<RuleId> {
        self.tables.get(usize::from(table_id))?.cls.lookup(&self.rules, pkt)
    }

    /// Credits `packets` and `bytes` seen at `now` to rule `id` (OVS `rule_dpif_credit_stats`); a
    /// packet restarts its idle timeout.
    pub fn credit(&mut self, now: Instant, id: RuleId, packets: u64, bytes: u64) {
        let Some(r) = self.rules.get_mut(id) else { return };
        r.st.packet_count = r.st.packet_count.wrapping_add(packets);
        r.st.byte_count = r.st.byte_count.wrapping_add(bytes);
        if packets > 0 && now > r.st.used {
            r.st.used = now;
            if r.st.idle_timeout != 0 {
                self.schedule(id);
            }
        }
    }

    // ----- expiry -----

    /// Files rule `id` under its expiry deadline, unless an operation is pending on it (it is filed
    /// again when that completes).
    pub(crate) fn schedule(&mut self, id: RuleId) {
        let r = self.rules.at_mut(id);
        let want = if r.pending.is_some() { None } else { r.st.expiry() };
        if r.scheduled == want {
            return;
        }
        if let Some(t) = r.scheduled.take() {
            self.timers.remove(&(t, id));
        }
        if let Some(t) = want {
            r.scheduled = Some(t);
            self.timers.insert((t, id));
        }
    }

    pub(crate) fn unschedule(&mut self, id: RuleId) {
        if let Some(t) = self.rules.at_mut(id).scheduled.take() {
            self.timers.remove(&(t, id));
        }
    }

    /// The next instant a rule's idle or hard timeout fires (or a past instant, if groups held
    /// back during a request wait to finish). Expiry is exact to the millisecond: a rule with
    /// hard timeout T added at t is removed by `handle_timeout(t + T s)` (OVS checks once a
    /// second, so it removes it up to a second later).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if !self.deferred.is_empty() {
            return Some(Instant::ZERO);
        }
        self.timers.first().map(|(t, _)| *t)
    }

    /// Removes the rules whose timeouts fired by `now` (hard before idle when both did), sending
    /// flow removed messages for those that asked, and picks up datapath completions. Rules with
    /// an operation pending expire once it completes.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut group = None;
        while let Some(&(t, id)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            self.rules.at_mut(id).scheduled = None;
            let st = &self.rules.at(id).st;
            let reason = if st.hard_deadline().is_some_and(|d| d <= now) {
                ofp_proto::msg::flow_removed::OFPRR_HARD_TIMEOUT
            } else {
                ofp_proto::msg::flow_removed::OFPRR_IDLE_TIMEOUT
            };
            let g = *group.get_or_insert_with(|| self.new_group(None, false, false));
            self.remove_rule(now, g, id, reason);
        }
        if let Some(g) = group {
            self.submit(g);
        }
        self.pump(now);
    }

    /// Picks up the datapath's completions (e.g. after `TestDatapath::unclog`).
    pub fn run(&mut self, now: Instant) {
        self.pump(now);
    }

    /// Reports the completion of datapath operation `op` (unknown or repeated ids are logged and
    /// ignored). A failed install or modify is rolled back.
    pub fn complete(&mut self, now: Instant, op: OpId, result: OpResult) {
        self.complete_op(op, result);
        self.pump(now);
    }

    // ----- output -----

    /// The next thing for the embedder: see [`Event`]. Drain after every call into the tables,
    /// together with [`OfProto::forward_monitor_events`] (or call [`OfProto::forward_events`]).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Hands everything pending to `mgr`: first the rule changes for flow monitors (each
    /// request's or switch operation's changes as one batch, flushed), then every [`Event`]. Call
    /// it after every call into the tables and after every `ConnMgr` call that takes the tables
    /// as owner.
    pub fn forward_events(&mut self, now: Instant, mgr: &mut ConnMgr) {
        self.forward_monitor_events(now, mgr);
        if std::mem::take(&mut self.retry_after_reports) {
            mgr.retry();
        }
        while let Some(e) = self.poll_event() {
            match e {
                Event::Async(msg) => mgr.send_async(now, msg),
                Event::OpGroupCompleted { conn, group, result } => mgr.op_group_completed(now, conn, group, result),
                Event::Retry => mgr.retry(),
            }
        }
    }

    pub(crate) fn push_retry(&mut self) {
        if self.events.back() != Some(&Event::Retry) {
            self.events.push_back(Event::Retry);
        }
    }

    /// Operation groups in flight.
    pub fn n_pending_groups(&self) -> usize {
        self.groups.len()
    }

    /// True while a flush waits for pending operations (no requests are processed).
    pub fn is_flushing(&self) -> bool {
        self.flushing
    }
}
