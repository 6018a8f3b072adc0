//! Flow-mod semantics as OVS 3.1 has them (ofproto.c, tests/ofproto.at): adds that replace,
//! loose and strict modifies and deletes, cookie masks, out_port/out_group filters, overlap checks,
//! table limits, hidden rules, statistics.

mod common;

use common::*;
use connmgr_core::NormalFlow;
use ofp_proto::actions::{Action, Controller};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::{FlowModCommand, FlowModFlags, OFPG_ANY};
use ofp_proto::msg::FlowStatsRequest;
use ofp_proto::ofmatch::Match;
use ofp_proto::port_no::{ANY as OFPP_ANY, CONTROLLER as OFPP_CONTROLLER};
use ofp_proto::OfpErr;
use ofproto_core::{Config, OfProto, Progress, Refusal, TestDatapath};

fn stats(tb: &Tables, ms: u64) -> Vec<ofp_proto::msg::flow_stats::FlowStats> {
    tb.flow_stats(t(ms), &FlowStatsRequest::default()).unwrap()
}

/// (priority, output port) of every visible rule, in statistics order.
fn summary(tb: &Tables) -> Vec<(u16, u32)> {
    stats(tb, 0)
        .iter()
        .map(|s| {
            let port = match s.instructions.apply.first() {
                Some(Action::Output { port, .. }) => *port,
                _ => 0,
            };
            (s.priority, port)
        })
        .collect()
}

#[test]
fn add_replaces_keeping_counters_unless_reset() {
    let mut tb = tables();
    let mut a = add(in_port(1), 10, 2);
    a.idle_timeout = 5;
    a.new_cookie = 1;
    tb.flow_mod(t(1000), &a, None).unwrap();
    let id = tb.classify(0, &pkt_in_port(1)).unwrap();
    tb.credit(t(1500), id, 2, 120);

    let mut b = add(in_port(1), 10, 3);
    b.hard_timeout = 9;
    b.new_cookie = 2;
    tb.flow_mod(t(2000), &b, None).unwrap();
    let st = tb.rule(id).unwrap().state().clone();
    // An add takes everything from the flow mod but keeps the counters and last use.
    assert_eq!((st.cookie, st.idle_timeout, st.hard_timeout), (2, 0, 9));
    assert_eq!((st.created, st.modified, st.used), (t(2000), t(2000), t(1500)));
    assert_eq!((st.packet_count, st.byte_count), (2, 120));
    assert_eq!(out_port_of(&tb, id), 3);
    assert_eq!(tb.table_len(0), 1);

    // OF1.0 and OF1.1 adds always reset (their decoder sets the flag), OF1.2+ when asked.
    tb.flow_mod(t(3000), &with_flags(add(in_port(1), 10, 4), FlowModFlags::RESET_COUNTS), None).unwrap();
    assert_eq!(tb.rule(id).unwrap().state().packet_count, 0);
    assert_eq!(tb.rule(id).unwrap().state().cookie, 0);
    // A different priority is another rule.
    tb.flow_mod(t(3000), &add(in_port(1), 11, 5), None).unwrap();
    assert_eq!(summary(&tb), [(11, 5), (10, 4)]);
    assert_eq!(tb.classify(0, &pkt_in_port(1)).map(|id| out_port_of(&tb, id)), Some(5));
}

#[test]
fn modify_keeps_what_the_rule_had() {
    let mut tb = tables();
    let mut a = with_flags(add(in_port(1), 10, 2), FlowModFlags::SEND_FLOW_REM);
    (a.idle_timeout, a.hard_timeout, a.new_cookie, a.importance) = (7, 8, 0x11, 3);
    tb.flow_mod(t(1000), &a, None).unwrap();
    let id = tb.classify(0, &pkt_in_port(1)).unwrap();
    tb.credit(t(1100), id, 1, 60);
    let mut m = modify(Match::catchall(), 3);
    (m.idle_timeout, m.hard_timeout, m.flags) = (1, 1, FlowModFlags(0));
    tb.flow_mod(t(2000), &m, None).unwrap();
    let st = tb.rule(id).unwrap().state();
    assert_eq!((st.idle_timeout, st.hard_timeout, st.cookie, st.importance), (7, 8, 0x11, 3));
    assert!(st.flags.has(FlowModFlags::SEND_FLOW_REM));
    assert_eq!((st.created, st.modified, st.used, st.packet_count), (t(1000), t(2000), t(1100), 1));
    assert_eq!(out_port_of(&tb, id), 3);
    // RESET_COUNTS on a modify resets.
    tb.flow_mod(t(2500), &with_flags(modify(Match::catchall(), 4), FlowModFlags::RESET_COUNTS), None).unwrap();
    assert_eq!(tb.rule(id).unwrap().state().packet_count, 0);
}

