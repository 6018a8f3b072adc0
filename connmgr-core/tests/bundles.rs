//! Bundles, mirroring OVS `tests/ofproto.at` "bundle open / double open / close without open /
//! double close / close, different flags / commit without open / commit, different flags / discard
//! without open" for OpenFlow 1.4 and the ONF 1.3 form, "bundle timeout", "bundle custom timeout" and
//! "bundle reset timeout to default", and commits through the owner.

mod common;

use common::*;
use connmgr_core::{BundleFailure, ConnId, Role};
use ofp_proto::OfpErr;

const MGMT: &str = "punix:/run/openvswitch/br0.mgmt";

fn monitor(version: u8) -> (Sw, ConnId) {
    let mut sw = Sw::new();
    sw.set_controllers(&[(MGMT, settings())]);
    let c = sw.accept(MGMT, "unix#1", version);
    (sw, c)
}

/// A bundle control for bundle 1, xid `xid`: OFPT_BUNDLE_CONTROL in OF1.4, ONFT in OF1.3.
fn ctrl(version: u8, xid: u32, ctype: u16, flags: u16) -> String {
    match version {
        4 => format!("04040018{xid:08x}4f4e4600000008fc00000001{ctype:04x}{flags:04x}"),
        v => format!("{v:02x}210010{xid:08x}00000001{ctype:04x}{flags:04x}"),
    }
}

/// A bundle add of `inner` to bundle 1 with `flags` (the outer xid must be the inner one's).
fn add(version: u8, flags: u16, inner: &str) -> String {
    let xid = &inner[8..16];
    let len = inner.len() / 2;
    match version {
        4 => format!("0404{:04x}{xid}4f4e4600000008fd000000010000{flags:04x}{inner}", 24 + len),
        v => format!("{v:02x}22{:04x}{xid}000000010000{flags:04x}{inner}", 16 + len),
    }
}

/// The OVS "bundle timeout" flow mod (OF1.4, xid 2).
const FLOW_MOD_14: &str = concat!(
    "050e0090000000020000000000000000",
    "0000000000000000010000000000ffff",
    "ffffffffffffffffffffffff00000000",
    "00010042800000040000000180000806",
    "50540000000680000606505400000005",
    "80000a02080680000c02000080002a02",
    "000280002c04c0a8000280002e04c0a8",
    "00010000000000000004001800000000",
    "00000010000000030000000000000000",
);

/// An OF1.4 port mod with xid `xid`.
fn port_mod_14(xid: u32) -> String {
    format!("05100028{xid:08x}0000000300000000505400000001000000000001000000010000000800000001")
}

/// One control message, then a barrier; returns what came back.
fn roundtrip(sw: &mut Sw, c: ConnId, version: u8, msg: &str) -> String {
    sw.send(c, msg);
    sw.send(c, &format!("{version:02x}1400080000ffff"));
    sw.take_text(c)
}

fn scenario(version: u8, steps: &[((u16, u16), &str)]) {
    let (mut sw, c) = monitor(version);
    let (of, ctl) = match version {
        4 => ("OF1.3", "ONFT_BUNDLE_CONTROL (OF1.3)"),
        _ => ("OF1.4", "OFPT_BUNDLE_CONTROL (OF1.4)"),
    };
    let names = ["OPEN_REQUEST", "OPEN_REPLY", "CLOSE_REQUEST", "CLOSE_REPLY", "COMMIT_REQUEST"];
    for ((ctype, flags), result) in steps {
        let got = roundtrip(&mut sw, c, version, &ctrl(version, 10, *ctype, *flags));
        let flag_text = match flags {
            1 => "atomic",
            2 => "ordered",
            _ => "0",
        };
        let request_text = format!(
            "{ctl}:\n bundle_id=0x1 type={} flags={flag_text}\n",
            names.get(*ctype as usize).unwrap_or(&"DISCARD_REQUEST")
        );
        let expect = match *result {
            "" => String::new(),
            r if r.ends_with("_REPLY") => format!("{ctl}:\n bundle_id=0x1 type={r} flags=0\n"),
            e => format!("OFPT_ERROR ({of}): {e}\n{request_text}"),
        };
        assert_eq!(got, format!("{expect}OFPT_BARRIER_REPLY ({of}):\n"), "step {ctype}/{flags}");
    }
}

const OPEN: (u16, u16) = (0, 2);
const CLOSE: (u16, u16) = (2, 2);
const COMMIT: (u16, u16) = (4, 2);
const DISCARD: (u16, u16) = (6, 2);

