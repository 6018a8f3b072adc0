//! Proptest strategies for the flow family, shared by the round-trip and interop tests.
//! Every strategy yields values that are canonical for their version and wire form, so that
//! encoding and decoding gives back the same value.

#![allow(dead_code)]

use bytes::Bytes;
use proptest::prelude::*;

use ofp_proto::actions::{check_instructions, Action, ActionList, CheckParams, Controller, SetField, SetFieldRaw};
use ofp_proto::flow::{self, EthAddr};
use ofp_proto::instructions::Instructions;
use ofp_proto::mf::{self, MfId};
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand, FlowModFlags, OFPG_ANY};
use ofp_proto::msg::flow_removed::FlowRemoved;
use ofp_proto::msg::flow_stats::{AggregateStats, FlowStats, FlowStatsReply, FlowStatsRequest};
use ofp_proto::msg::packet_in::{Continuation, ContinuationActions, PacketIn};
use ofp_proto::msg::packet_out::PacketOut;
use ofp_proto::ofmatch::Match;
use ofp_proto::port_no;
use ofp_proto::{Message, Raw};

// ---------------------------------------------------------------- fields and matches

/// Bits a field's value may have (OVS `mf_is_value_valid`).
pub fn valid_bits(id: MfId) -> u128 {
    match id {
        MfId::IpDscpShifted => 0x3f,
        MfId::IpEcn | MfId::IpFrag => 3,
        MfId::TcpFlags => 0xfff,
        MfId::ArpOp => 0xff,
        MfId::VlanPcp | MfId::MplsTc => 7,
        MfId::MplsBos => 1,
        MfId::Ipv6Label | MfId::MplsLabel => 0xf_ffff,
        _ => mf::ones(id.field().n_bytes),
    }
}

/// A (field, value, mask) entry: exact, or masked where the field allows.
pub fn entry(id: MfId) -> BoxedStrategy<(MfId, u128, u128)> {
    let ones = mf::ones(id.field().n_bytes);
    let bits = valid_bits(id);
    let mask = if id == MfId::IpFrag {
        (1u128..=3).boxed()
    } else if id.field().maskable {
        prop_oneof![Just(ones), any::<u128>().prop_map(move |m| m & ones)].boxed()
    } else {
        Just(ones).boxed()
    };
    (any::<u128>(), mask).prop_map(move |(v, m)| (id, v & bits & m, m)).boxed()
}

pub fn opt_entry(id: MfId) -> impl Strategy<Value = Option<(MfId, u128, u128)>> {
    proptest::option::of(entry(id))
}

/// Entries for a network layer that NXM/OXM can carry, prerequisites included in order.
pub fn l3_entries() -> BoxedStrategy<Vec<(MfId, u128, u128)>> {
    use MfId::*;
    let exact = |id: MfId, v: u16| Just(vec![(id, u128::from(v), mf::ones(id.field().n_bytes))]);
    let opts = |ids: Vec<MfId>| {
        ids.into_iter().map(opt_entry).collect::<Vec<_>>().prop_map(|v| v.into_iter().flatten().collect::<Vec<_>>())
    };
    let ip_common = || opts(vec![IpDscpShifted, IpEcn, IpTtl, IpFrag]);
    let l4 = |v6: bool| {
        let (icmp, t, c) = if v6 { (58u8, Icmpv6Type, Icmpv6Code) } else { (1u8, Icmpv4Type, Icmpv4Code) };
        prop_oneof![
            Just(vec![]),
            (0u8..=255).prop_map(|p| vec![(IpProto, u128::from(p), 0xff)]),
            opts(vec![TcpSrc, TcpDst, TcpFlags]).prop_map(|mut v| {
                v.insert(0, (IpProto, 6, 0xff));
                v
            }),
            opts(vec![UdpSrc, UdpDst]).prop_map(|mut v| {
                v.insert(0, (IpProto, 17, 0xff));
                v
            }),
            opts(vec![SctpSrc, SctpDst]).prop_map(|mut v| {
                v.insert(0, (IpProto, 132, 0xff));
                v
            }),
            opts(vec![t, c]).prop_map(move |mut v| {
                v.insert(0, (IpProto, u128::from(icmp), 0xff));
                v
            }),
        ]
    };
    let nd = (prop_oneof![Just(135u16), Just(136u16)], opt_entry(NdTarget), opt_entry(NdSll), opt_entry(NdTll))
        .prop_map(|(t, target, sll, tll)| {
            let mut v = vec![(IpProto, 58, 0xff), (Icmpv6Type, u128::from(t), 0xff)];
            v.extend(target);
            v.extend(if t == 135 { sll } else { tll });
            v
        });
    prop_oneof![
        Just(vec![]),
        (0x600u16..=0xffff)
            .prop_filter("not a modelled L3", |t| ![0x0800, 0x86dd, 0x0806, 0x8035, 0x8847, 0x8848].contains(t))
            .prop_map(|t| vec![(EthType, u128::from(t), 0xffff)]),
        (exact(EthType, 0x0800), opts(vec![Ipv4Src, Ipv4Dst]), ip_common(), l4(false)).prop_map(|(a, b, c, d)| {
            // No transport fields in later fragments.
            let later = c.iter().any(|&(id, v, _)| id == IpFrag && v & 2 != 0);
            let d = if later { vec![] } else { d };
            [a, b, c, d].concat()
        }),
        (exact(EthType, 0x86dd), opts(vec![Ipv6Src, Ipv6Dst, Ipv6Label]), ip_common(), prop_oneof![l4(true), nd])
            .prop_map(|(a, b, c, d)| {
                let later = c.iter().any(|&(id, v, _)| id == IpFrag && v & 2 != 0);
                let d = if later { vec![] } else { d };
                [a, b, c, d].concat()
            }),
        (
            prop_oneof![exact(EthType, 0x0806), exact(EthType, 0x8035)],
            opts(vec![ArpOp, ArpSpa, ArpTpa, ArpSha, ArpTha])
        )
            .prop_map(|(a, b)| [a, b].concat()),
        (prop_oneof![exact(EthType, 0x8847), exact(EthType, 0x8848)], opts(vec![MplsLabel, MplsTc, MplsBos, MplsTtl]))
            .prop_map(|(a, b)| [a, b].concat()),
    ]
    .boxed()
}

