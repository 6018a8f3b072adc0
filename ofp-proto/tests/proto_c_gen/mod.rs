//! Value generators for the statistics, table-features and bundle messages, shared by the
//! round-trip and interop tests.
#![allow(dead_code)]

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use ofp_proto::mf::MfId;
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
use ofp_proto::msg::stats::{
    DescStats, PortStats, PortStatsReply, PortStatsRequest, Rfc2819Stats, TableStats, TableStatsReply,
};
use ofp_proto::msg::table_features::{PropId, PropValue, TableFeatureProp, TableFeatures, TableFeaturesMsg};
use ofp_proto::msg::{Message, OfpMsg};

/// Text without NUL that fits a fixed-width field of `max` bytes.
pub fn fixed_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{0,{max}}}")).unwrap()
}

pub fn desc() -> impl Strategy<Value = DescStats> {
    (fixed_text(256), fixed_text(256), fixed_text(256), fixed_text(32), fixed_text(256)).prop_map(
        |(mfr_desc, hw_desc, sw_desc, serial_num, dp_desc)| DescStats {
            mfr_desc,
            hw_desc,
            sw_desc,
            serial_num,
            dp_desc,
        },
    )
}

pub fn rfc2819() -> impl Strategy<Value = Rfc2819Stats> {
    vec(any::<u64>(), 21).prop_map(|c| Rfc2819Stats {
        rx_1_to_64_packets: c[0],
        rx_65_to_127_packets: c[1],
        rx_128_to_255_packets: c[2],
        rx_256_to_511_packets: c[3],
        rx_512_to_1023_packets: c[4],
        rx_1024_to_1522_packets: c[5],
        rx_1523_to_max_packets: c[6],
        tx_1_to_64_packets: c[7],
        tx_65_to_127_packets: c[8],
        tx_128_to_255_packets: c[9],
        tx_256_to_511_packets: c[10],
        tx_512_to_1023_packets: c[11],
        tx_1024_to_1522_packets: c[12],
        tx_1523_to_max_packets: c[13],
        tx_multicast_packets: c[14],
        rx_broadcast_packets: c[15],
        tx_broadcast_packets: c[16],
        rx_undersized_errors: c[17],
        rx_oversize_errors: c[18],
        rx_fragmented_errors: c[19],
        rx_jabber_errors: c[20],
    })
}

/// Any port number every version can carry: the OF1.0 numbers in the OF1.1+ space.
pub fn port_number() -> impl Strategy<Value = u32> {
    any::<u16>().prop_map(ofp_proto::port_no::ofp10_to_ofp11)
}

/// A port's statistics as `version` carries them: no duration before OF1.3, properties in OF1.4+.
pub fn port_stats(version: u8) -> impl Strategy<Value = PortStats> {
    let custom = vec((proptest::string::string_regex("[a-z0-9_]{0,63}").unwrap(), any::<u64>()), 0..5);
    (port_number(), any::<(u32, u32)>(), vec(any::<u64>(), 12), proptest::option::of(rfc2819()), custom).prop_map(
        move |(port_no, (sec, nsec), c, rfc, custom)| {
            let mut p = PortStats::unknown(port_no);
            [
                &mut p.rx_packets,
                &mut p.tx_packets,
                &mut p.rx_bytes,
                &mut p.tx_bytes,
                &mut p.rx_dropped,
                &mut p.tx_dropped,
                &mut p.rx_errors,
                &mut p.tx_errors,
                &mut p.rx_frame_err,
                &mut p.rx_over_err,
                &mut p.rx_crc_err,
                &mut p.collisions,
            ]
            .into_iter()
            .zip(c)
            .for_each(|(f, v)| *f = v);
            if version >= 4 {
                (p.duration_sec, p.duration_nsec) = (sec, nsec);
            }
            if version >= 5 {
                p.rfc2819 = rfc;
                p.custom = custom;
            }
            p
        },
    )
}

