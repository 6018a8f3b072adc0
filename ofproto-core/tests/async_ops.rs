//! Seed 002 scenarios with a clogged datapath: optimistic changes, postponement, completion,
//! rollback of failed operations, the 50-group limit, flushes and bundles.

mod common;

use common::*;
use connmgr_core::{ConnId, NormalFlow, OpGroupId, RuleEventKind, FAIL_OPEN_PRIORITY};
use ofp_proto::msg::flow_mod::FlowModFlags;
use ofp_proto::msg::flow_removed::OFPRR_DELETE;
use ofp_proto::ofmatch::Match;
use ofp_proto::OfpErr;
use ofproto_core::{BundleRefusal, DpCall, Event, Progress, Refusal, MAX_PENDING_GROUPS};

fn drain(t: &mut Tables) -> Vec<Event> {
    std::iter::from_fn(|| t.poll_event()).collect()
}

fn completed(conn: u64, group: u64, result: Result<(), OfpErr>) -> Event {
    Event::OpGroupCompleted { conn: ConnId(conn), group: OpGroupId(group), result }
}

#[test]
fn add_then_postponed_modify_goes_through_after_completion() {
    let mut tb = tables();
    tb.datapath_mut().clog();
    assert_eq!(tb.flow_mod(t(0), &add(in_port(1), 10, 2), req(1, 100, 7)), Ok(Progress::Pending));
    // Optimistic: the rule is in the table and matches before the datapath confirmed.
    let id = tb.classify(0, &pkt_in_port(1)).expect("added optimistically");
    assert!(tb.rule(id).unwrap().is_pending());
    assert_eq!(tb.datapath().held().count(), 1);

    // A modify of a rule with an operation pending is postponed, and so are its statistics.
    assert_eq!(tb.flow_mod(t(5), &modify(in_port(1), 3), req(1, 101, 8)), Err(Refusal::Postpone));
    assert_eq!(out_port_of(&tb, id), 2);
    let fsr = ofp_proto::msg::FlowStatsRequest::default();
    assert_eq!(tb.flow_stats(t(5), &fsr), Err(Refusal::Postpone));
    assert!(drain(&mut tb).is_empty());

    tb.datapath_mut().unclog();
    tb.run(t(10));
    assert_eq!(drain(&mut tb), vec![completed(1, 7, Ok(()))]);
    assert!(!tb.rule(id).unwrap().is_pending());

    // Retried after the completion, the modify goes through (synchronously now).
    assert_eq!(tb.flow_mod(t(20), &modify(in_port(1), 3), req(1, 101, 8)), Ok(Progress::Done));
    assert_eq!(out_port_of(&tb, id), 3);
    assert!(drain(&mut tb).is_empty(), "a group done within its request reports nothing later");
    let calls: Vec<DpCall> = tb.datapath().calls.iter().map(|c| c.1).collect();
    assert_eq!(calls, [DpCall::Install, DpCall::Modify]);
}

#[test]
fn failed_add_is_removed() {
    let mut tb = tables();
    tb.datapath_mut().fail_priority(10, OfpErr::OFPFMFC_TABLE_FULL);
    tb.datapath_mut().clog();
    assert_eq!(tb.flow_mod(t(0), &add(in_port(1), 10, 2), req(1, 1, 1)), Ok(Progress::Pending));
    assert!(tb.classify(0, &pkt_in_port(1)).is_some());
    tb.datapath_mut().unclog();
    tb.run(t(1));
    assert_eq!(drain(&mut tb), vec![completed(1, 1, Err(OfpErr::OFPFMFC_TABLE_FULL))]);
    assert_eq!(tb.classify(0, &pkt_in_port(1)), None);
    assert_eq!((tb.table_len(0), tb.n_rules()), (0, 0));
    assert!(monitor_events(&mut tb, t(1)).is_empty(), "nothing took effect");
}