pub fn build(entries: impl IntoIterator<Item = (MfId, u128, u128)>) -> Match {
    let mut m = Match::catchall();
    for (id, v, mask) in entries {
        assert!(m.set(id, v, mask), "{id:?}");
        if id.field().prereqs != mf::Prereq::None {
            m.set_default_packet_type();
        }
    }
    m
}

/// Pipeline fields only (packet-in/out metadata).
pub fn pipeline_match() -> impl Strategy<Value = Match> {
    use MfId::*;
    let ids = vec![InPort, Metadata, TunId, Reg0, Reg3, Reg8, Reg15];
    ids.into_iter().map(opt_entry).collect::<Vec<_>>().prop_map(|v| build(v.into_iter().flatten()))
}

/// A canonical match NXM and OXM can carry, with prerequisites met.
pub fn oxm_match() -> impl Strategy<Value = Match> {
    use MfId::*;
    let meta = vec![InPort, Metadata, TunId, PktMark, DpHash, Reg0, Reg1, Reg7, Reg14];
    let meta = meta.into_iter().map(opt_entry).collect::<Vec<_>>();
    let l2 = vec![EthSrc, EthDst, VlanVid, VlanPcp].into_iter().map(opt_entry).collect::<Vec<_>>();
    (meta, l2, l3_entries()).prop_map(|(meta, l2, l3)| {
        let mut all: Vec<_> = meta.into_iter().flatten().collect();
        all.extend(l2.into_iter().flatten());
        all.extend(l3);
        build(all)
    })
}

pub fn mac() -> impl Strategy<Value = EthAddr> {
    any::<[u8; 6]>().prop_map(EthAddr)
}

/// What an OF1.0 match (as OF1.0 flow mods normalize it) can say.
pub fn ofp10_match() -> impl Strategy<Value = Match> {
    let vlan = prop_oneof![
        Just(None),
        Just(Some((None, None))),
        (0u16..4096, proptest::option::of(0u8..8)).prop_map(|(v, p)| Some((Some(v), p))),
        (0u8..8).prop_map(|p| Some((None, Some(p)))),
    ];
    let l3 = prop_oneof![
        Just(None),
        any::<u16>().prop_map(|t| Some((t, None, None, None, None))),
        (
            proptest::option::of(0u8..64),
            proptest::option::of(prop_oneof![Just(6u8), Just(17), Just(132), Just(1), any::<u8>()]),
            proptest::option::of((any::<u32>(), 0u32..=32)),
            proptest::option::of((any::<u32>(), 0u32..=32)),
            proptest::option::of((any::<u16>(), any::<u16>())),
        )
            .prop_map(|(tos, proto, src, dst, tp)| Some((0x0800, tos, proto, Some((src, dst)), tp))),
        (
            proptest::option::of(any::<u8>()),
            proptest::option::of((any::<u32>(), 0u32..=32)),
            proptest::option::of((any::<u32>(), 0u32..=32))
        )
            .prop_map(|(op, src, dst)| Some((0x0806, None, op, Some((src, dst)), None))),
    ];
    (proptest::option::of(any_port()), proptest::option::of(mac()), proptest::option::of(mac()), vlan, l3).prop_map(
        |(in_port, src, dst, vlan, l3)| {
            let mut m = Match::catchall();
            let mut data = false;
            if let Some(p) = in_port {
                m.set_in_port(p);
            }
            if let Some(a) = src {
                m.set_dl_src_masked(a, EthAddr::ONES);
                data = true;
            }
            if let Some(a) = dst {
                m.set_dl_dst_masked(a, EthAddr::ONES);
                data = true;
            }
            match vlan {
                None => {}
                Some((None, None)) => m.set_dl_tci_masked(0, 0xffff),
                Some((vid, pcp)) => {
                    if let Some(v) = vid {
                        m.set_vlan_vid_masked(0x1000 | v, 0x1fff);
                    }
                    if let Some(p) = pcp {
                        m.set_vlan_pcp(p);
                    }
                }
            }
            data |= vlan.is_some();
            let cidr = |bits: u32| if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            if let Some((t, tos, proto, nw, tp)) = l3 {
                m.set_dl_type(t);
                data = true;
                if let Some(tos) = tos {
                    m.mask.nw_tos = flow::IP_DSCP_MASK;
                    m.flow.nw_tos = tos << 2;
                }
                if let Some(p) = proto {
                    m.set_nw_proto(p);
                }
                if let Some((src, dst)) = nw {
                    if let Some((ip, bits)) = src {
                        m.set_nw_src_masked(ip, cidr(bits));
                    }
                    if let Some((ip, bits)) = dst {
                        m.set_nw_dst_masked(ip, cidr(bits));
                    }
                }
                if let (Some((s, d)), Some(p)) = (tp, proto) {
                    if matches!(p, 6 | 17 | 132 | 1) {
                        m.set_tp_src_masked(s, u16::MAX);
                        m.set_tp_dst_masked(d, u16::MAX);
                    }
                }
            }
            data |= m.mask.nw_src != 0 || m.mask.nw_dst != 0;
            if data {
                m.set_default_packet_type();
            }
            m
        },
    )
}

