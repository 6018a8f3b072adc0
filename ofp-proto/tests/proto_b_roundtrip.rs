//! Property tests for the flow family: matches, actions, instructions and every flow-family
//! message in every version and wire form encode and decode back to the same value, decode and
//! re-encode to the same bytes, arbitrary bodies never panic, and `Match::matches` agrees with a
//! field-by-field reference.

mod proto_b_gen;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use ofp_proto::actions::{decode_actions, encode_actions};
use ofp_proto::flow::{self, EthAddr, Flow};
use ofp_proto::instructions::Instructions;
use ofp_proto::mf::{self, MfId};
use ofp_proto::ofmatch::{nxm, Match};
use ofp_proto::port_no;
use ofp_proto::{Message, OfpMsg, Raw};

use proto_b_gen::*;

proptest! {
    #[test]
    fn nxm_oxm_match_round_trip(m in oxm_match(), version in prop_oneof![Just(0u8), Just(3), Just(4), Just(5), Just(6)]) {
        let mut b = BytesMut::new();
        nxm::put_raw(&mut b, version, &m, 0, 0);
        let back = nxm::decode_raw(&b, true, false, None).unwrap();
        prop_assert_eq!(back, m);
        prop_assert!(back.check_prereqs().is_ok());
        let mut again = BytesMut::new();
        nxm::put_raw(&mut again, version, &back, 0, 0);
        prop_assert_eq!(again, b);
    }

    #[test]
    fn ofp10_match_round_trip(m in ofp10_match()) {
        let b = m.to_ofp10();
        let back = Match::from_ofp10(&b);
        prop_assert_eq!(back, m);
        prop_assert_eq!(back.to_ofp10(), b);
        let mut n = back;
        prop_assert!(!n.normalize());
    }

    #[test]
    fn ofp11_match_round_trip(m in ofp11_match()) {
        let b = m.to_ofp11();
        let back = Match::from_ofp11(&b).unwrap();
        prop_assert_eq!(back, m);
        prop_assert_eq!(back.to_ofp11(), b);
    }

    /// `matches` (whole-flow masking) agrees with comparing every field view one by one.
    #[test]
    fn matches_agrees_with_per_field_reference(m in oxm_match(), noise in any::<[u64; 8]>(), hit in any::<bool>()) {
        let mut pkt = Flow::default();
        let n = |i: usize| noise[i];
        pkt.tun_id = n(0);
        pkt.metadata = n(1);
        pkt.regs = std::array::from_fn(|i| (n(i % 8) >> (i % 4 * 8)) as u32);
        pkt.in_port = port_no::ofp10_to_ofp11(n(2) as u16);
        pkt.dl_src = EthAddr::from_u64(n(3));
        pkt.dl_dst = EthAddr::from_u64(n(4));
        pkt.dl_type = n(5) as u16;
        pkt.vlans[0].tci = (n(5) >> 16) as u16;
        pkt.nw_src = n(6) as u32;
        pkt.nw_dst = (n(6) >> 32) as u32;
        pkt.ipv6_src = u128::from(n(7)) << 64 | u128::from(n(0));
        pkt.nw_proto = n(7) as u8;
        pkt.nw_tos = (n(7) >> 8) as u8;
        pkt.nw_frag = (n(7) >> 16) as u8 & 3;
        pkt.tp_src = (n(7) >> 24) as u16;
        pkt.tp_dst = (n(7) >> 40) as u16;
        pkt.tcp_flags = (n(1) >> 3) as u16 & 0xfff;
        pkt.arp_sha = EthAddr::from_u64(n(2) >> 8);
        pkt.mpls_lse[0] = (n(3) >> 7) as u32;
        if hit {
            // Force every matched bit to the match's value.
            pkt = m.flow.or(&pkt.and(&Flow::all_ones().and(&invert(&m.mask))));
        }
        let reference = MfId::all().all(|id| {
            let (v, mask) = m.get(id);
            mf::get(id, &pkt) & mask == v & mask
        });
        prop_assert_eq!(m.matches(&pkt), reference);
        if hit {
            prop_assert!(m.matches(&pkt));
        }
    }
}