#[test]
fn failed_add_fails_the_request_when_the_datapath_answers_at_once() {
    let mut tb = tables();
    tb.datapath_mut().fail_priority(10, OfpErr::OFPFMFC_TABLE_FULL);
    assert_eq!(
        tb.flow_mod(t(0), &add(in_port(1), 10, 2), req(1, 1, 1)),
        Err(Refusal::Error(OfpErr::OFPFMFC_TABLE_FULL))
    );
    assert_eq!(tb.n_rules(), 0);
    assert!(drain(&mut tb).is_empty());
}

#[test]
fn failed_replacement_restores_the_replaced_rule() {
    let mut tb = tables();
    let mut first = add(in_port(1), 10, 2);
    first.new_cookie = 0xaa;
    first.idle_timeout = 30;
    tb.flow_mod(t(0), &first, None).unwrap();
    let id = tb.classify(0, &pkt_in_port(1)).unwrap();
    tb.credit(t(500), id, 3, 300);

    tb.datapath_mut().fail_priority(10, OfpErr::OFPBAC_BAD_OUT_PORT);
    tb.datapath_mut().clog();
    let mut second = add(in_port(1), 10, 9);
    second.new_cookie = 0xbb;
    assert_eq!(tb.flow_mod(t(1000), &second, req(1, 2, 2)), Ok(Progress::Pending));
    // Replaced in place, optimistically; the counters carried over (no reset_counts).
    assert_eq!(tb.classify(0, &pkt_in_port(1)), Some(id));
    assert_eq!(out_port_of(&tb, id), 9);
    assert_eq!(tb.rule(id).unwrap().state().cookie, 0xbb);
    assert_eq!(tb.rule(id).unwrap().state().packet_count, 3);

    tb.datapath_mut().unclog();
    tb.run(t(1001));
    assert_eq!(drain(&mut tb), vec![completed(1, 2, Err(OfpErr::OFPBAC_BAD_OUT_PORT))]);
    let st = tb.rule(id).unwrap().state();
    assert_eq!((out_port_of(&tb, id), st.cookie, st.idle_timeout), (2, 0xaa, 30));
    assert_eq!((st.created, st.modified, st.used), (t(0), t(0), t(500)));
    assert_eq!((st.packet_count, st.byte_count), (3, 300));
    // The restored rule still expires 30 s after its last packet.
    assert_eq!(tb.poll_timeout(), Some(t(30_500)));
}

#[test]
fn failed_modify_restores_the_old_actions() {
    let mut tb = tables();
    tb.flow_mod(t(0), &add(in_port(1), 10, 2), None).unwrap();
    tb.flow_mod(t(0), &add(in_port(2), 20, 2), None).unwrap();
    tb.datapath_mut().fail_priority(10, OfpErr::OFPBAC_BAD_OUT_PORT);
    tb.datapath_mut().clog();
    // A loose modify of both rules: one fails, the other stays modified (seed 002 rolls back
    // operations one by one), and the group reports the failure.
    assert_eq!(tb.flow_mod(t(1), &modify(Match::catchall(), 7), req(3, 9, 4)), Ok(Progress::Pending));
    let a = tb.classify(0, &pkt_in_port(1)).unwrap();
    let b = tb.classify(0, &pkt_in_port(2)).unwrap();
    assert_eq!((out_port_of(&tb, a), out_port_of(&tb, b)), (7, 7));
    tb.datapath_mut().unclog();
    tb.run(t(2));
    assert_eq!(drain(&mut tb), vec![completed(3, 4, Err(OfpErr::OFPBAC_BAD_OUT_PORT))]);
    assert_eq!((out_port_of(&tb, a), out_port_of(&tb, b)), (2, 7));
    assert_eq!(tb.rule(a).unwrap().state().modified, t(0));
}