/// What an OF1.1 standard match can say.
pub fn ofp11_match() -> impl Strategy<Value = Match> {
    (
        proptest::option::of(any_port()),
        proptest::option::of((mac(), mac(), mac(), mac())),
        prop_oneof![Just(0u8), Just(1), Just(2), Just(3)],
        (0u16..4096, proptest::option::of(0u8..8)),
        proptest::option::of(prop_oneof![Just(0x0800u16), Just(0x0806), Just(0x8847), any::<u16>()]),
        (proptest::option::of(0u8..64), proptest::option::of(prop_oneof![Just(6u8), Just(1), any::<u8>()])),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
        (proptest::option::of(any::<u16>()), proptest::option::of(0u32..0x10_0000), proptest::option::of(0u8..8)),
        (any::<u64>(), any::<u64>()),
    )
        .prop_map(|(in_port, dl, vlan_kind, (vid, pcp), dl_type, (tos, proto), nw, (tp, label, tc), md)| {
            let mut m = Match::catchall();
            if let Some(p) = in_port {
                m.set_in_port(p);
            }
            if let Some((s, sm, d, dm)) = dl {
                if !sm.is_zero() || !dm.is_zero() {
                    m.set_dl_src_masked(s, sm);
                    m.set_dl_dst_masked(d, dm);
                    m.set_default_packet_type();
                }
            }
            match vlan_kind {
                1 => m.set_dl_tci_masked(0, 0xffff),
                2 => m.set_dl_tci_masked(0x1000, 0x1000),
                3 => m.set_dl_tci_masked(0x1000 | vid, 0x1fff),
                _ => {}
            }
            if vlan_kind >= 2 {
                if let Some(p) = pcp {
                    m.flow.vlans[0].tci |= u16::from(p) << 13;
                    m.mask.vlans[0].tci |= flow::VLAN_PCP_MASK;
                }
            }
            if vlan_kind != 0 {
                m.set_default_packet_type();
            }
            if let Some(t) = dl_type {
                m.set_dl_type(t);
                m.set_default_packet_type();
                let (ip, arp) = (t == 0x0800, t == 0x0806);
                if ip {
                    if let Some(tos) = tos {
                        m.mask.nw_tos = flow::IP_DSCP_MASK;
                        m.flow.nw_tos = tos << 2;
                    }
                }
                if ip || arp {
                    if let Some(p) = proto {
                        m.set_nw_proto(p);
                    }
                    m.set_nw_src_masked(nw.0, nw.1);
                    m.set_nw_dst_masked(nw.2, nw.3);
                }
                if ip && m.mask.nw_proto != 0 {
                    if let Some(port) = tp {
                        match m.flow.nw_proto {
                            6 | 17 | 132 => m.set_tp_src_masked(port, u16::MAX),
                            1 => m.set_tp_src_masked(port & 0xff, u16::MAX),
                            _ => {}
                        }
                    }
                }
                if flow::eth_type_mpls(t) {
                    if let Some(l) = label {
                        m.set_exact(MfId::MplsLabel, l.into());
                    }
                    if let Some(tc) = tc {
                        m.set_exact(MfId::MplsTc, tc.into());
                    }
                }
            }
            m.set_metadata_masked(md.0, md.1);
            m
        })
}

// ---------------------------------------------------------------- actions and instructions

/// Any port number every version can carry: OF1.0's numbers in the OF1.1+ space.
pub fn any_port() -> impl Strategy<Value = u32> {
    any::<u16>().prop_map(port_no::ofp10_to_ofp11)
}

/// Valid output ports: switch ports and reserved ports other than NONE.
pub fn out_port() -> impl Strategy<Value = u32> {
    prop_oneof![
        0..port_no::MAX_PHYSICAL,
        prop::sample::select(vec![
            port_no::IN_PORT,
            port_no::TABLE,
            port_no::NORMAL,
            port_no::FLOOD,
            port_no::ALL,
            port_no::CONTROLLER,
            port_no::LOCAL
        ])
    ]
}

pub fn controller() -> impl Strategy<Value = Controller> {
    (
        any::<u16>(),
        any::<u16>(),
        0u8..=7,
        proptest::collection::vec(any::<u8>(), 0..6),
        any::<bool>(),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(max_len, controller_id, reason, userdata, pause, meter_id, v2)| {
            let userdata = Bytes::from(userdata);
            // Only the Nicira v2 form carries these.
            let v2 = v2 || pause || meter_id != 0 || !userdata.is_empty();
            Controller { max_len, controller_id, reason, userdata, pause, meter_id, v2 }
        })
}