#[test]
fn bundle_control_misuse_of14_and_of13() {
    for v in [5, 4] {
        // open
        scenario(v, &[(OPEN, "OPEN_REPLY")]);
        // double open: the second fails and deletes the bundle
        scenario(v, &[(OPEN, "OPEN_REPLY"), (OPEN, "OFPBFC_BAD_ID"), (CLOSE, "OFPBFC_BAD_ID")]);
        // close without open
        scenario(v, &[(CLOSE, "OFPBFC_BAD_ID")]);
        // double close
        scenario(v, &[(OPEN, "OPEN_REPLY"), (CLOSE, "CLOSE_REPLY"), (CLOSE, "OFPBFC_BUNDLE_CLOSED")]);
        // close, different flags
        scenario(v, &[(OPEN, "OPEN_REPLY"), ((2, 1), "OFPBFC_BAD_FLAGS")]);
        // commit without open
        scenario(v, &[(COMMIT, "OFPBFC_BAD_ID")]);
        // commit, different flags; the bundle is gone afterwards
        scenario(v, &[(OPEN, "OPEN_REPLY"), ((4, 1), "OFPBFC_BAD_FLAGS"), (COMMIT, "OFPBFC_BAD_ID")]);
        // discard without open, and a discard that works
        scenario(v, &[(DISCARD, "OFPBFC_BAD_ID"), (OPEN, "OPEN_REPLY"), (DISCARD, "DISCARD_REPLY")]);
    }
}

#[test]
fn reply_types_and_unknown_types_are_bad_type() {
    let (mut sw, c) = monitor(5);
    for t in [1, 3, 5, 7, 8, 0xff] {
        let got = roundtrip(&mut sw, c, 5, &ctrl(5, 10, t, 0));
        assert!(got.starts_with("OFPT_ERROR (OF1.4): OFPBFC_BAD_TYPE\n"), "type {t}: {got}");
    }
    // Bundles do not exist before OF1.3: the message type is unknown there.
    let (mut sw, c) = monitor(3);
    let got = roundtrip(&mut sw, c, 3, "03040018000000014f4e4600000008fc0000000100000002");
    assert!(got.starts_with("OFPT_ERROR (OF1.2): OFPBRC_BAD_SUBTYPE\n"), "{got}");
}

#[test]
fn add_opens_commit_hands_the_messages_to_the_owner_in_order() {
    for v in [5u8, 4] {
        let (mut sw, c) = monitor(v);
        let inner = |xid: u32| {
            let pm = port_mod_14(xid);
            if v == 4 {
                // The OF1.3 port mod layout.
                format!("04100028{xid:08x}0000000300000000505400000001000000000001000000010000000800000000")
            } else {
                pm
            }
        };
        sw.send(c, &add(v, 1, &inner(0x21)));
        sw.send(c, &add(v, 1, &inner(0x22)));
        assert!(sw.take(c).is_empty(), "an add has no reply");
        assert!(sw.owner.commits.is_empty());
        let got = roundtrip(&mut sw, c, v, &ctrl(v, 0x30, 4, 1));
        assert!(got.contains("type=COMMIT_REPLY flags=0\n"), "{got}");
        assert_eq!(sw.owner.commits, vec![(c, 1, vec![0x21, 0x22])]);
        // Gone after the commit.
        let got = roundtrip(&mut sw, c, v, &ctrl(v, 0x31, 4, 1));
        assert!(got.contains("OFPBFC_BAD_ID"), "{got}");
    }
}

#[test]
fn failing_commit_reports_the_entry_then_msg_failed() {
    let (mut sw, c) = monitor(5);
    sw.send(c, &add(5, 0, &port_mod_14(0x41)));
    sw.send(c, &add(5, 0, &port_mod_14(0x42)));
    sw.send(c, &add(5, 0, &port_mod_14(0x43)));
    sw.owner.commit_result = Some(BundleFailure { index: 1, error: OfpErr::OFPBRC_EPERM });
    sw.send(c, &ctrl(5, 0x50, 4, 0));
    let got = sw.take(c);
    assert_eq!(got.len(), 2);
    // The entry's error answers its BUNDLE_ADD_MESSAGE (xid 0x42, quoted whole).
    let text = strip_xid(&ofp_proto::print::ofp_to_string(&got[0], 1));
    assert!(text.starts_with("OFPT_ERROR (OF1.4): OFPBRC_EPERM\nOFPT_BUNDLE_ADD_MESSAGE (OF1.4):\n"), "{text}");
    assert_eq!(&got[0][4..8], &[0, 0, 0, 0x42]);
    assert_eq!(got[0].len(), 12 + hex(&add(5, 0, &port_mod_14(0x42))).len());
    // Then MSG_FAILED for the commit.
    let text = strip_xid(&ofp_proto::print::ofp_to_string(&got[1], 1));
    assert!(text.starts_with("OFPT_ERROR (OF1.4): OFPBFC_MSG_FAILED\nOFPT_BUNDLE_CONTROL (OF1.4):\n"), "{text}");
    assert_eq!(&got[1][4..8], &[0, 0, 0, 0x50]);
    let got = roundtrip(&mut sw, c, 5, &ctrl(5, 0x51, 4, 0));
    assert!(got.contains("OFPBFC_BAD_ID"), "{got}");
}

