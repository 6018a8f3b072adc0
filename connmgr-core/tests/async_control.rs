//! Asynchronous message control, mirroring OVS `tests/ofproto.at` "asynchronous message control"
//! for OpenFlow 1.0, 1.2, 1.3, 1.4 and 1.5: a service connection (`ovs-ofctl monitor`) configured
//! step by step with the same messages, and after each step the same events; the messages it gets
//! are compared with the test's expectations. Then port status suppression, requestforward (OVS
//! "requestforward" tests), flow removed accounting, table status and the miss count.

mod common;

use bytes::Bytes;
use common::*;
use connmgr_core::{AsyncMsg, AsyncRequestForward, ConnId, Disposition, PortChange};
use ofp_proto::msg::async_cfg::packet_in_reason::{ACTION_SET, INVALID_TTL, NO_MATCH, PACKET_OUT};
use ofp_proto::msg::port::{config, state, Port, PortReason};
use ofp_proto::msg::status::{ForwardReason, TableDesc, TableReason};
use ofp_proto::msg::TableStatus;
use ofp_proto::print::ofp_to_string;
use ofp_proto::MsgType;

const MGMT: &str = "punix:/run/openvswitch/br0.mgmt";

/// One thing happening in the switch, as the OVS test provokes it.
#[derive(Clone, Copy)]
enum Ev {
    /// A packet-in tagged `tag`, with a reason bit and a controller id.
    Pin(&'static str, u32, u16),
    /// Port "test" changes from (config, state) to (config, state).
    Port(PortReason, (u32, u32), (u32, u32)),
    FlowRemoved(&'static str, u32),
    Table(TableReason),
}

const PIN_OUT: Ev = Ev::Pin("packet_out", PACKET_OUT, 0);
const PIN_SET: Ev = Ev::Pin("action_set", ACTION_SET, 0);
const PIN_MISS: Ev = Ev::Pin("no_match", NO_MATCH, 123);
const PIN_TTL: Ev = Ev::Pin("invalid_ttl", INVALID_TTL, 0);
/// `add-port`: ADD, then LIVE comes up (a MOD that OF1.0 cannot see).
const ADD: Ev = Ev::Port(PortReason::Add, (0, 0), (0, 0));
const LIVE: Ev = Ev::Port(PortReason::Modify, (0, 0), (0, state::LIVE));
/// `mod-port test down`: the config change, then the link going down.
const DOWN: Ev = Ev::Port(PortReason::Modify, (0, state::LIVE), (config::PORT_DOWN, 0));
const LINK_DOWN: Ev = Ev::Port(PortReason::Modify, (config::PORT_DOWN, 0), (config::PORT_DOWN, state::LINK_DOWN));
const DEL: Ev = Ev::Port(PortReason::Delete, (0, 0), (config::PORT_DOWN, state::LINK_DOWN));
const FR_DELETE: Ev = Ev::FlowRemoved("fr_delete", 2);
const FR_GROUP: Ev = Ev::FlowRemoved("fr_group_delete", 3);

fn port(cfg: u32, st: u32) -> Port {
    Port {
        port_no: 1,
        hw_addr: [0xaa, 0x55, 0xaa, 0x55, 0, 1],
        name: "test".into(),
        config: cfg,
        state: st,
        ..Port::default()
    }
}

fn fire(sw: &mut Sw, ev: Ev) {
    let msg = match ev {
        Ev::Pin(tag, reason, id) => AsyncMsg::PacketIn(pin(tag.as_bytes(), reason, id, 10)),
        Ev::Port(reason, (c0, s0), (c1, s1)) => {
            let old = (reason == PortReason::Modify).then(|| port(c0, s0));
            AsyncMsg::PortStatus(PortChange { source: None, reason, old, new: port(c1, s1) })
        }
        Ev::FlowRemoved(tag, reason) => AsyncMsg::FlowRemoved(flow_removed(reason, tag.as_bytes())),
        Ev::Table(reason) => {
            let desc =
                TableDesc { table_id: 1, vacancy: true, vacancy_down: 20, vacancy_up: 80, ..TableDesc::default() };
            AsyncMsg::TableStatus(TableStatus { reason, desc })
        }
    };
    sw.mgr.send_async(sw.now, msg);
}

/// What a message is, in the words of the OVS test's expectations.
fn label(frame: &Bytes) -> String {
    let name = name_of(frame);
    let text = ofp_to_string(frame, 1);
    if name.ends_with("FLOW_REMOVED") {
        // The OVS test names flow-removeds after their reason.
        return if text.contains("reason=group_delete") { "fr_group_delete" } else { "fr_delete" }.into();
    }
    let tags = ["packet_out", "action_set", "no_match", "invalid_ttl"];
    let tag = tags.iter().find(|t| frame.windows(t.len()).any(|w| w == t.as_bytes()));
    match (name.as_str(), tag) {
        (n, Some(t)) if n.ends_with("PACKET_IN") || n.ends_with("FLOW_REMOVED") => t.to_string(),
        (n, _) if n.ends_with("PORT_STATUS") => {
            ["ADD", "MOD", "DEL"].iter().find(|r| text.contains(&format!(" {r}:"))).unwrap().to_string()
        }
        (n, _) if n.ends_with("TABLE_STATUS") => {
            if text.contains("VACANCY_DOWN") { "vacancy_down" } else { "vacancy_up" }.into()
        }
        _ => text,
    }
}

/// Fires `script`, then checks what the monitor got (OVS `check_async`).
fn check_async(sw: &mut Sw, c: ConnId, script: &[Ev], expected: &[&str]) {
    sw.take(c);
    for ev in script {
        fire(sw, *ev);
    }
    let got: Vec<String> = sw.take(c).iter().map(label).collect();
    assert_eq!(got, expected);
}

fn monitor(version: u8) -> (Sw, ConnId) {
    let mut sw = Sw::new();
    sw.set_controllers(&[(MGMT, settings())]);
    let c = sw.accept(MGMT, "unix#3", version);
    (sw, c)
}

#[test]
fn async_message_control_of10() {
    let (mut sw, c) = monitor(1);
    let script = [PIN_OUT, PIN_MISS, PIN_TTL, ADD, LIVE, DEL, FR_DELETE];
    // A service connection gets nothing at first.
    check_async(&mut sw, c, &script, &[]);
    // miss_send_len 128 turns asynchronous messages on.
    sw.send(c, "0109000c0123456700000080");
    check_async(&mut sw, c, &script, &["packet_out", "ADD", "DEL", "fr_delete"]);
    // ... and the invalid-TTL flag of SET_CONFIG.
    sw.send(c, "0109000c0123456700040080");
    check_async(&mut sw, c, &script, &["packet_out", "invalid_ttl", "ADD", "DEL", "fr_delete"]);
    // Secondary: port status only.
    sw.send(c, "0104001400000002000023200000000a00000002");
    check_async(&mut sw, c, &script, &["ADD", "DEL"]);
    // NXT_SET_ASYNC_CONFIG: a patchwork.
    sw.send(c, "01040028000000020000232000000013000000020000000500000005000000020000000200000005");
    check_async(&mut sw, c, &script, &["invalid_ttl", "DEL", "fr_delete"]);
    // Controller id 123.
    sw.send(c, "01040018000000030000232000000014000000000000007b");
    check_async(&mut sw, c, &script, &["no_match", "DEL", "fr_delete"]);
    sw.send(c, "010400180000000300002320000000140000000000000000");
    // Primary: the patchwork's primary half ("action" covers packet-out before OF1.4).
    sw.send(c, "0104001400000002000023200000000a00000001");
    check_async(&mut sw, c, &script, &["packet_out", "ADD"]);
}

#[test]
fn async_message_control_of12() {
    let (mut sw, c) = monitor(3);
    let script = [PIN_OUT, PIN_MISS, PIN_TTL, ADD, LIVE, DEL, FR_DELETE];
    check_async(&mut sw, c, &script, &[]);
    sw.send(c, "0309000c0123456700000080");
    check_async(&mut sw, c, &script, &["packet_out", "ADD", "MOD", "DEL", "fr_delete"]);
    sw.send(c, "0309000c0123456700040080");
    check_async(&mut sw, c, &script, &["packet_out", "invalid_ttl", "ADD", "MOD", "DEL", "fr_delete"]);
    sw.send(c, "031800180000000200000003000000000000000000000001");
    check_async(&mut sw, c, &script, &["ADD", "MOD", "DEL"]);
    sw.send(c, "03040028000000020000232000000013000000020000000500000005000000020000000200000005");
    check_async(&mut sw, c, &script, &["invalid_ttl", "DEL", "fr_delete"]);
    sw.send(c, "03040018000000030000232000000014000000000000007b");
    check_async(&mut sw, c, &script, &["no_match", "DEL", "fr_delete"]);
    sw.send(c, "030400180000000300002320000000140000000000000000");
    sw.send(c, "031800180000000400000002000000000000000000000002");
    check_async(&mut sw, c, &script, &["packet_out", "ADD", "MOD"]);
}

#[test]
fn async_message_control_of13() {
    let (mut sw, c) = monitor(4);
    let script = [PIN_OUT, PIN_SET, PIN_MISS, PIN_TTL, ADD, LIVE, DEL, FR_DELETE, FR_GROUP];
    check_async(&mut sw, c, &script, &[]);
    sw.send(c, "0409000c0123456700000080");
    let all = ["packet_out", "action_set", "ADD", "MOD", "DEL", "fr_delete", "fr_group_delete"];
    check_async(&mut sw, c, &script, &all);
    sw.send(c, "041800180000000200000003000000000000000000000001");
    check_async(&mut sw, c, &script, &["ADD", "MOD", "DEL"]);
    // OF1.3 OFPT_SET_ASYNC.
    sw.send(c, "041c00200000000200000002000000050000000500000002000000020000000d");
    check_async(&mut sw, c, &script, &["invalid_ttl", "DEL", "fr_delete", "fr_group_delete"]);
    sw.send(c, "04040018000000030000232000000014000000000000007b");
    check_async(&mut sw, c, &script, &["no_match", "DEL", "fr_delete", "fr_group_delete"]);
    sw.send(c, "040400180000000300002320000000140000000000000000");
    sw.send(c, "041800180000000400000002000000000000000000000002");
    check_async(&mut sw, c, &script, &["packet_out", "action_set", "ADD", "MOD"]);
}

#[test]
fn async_message_control_of14() {
    let (mut sw, c) = monitor(5);
    let script = [
        PIN_OUT,
        PIN_SET,
        PIN_MISS,
        PIN_TTL,
        ADD,
        LIVE,
        DOWN,
        LINK_DOWN,
        DEL,
        FR_DELETE,
        FR_GROUP,
        Ev::Table(TableReason::VacancyDown),
        Ev::Table(TableReason::VacancyUp),
    ];
    check_async(&mut sw, c, &script, &[]);
    sw.send(c, "0509000c0123456700000080");
    let all = ["packet_out", "action_set", "ADD", "MOD", "MOD", "MOD", "DEL", "fr_delete", "fr_group_delete"];
    check_async(&mut sw, c, &script, &all);
    sw.send(c, "051800180000000200000003000000000000000000000001");
    check_async(&mut sw, c, &script, &["ADD", "MOD", "MOD", "MOD", "DEL"]);
    // OF1.4 OFPT_SET_ASYNC with properties, table status included.
    sw.send(
        c,
        concat!(
            "051c004000000002",
            "0000000800000005",
            "0001000800000020",
            "0002000800000002",
            "0003000800000005",
            "000400080000001c",
            "0005000800000005",
            "0008000800000018"
        ),
    );
    let expect = ["invalid_ttl", "DEL", "fr_delete", "fr_group_delete", "vacancy_down", "vacancy_up"];
    check_async(&mut sw, c, &script, &expect);
    // (OVS provokes table status only in step 4; here every step does, and the secondary still
    // has it enabled.)
    sw.send(c, "05040018000000030000232000000014000000000000007b");
    check_async(
        &mut sw,
        c,
        &script,
        &["no_match", "DEL", "fr_delete", "fr_group_delete", "vacancy_down", "vacancy_up"],
    );
    sw.send(c, "050400180000000300002320000000140000000000000000");
    sw.send(c, "051800180000000400000002000000000000000000000002");
    check_async(&mut sw, c, &script, &["packet_out", "ADD", "MOD", "MOD", "MOD", "fr_delete"]);
}

#[test]
fn async_message_control_of15() {
    let (mut sw, c) = monitor(6);
    let script = [ADD, LIVE, DOWN, LINK_DOWN, DEL];
    check_async(&mut sw, c, &script, &[]);
    sw.send(c, "0609000c0123456700000080");
    check_async(&mut sw, c, &script, &["ADD", "MOD", "MOD", "MOD", "DEL"]);
}

#[test]
fn get_async_reply_shows_the_effective_config() {
    let (mut sw, c) = monitor(4);
    sw.send(c, "041a000800000009");
    let text = sw.take_text(c);
    assert!(
        text.starts_with("OFPT_GET_ASYNC_REPLY (OF1.3):\n primary:\n       PACKET_IN: no_match action\n"),
        "{text}"
    );
    // Before OF1.4 "action" also enables the reasons OF1.4 split out of it, invisible here.
    sw.send(c, "041c00200000000200000002000000000000000000000000000000000000000d");
    sw.send(c, "041a00080000000a");
    let text = sw.take_text(c);
    assert!(text.contains("       PACKET_IN: action\n"), "{text}");
    assert!(text.contains("secondary:\n       PACKET_IN: (off)\n     PORT_STATUS: (off)\n    FLOW_REMOVED: idle delete group_delete\n"), "{text}");
    // OF1.4 reply uses properties.
    let (mut sw, c) = monitor(5);
    sw.send(c, "051b000800000009");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPBRC_BAD_TYPE\n"));
    sw.send(c, "051a000800000009");
    let text = sw.take_text(c);
    assert!(text.contains("    FLOW_REMOVED: idle hard delete group_delete meter_delete eviction\n"), "{text}");
}

#[test]
fn set_async_errors_follow_ovs() {
    let (mut sw, c) = monitor(5);
    // A secondary PACKET_IN mask with a bit OF1.4 does not define; an unknown property.
    sw.send(c, "051c00100000000200000008000000c0");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPACFC_INVALID\n"));
    sw.send(c, "051c00100000000300200008000000c0");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPACFC_UNSUPPORTED\n"));
    // Nothing changed: still all off (a service connection without miss_send_len).
    fire(&mut sw, ADD);
    assert!(sw.take(c).is_empty());
    // A valid SET_ASYNC on a service connection also sets miss_send_len to 128.
    sw.send(c, "051c0010000000040003000800000007");
    assert_eq!(sw.mgr.conn_info(c).unwrap().miss_send_len, 128);
    fire(&mut sw, ADD);
    assert_eq!(sw.take(c).iter().map(label).collect::<Vec<_>>(), ["ADD"]);
}

#[test]
fn primary_connections_start_with_miss_send_len_128() {
    let mut sw = Sw::new();
    sw.set_controllers(&[("tcp:192.0.2.1:6653", settings())]);
    let c = sw.connect("tcp:192.0.2.1:6653", 4);
    assert_eq!(sw.mgr.conn_info(c).unwrap().miss_send_len, 128);
    fire(&mut sw, PIN_OUT);
    fire(&mut sw, PIN_TTL);
    assert_eq!(sw.take(c).iter().map(label).collect::<Vec<_>>(), ["packet_out"]);
    // GET_CONFIG goes to the owner, with the connection's view.
    sw.send(c, "0407000800000005");
    let info = sw.owner.conn_infos.last().unwrap();
    assert_eq!((info.miss_send_len, info.invalid_ttl_to_controller), (128, false));
}

#[test]
fn port_status_is_not_echoed_to_the_port_mod_source_before_of15() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(MGMT, settings())]);
    let of14 = sw.accept(MGMT, "unix#1", 5);
    let of15 = sw.accept(MGMT, "unix#2", 6);
    for c in [of14, of15] {
        sw.send(c, &format!("{:02x}09000c0000000100000080", if c == of14 { 5 } else { 6 }));
    }
    for source in [of14, of15] {
        let change =
            PortChange { source: Some(source), reason: PortReason::Modify, old: Some(port(0, 0)), new: port(1, 0) };
        sw.mgr.send_async(sw.now, AsyncMsg::PortStatus(change));
    }
    // The OF1.4 source is skipped; the OF1.5 source gets its own.
    assert_eq!(sw.take(of14).len(), 1);
    assert_eq!(sw.take(of15).len(), 2);
    // A change no version can see goes nowhere.
    let same = PortChange { source: None, reason: PortReason::Modify, old: Some(port(0, 0)), new: port(0, 0) };
    sw.mgr.send_async(sw.now, AsyncMsg::PortStatus(same));
    assert!(sw.take(of14).is_empty() && sw.take(of15).is_empty());
}