/// Writable fields a set-field may name, and values valid for it.
pub fn set_field(version: u8) -> BoxedStrategy<Action> {
    use MfId::*;
    let ids = vec![
        TunId,
        Metadata,
        InPort,
        PktMark,
        Reg0,
        Reg5,
        Xreg1,
        EthSrc,
        EthDst,
        VlanTci,
        VlanVid,
        VlanPcp,
        MplsLabel,
        MplsTc,
        MplsTtl,
        Ipv4Src,
        Ipv4Dst,
        Ipv6Src,
        Ipv6Dst,
        Ipv6Label,
        IpDscp,
        IpDscpShifted,
        IpEcn,
        IpTtl,
        ArpOp,
        ArpSpa,
        ArpTpa,
        ArpSha,
        ArpTha,
        TcpSrc,
        TcpDst,
        UdpSrc,
        UdpDst,
        SctpSrc,
        SctpDst,
        Icmpv4Type,
        Icmpv4Code,
        Icmpv6Type,
        Icmpv6Code,
        NdTarget,
        NdSll,
        NdTll,
    ];
    (prop::sample::select(ids), any::<u128>(), any::<u128>(), 0u8..3, any::<u32>(), 1u32..=64)
        .prop_filter_map("no form in this version", move |(id, v, m, kind, ofs, n)| {
            let f = id.field();
            let ones = mf::ones(f.n_bytes);
            let mut v = v & valid_bits(id);
            if id == IpDscp {
                v &= 0xfc;
            }
            if id == VlanVid {
                v = (v & 0xfff) | 0x1000;
            }
            let sf = |value, mask, raw| {
                Some(Action::SetField(SetField { field: id, value, mask, raw, flow_has_vlan: false }))
            };
            match kind {
                // OFPAT_SET_FIELD: whole fields before OF1.5, masks allowed in OF1.5.
                0 if version >= 3 => {
                    // A vlan_vid set-field must set the present bit.
                    let present = if id == VlanVid { 0x1000 } else { 0 };
                    let mask = if version >= 6 { m & ones | 1 | present } else { ones };
                    sf(v & mask, mask, SetFieldRaw::SetField)
                }
                // NXAST_REG_LOAD: one contiguous run of bits.
                1 if version <= 5 => {
                    let n = n.min(f.n_bits);
                    let ofs = ofs % (f.n_bits - n + 1);
                    let bits = if n == 128 { u128::MAX } else { (1u128 << n) - 1 } << ofs;
                    sf(v & bits, bits, SetFieldRaw::RegLoad)
                }
                // NXAST_REG_LOAD2: any nonempty mask.
                2 if version <= 5 => {
                    let mask = m & ones | 1;
                    sf(v & mask, mask, SetFieldRaw::RegLoad2)
                }
                _ => None,
            }
        })
        .boxed()
}

/// Actions that come back identical from `version`'s encoding.
pub fn action(version: u8) -> BoxedStrategy<Action> {
    let mut s: Vec<BoxedStrategy<Action>> = vec![
        (out_port(), any::<u16>()).prop_map(|(port, max_len)| Action::Output { port, max_len }).boxed(),
        any::<u32>().prop_map(Action::Group).boxed(),
        controller().prop_map(Action::Controller).boxed(),
        (out_port(), 14u32..).prop_map(|(port, max_len)| Action::OutputTrunc { port, max_len }).boxed(),
        Just(Action::StripVlan { pop_vlan: version > 1 }).boxed(),
        any::<u32>().prop_map(Action::SetQueue).boxed(),
        Just(Action::PopQueue).boxed(),
        (any_port(), any::<u8>(), any::<bool>())
            .prop_map(|(in_port, table_id, ct)| Action::Resubmit { in_port, table_id, with_ct_orig: ct, plain: false })
            .boxed(),
        any_port()
            .prop_map(|in_port| Action::Resubmit { in_port, table_id: 255, with_ct_orig: false, plain: true })
            .boxed(),
        // Notes whose length needs no padding come back unchanged.
        (0usize..4)
            .prop_flat_map(|k| proptest::collection::vec(any::<u8>(), 6 + 8 * k))
            .prop_map(|n| Action::Note(Bytes::from(n)))
            .boxed(),
        Just(Action::Exit).boxed(),
        Just(Action::CtClear).boxed(),
        proptest::collection::vec(any::<u16>(), 0..5)
            .prop_map(|ids| Action::DecTtl { cnt_ids: ids.into_iter().collect(), cnt_ids_form: true })
            .boxed(),
        Just(Action::DecTtl { cnt_ids: smallvec::smallvec![0], cnt_ids_form: false }).boxed(),
    ];
    if version <= 2 {
        // In OF1.2+ a checked mod_tp_src/dst is sent as set_field and comes back as one (as OVS).
        s.push(
            (any::<u16>(), any::<bool>())
                .prop_map(|(port, src)| {
                    if src {
                        Action::SetL4SrcPort { port, flow_ip_proto: 0 }
                    } else {
                        Action::SetL4DstPort { port, flow_ip_proto: 0 }
                    }
                })
                .boxed(),
        );
    }
    if version == 1 {
        let port = prop_oneof![0..port_no::MAX_PHYSICAL, Just(port_no::IN_PORT), Just(port_no::LOCAL)];
        s.push((port, any::<u32>()).prop_map(|(port, queue)| Action::Enqueue { port, queue }).boxed());
    }
    if version <= 2 {
        let push = version == 1;
        s.push(
            (0u16..4096)
                .prop_map(move |vid| Action::SetVlanVid { vid, push_vlan_if_needed: push, flow_has_vlan: false })
                .boxed(),
        );
        s.push(
            (0u8..8)
                .prop_map(move |pcp| Action::SetVlanPcp { pcp, push_vlan_if_needed: push, flow_has_vlan: false })
                .boxed(),
        );
        s.push(mac().prop_map(Action::SetEthSrc).boxed());
        s.push(mac().prop_map(Action::SetEthDst).boxed());
        s.push(any::<u32>().prop_map(Action::SetIpv4Src).boxed());
        s.push(any::<u32>().prop_map(Action::SetIpv4Dst).boxed());
        s.push((0u8..64).prop_map(|d| Action::SetIpDscp(d << 2)).boxed());
        s.push(
            (any::<u64>(), any::<bool>())
                .prop_map(|(t, wide)| {
                    let tun64 = wide || t > u64::from(u32::MAX);
                    Action::SetTunnel { tun_id: t, tun64 }
                })
                .boxed(),
        );
    }
    if version >= 2 {
        s.push(prop_oneof![Just(0x8100u16), Just(0x88a8)].prop_map(|ethertype| Action::PushVlan { ethertype }).boxed());
        s.push(any::<u8>().prop_map(Action::SetIpTtl).boxed());
    }
    if version == 2 {
        s.push((0u8..4).prop_map(Action::SetIpEcn).boxed());
    }
    if version == 6 {
        s.push(any::<u32>().prop_map(Action::Meter).boxed());
    }
    s.push(set_field(version));
    prop::strategy::Union::new(s).boxed()
}