#[test]
fn loose_and_strict_selection() {
    let mut tb = tables();
    let mut two = in_port(1);
    two.set_dl_type(0x0800);
    tb.flow_mod(t(0), &add(in_port(1), 10, 1), None).unwrap();
    tb.flow_mod(t(0), &add(two, 20, 1), None).unwrap();
    tb.flow_mod(t(0), &add(in_port(2), 30, 1), None).unwrap();
    tb.flow_mod(t(0), &add(Match::catchall(), 0, 1), None).unwrap();
    // Loose: every rule at least as specific as the target, any priority.
    tb.flow_mod(t(1), &modify(in_port(1), 7), None).unwrap();
    assert_eq!(summary(&tb), [(30, 1), (20, 7), (10, 7), (0, 1)]);
    // Strict: exactly this match and priority.
    tb.flow_mod(t(2), &modify_strict(in_port(1), 20, 8), None).unwrap();
    tb.flow_mod(t(2), &modify_strict(two, 20, 8), None).unwrap();
    assert_eq!(summary(&tb), [(30, 1), (20, 8), (10, 7), (0, 1)]);
    tb.flow_mod(t(3), &delete_strict(in_port(1), 20), None).unwrap();
    assert_eq!(tb.table_len(0), 4);
    tb.flow_mod(t(3), &delete_strict(in_port(1), 10), None).unwrap();
    assert_eq!(summary(&tb), [(30, 1), (20, 8), (0, 1)]);
    tb.flow_mod(t(4), &delete(in_port(1)), None).unwrap();
    assert_eq!(summary(&tb), [(30, 1), (0, 1)]);
    tb.flow_mod(t(4), &delete(Match::catchall()), None).unwrap();
    assert_eq!(tb.table_len(0), 0);
}

#[test]
fn cookies_select_and_change() {
    let mut tb = tables();
    for (port, cookie) in [(1, 0x10), (2, 0x11), (3, 0x20)] {
        let mut a = add(in_port(port), 10, 1);
        a.new_cookie = cookie;
        tb.flow_mod(t(0), &a, None).unwrap();
    }
    // Only rules whose cookie matches under the mask.
    let mut m = modify(Match::catchall(), 5);
    (m.cookie, m.cookie_mask) = (0x10, 0xf0);
    tb.flow_mod(t(1), &m, None).unwrap();
    assert_eq!(summary(&tb), [(10, 5), (10, 5), (10, 1)]);
    // An OF1.0/NXM modify carries a new cookie and changes it.
    let mut m = modify(in_port(3), 6);
    (m.new_cookie, m.modify_cookie) = (0x99, true);
    tb.flow_mod(t(2), &m, None).unwrap();
    let cookies: Vec<u64> = stats(&tb, 2).iter().map(|s| s.cookie).collect();
    assert_eq!(cookies, [0x10, 0x11, 0x99]);
    // Deletes by cookie.
    let mut d = delete(Match::catchall());
    (d.cookie, d.cookie_mask) = (0x11, u64::MAX);
    tb.flow_mod(t(3), &d, None).unwrap();
    let cookies: Vec<u64> = stats(&tb, 3).iter().map(|s| s.cookie).collect();
    assert_eq!(cookies, [0x10, 0x99]);
    // Flow stats select by cookie too.
    let fsr = FlowStatsRequest { cookie: 0x99, cookie_mask: u64::MAX, ..FlowStatsRequest::default() };
    assert_eq!(tb.flow_stats(t(3), &fsr).unwrap().len(), 1);
    assert_eq!(tb.aggregate_stats(&fsr).unwrap().flow_count, 1);
}

#[test]
fn modify_adds_only_when_the_version_says_so() {
    let mut tb = tables();
    // OF1.2+ modify: no new cookie, nothing added.
    assert_eq!(tb.flow_mod(t(0), &modify(in_port(1), 2), None), Ok(Progress::Done));
    assert_eq!(tb.table_len(0), 0);
    // OF1.0/OF1.1-style (new cookie, no cookie mask): adds, with the flow mod's cookie.
    let mut m = modify_strict(in_port(1), 10, 2);
    m.new_cookie = 0x42;
    m.table_id = 255;
    tb.flow_mod(t(0), &m, None).unwrap();
    let s = stats(&tb, 0);
    assert_eq!((s.len(), s[0].cookie, s[0].priority, s[0].table_id), (1, 0x42, 10, 0));
    // With a cookie mask it only modifies.
    let mut m = modify(in_port(2), 2);
    (m.new_cookie, m.cookie, m.cookie_mask) = (0, 0, 1);
    tb.flow_mod(t(0), &m, None).unwrap();
    assert_eq!(tb.table_len(0), 1);
}

