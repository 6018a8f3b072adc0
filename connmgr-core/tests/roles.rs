//! Roles and the primary election, mirroring OVS `tests/ofproto.at` "controller role" for OF1.2,
//! OF1.3 and OF1.4 (two `ovs-ofctl monitor` service connections), plus the generation-id wraparound
//! boundaries and the postponement of role changes behind pending operation groups.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use connmgr_core::Role;
use ofp_proto::MsgType;

const MGMT: &str = "punix:/run/openvswitch/br0.mgmt";

/// Two monitors speaking `version`, each told its role is "equal".
fn two_monitors(version: u8) -> (Sw, [connmgr_core::ConnId; 2]) {
    let mut sw = Sw::new();
    sw.set_controllers(&[(MGMT, settings())]);
    let c1 = sw.accept(MGMT, "unix#1", version);
    let c2 = sw.accept(MGMT, "unix#2", version);
    for c in [c1, c2] {
        sw.send(c, &format!("{version:02x}1800180000000200000000000000000000000000000000"));
    }
    (sw, [c1, c2])
}

/// The OVS test body for `version`; `status` is the ROLE_STATUS line controller 2 gets, if any.
fn controller_role(version: u8, of: &str, status: Option<&str>) {
    let v = format!("{version:02x}");
    let (mut sw, [c1, c2]) = two_monitors(version);
    for c in [c1, c2] {
        assert_eq!(sw.take_text(c), format!("OFPT_ROLE_REPLY ({of}): role=equal\n"));
    }

    // Controller 1 becomes secondary (2^63+2: not stale, the generation id is undefined).
    sw.send(c1, &format!("{v}1800180000000300000003000000008000000000000002"));
    assert_eq!(sw.take_text(c1), format!("OFPT_ROLE_REPLY ({of}): role=secondary generation_id=9223372036854775810\n"));

    // Controller 2 becomes primary.
    sw.send(c2, &format!("{v}1800180000000300000002000000008000000000000003"));
    assert_eq!(sw.take_text(c2), format!("OFPT_ROLE_REPLY ({of}): role=primary generation_id=9223372036854775811\n"));

    // Controller 1 tries a stale generation id: 3 - (2^63+3) is -2^63 as a signed difference.
    sw.send(c1, &format!("{v}1800180000000400000002000000000000000000000003"));
    assert_eq!(
        sw.take_text(c1),
        format!("OFPT_ERROR ({of}): OFPRRFC_STALE\nOFPT_ROLE_REQUEST ({of}): role=primary generation_id=3\n")
    );

    // A valid one: 1 - (2^63+3) is 2^63-2, positive. Controller 2 is demoted.
    sw.send(c1, &format!("{v}1800180000000500000002000000000000000000000001"));
    assert_eq!(sw.take_text(c1), format!("OFPT_ROLE_REPLY ({of}): role=primary generation_id=1\n"));

    for c in [c1, c2] {
        sw.send(c, &format!("{v}140008000000ff"));
    }
    let barrier = format!("OFPT_BARRIER_REPLY ({of}):\n");
    assert_eq!(sw.take_text(c1), barrier);
    let expect2 = status.map_or(String::new(), |s| format!("{s}\n")) + &barrier;
    assert_eq!(sw.take_text(c2), expect2);
    assert_eq!(sw.mgr.conn_info(c2).unwrap().role, Role::Secondary);
}

#[test]
fn controller_role_of12() {
    controller_role(3, "OF1.2", None);
}

#[test]
fn controller_role_of13() {
    controller_role(
        4,
        "OF1.3",
        Some("ONFT_ROLE_STATUS (OF1.3): role=secondary generation_id=1 reason=primary_request"),
    );
}

#[test]
fn controller_role_of14() {
    controller_role(
        5,
        "OF1.4",
        Some("OFPT_ROLE_STATUS (OF1.4): role=secondary generation_id=1 reason=primary_request"),
    );
}

#[test]
fn generation_id_wraps_around_as_a_signed_difference() {
    let (mut sw, [c1, _]) = two_monitors(4);
    sw.take(c1);
    let request = |role: u32, g: u64| format!("04180018000000070000000{role}00000000{g:016x}");
    // Around the top of the range: u64::MAX then 0 is one step forward.
    sw.send(c1, &request(3, u64::MAX));
    sw.send(c1, &request(3, 0));
    assert_eq!(sw.take_names(c1), ["OFPT_ROLE_REPLY", "OFPT_ROLE_REPLY"]);
    // 0 - 2^63 is -2^63: stale. 2^63 - 1 - 0 is positive: fine.
    sw.send(c1, &request(3, 1 << 63));
    assert!(sw.take_text(c1).starts_with("OFPT_ERROR (OF1.3): OFPRRFC_STALE\n"));
    sw.send(c1, &request(3, (1 << 63) - 1));
    assert_eq!(sw.take_text(c1), "OFPT_ROLE_REPLY (OF1.3): role=secondary generation_id=9223372036854775807\n");
    // Equal ignores the generation id; nochange reports the current one.
    sw.send(c1, &request(1, 5));
    assert_eq!(sw.take_text(c1), "OFPT_ROLE_REPLY (OF1.3): role=equal generation_id=9223372036854775807\n");
    // The same id again is not stale.
    sw.send(c1, &request(2, (1 << 63) - 1));
    assert_eq!(sw.take_text(c1), "OFPT_ROLE_REPLY (OF1.3): role=primary generation_id=9223372036854775807\n");
}