pub fn actions(version: u8) -> impl Strategy<Value = ActionList> {
    proptest::collection::vec(action(version), 0..6).prop_map(ActionList::from_vec)
}

pub fn set_actions(version: u8) -> impl Strategy<Value = ActionList> {
    proptest::collection::vec(action(version).prop_filter("action set", |a| a.allowed_in_action_set()), 0..4)
        .prop_map(ActionList::from_vec)
}

pub fn instructions(version: u8) -> impl Strategy<Value = Instructions> {
    (
        proptest::option::of(1u32..=0xffff_0000),
        actions(version),
        any::<bool>(),
        proptest::option::of(set_actions(version)),
        proptest::option::of((any::<u64>(), any::<u64>())),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(move |(meter, apply, clear, write, md, goto)| {
            let of11 = version >= 2;
            Instructions {
                meter: meter.filter(|_| version == 4 || version == 5),
                apply,
                clear_actions: clear && of11,
                write_actions: write.filter(|_| of11),
                write_metadata: md,
                // OF1.0 has no goto-table (it comes back as resubmit).
                goto_table: goto.filter(|_| of11),
            }
        })
}

pub fn version() -> impl Strategy<Value = u8> {
    1u8..=6
}

// ---------------------------------------------------------------- messages

/// Every wire form of message type `t`, with each version it exists in.
pub fn all_forms(t: ofp_proto::MsgType) -> Vec<(Raw, u8)> {
    let mut raws: Vec<Raw> = (1u8..=6).flat_map(|ver| Raw::candidates(t, ver)).collect();
    raws.sort();
    raws.dedup();
    raws.into_iter().flat_map(|r| (1u8..=6).filter(move |&v| r.supports_version(v)).map(move |v| (r, v))).collect()
}

pub fn forms(t: ofp_proto::MsgType) -> impl Strategy<Value = (Raw, u8)> {
    prop::sample::select(all_forms(t))
}

pub fn match_for(raw: Raw, version: u8) -> BoxedStrategy<Match> {
    match raw {
        Raw::Ofpt10FlowMod
        | Raw::Ofpt10FlowRemoved
        | Raw::Ofpst10FlowRequest
        | Raw::Ofpst10AggregateRequest
        | Raw::Ofpst10FlowReply => ofp10_match().boxed(),
        _ if version == 2
            && !matches!(
                raw,
                Raw::NxtFlowMod
                    | Raw::NxtFlowRemoved
                    | Raw::NxstFlowRequest
                    | Raw::NxstAggregateRequest
                    | Raw::NxstFlowReply
                    | Raw::Ofpst11FlowReply
            ) =>
        {
            ofp11_match().boxed()
        }
        _ => oxm_match().boxed(),
    }
}

pub fn flags(version: u8) -> impl Strategy<Value = FlowModFlags> {
    any::<u16>().prop_map(move |bits| {
        let mut allowed = FlowModFlags::SEND_FLOW_REM | FlowModFlags::CHECK_OVERLAP;
        if version >= 3 {
            allowed |= FlowModFlags::RESET_COUNTS;
        }
        if version >= 4 {
            allowed |= FlowModFlags::NO_PKT_COUNTS | FlowModFlags::NO_BYT_COUNTS;
        }
        FlowModFlags(bits & allowed)
    })
}

pub fn flow_mod() -> impl Strategy<Value = (Raw, u8, FlowMod)> {
    forms(ofp_proto::MsgType::FlowMod).prop_flat_map(|(raw, v)| {
        (
            Just((raw, v)),
            match_for(raw, v),
            instructions(v),
            (0u8..=4, any::<u8>(), any::<u64>(), any::<u64>(), any::<u64>()),
            (any::<u16>(), any::<u16>(), any::<u16>(), any::<u32>(), any_port(), any::<u32>(), any::<u16>()),
            flags(v),
        )
            .prop_filter_map(
                "consistent flow mod",
                |((raw, v), m, ins, (cmd, table, cookie, mask, new_cookie), nums, flags)| {
                    let (idle, hard, priority, buffer_id, out_port, out_group, importance) = nums;
                    let command = FlowModCommand::from_wire(cmd.into())?;
                    let add = command == FlowModCommand::Add;
                    let mut fm = FlowMod {
                        command,
                        match_: m,
                        instructions: ins,
                        idle_timeout: idle,
                        hard_timeout: hard,
                        priority,
                        buffer_id,
                        out_port,
                        flags,
                        table_id: table,
                        ..FlowMod::default()
                    };
                    if raw == Raw::Ofpt11FlowMod {
                        let keep_new = add || (v == 2 && command.is_modify() && mask == 0);
                        if keep_new {
                            fm.new_cookie = new_cookie;
                        } else {
                            (fm.cookie, fm.cookie_mask, fm.new_cookie) = (cookie & mask, mask, u64::MAX);
                        }
                        if table == 255 && (v == 2 || !command.is_delete()) {
                            fm.table_id = 0;
                        }
                        fm.out_group = if command.is_delete() { out_group } else { OFPG_ANY };
                        fm.importance = if v >= 5 && add { importance } else { 0 };
                    } else {
                        fm.new_cookie = new_cookie;
                        fm.modify_cookie = new_cookie != u64::MAX;
                        if raw == Raw::NxtFlowMod && !add {
                            (fm.cookie, fm.cookie_mask) = (cookie & mask, mask);
                        }
                        if raw == Raw::Ofpt10FlowMod && fm.match_.to_ofp10()[..4] == [0; 4] {
                            // OF1.0 exact-match flows have the highest priority.
                            fm.priority = u16::MAX;
                        }
                    }
                    if (v == 1 || v == 2) && add {
                        fm.flags.0 |= FlowModFlags::RESET_COUNTS;
                    }
                    let cp = CheckParams { table_id: fm.table_id, ..CheckParams::default() };
                    check_instructions(&mut fm.instructions, &fm.match_, v, &cp).ok()?;
                    Some((raw, v, fm))
                },
            )
    })
}

pub fn flow_mod_msg() -> impl Strategy<Value = (Raw, u8, Message)> {
    flow_mod().prop_map(|(raw, v, fm)| (raw, v, Message::FlowMod(fm)))
}

/// A continuation that `version` carries unchanged (never an empty one: that is left out).
pub fn continuation(version: u8) -> impl Strategy<Value = Continuation> {
    (
        prop_oneof![Just([0u8; 16]), any::<[u8; 16]>()],
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..=20).prop_map(Bytes::from), 0..3),
        (prop_oneof![Just(0u32), any::<u32>()], any::<bool>(), prop_oneof![Just(0u32), any::<u32>()]),
        proptest::collection::vec((any::<u8>(), prop_oneof![Just(0u64), any::<u64>()], actions(version)), 0..3),
        actions(version),
    )
        .prop_map(|(bridge, stack, (mirrors, conntracked, odp_port), groups, action_set)| Continuation {
            bridge,
            stack,
            mirrors,
            conntracked,
            actions: groups
                .into_iter()
                .map(|(table_id, cookie, actions)| ContinuationActions { table_id, cookie, actions })
                .collect(),
            action_set,
            odp_port,
        })
        .prop_filter("says something", |c| *c != Continuation::default())
}

