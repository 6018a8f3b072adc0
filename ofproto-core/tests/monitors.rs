//! Flow monitors over the real tables: what each connection is told of changes made by requests
//! (its own as ABBREV, others' in full), by modifies of cookies or actions, replacing adds,
//! expiry, flushes and NORMAL flows, bundle commits, operations that complete late or fail, and
//! what initial replies and refreshes after a pause show, with the seqnos stored on the rules.

mod common;

use common::*;
use connmgr_core::{ConnId, ControllerSettings, FailMode, RuleEventKind, RuleQuery, MONITOR_PAUSE_BYTES};
use ofp_proto::actions::Action;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType, OFPBF_ATOMIC};
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand};
use ofp_proto::msg::flow_removed::{OFPRR_DELETE, OFPRR_HARD_TIMEOUT, OFPRR_IDLE_TIMEOUT};
use ofp_proto::msg::monitor::{FlowMonitor, FlowMonitorRequest, FlowUpdate, FlowUpdateEvent, MonitorFlags};
use ofp_proto::ofmatch::Match;
use ofp_proto::port_no::NORMAL as OFPP_NORMAL;
use ofp_proto::{Message, OfpErr, OfpMsg};

const INITIAL: u16 = MonitorFlags::INITIAL;
const ADD: u16 = MonitorFlags::ADD;
const REMOVED: u16 = MonitorFlags::REMOVED;
const MODIFY: u16 = MonitorFlags::MODIFY;
const ACTIONS: u16 = MonitorFlags::INSTRUCTIONS;
const OWN: u16 = MonitorFlags::ONLY_OWN;
/// Everything but the requester's own changes in full.
const ALL: u16 = INITIAL | ADD | REMOVED | MODIFY | ACTIONS;

/// One update, compactly: "added t0 p10 c0x1 in_port=1 output:2", "removed(2) ...", "abbrev 0x10".
fn show(u: &FlowUpdate) -> String {
    match u {
        FlowUpdate::Full(f) => {
            let event = match f.event {
                FlowUpdateEvent::Initial => "initial".to_string(),
                FlowUpdateEvent::Added => "added".to_string(),
                FlowUpdateEvent::Modified => "modified".to_string(),
                FlowUpdateEvent::Removed => format!("removed({})", f.reason),
            };
            let actions: Vec<String> = f
                .instructions
                .apply
                .iter()
                .map(|a| match a {
                    Action::Output { port, .. } if *port == OFPP_NORMAL => "NORMAL".to_string(),
                    Action::Output { port, .. } => format!("output:{port}"),
                    other => format!("{other:?}"),
                })
                .collect();
            let timeouts = match (f.idle_timeout, f.hard_timeout) {
                (0, 0) => String::new(),
                (i, h) => format!(" idle{i} hard{h}"),
            };
            let m = f.match_.to_string();
            format!(
                "{event} t{} p{} c{:#x}{timeouts} {} {}",
                f.table_id,
                f.priority,
                f.cookie,
                if m.is_empty() { "*" } else { &m },
                if actions.is_empty() { "drop".to_string() } else { actions.join(",") }
            )
        }
        FlowUpdate::Abbrev { xid } => format!("abbrev {xid:#x}"),
        FlowUpdate::Paused => "paused".into(),
        FlowUpdate::Resumed => "resumed".into(),
    }
}

/// The flow monitor replies among `msgs` with `xid`, one list of updates per message.
fn replies(msgs: &[OfpMsg], xid: u32) -> Vec<Vec<String>> {
    msgs.iter()
        .filter(|m| m.xid == xid)
        .filter_map(|m| match &m.body {
            Message::FlowMonitorStatsReply(r) => Some(r.updates.iter().map(show).collect()),
            _ => None,
        })
        .collect()
}

/// The unsolicited updates `c` received since last asked, one list per message.
fn updates(net: &mut Net, c: ConnId) -> Vec<Vec<String>> {
    let msgs = net.recv(c);
    replies(&msgs, 0)
}

fn out(port: u32) -> Instructions {
    output(port)
}

/// An add with a cookie, as OpenFlow 1.3 sends it.
fn add_c(m: Match, priority: u16, port: u32, cookie: u64) -> FlowMod {
    FlowMod { new_cookie: cookie, ..add(m, priority, port) }
}