/// A table's statistics with only what `version` carries.
pub fn table_stats(version: u8) -> impl Strategy<Value = TableStats> {
    (any::<u8>(), fixed_text(32), any::<[u64; 6]>(), any::<[u32; 7]>(), any::<(u64, u64)>()).prop_map(
        move |(table_id, name, w, n, (lookup_count, matched_count))| {
            let mut t = TableStats { table_id, active_count: n[0], lookup_count, matched_count, ..Default::default() };
            if version <= 3 {
                t.name = name;
                t.max_entries = n[1];
            }
            match version {
                1 => t.wildcards = u64::from(n[2]),
                2 => {
                    (t.wildcards, t.match_fields) = (u64::from(n[2]), u64::from(n[3]));
                    (t.instructions, t.write_actions, t.apply_actions, t.config) = (n[4], n[5], n[6], n[2] ^ n[3]);
                }
                3 => {
                    (t.wildcards, t.match_fields, t.write_setfields, t.apply_setfields) = (w[0], w[1], w[2], w[3]);
                    (t.metadata_match, t.metadata_write) = (w[4], w[5]);
                    (t.instructions, t.write_actions, t.apply_actions, t.config) = (n[4], n[5], n[6], n[2]);
                }
                _ => {}
            }
            t
        },
    )
}

/// The header OVS uses for `id` in `version`, masked if asked (length doubled like OVS does).
pub fn field_header(id: MfId, version: u8, masked: bool) -> u64 {
    let h = id.header(version).unwrap();
    if !masked {
        return h;
    }
    let exp = if h >> 48 == 0xffff { 4 } else { 0 };
    let len = ((h >> 32) & 0xff) - exp;
    (h & !0x01ff_0000_0000) | 1 << 40 | ((len * 2 + exp) & 0xff) << 32
}

/// A field list: known fields (masked only if `maskable`), plus unknown OXM fields, which a
/// controller's reading skips.
pub fn oxms(version: u8, maskable: bool) -> impl Strategy<Value = Vec<u64>> {
    let known: Vec<MfId> = MfId::all().filter(|id| id.header(version).is_some()).collect();
    let field = prop_oneof![
        4 => (proptest::sample::select(known), any::<bool>())
            .prop_map(move |(id, m)| field_header(id, version, m && maskable)),
        1 => (100u64..127, 1u64..16).prop_map(|(f, len)| 0x8000 << 48 | f << 41 | len << 32),
    ];
    vec(field, 0..12)
}

pub fn prop_ids() -> impl Strategy<Value = Vec<PropId>> {
    let id = prop_oneof![
        (0u16..40).prop_map(PropId::new),
        any::<u32>().prop_map(|e| PropId { id_type: 0xffff, data: Bytes::copy_from_slice(&e.to_be_bytes()) }),
    ];
    vec(id, 0..8)
}

/// One table's features that a controller's (loose) reading accepts: each required property
/// once, optional table-miss variants, and unknown or experimenter properties, in any order.
pub fn table_features(version: u8) -> impl Strategy<Value = TableFeatures> {
    let props = (
        (prop_ids(), vec(0u8..255, 0..8), prop_ids(), prop_ids()),
        (oxms(version, true), oxms(version, false), oxms(version, false), oxms(version, false)),
        (proptest::option::of(prop_ids()), proptest::option::of(vec(0u8..255, 0..4))),
        (proptest::option::of(16u16..32), proptest::option::of(100u32..200)),
    );
    let head = (0u8..255, any::<u8>(), fixed_text(32), any::<(u64, u64, u32, u32)>());
    (head, props, any::<prop::sample::Index>()).prop_map(move |((table_id, cmd, name, (mm, mw, caps, max)), p, rot)| {
        let ((insts, next, wa, aa), (m, wc, ws, asf), (insts_miss, next_miss), (unknown, exp)) = p;
        let mut properties = vec![
            TableFeatureProp { prop_type: 0, value: PropValue::Ids(insts) },
            TableFeatureProp { prop_type: 2, value: PropValue::Tables(next) },
            TableFeatureProp { prop_type: 4, value: PropValue::Ids(wa) },
            TableFeatureProp { prop_type: 6, value: PropValue::Ids(aa) },
            TableFeatureProp { prop_type: 8, value: PropValue::Oxms(m) },
            TableFeatureProp { prop_type: 10, value: PropValue::Oxms(wc) },
            TableFeatureProp { prop_type: 12, value: PropValue::Oxms(ws) },
            TableFeatureProp { prop_type: 14, value: PropValue::Oxms(asf) },
        ];
        if let Some(ids) = insts_miss {
            properties.push(TableFeatureProp { prop_type: 1, value: PropValue::Ids(ids) });
        }
        if let Some(t) = next_miss {
            properties.push(TableFeatureProp { prop_type: 3, value: PropValue::Tables(t) });
        }
        if let Some(t) = unknown {
            properties.push(TableFeatureProp { prop_type: t, value: PropValue::Raw(Bytes::from_static(b"abc")) });
        }
        if let Some(e) = exp {
            let body = [0x2320u32.to_be_bytes(), e.to_be_bytes()].concat();
            properties.push(TableFeatureProp { prop_type: 0xffff, value: PropValue::Raw(Bytes::from(body)) });
        }
        let n = properties.len();
        properties.rotate_left(rot.index(n));
        TableFeatures {
            table_id,
            command: if version >= 6 { cmd % 4 } else { cmd },
            name,
            metadata_match: mm,
            metadata_write: mw,
            capabilities: caps,
            max_entries: max,
            properties,
        }
    })
}

