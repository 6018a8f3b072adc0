//! Switch-level requests through the whole switch: features, configuration, description, port
//! statistics and descriptions in every version (decoded by `ovs-ofctl ofp-print` exactly as we
//! print them), port mods and the port status other controllers get, link changes, and the errors
//! OVS gives for ports, queues, groups and meters this switch does not have.

mod common;

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use common::ovs_ofctl_print;
use common::pair::{config, quiet, Pair};
use connmgr_core::{ConnId, FailMode};
use ofp_proto::msg::port::{config as pc, state, PortDescRequest, PortMod, PortReason};
use ofp_proto::msg::stats::PortStatsRequest;
use ofp_proto::msg::switch::{FragHandling, SwitchConfig};
use ofp_proto::print::ofp_to_string;
use ofp_proto::{port_no, raw, Message, MsgType, OfpErr, OfpMsg, Raw};

fn switch(n: u16) -> Pair {
    let mut cfg = config(n);
    cfg.fail_mode = FailMode::Secure;
    cfg.controllers =
        BTreeMap::from([("tcp:127.0.0.1:6653".to_string(), quiet()), ("ptcp:6634".to_string(), Default::default())]);
    Pair::new(&cfg)
}

fn error_of(r: &[OfpMsg]) -> OfpErr {
    match r {
        [m] => match &m.body {
            Message::Error(e) => e.error().expect("known error"),
            other => panic!("{other:?}"),
        },
        other => panic!("expected one error, got {other:?}"),
    }
}

/// Asserts that ovs-ofctl decodes `bytes` without error and prints what our printer prints (for
/// the messages the codec decodes; queue, group and meter messages stay opaque in it).
fn assert_ovs_agrees(bytes: &[u8]) -> Option<String> {
    let text = ovs_ofctl_print(bytes)?;
    assert!(!text.contains("decode error"), "ovs-ofctl could not decode {bytes:02x?}:\n{text}");
    let opaque = matches!(OfpMsg::decode(&Bytes::copy_from_slice(bytes)).map(|m| m.body), Ok(Message::Other(..)));
    if !opaque {
        assert_eq!(ofp_to_string(bytes, 1), text, "{bytes:02x?}");
    }
    Some(text)
}

#[test]
fn every_version_gets_replies_ovs_ofctl_prints_exactly() {
    for version in 1..=6u8 {
        let mut p = switch(2);
        let c = p.connect(version);
        p.advance(2_500);
        p.send(c, &OfpMsg::new(version, 1, Message::FeaturesRequest));
        p.send(c, &OfpMsg::new(version, 2, Message::GetConfigRequest));
        p.send(c, &OfpMsg::new(version, 3, Message::DescStatsRequest));
        p.send(c, &OfpMsg::new(version, 4, Message::PortStatsRequest(PortStatsRequest { port_no: port_no::ANY })));
        p.send(c, &OfpMsg::new(version, 5, Message::PortDescStatsRequest(PortDescRequest::default())));
        p.sw.set_port_link(p.now, 2, false).unwrap();
        p.run();
        let replies = p.recv_raw(c);
        assert_eq!(replies.len(), 6, "version {version}");
        let texts: Vec<Option<String>> = replies.iter().map(|b| assert_ovs_agrees(b)).collect();
        let Some(features) = &texts[0] else { continue };
        assert!(features.contains("dpid:0000525400000001\nn_tables:254, n_buffers:0"), "{features}");
        if version == 1 {
            assert!(features.contains("capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP"));
            assert!(features.contains(" 1(p1): addr:aa:55:aa:55:00:01"), "{features}");
            assert!(features.contains(" LOCAL(br0): addr:52:54:00:00:00:01"), "{features}");
        }
        let desc = texts[2].as_ref().unwrap();
        assert!(desc.contains("Manufacturer: ofagent\n") && desc.contains("DP Description: None\n"), "{desc}");
        let stats = texts[3].as_ref().unwrap();
        assert!(stats.contains(" 3 ports\n"), "{stats}");
        if version >= 4 {
            assert!(stats.contains("duration=2.500s"), "durations from injected time: {stats}");
        }
        let status = texts[5].as_ref().unwrap();
        assert!(status.contains("MOD: 2(p2)") && status.contains("state:      LINK_DOWN"), "{status}");
    }
}

