//! Exact bytes and errors for the action codecs, per version.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::errors::OfpErr;
use crate::port_no;
use crate::print::parse_hex;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn enc(a: &[Action], version: u8) -> String {
    let mut b = BytesMut::new();
    encode_actions(a, version, &mut b);
    hex(&b)
}

fn dec(h: &str, version: u8) -> Result<ActionList, OfpErr> {
    decode_actions(&Bytes::from(parse_hex(h).unwrap()), version)
}

fn text(a: &[Action]) -> String {
    let mut s = String::new();
    format_actions(a, &mut s);
    s
}

/// Encodes, checks the bytes, decodes them back to the same action and checks the text.
fn round(a: Action, version: u8, bytes: &str, txt: &str) {
    let a = [a];
    assert_eq!(enc(&a, version), bytes.replace(' ', ""), "{txt} in version {version}");
    assert_eq!(dec(bytes, version).as_deref(), Ok(&a[..]), "{txt} in version {version}");
    assert_eq!(text(&a), txt);
}

#[test]
fn output_and_controller() {
    let out = Action::Output { port: 2, max_len: 0 };
    round(out.clone(), 1, "0000 0008 0002 0000", "output:2");
    round(out, 4, "0000 0010 00000002 0000 000000000000", "output:2");
    let ctl = Action::Output { port: port_no::CONTROLLER, max_len: 65535 };
    round(ctl, 4, "0000 0010 fffffffd ffff 000000000000", "CONTROLLER:65535");
    round(Action::Output { port: port_no::LOCAL, max_len: 0 }, 1, "0000 0008 fffe 0000", "LOCAL");
    let c = Controller { controller_id: 3, reason: OFPR_NO_MATCH, max_len: 128, ..Controller::default() };
    round(
        Action::Controller(c),
        4,
        "ffff 0010 00002320 0014 0080 0003 00 00",
        "controller(reason=no_match,max_len=128,id=3)",
    );
    let c2 = Controller { userdata: Bytes::from_static(&[1, 2]), pause: true, v2: true, ..Controller::default() };
    round(
        Action::Controller(c2),
        1,
        "ffff 0020 00002320 0025 000000000000 0003 0006 0102 0000 0004 0004 00000000",
        "controller(userdata=01.02,pause)",
    );
}

#[test]
fn legacy_and_set_field_forms() {
    let vid = Action::SetVlanVid { vid: 10, push_vlan_if_needed: true, flow_has_vlan: false };
    round(vid.clone(), 1, "0001 0008 000a 0000", "mod_vlan_vid:10");
    // OF1.0's set_vlan_vid adds a tag if needed; OF1.1+ need an explicit push first.
    assert_eq!(enc(std::slice::from_ref(&vid), 2), "0011000881000000".to_owned() + "00010008000a0000");
    assert_eq!(enc(&[vid], 4), "0011000881000000".to_owned() + "0019001080000c02100a000000000000");
    round(Action::SetIpv4Dst(0xc0a8_4a7a), 1, "0007 0008 c0a84a7a", "mod_nw_dst:192.168.74.122");
    round(Action::SetIpv4Dst(0xc0a8_4a7a), 2, "0006 0008 c0a84a7a", "mod_nw_dst:192.168.74.122");
    let sf = Action::SetField(SetField::new(MfId::Ipv4Dst, 0xc0a8_4a7a));
    round(sf.clone(), 3, "0019 0010 80001804 c0a84a7a 00000000", "set_field:192.168.74.122->ip_dst");
    // A set-field in OF1.0 goes out as the legacy action.
    assert_eq!(enc(&[sf], 1), "00070008c0a84a7a");
    round(Action::StripVlan { pop_vlan: false }, 1, "0003 0008 00000000", "strip_vlan");
    round(Action::StripVlan { pop_vlan: true }, 4, "0012 0008 00000000", "pop_vlan");
    round(Action::PushVlan { ethertype: 0x88a8 }, 4, "0011 0008 88a8 0000", "push_vlan:0x88a8");
    round(
        Action::SetEthSrc(crate::flow::EthAddr([1, 2, 3, 4, 5, 6])),
        1,
        "0004 0010 010203040506 000000000000",
        "mod_dl_src:01:02:03:04:05:06",
    );
    round(Action::SetIpDscp(0x20), 2, "0007 0008 20 000000", "mod_nw_tos:32");
    round(Action::SetIpEcn(2), 2, "0008 0008 02 000000", "mod_nw_ecn:2");
    round(Action::SetIpTtl(9), 2, "0017 0008 09 000000", "mod_nw_ttl:9");
    round(Action::SetL4DstPort { port: 80, flow_ip_proto: 0 }, 1, "000a 0008 0050 0000", "mod_tp_dst:80");
    round(Action::Group(5), 4, "0016 0008 00000005", "group:5");
    round(Action::SetQueue(5), 1, "ffff 0010 00002320 0004 0000 00000005", "set_queue:5");
    round(Action::Enqueue { port: 1, queue: 2 }, 1, "000b 0010 0001 000000000000 00000002", "enqueue:1:2");
    round(Action::Meter(4), 6, "001d 0008 00000004", "meter:4");
}