fn invert(f: &Flow) -> Flow {
    // A mask's complement, built member by member through the field table's widest views.
    let mut out = Flow::all_ones();
    out.tun_id = !f.tun_id;
    out.metadata = !f.metadata;
    out.regs = f.regs.map(|r| !r);
    out.pkt_mark = !f.pkt_mark;
    out.dp_hash = !f.dp_hash;
    out.in_port = !f.in_port;
    out.packet_type = !f.packet_type;
    out.dl_dst = EthAddr(f.dl_dst.0.map(|b| !b));
    out.dl_src = EthAddr(f.dl_src.0.map(|b| !b));
    out.dl_type = !f.dl_type;
    out.vlans = f.vlans.map(|v| flow::VlanHeader { tpid: !v.tpid, tci: !v.tci });
    out.mpls_lse = f.mpls_lse.map(|l| !l);
    out.nw_src = !f.nw_src;
    out.nw_dst = !f.nw_dst;
    out.ipv6_src = !f.ipv6_src;
    out.ipv6_dst = !f.ipv6_dst;
    out.ipv6_label = !f.ipv6_label;
    out.nw_frag = !f.nw_frag;
    out.nw_tos = !f.nw_tos;
    out.nw_ttl = !f.nw_ttl;
    out.nw_proto = !f.nw_proto;
    out.nd_target = !f.nd_target;
    out.arp_sha = EthAddr(f.arp_sha.0.map(|b| !b));
    out.arp_tha = EthAddr(f.arp_tha.0.map(|b| !b));
    out.tcp_flags = !f.tcp_flags;
    out.tp_src = !f.tp_src;
    out.tp_dst = !f.tp_dst;
    out
}

proptest! {
    #[test]
    fn actions_round_trip((v, acts) in version().prop_flat_map(|v| (Just(v), actions(v)))) {
        let mut b = BytesMut::new();
        encode_actions(&acts, v, &mut b);
        let b = b.freeze();
        let back = decode_actions(&b, v).unwrap();
        prop_assert_eq!(&back, &acts);
        let mut again = BytesMut::new();
        encode_actions(&back, v, &mut again);
        prop_assert_eq!(again.freeze(), b);
    }

    #[test]
    fn instructions_round_trip((v, ins) in version().prop_flat_map(|v| (Just(v), instructions(v)))) {
        let mut b = BytesMut::new();
        ins.encode(v, &mut b);
        let b = b.freeze();
        let back = Instructions::decode(&b, v).unwrap();
        prop_assert_eq!(&back, &ins);
        let mut again = BytesMut::new();
        back.encode(v, &mut again);
        prop_assert_eq!(again.freeze(), b);
    }
}

// ---------------------------------------------------------------- messages

