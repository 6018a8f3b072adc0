//! Round trips for the statistics, table-features and bundle messages in every version that has
//! them, decoding arbitrary bytes without panics, and the multipart splitter's invariants.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
use ofp_proto::msg::mf::MfId;
use ofp_proto::msg::multipart::{split_entries, MultipartBuilder};
use ofp_proto::msg::stats::{
    DescStats, PortStats, PortStatsReply, PortStatsRequest, Rfc2819Stats, TableStats, TableStatsReply,
};
use ofp_proto::msg::table_features::{PropId, PropValue, TableFeatureProp, TableFeatures, TableFeaturesMsg};
use ofp_proto::msg::{Message, OfpMsg};
use ofp_proto::print::ofp_to_string;
use ofp_proto::raw::{Raw, OFPSF_REPLY_MORE};

/// encode → decode gives the value back, and decoding those bytes re-encodes them unchanged.
fn assert_round_trip(msg: &OfpMsg) -> Result<(), TestCaseError> {
    let bytes = msg.to_bytes();
    let back = OfpMsg::decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e:?} for {msg:?}")))?;
    prop_assert_eq!(&back, msg);
    prop_assert_eq!(back.to_bytes(), bytes);
    Ok(())
}

/// Text without NUL that fits a fixed-width field of `max` bytes.
fn fixed_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{0,{max}}}")).unwrap()
}