#[test]
fn add_identical_to_a_pending_deletion_is_postponed() {
    let mut tb = tables();
    tb.flow_mod(t(0), &add(in_port(1), 10, 2), None).unwrap();
    tb.datapath_mut().clog();
    assert_eq!(tb.flow_mod(t(1), &delete(in_port(1)), req(1, 1, 1)), Ok(Progress::Pending));
    assert_eq!(tb.classify(0, &pkt_in_port(1)), None, "removed optimistically");
    assert_eq!(tb.flow_mod(t(2), &add(in_port(1), 10, 3), req(1, 2, 2)), Err(Refusal::Postpone));
    // A different priority is a different rule.
    assert_eq!(tb.flow_mod(t(2), &add(in_port(1), 11, 3), req(1, 3, 3)), Ok(Progress::Pending));
    tb.datapath_mut().unclog();
    tb.run(t(3));
    assert_eq!(drain(&mut tb), vec![completed(1, 1, Ok(())), completed(1, 3, Ok(()))]);
    assert_eq!(tb.flow_mod(t(4), &add(in_port(1), 10, 3), req(1, 2, 2)), Ok(Progress::Done));
}

#[test]
fn fifty_pending_groups_postpone_flow_mods() {
    let mut tb = tables();
    tb.datapath_mut().clog();
    for i in 0..MAX_PENDING_GROUPS as u16 {
        assert_eq!(
            tb.flow_mod(t(0), &add(in_port(i.into()), 10, 1), req(1, i.into(), i.into())),
            Ok(Progress::Pending)
        );
    }
    assert_eq!(tb.n_pending_groups(), 50);
    // Even a flow mod touching nothing pending waits.
    assert_eq!(tb.flow_mod(t(0), &add(in_port(100), 10, 1), req(1, 100, 100)), Err(Refusal::Postpone));
    assert_eq!(tb.flow_mod(t(0), &delete(in_port(200)), req(1, 101, 101)), Err(Refusal::Postpone));
    tb.datapath_mut().release(1);
    tb.run(t(1));
    assert_eq!(drain(&mut tb), vec![completed(1, 0, Ok(()))]);
    assert_eq!(tb.flow_mod(t(1), &add(in_port(100), 10, 1), req(1, 100, 100)), Ok(Progress::Pending));
    assert_eq!(tb.flow_mod(t(1), &add(in_port(101), 10, 1), req(1, 102, 102)), Err(Refusal::Postpone));
}

#[test]
fn flush_blocks_requests_until_nothing_is_pending() {
    let mut tb = tables();
    tb.flow_mod(t(0), &with_flags(add(in_port(1), 10, 2), FlowModFlags::SEND_FLOW_REM), None).unwrap();
    tb.datapath_mut().clog();
    assert_eq!(tb.flow_mod(t(1), &add(in_port(2), 10, 2), req(1, 5, 5)), Ok(Progress::Pending));
    tb.flush(t(2));
    assert!(tb.is_flushing());
    // The rule without a pending operation is gone at once; the pending add stays until it
    // completes.
    assert_eq!(tb.table_len(0), 1);
    assert_eq!(tb.flow_mod(t(3), &add(in_port(3), 10, 2), req(1, 6, 6)), Err(Refusal::Postpone));
    tb.add_normal_flow(t(3), NormalFlow::Standalone);
    assert_eq!(tb.table_len(0), 1, "NORMAL flows wait for the flush");

    tb.datapath_mut().unclog();
    tb.run(t(4));
    assert!(!tb.is_flushing());
    let events = drain(&mut tb);
    // The completed add (submitted first), the flow removed of the swept rule, then the end of
    // the flush (the added rule is swept too once its add completed).
    assert_eq!(events.len(), 3);
    assert_eq!(events[0], completed(1, 5, Ok(())));
    assert!(matches!(&events[1], Event::Async(connmgr_core::AsyncMsg::FlowRemoved(fr)) if fr.reason == 2));
    assert_eq!(events[2], Event::Retry);
    // Only the NORMAL flow requested during the flush is left.
    let ids = tb.table_rules(0);
    assert_eq!(ids.len(), 1);
    let r = tb.rule(ids[0]).unwrap();
    assert_eq!((r.priority(), r.match_().is_catchall()), (0, true));
    assert_eq!(tb.flow_mod(t(5), &add(in_port(3), 10, 2), req(1, 6, 6)), Ok(Progress::Done));
}