/// Encodes `body` as `raw` in `version`, decodes it back to the same body, and re-encodes the
/// decoded message to the same bytes.
fn round_trip(version: u8, raw: Raw, body: Message) -> Result<(), TestCaseError> {
    let msg = OfpMsg::new(version, 0x1234, body).with_raw(raw);
    let bytes = msg.to_bytes();
    let back = OfpMsg::decode(&bytes).map_err(|e| TestCaseError::fail(format!("{raw:?} v{version}: {e:?}")))?;
    prop_assert_eq!(&back.body, &msg.body, "{:?} v{}", raw, version);
    prop_assert_eq!(back.to_bytes(), bytes);
    // And it prints without panicking.
    let _ = ofp_proto::print::ofp_to_string(&msg.to_bytes(), 3);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { max_global_rejects: 100_000, ..ProptestConfig::default() })]

    #[test]
    fn flow_mods_round_trip((raw, v, fm) in flow_mod()) {
        round_trip(v, raw, Message::FlowMod(fm))?;
    }

    #[test]
    fn packet_ins_round_trip((raw, v, m) in packet_in(true)) {
        round_trip(v, raw, m)?;
    }

    #[test]
    fn packet_outs_round_trip((raw, v, m) in packet_out()) {
        round_trip(v, raw, m)?;
    }

    #[test]
    fn flow_removeds_round_trip((raw, v, m) in flow_removed()) {
        round_trip(v, raw, m)?;
    }

    #[test]
    fn flow_stats_requests_round_trip((raw, v, m) in flow_stats_request()) {
        round_trip(v, raw, m)?;
    }

    #[test]
    fn flow_stats_replies_round_trip((raw, v, m) in flow_stats_reply()) {
        round_trip(v, raw, m)?;
    }

    #[test]
    fn aggregate_replies_round_trip((raw, v, m) in aggregate_reply()) {
        round_trip(v, raw, m)?;
    }

    /// Arbitrary bodies behind valid flow-family headers never panic the decoder or printer.
    #[test]
    fn arbitrary_bodies_never_panic(
        t in prop::sample::select(vec![
            ofp_proto::MsgType::FlowMod, ofp_proto::MsgType::PacketIn, ofp_proto::MsgType::PacketOut,
            ofp_proto::MsgType::FlowRemoved, ofp_proto::MsgType::FlowStatsRequest, ofp_proto::MsgType::FlowStatsReply,
            ofp_proto::MsgType::AggregateStatsRequest, ofp_proto::MsgType::AggregateStatsReply,
        ]),
        pick in any::<prop::sample::Index>(),
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let forms = all_forms(t);
        let (raw, v) = *pick.get(&forms);
        let info = raw.info();
        // Fit the body to the raw's length rule so the body decoder runs.
        let min = usize::from(info.min_body);
        let mut body = body;
        if body.len() < min {
            body.resize(min, 0);
        }
        match info.extra_multiple {
            0 => body.truncate(min),
            1 => {}
            m => {
                let m = usize::from(m);
                let extra = (body.len() - min) / m * m;
                body.truncate(min + extra);
            }
        }
        let mut b = BytesMut::new();
        let start = raw.put_headers(v, 1, 0, &mut b);
        b.extend_from_slice(&body);
        ofp_proto::raw::finish_msg(&mut b, start);
        let frame = b.freeze();
        if let Ok(msg) = OfpMsg::decode(&frame) {
            // Whatever decodes re-encodes to a message that decodes, and whose encoding is then a
            // fixed point (the first re-encoding may normalize, e.g. map reasons per version).
            let b1 = msg.to_bytes();
            let m2 = OfpMsg::decode(&b1).unwrap();
            prop_assert_eq!(m2.to_bytes(), b1);
        }
        let _ = ofp_proto::print::ofp_to_string(&frame, 3);
    }

    /// Valid flow mods and packet-outs with a few bytes overwritten (deeper than random bodies:
    /// the match, instruction and action decoders all run) never panic, and what still decodes
    /// re-encodes to a fixed point.
    #[test]
    fn mutated_messages_never_panic(
        (raw, v, fm) in flow_mod(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..5),
    ) {
        let mut b = OfpMsg::new(v, 1, Message::FlowMod(fm)).with_raw(raw).to_bytes().to_vec();
        for (at, byte) in edits {
            // Keep the OpenFlow header intact so the body decoder is reached.
            let i = 8 + at.index(b.len() - 8);
            b[i] = byte;
        }
        let frame = Bytes::from(b);
        if let Ok(msg) = OfpMsg::decode(&frame) {
            let b1 = msg.to_bytes();
            let m2 = OfpMsg::decode(&b1).unwrap();
            prop_assert_eq!(m2.to_bytes(), b1);
        }
        let _ = ofp_proto::print::ofp_to_string(&frame, 3);
    }

    /// Flow extraction and packet text never panic, on plausible frames or on any bytes, and a
    /// packet's exact-match flow matches the packet.
    #[test]
    fn flow_extract_never_panics(pkt in prop_oneof![packet(), proptest::collection::vec(any::<u8>(), 0..120)], in_port in any::<u32>()) {
        let f = Flow::extract(&pkt, in_port);
        prop_assert_eq!(f.in_port, in_port);
        let _ = flow::packet_to_string(&pkt, 0);
        let exact = Match { flow: f, mask: Flow::all_ones() };
        prop_assert!(exact.matches(&f));
    }
}
