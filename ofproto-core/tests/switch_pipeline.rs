//! The OpenFlow pipeline through the whole switch: goto-table with write-actions, write-metadata
//! and clear-actions (the action set runs at the end, in OpenFlow's order), table-miss packet-ins
//! from later tables, resubmit, idle timeouts kept alive by traffic, a slow datapath holding
//! barriers back, bundles carrying port mods and packet outs.

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use common::frames::tcp;
use common::pair::{config, quiet, Pair};
use connmgr_core::{ConnId, FailMode};
use ofp_proto::actions::{Action, SetField};
use ofp_proto::instructions::Instructions;
use ofp_proto::mf::MfId;
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
use ofp_proto::msg::flow_mod::{FlowMod, FlowModFlags};
use ofp_proto::msg::port::{config as pc, PortMod};
use ofp_proto::msg::PacketOut;
use ofp_proto::ofmatch::Match;
use ofp_proto::{port_no, Message, OfpMsg};

fn switch(n: u16, version: u8, delay_ms: u64) -> (Pair, ConnId) {
    let mut cfg = config(n);
    cfg.fail_mode = FailMode::Secure;
    cfg.datapath_delay_ms = delay_ms;
    cfg.controllers = BTreeMap::from([("tcp:127.0.0.1:6653".to_string(), quiet())]);
    let mut p = Pair::new(&cfg);
    let c = p.connect(version);
    (p, c)
}

fn out(port: u32) -> Action {
    Action::Output { port, max_len: 0 }
}

fn flow(table_id: u8, m: Match, priority: u16, ins: Instructions) -> Message {
    Message::FlowMod(FlowMod { table_id, match_: m, priority, instructions: ins, ..FlowMod::default() })
}

fn in_port(p: u32) -> Match {
    let mut m = Match::catchall();
    m.set_in_port(p);
    m
}

fn ports(p: &mut Pair) -> Vec<u32> {
    p.take_frames().into_iter().map(|(port, _)| port).collect()
}

#[test]
fn goto_table_write_actions_metadata_and_the_action_set() {
    let (mut p, c) = switch(4, 4, 0);
    let write = |acts: Vec<Action>| Some(acts.into_iter().collect());
    // Table 0: apply output:1, write output:2 and a MAC rewrite, metadata 0x5, go to 1.
    let t0 = Instructions {
        apply: [out(1)].into_iter().collect(),
        write_actions: write(vec![out(2), Action::SetField(SetField::new(MfId::EthSrc, 0x0200_0000_0042))]),
        write_metadata: Some((0x5, 0xff)),
        goto_table: Some(1),
        ..Instructions::default()
    };
    p.send(c, &OfpMsg::new(4, 1, flow(0, in_port(3), 10, t0)));
    // Table 1 matches the metadata: replaces the written output with output:4.
    let mut md = Match::catchall();
    md.set_metadata_masked(0x5, 0xff);
    let t1 = Instructions { write_actions: write(vec![out(4)]), ..Instructions::default() };
    p.send(c, &OfpMsg::new(4, 2, flow(1, md, 10, t1)));
    assert!(p.recv(c).is_empty());
    p.frame(3, &tcp(3, 1, b"pipeline"));
    let frames = p.take_frames();
    assert_eq!(frames.iter().map(|(port, _)| *port).collect::<Vec<_>>(), [1, 4]);
    assert_eq!(&frames[0].1[6..12], &[0x50, 0x54, 0, 0, 0, 3], "applied before the set ran");
    assert_eq!(&frames[1].1[6..12], &[0x02, 0, 0, 0, 0, 0x42], "the action set's rewrite");

    // clear-actions in table 1 empties the set: only the applied output remains.
    let t1 = Instructions { clear_actions: true, ..Instructions::default() };
    p.send(c, &OfpMsg::new(4, 3, flow(1, md, 10, t1)));
    p.frame(3, &tcp(3, 1, b"cleared"));
    assert_eq!(ports(&mut p), [1]);
}

#[test]
fn a_miss_in_a_later_table_sends_its_table_id_to_of12_controllers() {
    let (mut p, c) = switch(2, 3, 0);
    let ins = Instructions { goto_table: Some(7), ..Instructions::default() };
    p.send(c, &OfpMsg::new(3, 1, flow(0, Match::catchall(), 1, ins)));
    let f = tcp(1, 2, b"missed in 7");
    p.frame(1, &f);
    let r = p.recv(c);
    let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((pin.table_id, pin.wire_reason(3), pin.data.len()), (7, 0, f.len()));
}