/// `continuation`: whether NXT_PACKET_IN2 messages may carry a continuation.
pub fn packet_in(continuation: bool) -> impl Strategy<Value = (Raw, u8, Message)> {
    (
        forms(ofp_proto::MsgType::PacketIn)
            .prop_flat_map(|(r, v)| (Just((r, v)), proptest::option::of(self::continuation(v)))),
        pipeline_match(),
        (0u8..=5, any::<u8>(), any::<u64>(), any::<u32>(), any::<u32>()),
        proptest::collection::vec(any::<u8>(), 1..80),
        proptest::collection::vec(any::<u8>(), 0..9),
    )
        .prop_map(move |(((raw, v), cont), md, (reason, table_id, cookie, total, buffer_id), data, userdata)| {
            let in2 = raw == Raw::NxtPacketIn2;
            let mut p = PacketIn {
                reason: if v >= 5 { reason } else { reason % 3 },
                buffer_id,
                data: Bytes::from(data),
                ..PacketIn::default()
            };
            p.total_len = if in2 { (p.data.len() as u32).max(total) } else { total & 0xffff };
            match raw {
                Raw::Ofpt10PacketIn | Raw::Ofpt11PacketIn => p.metadata.set_in_port(md.flow.in_port),
                _ => p.metadata = md,
            }
            if raw != Raw::Ofpt10PacketIn {
                p.table_id = table_id;
            }
            if matches!(raw, Raw::Ofpt13PacketIn | Raw::NxtPacketIn | Raw::NxtPacketIn2) {
                p.cookie = cookie;
            }
            if in2 {
                p.userdata = Bytes::from(userdata);
                if continuation {
                    p.continuation = cont.map(Box::new);
                }
            }
            (raw, v, Message::PacketIn(p))
        })
}

pub fn packet_out() -> impl Strategy<Value = (Raw, u8, Message)> {
    (
        forms(ofp_proto::MsgType::PacketOut).prop_flat_map(|(r, v)| (Just(r), Just(v), actions(v))),
        pipeline_match(),
        prop_oneof![0..port_no::MAX_PHYSICAL, Just(port_no::LOCAL), Just(port_no::ANY), Just(port_no::CONTROLLER)],
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|((raw, v, acts), md, in_port, buffered, data)| {
            let mut po = PacketOut::new(in_port, acts, if buffered { Bytes::new() } else { Bytes::from(data) });
            if buffered {
                po.buffer_id = 7;
            }
            if raw == Raw::Ofpt15PacketOut {
                po.metadata = md;
                po.metadata.set_in_port(in_port);
            }
            (raw, v, Message::PacketOut(po))
        })
}

pub fn flow_removed() -> impl Strategy<Value = (Raw, u8, Message)> {
    (
        forms(ofp_proto::MsgType::FlowRemoved).prop_flat_map(|(r, v)| (Just((r, v)), match_for(r, v))),
        (any::<u16>(), any::<u64>(), 0u8..=5, any::<u8>()),
        (0u32..u32::MAX, any::<u32>(), any::<u16>(), any::<u16>(), any::<u64>(), any::<u64>()),
    )
        .prop_map(
            |(((raw, v), m), (priority, cookie, reason, table_id), (sec, nsec, idle, hard, packets, bytes))| {
                let mut fr = FlowRemoved {
                    match_: m,
                    priority,
                    cookie,
                    reason: if v >= 5 { reason } else { reason % 4 },
                    table_id,
                    duration_sec: sec,
                    duration_nsec: nsec,
                    idle_timeout: idle,
                    hard_timeout: hard,
                    packet_count: packets,
                    byte_count: bytes,
                };
                if matches!(raw, Raw::Ofpt10FlowRemoved | Raw::NxtFlowRemoved) {
                    fr.hard_timeout = 0;
                }
                if raw == Raw::Ofpt10FlowRemoved {
                    fr.table_id = 255;
                    fr.packet_count &= u64::MAX >> 1;
                    fr.byte_count &= u64::MAX >> 1;
                }
                (raw, v, Message::FlowRemoved(fr))
            },
        )
}