/// A monitor with `flags` on every table that only wants flows outputting to `port`.
fn monitor_port(net: &mut Net, c: ConnId, xid: u32, id: u32, flags: u16, port: u32) {
    let m = FlowMonitor { out_port: port, ..FlowMonitor::new(id, MonitorFlags(flags)) };
    let v = net.peers[&c].version;
    net.send(c, &OfpMsg::new(v, xid, Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors: vec![m] })));
}

/// The seqnos stored on the only rule of table 0 with priority `p`.
fn seqnos(net: &Net, p: u32) -> (u64, u64) {
    let ids = net.tables.table_rules(0);
    let id = ids.into_iter().find(|&id| net.tables.rule(id).unwrap().priority() == p).expect("rule");
    net.tables.rule(id).unwrap().seqnos()
}

#[test]
fn own_changes_come_abbreviated_before_the_barrier_reply_and_others_see_them_in_full() {
    let mut net = Net::new();
    let a = net.accept(4);
    let b = net.accept(5);
    let c = net.accept(6);
    net.monitor(a, 0x100, 1, ALL);
    net.monitor(b, 0x200, 1, ALL);
    net.monitor(c, 0x300, 1, ALL | OWN);
    for (conn, xid) in [(a, 0x100), (b, 0x200), (c, 0x300)] {
        assert_eq!(replies(&net.recv(conn), xid), [Vec::<String>::new()], "empty initial reply");
    }

    // An add and a barrier in one read: the ABBREV precedes the barrier reply.
    let mut timed = add_c(in_port(1), 10, 2, 0xc1);
    (timed.idle_timeout, timed.hard_timeout) = (30, 60);
    let mut bytes = OfpMsg::new(4, 0x10, Message::FlowMod(timed)).to_bytes().to_vec();
    bytes.extend_from_slice(&OfpMsg::new(4, 0x11, Message::BarrierRequest).to_bytes());
    net.send_bytes(a, &bytes);
    let got = net.recv(a);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(replies(&got[..1], 0), [["abbrev 0x10"]]);
    assert!(matches!(got[1].body, Message::BarrierReply) && got[1].xid == 0x11);
    let added = "added t0 p10 c0xc1 idle30 hard60 in_port=1 output:2";
    assert_eq!(updates(&mut net, b), [[added]]);
    assert_eq!(updates(&mut net, c), [[added]]);
    let s = net.mgr.monitor_seqno() - 1;
    assert_eq!(seqnos(&net, 10), (s, s));

    net.flow_mod(a, 0x12, modify(in_port(1), 3));
    assert_eq!(updates(&mut net, a), [["abbrev 0x12"]]);
    let modified = "modified t0 p10 c0xc1 idle30 hard60 in_port=1 output:3";
    assert_eq!(updates(&mut net, b), [[modified]]);
    assert_eq!(updates(&mut net, c), [[modified]]);
    assert_eq!(seqnos(&net, 10), (s, s + 1));

    // A monitor asking for its own changes gets them in full.
    net.flow_mod(c, 0x30, add_c(in_port(2), 20, 4, 0xc2));
    let theirs = "added t0 p20 c0xc2 in_port=2 output:4";
    assert_eq!(updates(&mut net, c), [[theirs]]);
    assert_eq!(updates(&mut net, a), [[theirs]]);
    assert_eq!(updates(&mut net, b), [[theirs]]);

    // One delete of two rules: one ABBREV for the requester.
    net.flow_mod(a, 0x13, delete(Match::catchall()));
    assert_eq!(updates(&mut net, a), [["abbrev 0x13"]]);
    assert_eq!(
        updates(&mut net, b),
        [["removed(2) t0 p20 c0xc2 in_port=2 output:4", "removed(2) t0 p10 c0xc1 idle30 hard60 in_port=1 output:3"]]
    );
    assert_eq!(net.tables.n_rules(), 0);
    net.assert_view(b);
    net.assert_view(c);
}