/// OVS "requestforward (OpenFlow 1.4)": c1 (OF1.5) and c3 (OF1.4) enable requestforward and get
/// c2's group mods; c2, the source, does not.
#[test]
fn requestforward_of14() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(MGMT, settings())]);
    let c1 = sw.accept(MGMT, "unix#1", 6);
    let c2 = sw.accept(MGMT, "unix#2", 5);
    let c3 = sw.accept(MGMT, "unix#3", 5);
    sw.send(c1, "061800180000000300000003000000008000000000000002");
    sw.send(c2, "051800180000000300000002000000008000000000000003");
    sw.send(c3, "051800180000000300000003000000008000000000000004");
    sw.send(c1, "061c00280000000200000008000000050002000800000002000400080000001a000a000800000003");
    sw.send(c2, "051c002800000002000100080000000200030008000000050005000800000005000b000800000003");
    sw.send(c3, "051c00280000000200000008000000050002000800000002000400080000001a000a000800000003");
    for c in [c1, c2, c3] {
        sw.take(c);
    }
    let group_mod = |v: u8| {
        hex(&format!("{v:02x}0f0020000000020000000000000001 00100000 ffffffffffffffff 00000000").replace(' ', ""))
    };
    let rf = AsyncRequestForward::new(Some(c2), ForwardReason::GroupMod)
        .with_request(5, group_mod(5))
        .with_request(6, group_mod(6));
    sw.mgr.send_async(sw.now, AsyncMsg::RequestForward(rf));
    assert_eq!(sw.take_text(c1), "OFPT_REQUESTFORWARD (OF1.5): reason=group_mod\n");
    assert_eq!(sw.take_text(c3), "OFPT_REQUESTFORWARD (OF1.4): reason=group_mod\n");
    assert!(sw.take(c2).is_empty());
    // The forwarded request is the one for the receiver's version.
    let rf = AsyncRequestForward::new(Some(c2), ForwardReason::GroupMod).with_request(6, group_mod(6));
    sw.mgr.send_async(sw.now, AsyncMsg::RequestForward(rf));
    let got = sw.take(c1);
    assert_eq!(&got[0][8..], &group_mod(6)[..]);
    assert!(sw.take(c3).is_empty(), "no OF1.4 encoding was given");
}