/// Flow and aggregate stats requests.
pub fn flow_stats_request() -> impl Strategy<Value = (Raw, u8, Message)> {
    (
        prop_oneof![forms(ofp_proto::MsgType::FlowStatsRequest), forms(ofp_proto::MsgType::AggregateStatsRequest)]
            .prop_flat_map(|(r, v)| (Just((r, v)), match_for(r, v))),
        (any::<u64>(), any::<u64>(), any_port(), any::<u32>(), any::<u8>()),
    )
        .prop_map(|(((raw, v), m), (cookie, mask, out_port, out_group, table_id))| {
            let mut r = FlowStatsRequest { match_: m, out_port, table_id, ..FlowStatsRequest::default() };
            if !matches!(raw, Raw::Ofpst10FlowRequest | Raw::Ofpst10AggregateRequest) {
                (r.cookie, r.cookie_mask) = (cookie & mask, mask);
            }
            if !matches!(
                raw,
                Raw::Ofpst10FlowRequest
                    | Raw::Ofpst10AggregateRequest
                    | Raw::NxstFlowRequest
                    | Raw::NxstAggregateRequest
            ) {
                r.out_group = out_group;
            }
            let body = if raw.msg_type() == ofp_proto::MsgType::FlowStatsRequest {
                Message::FlowStatsRequest(r)
            } else {
                Message::AggregateStatsRequest(r)
            };
            (raw, v, body)
        })
}

/// A flow stats entry that `raw` in `v` carries unchanged.
pub fn flow_stats_entry(raw: Raw, v: u8) -> impl Strategy<Value = FlowStats> {
    (
        match_for(raw, v),
        instructions(v),
        flags(v),
        any::<[u64; 4]>(),
        proptest::option::of(0u32..65534),
        proptest::option::of(0u32..65534),
    )
        .prop_map(move |(m, ins, flags, n, idle_age, hard_age)| {
            let mut e = FlowStats {
                table_id: n[0] as u8,
                match_: m,
                priority: (n[0] >> 8) as u16,
                cookie: n[1],
                duration_sec: (n[2] >> 32) as u32 % u32::MAX,
                duration_nsec: n[2] as u32,
                idle_timeout: (n[0] >> 24) as u16,
                hard_timeout: (n[0] >> 40) as u16,
                importance: if v >= 5 { (n[3] >> 48) as u16 } else { 0 },
                flags,
                idle_age,
                hard_age,
                packet_count: n[3] >> 1,
                byte_count: n[2] >> 1,
                instructions: ins,
            };
            match raw {
                Raw::NxstFlowReply => e.flags = FlowModFlags::default(),
                Raw::Ofpst15FlowReply => e.hard_age = None,
                Raw::Ofpst13FlowReply => (e.idle_age, e.hard_age) = (None, None),
                _ => (e.idle_age, e.hard_age, e.flags) = (None, None, FlowModFlags::default()),
            }
            e
        })
}

pub fn flow_stats_reply() -> impl Strategy<Value = (Raw, u8, Message)> {
    forms(ofp_proto::MsgType::FlowStatsReply)
        .prop_flat_map(|(r, v)| (Just((r, v)), proptest::collection::vec(flow_stats_entry(r, v), 0..4)))
        .prop_map(|((raw, v), entries)| (raw, v, Message::FlowStatsReply(FlowStatsReply { entries })))
}

pub fn aggregate_reply() -> impl Strategy<Value = (Raw, u8, Message)> {
    (forms(ofp_proto::MsgType::AggregateStatsReply), any::<(u64, u64, u32)>()).prop_map(|((raw, v), n)| {
        let a = AggregateStats { packet_count: n.0 >> 1, byte_count: n.1 >> 1, flow_count: n.2 };
        (raw, v, Message::AggregateStatsReply(a))
    })
}

// ---------------------------------------------------------------- packets

/// A transport header (and a little payload) for IP protocol `proto`.
fn l4(proto: u8, v6: bool) -> BoxedStrategy<Vec<u8>> {
    let payload = proptest::collection::vec(any::<u8>(), 0..12);
    match proto {
        // TCP: data offset 5..=7 (options are random bytes).
        6 => (any::<[u8; 20]>(), 5u8..=7, any::<[u8; 8]>(), payload)
            .prop_map(|(mut h, off, opts, p)| {
                h[12] = off << 4 | (h[12] & 0x0f);
                let mut v = h.to_vec();
                v.extend_from_slice(&opts[..usize::from(off - 5) * 4]);
                v.extend(p);
                v
            })
            .boxed(),
        17 => (any::<[u8; 8]>(), payload).prop_map(|(h, p)| [h.to_vec(), p].concat()).boxed(),
        132 => (any::<[u8; 12]>(), payload).prop_map(|(h, p)| [h.to_vec(), p].concat()).boxed(),
        1 => (prop_oneof![Just(0u8), Just(3), Just(8), any::<u8>()], any::<[u8; 7]>(), payload)
            .prop_map(|(t, h, p)| [vec![t], h.to_vec(), p].concat())
            .boxed(),
        58 if v6 => {
            // Neighbor discovery (with link-layer address options) or another ICMPv6 message.
            let opt = (prop_oneof![Just(1u8), Just(2), any::<u8>()], any::<[u8; 6]>())
                .prop_map(|(t, mac)| [vec![t, 1], mac.to_vec()].concat());
            (
                prop_oneof![Just(135u8), Just(136), Just(128), any::<u8>()],
                any::<[u8; 3]>(),
                any::<[u8; 20]>(),
                proptest::collection::vec(opt, 0..3),
                payload,
            )
                .prop_map(|(t, h, target, opts, p)| {
                    let mut v = vec![t, h[0], h[1], h[2]];
                    if t == 135 || t == 136 {
                        v.extend_from_slice(&target);
                        v.extend(opts.concat());
                    } else {
                        v.extend(&target[..4]);
                        v.extend(p);
                    }
                    v
                })
                .boxed()
        }
        _ => payload.boxed(),
    }
}