#[test]
fn modifies_report_only_cookie_or_action_changes_and_out_port_monitors_see_actions_leave() {
    let mut net = Net::new();
    let ctl = net.accept(1); // OpenFlow 1.0: a modify's cookie field is the new cookie
    let b = net.accept(5);
    let d = net.accept(5);
    net.monitor(b, 0x200, 1, ALL);
    monitor_port(&mut net, d, 0x300, 1, ADD | MODIFY | REMOVED | ACTIONS, 2);
    net.recv(b);
    net.recv(d);

    // (OpenFlow 1.0 without the table-id extension: table 0 in the encoding means "none".)
    net.flow_mod(ctl, 1, add_c(in_port(1), 10, 2, 0x1));
    assert_eq!(updates(&mut net, b), [["added t0 p10 c0x1 in_port=1 output:2"]]);
    assert_eq!(updates(&mut net, d), [["added t0 p10 c0x1 in_port=1 output:2"]]);
    let (add_seqno, _) = seqnos(&net, 10);

    // Same actions, cookie unchanged (all-ones): nothing to report, no seqno taken.
    let modify10 = |port: u32, cookie: u64| FlowMod {
        command: FlowModCommand::Modify,
        new_cookie: cookie,
        instructions: out(port),
        match_: in_port(1),
        ..FlowMod::default()
    };
    let next = net.mgr.monitor_seqno();
    net.flow_mod(ctl, 2, modify10(2, u64::MAX));
    assert!(updates(&mut net, b).is_empty());
    assert_eq!((net.mgr.monitor_seqno(), seqnos(&net, 10)), (next, (add_seqno, add_seqno)));

    // The cookie alone.
    net.flow_mod(ctl, 3, modify10(2, 0x5));
    assert_eq!(updates(&mut net, b), [["modified t0 p10 c0x5 in_port=1 output:2"]]);
    assert_eq!(updates(&mut net, d), [["modified t0 p10 c0x5 in_port=1 output:2"]]);
    assert_eq!(seqnos(&net, 10), (add_seqno, next));

    // The actions: the out_port monitor hears that the rule stopped outputting to port 2 ...
    net.flow_mod(ctl, 4, modify10(3, u64::MAX));
    assert_eq!(updates(&mut net, b), [["modified t0 p10 c0x5 in_port=1 output:3"]]);
    assert_eq!(updates(&mut net, d), [["modified t0 p10 c0x5 in_port=1 output:3"]]);
    // ... and nothing of a rule that neither did nor does.
    net.flow_mod(ctl, 5, modify10(4, u64::MAX));
    assert_eq!(updates(&mut net, b), [["modified t0 p10 c0x5 in_port=1 output:4"]]);
    assert!(updates(&mut net, d).is_empty());
    assert_eq!(seqnos(&net, 10), (add_seqno, next + 2));
    net.assert_view(b);
}

#[test]
fn an_add_that_replaces_a_rule_is_reported_as_added_with_the_old_actions_considered() {
    let mut net = Net::new();
    let ctl = net.accept(4);
    let b = net.accept(5);
    let d = net.accept(5);
    net.monitor(b, 0x200, 1, ALL);
    monitor_port(&mut net, d, 0x300, 1, ADD | MODIFY | REMOVED | ACTIONS, 2);
    net.recv(b);
    net.recv(d);

    net.flow_mod(ctl, 1, add_c(in_port(1), 10, 2, 0x1));
    net.recv(b);
    net.recv(d);
    let first = seqnos(&net, 10);
    net.flow_mod(ctl, 2, add_c(in_port(1), 10, 3, 0x7));
    assert_eq!(updates(&mut net, b), [["added t0 p10 c0x7 in_port=1 output:3"]]);
    assert_eq!(updates(&mut net, d), [["added t0 p10 c0x7 in_port=1 output:3"]]);
    let second = seqnos(&net, 10);
    assert!(second.0 > first.0 && second.0 == second.1, "{first:?} {second:?}");

    // Replacing with the very same rule is still an add (OVS reports every replacement).
    net.flow_mod(ctl, 3, add_c(in_port(1), 10, 3, 0x7));
    assert_eq!(updates(&mut net, b), [["added t0 p10 c0x7 in_port=1 output:3"]]);
    assert!(updates(&mut net, d).is_empty());
    assert!(seqnos(&net, 10).0 > second.0);
    assert_eq!(net.tables.table_len(0), 1);
    net.assert_view(b);
}

