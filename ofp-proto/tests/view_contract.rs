//! The view contract (`ofp_proto::fuzzing::check_view`): `MsgView::parse` fails exactly when
//! `OfpMsg::decode` fails, with the same error, and otherwise reads what the owned message holds;
//! checked on canonical encodings of the messages that have views, in every form and version they
//! exist in, on the same with random byte mutations and truncations, and on every test vector.

#[path = "proto_b_gen/mod.rs"]
mod proto_b_gen;
#[path = "proto_c_gen/mod.rs"]
mod proto_c_gen;

mod common;

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use ofp_proto::actions::Action;
use ofp_proto::fuzzing::check_view;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::stats::PortStatsReply;
use ofp_proto::view::{BodyView, MsgView};
use ofp_proto::{port_no, Message, MsgType, OfpMsg, Raw};
use proto_b_gen::{flow_mod, flow_stats_reply, forms, packet_in};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Outputs to ports a flow mod may name: the shape the views prove valid without the owned decoder.
fn outputs() -> impl Strategy<Value = Instructions> {
    let port = prop_oneof![1u32..=64, Just(port_no::CONTROLLER), Just(port_no::IN_PORT), Just(port_no::LOCAL)];
    vec((port, any::<u16>()), 0..4)
        .prop_map(|outs| Instructions::apply(outs.into_iter().map(|(port, max_len)| Action::Output { port, max_len })))
}

fn port_stats_reply() -> impl Strategy<Value = (Raw, u8, Message)> {
    forms(MsgType::PortStatsReply).prop_flat_map(|(raw, v)| {
        vec(proto_c_gen::port_stats(v), 0..4)
            .prop_map(move |ports| (raw, v, Message::PortStatsReply(PortStatsReply { ports })))
    })
}

fn echo_and_barrier() -> impl Strategy<Value = (Raw, u8, Message)> {
    let payload = || vec(any::<u8>(), 0..24).prop_map(Bytes::from);
    prop_oneof![
        (forms(MsgType::EchoRequest), payload()).prop_map(|((r, v), p)| (r, v, Message::EchoRequest(p))),
        (forms(MsgType::EchoReply), payload()).prop_map(|((r, v), p)| (r, v, Message::EchoReply(p))),
        forms(MsgType::BarrierRequest).prop_map(|(r, v)| (r, v, Message::BarrierRequest)),
        forms(MsgType::BarrierReply).prop_map(|(r, v)| (r, v, Message::BarrierReply)),
    ]
}

/// Every message type with a view, in every form and version, as canonical bytes: the shared
/// generators (whose rich instructions mostly need the owned decoder), and flow mods and flow
/// statistics with output-only instructions (which the views prove valid themselves).
fn hot_message() -> impl Strategy<Value = Bytes> {
    let fast_flow_mod = (flow_mod(), outputs()).prop_map(|((raw, v, mut fm), ins)| {
        fm.instructions = ins;
        (raw, v, Message::FlowMod(fm))
    });
    let fast_flow_stats = (flow_stats_reply(), vec(outputs(), 4)).prop_map(|((raw, v, mut body), ins)| {
        if let Message::FlowStatsReply(r) = &mut body {
            r.entries.iter_mut().zip(ins).for_each(|(e, ins)| e.instructions = ins);
        }
        (raw, v, body)
    });
    let msg = prop_oneof![
        packet_in(false),
        flow_mod().prop_map(|(raw, v, fm)| (raw, v, Message::FlowMod(fm))),
        fast_flow_mod,
        flow_stats_reply(),
        fast_flow_stats,
        port_stats_reply(),
        echo_and_barrier(),
    ];
    (msg, any::<u32>(), any::<bool>()).prop_map(|((raw, v, body), xid, more)| {
        let m = OfpMsg::new(v, xid, body).with_raw(raw);
        let flags = if more && raw.is_stat() { ofp_proto::raw::OFPSF_REPLY_MORE } else { 0 };
        m.with_stats_flags(flags).to_bytes()
    })
}

/// Whether the message has a typed view (not `Other`) when it parses.
fn typed(frame: &[u8]) -> bool {
    MsgView::parse(frame).is_ok_and(|v| !matches!(v.body(), BodyView::Other(_)))
}