#[test]
fn add_errors() {
    let (mut sw, c) = monitor(5);
    // The owner's add-time check fails: the add is answered, nothing is added.
    sw.owner.bundle_add_error = Some(OfpErr::OFPBRC_EPERM);
    sw.send(c, &add(5, 0, &port_mod_14(0x61)));
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPBRC_EPERM\nOFPT_BUNDLE_ADD_MESSAGE (OF1.4):\n"));
    sw.owner.bundle_add_error = None;
    let got = roundtrip(&mut sw, c, 5, &ctrl(5, 0x62, 6, 0));
    assert!(got.contains("OFPBFC_BAD_ID"), "the failed add did not open the bundle: {got}");
    // Adding to a closed bundle, or with other flags, discards it.
    sw.send(c, &add(5, 2, &port_mod_14(0x63)));
    roundtrip(&mut sw, c, 5, &ctrl(5, 0x64, 2, 2));
    sw.send(c, &add(5, 2, &port_mod_14(0x65)));
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPBFC_BUNDLE_CLOSED\n"));
    sw.send(c, &add(5, 2, &port_mod_14(0x66)));
    sw.send(c, &add(5, 1, &port_mod_14(0x67)));
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPBFC_BAD_FLAGS\n"));
    // A message that cannot be bundled (a barrier) is refused by the decoder.
    sw.send(c, &add(5, 0, "0514000800000068"));
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPBFC_MSG_UNSUP\n"));
    // A secondary may not use bundles at all.
    sw.send(c, "051800180000006900000003000000000000000000000001");
    sw.take(c);
    assert_eq!(sw.mgr.conn_info(c).unwrap().role, Role::Secondary);
    sw.send(c, &add(5, 0, &port_mod_14(0x6a)));
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPBRC_IS_SECONDARY\n"));
}

/// OVS "bundle timeout" and "bundle custom timeout": adds and a close keep a bundle alive; once
/// idle for the timeout it is dropped with OFPBFC_TIMEOUT answering the message that opened it,
/// at a real wakeup rather than whenever something else happens.
fn bundle_timeout(timeout_secs: u64) {
    let (mut sw, c) = monitor(5);
    if timeout_secs != 10 {
        sw.mgr.set_bundle_idle_timeout(timeout_secs as u32);
    }
    let step = timeout_secs * 1000 * 8 / 10;
    sw.send(c, &ctrl(5, 1, 0, 3));
    sw.advance(step);
    sw.send(c, &add(5, 3, FLOW_MOD_14));
    sw.advance(step);
    sw.send(c, &ctrl(5, 3, 2, 3));
    let closed = sw.now;
    assert_eq!(
        sw.take_text(c),
        "OFPT_BUNDLE_CONTROL (OF1.4):\n bundle_id=0x1 type=OPEN_REPLY flags=0\n\
         OFPT_BUNDLE_CONTROL (OF1.4):\n bundle_id=0x1 type=CLOSE_REPLY flags=0\n"
    );
    sw.advance(timeout_secs * 1000 - 1);
    assert!(sw.take(c).is_empty(), "not yet idle for {timeout_secs} s");
    sw.advance(1000);
    let got = sw.take(c);
    assert_eq!(got.len(), 1, "expired within a second of going idle for {timeout_secs} s");
    let text = strip_xid(&ofp_proto::print::ofp_to_string(&got[0], 1));
    assert_eq!(
        text,
        "OFPT_ERROR (OF1.4): OFPBFC_TIMEOUT\nOFPT_BUNDLE_CONTROL (OF1.4):\n bundle_id=0x1 type=OPEN_REQUEST flags=atomic ordered\n"
    );
    assert_eq!(&got[0][4..8], &[0, 0, 0, 1], "answers the opening message");
    assert!(sw.now.as_millis() - closed.as_millis() < timeout_secs * 1000 + 1000);
    let got = roundtrip(&mut sw, c, 5, &ctrl(5, 4, 4, 3));
    assert!(got.starts_with("OFPT_ERROR (OF1.4): OFPBFC_BAD_ID\n"), "{got}");
}

#[test]
fn bundle_timeout_default() {
    bundle_timeout(10);
}

#[test]
fn bundle_custom_timeout() {
    bundle_timeout(4);
}