#[test]
fn expiry_flushes_and_normal_flows_are_the_switchs_own_changes() {
    let mut net = Net::new();
    let a = net.accept(4);
    let b = net.accept(5);
    net.monitor(a, 0x100, 1, ALL);
    net.monitor(b, 0x200, 1, ALL);
    net.recv(a);
    net.recv(b);
    let timed = |port: u32, idle: u16, hard: u16| FlowMod {
        idle_timeout: idle,
        hard_timeout: hard,
        ..add(in_port(port), 10, 9)
    };
    net.flow_mod(a, 1, timed(1, 3, 0));
    net.flow_mod(a, 2, timed(2, 0, 5));
    net.flow_mod(a, 3, timed(3, 0, 0));
    assert_eq!(updates(&mut net, a), [["abbrev 0x1"], ["abbrev 0x2"], ["abbrev 0x3"]]);

    net.advance(2999);
    assert!(updates(&mut net, a).is_empty());
    net.advance(1);
    assert_eq!(
        updates(&mut net, a),
        [[format!("removed({OFPRR_IDLE_TIMEOUT}) t0 p10 c0x0 idle3 hard0 in_port=1 output:9")]]
    );
    net.advance(2000);
    assert_eq!(
        updates(&mut net, a),
        [[format!("removed({OFPRR_HARD_TIMEOUT}) t0 p10 c0x0 idle0 hard5 in_port=2 output:9")]]
    );

    // The primary controller goes away: the flows are flushed (in full even to the connection
    // that added them) ...
    let settings = ControllerSettings { probe_interval: 0, ..ControllerSettings::default() };
    let only_mgmt = std::collections::BTreeMap::from([(MGMT.to_string(), settings)]);
    assert!(net.mgr.set_controllers(net.now, &only_mgmt, &mut net.tables).is_empty());
    net.tables.forward_events(net.now, &mut net.mgr);
    assert_eq!(updates(&mut net, a), [[format!("removed({OFPRR_DELETE}) t0 p10 c0x0 in_port=3 output:9")]]);
    // ... and in standalone mode the NORMAL flow comes (after another, empty, flush).
    net.mgr.set_fail_mode(net.now, FailMode::Standalone, &mut net.tables);
    net.tables.forward_events(net.now, &mut net.mgr);
    assert_eq!(updates(&mut net, a), [["added t0 p0 c0x0 * NORMAL"]]);
    let each: Vec<String> = updates(&mut net, b).into_iter().map(|u| u.join(" | ")).collect();
    assert_eq!(each.len(), 7, "three adds, two expiries, a flush and the NORMAL flow, one batch each: {each:?}");
    net.assert_view(b);
}

#[test]
fn changes_that_complete_late_are_reported_then_and_failed_ones_never() {
    let mut net = Net::new();
    let a = net.accept(4);
    let b = net.accept(5);
    net.monitor(a, 0x100, 1, ALL);
    net.monitor(b, 0x200, 1, ALL);
    net.recv(a);
    net.recv(b);
    net.flow_mod(a, 1, add(in_port(1), 10, 2));
    net.recv(a);
    net.recv(b);

    net.tables.datapath_mut().clog();
    net.tables.datapath_mut().fail_priority(20, OfpErr::OFPFMFC_TABLE_FULL);
    net.flow_mod(a, 2, modify(in_port(1), 3));
    net.flow_mod(a, 3, add(in_port(2), 20, 2));
    net.flow_mod(a, 4, add(in_port(3), 30, 2));
    net.send(a, &OfpMsg::new(4, 5, Message::BarrierRequest));
    assert!(net.recv(a).is_empty(), "the barrier waits, and nothing is reported yet");
    assert!(net.recv(b).is_empty());
    // Monitors know the rules as they were before: a new one sees the old actions and neither
    // pending add.
    let e = net.accept(5);
    net.monitor(e, 0x500, 1, ALL);
    assert_eq!(replies(&net.recv(e), 0x500), [["initial t0 p10 c0x0 in_port=1 output:2"]]);
    assert_eq!(net.tables.table_len(0), 3, "the tables changed optimistically");

    net.tables.datapath_mut().unclog();
    net.complete();
    let got = net.recv(a);
    // The modify and the successful add as ABBREVs, the failed add's error, then the barrier.
    assert_eq!(replies(&got, 0), [["abbrev 0x2"], ["abbrev 0x4"]]);
    let error = got.iter().find_map(|m| match &m.body {
        Message::Error(e) => Some((m.xid, e.error())),
        _ => None,
    });
    assert_eq!(error, Some((3, Some(OfpErr::OFPFMFC_TABLE_FULL))));
    assert!(matches!(got.last().unwrap().body, Message::BarrierReply));
    for c in [b, e] {
        assert_eq!(
            updates(&mut net, c),
            [["modified t0 p10 c0x0 in_port=1 output:3"], ["added t0 p30 c0x0 in_port=3 output:2"]]
        );
        net.assert_view(c);
    }
    assert_eq!(net.tables.table_len(0), 2);

    // A modify of two rules where one fails: what took effect goes to everyone in full, the
    // requester included (it cannot tell which part an ABBREV would stand for).
    net.tables.datapath_mut().fail_priority(30, OfpErr::OFPFMFC_TABLE_FULL);
    net.flow_mod(a, 6, modify(Match::catchall(), 7));
    let got = net.recv(a);
    assert_eq!(replies(&got, 0), [["modified t0 p10 c0x0 in_port=1 output:7"]]);
    assert!(got.iter().any(|m| m.xid == 6 && matches!(m.body, Message::Error(_))));
    assert_eq!(updates(&mut net, b), [["modified t0 p10 c0x0 in_port=1 output:7"]]);
    net.assert_view(b);
}