/// OVS "NXT requestforward (OpenFlow 1.0)" and "ONF requestforward (OpenFlow 1.3)": the same with
/// NXT_SET_ASYNC_CONFIG2 and the NXT / ONF forms; meter mods never go below OF1.3.
#[test]
fn requestforward_nxt_and_onf() {
    for (v, name) in [(1u8, "NXT_REQUESTFORWARD"), (4, "ONFT_REQUESTFORWARD (OF1.3)")] {
        let mut sw = Sw::new();
        sw.set_controllers(&[(MGMT, settings())]);
        let c1 = sw.accept(MGMT, "unix#1", v);
        let c2 = sw.accept(MGMT, "unix#2", v);
        sw.send(c1, &format!("{v:02x}04001400000003000023200000000a00000002"));
        sw.send(c2, &format!("{v:02x}04001400000003000023200000000a00000001"));
        sw.send(
            c1,
            &format!(
                "{v:02x}04003000000002000023200000001b00000008000000050002000800000002000400080000001a000a000800000003"
            ),
        );
        sw.take(c1);
        let rf = |reason| {
            let inner = hex(&format!("{v:02x}0f0010000000020000000000000001"));
            AsyncMsg::RequestForward(AsyncRequestForward::new(Some(c2), reason).with_request(v, inner))
        };
        sw.mgr.send_async(sw.now, rf(ForwardReason::GroupMod));
        sw.mgr.send_async(sw.now, rf(ForwardReason::MeterMod));
        let names = sw.take_names(c1);
        let expect: &[&str] =
            if v == 1 { &["NXT_REQUESTFORWARD"] } else { &["ONFT_REQUESTFORWARD", "ONFT_REQUESTFORWARD"] };
        assert_eq!(names, expect, "{name}");
    }
}

