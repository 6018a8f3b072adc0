//! The tables behind a real `ConnMgr`: a controller's flow mods, barriers, statistics, bundles
//! and flushes, on the wire.

mod common;

use std::collections::BTreeMap;

use common::*;
use connmgr_core::{ControllerSettings, FailMode};
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType, OFPBF_ATOMIC};
use ofp_proto::msg::flow_mod::FlowModFlags;
use ofp_proto::msg::flow_removed::OFPRR_DELETE;
use ofp_proto::msg::table_features::TableFeaturesMsg;
use ofp_proto::msg::FlowStatsRequest;
use ofp_proto::ofmatch::Match;
use ofp_proto::{ErrorMsg, Message, OfpErr, OfpMsg, Raw};
use ofproto_core::{Config, OfProto, TestDatapath};

fn error_of(m: &OfpMsg) -> (u32, Option<OfpErr>, usize) {
    match &m.body {
        Message::Error(e) => (m.xid, e.error(), e.data.len()),
        other => panic!("not an error: {other:?}"),
    }
}

#[test]
fn barrier_waits_for_pending_flow_mods_and_a_failure_answers_its_request() {
    let mut h = Harness::new(4);
    h.tables.datapath_mut().fail_priority(20, OfpErr::OFPFMFC_TABLE_FULL);
    h.tables.datapath_mut().clog();
    let ok = h.flow_mod_msg(10, add(in_port(1), 10, 2));
    // A long flow mod: the error quotes its first 64 bytes.
    let mut big = add(ip_dst(0x0a00_0001), 20, 2);
    big.instructions.apply.extend((3..9).map(|p| ofp_proto::actions::Action::Output { port: p, max_len: 0 }));
    let bad = h.flow_mod_msg(11, big);
    assert!(bad.len() > 64);
    h.send_bytes(&ok);
    h.send_bytes(&bad);
    h.send(&OfpMsg::new(4, 12, Message::BarrierRequest));
    assert!(h.recv().is_empty(), "the barrier waits for both flow mods");
    assert_eq!(h.tables.n_pending_groups(), 2);

    h.tables.datapath_mut().unclog();
    h.complete();
    let got = h.recv();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(error_of(&got[0]), (11, Some(OfpErr::OFPFMFC_TABLE_FULL), 64));
    let Message::Error(e) = &got[0].body else { unreachable!() };
    assert_eq!(e, &ErrorMsg::reply_to(OfpErr::OFPFMFC_TABLE_FULL, &bad));
    assert_eq!((got[1].xid, &got[1].body), (12, &Message::BarrierReply));
    // The failed add is gone, the other stays.
    assert_eq!(h.tables.table_len(0), 1);
}

#[test]
fn a_postponed_request_blocks_its_connection_until_retried() {
    let mut h = Harness::new(4);
    h.tables.datapath_mut().clog();
    h.send_bytes(&h.flow_mod_msg(1, add(in_port(1), 10, 2)));
    h.send_bytes(&h.flow_mod_msg(2, modify(in_port(1), 3)));
    h.send(&OfpMsg::new(4, 3, Message::EchoRequest(bytes::Bytes::new())));
    assert!(h.recv().is_empty(), "nothing is read after the postponed modify");
    let id = h.tables.classify(0, &pkt_in_port(1)).unwrap();
    assert_eq!(out_port_of(&h.tables, id), 2);

    h.tables.datapath_mut().unclog();
    h.complete();
    // The add completed, the modify went through (completing at once), then the echo.
    assert_eq!(out_port_of(&h.tables, id), 3);
    let got = h.recv();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].xid, &got[0].body), (3, &Message::EchoReply(bytes::Bytes::new())));
}

#[test]
fn deletes_send_flow_removed_before_the_barrier_reply() {
    let mut h = Harness::new(4);
    h.send_bytes(&h.flow_mod_msg(1, with_flags(add(in_port(1), 10, 2), FlowModFlags::SEND_FLOW_REM)));
    h.tables.datapath_mut().clog();
    h.now = t(h.now.as_millis() + 2_000);
    h.send_bytes(&h.flow_mod_msg(2, delete(Match::catchall())));
    h.send(&OfpMsg::new(4, 3, Message::BarrierRequest));
    assert!(h.recv().is_empty());
    h.tables.datapath_mut().unclog();
    h.complete();
    let got = h.recv();
    let Message::FlowRemoved(fr) = &got[0].body else { panic!("{got:?}") };
    assert_eq!((fr.reason, fr.duration_sec, fr.priority), (OFPRR_DELETE, 2, 10));
    assert_eq!(got[0].raw, Raw::Ofpt11FlowRemoved);
    assert_eq!((got[1].xid, &got[1].body), (3, &Message::BarrierReply));
}