#[test]
fn a_pending_delete_stays_known_until_it_completes() {
    let mut net = Net::new();
    let a = net.accept(4);
    net.flow_mod(a, 1, add(in_port(1), 10, 2));
    net.tables.datapath_mut().clog();
    net.flow_mod(a, 2, delete(in_port(1)));
    assert_eq!(net.tables.table_len(0), 0);
    let b = net.accept(5);
    net.monitor(b, 0x200, 1, ALL);
    assert_eq!(replies(&net.recv(b), 0x200), [["initial t0 p10 c0x0 in_port=1 output:2"]]);
    net.tables.datapath_mut().unclog();
    net.complete();
    assert_eq!(updates(&mut net, b), [["removed(2) t0 p10 c0x0 in_port=1 output:2"]]);
    net.assert_view(b);
}

fn bundle_ctrl(xid: u32, ty: BundleCtrlType) -> OfpMsg {
    OfpMsg::new(5, xid, Message::BundleControl(BundleCtrl::new(1, ty, OFPBF_ATOMIC)))
}

fn bundle_add(xid: u32, f: FlowMod) -> OfpMsg {
    BundleAdd::wrap(1, OFPBF_ATOMIC, OfpMsg::new(5, xid, Message::FlowMod(f))).unwrap()
}

#[test]
fn a_bundle_commit_is_one_batch_and_a_failed_one_reports_nothing() {
    let mut net = Net::new();
    let a = net.accept(5);
    let b = net.accept(5);
    net.monitor(a, 0x100, 1, ALL);
    net.monitor(b, 0x200, 1, ALL);
    net.flow_mod(a, 1, add_c(in_port(1), 10, 2, 0x1));
    net.flow_mod(a, 2, add_c(in_port(2), 20, 2, 0x2));
    net.recv(a);
    net.recv(b);

    net.send(a, &bundle_ctrl(0x40, BundleCtrlType::OPEN_REQUEST));
    net.send(a, &bundle_add(0x41, add_c(in_port(3), 30, 4, 0x3)));
    net.send(
        a,
        &bundle_add(0x42, FlowMod { command: FlowModCommand::Modify, table_id: 0xff, ..add(in_port(1), 0, 5) }),
    );
    net.send(a, &bundle_add(0x43, delete(in_port(2))));
    net.send(a, &bundle_ctrl(0x44, BundleCtrlType::COMMIT_REQUEST));
    let got = net.recv(a);
    // One ABBREV (with the first bundled message's xid) for the whole commit, before its reply.
    assert_eq!(replies(&got, 0), [["abbrev 0x41"]]);
    assert!(got.iter().position(|m| m.xid == 0).unwrap() < got.iter().position(|m| m.xid == 0x44).unwrap());
    assert_eq!(
        updates(&mut net, b),
        [[
            "added t0 p30 c0x3 in_port=3 output:4",
            "modified t0 p10 c0x1 in_port=1 output:5",
            "removed(2) t0 p20 c0x2 in_port=2 output:2",
        ]]
    );
    net.assert_view(b);

    // A commit the datapath fails later: undone, and monitors hear nothing of it.
    net.tables.datapath_mut().clog();
    net.tables.datapath_mut().fail_priority(40, OfpErr::OFPFMFC_TABLE_FULL);
    net.send(a, &bundle_ctrl(0x50, BundleCtrlType::OPEN_REQUEST));
    net.send(a, &bundle_add(0x51, delete(in_port(3))));
    net.send(a, &bundle_add(0x52, add(in_port(4), 40, 4)));
    net.send(a, &bundle_ctrl(0x53, BundleCtrlType::COMMIT_REQUEST));
    net.tables.datapath_mut().unclog();
    net.complete();
    assert!(replies(&net.recv(a), 0).is_empty());
    assert!(updates(&mut net, b).is_empty());
    assert_eq!(net.tables.table_len(0), 2);
    net.assert_view(b);
}

