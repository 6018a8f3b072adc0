//! The whole switch forwarding frames: a controller adds flows, frames come in on ports and leave
//! where the flows say, counted; table misses by version; controller actions (whole packets, as OVS 3.1);
//! FLOOD and NO_FLOOD; packet outs; header rewrites that keep checksums right.

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use common::frames::{arp_request, checksums_ok, mac, tcp};
use common::pair::{config, quiet, Pair};
use connmgr_core::{ConnId, FailMode};
use ofp_proto::actions::OFPR_NO_MATCH;
use ofp_proto::actions::{Action, Controller, SetField};
use ofp_proto::flow::{EthAddr, ETH_TYPE_IP};
use ofp_proto::instructions::Instructions;
use ofp_proto::mf::MfId;
use ofp_proto::msg::flow_mod::{FlowMod, NO_BUFFER};
use ofp_proto::msg::flow_stats::FlowStatsRequest;
use ofp_proto::msg::port::{config as pc, PortMod};
use ofp_proto::msg::stats::PortStatsRequest;
use ofp_proto::msg::PacketOut;
use ofp_proto::ofmatch::Match;
use ofp_proto::{port_no, Message, OfpErr, OfpMsg};

const CONTROLLER: &str = "tcp:127.0.0.1:6653";

/// A switch with `n` ports in secure mode, and one controller speaking `version`.
fn switch(n: u16, version: u8) -> (Pair, ConnId) {
    let mut cfg = config(n);
    cfg.fail_mode = FailMode::Secure;
    cfg.controllers = BTreeMap::from([(CONTROLLER.to_string(), quiet())]);
    let mut p = Pair::new(&cfg);
    let c = p.connect(version);
    (p, c)
}

fn in_port(port: u32) -> Match {
    let mut m = Match::catchall();
    m.set_in_port(port);
    m
}

fn out(port: u32) -> Action {
    Action::Output { port, max_len: 0 }
}

fn add(m: Match, priority: u16, actions: impl IntoIterator<Item = Action>) -> Message {
    Message::FlowMod(FlowMod { match_: m, priority, instructions: Instructions::apply(actions), ..FlowMod::default() })
}

/// Sends `msg` and a barrier; returns what came back before the barrier reply.
fn exchange(p: &mut Pair, c: ConnId, version: u8, msg: Message) -> Vec<OfpMsg> {
    p.send(c, &OfpMsg::new(version, 0x50, msg));
    let mut r = p.request(c, version, 0x51, Message::BarrierRequest);
    let last = r.pop().expect("barrier reply");
    assert_eq!((last.xid, &last.body), (0x51, &Message::BarrierReply));
    r
}

#[test]
fn a_flow_forwards_p1_to_p2_and_everything_is_counted() {
    let (mut p, c) = switch(3, 4);
    let r = p.request(c, 4, 1, Message::FeaturesRequest);
    let Message::FeaturesReply(features) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((features.datapath_id, features.n_tables, features.n_buffers), (0x0000_5254_0000_0001, 254, 0));
    assert!(exchange(&mut p, c, 4, add(in_port(1), 100, [out(2)])).is_empty());
    let f = tcp(1, 2, b"hello");
    p.frame(1, &f);
    assert_eq!(p.take_frames(), [(2, Bytes::from(f.clone()))]);
    assert!(p.recv(c).is_empty(), "no packet-in for a matched frame");

    let st = p.sw.status(p.now);
    let counters = |port: u32| st.ports.iter().find(|s| s.port_no == port).unwrap().counters;
    assert_eq!((counters(1).rx_packets, counters(1).rx_bytes, counters(1).tx_packets), (1, f.len() as u64, 0));
    assert_eq!((counters(2).tx_packets, counters(2).tx_bytes, counters(2).rx_packets), (1, f.len() as u64, 0));
    assert_eq!(counters(3), Default::default());
    assert_eq!((st.upcalls["frames_received"], st.upcalls["frames_forwarded"], st.upcalls["miss_executed"]), (1, 1, 1));
    assert_eq!(st.flows, 1);

    let r = p.request(c, 4, 7, Message::FlowStatsRequest(FlowStatsRequest::default()));
    let Message::FlowStatsReply(fs) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((fs.entries.len(), fs.entries[0].packet_count, fs.entries[0].byte_count), (1, 1, f.len() as u64));

    let r = p.request(c, 4, 8, Message::PortStatsRequest(PortStatsRequest { port_no: 1 }));
    let Message::PortStatsReply(ps) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((ps.ports.len(), ps.ports[0].rx_packets, ps.ports[0].rx_bytes), (1, 1, f.len() as u64));
}

