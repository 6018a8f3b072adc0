//! Flow-monitor messages in every form and version: encode → decode gives the value back and
//! re-encodes the same bytes; split update lists reassemble; arbitrary and mutated bodies never
//! panic the decoder or the printer, and whatever decodes re-encodes to a stable value.

mod monitor_gen;
mod proto_b_gen;

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;

use ofp_proto::fuzzing::check_message;
use ofp_proto::msg::monitor::FlowMonitorReply;
use ofp_proto::print::ofp_to_string;
use ofp_proto::raw::{self, OFPSF_REPLY_MORE};
use ofp_proto::{Message, MsgType, OfpMsg, Raw};

fn assert_round_trip(msg: &OfpMsg) -> Result<(), TestCaseError> {
    let bytes = msg.to_bytes();
    let back = OfpMsg::decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e:?} for {msg:?}")))?;
    prop_assert_eq!(&back, msg);
    prop_assert_eq!(back.to_bytes(), bytes);
    Ok(())
}

/// Decoding and printing `frame` must not panic; if it decodes, encode→decode→encode is a fixed
/// point. (Not decode→encode→decode equality: a decoded value need not be in the form its version
/// encodes, e.g. an OF1.0 `set_field` on vlan_vid goes out as OVS sends it, as `set_vlan_vid`.)
fn assert_robust(frame: &Bytes) -> Result<(), TestCaseError> {
    let _ = ofp_to_string(frame, 2);
    check_message(frame);
    Ok(())
}

/// Every monitor layout with a version it exists in.
fn monitor_raws() -> impl Strategy<Value = (Raw, u8)> {
    prop_oneof![
        monitor_gen::forms(MsgType::FlowMonitorStatsRequest),
        monitor_gen::forms(MsgType::FlowMonitorStatsReply),
        monitor_gen::forms(MsgType::FlowMonitorCancel),
        monitor_gen::forms(MsgType::FlowMonitorPaused),
        monitor_gen::forms(MsgType::FlowMonitorResumed),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn requests_round_trip((version, body) in monitor_gen::request(), xid in any::<u32>()) {
        assert_round_trip(&OfpMsg::new(version, xid, body))?;
    }

    #[test]
    fn replies_round_trip((version, body) in monitor_gen::reply(), xid in any::<u32>()) {
        assert_round_trip(&OfpMsg::new(version, xid, body))?;
    }

    #[test]
    fn cancel_paused_resumed_round_trip((version, body) in monitor_gen::small_message(), xid in any::<u32>()) {
        assert_round_trip(&OfpMsg::new(version, xid, body))?;
    }

    #[test]
    fn cancel_and_pause_helpers_round_trip(version in 1u8..=6, xid in any::<u32>(), id in any::<u32>()) {
        for m in [
            ofp_proto::msg::monitor::cancel_message(version, xid, id).unwrap(),
            ofp_proto::msg::monitor::paused_message(version).unwrap(),
            ofp_proto::msg::monitor::resumed_message(version).unwrap(),
        ] {
            prop_assert_eq!(m.version, version);
            assert_round_trip(&m)?;
        }
    }

    /// Updates split over several messages (small per-message room is not configurable, so lists
    /// are made long by repetition) come back in order, every message but the last flagged "more".
    #[test]
    fn split_replies_reassemble(
        (raw, version, update) in monitor_gen::forms(MsgType::FlowMonitorStatsReply)
            .prop_flat_map(|(r, v)| (Just(r), Just(v), monitor_gen::update(r, v))),
        copies in 1usize..3000,
    ) {
        let r = FlowMonitorReply { updates: vec![update; copies] };
        let msgs = r.encode_replies(version, 0).unwrap();
        let mut back = vec![];
        for (i, m) in msgs.iter().enumerate() {
            prop_assert!(m.len() <= 65535);
            prop_assert_eq!(raw::identify(m), Ok(raw));
            let d = OfpMsg::decode(m).unwrap();
            prop_assert_eq!(d.stats_flags, if i + 1 < msgs.len() { OFPSF_REPLY_MORE } else { 0 });
            let Message::FlowMonitorStatsReply(part) = d.body else { unreachable!() };
            prop_assert!(!part.updates.is_empty() || msgs.len() == 1);
            back.extend(part.updates);
        }
        prop_assert_eq!(back, r.updates);
    }

    #[test]
    fn arbitrary_bodies_never_panic(
        (raw, version) in monitor_raws(),
        words in proptest::collection::vec(any::<[u8; 8]>(), 0..24),
        odd in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        for tail in [&[][..], &odd[..]] {
            let mut b = BytesMut::new();
            let start = raw.put_headers(version, 1, 0, &mut b);
            for w in &words {
                b.put_slice(w);
            }
            b.put_slice(tail);
            raw::finish_msg(&mut b, start);
            assert_robust(&b.freeze())?;
        }
    }

    #[test]
    fn mutated_messages_never_panic(
        msg in monitor_gen::message(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut b = msg.to_bytes().to_vec();
        // Keep the header (so the message is still identified) and mutate the rest.
        let hdrs = msg.raw.hdrs_len(msg.version);
        if b.len() > hdrs {
            for (i, v) in flips {
                let at = hdrs + i.index(b.len() - hdrs);
                b[at] = v;
            }
        }
        assert_robust(&Bytes::from(b))?;
    }
}