#[test]
fn canonical_hot_messages_keep_the_contract() {
    let typed_count = std::cell::Cell::new(0);
    runner(768)
        .run(&hot_message(), |frame| {
            check_view(&frame);
            typed_count.set(typed_count.get() + usize::from(typed(&frame)));
            Ok(())
        })
        .unwrap();
    let typed_count = typed_count.get();
    // Only the Nicira and OF1.1 packet-ins, OF1.0/1.5/Nicira flow statistics and OF1.4+ port
    // statistics are `Other`.
    assert!(typed_count > 768 / 2, "only {typed_count} typed views");
}

#[test]
fn mutated_and_truncated_hot_messages_keep_the_contract() {
    let mutation = (hot_message(), vec((any::<usize>(), any::<u8>()), 0..4), any::<Option<usize>>(), any::<bool>());
    runner(2048)
        .run(&mutation, |(frame, edits, cut, fix_len)| {
            let mut b = frame.to_vec();
            for (at, byte) in edits {
                let at = at % b.len();
                b[at] = byte;
            }
            if let Some(cut) = cut {
                b.truncate(cut % (b.len() + 1));
            }
            if fix_len && b.len() >= 4 {
                let len = b.len() as u16;
                b[2..4].copy_from_slice(&len.to_be_bytes());
            }
            check_view(&b);
            Ok(())
        })
        .unwrap();
}

#[test]
fn every_test_vector_keeps_the_contract() {
    let vectors = common::all();
    assert!(vectors.len() > 200);
    let mut kinds = std::collections::BTreeSet::new();
    for v in &vectors {
        check_view(&v.bytes);
        if let Ok(view) = MsgView::parse(&v.bytes) {
            if !matches!(view.body(), BodyView::Other(_)) {
                kinds.insert(view.msg_type() as usize);
            }
        }
    }
    for t in
        [MsgType::PacketIn, MsgType::FlowMod, MsgType::EchoRequest, MsgType::FlowStatsReply, MsgType::PortStatsReply]
    {
        assert!(kinds.contains(&(t as usize)), "no vector parses as a typed {t:?} view");
    }
}

/// OXM TLVs of fields that share match members (VLAN, in_port, IP TOS, transport ports), carry
/// prerequisites or not, with exact, partial and all-zero masks and values in and out of range:
/// duplicates, masked-out entries and unmet prerequisites, the cases a match view must leave to
/// the owned decoder.
fn oxm_tlvs() -> impl Strategy<Value = Vec<u8>> {
    use ofp_proto::mf::MfId::*;
    let ids = vec![
        InPort, InPortOxm, PacketType, Metadata, Reg0, Reg1, Xreg0, EthType, VlanTci, VlanVid, VlanPcp, IpProto,
        IpDscp, IpEcn, Ipv4Dst, TcpSrc, UdpSrc, Icmpv4Type, TcpFlags, IpFrag, MplsTc,
    ];
    let entry = (prop::sample::select(ids), any::<bool>(), 0u8..4, any::<u128>(), any::<u128>());
    vec(entry, 0..6).prop_map(|entries| {
        let mut out = vec![];
        for (id, masked, kind, value, mask) in entries {
            let n = id.field().n_bytes;
            let ones = ofp_proto::mf::ones(n);
            let masked = masked && id.field().maskable;
            let mask = match kind {
                0 => 0,
                1 => mask & ones,
                _ => ones,
            };
            // Mostly values a field may hold (masked like OVS requires), sometimes anything.
            let value = if kind == 3 { value & ones } else { value & proto_b_gen::valid_bits(id) & mask };
            let h = proto_c_gen::field_header(id, 4, masked);
            let experimenter = h >> 48 == 0xffff;
            out.extend_from_slice(&h.to_be_bytes()[..if experimenter { 8 } else { 4 }]);
            out.extend_from_slice(&value.to_be_bytes()[16 - n..]);
            if masked {
                out.extend_from_slice(&mask.to_be_bytes()[16 - n..]);
            }
        }
        out
    })
}

/// An `ofp11_match_header` of type OXM around `tlvs`, padded to 8.
fn oxm_match_bytes(tlvs: &[u8]) -> Vec<u8> {
    let mut m = vec![0, 1];
    m.extend_from_slice(&(4 + tlvs.len() as u16).to_be_bytes());
    m.extend_from_slice(tlvs);
    m.resize(m.len().next_multiple_of(8), 0);
    m
}

fn frame(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![4, msg_type];
    f.extend_from_slice(&(8 + body.len() as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1]);
    f.extend_from_slice(body);
    f
}