#[test]
fn table_miss_sends_no_match_packet_ins_to_of10_and_drops_for_of13() {
    for (version, wants) in [(1u8, true), (4, false)] {
        let (mut p, c) = switch(2, version);
        let f = tcp(1, 2, &[0xab; 100]);
        p.frame(1, &f);
        assert!(p.take_frames().is_empty());
        let r = p.recv(c);
        if !wants {
            assert!(r.is_empty(), "OF1.3 table miss drops: {r:?}");
            assert_eq!(p.sw.status(p.now).upcalls["miss_no_actions"], 1);
            continue;
        }
        let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
        assert_eq!(r.len(), 1);
        assert_eq!(pin.wire_reason(version), OFPR_NO_MATCH);
        assert_eq!((pin.buffer_id, pin.total_len, pin.in_port()), (NO_BUFFER, f.len() as u32, 1));
        assert_eq!(pin.data, f, "whole frame: no buffering, no miss_send_len truncation");
    }
}

#[test]
fn controller_action_sends_the_whole_packet_whatever_max_len_and_reports_rule_and_table() {
    let (mut p, c) = switch(2, 4);
    let ctl = Action::Controller(Controller { max_len: 20, ..Controller::default() });
    let fm = FlowMod {
        match_: in_port(1),
        priority: 5,
        new_cookie: 0x00c0_ffee,
        instructions: Instructions::apply([ctl, out(2)]),
        ..FlowMod::default()
    };
    assert!(exchange(&mut p, c, 4, Message::FlowMod(fm)).is_empty());
    let f = tcp(1, 2, &[7; 64]);
    p.frame(1, &f);
    assert_eq!(p.take_frames().len(), 1, "the output after the controller action still happens");
    let r = p.recv(c);
    let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
    // No buffering: OVS 3.1 sends the whole packet and ignores max_len.
    assert_eq!(pin.data, f);
    assert_eq!((pin.total_len, pin.cookie, pin.table_id, pin.reason), (f.len() as u32, 0x00c0_ffee, 0, 1));

    // output:CONTROLLER with a max_len in OF1.0.
    let (mut p, c) = switch(2, 1);
    assert!(exchange(&mut p, c, 1, add(in_port(1), 5, [Action::Output { port: port_no::CONTROLLER, max_len: 30 }]))
        .is_empty());
    p.frame(1, &f);
    let r = p.recv(c);
    let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((pin.data.len(), pin.total_len, pin.wire_reason(1)), (f.len(), f.len() as u32, 1));
}

#[test]
fn flood_skips_the_input_port_no_flood_ports_and_down_ports() {
    let (mut p, c) = switch(5, 1);
    assert!(exchange(&mut p, c, 1, add(Match::catchall(), 1, [out(port_no::FLOOD)])).is_empty());
    let pm = PortMod {
        port_no: 3,
        hw_addr: [0xaa, 0x55, 0xaa, 0x55, 0, 3],
        config: pc::NO_FLOOD,
        mask: pc::NO_FLOOD,
        advertise: 0,
    };
    assert!(exchange(&mut p, c, 1, Message::PortMod(pm)).is_empty(), "the sender gets no port status below OF1.5");
    p.sw.set_port_link(p.now, 4, false).unwrap();
    p.run();
    let r = p.recv(c);
    assert!(matches!(&r[0].body, Message::PortStatus(s) if s.desc.port_no == 4), "{r:?}");
    let f = arp_request(1, 2);
    p.frame(1, &f);
    let ports: Vec<u32> = p.take_frames().into_iter().map(|(port, _)| port).collect();
    assert_eq!(ports, [2, 5, port_no::LOCAL]);

    // ALL includes NO_FLOOD ports, not the input or down ports.
    assert!(exchange(&mut p, c, 1, add(Match::catchall(), 2, [out(port_no::ALL)])).is_empty());
    p.frame(2, &f);
    let ports: Vec<u32> = p.take_frames().into_iter().map(|(port, _)| port).collect();
    assert_eq!(ports, [1, 3, 5, port_no::LOCAL]);
}