#[test]
fn a_failed_compensation_leaves_the_bundles_change_and_reports_it() {
    let mut tb = tables();
    let mut rec = Recorder::default();
    tb.flow_mod(t(0), &add(in_port(1), 10, 2), None).unwrap();
    tb.flow_mod(t(0), &add(in_port(5), 50, 2), None).unwrap();
    tb.forward_monitor_events(t(0), &mut rec);
    tb.datapath_mut().clog();
    // The modify of priority 10 goes through in the datapath, the add of 20 fails: undoing the
    // modify there fails too, so the modify stays after all. The delete of 50 is undone.
    tb.datapath_mut().fail_priority(20, OfpErr::OFPFMFC_TABLE_FULL);
    let fms = [modify_strict(in_port(1), 10, 3), delete(in_port(5)), add(in_port(2), 20, 3)];
    tb.bundle(t(1), &fms, req(1, 9, 9)).unwrap();
    tb.datapath_mut().fail_priority(10, OfpErr::OFPFMFC_TABLE_FULL);
    tb.datapath_mut().unclog();
    tb.run(t(2));
    assert_eq!(tb.n_pending_groups(), 0);
    let r10 = tb.classify(0, &pkt_in_port(1)).unwrap();
    assert_eq!(out_port_of(&tb, r10), 3);
    let before = rec.events().len();
    tb.forward_monitor_events(t(2), &mut rec);
    let events = &rec.events()[before..];
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!((e.kind, e.conn, e.xid), (RuleEventKind::Modified, None, 0));
    assert_eq!((*e.rule.instructions == output(3), e.old_instructions.as_deref() == Some(&output(2))), (true, true));
    let all = RuleQuery { table_id: 0xff, match_: &Match::catchall(), since: 0 };
    let known: Vec<(u16, Instructions)> =
        tb.monitored_rules(&all).iter().map(|r| (r.priority, (*r.instructions).clone())).collect();
    assert_eq!(known, [(50, output(2)), (10, output(3))]);
}

#[test]
fn a_refresh_after_a_pause_brings_a_view_up_to_date() {
    let mut net = Net::new();
    let b = net.accept(5);
    net.peers.get_mut(&b).unwrap().view = connmgr_core::fuzzing::MonitorView::new(true).with_unique_cookies();
    net.monitor(b, 0x200, 1, ALL);
    net.recv(b);
    // More than 128 KiB of updates in one batch (a bundle applied directly), to a monitor that
    // does not read.
    net.peers.get_mut(&b).unwrap().reading = false;
    let big = Instructions::apply((1..=12).map(|p| Action::Output { port: p, max_len: 0 }));
    let n: u16 = 1500;
    let fms: Vec<FlowMod> = (0..n)
        .map(|i| FlowMod { new_cookie: u64::from(i) + 1, instructions: big.clone(), ..add(in_port(i.into()), 100, 1) })
        .collect();
    net.tables.bundle(net.now, &fms, None).unwrap();
    net.tables.forward_events(net.now, &mut net.mgr);
    net.run();
    let paused_at = net.mgr.flow_monitor_status(b).unwrap().paused.expect("paused");
    assert!(net.mgr.flow_monitor_status(b).unwrap().unsent_bytes > MONITOR_PAUSE_BYTES);

    // While paused: a modify of an old rule and an add are left for the refresh; the removal of
    // an old rule goes out; the removal of a rule added since (its add seqno carried into the
    // removal queued behind it) does not.
    let cookie = |c: u64, f: FlowMod| FlowMod { new_cookie: c, ..f };
    net.tables.flow_mod(net.now, &modify_strict(in_port(0), 100, 7), None).unwrap();
    net.tables.flow_mod(net.now, &delete_strict(in_port(1), 100), None).unwrap();
    net.tables.flow_mod(net.now, &cookie(0x9000, add(in_port(2000), 200, 8)), None).unwrap();
    net.tables.flow_mod(net.now, &cookie(0x9001, add(in_port(2001), 200, 8)), None).unwrap();
    net.tables.flow_mod(net.now, &delete_strict(in_port(2001), 200), None).unwrap();
    net.tables.forward_events(net.now, &mut net.mgr);
    let added = net.tables.table_rules(0).into_iter().find(|&id| net.tables.rule(id).unwrap().priority() == 200);
    assert!(net.tables.rule(added.unwrap()).unwrap().seqnos().0 > paused_at);

    net.peers.get_mut(&b).unwrap().reading = true;
    net.run();
    let msgs = net.recv(b);
    let view = &net.peers[&b].view;
    assert_eq!((view.n_paused, view.n_resumed), (1, 1));
    assert_eq!(view.n_removed, 1, "only the pre-pause rule's removal");
    // After the pause, the one removal, then the refresh (the new rule and the modified old
    // one), then RESUMED.
    let all: Vec<String> = replies(&msgs, 0).into_iter().flatten().collect();
    let paused = all.iter().position(|u| u == "paused").expect("paused");
    assert_eq!(paused, usize::from(n), "every update of the batch went out before PAUSED");
    assert_eq!(
        all[paused + 1..],
        [
            "removed(2) t0 p100 c0x2 in_port=1 output:1,output:2,output:3,output:4,output:5,output:6,output:7,\
             output:8,output:9,output:10,output:11,output:12",
            "added t0 p200 c0x9000 in_port=2000 output:8",
            "modified t0 p100 c0x1 in_port=0 output:7",
            "resumed",
        ]
    );
    net.assert_view(b);
    assert_eq!(net.monitored().len(), usize::from(n), "{n} - 1 + 1");

    // Since the pause, the tables offer exactly those two for a refresh.
    let since = RuleQuery { table_id: 0xff, match_: &Match::catchall(), since: paused_at };
    let changed: Vec<(u16, u64)> = net.tables.monitored_rules(&since).iter().map(|r| (r.priority, r.cookie)).collect();
    assert_eq!(changed, [(200, 0x9000), (100, 0x1)]);
}