#[test]
fn nxt_role_request_and_reply() {
    // OVS "asynchronous message control (OpenFlow 1.0)": NXT_ROLE_REQUEST secondary, then primary.
    let (mut sw, [c1, c2]) = two_monitors(1);
    sw.take(c1);
    sw.take(c2);
    sw.send(c1, "0104001400000002000023200000000a00000002");
    assert_eq!(sw.take_text(c1), "NXT_ROLE_REPLY: role=secondary\n");
    sw.send(c2, "0104001400000002000023200000000a00000001");
    sw.send(c1, "0104001400000002000023200000000a00000001");
    assert_eq!(sw.take_text(c1), "NXT_ROLE_REPLY: role=primary\n");
    // Controller 2 was demoted silently: OF1.0 has no role status.
    assert_eq!(sw.take_text(c2), "NXT_ROLE_REPLY: role=primary\n");
    assert_eq!(sw.mgr.conn_info(c2).unwrap().role, Role::Secondary);
    // NXT cannot say "nochange": 3 is a bad role.
    sw.send(c1, "0104001400000009000023200000000a00000003");
    assert!(sw.take_text(c1).starts_with("OFPT_ERROR: OFPRRFC_BAD_ROLE\n"));
}

#[test]
fn secondary_is_refused_state_changes_but_not_reads() {
    let (mut sw, [c1, _]) = two_monitors(4);
    sw.take(c1);
    sw.send(c1, "041800180000000300000003000000000000000000000001");
    sw.take(c1);
    // Flow mod (even a malformed one: the role check comes first), packet out, port mod, bundle
    // control: OFPBRC_IS_SECONDARY. A features request still reaches the owner.
    for (msg, name) in [
        ("040e00480000000a", "flow mod"),
        ("040d00180000000b", "packet out"),
        ("041000280000000c", "port mod"),
        ("040400180000000d4f4e4600000008fc0000000100000002", "bundle control"),
    ] {
        let body_len = u16::from_str_radix(&msg[4..8], 16).unwrap() as usize * 2;
        let full = format!("{msg}{}", "0".repeat(body_len.saturating_sub(msg.len())));
        sw.send(c1, &full);
        let text = sw.take_text(c1);
        assert!(text.starts_with("OFPT_ERROR (OF1.3): OFPBRC_IS_SECONDARY\n"), "{name}: {text}");
    }
    sw.send(c1, "0405000800000010");
    assert_eq!(sw.owner.requests.last().map(|r| r.1), Some(MsgType::FeaturesRequest));
    assert!(sw.owner.requests.iter().all(|r| r.1 == MsgType::FeaturesRequest));
}

#[test]
fn role_change_waits_for_pending_operations() {
    let groups = Rc::new(RefCell::new(Vec::new()));
    let (mut sw, [c1, _]) = two_monitors(4);
    sw.take(c1);
    sw.owner.handler = Some(op_group_handler(MsgType::PacketOut, groups.clone()));
    sw.send(c1, "040d001800000020fffffffffffffffd0000000000000000");
    assert_eq!(groups.borrow().len(), 1);
    // A nochange request and a request for the current role are answered at once...
    sw.send(c1, "041800180000002100000000000000000000000000000000");
    sw.send(c1, "041800180000002200000001000000000000000000000000");
    assert_eq!(sw.take_names(c1), ["OFPT_ROLE_REPLY", "OFPT_ROLE_REPLY"]);
    // ...a change waits, and so does everything after it.
    sw.send(c1, "041800180000002300000002000000000000000000000007");
    sw.send(c1, "0405000800000024");
    assert!(sw.take(c1).is_empty());
    assert_eq!(sw.mgr.conn_info(c1).unwrap().role, Role::Equal);
    let (conn, g) = groups.borrow()[0];
    sw.mgr.op_group_completed(sw.now, conn, g, Ok(()));
    sw.run();
    assert_eq!(sw.take_text(c1), "OFPT_ROLE_REPLY (OF1.3): role=primary generation_id=7\n");
    assert_eq!(sw.owner.requests.last().map(|r| (r.1, r.2)), Some((MsgType::FeaturesRequest, 0x24)));
    assert_eq!(sw.mgr.conn_info(c1).unwrap().role, Role::Primary);
}