#[test]
fn flush_removes_hidden_flows_and_normal_flows_come_back() {
    let mut tb = tables();
    tb.add_normal_flow(t(0), NormalFlow::FailOpen);
    let fo = tb.classify(0, &pkt_in_port(9)).unwrap();
    assert_eq!(tb.rule(fo).unwrap().priority(), FAIL_OPEN_PRIORITY);
    // Hidden: not counted, not selected by OpenFlow deletes.
    assert_eq!(tb.table_stats(4).tables[0].active_count, 0);
    tb.flow_mod(t(1), &delete(Match::catchall()), None).unwrap();
    assert!(tb.rule(fo).is_some());
    tb.flush(t(2));
    assert_eq!(tb.n_rules(), 0);
    tb.add_normal_flow(t(3), NormalFlow::FailOpen);
    tb.add_normal_flow(t(3), NormalFlow::FailOpen);
    assert_eq!(tb.n_rules(), 1);
    tb.delete_normal_flow(t(4), NormalFlow::FailOpen);
    assert_eq!(tb.n_rules(), 0);
    // Hidden rules never reach flow monitors.
    assert!(monitor_events(&mut tb, t(4)).is_empty());
}

#[test]
fn bundle_is_all_or_nothing_when_an_entry_fails_at_once() {
    let mut tb = tables();
    tb.flow_mod(t(0), &add(in_port(1), 10, 2), None).unwrap();
    let overlapping = with_flags(add(Match::catchall(), 10, 4), FlowModFlags::CHECK_OVERLAP);
    let fms = [modify(in_port(1), 3), add(in_port(2), 10, 3), delete(in_port(1)), overlapping];
    assert_eq!(
        tb.bundle(t(1), &fms, req(1, 50, 5)),
        Err(BundleRefusal { index: 3, refusal: Refusal::Error(OfpErr::OFPFMFC_OVERLAP) })
    );
    let ids = tb.table_rules(0);
    assert_eq!(ids.len(), 1);
    assert_eq!(out_port_of(&tb, ids[0]), 2);
    assert!(!tb.rule(ids[0]).unwrap().is_pending());
    assert_eq!(tb.datapath().calls.len(), 1, "the datapath saw nothing of the bundle");
    assert_eq!(tb.n_pending_groups(), 0);
}

#[test]
fn bundle_undoes_everything_when_the_datapath_fails_later() {
    let mut tb = tables();
    tb.flow_mod(t(0), &add(in_port(1), 10, 2), None).unwrap();
    tb.flow_mod(t(0), &add(in_port(5), 30, 2), None).unwrap();
    assert_eq!(monitor_events(&mut tb, t(0)).len(), 2);
    tb.datapath_mut().fail_priority(20, OfpErr::OFPFMFC_TABLE_FULL);
    tb.datapath_mut().clog();
    let fms = [modify_strict(in_port(1), 10, 3), delete(in_port(5)), add(in_port(2), 20, 3), add(in_port(3), 40, 3)];
    assert_eq!(tb.bundle(t(1), &fms, req(1, 60, 6)), Ok(Progress::Pending));
    assert_eq!(tb.table_len(0), 3, "applied optimistically");
    // Completions arrive; the group waits for all of them before deciding.
    tb.datapath_mut().release(2);
    tb.run(t(2));
    assert!(drain(&mut tb).is_empty());
    tb.datapath_mut().unclog();
    tb.run(t(3));
    assert_eq!(drain(&mut tb), vec![completed(1, 6, Err(OfpErr::OFPFMFC_TABLE_FULL))]);
    // Back to the two original rules, as they were.
    let ids = tb.table_rules(0);
    let summary: Vec<(u32, u32)> =
        ids.iter().map(|&id| (tb.rule(id).unwrap().priority(), out_port_of(&tb, id))).collect();
    assert_eq!(summary, [(30, 2), (10, 2)]);
    // The datapath carried out the modify, the delete and the priority-40 add: each was undone
    // there, in reverse order.
    let calls: Vec<(DpCall, u32)> = tb.datapath().calls.iter().skip(2).map(|c| (c.1, c.3)).collect();
    assert_eq!(
        calls,
        [
            (DpCall::Modify, 10),
            (DpCall::Remove, 30),
            (DpCall::Install, 20),
            (DpCall::Install, 40),
            (DpCall::Remove, 40),
            (DpCall::Install, 30),
            (DpCall::Modify, 10),
        ]
    );
    assert!(monitor_events(&mut tb, t(3)).is_empty(), "a failed bundle reports nothing");
    assert_eq!(tb.n_pending_groups(), 0);
}

