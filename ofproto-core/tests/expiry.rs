//! Idle and hard timeouts at exact deadlines, with flow removed reasons.

mod common;

use common::*;
use connmgr_core::{AsyncMsg, RuleEventKind};
use ofp_proto::msg::flow_mod::FlowModFlags;
use ofp_proto::msg::flow_removed::{OFPRR_HARD_TIMEOUT, OFPRR_IDLE_TIMEOUT};
use ofp_proto::msg::FlowRemoved;
use ofp_proto::ofmatch::Match;
use ofproto_core::Event;

fn timed(port: u32, idle: u16, hard: u16) -> ofp_proto::msg::FlowMod {
    let mut f = with_flags(add(in_port(port), 10, 1), FlowModFlags::SEND_FLOW_REM);
    (f.idle_timeout, f.hard_timeout) = (idle, hard);
    f
}

/// The flow removed messages handed out, with their `OFPRR_*` reason.
fn removed(tb: &mut Tables) -> Vec<(u32, FlowRemoved)> {
    std::iter::from_fn(|| tb.poll_event())
        .map(|e| match e {
            Event::Async(AsyncMsg::FlowRemoved(fr)) => (fr.reason, fr.fr),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn hard_timeout_fires_at_its_exact_deadline() {
    let mut tb = tables();
    tb.flow_mod(t(1_000), &timed(1, 0, 10), None).unwrap();
    let id = tb.classify(0, &pkt_in_port(1)).unwrap();
    tb.credit(t(5_000), id, 4, 400);
    assert_eq!(tb.poll_timeout(), Some(t(11_000)));
    tb.handle_timeout(t(10_999));
    assert_eq!(tb.table_len(0), 1);
    assert!(removed(&mut tb).is_empty());
    tb.handle_timeout(t(11_000));
    assert_eq!(tb.table_len(0), 0);
    let fr = removed(&mut tb);
    assert_eq!(fr.len(), 1);
    let (reason, fr) = &fr[0];
    assert_eq!(*reason, u32::from(OFPRR_HARD_TIMEOUT));
    assert_eq!((fr.reason, fr.duration_sec, fr.duration_nsec), (OFPRR_HARD_TIMEOUT, 10, 0));
    assert_eq!((fr.priority, fr.table_id, fr.hard_timeout, fr.packet_count, fr.byte_count), (10, 0, 10, 4, 400));
    assert_eq!(fr.match_, in_port(1));
    assert_eq!(tb.poll_timeout(), None);
    let ev = monitor_events(&mut tb, t(11_000)).pop().unwrap();
    assert_eq!(ev.kind, RuleEventKind::Removed { reason: OFPRR_HARD_TIMEOUT });
    assert_eq!(ev.conn, None);
}

#[test]
fn packets_push_the_idle_deadline_back() {
    let mut tb = tables();
    tb.flow_mod(t(0), &timed(1, 5, 0), None).unwrap();
    let id = tb.classify(0, &pkt_in_port(1)).unwrap();
    assert_eq!(tb.poll_timeout(), Some(t(5_000)));
    tb.credit(t(3_000), id, 1, 60);
    // Byte-only credits (no packet) and credits from the past do not count as use.
    tb.credit(t(4_000), id, 0, 60);
    tb.credit(t(2_000), id, 1, 60);
    assert_eq!(tb.poll_timeout(), Some(t(8_000)));
    tb.handle_timeout(t(5_000));
    assert_eq!(tb.table_len(0), 1);
    tb.handle_timeout(t(8_000));
    let fr = removed(&mut tb);
    assert_eq!(fr[0].0, u32::from(OFPRR_IDLE_TIMEOUT));
    assert_eq!((fr[0].1.duration_sec, fr[0].1.idle_timeout, fr[0].1.packet_count), (8, 5, 2));
}

#[test]
fn hard_wins_when_both_fire_together_and_late_calls_expire_everything_due() {
    let mut tb = tables();
    tb.flow_mod(t(0), &timed(1, 3, 3), None).unwrap();
    tb.flow_mod(t(0), &timed(2, 2, 0), None).unwrap();
    tb.flow_mod(t(0), &timed(3, 0, 0), None).unwrap();
    assert_eq!(tb.poll_timeout(), Some(t(2_000)));
    tb.handle_timeout(t(60_000));
    let reasons: Vec<(u32, u32)> = removed(&mut tb).iter().map(|(r, fr)| (*r, fr.match_.flow.in_port)).collect();
    assert_eq!(reasons, [(u32::from(OFPRR_IDLE_TIMEOUT), 2), (u32::from(OFPRR_HARD_TIMEOUT), 1)]);
    assert_eq!(tb.table_len(0), 1, "the rule without timeouts stays");
    assert_eq!(tb.poll_timeout(), None);
}

#[test]
fn modify_restarts_the_hard_timeout_and_flows_without_send_flow_rem_go_quietly() {
    let mut tb = tables();
    let mut f = add(in_port(1), 10, 1);
    f.hard_timeout = 10;
    tb.flow_mod(t(0), &f, None).unwrap();
    tb.flow_mod(t(4_000), &modify(Match::catchall(), 2), None).unwrap();
    assert_eq!(tb.poll_timeout(), Some(t(14_000)));
    tb.handle_timeout(t(14_000));
    assert_eq!(tb.table_len(0), 0);
    assert!(removed(&mut tb).is_empty(), "no SEND_FLOW_REM: no flow removed");
    let kinds: Vec<_> = monitor_events(&mut tb, t(14_000)).into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [RuleEventKind::Added, RuleEventKind::Modified, RuleEventKind::Removed { reason: OFPRR_HARD_TIMEOUT }]
    );
}

#[test]
fn a_rule_with_a_pending_operation_expires_once_it_completes() {
    let mut tb = tables();
    tb.flow_mod(t(0), &timed(1, 0, 2), None).unwrap();
    tb.datapath_mut().clog();
    let mut m = modify(Match::catchall(), 3);
    m.hard_timeout = 0;
    tb.flow_mod(t(1_000), &m, req(1, 1, 1)).unwrap();
    // Pending: not filed for expiry (modify restarted the hard timeout: 3 s).
    assert_eq!(tb.poll_timeout(), None);
    tb.handle_timeout(t(5_000));
    assert_eq!(tb.table_len(0), 1);
    tb.datapath_mut().unclog();
    tb.run(t(5_000));
    assert_eq!(
        tb.poll_event(),
        Some(Event::OpGroupCompleted {
            conn: connmgr_core::ConnId(1),
            group: connmgr_core::OpGroupId(1),
            result: Ok(())
        })
    );
    assert_eq!(tb.poll_timeout(), Some(t(3_000)));
    tb.handle_timeout(t(5_000));
    let fr = removed(&mut tb);
    assert_eq!((fr[0].0, fr[0].1.duration_sec), (u32::from(OFPRR_HARD_TIMEOUT), 5));
}

#[test]
fn expiry_waits_for_the_datapath_like_any_removal() {
    let mut tb = tables();
    tb.flow_mod(t(0), &timed(1, 1, 0), None).unwrap();
    tb.datapath_mut().clog();
    tb.handle_timeout(t(1_000));
    // Out of the table at once; the flow removed goes when the datapath confirms.
    assert_eq!(tb.classify(0, &pkt_in_port(1)), None);
    assert!(tb.poll_event().is_none());
    assert_eq!(tb.n_rules(), 1);
    tb.datapath_mut().unclog();
    tb.run(t(1_500));
    let events: Vec<Event> = std::iter::from_fn(|| tb.poll_event()).collect();
    assert!(
        matches!(&events[0], Event::Async(AsyncMsg::FlowRemoved(fr)) if fr.fr.duration_sec == 1 && fr.fr.duration_nsec == 0)
    );
    // The internal group outlived its call: postponed requests may go now.
    assert_eq!(events[1], Event::Retry);
    assert_eq!(tb.n_rules(), 0);
}