#[test]
fn a_synchronous_datapath_answers_in_order() {
    let mut h = Harness::new(4);
    h.tables.datapath_mut().fail_priority(20, OfpErr::OFPFMFC_TABLE_FULL);
    h.send_bytes(&h.flow_mod_msg(1, with_flags(add(in_port(1), 10, 2), FlowModFlags::SEND_FLOW_REM)));
    // Refused before anything happens (table 254 is read-only), then a datapath failure at once.
    let mut bad_table = add(in_port(2), 10, 2);
    bad_table.table_id = 254;
    h.send_bytes(&h.flow_mod_msg(2, bad_table));
    h.send_bytes(&h.flow_mod_msg(3, add(in_port(3), 20, 2)));
    h.send_bytes(&h.flow_mod_msg(4, delete(in_port(1))));
    h.send(&OfpMsg::new(4, 5, Message::BarrierRequest));
    let got = h.recv();
    assert_eq!(error_of(&got[0]), (2, Some(OfpErr::OFPBRC_EPERM), 64));
    assert_eq!(error_of(&got[1]), (3, Some(OfpErr::OFPFMFC_TABLE_FULL), 64));
    assert!(matches!(got[2].body, Message::FlowRemoved(_)));
    assert_eq!(got[3].body, Message::BarrierReply);
    assert_eq!(got.len(), 4);
}

#[test]
fn flow_and_aggregate_stats_answer_in_the_requests_form() {
    let mut h = Harness::new(1);
    // Without the table-id extension the command's high byte must be 0, and the add goes to
    // table 0 (as if table 255 were named); a table id there is a bad command.
    let mut f = add(in_port(1), 10, 2);
    f.table_id = 3;
    h.send_bytes(&h.flow_mod_msg(1, f.clone()));
    assert_eq!(error_of(&h.recv()[0]), (1, Some(OfpErr::OFPFMFC_BAD_COMMAND), 64));
    f.table_id = 0;
    h.send_bytes(&h.flow_mod_msg(1, f));
    let fsr = FlowStatsRequest::default();
    h.send(&OfpMsg::new(1, 2, Message::FlowStatsRequest(fsr.clone())));
    h.send(&OfpMsg::new(1, 3, Message::FlowStatsRequest(fsr.clone())).with_raw(Raw::NxstFlowRequest));
    h.send(&OfpMsg::new(1, 4, Message::AggregateStatsRequest(fsr.clone())));
    h.send(&OfpMsg::new(1, 5, Message::AggregateStatsRequest(fsr.clone())).with_raw(Raw::NxstAggregateRequest));
    let got = h.recv();
    let raws: Vec<(u32, Raw)> = got.iter().map(|m| (m.xid, m.raw)).collect();
    assert_eq!(
        raws,
        [
            (2, Raw::Ofpst10FlowReply),
            (3, Raw::NxstFlowReply),
            (4, Raw::OfpstAggregateReply),
            (5, Raw::NxstAggregateReply)
        ]
    );
    for m in &got[..2] {
        let Message::FlowStatsReply(r) = &m.body else { panic!() };
        assert_eq!(r.entries.len(), 1);
        assert_eq!((r.entries[0].table_id, r.entries[0].priority, r.entries[0].match_), (0, 10, in_port(1)));
        assert_eq!(r.entries[0].instructions, output(2));
    }
    let Message::AggregateStatsReply(a) = got[2].body else { panic!() };
    assert_eq!(a.flow_count, 1);
}

