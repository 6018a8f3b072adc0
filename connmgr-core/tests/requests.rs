//! Reading requests: the split between connection management and the owner, postponement and
//! retry, operation groups and barriers, the per-step read limit, reply backpressure, multipart
//! reassembly, and the requests connection management answers itself.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use common::*;
use connmgr_core::{ConnId, Disposition, FlowModKind, OpGroupId};
use ofp_proto::msg::PacketInFormat;
use ofp_proto::{Message, MsgType, OfpErr, OfpMsg};

const CTRL: &str = "tcp:192.0.2.1:6653";

fn controller(version: u8) -> (Sw, ConnId) {
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, settings())]);
    let c = sw.connect(CTRL, version);
    (sw, c)
}

fn features(xid: u32) -> String {
    format!("04050008{xid:08x}")
}

#[test]
fn echo_is_answered_with_the_same_payload_and_xid() {
    let (mut sw, c) = controller(4);
    sw.send(c, "0402000c0000abcd01020304");
    let got = sw.take(c);
    assert_eq!(got, vec![hex("0403000c0000abcd01020304")]);
    // An echo reply is taken silently; neither reaches the owner.
    sw.send(c, "0403000800000001");
    assert!(sw.take(c).is_empty());
    assert!(sw.owner.requests.is_empty());
}

#[test]
fn what_only_a_switch_sends_is_a_bad_type() {
    let (mut sw, c) = controller(4);
    for (msg, name) in [
        ("0415000800000006", "OFPT_BARRIER_REPLY (OF1.3):"),
        ("0413001000000007000d000000000000", "OFPST_PORT_DESC reply (OF1.3):"),
        ("0401000c0000000800010001", "OFPT_ERROR (OF1.3): OFPBRC_BAD_TYPE"),
        ("0406002000000009000000000000000100000000010000000000000000000000", "OFPT_FEATURES_REPLY (OF1.3):"),
    ] {
        sw.send(c, msg);
        let text = sw.take_text(c);
        // BAD_TYPE even for a multipart reply (OVS answers BAD_STAT only for requests).
        let expect = format!("OFPT_ERROR (OF1.3): OFPBRC_BAD_TYPE\n{name}");
        assert!(text.starts_with(&expect), "{text}");
    }
    assert!(sw.owner.requests.is_empty());
}

#[test]
fn nxt_extensions_handled_here() {
    let (mut sw, c) = controller(1);
    // Controller id with a nonzero pad byte.
    sw.send(c, "01040018000000030000232000000014000000000001007b");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR: NXBRC_MUST_BE_ZERO\n"));
    assert_eq!(sw.mgr.conn_info(c).unwrap().controller_id, 0);
    sw.send(c, "01040018000000030000232000000014000000000000007b");
    assert_eq!(sw.mgr.conn_info(c).unwrap().controller_id, 123);
    // Packet-in format.
    sw.send(c, "0104001400000005000023200000001000000002");
    assert_eq!(sw.mgr.conn_info(c).unwrap().packet_in_format, PacketInFormat::Nxt2);
    // Flow format and the table-id extension make up the protocol.
    capture_logs();
    sw.send(c, "0104001400000003000023200000000c00000001");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR: OFPBRC_EPERM\n"));
    assert_eq!(
        logs_from("ofp_protocol"),
        ["WARN ofp_protocol: NXT_SET_FLOW_FORMAT message specified invalid flow format 1"]
    );
    sw.send(c, "0104001400000003000023200000000c00000002");
    sw.send(c, "0104001800000004000023200000000f0100000000000000");
    let p = sw.mgr.conn_info(c).unwrap().protocol.unwrap();
    assert!(p.is_nxm() && p.has_tid());
    sw.send(c, "0104001400000003000023200000000c00000000");
    let p = sw.mgr.conn_info(c).unwrap().protocol.unwrap();
    assert!(!p.is_nxm() && p.has_tid());
    assert!(sw.take(c).is_empty());
    assert!(sw.owner.requests.is_empty());
}