#[test]
fn flow_removed_counts_as_a_reply_and_uses_nxt_with_nxm() {
    let mut sw = Sw::new();
    sw.set_controllers(&[("tcp:192.0.2.1:6653", settings())]);
    let c = sw.connect("tcp:192.0.2.1:6653", 1);
    // NXT_SET_FLOW_FORMAT nxm: flow removed goes out as NXT_FLOW_REMOVED.
    sw.send(c, "0104001400000003000023200000000c00000002");
    fire(&mut sw, FR_DELETE);
    assert_eq!(sw.take_names(c), ["NXT_FLOW_REMOVED"]);
    // A controller that stops reading: 100 flow removed messages stop the reading of requests.
    sw.peers.get_mut(&c).unwrap().reading = false;
    for _ in 0..100 {
        fire(&mut sw, FR_DELETE);
    }
    sw.send(c, "0105000800000077");
    assert!(!sw.owner.requests.iter().any(|r| r.2 == 0x77));
    sw.peers.get_mut(&c).unwrap().reading = true;
    sw.run();
    assert!(sw.owner.requests.iter().any(|r| (r.1, r.2) == (MsgType::FeaturesRequest, 0x77)));
}

#[test]
fn async_messages_from_a_request_precede_the_barrier_reply() {
    let mut sw = Sw::new();
    sw.set_controllers(&[("tcp:192.0.2.1:6653", settings())]);
    let c = sw.connect("tcp:192.0.2.1:6653", 4);
    // A packet out whose action outputs to the controller: the packet-in comes during the request.
    sw.owner.handler = Some(Box::new(|_, req, out| {
        out.notify(AsyncMsg::PacketIn(pin(b"from packet out", PACKET_OUT, 0, 0xfffffffd)));
        assert_eq!(req.msg().msg_type(), MsgType::PacketOut);
        Disposition::Handled
    }));
    let mut both = hex("040d001800000020fffffffffffffffd0000000000000000").to_vec();
    both.extend_from_slice(&hex("0414000800000021"));
    sw.send_bytes(c, &both);
    assert_eq!(sw.take_names(c), ["OFPT_PACKET_IN", "OFPT_BARRIER_REPLY"]);
}

#[test]
fn wants_packet_in_on_miss_counts_old_versions_with_controller_id_0() {
    let mut sw = Sw::new();
    assert!(!sw.mgr.wants_packet_in_on_miss());
    sw.set_controllers(&[(MGMT, settings())]);
    let of13 = sw.accept(MGMT, "unix#1", 4);
    assert!(!sw.mgr.wants_packet_in_on_miss());
    let of10 = sw.accept(MGMT, "unix#2", 1);
    assert!(sw.mgr.wants_packet_in_on_miss());
    sw.send(of10, "01040018000000030000232000000014000000000000007b");
    assert!(!sw.mgr.wants_packet_in_on_miss());
    sw.send(of10, "010400180000000300002320000000140000000000000000");
    assert!(sw.mgr.wants_packet_in_on_miss());
    sw.hang_up(of10);
    assert!(!sw.mgr.wants_packet_in_on_miss());
    assert!(sw.mgr.conn_info(of13).is_some());
    // A pending accepted connection (no version yet) counts, as in OVS.
    sw.mgr.handle_accept(sw.now, MGMT, "unix#3").unwrap();
    assert!(sw.mgr.wants_packet_in_on_miss());
}