#[test]
fn resubmit_looks_up_another_table_as_if_from_another_port() {
    let (mut p, c) = switch(3, 1, 0);
    // OF1.0 with the table-id extension, so flows can go to table 2.
    p.send(c, &OfpMsg::new(1, 1, Message::FlowModTableId(true)));
    let resubmit = Action::Resubmit { in_port: 2, table_id: 2, with_ct_orig: false, plain: false };
    p.send(c, &OfpMsg::new(1, 2, flow(0, in_port(1), 1, Instructions::apply([resubmit, out(3)]))));
    p.send(c, &OfpMsg::new(1, 3, flow(2, in_port(2), 1, Instructions::apply([out(port_no::IN_PORT)]))));
    assert!(p.recv(c).is_empty());
    p.frame(1, &tcp(1, 2, b""));
    // IN_PORT is the packet's real input port, whatever the lookup used.
    assert_eq!(ports(&mut p), [1, 3]);
    // A rule that resubmits to its own table loops: translation stops and the packet is dropped.
    p.send(
        c,
        &OfpMsg::new(
            1,
            4,
            flow(
                0,
                in_port(2),
                1,
                Instructions::apply([
                    Action::Resubmit { in_port: port_no::IN_PORT, table_id: 255, with_ct_orig: false, plain: true },
                    out(1),
                ]),
            ),
        ),
    );
    p.frame(2, &tcp(2, 1, b""));
    assert!(ports(&mut p).is_empty());
}

#[test]
fn traffic_keeps_an_idle_flow_alive_and_its_removal_is_reported() {
    let (mut p, c) = switch(2, 4, 0);
    let fm = FlowMod {
        match_: in_port(1),
        priority: 3,
        idle_timeout: 2,
        flags: FlowModFlags(FlowModFlags::SEND_FLOW_REM),
        instructions: Instructions::apply([out(2)]),
        ..FlowMod::default()
    };
    p.send(c, &OfpMsg::new(4, 1, Message::FlowMod(fm)));
    for _ in 0..3 {
        p.advance(1_500);
        p.frame(1, &tcp(1, 2, b"keepalive"));
        assert_eq!(ports(&mut p), [2]);
    }
    assert!(p.recv(c).is_empty());
    p.advance(1_999);
    assert!(p.recv(c).is_empty());
    p.advance(1);
    let r = p.recv(c);
    let Message::FlowRemoved(fr) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((fr.packet_count, fr.reason), (3, 0));
    assert_eq!(p.sw.status(p.now).flows, 0);
}

#[test]
fn slow_hardware_holds_the_barrier_until_the_datapath_is_done() {
    let (mut p, c) = switch(2, 4, 40);
    p.send(c, &OfpMsg::new(4, 1, flow(0, in_port(1), 1, Instructions::apply([out(2)]))));
    p.send(c, &OfpMsg::new(4, 2, Message::BarrierRequest));
    assert!(p.recv(c).is_empty(), "the barrier waits for the flow mod's operation");
    // The software packet path already uses the flow (the tables change first, as in OVS).
    p.frame(1, &tcp(1, 2, b""));
    assert_eq!(ports(&mut p), [2]);
    p.advance(39);
    assert!(p.recv(c).is_empty());
    p.advance(1);
    let r = p.recv(c);
    assert_eq!((r.len(), &r[0].body, r[0].xid), (1, &Message::BarrierReply, 2));
    assert_eq!(p.sw.status(p.now).queues["pending_op_groups"], 0);
}

#[test]
fn a_bundle_carries_a_port_mod_and_a_packet_out() {
    let (mut p, c) = switch(3, 6, 0);
    let open = BundleCtrl { bundle_id: 9, ctrl_type: BundleCtrlType::OPEN_REQUEST, flags: 0, properties: Bytes::new() };
    assert!(matches!(&p.request(c, 6, 1, Message::BundleControl(open.clone()))[0].body, Message::BundleControl(_)));
    let pm = PortMod {
        port_no: 2,
        hw_addr: [0xaa, 0x55, 0xaa, 0x55, 0, 2],
        config: pc::NO_FWD,
        mask: pc::NO_FWD,
        advertise: 0,
    };
    let po = PacketOut::new(
        port_no::CONTROLLER,
        [out(port_no::ALL)].into_iter().collect(),
        Bytes::from(tcp(9, 1, b"bundled")),
    );
    for (xid, m) in [(2, Message::PortMod(pm)), (3, Message::PacketOut(po))] {
        let inner = OfpMsg::new(6, xid, m);
        let add = BundleAdd { bundle_id: 9, flags: 0, msg: inner.to_bytes(), properties: Bytes::new() };
        assert!(p.request(c, 6, xid, Message::BundleAddMessage(add)).is_empty());
    }
    assert!(ports(&mut p).is_empty(), "nothing happens before the commit");
    let commit = BundleCtrl { ctrl_type: BundleCtrlType::COMMIT_REQUEST, ..open };
    let r = p.request(c, 6, 4, Message::BundleControl(commit));
    // OF1.5: the requester gets the port status of its own port mod, then the commit reply.
    assert!(
        matches!(&r[0].body, Message::PortStatus(s) if s.desc.port_no == 2 && s.desc.config == pc::NO_FWD),
        "{r:?}"
    );
    assert!(matches!(&r[1].body, Message::BundleControl(b) if b.ctrl_type == BundleCtrlType::COMMIT_REPLY), "{r:?}");
    // The packet out ran after the port mod: port 2 no longer forwards.
    assert_eq!(ports(&mut p), [1, 3, port_no::LOCAL]);
}