fn desc() -> impl Strategy<Value = DescStats> {
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

fn rfc2819() -> impl Strategy<Value = Rfc2819Stats> {
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

/// A port's statistics as `version` carries them: no duration before OF1.3, properties in OF1.4+.
fn port_stats(version: u8) -> impl Strategy<Value = PortStats> {
    let custom = vec((proptest::string::string_regex("[a-z0-9_]{0,63}").unwrap(), any::<u64>()), 0..5);
    (any::<u16>(), any::<(u32, u32)>(), vec(any::<u64>(), 12), proptest::option::of(rfc2819()), custom).prop_map(
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
fn table_stats(version: u8) -> impl Strategy<Value = TableStats> {
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
fn field_header(id: MfId, version: u8, masked: bool) -> u64 {
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
fn oxms(version: u8, maskable: bool) -> impl Strategy<Value = Vec<u64>> {
    let known: Vec<MfId> = MfId::all().filter(|id| id.header(version).is_some()).collect();
    let field = prop_oneof![
        4 => (proptest::sample::select(known), any::<bool>())
            .prop_map(move |(id, m)| field_header(id, version, m && maskable)),
        1 => (100u64..127, 1u64..16).prop_map(|(f, len)| 0x8000 << 48 | f << 41 | len << 32),
    ];
    vec(field, 0..12)
}

fn prop_ids() -> impl Strategy<Value = Vec<PropId>> {
    let id = prop_oneof![
        (0u16..40).prop_map(PropId::new),
        any::<u32>().prop_map(|e| PropId { id_type: 0xffff, data: Bytes::copy_from_slice(&e.to_be_bytes()) }),
    ];
    vec(id, 0..8)
}

/// One table's features that a controller's (loose) reading accepts: each required property
/// once, optional table-miss variants, and unknown or experimenter properties, in any order.
fn table_features(version: u8) -> impl Strategy<Value = TableFeatures> {
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
fn port_mod(version: u8, xid: u32, port: u32) -> OfpMsg {
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

proptest! {
    #[test]
    fn desc_round_trips(version in 1u8..=6, xid in any::<u32>(), d in desc()) {
        assert_round_trip(&OfpMsg::new(version, xid, Message::DescStatsReply(d)))?;
    }

    #[test]
    fn port_request_round_trips(version in 1u8..=6, xid in any::<u32>(), port_no in any::<u16>()) {
        assert_round_trip(&OfpMsg::new(version, xid, Message::PortStatsRequest(PortStatsRequest { port_no })))?;
    }

    #[test]
    fn port_reply_round_trips(
        (version, ports) in (1u8..=6).prop_flat_map(|v| (Just(v), vec(port_stats(v), 0..4))),
        xid in any::<u32>(),
    ) {
        assert_round_trip(&OfpMsg::new(version, xid, Message::PortStatsReply(PortStatsReply { ports })))?;
    }

    #[test]
    fn table_stats_round_trip(
        (version, tables) in (1u8..=6).prop_flat_map(|v| (Just(v), vec(table_stats(v), 0..4))),
        xid in any::<u32>(),
    ) {
        assert_round_trip(&OfpMsg::new(version, xid, Message::TableStatsReply(TableStatsReply { tables })))?;
    }

    #[test]
    fn bundle_control_round_trips(
        version in 4u8..=6,
        xid in any::<u32>(),
        (bundle_id, t, flags) in any::<(u32, u16, u16)>(),
        props in vec(any::<[u8; 8]>(), 0..3),
    ) {
        let mut c = BundleCtrl::new(bundle_id, BundleCtrlType(t), flags);
        c.properties = Bytes::from(props.concat());
        assert_round_trip(&OfpMsg::new(version, xid, Message::BundleControl(c)))?;
    }

    #[test]
    fn bundle_add_round_trips(
        version in 4u8..=6,
        xid in any::<u32>(),
        (bundle_id, flags, port) in any::<(u32, u16, u16)>(),
        props in vec(any::<u8>(), 0..16),
    ) {
        let m = BundleAdd::wrap(bundle_id, flags, port_mod(version, xid, u32::from(port))).unwrap();
        assert_round_trip(&m)?;
        let Message::BundleAddMessage(mut add) = m.body.clone() else { unreachable!() };
        add.properties = Bytes::from(props);
        assert_round_trip(&OfpMsg { body: Message::BundleAddMessage(add), ..m })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn table_features_round_trip(
        (version, tables) in (4u8..=6).prop_flat_map(|v| (Just(v), vec(table_features(v), 0..3))),
        xid in any::<u32>(),
        reply in any::<bool>(),
    ) {
        let msg = TableFeaturesMsg { tables };
        let body = if reply && !msg.tables.is_empty() {
            Message::TableFeaturesStatsReply(msg.clone())
        } else {
            Message::TableFeaturesStatsRequest(msg.clone())
        };
        assert_round_trip(&OfpMsg::new(version, xid, body))?;
        for t in &msg.tables {
            prop_assert!(t.view(version).is_ok());
        }
    }
}

/// Every raw this helper owns, with the versions that have it.
const RAWS: &[(Raw, u8, u8)] = &[
    (Raw::OfpstDescReply, 1, 6),
    (Raw::Ofpst10PortRequest, 1, 1),
    (Raw::Ofpst11PortRequest, 2, 6),
    (Raw::Ofpst10PortReply, 1, 1),
    (Raw::Ofpst11PortReply, 2, 3),
    (Raw::Ofpst13PortReply, 4, 4),
    (Raw::Ofpst14PortReply, 5, 6),
    (Raw::Ofpst10TableReply, 1, 1),
    (Raw::Ofpst11TableReply, 2, 2),
    (Raw::Ofpst12TableReply, 3, 3),
    (Raw::Ofpst13TableReply, 4, 6),
    (Raw::Ofpst13TableFeaturesRequest, 4, 6),
    (Raw::Ofpst13TableFeaturesReply, 4, 6),
    (Raw::Onft13BundleControl, 4, 4),
    (Raw::Ofpt14BundleControl, 5, 6),
    (Raw::Onft13BundleAddMessage, 4, 4),
    (Raw::Ofpt14BundleAddMessage, 5, 6),
];

/// Headers for `raw` in `version` followed by `body`, with the length set.
fn frame(raw: Raw, version: u8, xid: u32, body: &[u8]) -> Bytes {
    let mut b = bytes::BytesMut::new();
    raw.put_headers(version, xid, 0, &mut b);
    b.extend_from_slice(body);
    let len = u16::try_from(b.len()).unwrap_or(u16::MAX);
    b[2..4].copy_from_slice(&len.to_be_bytes());
    b.freeze()
}

/// One valid message of each kind this helper owns, to mutate.
fn sample_message(pick: usize, version: u8) -> Bytes {
    let body = match pick {
        0 => return TableFeaturesMsg::ovs_reply(version, 2).encode_replies(version, 1).unwrap().remove(0),
        1 => return BundleAdd::wrap(1, 3, port_mod(version, 5, 1)).unwrap().to_bytes(),
        2 => {
            let p = PortStats {
                rfc2819: Some(Rfc2819Stats::default()),
                custom: vec![("a".into(), 1)],
                ..PortStats::unknown(1)
            };
            Message::PortStatsReply(PortStatsReply { ports: vec![p] })
        }
        3 => Message::BundleControl(BundleCtrl::new(1, BundleCtrlType(0), 3)),
        4 => Message::DescStatsReply(DescStats::default()),
        _ => Message::TableStatsReply(TableStatsReply { tables: vec![TableStats::default()] }),
    };
    OfpMsg::new(version, 1, body).to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Decoding and printing never panic, whatever follows the headers.
    #[test]
    fn arbitrary_bodies_never_panic(
        (raw, version) in proptest::sample::select(RAWS).prop_flat_map(|(r, lo, hi)| (Just(r), lo..=hi)),
        xid in any::<u32>(),
        body in vec(any::<u8>(), 0..400),
    ) {
        let m = frame(raw, version, xid, &body);
        let _ = OfpMsg::decode(&m);
        let _ = ofp_to_string(&m, 2);
    }

    /// Valid messages with bytes changed decode to a value or an error, never a panic.
    #[test]
    fn mutated_messages_never_panic(
        pick in 0usize..6,
        version in 4u8..=6,
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let base = sample_message(pick, version);
        let mut m = base.to_vec();
        for (at, v) in edits {
            // Keep the header's type and length so the body decoders are what gets exercised.
            let i = 4 + at.index(m.len() - 4);
            m[i] = v;
        }
        let m = Bytes::from(m);
        let _ = OfpMsg::decode(&m);
        let _ = ofp_to_string(&m, 2);
    }
}

proptest! {
    /// Split messages stay within 65535 bytes, all but the last say "more", and the entries
    /// come out whole and in order.
    #[test]
    fn splitting_keeps_entries_whole(
        mut sizes in vec(prop_oneof![8 => 0usize..2000, 1 => 2000usize..65519], 0..80),
        fill in any::<Option<prop::sample::Index>>(),
        version in 1u8..=6,
        xid in any::<u32>(),
    ) {
        let raw = if version == 1 { Raw::Ofpst10PortReply } else { Raw::Ofpst11PortReply };
        let hdrs = if version == 1 { 12 } else { 16 };
        // Sometimes make the first message exactly full.
        if let Some(at) = fill {
            let at = at.index(sizes.len() + 1);
            let used: usize = sizes[..at].iter().sum();
            if hdrs + used <= 65535 {
                sizes.insert(at, 65535 - hdrs - used);
            }
        }
        let entries: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, n)| vec![i as u8; *n]).collect();
        let msgs = split_entries(raw, version, xid, &entries).unwrap();
        // Where each entry starts within the concatenated bodies.
        let starts: Vec<usize> = entries.iter().scan(0, |at, e| { let s = *at; *at += e.len(); Some(s) }).collect();
        let n = msgs.len();
        let mut boundary = 0;
        for (i, m) in msgs.iter().enumerate() {
            prop_assert!(m.len() <= 65535);
            prop_assert_eq!(usize::from(u16::from_be_bytes([m[2], m[3]])), m.len());
            prop_assert_eq!(u32::from_be_bytes([m[4], m[5], m[6], m[7]]), xid);
            let flags = u16::from_be_bytes([m[10], m[11]]);
            prop_assert_eq!(flags, if i + 1 < n { OFPSF_REPLY_MORE } else { 0 });
            boundary += m.len() - hdrs;
            if i + 1 < n {
                // The next message starts with a whole entry that did not fit in this one.
                let next = (0..entries.len()).find(|j| starts[*j] == boundary && !entries[*j].is_empty());
                prop_assert!(next.is_some(), "message {} ends inside an entry", i);
                prop_assert!(m.len() + entries[next.unwrap()].len() > 65535, "message {} had room", i);
            }
        }
        let joined: Vec<u8> = msgs.iter().flat_map(|m| m[hdrs..].to_vec()).collect();
        prop_assert_eq!(joined, entries.concat());
    }

    #[test]
    fn oversized_entries_are_refused(extra in 1usize..100) {
        let mut b = MultipartBuilder::new(Raw::Ofpst13TableFeaturesReply, 4, 1);
        let max = b.max_entry_len();
        prop_assert!(b.append(&vec![0; max + extra]).is_err());
        prop_assert!(b.append(&vec![0; max]).is_ok());
        prop_assert_eq!(b.finish().len(), 1);
    }
}