#[test]
fn monitors_may_name_a_table_and_a_match() {
    let mut net = Net::new();
    let a = net.accept(5);
    net.flow_mod(a, 1, add(in_port(1), 10, 2));
    net.flow_mod(a, 2, FlowMod { table_id: 3, ..add(ip_dst(0x0a00_0001), 20, 2) });
    net.flow_mod(a, 3, FlowMod { table_id: 3, ..add(in_port(1), 30, 2) });
    let m = FlowMonitor { table_id: 3, match_: in_port(1), ..FlowMonitor::new(5, MonitorFlags(ALL)) };
    net.send(a, &OfpMsg::new(5, 0x60, Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors: vec![m] })));
    assert_eq!(replies(&net.recv(a), 0x60), [["initial t3 p30 c0x0 in_port=1 output:2"]]);
    // Table 254 exists (OVS accepts monitors on it); 255 tables is the limit.
    let m = FlowMonitor { table_id: 254, ..FlowMonitor::new(6, MonitorFlags(ALL)) };
    net.send(a, &OfpMsg::new(5, 0x61, Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors: vec![m] })));
    assert_eq!(replies(&net.recv(a), 0x61), [Vec::<String>::new()]);
    let tables = net.tables.config().n_tables;
    assert_eq!(connmgr_core::Owner::n_tables(&net.tables), tables);
}

#[test]
fn completions_picked_up_during_another_request_are_reported_apart_and_after_it() {
    let mut net = Net::new();
    let a = net.accept(4);
    let b = net.accept(5);
    net.flow_mod(a, 1, add_c(in_port(1), 10, 2, 0x1));
    net.peers.get_mut(&b).unwrap().view = connmgr_core::fuzzing::MonitorView::new(true).with_unique_cookies();
    net.tables.datapath_mut().clog();
    net.flow_mod(a, 2, delete(in_port(1)));
    net.tables.datapath_mut().unclog();
    // The deletion's completion is ready; the next request picks it up. In the same read, a new
    // monitor: it must still see the rule (its removal was not reported yet), then the removal.
    let mut bytes = OfpMsg::new(5, 0x20, Message::FlowMod(add_c(in_port(2), 20, 2, 0x2))).to_bytes().to_vec();
    let m = FlowMonitor::new(1, MonitorFlags(ALL));
    let req = OfpMsg::new(5, 0x21, Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors: vec![m] }));
    bytes.extend_from_slice(&req.to_bytes());
    net.send_bytes(b, &bytes);
    let got = net.recv(b);
    assert_eq!(
        replies(&got, 0x21),
        [["initial t0 p20 c0x2 in_port=2 output:2", "initial t0 p10 c0x1 in_port=1 output:2"]]
    );
    assert_eq!(replies(&got, 0), [["removed(2) t0 p10 c0x1 in_port=1 output:2"]]);
    net.assert_view(b);
    assert_eq!(net.tables.table_len(0), 1);
}