#[test]
fn port_mods_change_config_and_tell_the_other_controllers() {
    let mut p = switch(3);
    let ctl = p.connect(4);
    let other = p.connect_later_version();
    let pm = PortMod {
        port_no: 2,
        hw_addr: [0xaa, 0x55, 0xaa, 0x55, 0, 2],
        config: pc::PORT_DOWN,
        mask: pc::PORT_DOWN,
        advertise: 0,
    };
    p.send(ctl, &OfpMsg::new(4, 9, Message::PortMod(pm.clone())));
    assert!(p.recv(ctl).is_empty(), "the requester gets no port status below OF1.5");
    let r = p.recv(other);
    let Message::PortStatus(s) = &r[0].body else { panic!("{r:?}") };
    assert_eq!(
        (s.reason, s.desc.port_no, s.desc.config, s.desc.state & state::LIVE),
        (PortReason::Modify, 2, pc::PORT_DOWN, 0)
    );
    // A frame on a port that is down is dropped and counted.
    p.frame(2, &common::frames::tcp(2, 1, b""));
    let st = p.sw.status(p.now);
    assert_eq!(
        (st.ports[1].counters.rx_dropped, st.ports[1].counters.rx_packets, st.upcalls["frames_port_down"]),
        (1, 0, 1)
    );

    let bad_port = PortMod { port_no: 9, ..pm.clone() };
    assert_eq!(error_of(&p.request(ctl, 4, 10, Message::PortMod(bad_port))), OfpErr::OFPPMFC_BAD_PORT);
    let bad_addr = PortMod { hw_addr: [0; 6], ..pm };
    assert_eq!(error_of(&p.request(ctl, 4, 11, Message::PortMod(bad_addr))), OfpErr::OFPPMFC_BAD_HW_ADDR);
    let local = PortMod {
        port_no: port_no::LOCAL,
        hw_addr: [0x52, 0x54, 0, 0, 0, 1],
        config: pc::NO_FWD,
        mask: pc::NO_FWD,
        advertise: 0,
    };
    assert!(p.request(ctl, 4, 12, Message::PortMod(local)).is_empty());
    assert!(matches!(&p.recv(other)[0].body, Message::PortStatus(s) if s.desc.config == pc::NO_FWD));
}

impl Pair {
    /// A second controller, on the passive target, speaking OF1.5 (it gets port status for its
    /// own port mods too).
    fn connect_later_version(&mut self) -> ConnId {
        let c = self.accept("ptcp:6634", 6);
        // Service connections get asynchronous messages once they set a miss_send_len.
        let cfg = SwitchConfig { miss_send_len: 128, ..SwitchConfig::default() };
        assert!(self.request(c, 6, 1, Message::SetConfig(cfg)).is_empty());
        c
    }
}