#[test]
fn bundle_may_change_a_rule_several_times() {
    // OVS tests/ofproto.at "bundle with multiple flow mods".
    let mut tb = tables();
    let src = |n: u8| {
        let mut m = in_port(2);
        m.set_dl_src_masked(ofp_proto::flow::EthAddr([0, n, 0x77, 0x88, 0x99, 0xaa]), ofp_proto::flow::EthAddr::ONES);
        m
    };
    let idle = |mut f: ofp_proto::msg::FlowMod, s: u16| {
        f.idle_timeout = s;
        f
    };
    let fms = [
        idle(add(src(0x66), 0x8000, 1), 50),
        idle(add(src(0x77), 0x8000, 2), 60),
        idle(add(src(0x88), 0x8000, 3), 70),
        idle(add(src(0x66), 0x8000, 4), 50),
        delete(Match::catchall()),
        idle(add(src(0x66), 0x8000, 5), 50),
        idle(add(src(0x77), 0x8000, 6), 60),
        idle(add(src(0x88), 0x8000, 7), 70),
        delete(src(0x88)),
    ];
    tb.datapath_mut().clog();
    assert_eq!(tb.bundle(t(0), &fms, req(1, 1, 1)), Ok(Progress::Pending));
    // Rules created and deleted within the bundle never reach the datapath.
    assert_eq!(tb.datapath().held().count(), 2);
    tb.datapath_mut().unclog();
    tb.run(t(1));
    let ports: Vec<(u32, u16)> =
        tb.table_rules(0).iter().map(|&id| (out_port_of(&tb, id), tb.rule(id).unwrap().state().idle_timeout)).collect();
    assert_eq!(ports, [(5, 50), (6, 60)]);
    let kinds: Vec<RuleEventKind> = monitor_events(&mut tb, t(1)).into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [RuleEventKind::Added, RuleEventKind::Added]);

    // Second and third bundles of the OVS test.
    let fms = [modify(Match::catchall(), 0), modify_strict(src(0x77), 0x8000, 7)];
    let mut drop = fms.clone();
    drop[0].instructions = Default::default();
    assert_eq!(tb.bundle(t(2), &drop, None), Ok(Progress::Done));
    let fms = [idle(add(src(0x77), 0x8000, 8), 60), delete_strict(src(0x66), 0x8000), add(src(0x66), 0x8000, 0)];
    let mut fms = fms.to_vec();
    fms[2].instructions = Default::default();
    assert_eq!(tb.bundle(t(3), &fms, None), Ok(Progress::Done));
    let rules: Vec<(bool, u16)> = tb
        .table_rules(0)
        .iter()
        .map(|&id| {
            let r = tb.rule(id).unwrap();
            (r.instructions().is_empty(), r.state().idle_timeout)
        })
        .collect();
    // 00:77:.. (added first) then the re-added 00:66:.. with no actions and no timeout.
    assert_eq!(rules, [(false, 60), (true, 0)]);
    assert_eq!(out_port_of(&tb, tb.table_rules(0)[0]), 8);
}

