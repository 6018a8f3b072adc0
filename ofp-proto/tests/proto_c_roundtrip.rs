//! Round trips for the statistics, table-features and bundle messages in every version that has
//! them, decoding arbitrary bytes without panics, and the multipart splitter's invariants.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use proto_c_gen::*;

mod proto_c_gen;

use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
use ofp_proto::msg::multipart::{split_entries, MultipartBuilder};
use ofp_proto::msg::stats::{
    DescStats, PortStats, PortStatsReply, PortStatsRequest, Rfc2819Stats, TableStats, TableStatsReply,
};
use ofp_proto::msg::table_features::TableFeaturesMsg;
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

proptest! {
    #[test]
    fn desc_round_trips(version in 1u8..=6, xid in any::<u32>(), d in desc()) {
        assert_round_trip(&OfpMsg::new(version, xid, Message::DescStatsReply(d)))?;
    }

    #[test]
    fn port_request_round_trips(version in 1u8..=6, xid in any::<u32>(), port_no in port_number()) {
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
        let m = BundleAdd::wrap(bundle_id, flags, port_mod(version, xid, u32::from(port % 0xff00))).unwrap();
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