#[test]
fn nicira_actions() {
    let r = Action::Resubmit { in_port: port_no::IN_PORT, table_id: 0, with_ct_orig: false, plain: false };
    round(r, 4, "ffff 0010 00002320 000e fff8 00 000000", "resubmit(,0)");
    let r = Action::Resubmit { in_port: 3, table_id: 255, with_ct_orig: false, plain: true };
    round(r, 1, "ffff 0010 00002320 0001 0003 00000000", "resubmit:3");
    round(
        Action::Note(Bytes::from_static(&[1, 2, 3, 4, 5, 6])),
        1,
        "ffff 0010 00002320 0008 010203040506",
        "note:01.02.03.04.05.06",
    );
    // A note that needs padding comes back with it, as in OVS.
    let padded = enc(&[Action::Note(Bytes::from_static(&[1, 2, 3, 4, 5, 6, 7]))], 1);
    assert_eq!(padded, "ffff00180000232000080102030405060700000000000000");
    assert_eq!(text(&dec(&padded, 1).unwrap()), "note:01.02.03.04.05.06.07.00.00.00.00.00.00.00");
    round(
        Action::SetTunnel { tun_id: 0x1c8, tun64: false },
        1,
        "ffff 0010 00002320 0002 0000 000001c8",
        "set_tunnel:0x1c8",
    );
    round(
        Action::SetTunnel { tun_id: 1, tun64: true },
        1,
        "ffff 0018 00002320 0009 000000000000 0000000000000001",
        "set_tunnel64:0x1",
    );
    round(Action::PopQueue, 4, "ffff 0010 00002320 0005 000000000000", "pop_queue");
    round(Action::Exit, 4, "ffff 0010 00002320 0011 000000000000", "exit");
    round(Action::CtClear, 4, "ffff 0010 00002320 002b 000000000000", "ct_clear");
    let dec_ttl = Action::DecTtl { cnt_ids: smallvec::smallvec![1, 2], cnt_ids_form: true };
    round(dec_ttl, 1, "ffff 0018 00002320 0015 0002 00000000 0001 0002 00000000", "dec_ttl(1,2)");
    round(Action::DecTtl { cnt_ids: smallvec::smallvec![0], cnt_ids_form: false }, 4, "0018 0008 00000000", "dec_ttl");
    round(
        Action::OutputTrunc { port: 1, max_len: 100 },
        4,
        "ffff 0010 00002320 0027 0001 00000064",
        "output(port=1,max_len=100)",
    );
    // reg_load: 5 into all of reg0.
    let load = Action::SetField(SetField {
        field: MfId::Reg0,
        value: 5,
        mask: 0xffff_ffff,
        raw: SetFieldRaw::RegLoad,
        flow_has_vlan: false,
    });
    round(load, 1, "ffff 0018 00002320 0007 001f 00010004 0000000000000005", "load:0x5->NXM_NX_REG0[]");
    // Two runs of mask bits: two loads.
    let load = Action::SetField(SetField {
        field: MfId::Reg1,
        value: 0x3 << 4 | 1 << 20,
        mask: 0xf << 4 | 1 << 20,
        raw: SetFieldRaw::RegLoad,
        flow_has_vlan: false,
    });
    assert_eq!(text(std::slice::from_ref(&load)), "load:0x3->NXM_NX_REG1[4..7],load:0x1->NXM_NX_REG1[20]");
    assert_eq!(
        enc(&[load], 4),
        "ffff001800002320000701030001020400000000000000 03 ffff001800002320000705000001020400000000000000 01"
            .replace(' ', "")
    );
}