#[test]
fn packet_in_and_flow_mod_matches_keep_the_contract() {
    runner(4096)
        .run(&(oxm_tlvs(), any::<[u8; 16]>(), 0u8..6), |(tlvs, fixed, command)| {
            // OF1.3 packet-in: loose match.
            let mut body = fixed.to_vec();
            body.extend_from_slice(&oxm_match_bytes(&tlvs));
            body.extend_from_slice(&[0, 0, 0xab, 0xcd]);
            check_view(&frame(10, &body));
            // OF1.3 flow mod: strict match, then one output.
            let mut body = vec![0; 40];
            body[17] = command;
            body[24..32].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
            body.extend_from_slice(&oxm_match_bytes(&tlvs));
            body.extend_from_slice(&[0, 4, 0, 24, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
            check_view(&frame(14, &body));
            Ok(())
        })
        .unwrap();
}

#[test]
fn views_read_fields_in_place() {
    let mut pin = ofp_proto::msg::PacketIn { reason: 1, table_id: 3, cookie: 9, total_len: 300, ..Default::default() };
    pin.data = Bytes::from_static(b"0123456789");
    pin.metadata.set_in_port(7);
    let frame = OfpMsg::new(4, 0x42, Message::PacketIn(pin)).to_bytes();
    let v = MsgView::parse(&frame).unwrap();
    let BodyView::PacketIn(p) = v.body() else { panic!("{v:?}") };
    assert_eq!((v.version(), v.xid(), v.raw()), (4, 0x42, Raw::Ofpt13PacketIn));
    assert_eq!((p.reason(), p.table_id(), p.cookie(), p.total_len(), p.in_port()), (1, 3, 9, 300, 7));
    assert_eq!(p.data(), b"0123456789");
    assert!(frame.as_ptr_range().contains(&p.data().as_ptr()));
    let fields: Vec<_> = p.metadata().unwrap().fields().map(|f| (f.id, f.value)).collect();
    assert_eq!(fields, [(ofp_proto::mf::MfId::InPortOxm, 7)]);
}

/// The instructions the views check in one step (one apply-actions of one output), in an OF1.3
/// flow mod and flow statistics reply, to every kind of port and with each byte of the shape
/// changed: the views judge them as the owned decoder does, and refuse a port it refuses with
/// its error.
#[test]
fn single_output_instructions_keep_the_contract() {
    let flow_mod = |ins: &[u8]| {
        let mut body = vec![0; 40];
        body[24..32].copy_from_slice(&[0xff; 8]);
        body.extend_from_slice(&oxm_match_bytes(&[]));
        body.extend_from_slice(ins);
        frame(14, &body)
    };
    let flow_stats = |ins: &[u8]| {
        let mut body = vec![0, 1, 0, 0, 0, 0, 0, 0];
        let mut entry = vec![0; 48];
        entry.extend_from_slice(&oxm_match_bytes(&[]));
        entry.extend_from_slice(ins);
        let len = entry.len() as u16;
        entry[..2].copy_from_slice(&len.to_be_bytes());
        body.extend_from_slice(&entry);
        frame(19, &body)
    };
    let ports = [
        0,
        1,
        port_no::MAX_PHYSICAL - 1,
        port_no::MAX_PHYSICAL,
        0xffff_ff00,
        port_no::MAX - 1,
        port_no::IN_PORT,
        port_no::TABLE,
        port_no::CONTROLLER,
        port_no::LOCAL,
        port_no::ANY,
    ];
    let mut typed_count = 0;
    for port in ports {
        let mut ins = vec![0, 4, 0, 24, 0, 0, 0, 0, 0, 0, 0, 16];
        ins.extend_from_slice(&port.to_be_bytes());
        ins.extend_from_slice(&[0xff, 0xe5, 0, 0, 0, 0, 0, 0]);
        let accepted = port < port_no::MAX_PHYSICAL
            || [port_no::IN_PORT, port_no::TABLE, port_no::CONTROLLER, port_no::LOCAL].contains(&port);
        match MsgView::parse(&flow_mod(&ins)) {
            Ok(v) => assert!(accepted && matches!(v.body(), BodyView::FlowMod(_)), "{port:#x}: {v:?}"),
            Err(e) => assert!(!accepted && e.error == ofp_proto::OfpErr::OFPBAC_BAD_OUT_PORT, "{port:#x}: {e:?}"),
        }
        for at in 0..ins.len() {
            for byte in [0, 1, 4, 16, 24, 0xff] {
                let mut ins = ins.clone();
                ins[at] = byte;
                for f in [flow_mod(&ins), flow_stats(&ins)] {
                    check_view(&f);
                    typed_count += usize::from(typed(&f));
                }
            }
        }
    }
    assert!(typed_count > 500, "{typed_count}");
}