#[test]
fn bundle_reset_timeout_to_default() {
    let (mut sw, c) = monitor(5);
    sw.mgr.set_bundle_idle_timeout(15);
    sw.mgr.set_bundle_idle_timeout(0);
    sw.send(c, &ctrl(5, 1, 0, 3));
    sw.take(c);
    sw.advance(9_999);
    assert!(sw.take(c).is_empty());
    sw.advance(1_001);
    assert!(sw.take_text(c).starts_with("OFPT_ERROR (OF1.4): OFPBFC_TIMEOUT\n"));
}

#[test]
fn bundles_go_with_the_connection() {
    let mut sw = Sw::new();
    sw.set_controllers(&[("tcp:192.0.2.1:6653", settings())]);
    let c = sw.connect("tcp:192.0.2.1:6653", 5);
    sw.send(c, &ctrl(5, 1, 0, 0));
    sw.hang_up(c);
    sw.advance(1000);
    let c2 = sw.connect("tcp:192.0.2.1:6653", 5);
    assert_ne!(c, c2);
    let got = roundtrip(&mut sw, c2, 5, &ctrl(5, 2, 6, 0));
    assert!(got.starts_with("OFPT_ERROR (OF1.4): OFPBFC_BAD_ID\n"), "{got}");
}

/// The ofproto helper's request: a commit the owner cannot do yet waits like a postponed request —
/// the bundle stays, nothing more is read from the connection, and the COMMIT is offered again
/// after a retry; the reply and what follows come in order once it is done.
#[test]
fn a_postponed_commit_blocks_the_connection_until_retried() {
    let (mut sw, c) = monitor(5);
    sw.send(c, &add(5, 1, &port_mod_14(0x21)));
    sw.send(c, &add(5, 1, &port_mod_14(0x22)));
    sw.owner.postpone_commits = 2;
    sw.send(c, &ctrl(5, 0x30, 4, 1));
    sw.send(c, "0514000800000031");
    assert!(sw.take(c).is_empty(), "neither the commit nor the barrier behind it is answered");
    assert_eq!(sw.owner.commits.len(), 1);
    assert!(sw.mgr.poll_timeout().is_none_or(|t| t > sw.now), "nothing to do until a retry");
    sw.mgr.retry();
    sw.run();
    assert_eq!(sw.owner.commits.len(), 2, "offered again, postponed again");
    assert!(sw.take(c).is_empty());
    sw.mgr.retry();
    let got = sw.take(c);
    assert_eq!(
        got.iter().map(|m| strip_xid(&ofp_proto::print::ofp_to_string(m, 1))).collect::<String>(),
        "OFPT_BUNDLE_CONTROL (OF1.4):\n bundle_id=0x1 type=COMMIT_REPLY flags=0\nOFPT_BARRIER_REPLY (OF1.4):\n"
    );
    assert_eq!(got.iter().map(|m| m[7]).collect::<Vec<_>>(), [0x30, 0x31]);
    assert_eq!(sw.owner.commits, vec![(c, 1, vec![0x21, 0x22]); 3]);
    let got = roundtrip(&mut sw, c, 5, &ctrl(5, 0x33, 4, 1));
    assert!(got.starts_with("OFPT_ERROR (OF1.4): OFPBFC_BAD_ID\n"), "the bundle went with the commit: {got}");
}

#[test]
fn a_bundle_whose_commit_waits_does_not_expire() {
    let (mut sw, c) = monitor(5);
    sw.send(c, &add(5, 0, &port_mod_14(0x41)));
    sw.owner.postpone_commits = 1;
    sw.send(c, &ctrl(5, 0x42, 4, 0));
    sw.advance(30_000);
    assert!(sw.take(c).is_empty(), "no OFPBFC_TIMEOUT while its commit waits");
    sw.mgr.retry();
    assert_eq!(sw.take_text(c), "OFPT_BUNDLE_CONTROL (OF1.4):\n bundle_id=0x1 type=COMMIT_REPLY flags=0\n");
    assert_eq!(sw.owner.commits.len(), 2);
}

#[test]
fn a_postponed_commit_may_fail_when_retried() {
    let (mut sw, c) = monitor(4);
    let pm = "04100028000000510000000300000000505400000001000000000001000000010000000800000000";
    sw.send(c, &add(4, 0, pm));
    sw.owner.postpone_commits = 1;
    sw.send(c, &ctrl(4, 0x52, 4, 0));
    assert!(sw.take(c).is_empty());
    sw.owner.commit_result = Some(BundleFailure { index: 0, error: OfpErr::OFPBRC_EPERM });
    sw.mgr.retry();
    let text = sw.take_text(c);
    assert!(text.starts_with("OFPT_ERROR (OF1.3): OFPBRC_EPERM\nONFT_BUNDLE_ADD_MESSAGE (OF1.3):\n"), "{text}");
    assert!(text.contains("OFPT_ERROR (OF1.3): OFPBFC_MSG_FAILED\nONFT_BUNDLE_CONTROL (OF1.3):\n"), "{text}");
}