#[test]
fn deletes_filter_by_out_port_and_out_group() {
    let mut tb = tables();
    let ctl = Instructions::apply([Action::Controller(Controller::default())]);
    let write = Instructions {
        write_actions: Some([Action::Output { port: 9, max_len: 0 }].into_iter().collect()),
        ..Instructions::default()
    };
    let group = Instructions::apply([Action::Group(5)]);
    let enqueue = Instructions::apply([Action::Enqueue { port: 4, queue: 1 }]);
    for (i, ins) in [output(3), ctl, write, group, enqueue].into_iter().enumerate() {
        tb.flow_mod(t(0), &fm(FlowModCommand::Add, in_port(i as u32), 10, ins), None).unwrap();
    }
    let del = |port: u32, group: u32| {
        let mut d = delete(Match::catchall());
        (d.out_port, d.out_group) = (port, group);
        d
    };
    tb.flow_mod(t(1), &del(7, OFPG_ANY), None).unwrap();
    assert_eq!(tb.table_len(0), 5);
    tb.flow_mod(t(1), &del(OFPP_CONTROLLER, OFPG_ANY), None).unwrap();
    tb.flow_mod(t(1), &del(9, OFPG_ANY), None).unwrap();
    tb.flow_mod(t(1), &del(4, OFPG_ANY), None).unwrap();
    assert_eq!(tb.table_len(0), 2);
    tb.flow_mod(t(1), &del(OFPP_ANY, 6), None).unwrap();
    assert_eq!(tb.table_len(0), 2);
    tb.flow_mod(t(1), &del(OFPP_ANY, 5), None).unwrap();
    assert_eq!(summary(&tb), [(10, 3)]);
    // Flow stats filter the same way; modifies ignore out_port.
    let fsr = FlowStatsRequest { out_port: 3, ..FlowStatsRequest::default() };
    assert_eq!(tb.flow_stats(t(1), &fsr).unwrap().len(), 1);
    let mut m = modify(Match::catchall(), 8);
    m.out_port = 77;
    tb.flow_mod(t(1), &m, None).unwrap();
    assert_eq!(summary(&tb), [(10, 8)]);
}

#[test]
fn overlap_check() {
    let mut tb = tables();
    tb.flow_mod(t(0), &add(in_port(1), 5, 1), None).unwrap();
    let overlap = |m: Match, prio: u16| with_flags(add(m, prio, 2), FlowModFlags::CHECK_OVERLAP);
    // Disjoint fields at the same priority: a packet could match both.
    assert_eq!(tb.flow_mod(t(0), &overlap(ip_dst(0x0a00_0001), 5), None), Err(Refusal::Error(OfpErr::OFPFMFC_OVERLAP)));
    assert_eq!(tb.flow_mod(t(0), &overlap(Match::catchall(), 5), None), Err(Refusal::Error(OfpErr::OFPFMFC_OVERLAP)));
    // Another priority, or a contradicting value, does not overlap.
    assert_eq!(tb.flow_mod(t(0), &overlap(ip_dst(0x0a00_0001), 6), None), Ok(Progress::Done));
    assert_eq!(tb.flow_mod(t(0), &overlap(in_port(2), 5), None), Ok(Progress::Done));
    // An identical rule is replaced, not an overlap.
    assert_eq!(tb.flow_mod(t(0), &overlap(in_port(1), 5), None), Ok(Progress::Done));
    // Another table has its own rules.
    let mut other = overlap(Match::catchall(), 5);
    other.table_id = 1;
    assert_eq!(tb.flow_mod(t(0), &other, None), Ok(Progress::Done));
    assert_eq!(tb.table_len(0), 3);
    assert_eq!(tb.datapath().calls.len(), 5);
}