#[test]
fn datapath_completions_in_any_order_and_unknown_ids() {
    let mut tb = tables();
    tb.datapath_mut().clog();
    tb.flow_mod(t(0), &add(in_port(1), 10, 2), req(1, 1, 1)).unwrap();
    tb.flow_mod(t(0), &add(in_port(2), 10, 2), req(1, 2, 2)).unwrap();
    let held = tb.datapath_mut().take_held();
    tb.complete(t(1), held[1].0, Ok(()));
    assert_eq!(drain(&mut tb), vec![completed(1, 2, Ok(()))]);
    tb.complete(t(1), held[1].0, Ok(()));
    tb.complete(t(1), ofproto_core::OpId(999), Err(OfpErr::OFPFMFC_UNKNOWN));
    assert!(drain(&mut tb).is_empty());
    tb.complete(t(2), held[0].0, Err(OfpErr::OFPFMFC_UNKNOWN));
    assert_eq!(drain(&mut tb), vec![completed(1, 1, Err(OfpErr::OFPFMFC_UNKNOWN))]);
    assert_eq!(tb.table_len(0), 1);
}

#[test]
fn removals_cannot_fail() {
    let mut tb = tables();
    tb.flow_mod(t(0), &with_flags(add(in_port(1), 10, 2), FlowModFlags::SEND_FLOW_REM), None).unwrap();
    tb.datapath_mut().clog();
    tb.flow_mod(t(1500), &delete(in_port(1)), req(1, 1, 1)).unwrap();
    let held = tb.datapath_mut().take_held();
    tb.complete(t(2000), held[0].0, Err(OfpErr::OFPFMFC_UNKNOWN));
    let events = drain(&mut tb);
    assert_eq!(events.len(), 2);
    let Event::Async(connmgr_core::AsyncMsg::FlowRemoved(fr)) = &events[0] else { panic!("{events:?}") };
    // Built when the deletion started.
    assert_eq!((fr.reason, fr.fr.duration_sec, fr.fr.duration_nsec), (u32::from(OFPRR_DELETE), 1, 500_000_000));
    assert_eq!(events[1], completed(1, 1, Ok(())));
    assert_eq!(tb.n_rules(), 0);
}

#[test]
fn monitor_events_name_the_change_and_its_author() {
    let mut tb = tables();
    tb.flow_mod(t(0), &add(in_port(1), 10, 2), req(4, 40, 1)).unwrap();
    tb.flow_mod(t(1), &modify(in_port(1), 3), req(4, 41, 2)).unwrap();
    // Same actions, same cookie: no event.
    tb.flow_mod(t(2), &modify(in_port(1), 3), req(4, 42, 3)).unwrap();
    tb.flow_mod(t(3), &delete(in_port(1)), req(5, 43, 4)).unwrap();
    let events = monitor_events(&mut tb, t(3));
    let summary: Vec<_> = events.iter().map(|e| (e.kind, e.conn, e.xid)).collect();
    assert_eq!(
        summary,
        [
            (RuleEventKind::Added, Some(ConnId(4)), 40),
            (RuleEventKind::Modified, Some(ConnId(4)), 41),
            (RuleEventKind::Removed { reason: OFPRR_DELETE }, Some(ConnId(5)), 43),
        ]
    );
    // The removal carries the seqnos the add and the modify took before it was delivered.
    assert_eq!((events[0].rule.add_seqno, events[0].rule.modify_seqno), (1, 1));
    assert_eq!((events[1].rule.add_seqno, events[1].rule.modify_seqno), (1, 2));
    assert_eq!((events[2].rule.add_seqno, events[2].rule.modify_seqno), (1, 2));
    assert_eq!(events[1].old_instructions.as_deref(), Some(&output(2)));
    assert_eq!(*events[1].rule.instructions, output(3));
    assert_eq!((events[2].rule.table_id, events[2].rule.priority), (0, 10));
}