#[test]
fn fragment_handling_is_switch_wide_and_reassembly_is_refused_quietly() {
    let mut p = switch(1);
    let c = p.connect(1);
    let get = |p: &mut Pair, xid| match &p.request(c, 1, xid, Message::GetConfigRequest)[..] {
        [m] => match m.body {
            Message::GetConfigReply(cfg) => cfg,
            ref other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(
        get(&mut p, 1),
        SwitchConfig { frag: FragHandling::Normal, invalid_ttl_to_controller: false, miss_send_len: 128 }
    );
    let set =
        |frag, len| Message::SetConfig(SwitchConfig { frag, invalid_ttl_to_controller: false, miss_send_len: len });
    assert!(p.request(c, 1, 2, set(FragHandling::Drop, 200)).is_empty());
    assert_eq!(
        get(&mut p, 3),
        SwitchConfig { frag: FragHandling::Drop, invalid_ttl_to_controller: false, miss_send_len: 200 }
    );
    assert!(p.request(c, 1, 4, set(FragHandling::Reassemble, 200)).is_empty());
    assert_eq!(get(&mut p, 5).frag, FragHandling::Drop);
    // Fragment handling is the switch's: another connection's SET_CONFIG (frags=normal) changes
    // it for everyone, while each keeps its own miss_send_len.
    let other = p.connect_later_version();
    assert_eq!(
        get(&mut p, 6),
        SwitchConfig { frag: FragHandling::Normal, invalid_ttl_to_controller: false, miss_send_len: 200 }
    );
    let r = p.request(other, 6, 7, Message::GetConfigRequest);
    assert!(matches!(&r[0].body, Message::GetConfigReply(cfg) if cfg.miss_send_len == 128), "{r:?}");
}

/// A message of type `t` in `version` with `body` after its headers.
fn raw_msg(t: MsgType, version: u8, xid: u32, body: &[u8]) -> Bytes {
    let r: Raw = Raw::for_type(t, version).unwrap_or_else(|| panic!("{t:?} in {version}"));
    let mut b = BytesMut::new();
    let start = r.put_headers(version, xid, 0, &mut b);
    b.put_slice(body);
    raw::finish_msg(&mut b, start);
    b.freeze()
}

#[test]
fn queues_groups_and_meters_get_ovs_answers_for_a_switch_without_them() {
    let mut p = switch(2);
    let c = p.connect(4);
    let mut ask = |t, body: &[u8]| {
        p.send_bytes(c, &raw_msg(t, 4, 0x77, body));
        p.recv_raw(c)
    };
    let err = |r: Vec<Bytes>| error_of(&[OfpMsg::decode(&r[0]).unwrap()]);
    let any_port = port_no::ANY.to_be_bytes();
    let all_queues = [0xff; 4];
    let cat = |a: &[u8], b: &[u8]| [a, b].concat();

    // Queue statistics: all queues of all ports is an empty reply; anything particular fails.
    let r = ask(MsgType::QueueStatsRequest, &cat(&any_port, &all_queues));
    assert_eq!(r.len(), 1);
    if let Some(text) = assert_ovs_agrees(&r[0]) {
        assert_eq!(text, "OFPST_QUEUE reply (OF1.3) (xid=0x77): 0 queues\n");
    }
    assert_eq!(err(ask(MsgType::QueueStatsRequest, &cat(&any_port, &[0, 0, 0, 1]))), OfpErr::OFPQOFC_BAD_QUEUE);
    assert_eq!(err(ask(MsgType::QueueStatsRequest, &cat(&9u32.to_be_bytes(), &all_queues))), OfpErr::OFPQOFC_BAD_PORT);
    let r = ask(MsgType::QueueGetConfigRequest, &cat(&1u32.to_be_bytes(), &[0; 4]));
    assert_eq!(&r[0][8..], &[0, 0, 0, 1, 0, 0, 0, 0], "port 1, no queues");
    if let Some(text) = assert_ovs_agrees(&r[0]) {
        assert_eq!(text, "OFPT_QUEUE_GET_CONFIG_REPLY (OF1.3) (xid=0x77):\n");
    }

    // Groups: none can be added, none exists to change, deletes are fine, lists are empty.
    assert_eq!(err(ask(MsgType::GroupMod, &[0, 0, 0, 0, 0, 0, 0, 1])), OfpErr::OFPGMFC_OUT_OF_GROUPS);
    assert_eq!(err(ask(MsgType::GroupMod, &[0, 1, 0, 0, 0, 0, 0, 1])), OfpErr::OFPGMFC_UNKNOWN_GROUP);
    assert_eq!(err(ask(MsgType::GroupMod, &[0, 0, 9, 0, 0, 0, 0, 1])), OfpErr::OFPGMFC_BAD_TYPE);
    assert_eq!(err(ask(MsgType::GroupMod, &[0, 7, 0, 0, 0, 0, 0, 1])), OfpErr::OFPGMFC_BAD_COMMAND);
    assert!(ask(MsgType::GroupMod, &[0, 2, 0, 0, 0xff, 0xff, 0xff, 0xfc]).is_empty());
    for t in [MsgType::GroupStatsRequest, MsgType::GroupDescStatsRequest, MsgType::GroupFeaturesStatsRequest] {
        let body: &[u8] = if t == MsgType::GroupStatsRequest { &[0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0] } else { &[] };
        let r = ask(t, body);
        assert_eq!(r.len(), 1, "{t:?}");
        assert_ovs_agrees(&r[0]);
    }

    // Meters: none can be made; deletes succeed; asking about one fails, about all is empty.
    assert_eq!(err(ask(MsgType::MeterMod, &[0, 0, 0, 1, 0, 0, 0, 1])), OfpErr::OFPMMFC_INVALID_METER);
    assert_eq!(err(ask(MsgType::MeterMod, &[0, 0, 0, 3, 0, 0, 0, 1])), OfpErr::OFPMMFC_BAD_FLAGS);
    assert_eq!(err(ask(MsgType::MeterMod, &[0, 3, 0, 0, 0, 0, 0, 1])), OfpErr::OFPMMFC_BAD_COMMAND);
    assert!(ask(MsgType::MeterMod, &[0, 2, 0, 0, 0, 0, 0, 1]).is_empty());
    assert_eq!(err(ask(MsgType::MeterStatsRequest, &[0, 0, 0, 1, 0, 0, 0, 0])), OfpErr::OFPMMFC_UNKNOWN_METER);
    for t in [MsgType::MeterStatsRequest, MsgType::MeterConfigStatsRequest, MsgType::MeterFeaturesStatsRequest] {
        let body: &[u8] =
            if t == MsgType::MeterFeaturesStatsRequest { &[] } else { &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0] };
        let r = ask(t, body);
        assert_eq!(r.len(), 1, "{t:?}");
        assert_ovs_agrees(&r[0]);
    }
}

#[test]
fn a_frame_for_a_missing_port_is_refused() {
    let mut p = switch(2);
    assert_eq!(p.sw.handle_frame(p.now, 3, Bytes::from_static(&[0; 60])).unwrap_err().to_string(), "no such port 3");
    assert!(p.sw.set_port_link(p.now, 0, true).is_err());
    assert_eq!(p.sw.status(p.now).upcalls["frames_received"], 0);
}

#[test]
fn flow_monitors_see_adds_from_other_controllers_and_expiry() {
    use ofp_proto::instructions::Instructions;
    use ofp_proto::msg::flow_mod::FlowMod;
    use ofp_proto::msg::monitor::{FlowMonitor, FlowMonitorRequest, FlowUpdate, FlowUpdateEvent, MonitorFlags};
    let mut p = switch(2);
    let ctl = p.connect(4);
    let mon = p.connect_later_version();
    let flags = MonitorFlags(MonitorFlags::ADD | MonitorFlags::REMOVED);
    let req = FlowMonitorRequest { monitors: vec![FlowMonitor::new(1, flags)] };
    let r = p.request(mon, 6, 2, Message::FlowMonitorStatsRequest(req));
    assert!(
        matches!(&r[..], [m] if matches!(&m.body, Message::FlowMonitorStatsReply(rep) if rep.updates.is_empty())),
        "{r:?}"
    );

    let fm = FlowMod {
        idle_timeout: 1,
        instructions: Instructions::apply([ofp_proto::actions::Action::Output { port: 2, max_len: 0 }]),
        ..FlowMod::default()
    };
    p.send(ctl, &OfpMsg::new(4, 3, Message::FlowMod(fm)));
    p.advance(1_000);
    let events: Vec<FlowUpdateEvent> = (p.recv(mon).iter())
        .filter_map(|m| match &m.body {
            Message::FlowMonitorStatsReply(rep) => Some(rep.updates.clone()),
            _ => None,
        })
        .flatten()
        .filter_map(|u| match u {
            FlowUpdate::Full(f) => Some(f.event),
            _ => None,
        })
        .collect();
    assert_eq!(events, [FlowUpdateEvent::Added, FlowUpdateEvent::Removed]);
}