#[test]
fn table_limits() {
    let mut tb = tables();
    // Table 254 is internal: read-only to adds and modifies.
    let mut a = add(in_port(1), 1, 1);
    a.table_id = 254;
    assert_eq!(tb.flow_mod(t(0), &a, None), Err(Refusal::Error(OfpErr::OFPBRC_EPERM)));
    let mut m = modify(in_port(1), 1);
    m.table_id = 254;
    assert_eq!(tb.flow_mod(t(0), &m, None), Err(Refusal::Error(OfpErr::OFPBRC_EPERM)));
    let mut d = delete(Match::catchall());
    d.table_id = 254;
    assert_eq!(tb.flow_mod(t(0), &d, None), Ok(Progress::Done));
    // Table 255 adds go to table 0.
    let mut a = add(in_port(1), 1, 1);
    a.table_id = 255;
    tb.flow_mod(t(0), &a, None).unwrap();
    assert_eq!(tb.table_len(0), 1);
    assert_eq!(tb.table_stats(4).tables.len(), 254);
    assert_eq!(tb.table_features(4).tables.len(), 254);

    // A switch with 10 tables refuses table 10 and up.
    let mut small = OfProto::new(Config { n_tables: 10, n_hidden_tables: 0, ..Config::default() }, TestDatapath::new());
    let mut a = add(in_port(1), 1, 1);
    a.table_id = 10;
    assert_eq!(small.flow_mod(t(0), &a, None), Err(Refusal::Error(OfpErr::OFPBRC_BAD_TABLE_ID)));
    let mut d = delete(Match::catchall());
    d.table_id = 12;
    assert_eq!(small.flow_mod(t(0), &d, None), Err(Refusal::Error(OfpErr::OFPBRC_BAD_TABLE_ID)));
    let fsr = FlowStatsRequest { table_id: 11, ..FlowStatsRequest::default() };
    assert_eq!(small.flow_stats(t(0), &fsr), Err(Refusal::Error(OfpErr::OFPBRC_BAD_TABLE_ID)));
    a.table_id = 9;
    assert_eq!(small.flow_mod(t(0), &a, None), Ok(Progress::Done));
    assert_eq!(small.table_stats(1).tables.len(), 10);

    // No packet buffers: a buffer id on an add or modify fails (deletes ignore it).
    let mut a = add(in_port(1), 1, 1);
    a.buffer_id = 7;
    assert_eq!(tb.flow_mod(t(0), &a, None), Err(Refusal::Error(OfpErr::OFPBRC_BUFFER_UNKNOWN)));
    let mut d = delete(in_port(9));
    d.buffer_id = 7;
    assert_eq!(tb.flow_mod(t(0), &d, None), Ok(Progress::Done));
}

#[test]
fn hidden_rules_stay_out_of_openflow() {
    let mut tb = tables();
    tb.add_normal_flow(t(0), NormalFlow::FailOpen);
    tb.flow_mod(t(0), &add(in_port(1), 100, 1), None).unwrap();
    // The hidden rule wins lookups over every OpenFlow priority.
    let id = tb.lookup(0, &pkt_in_port(1)).unwrap();
    assert!(tb.rule(id).unwrap().is_hidden());
    assert_eq!(summary(&tb), [(100, 1)]);
    assert_eq!(tb.aggregate_stats(&FlowStatsRequest::default()).unwrap().flow_count, 1);
    let ts = tb.table_stats(4);
    assert_eq!((ts.tables[0].active_count, ts.tables[0].lookup_count, ts.tables[0].matched_count), (1, 1, 1));
    tb.flow_mod(t(0), &delete(Match::catchall()), None).unwrap();
    assert_eq!(tb.table_len(0), 1);
    assert!(tb.rule(id).is_some());
    assert_eq!(tb.lookup(1, &pkt_in_port(1)), None);
    assert_eq!(tb.table_stats(1).tables[1].lookup_count, 1);
}

#[test]
fn flow_stats_report_durations_and_ages() {
    let mut tb = tables();
    let mut a = add(ip_dst(0x0a00_0001), 10, 1);
    (a.idle_timeout, a.hard_timeout, a.importance, a.new_cookie) = (60, 120, 4, 0xabc);
    a.table_id = 3;
    tb.flow_mod(t(1_000), &a, None).unwrap();
    let id = tb.classify(3, &pkt_ip_dst(0x0a00_0001)).unwrap();
    tb.credit(t(2_000), id, 5, 500);
    tb.credit(t(3_000), id, 5, 500);
    let mut m = modify(Match::catchall(), 2);
    m.table_id = 255;
    tb.flow_mod(t(4_000), &m, None).unwrap();
    let s = &tb.flow_stats(t(7_250), &FlowStatsRequest::default()).unwrap()[0];
    assert_eq!((s.table_id, s.priority, s.cookie, s.importance), (3, 10, 0xabc, 4));
    assert_eq!((s.duration_sec, s.duration_nsec), (6, 250_000_000));
    assert_eq!((s.idle_age, s.hard_age), (Some(4), Some(3)));
    assert_eq!((s.packet_count, s.byte_count), (10, 1000));
    assert_eq!((s.idle_timeout, s.hard_timeout), (60, 120));
    let agg = tb.aggregate_stats(&FlowStatsRequest { table_id: 3, ..FlowStatsRequest::default() }).unwrap();
    assert_eq!((agg.packet_count, agg.byte_count, agg.flow_count), (10, 1000, 1));
    let agg = tb.aggregate_stats(&FlowStatsRequest { table_id: 2, ..FlowStatsRequest::default() }).unwrap();
    assert_eq!(agg.flow_count, 0);
}
