//! Random flow mods, bundles, flushes and expiries against a datapath that applies each operation
//! when it is submitted (or refuses it) and reports completions late and in a random order. Once
//! everything has completed, the tables must hold exactly what the datapath holds (rollbacks and
//! compensations included), nothing may be pending, and every request left pending must have been
//! answered exactly once. Meanwhile flow monitors on connections that join at random points watch
//! through a real `ConnMgr`: whenever they have read everything, the view each rebuilt from its
//! updates must be the rules as monitors know them (the tables without what is still pending),
//! and at the end the tables themselves.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::*;
use connmgr_core::fuzzing::expected_view;
use connmgr_core::{ConnId, OpGroupId};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::{FlowMod, FlowModFlags};
use ofp_proto::msg::monitor::MonitorFlags;
use ofp_proto::ofmatch::Match;
use ofp_proto::{Instant, OfpErr};
use ofproto_core::{Config, Datapath, Event, OfProto, OpId, OpResult, Progress, Requester, Rule};
use proptest::prelude::*;

/// What the datapath holds: (table, priority, match) → instructions.
type Held = BTreeMap<(u8, u32, String), Instructions>;

#[derive(Default)]
struct MirrorDp {
    held: Held,
    /// Completions not yet reported.
    queue: Vec<(OpId, OpResult)>,
    /// Installs and modifies of these priorities fail.
    failing: Vec<u32>,
}

fn key(r: &Rule) -> (u8, u32, String) {
    (r.table_id(), r.priority(), format!("{:?}", r.match_()))
}

impl MirrorDp {
    fn change(&mut self, op: OpId, r: &Rule, install: bool) {
        let result = if self.failing.contains(&r.priority()) {
            Err(OfpErr::OFPFMFC_TABLE_FULL)
        } else {
            let prev = self.held.insert(key(r), r.instructions().clone());
            assert_eq!(prev.is_none(), install, "install of a held rule or modify of a missing one: {r:?}");
            Ok(())
        };
        self.queue.push((op, result));
    }
}

impl Datapath for MirrorDp {
    fn install(&mut self, op: OpId, rule: &Rule) {
        self.change(op, rule, true);
    }

    fn modify(&mut self, op: OpId, rule: &Rule) {
        self.change(op, rule, false);
    }

    fn remove(&mut self, op: OpId, rule: &Rule) {
        assert!(self.held.remove(&key(rule)).is_some(), "removal of a rule the datapath does not hold");
        self.queue.push((op, Ok(())));
    }
}

#[derive(Clone, Debug)]
enum Step {
    FlowMod(Box<FlowMod>),
    /// The flow mod comes from a controller connection, through connection management.
    Wire(Box<FlowMod>),
    Bundle(Vec<FlowMod>),
    /// Reports the completion at this index (modulo the queue length).
    Complete(usize),
    Advance(u64),
    Flush,
    /// From now on installs and modifies of these priorities fail.
    Failing(Vec<u32>),
    /// Another connection starts monitoring everything.
    Monitor,
}

fn a_match() -> impl Strategy<Value = Match> {
    (proptest::option::of(0u32..3), proptest::option::of(0u32..3)).prop_map(|(port, dst)| {
        let mut m = Match::catchall();
        if let Some(p) = port {
            m.set_in_port(p);
        }
        if let Some(d) = dst {
            m.set_dl_type(0x0800);
            m.set_nw_dst_masked(d, u32::MAX);
            // As a flow mod off the wire has it (and a monitor's update shows it).
            m.set_default_packet_type();
        }
        m
    })
}

fn a_flow_mod() -> impl Strategy<Value = FlowMod> {
    (0usize..5, a_match(), 1u16..4, 1u32..5, 0u16..3, any::<bool>(), 0u8..2).prop_map(
        |(cmd, m, prio, port, timeout, flags, table)| {
            let mut f = match cmd {
                0 => add(m, prio, port),
                1 => modify(m, port),
                2 => modify_strict(m, prio, port),
                3 => delete(m),
                _ => delete_strict(m, prio),
            };
            if !f.command.is_delete() {
                f.table_id = table;
            }
            f.hard_timeout = timeout;
            if flags {
                f.flags = FlowModFlags(FlowModFlags::SEND_FLOW_REM | FlowModFlags::CHECK_OVERLAP);
            }
            f
        },
    )
}

fn a_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => a_flow_mod().prop_map(|f| Step::FlowMod(Box::new(f))),
        4 => a_flow_mod().prop_map(|f| Step::Wire(Box::new(f))),
        2 => proptest::collection::vec(a_flow_mod(), 1..6).prop_map(Step::Bundle),
        8 => any::<usize>().prop_map(Step::Complete),
        1 => (0u64..2500).prop_map(Step::Advance),
        1 => Just(Step::Flush),
        2 => proptest::collection::vec(1u32..4, 0..2).prop_map(Step::Failing),
        1 => Just(Step::Monitor),
    ]
}

/// Reports one queued completion.
fn complete_one(tb: &mut OfProto<MirrorDp>, now: Instant, i: usize) -> bool {
    let q = &mut tb.datapath_mut().queue;
    if q.is_empty() {
        return false;
    }
    let (op, r) = q.remove(i % q.len());
    tb.complete(now, op, r);
    true
}