fn ip_proto() -> impl Strategy<Value = u8> {
    prop_oneof![Just(6u8), Just(17), Just(132), Just(1), Just(58), any::<u8>()]
}

fn ipv4() -> BoxedStrategy<Vec<u8>> {
    (
        any::<[u8; 20]>(),
        0u8..=2,
        prop_oneof![Just(0u16), Just(0x2000), Just(0x4000), 1u16..0x2000, any::<u16>()],
        ip_proto(),
        any::<[u8; 8]>(),
    )
        .prop_flat_map(|(h, opt_words, frag, proto, opts)| (Just((h, opt_words, frag, proto, opts)), l4(proto, false)))
        .prop_map(|((mut h, opt_words, frag, proto, opts), l4)| {
            h[0] = 0x40 | (5 + opt_words);
            h[6..8].copy_from_slice(&frag.to_be_bytes());
            h[9] = proto;
            let mut v = h.to_vec();
            v.extend_from_slice(&opts[..usize::from(opt_words) * 4]);
            v.extend(l4);
            let total = v.len() as u16;
            v[2..4].copy_from_slice(&total.to_be_bytes());
            v
        })
        .boxed()
}

fn ipv6() -> BoxedStrategy<Vec<u8>> {
    // Optionally a hop-by-hop or fragment extension header before the transport header.
    let ext = prop_oneof![Just(None), Just(Some(0u8)), Just(Some(44u8))];
    (any::<[u8; 40]>(), ext, ip_proto(), any::<[u8; 8]>(), prop_oneof![Just(0u16), Just(1), any::<u16>()])
        .prop_flat_map(|(h, ext, proto, e, frag)| (Just((h, ext, proto, e, frag)), l4(proto, true)))
        .prop_map(|((mut h, ext, proto, mut e, frag), l4)| {
            h[0] = 0x60 | (h[0] & 0x0f);
            let mut v = Vec::new();
            match ext {
                None => h[6] = proto,
                Some(t) => {
                    h[6] = t;
                    e[0] = proto;
                    e[1] = 0;
                    if t == 44 {
                        e[2..4].copy_from_slice(&frag.to_be_bytes());
                    }
                    v.extend_from_slice(&e);
                }
            }
            v.extend(l4);
            let len = v.len() as u16;
            h[4..6].copy_from_slice(&len.to_be_bytes());
            [h.to_vec(), v].concat()
        })
        .boxed()
}

fn arp() -> impl Strategy<Value = Vec<u8>> {
    (any::<[u8; 28]>(), prop_oneof![Just(1u16), Just(2), any::<u16>()], any::<bool>()).prop_map(|(mut a, op, std)| {
        if std {
            a[..6].copy_from_slice(&[0, 1, 8, 0, 6, 4]);
        }
        a[6..8].copy_from_slice(&op.to_be_bytes());
        a.to_vec()
    })
}

/// An Ethernet frame as a switch might see it: up to two VLAN tags, then IPv4 (with options and
/// fragments), IPv6 (with extension headers, neighbor discovery), ARP/RARP, MPLS or anything,
/// sometimes cut short.
pub fn packet() -> impl Strategy<Value = Vec<u8>> {
    let l3 = prop_oneof![
        ipv4().prop_map(|p| (0x0800u16, p)),
        ipv6().prop_map(|p| (0x86dd, p)),
        arp().prop_map(|p| (0x0806, p)),
        arp().prop_map(|p| (0x8035, p)),
        proptest::collection::vec(any::<u32>(), 1..4).prop_map(|lses| {
            let n = lses.len();
            let bytes: Vec<u8> = lses
                .iter()
                .enumerate()
                .flat_map(|(i, l)| (if i + 1 == n { l | 0x100 } else { l & !0x100 }).to_be_bytes())
                .collect();
            (0x8847, [bytes, vec![0x45, 0, 0, 20]].concat())
        }),
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..30)),
    ];
    let tags = proptest::collection::vec((prop_oneof![Just(0x8100u16), Just(0x88a8)], any::<u16>()), 0..3);
    (any::<[u8; 12]>(), tags, l3, prop_oneof![3 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)])
        .prop_map(|(macs, tags, (eth_type, l3), cut)| {
            let mut v = macs.to_vec();
            for (tpid, tci) in tags {
                v.extend(tpid.to_be_bytes());
                v.extend(tci.to_be_bytes());
            }
            v.extend(eth_type.to_be_bytes());
            v.extend(l3);
            if let Some(i) = cut {
                v.truncate(1 + i.index(v.len()));
            }
            v
        })
}