#[test]
fn packet_out_runs_the_same_actions_and_answers_ovs_errors() {
    let (mut p, c) = switch(3, 4);
    let f = Bytes::from(tcp(1, 2, b"out"));
    let po = PacketOut::new(
        port_no::CONTROLLER,
        [out(2), Action::Output { port: port_no::CONTROLLER, max_len: 10 }].into_iter().collect(),
        f.clone(),
    );
    let r = exchange(&mut p, c, 4, Message::PacketOut(po));
    assert_eq!(p.take_frames(), [(2, f.clone())]);
    let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
    assert_eq!(
        (pin.data.len(), pin.total_len, pin.cookie, pin.in_port()),
        (f.len(), f.len() as u32, u64::MAX, port_no::CONTROLLER)
    );
    let st = p.sw.status(p.now);
    assert_eq!(st.upcalls["packet_out_frames"], 1);
    assert_eq!(st.ports[1].counters.tx_packets, 1);

    // To TABLE: through the flow table, crediting the flow.
    assert!(exchange(&mut p, c, 4, add(in_port(1), 9, [out(3)])).is_empty());
    let po = PacketOut::new(1, [out(port_no::TABLE)].into_iter().collect(), f.clone());
    assert!(exchange(&mut p, c, 4, Message::PacketOut(po)).is_empty());
    assert_eq!(p.take_frames(), [(3, f.clone())]);

    let error = |r: Vec<OfpMsg>| match &r[..] {
        [m] => match &m.body {
            Message::Error(e) => e.error().expect("known error"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let mut po = PacketOut::new(port_no::CONTROLLER, [out(2)].into_iter().collect(), f.clone());
    po.buffer_id = 5;
    assert_eq!(error(exchange(&mut p, c, 4, Message::PacketOut(po))), OfpErr::OFPBRC_BUFFER_UNKNOWN);
    let po = PacketOut::new(port_no::CONTROLLER, [Action::Group(1)].into_iter().collect(), f.clone());
    assert_eq!(error(exchange(&mut p, c, 4, Message::PacketOut(po))), OfpErr::OFPBAC_BAD_OUT_GROUP);
    assert!(p.take_frames().is_empty());
}

#[test]
fn unsupported_actions_are_refused_at_flow_mod_time() {
    let (mut p, c) = switch(2, 4);
    let error = |r: Vec<OfpMsg>| match &r[..] {
        [m] => match &m.body {
            Message::Error(e) => e.error().expect("known error"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(
        error(exchange(&mut p, c, 4, add(Match::catchall(), 1, [Action::Group(7)]))),
        OfpErr::OFPBAC_BAD_OUT_GROUP
    );
    let mut mpls = Match::catchall();
    mpls.set_dl_type(0x8847);
    let sf = Action::SetField(SetField::new(MfId::MplsLabel, 5));
    assert_eq!(error(exchange(&mut p, c, 4, add(mpls, 1, [sf]))), OfpErr::OFPBAC_BAD_SET_TYPE);
    let metered = FlowMod {
        instructions: Instructions { meter: Some(1), ..Instructions::apply([out(2)]) },
        ..FlowMod::default()
    };
    assert_eq!(error(exchange(&mut p, c, 4, Message::FlowMod(metered))), OfpErr::OFPMMFC_INVALID_METER);
    assert_eq!(p.sw.status(p.now).flows, 0);
}

#[test]
fn rewrites_reach_the_frame_with_checksums_right() {
    let (mut p, c) = switch(2, 4);
    let mut ip = in_port(1);
    ip.set_dl_type(ETH_TYPE_IP);
    let actions = [
        Action::SetField(SetField::new(MfId::Ipv4Dst, 0xc0a8_0107)),
        Action::SetField(SetField::new(MfId::EthDst, EthAddr(mac(9)).to_u64().into())),
        Action::DecTtl { cnt_ids: [0].into_iter().collect(), cnt_ids_form: false },
        Action::PushVlan { ethertype: 0x8100 },
        Action::SetField(SetField::new(MfId::VlanVid, 0x1000 | 42)),
        out(2),
    ];
    assert!(exchange(&mut p, c, 4, add(ip, 10, actions)).is_empty());
    p.frame(1, &tcp(1, 2, b"rewrite me"));
    let frames = p.take_frames();
    let [(2, f)] = &frames[..] else { panic!("{frames:?}") };
    assert_eq!(&f[..6], &mac(9));
    assert_eq!(&f[12..16], &[0x81, 0x00, 0x00, 42], "802.1Q tag, VID 42, PCP 0");
    let mut untagged = f[..12].to_vec();
    untagged.extend_from_slice(&f[16..]);
    assert_eq!(untagged[22], 63, "TTL decremented");
    assert_eq!(&untagged[30..34], &[192, 168, 1, 7]);
    assert!(checksums_ok(&untagged));
}

#[test]
fn dec_ttl_at_one_sends_invalid_ttl_packet_ins_and_stops() {
    let (mut p, c) = switch(2, 1);
    let mut ip = in_port(1);
    ip.set_dl_type(ETH_TYPE_IP);
    let dec = Action::DecTtl { cnt_ids: [0].into_iter().collect(), cnt_ids_form: false };
    assert!(exchange(&mut p, c, 1, add(ip, 10, [dec, out(2)])).is_empty());
    // OF1.0 controllers ask for invalid-TTL packet-ins with SET_CONFIG.
    let cfg = ofp_proto::msg::switch::SwitchConfig {
        invalid_ttl_to_controller: true,
        miss_send_len: 128,
        ..Default::default()
    };
    assert!(exchange(&mut p, c, 1, Message::SetConfig(cfg)).is_empty());
    let mut f = tcp(1, 2, b"x");
    f[22] = 1;
    p.frame(1, &f);
    assert!(p.take_frames().is_empty(), "the actions after the exception do not run");
    let r = p.recv(c);
    let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((pin.reason, pin.data.len()), (2, f.len()));
}

#[test]
fn a_table_miss_flow_sends_explicit_miss_packet_ins_as_no_match() {
    for version in [4u8, 1] {
        let (mut p, c) = switch(2, version);
        assert!(exchange(
            &mut p,
            c,
            version,
            add(Match::catchall(), 0, [Action::Output { port: port_no::CONTROLLER, max_len: 0xffff }])
        )
        .is_empty());
        p.frame(1, &tcp(1, 2, b"miss"));
        let r = p.recv(c);
        let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
        // OVS's internal reason is explicit miss: NO_MATCH on the wire from OF1.3, ACTION before.
        assert_eq!(pin.reason, if version >= 4 { OFPR_NO_MATCH } else { 1 });
        assert_eq!((pin.cookie, pin.table_id), (if version >= 4 { 0 } else { u64::MAX }, 0));
    }
}

#[test]
fn port_config_bits_shape_the_packet_path() {
    let (mut p, c) = switch(3, 1);
    assert!(exchange(&mut p, c, 1, add(Match::catchall(), 1, [out(port_no::ALL)])).is_empty());
    let port_mod = |port: u32, bits: u32| {
        let hw = [0xaa, 0x55, 0xaa, 0x55, 0, port as u8];
        Message::PortMod(PortMod { port_no: port, hw_addr: hw, config: bits, mask: bits, advertise: 0 })
    };
    // NO_RECV: frames from the port are looked up (and counted) but go nowhere.
    assert!(exchange(&mut p, c, 1, port_mod(1, pc::NO_RECV)).is_empty());
    p.frame(1, &tcp(1, 2, b""));
    assert!(p.take_frames().is_empty());
    let st = p.sw.status(p.now);
    assert_eq!((st.ports[0].counters.rx_packets, st.upcalls["miss_no_actions"]), (1, 1));
    // NO_FWD: nothing is sent out of the port, not even for ALL.
    assert!(exchange(&mut p, c, 1, port_mod(3, pc::NO_FWD)).is_empty());
    p.frame(2, &tcp(2, 1, b""));
    let ports: Vec<u32> = p.take_frames().into_iter().map(|(port, _)| port).collect();
    assert_eq!(ports, [1, port_no::LOCAL]);
    // NO_PACKET_IN: a table miss on the port sends no packet-in.
    let r = exchange(
        &mut p,
        c,
        1,
        Message::FlowMod(FlowMod {
            command: ofp_proto::msg::flow_mod::FlowModCommand::Delete,
            table_id: 0,
            ..FlowMod::default()
        }),
    );
    assert!(r.is_empty(), "{r:?}");
    assert!(exchange(&mut p, c, 1, port_mod(2, pc::NO_PACKET_IN)).is_empty());
    p.frame(2, &tcp(2, 1, b""));
    assert!(p.recv(c).is_empty());
    p.frame(3, &tcp(3, 1, b""));
    assert!(matches!(&p.recv(c)[0].body, Message::PacketIn(pin) if pin.in_port() == 3));
}