#[test]
fn set_config_goes_to_the_owner_then_to_the_connection() {
    let (mut sw, c) = controller(3);
    sw.owner.handler = Some(Box::new(|_, req, _| match req.msg().xid {
        1 => Disposition::Error(OfpErr::OFPSCFC_BAD_FLAGS),
        _ => Disposition::Handled,
    }));
    sw.send(c, "0309000c0000000100040040");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.2): OFPSCFC_BAD_FLAGS\n"));
    assert_eq!(sw.mgr.conn_info(c).unwrap().miss_send_len, 128);
    sw.send(c, "0309000c0000000200040040");
    let info = sw.mgr.conn_info(c).unwrap();
    assert_eq!((info.miss_send_len, info.invalid_ttl_to_controller), (64, true));
    assert_eq!(sw.owner.requests.iter().map(|r| r.1).collect::<Vec<_>>(), [MsgType::SetConfig, MsgType::SetConfig]);
    // A flag unknown to the version is the decoder's error; the owner never sees it.
    sw.send(c, "0309000c0000000300080040");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.2): OFPSCFC_BAD_FLAGS\n"));
    assert_eq!(sw.owner.requests.len(), 2);
    // From OF1.3 on SET_CONFIG has no invalid-TTL flag: the setting stays as it was.
    let (mut sw, c) = controller(4);
    sw.send(c, "0409000c0000000100000040");
    let info = sw.mgr.conn_info(c).unwrap();
    assert_eq!((info.miss_send_len, info.invalid_ttl_to_controller), (64, false));
}

#[test]
fn a_postponed_request_blocks_the_connection_until_retry() {
    let (mut sw, c) = controller(4);
    let postpone = Rc::new(RefCell::new(true));
    let p = postpone.clone();
    sw.owner.handler = Some(Box::new(move |_, req, out| {
        if req.msg().msg_type() == MsgType::PortMod && *p.borrow() {
            out.send(Bytes::from_static(b"discarded"));
            return Disposition::Postponed;
        }
        Disposition::Handled
    }));
    let port_mod = "04100028000000100000000300000000505400000001000000000001000000010000000800000000";
    let mut batch = hex(port_mod).to_vec();
    batch.extend_from_slice(&hex(&features(0x11)));
    batch.extend_from_slice(&hex("0402000800000012"));
    sw.send_bytes(c, &batch);
    // Offered once; nothing after it is read, not even the echo.
    assert_eq!(sw.owner.requests.iter().map(|r| r.2).collect::<Vec<_>>(), [0x10]);
    assert!(sw.take(c).is_empty());
    // A retry offers it again; still postponed, still blocking.
    sw.mgr.retry();
    sw.run();
    assert_eq!(sw.owner.requests.iter().map(|r| r.2).collect::<Vec<_>>(), [0x10, 0x10]);
    *postpone.borrow_mut() = false;
    sw.run();
    assert_eq!(sw.owner.requests.len(), 2, "no retry, no offer");
    sw.mgr.retry();
    sw.run();
    assert_eq!(sw.owner.requests.iter().map(|r| r.2).collect::<Vec<_>>(), [0x10, 0x10, 0x10, 0x11]);
    assert_eq!(sw.take_names(c), ["OFPT_ECHO_REPLY"]);
}

#[test]
fn barrier_waits_for_operation_groups_and_failures_quote_the_request() {
    let groups = Rc::new(RefCell::new(Vec::<(ConnId, OpGroupId)>::new()));
    let (mut sw, c) = controller(4);
    sw.owner.handler = Some(op_group_handler(MsgType::PortMod, groups.clone()));
    let pm = |xid: u32| format!("04100028{xid:08x}0000000300000000505400000001000000000001000000010000000800000000");
    sw.send(c, &pm(0x20));
    sw.send(c, &pm(0x21));
    sw.send(c, "0414000800000022");
    assert!(sw.take(c).is_empty(), "the barrier waits");
    let g = groups.borrow().clone();
    assert_eq!(g.len(), 2);
    sw.mgr.op_group_completed(sw.now, c, g[1].1, Err(OfpErr::OFPFMFC_UNKNOWN));
    sw.run();
    let got = sw.take(c);
    assert_eq!(got.len(), 1);
    assert_eq!(name_of(&got[0]), "OFPT_ERROR");
    assert_eq!(&got[0][4..8], &[0, 0, 0, 0x21]);
    assert_eq!(&got[0][12..], &hex(&pm(0x21))[..], "quotes the whole request");
    // Completing twice, or for an unknown group, does nothing.
    sw.mgr.op_group_completed(sw.now, c, g[1].1, Err(OfpErr::OFPFMFC_UNKNOWN));
    sw.mgr.op_group_completed(sw.now, c, OpGroupId(999), Ok(()));
    sw.run();
    assert!(sw.take(c).is_empty());
    sw.mgr.op_group_completed(sw.now, c, g[0].1, Ok(()));
    sw.run();
    assert_eq!(sw.take_text(c), "OFPT_BARRIER_REPLY (OF1.3):\n");
}