#[test]
fn action_errors_are_ovs_errors() {
    let e = |h: &str, v: u8| dec(h, v).unwrap_err();
    assert_eq!(e("0063 0008 00000000", 4), OfpErr::OFPBAC_BAD_TYPE);
    assert_eq!(e("ffff 0010 00001234 0001 000000000000", 4), OfpErr::OFPBAC_BAD_VENDOR);
    assert_eq!(e("ffff 0010 00002320 00fe 000000000000", 4), OfpErr::OFPBAC_BAD_VENDOR_TYPE);
    // Length below the action's size, past the buffer, not a multiple of 8.
    assert_eq!(e("0000 0008 00000002 0000 000000000000", 4), OfpErr::OFPBAC_BAD_LEN);
    assert_eq!(e("0000 0018 00000002 0000 000000000000", 4), OfpErr::OFPBAC_BAD_LEN);
    assert_eq!(e("ffff 0014 00002320 0008 000000000000 00000000", 4), OfpErr::OFPBAC_BAD_LEN);
    assert_eq!(e("000000", 4), OfpErr::OFPBAC_BAD_LEN);
    // Ports.
    assert_eq!(e("0000 0008 ffff 0000", 1), OfpErr::OFPBAC_BAD_OUT_PORT);
    assert_eq!(e("0000 0008 ff00 0000", 1), OfpErr::OFPBAC_BAD_OUT_PORT);
    assert_eq!(e("0000 0010 0000ff00 0000 000000000000", 4), OfpErr::OFPBAC_BAD_OUT_PORT);
    assert_eq!(e("000b 0010 ff01 000000000000 00000001", 1), OfpErr::OFPBAC_BAD_OUT_PORT);
    // Arguments.
    assert_eq!(e("0001 0008 1000 0000", 1), OfpErr::OFPBAC_BAD_ARGUMENT);
    assert_eq!(e("0002 0008 08 000000", 2), OfpErr::OFPBAC_BAD_ARGUMENT);
    assert_eq!(e("0011 0008 0800 0000", 4), OfpErr::OFPBAC_BAD_ARGUMENT);
    assert_eq!(e("0007 0008 01 000000", 2), OfpErr::OFPBAC_BAD_ARGUMENT);
    assert_eq!(e("ffff 0010 00002320 000e fff8 00 010000", 4), OfpErr::OFPBAC_BAD_ARGUMENT);
    assert_eq!(e("ffff 0010 00002320 0027 0001 0000000d", 4), OfpErr::OFPBAC_BAD_ARGUMENT);
    // Set-field: unknown field, wrong length, masked before OF1.5, read-only, in_port, padding.
    assert_eq!(e("0019 0010 80007e04 00000000 00000000", 4), OfpErr::OFPBAC_BAD_SET_TYPE);
    assert_eq!(e("0019 0010 80001805 c0a84a7a 01000000", 4), OfpErr::OFPBAC_BAD_SET_LEN);
    assert_eq!(e("0019 0010 80001908 c0a84a7a ffffffff", 4), OfpErr::OFPBAC_BAD_SET_MASK);
    assert_eq!(e("0019 0010 80000a02 0800 000000000000", 4), OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    assert_eq!(e("0019 0010 80000004 00000001 00000000", 4), OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    assert_eq!(e("0019 0010 80001804 c0a84a7a 00000001", 4), OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    // vlan_vid set-field without OFPVID_PRESENT.
    assert_eq!(e("0019 0010 80000c02 000a 000000000000", 4), OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    // reg_load: unknown header, bits past the field, value too wide.
    assert_eq!(e("ffff 0018 00002320 0007 001f 00017e04 0000000000000005", 1), OfpErr::OFPBAC_BAD_SET_TYPE);
    assert_eq!(e("ffff 0018 00002320 0007 07df 00010004 0000000000000005", 1), OfpErr::OFPBAC_BAD_SET_LEN);
    assert_eq!(e("ffff 0018 00002320 0007 0000 00010004 0000000000000005", 1), OfpErr::OFPBAC_BAD_ARGUMENT);
    // Nicira must-be-zero and controller2 properties.
    assert_eq!(e("ffff 0010 00002320 0025 000000000001", 1), OfpErr::NXBRC_MUST_BE_ZERO);
    assert_eq!(e("ffff 0018 00002320 0025 000000000000 0009 0004 00000000", 1), OfpErr::OFPBPC_BAD_TYPE);
    assert_eq!(e("ffff 0018 00002320 0015 0005 00000000 0001 0002 00000000", 1), OfpErr::OFPBAC_BAD_LEN);
}

#[test]
fn check_annotations_steer_encoding() {
    // An OF1.0 mod_tp_src on a TCP flow becomes set_field tcp_src in OF1.3 after checking.
    let mut m = crate::ofmatch::Match::catchall();
    m.set_dl_type(crate::flow::ETH_TYPE_IP);
    m.set_nw_proto(crate::flow::IPPROTO_TCP);
    let mut a = [Action::SetL4SrcPort { port: 80, flow_ip_proto: 0 }];
    assert_eq!(enc(&a, 4), "000900080050 0000".replace(' ', ""));
    check_actions(&mut a, &m, 1, &CheckParams::default()).unwrap();
    assert_eq!(enc(&a, 4), "0019 0010 80001a02 0050 000000000000".replace(' ', ""));
}

#[test]
fn internal_miss_reasons_print_empty() {
    // OVS's explicit/implicit table-miss reasons (6, 7) have no name; others unknown print as numbers.
    let c = |reason| Action::Controller(Controller { reason, controller_id: 1, ..Controller::default() });
    assert_eq!(text(&[c(6)]), "controller(reason=,id=1)");
    assert_eq!(text(&[c(7)]), "controller(reason=,id=1)");
    assert_eq!(text(&[c(9)]), "controller(reason=9,id=1)");
}