/// Every flag but ONLY_OWN (the requests here come from no real connection anyway).
const WATCH: u16 = MonitorFlags::INITIAL
    | MonitorFlags::ADD
    | MonitorFlags::REMOVED
    | MonitorFlags::MODIFY
    | MonitorFlags::INSTRUCTIONS;

/// The connection direct requests name: one connection management does not have (so monitors
/// get their changes in full).
const DIRECT: ConnId = ConnId(u64::MAX);

/// Starts a connection monitoring every flow.
fn join(net: &mut Net<MirrorDp>) -> ConnId {
    let c = net.accept(5);
    net.monitor(c, 0x100, 1, WATCH);
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn tables_and_datapath_agree_once_everything_completed(steps in proptest::collection::vec(a_step(), 1..60)) {
        let mut now = Instant::from_secs(1);
        let mut net = Net::with_tables(OfProto::new(Config::default(), MirrorDp::default()), now);
        let mut watchers = vec![join(&mut net)];
        let ctl = net.accept(4);
        let mut next_group = 0u64;
        // Request groups left pending, and the completions reported for each.
        let mut answers: HashMap<OpGroupId, usize> = HashMap::new();
        let mut requester = || {
            next_group += 1;
            Requester { conn: DIRECT, xid: next_group as u32, group: OpGroupId(next_group) }
        };
        // Counts the answers to direct requests; those to the controller's go to connection
        // management.
        let record = |net: &mut Net<MirrorDp>, answers: &mut HashMap<OpGroupId, usize>| {
            while let Some(e) = net.tables.poll_event() {
                match e {
                    Event::OpGroupCompleted { conn, group, .. } if conn == DIRECT => {
                        *answers.get_mut(&group).expect("answers a pending request") += 1;
                    }
                    Event::OpGroupCompleted { conn, group, result } => {
                        net.mgr.op_group_completed(net.now, conn, group, result);
                    }
                    _ => {}
                }
            }
        };
        let mut xid = 0x1000;
        for step in steps {
            let tb = &mut net.tables;
            let joins = matches!(step, Step::Monitor);
            let wire = match &step {
                Step::Wire(f) => Some((**f).clone()),
                _ => None,
            };
            match step {
                Step::FlowMod(f) => {
                    let r = requester();
                    if tb.flow_mod(now, &f, Some(r)) == Ok(Progress::Pending) {
                        answers.insert(r.group, 0);
                    }
                }
                Step::Bundle(fms) => {
                    let r = requester();
                    if tb.bundle(now, &fms, Some(r)) == Ok(Progress::Pending) {
                        answers.insert(r.group, 0);
                    }
                }
                Step::Complete(i) => {
                    complete_one(tb, now, i);
                }
                Step::Advance(ms) => {
                    now = Instant::from_millis(now.as_millis() + ms);
                    tb.handle_timeout(now);
                }
                Step::Flush => tb.flush(now),
                Step::Failing(prios) => tb.datapath_mut().failing = prios,
                Step::Monitor | Step::Wire(_) => {}
            }
            // The answers first: what `net` forwards from here on goes to connection management
            // (which is then asked to retry what it postponed, as forwarding them would).
            net.now = now;
            record(&mut net, &mut answers);
            net.mgr.retry();
            if joins && watchers.len() < 4 {
                watchers.push(join(&mut net));
            }
            if let Some(f) = wire {
                xid += 1;
                net.flow_mod(ctl, xid, f);
            }
            net.run();
            let known = expected_view(&net.monitored(), true);
            for c in &watchers {
                let view = &net.peers[c].view;
                prop_assert!(view.violations.is_empty(), "{:?}", view.violations);
                prop_assert_eq!(view.rules(), &known);
            }
        }
        // Complete everything, letting requests postponed in connection management through.
        let mut i = 0;
        loop {
            while complete_one(&mut net.tables, now, i) {
                i += 7;
            }
            record(&mut net, &mut answers);
            net.mgr.retry();
            net.run();
            if net.tables.datapath().queue.is_empty() {
                break;
            }
        }
        let tb = &net.tables;
        prop_assert_eq!(tb.n_pending_groups(), 0);
        prop_assert!(!tb.is_flushing());
        prop_assert!(answers.values().all(|n| *n == 1), "{:?}", answers);

        let mut in_tables = Held::new();
        for table in 0..2 {
            for id in tb.table_rules(table) {
                let r = tb.rule(id).unwrap();
                prop_assert!(!r.is_pending());
                in_tables.insert(key(r), r.instructions().clone());
            }
        }
        prop_assert_eq!(tb.n_rules(), in_tables.len());
        prop_assert_eq!(&in_tables, &tb.datapath().held);

        // With nothing pending, monitors know the tables as they are.
        let visible: Vec<_> = (0..2)
            .flat_map(|t| tb.table_rules(t))
            .map(|id| tb.rule(id).unwrap().snapshot())
            .collect();
        let tables_view = expected_view(&visible, true);
        for c in &watchers {
            prop_assert_eq!(net.peers[c].view.rules(), &tables_view);
        }
    }
}
