//! The flow table against a naive reference model: random rule sets (adds, replacing adds with
//! overlap checks, strict and loose deletes) over a few fields with overlapping masks, and random
//! packets. After every step the tables hold the model's rules and every lookup agrees.

mod common;

use common::*;
use ofp_proto::actions::Action;
use ofp_proto::flow::Flow;
use ofp_proto::msg::flow_mod::FlowModFlags;
use ofp_proto::msg::FlowStatsRequest;
use ofp_proto::ofmatch::Match;
use ofp_proto::OfpErr;
use ofproto_core::Refusal;
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct ModelRule {
    m: Match,
    priority: u16,
    seq: u64,
    /// Unique per add: identifies the rule in lookups.
    port: u32,
}

#[derive(Default)]
struct Model {
    rules: Vec<ModelRule>,
    seq: u64,
}

fn overlaps(a: &Match, b: &Match) -> bool {
    let both = a.mask.and(&b.mask);
    a.flow.and(&both) == b.flow.and(&both)
}

/// `rule` is at least as specific as `target` (what loose deletes select).
fn within(rule: &Match, target: &Match) -> bool {
    target.mask.and(&rule.mask) == target.mask && rule.flow.and(&target.mask) == target.flow
}

impl Model {
    fn add(&mut self, m: Match, priority: u16, port: u32, check_overlap: bool) -> Result<(), OfpErr> {
        if let Some(r) = self.rules.iter_mut().find(|r| r.m == m && r.priority == priority) {
            r.port = port;
            return Ok(());
        }
        if check_overlap && self.rules.iter().any(|r| r.priority == priority && overlaps(&r.m, &m)) {
            return Err(OfpErr::OFPFMFC_OVERLAP);
        }
        self.seq += 1;
        self.rules.push(ModelRule { m, priority, seq: self.seq, port });
        Ok(())
    }

    fn lookup(&self, pkt: &Flow) -> Option<u32> {
        self.rules
            .iter()
            .filter(|r| r.m.matches(pkt))
            .max_by_key(|r| (r.priority, std::cmp::Reverse(r.seq)))
            .map(|r| r.port)
    }

    /// (priority, port) by priority descending, then age: the statistics order.
    fn listing(&self) -> Vec<(u16, u32)> {
        let mut v: Vec<&ModelRule> = self.rules.iter().collect();
        v.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.seq));
        v.iter().map(|r| (r.priority, r.port)).collect()
    }
}

#[derive(Clone, Debug)]
enum Op {
    Add(Match, u16, bool),
    DeleteStrict(Match, u16),
    DeleteLoose(Match),
    Lookup(Flow),
}

const PREFIXES: [u32; 5] = [0, 8, 24, 30, 32];
const TP_MASKS: [u16; 3] = [0xffff, 0xff00, 0x000f];

fn a_match() -> impl Strategy<Value = Match> {
    (
        proptest::option::of(0u32..4),
        proptest::option::of(prop_oneof![Just(0x0800u16), Just(0x0806u16)]),
        proptest::option::of((0u32..8, 1usize..5)),
        proptest::option::of((prop_oneof![Just(80u16), Just(443u16), Just(0x1f50u16)], 0usize..3)),
        proptest::option::of((0u64..4, prop_oneof![Just(u64::MAX), Just(1u64), Just(2u64)])),
    )
        .prop_map(|(port, dl_type, net, tp, meta)| {
            let mut m = Match::catchall();
            if let Some(p) = port {
                m.set_in_port(p);
            }
            if let Some(t) = dl_type {
                m.set_dl_type(t);
            }
            if let Some((host, len)) = net {
                let mask = u32::MAX.checked_shl(32 - PREFIXES[len]).unwrap_or(0);
                m.set_nw_dst_masked(0x0a00_0000 | host, mask);
            }
            if let Some((v, mask)) = tp {
                m.set_tp_dst_masked(v, TP_MASKS[mask]);
            }
            if let Some((v, mask)) = meta {
                m.set_metadata_masked(v, mask);
            }
            m.canonical()
        })
}

fn a_packet() -> impl Strategy<Value = Flow> {
    (
        0u32..5,
        prop_oneof![Just(0x0800u16), Just(0x0806u16), Just(0u16)],
        prop_oneof![(0u32..8).prop_map(|h| 0x0a00_0000 | h), any::<u32>()],
        prop_oneof![Just(80u16), Just(443u16), Just(0x1f50u16), Just(0x0050u16), any::<u16>()],
        0u64..4,
    )
        .prop_map(|(in_port, dl_type, nw_dst, tp_dst, metadata)| Flow {
            in_port,
            dl_type,
            nw_dst,
            tp_dst,
            metadata,
            ..Flow::default()
        })
}

fn an_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (a_match(), 0u16..4, proptest::bool::weighted(0.2)).prop_map(|(m, p, c)| Op::Add(m, p, c)),
        1 => (a_match(), 0u16..4).prop_map(|(m, p)| Op::DeleteStrict(m, p)),
        1 => a_match().prop_map(Op::DeleteLoose),
        6 => a_packet().prop_map(Op::Lookup),
    ]
}

fn listing(tb: &Tables) -> Vec<(u16, u32)> {
    tb.flow_stats(t(0), &FlowStatsRequest::default())
        .unwrap()
        .iter()
        .map(|s| match s.instructions.apply.first() {
            Some(Action::Output { port, .. }) => (s.priority, *port),
            other => panic!("{other:?}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn tables_agree_with_the_naive_model(ops in proptest::collection::vec(an_op(), 1..80)) {
        let mut tb = tables();
        let mut model = Model::default();
        for (i, op) in ops.into_iter().enumerate() {
            let port = i as u32 + 1;
            match op {
                Op::Add(m, p, check) => {
                    let mut f = add(m, p, port);
                    if check {
                        f.flags = FlowModFlags(FlowModFlags::CHECK_OVERLAP);
                    }
                    let got = tb.flow_mod(t(0), &f, None).map(|_| ()).map_err(|r| match r {
                        Refusal::Error(e) => e,
                        Refusal::Postpone => panic!("nothing is pending"),
                    });
                    prop_assert_eq!(got, model.add(m, p, port, check));
                }
                Op::DeleteStrict(m, p) => {
                    tb.flow_mod(t(0), &delete_strict(m, p), None).unwrap();
                    model.rules.retain(|r| !(r.m == m && r.priority == p));
                }
                Op::DeleteLoose(m) => {
                    tb.flow_mod(t(0), &delete(m), None).unwrap();
                    model.rules.retain(|r| !within(&r.m, &m));
                }
                Op::Lookup(pkt) => {
                    let got = tb.lookup(0, &pkt).map(|id| out_port_of(&tb, id));
                    prop_assert_eq!(got, model.lookup(&pkt), "packet {:?}", pkt);
                }
            }
            prop_assert_eq!(listing(&tb), model.listing());
        }
    }
}