#[test]
fn completions_for_a_connection_that_went_away_are_ignored() {
    let groups = Rc::new(RefCell::new(Vec::<(ConnId, OpGroupId)>::new()));
    let (mut sw, c) = controller(4);
    sw.owner.handler = Some(op_group_handler(MsgType::PortMod, groups.clone()));
    sw.send(c, "04100028000000200000000300000000505400000001000000000001000000010000000800000000");
    sw.hang_up(c);
    sw.advance(1000);
    let c2 = sw.connect(CTRL, 4);
    let (_, g) = groups.borrow()[0];
    sw.mgr.op_group_completed(sw.now, c, g, Err(OfpErr::OFPFMFC_UNKNOWN));
    sw.run();
    assert!(sw.take(c2).is_empty());
    // The new connection has no pending groups: its barrier is answered at once.
    sw.send(c2, "0414000800000023");
    assert_eq!(sw.take_names(c2), ["OFPT_BARRIER_REPLY"]);
}

#[test]
fn at_most_fifty_messages_per_connection_per_step() {
    let (mut sw, c) = controller(4);
    let mut batch = Vec::new();
    for xid in 0..120u32 {
        batch.extend_from_slice(&hex(&features(xid)));
    }
    sw.mgr.handle_bytes(sw.now, c, &batch);
    for expected in [50, 100, 120, 120] {
        if sw.mgr.poll_timeout().is_some_and(|t| t <= sw.now) {
            sw.mgr.handle_timeout(sw.now, &mut sw.owner);
        }
        assert_eq!(sw.owner.requests.len(), expected);
    }
}

#[test]
fn reading_stops_while_a_hundred_replies_are_unsent() {
    let (mut sw, c) = controller(4);
    sw.owner.handler = Some(Box::new(|_, req, out| {
        out.send_msg(&OfpMsg::new(4, req.msg().xid, Message::BarrierReply));
        Disposition::Handled
    }));
    sw.peers.get_mut(&c).unwrap().reading = false;
    let mut batch = Vec::new();
    for xid in 0..150u32 {
        batch.extend_from_slice(&hex(&features(xid)));
    }
    sw.send_bytes(c, &batch);
    assert_eq!(sw.owner.requests.len(), 100);
    assert_eq!(sw.mgr.poll_timeout(), None, "nothing to do until the peer reads");
    // Taking a single reply lets one more request in.
    assert!(sw.mgr.poll_transmit(sw.now, c).is_some());
    sw.run();
    assert_eq!(sw.owner.requests.len(), 101);
    sw.peers.get_mut(&c).unwrap().reading = true;
    sw.run();
    assert_eq!(sw.owner.requests.len(), 150);
    assert_eq!(sw.take(c).len(), 149);
}

