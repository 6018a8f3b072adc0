//! Nothing a controller sends may panic the tables: valid flow mods, statistics and bundle
//! messages with random bytes changed (version, length and type kept), sent through `ConnMgr` in
//! OF1.0 and OF1.3 with the datapath clogged and unclogged along the way.

mod common;

use common::*;
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType, OFPBF_ATOMIC};
use ofp_proto::msg::flow_mod::FlowModFlags;
use ofp_proto::msg::FlowStatsRequest;
use ofp_proto::{Message, OfpMsg};
use proptest::prelude::*;

/// Messages to start from, in `version`.
fn seeds(version: u8) -> Vec<Vec<u8>> {
    let mut f = with_flags(add(ip_dst(0x0a00_0001), 10, 2), FlowModFlags::SEND_FLOW_REM | FlowModFlags::CHECK_OVERLAP);
    f.idle_timeout = 1;
    let mut msgs = vec![
        OfpMsg::new(version, 1, Message::FlowMod(f)),
        OfpMsg::new(version, 2, Message::FlowMod(modify(in_port(1), 3))),
        OfpMsg::new(version, 3, Message::FlowMod(delete(in_port(1)))),
        OfpMsg::new(version, 4, Message::FlowStatsRequest(FlowStatsRequest::default())),
        OfpMsg::new(version, 5, Message::AggregateStatsRequest(FlowStatsRequest::default())),
        OfpMsg::new(version, 6, Message::TableStatsRequest),
    ];
    if version >= 4 {
        msgs.push(OfpMsg::new(version, 7, Message::BundleControl(BundleCtrl::new(1, BundleCtrlType::OPEN_REQUEST, 0))));
        msgs.push(BundleAdd::wrap(1, 0, OfpMsg::new(version, 8, Message::FlowMod(add(in_port(2), 5, 1)))).unwrap());
        msgs.push(OfpMsg::new(
            version,
            9,
            Message::BundleControl(BundleCtrl::new(1, BundleCtrlType::COMMIT_REQUEST, 0)),
        ));
        let commit = BundleCtrl::new(1, BundleCtrlType::COMMIT_REQUEST, OFPBF_ATOMIC);
        msgs.push(OfpMsg::new(version, 10, Message::BundleControl(commit)));
    }
    msgs.into_iter().map(|m| m.to_bytes().to_vec()).collect()
}

#[derive(Clone, Debug)]
enum Step {
    /// Seed `which`, with (offset, xor) changes past the first four bytes.
    Send(usize, Vec<(usize, u8)>),
    Clog,
    Unclog,
    Advance(u64),
}

fn a_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<usize>(), proptest::collection::vec((any::<usize>(), 1u8..=255), 0..4))
            .prop_map(|(w, c)| Step::Send(w, c)),
        1 => Just(Step::Clog),
        1 => Just(Step::Unclog),
        1 => (0u64..2000).prop_map(Step::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_requests_never_panic(version in prop_oneof![Just(1u8), Just(4u8)], steps in proptest::collection::vec(a_step(), 1..40)) {
        let mut h = Harness::new(version);
        let seeds = seeds(version);
        for step in steps {
            match step {
                Step::Send(which, changes) => {
                    let mut msg = seeds[which % seeds.len()].clone();
                    for (at, x) in changes {
                        let i = 4 + at % (msg.len() - 4);
                        msg[i] ^= x;
                    }
                    h.send_bytes(&msg);
                }
                Step::Clog => h.tables.datapath_mut().clog(),
                Step::Unclog => {
                    h.tables.datapath_mut().unclog();
                    h.complete();
                }
                Step::Advance(ms) => h.advance(ms),
            }
            h.recv();
        }
        h.tables.datapath_mut().unclog();
        h.complete();
        prop_assert_eq!(h.tables.n_pending_groups(), 0);
    }
}