/// An OF1.4+ port mod (or OF1.3's) with `xid`, bytes built by hand.
pub fn port_mod(version: u8, xid: u32, port: u32) -> OfpMsg {
    let mut b = vec![version, 16, 0, if version >= 5 { 40 } else { 32 }];
    b.extend(xid.to_be_bytes());
    b.extend(port.to_be_bytes());
    b.extend([0, 0, 0, 0, 0x50, 0x54, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    if version >= 5 {
        b.extend([0, 0, 0, 8, 0, 0, 0, 1]);
    } else {
        b.extend([0, 0, 0, 0, 0, 0, 0, 0]);
    }
    OfpMsg::decode(&Bytes::from(b)).unwrap()
}

/// Any message of these types in any version that has it, as it would be sent.
pub fn any_message() -> impl Strategy<Value = OfpMsg> {
    let stats = (1u8..=6).prop_flat_map(|v| {
        prop_oneof![
            desc().prop_map(Message::DescStatsReply),
            port_number().prop_map(|port_no| Message::PortStatsRequest(PortStatsRequest { port_no })),
            vec(port_stats(v), 0..4).prop_map(|ports| Message::PortStatsReply(PortStatsReply { ports })),
            vec(table_stats(v), 0..4).prop_map(|tables| Message::TableStatsReply(TableStatsReply { tables })),
        ]
        .prop_map(move |body| (v, body))
    });
    let of13_up = (4u8..=6).prop_flat_map(|v| {
        prop_oneof![
            vec(table_features(v), 0..3)
                .prop_map(|tables| Message::TableFeaturesStatsRequest(TableFeaturesMsg { tables })),
            vec(table_features(v), 1..3)
                .prop_map(|tables| Message::TableFeaturesStatsReply(TableFeaturesMsg { tables })),
            (any::<(u32, u16, u16)>(), vec(any::<[u8; 8]>(), 0..2)).prop_map(|((id, t, flags), props)| {
                let mut c = BundleCtrl::new(id, BundleCtrlType(t), flags);
                c.properties = Bytes::from(props.concat());
                Message::BundleControl(c)
            }),
        ]
        .prop_map(move |body| (v, body))
    });
    let adds = (4u8..=6, any::<(u32, u16, u32, u16)>()).prop_map(|(v, (id, flags, xid, port))| {
        BundleAdd::wrap(id, flags, port_mod(v, xid, u32::from(port % 0xff00))).unwrap()
    });
    prop_oneof![
        (stats, any::<u32>()).prop_map(|((v, body), xid)| OfpMsg::new(v, xid, body)),
        (of13_up, any::<u32>()).prop_map(|((v, body), xid)| OfpMsg::new(v, xid, body)),
        adds,
    ]
}