#[test]
fn a_flow_mod_waits_while_earlier_changes_are_not_forwarded() {
    let mut net = Net::new();
    let a = net.accept(4);
    let b = net.accept(5);
    net.monitor(a, 0x100, 1, ALL);
    net.monitor(b, 0x200, 1, ALL);
    net.recv(a);
    net.recv(b);
    net.tables.datapath_mut().clog();
    net.flow_mod(a, 1, add(in_port(1), 10, 2));
    net.tables.datapath_mut().unclog();
    // An embedder that runs the tables but forwards late: the add's change waits in the tables
    // when the next flow mod arrives, which therefore waits too.
    net.tables.run(net.now);
    let msg = OfpMsg::new(4, 2, Message::FlowMod(add(in_port(2), 20, 2)));
    net.mgr.handle_bytes(net.now, a, &msg.to_bytes());
    net.mgr.handle_timeout(net.now, &mut net.tables);
    assert_eq!(net.tables.table_len(0), 1, "postponed");
    net.tables.forward_events(net.now, &mut net.mgr);
    net.run();
    assert_eq!(net.tables.table_len(0), 2);
    assert_eq!(updates(&mut net, a), [["abbrev 0x1"], ["abbrev 0x2"]]);
    assert_eq!(
        updates(&mut net, b),
        [["added t0 p10 c0x0 in_port=1 output:2"], ["added t0 p20 c0x0 in_port=2 output:2"]]
    );
    net.assert_view(b);
}

#[test]
fn a_bundle_that_modifies_then_replaces_a_rule_reports_the_replacement() {
    // Found by the datapath-mirror property test: the replacing add changed the hard timeout,
    // which a modify cannot, so the folded change must be reported as an add.
    let mut tb = tables();
    let mut rec = Recorder::default();
    tb.flow_mod(t(0), &FlowMod { hard_timeout: 1, ..add(Match::catchall(), 3, 3) }, None).unwrap();
    tb.forward_monitor_events(t(0), &mut rec);
    tb.bundle(t(0), &[modify(Match::catchall(), 1), add(Match::catchall(), 3, 3)], None).unwrap();
    tb.forward_monitor_events(t(0), &mut rec);
    let last = rec.batches.last().unwrap();
    assert_eq!(last.len(), 1);
    let e = &last[0];
    assert_eq!((e.kind, e.rule.hard_timeout, e.old_instructions.is_none()), (RuleEventKind::Added, 0, true));
    assert_eq!((e.rule.add_seqno, e.rule.modify_seqno), (2, 2));
}

#[test]
fn changes_nobody_monitors_take_the_same_seqnos_as_monitored_ones() {
    // The same adds, modifies and bundle commit with and without a monitor on another connection.
    let run = |monitored: bool| {
        let mut net = Net::new();
        let a = net.accept(5);
        let b = net.accept(5);
        if monitored {
            net.monitor(b, 0x100, 1, ALL);
        }
        net.flow_mod(a, 1, add_c(in_port(1), 10, 2, 0x1));
        net.flow_mod(a, 2, modify(in_port(1), 3));
        net.flow_mod(a, 3, add_c(in_port(2), 20, 2, 0x2));
        net.send(a, &bundle_ctrl(0x40, BundleCtrlType::OPEN_REQUEST));
        net.send(a, &bundle_add(0x41, add_c(in_port(3), 30, 4, 0x3)));
        net.send(a, &bundle_add(0x42, modify(in_port(1), 5)));
        net.send(a, &bundle_add(0x43, delete(in_port(2))));
        net.send(a, &bundle_ctrl(0x44, BundleCtrlType::COMMIT_REQUEST));
        net.recv(a);
        let got = [10, 30].map(|p| seqnos(&net, p));
        // A monitor created now sees the rules with those seqnos.
        net.monitor(b, 0x200, 2, ALL);
        net.recv(b);
        net.assert_view(b);
        (got, net.mgr.monitor_seqno())
    };
    let (seqnos, next) = run(false);
    assert_eq!((seqnos, next), run(true));
    // The add (1), modify (2), add of p20 (3), and the bundle's add (4) and modify (5).
    assert_eq!(seqnos, [(1, 5), (4, 4)]);
    assert_eq!(next, 6);
}