/// An OF1.3 table features request part with xid 5 and `n` of the tables OVS describes.
fn tf_part(more: bool, n: usize) -> String {
    use ofp_proto::msg::multipart::MultipartBuilder;
    let tables = ofp_proto::msg::TableFeaturesMsg::ovs_reply(4, 2).tables;
    let mut b = MultipartBuilder::new(ofp_proto::Raw::Ofpst13TableFeaturesRequest, 4, 5);
    for t in &tables[..n] {
        b.append_with(|buf| t.encode(buf)).unwrap();
    }
    let mut m = b.finish().remove(0).to_vec();
    m[11] = u8::from(more);
    m.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn multipart_requests_are_reassembled_for_the_owner() {
    let (mut sw, c) = controller(4);
    let parts = Rc::new(RefCell::new(Vec::new()));
    let p = parts.clone();
    sw.owner.handler = Some(Box::new(move |_, req, _| {
        p.borrow_mut().push(req.parts.iter().map(|x| x.bytes.len()).collect::<Vec<_>>());
        Disposition::Handled
    }));
    sw.send(c, &tf_part(true, 0));
    sw.send(c, &tf_part(true, 1));
    assert!(sw.owner.requests.is_empty());
    sw.send(c, &tf_part(false, 1));
    let len = hex(&tf_part(false, 1)).len();
    assert_eq!(*parts.borrow(), vec![vec![len, len]], "the empty part is dropped");
    // A multipart request OVS only takes in one piece (flow stats in two parts with bodies):
    // BAD_STAT for the first part.
    let flow_stats = |flags: &str| {
        let body = "ff000000 ffffffff ffffffff 00000000 0000000000000000 0000000000000000 0001000400000000";
        format!("04120038000000060001{flags}00000000{}", body.replace(' ', ""))
    };
    sw.send(c, &flow_stats("0001"));
    sw.send(c, &flow_stats("0000"));
    let got = sw.take(c);
    assert_eq!(got.len(), 1);
    assert!(
        strip_xid(&ofp_proto::print::ofp_to_string(&got[0], 1)).starts_with("OFPT_ERROR (OF1.3): OFPBRC_BAD_STAT\n")
    );
}

#[test]
fn a_partial_multipart_request_times_out_after_a_second() {
    let (mut sw, c) = controller(4);
    sw.send(c, &tf_part(true, 0));
    sw.advance(500);
    sw.send(c, &tf_part(true, 1));
    sw.advance(999);
    assert!(sw.take(c).is_empty());
    sw.advance(1);
    let got = sw.take(c);
    assert_eq!(got.len(), 1);
    let text = strip_xid(&ofp_proto::print::ofp_to_string(&got[0], 1));
    assert!(text.starts_with("OFPT_ERROR (OF1.3): OFPBRC_MULTIPART_REQUEST_TIMEOUT\n"), "{text}");
    // It quotes the first 64 bytes of the last part (the project's rule; OVS 3.1 quotes it all).
    // OF1.3 carries this error as an ONF experimenter error: the data starts after 16 bytes.
    let last = hex(&tf_part(true, 1));
    assert!(last.len() > 64);
    assert_eq!(&got[0][16..], &last[..64]);
    assert!(sw.owner.requests.is_empty());
}

#[test]
fn flow_mod_activity_is_logged_like_ovs() {
    let (mut sw, c) = controller(4);
    sw.owner.handler = Some(Box::new(|_, req, out| {
        out.report_flow_mod(if req.msg().xid % 2 == 0 { FlowModKind::Add } else { FlowModKind::Delete });
        Disposition::Handled
    }));
    capture_logs();
    // An OF1.3 flow mod adding a catch-all flow with no instructions.
    let fm = |xid: u32| {
        let body =
            "00000000000000000000000000000000000000000000 8000 ffffffffffffffffffffffff00000000 0001000400000000";
        format!("040e0038{xid:08x}{}", body.replace(' ', ""))
    };
    sw.send(c, &fm(2));
    sw.advance(3000);
    sw.send(c, &fm(3));
    sw.send(c, &fm(4));
    sw.advance(6999);
    assert!(logs_from("connmgr").iter().all(|l| !l.contains("flow_mods")));
    sw.advance(1);
    assert_eq!(
        logs_from("connmgr"),
        ["INFO connmgr: br0<->tcp:192.0.2.1:6653: 3 flow_mods in the 3 s starting 10 s ago (2 adds, 1 deletes)"]
    );
    // Activity right after waits for the 60 s backoff; a disconnection reports what is pending.
    sw.send(c, &fm(5));
    sw.advance(20_000);
    assert!(logs_from("connmgr").is_empty());
    sw.hang_up(c);
    let logs = logs_from("connmgr");
    assert!(
        logs.contains(&"INFO connmgr: br0<->tcp:192.0.2.1:6653: 1 flow_mods 20 s ago (1 deletes)".to_string()),
        "{logs:?}"
    );
}

#[test]
fn decode_errors_and_error_log_lines() {
    let (mut sw, c) = controller(4);
    capture_logs();
    // A role request with a bad role.
    sw.send(c, "041800180000000500000009000000000000000000000000");
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.3): OFPRRFC_BAD_ROLE\n"));
    assert_eq!(
        logs_from("connmgr"),
        ["INFO connmgr: br0<->tcp:192.0.2.1:6653: sending OFPRRFC_BAD_ROLE error reply to OFPT_ROLE_REQUEST message"]
    );
}

#[test]
fn connection_state_starts_over_on_every_connection() {
    let (mut sw, c) = controller(4);
    sw.send(c, "041800180000000500000003000000000000000000000009");
    sw.send(c, "04040018000000030000232000000014000000000000007b");
    sw.send(c, "0409000c0000000600000040");
    let before = sw.mgr.conn_info(c).unwrap();
    assert_eq!((before.controller_id, before.miss_send_len), (123, 64));
    sw.hang_up(c);
    assert_eq!(sw.mgr.conn_info(c), None);
    sw.advance(1000);
    let c2 = sw.connect(CTRL, 4);
    let after = sw.mgr.conn_info(c2).unwrap();
    assert_eq!((after.role, after.controller_id, after.miss_send_len), (connmgr_core::Role::Equal, 0, 128));
    // The election id, though, is the ConnMgr's and survives.
    sw.send(c2, "041800180000000500000003000000000000000000000001");
    assert!(sw.take_text(c2).starts_with("OFPT_ERROR (OF1.3): OFPRRFC_STALE\n"));
}