#[test]
fn many_flows_split_the_flow_stats_reply() {
    let mut h = Harness::new(4);
    for i in 0..1000u32 {
        h.tables.flow_mod(h.now, &add(ip_dst(i), 10, 2), None).unwrap();
    }
    h.send(&OfpMsg::new(4, 9, Message::FlowStatsRequest(FlowStatsRequest::default())));
    let got = h.recv();
    assert!(got.len() > 1);
    let n: usize = got
        .iter()
        .map(|m| match &m.body {
            Message::FlowStatsReply(r) => r.entries.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(n, 1000);
    assert!(got[..got.len() - 1].iter().all(|m| m.stats_flags == 1) && got.last().unwrap().stats_flags == 0);
}

#[test]
fn table_stats_and_features() {
    let mut h = Harness::new(4);
    h.send_bytes(&h.flow_mod_msg(1, add(in_port(1), 10, 2)));
    h.tables.lookup(0, &pkt_in_port(1));
    h.tables.lookup(0, &pkt_in_port(2));
    h.send(&OfpMsg::new(4, 2, Message::TableStatsRequest));
    let got = h.recv();
    let Message::TableStatsReply(ts) = &got[0].body else { panic!("{got:?}") };
    assert_eq!(ts.tables.len(), 254);
    let t0 = &ts.tables[0];
    assert_eq!((t0.table_id, t0.active_count, t0.lookup_count, t0.matched_count), (0, 1, 2, 1));

    h.send(&OfpMsg::new(4, 3, Message::TableFeaturesStatsRequest(TableFeaturesMsg::default())));
    let got = h.recv();
    let n: usize = got
        .iter()
        .map(|m| match &m.body {
            Message::TableFeaturesStatsReply(r) => r.tables.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(n, 254);
    // Changing table features is refused.
    let set = TableFeaturesMsg::ovs_reply(4, 1);
    h.send(&OfpMsg::new(4, 4, Message::TableFeaturesStatsRequest(set)));
    let got = h.recv();
    assert_eq!(error_of(&got[0]).1, Some(OfpErr::OFPTFFC_EPERM));
}

fn bundle_ctrl(xid: u32, ty: BundleCtrlType) -> OfpMsg {
    OfpMsg::new(5, xid, Message::BundleControl(BundleCtrl::new(1, ty, OFPBF_ATOMIC)))
}

fn bundle_add(xid: u32, f: ofp_proto::msg::FlowMod) -> OfpMsg {
    BundleAdd::wrap(1, OFPBF_ATOMIC, OfpMsg::new(5, xid, Message::FlowMod(f))).unwrap()
}

#[test]
fn bundle_commit_names_the_failing_entry_and_changes_nothing() {
    let mut h = Harness::new(5);
    h.send_bytes(&h.flow_mod_msg(1, add(in_port(1), 10, 2)));
    h.send(&bundle_ctrl(20, BundleCtrlType::OPEN_REQUEST));
    h.send(&bundle_add(21, delete(Match::catchall())));
    h.send(&bundle_add(22, add(in_port(2), 10, 3)));
    h.send(&bundle_add(23, with_flags(add(in_port(2), 10, 4), FlowModFlags::CHECK_OVERLAP)));
    h.send(&bundle_add(24, with_flags(add(ip_dst(1), 10, 4), FlowModFlags::CHECK_OVERLAP)));
    h.send(&bundle_add(25, add(in_port(3), 10, 3)));
    // Table 254 is refused when added.
    let mut ro = add(in_port(9), 1, 1);
    ro.table_id = 254;
    h.send(&bundle_add(26, ro));
    h.send(&bundle_ctrl(27, BundleCtrlType::COMMIT_REQUEST));
    let got = h.recv();
    let summary: Vec<String> = got
        .iter()
        .map(|m| match &m.body {
            Message::BundleControl(c) => format!("{} {:?}", m.xid, c.ctrl_type),
            Message::Error(e) => format!("{} {:?}", m.xid, e.error()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "20 BundleCtrlType(1)",
            "26 Some(OFPBRC_EPERM)",
            // The replacing add at 23 is no overlap; the add at 24 overlaps in_port=2.
            "24 Some(OFPFMFC_OVERLAP)",
            "27 Some(OFPBFC_MSG_FAILED)",
        ]
    );
    let ids = h.tables.table_rules(0);
    assert_eq!(ids.len(), 1);
    assert_eq!((h.tables.rule(ids[0]).unwrap().match_(), out_port_of(&h.tables, ids[0])), (in_port(1), 2));
    assert_eq!(h.tables.datapath().calls.len(), 1);
}

/// A bundled flow mod gets OVS's checks as it is added: one whose body does not decode, one for a
/// hidden table and one naming a buffer are answered with their errors and left out; the rest
/// commit. A switch with fewer tables than the default decodes with its own options (a goto beyond
/// its tables is refused); otherwise the flow mod's view is checked and it is decoded at commit.
#[test]
fn bundle_add_checks_each_flow_mod_as_it_comes() {
    for n_tables in [255, 10] {
        let mut h =
            Harness::with_tables(5, OfProto::new(Config { n_tables, ..Config::default() }, TestDatapath::new()));
        h.send(&bundle_ctrl(20, BundleCtrlType::OPEN_REQUEST));
        // An OXM field number no OpenFlow version defines, in place of in_port's.
        let mut bad_field = bundle_add(21, add(in_port(1), 10, 2)).to_bytes().to_vec();
        let oxm_field = 16 + 48 + 4 + 2;
        assert_eq!(bad_field[oxm_field], 0);
        bad_field[oxm_field] = 0x7f << 1;
        h.send_bytes(&bad_field);
        let mut hidden = add(in_port(2), 10, 2);
        hidden.table_id = n_tables - 1;
        h.send(&bundle_add(22, hidden));
        let mut buffered = add(in_port(3), 10, 2);
        buffered.buffer_id = 7;
        h.send(&bundle_add(23, buffered));
        let mut goto = add(in_port(4), 10, 2);
        goto.instructions.goto_table = Some(12);
        h.send(&bundle_add(24, goto));
        h.send(&bundle_add(25, add(in_port(5), 10, 2)));
        h.send(&bundle_ctrl(26, BundleCtrlType::COMMIT_REQUEST));
        let error = |m: &OfpMsg| if let Message::Error(e) = &m.body { e.error() } else { None };
        let got: Vec<_> = h.recv().iter().map(|m| (m.xid, error(m))).collect();
        let mut want = vec![
            (20, None),
            (21, Some(OfpErr::OFPBMC_BAD_FIELD)),
            (22, Some(OfpErr::OFPBRC_EPERM)),
            (23, Some(OfpErr::OFPBRC_BUFFER_UNKNOWN)),
            (24, Some(OfpErr::OFPBIC_BAD_TABLE_ID)),
            (26, None),
        ];
        if n_tables == 255 {
            want.remove(4);
        }
        assert_eq!(got, want, "{n_tables} tables");
        let rules: Vec<Match> =
            h.tables.table_rules(0).into_iter().map(|id| h.tables.rule(id).unwrap().match_()).collect();
        let mut expected = vec![in_port(5)];
        if n_tables == 255 {
            expected.insert(0, in_port(4));
        }
        assert_eq!(rules, expected, "{n_tables} tables");
    }
}

#[test]
fn bundle_commit_applies_everything_and_waits_for_the_datapath() {
    let mut h = Harness::new(5);
    h.send(&bundle_ctrl(30, BundleCtrlType::OPEN_REQUEST));
    h.send(&bundle_add(31, add(in_port(1), 10, 2)));
    h.send(&bundle_add(32, add(in_port(2), 10, 3)));
    h.tables.datapath_mut().clog();
    h.send(&bundle_ctrl(33, BundleCtrlType::COMMIT_REQUEST));
    h.send(&OfpMsg::new(5, 34, Message::BarrierRequest));
    let got = h.recv();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].xid, 33);
    assert_eq!(h.tables.table_len(0), 2);
    h.tables.datapath_mut().unclog();
    h.complete();
    let got = h.recv();
    assert_eq!((got.len(), got[0].xid, &got[0].body), (1, 34, &Message::BarrierReply));
}

#[test]
fn controllers_coming_and_going_flush_the_tables() {
    let mut h = Harness::new(4);
    h.send_bytes(&h.flow_mod_msg(1, with_flags(add(in_port(1), 10, 2), FlowModFlags::SEND_FLOW_REM)));
    assert_eq!(h.tables.table_len(0), 1);
    h.mgr.set_fail_mode(h.now, FailMode::Standalone, &mut h.tables);
    // Standalone with a controller configured: nothing changes yet.
    assert_eq!(h.tables.table_len(0), 1);
    let none: BTreeMap<String, ControllerSettings> = BTreeMap::new();
    h.mgr.set_controllers(h.now, &none, &mut h.tables);
    h.tables.forward_events(h.now, &mut h.mgr);
    // Flushed, and the standalone NORMAL flow added back.
    let ids = h.tables.table_rules(0);
    assert_eq!(ids.len(), 1);
    let r = h.tables.rule(ids[0]).unwrap();
    assert_eq!((r.priority(), r.match_().is_catchall()), (0, true));
    assert!(!h.tables.is_flushing());
}

#[test]
fn a_group_whose_connection_went_away_completes_silently() {
    let mut h = Harness::new(4);
    h.tables.datapath_mut().fail_priority(10, OfpErr::OFPFMFC_TABLE_FULL);
    h.tables.datapath_mut().clog();
    h.send_bytes(&h.flow_mod_msg(1, add(in_port(1), 10, 2)));
    h.mgr.handle_eof(h.now, h.conn);
    h.run();
    h.tables.datapath_mut().unclog();
    h.complete();
    assert_eq!(h.tables.n_rules(), 0, "rolled back all the same");
    assert_eq!(h.tables.n_pending_groups(), 0);
}

/// A switch side that answers features requests, records bundle entries it is given and checks
/// packet outs.
#[derive(Default)]
struct Ports {
    finished: Vec<(u32, usize)>,
}

impl ofproto_core::SwitchRequests<ofproto_core::TestDatapath> for Ports {
    fn handle_request(
        &mut self,
        _: &mut Tables,
        _: ofp_proto::Instant,
        req: &connmgr_core::Request<'_>,
        out: &mut connmgr_core::Replies,
    ) -> connmgr_core::Disposition {
        match req.msg().body {
            Message::FeaturesRequest => {
                out.send(bytes::Bytes::from_static(b"features"));
                connmgr_core::Disposition::Handled
            }
            _ => connmgr_core::Disposition::Error(OfpErr::OFPBRC_BAD_TYPE),
        }
    }

    fn check_bundle_entry(
        &mut self,
        _: &mut Tables,
        _: ofp_proto::Instant,
        _: &connmgr_core::ConnInfo,
        part: &connmgr_core::Part,
    ) -> Result<(), OfpErr> {
        match part.msg.body {
            Message::PacketOut(_) | Message::PortMod(_) => Ok(()),
            _ => Err(OfpErr::OFPBFC_MSG_UNSUP),
        }
    }

    fn finish_bundle_entry(
        &mut self,
        tables: &mut Tables,
        _: ofp_proto::Instant,
        _: &connmgr_core::ConnInfo,
        part: &connmgr_core::Part,
        _: &mut connmgr_core::Replies,
    ) {
        // The bundle's flow mods are in the tables already.
        self.finished.push((part.msg.xid, tables.table_len(0)));
    }
}

/// Runs connection management with the tables and `ports` as owner.
fn run_with(h: &mut Harness, ports: &mut Ports) {
    for _ in 0..100 {
        h.mgr.handle_timeout(h.now, &mut ofproto_core::WithSwitch { tables: &mut h.tables, switch: ports });
        h.tables.forward_events(h.now, &mut h.mgr);
        if h.mgr.poll_timeout().is_none_or(|t| t > h.now) {
            return;
        }
    }
    panic!("does not settle");
}

fn send_with(h: &mut Harness, ports: &mut Ports, m: &OfpMsg) {
    h.mgr.handle_bytes(h.now, h.conn, &m.to_bytes());
    run_with(h, ports);
}

#[test]
fn other_requests_and_bundle_entries_go_to_the_switch() {
    let mut h = Harness::new(5);
    let mut ports = Ports::default();
    send_with(&mut h, &mut ports, &OfpMsg::new(5, 1, Message::FeaturesRequest));
    assert_eq!(h.mgr.poll_transmit(h.now, h.conn).as_deref(), Some(&b"features"[..]));
    // Without a switch side, OVS's errors for what it lacks.
    h.send(&OfpMsg::new(5, 2, Message::FeaturesRequest));
    h.send(&OfpMsg::new(5, 3, Message::DescStatsRequest));
    let got = h.recv();
    assert_eq!(error_of(&got[0]).1, Some(OfpErr::OFPBRC_BAD_TYPE));
    assert_eq!(error_of(&got[1]).1, Some(OfpErr::OFPBRC_BAD_STAT));

    let po = ofp_proto::msg::PacketOut::new(1, Default::default(), bytes::Bytes::from_static(&[0; 14]));
    let port_mod = ofp_proto::msg::PortMod { port_no: 1, hw_addr: [0; 6], config: 0, mask: 0, advertise: 0 };
    send_with(&mut h, &mut ports, &bundle_ctrl(10, BundleCtrlType::OPEN_REQUEST));
    send_with(
        &mut h,
        &mut ports,
        &BundleAdd::wrap(1, OFPBF_ATOMIC, OfpMsg::new(5, 11, Message::PacketOut(po))).unwrap(),
    );
    send_with(&mut h, &mut ports, &bundle_add(12, add(in_port(1), 10, 2)));
    send_with(&mut h, &mut ports, &bundle_ctrl(13, BundleCtrlType::COMMIT_REQUEST));
    assert_eq!(ports.finished, [(11, 1)]);
    let got = h.recv();
    assert_eq!(got.last().map(|m| m.xid), Some(13));

    // Port mods are not atomic: an atomic bundle holding one fails at that entry.
    send_with(&mut h, &mut ports, &bundle_ctrl(20, BundleCtrlType::OPEN_REQUEST));
    send_with(&mut h, &mut ports, &bundle_add(21, add(in_port(2), 10, 2)));
    send_with(
        &mut h,
        &mut ports,
        &BundleAdd::wrap(1, OFPBF_ATOMIC, OfpMsg::new(5, 22, Message::PortMod(port_mod))).unwrap(),
    );
    send_with(&mut h, &mut ports, &bundle_ctrl(23, BundleCtrlType::COMMIT_REQUEST));
    let got = h.recv();
    let errors: Vec<(u32, Option<OfpErr>)> =
        got.iter().filter(|m| matches!(m.body, Message::Error(_))).map(|m| (error_of(m).0, error_of(m).1)).collect();
    assert_eq!(errors, [(22, Some(OfpErr::OFPBFC_MSG_FAILED)), (23, Some(OfpErr::OFPBFC_MSG_FAILED))]);
    assert_eq!(h.tables.table_len(0), 1);
}

#[test]
fn a_commit_that_would_wait_is_postponed_until_the_datapath_catches_up() {
    let mut h = Harness::new(5);
    h.send_bytes(&h.flow_mod_msg(1, add(in_port(1), 10, 2)));
    h.tables.datapath_mut().clog();
    h.send_bytes(&h.flow_mod_msg(2, modify(in_port(1), 3)));
    h.send(&bundle_ctrl(10, BundleCtrlType::OPEN_REQUEST));
    h.send(&bundle_add(11, add(in_port(2), 10, 2)));
    h.send(&bundle_add(12, delete(in_port(1))));
    h.send(&bundle_ctrl(13, BundleCtrlType::COMMIT_REQUEST));
    // The delete touches a rule whose modify is still in the datapath: the commit waits, whole.
    assert!(h.recv().iter().all(|m| m.xid != 13), "no answer to the commit yet");
    assert_eq!(h.tables.table_len(0), 1);
    h.tables.datapath_mut().unclog();
    h.complete();
    let got = h.recv();
    assert!(got.iter().all(|m| !matches!(m.body, Message::Error(_))), "{got:?}");
    assert_eq!(got.last().map(|m| m.xid), Some(13));
    assert!(h.tables.classify(0, &pkt_in_port(1)).is_none(), "the bundle's delete went through");
    assert!(h.tables.classify(0, &pkt_in_port(2)).is_some(), "the bundle's add went through");
}

#[test]
fn requests_wait_for_a_flush_to_finish() {
    let mut h = Harness::new(4);
    h.send_bytes(&h.flow_mod_msg(1, add(in_port(1), 10, 2)));
    h.tables.datapath_mut().clog();
    h.send_bytes(&h.flow_mod_msg(2, add(in_port(2), 10, 2)));
    // What ConnMgr does when controllers come or go.
    h.tables.flush(h.now);
    h.tables.add_normal_flow(h.now, connmgr_core::NormalFlow::Standalone);
    assert!(h.tables.is_flushing());
    h.send_bytes(&h.flow_mod_msg(3, add(in_port(3), 10, 2)));
    h.send(&OfpMsg::new(4, 4, Message::EchoRequest(bytes::Bytes::new())));
    assert!(h.recv().is_empty());
    assert_eq!(h.tables.table_len(0), 1, "only the pending add is left");

    h.tables.datapath_mut().unclog();
    h.complete();
    assert!(!h.tables.is_flushing());
    let got = h.recv();
    assert_eq!((got.len(), got[0].xid), (1, 4), "{got:?}");
    // After the flush: the NORMAL flow and the add that waited.
    let rules: Vec<(u32, ofp_proto::ofmatch::Match)> = h
        .tables
        .table_rules(0)
        .into_iter()
        .map(|id| (h.tables.rule(id).unwrap().priority(), h.tables.rule(id).unwrap().match_()))
        .collect();
    assert_eq!(rules, [(10, in_port(3)), (0, Match::catchall())]);
}
