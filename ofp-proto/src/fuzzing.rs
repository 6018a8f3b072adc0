//! Checks shared by the cargo-fuzz targets and the "arbitrary bytes" property tests: beyond "no panic",
//! whatever decodes must re-encode to bytes that decode again and re-encode identically.

use bytes::{BufMut, Bytes, BytesMut};

use crate::actions::Action;
use crate::framer::Framer;
use crate::instructions::Instructions;
use crate::msg::{Message, OfpMsg};
use crate::print::{key_fields, ofp_to_string};
use crate::raw::{finish_msg, MsgType, Raw};
use crate::view::{BodyView, InstructionView, InstructionsView, MatchView, MsgView};

/// Groups of message types, one fuzz target each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Control,
    Flow,
    Multipart,
    Bundle,
}

impl Family {
    pub fn contains(self, t: MsgType) -> bool {
        use MsgType as T;
        match self {
            Family::Control => matches!(
                t,
                T::Hello
                    | T::Error
                    | T::EchoRequest
                    | T::EchoReply
                    | T::FeaturesRequest
                    | T::FeaturesReply
                    | T::GetConfigRequest
                    | T::GetConfigReply
                    | T::SetConfig
                    | T::PortStatus
                    | T::PortMod
                    | T::BarrierRequest
                    | T::BarrierReply
                    | T::RoleRequest
                    | T::RoleReply
                    | T::RoleStatus
                    | T::GetAsyncRequest
                    | T::GetAsyncReply
                    | T::SetAsyncConfig
                    | T::Requestforward
                    | T::TableStatus
                    | T::SetFlowFormat
                    | T::FlowModTableId
                    | T::SetPacketInFormat
                    | T::FlowAge
                    | T::SetControllerId
            ),
            Family::Flow => matches!(
                t,
                T::PacketIn
                    | T::PacketOut
                    | T::FlowMod
                    | T::FlowRemoved
                    | T::FlowStatsRequest
                    | T::FlowStatsReply
                    | T::AggregateStatsRequest
                    | T::AggregateStatsReply
            ),
            Family::Multipart => matches!(
                t,
                T::DescStatsRequest
                    | T::DescStatsReply
                    | T::TableStatsRequest
                    | T::TableStatsReply
                    | T::PortStatsRequest
                    | T::PortStatsReply
                    | T::TableFeaturesStatsRequest
                    | T::TableFeaturesStatsReply
                    | T::PortDescStatsRequest
                    | T::PortDescStatsReply
                    | T::FlowMonitorStatsRequest
                    | T::FlowMonitorStatsReply
                    | T::FlowMonitorCancel
                    | T::FlowMonitorPaused
                    | T::FlowMonitorResumed
            ),
            Family::Bundle => matches!(t, T::BundleControl | T::BundleAddMessage),
        }
    }

    /// Every (raw, version) pair of this family, in a fixed order.
    pub fn layouts(self) -> Vec<(Raw, u8)> {
        let mut v = vec![];
        for version in 1..=6u8 {
            for info in crate::raw::all_raw_info() {
                if self.contains(info.msg_type) && info.raw.supports_version(version) {
                    v.push((info.raw, version));
                }
            }
        }
        v
    }
}

/// Decodes `frame`; if it decodes, checks that encode→decode→encode is a fixed point and that
/// printing (text and key fields) never panics. Panics (for the fuzzer) on any violation.
pub fn check_message(frame: &[u8]) {
    let frame = Bytes::copy_from_slice(frame);
    let _ = ofp_to_string(&frame, 5);
    let Ok(m1) = OfpMsg::decode(&frame) else { return };
    let _ = key_fields(&m1);
    let e1 = m1.to_bytes();
    let m2 =
        OfpMsg::decode(&e1).unwrap_or_else(|e| panic!("re-encoded {m1:?} as {e1:02x?} which does not decode: {e:?}"));
    let e2 = m2.to_bytes();
    assert_eq!(e1, e2, "encoding is not stable for {m1:?}");
    let m3 = OfpMsg::decode(&e2).expect("stable bytes decode");
    assert_eq!(m2, m3, "decoding is not stable");
    let _ = ofp_to_string(&e1, 5);
}

/// Builds a message of the family from fuzz input: the first two bytes pick the layout, the rest is
/// the body; then runs `check_message` on it.
pub fn check_family(family: Family, data: &[u8]) {
    let layouts = family.layouts();
    if data.len() < 2 || layouts.is_empty() {
        return;
    }
    let (raw, version) = layouts[usize::from(u16::from_be_bytes([data[0], data[1]])) % layouts.len()];
    let mut b = BytesMut::new();
    let start = raw.put_headers(version, 0x1234_5678, 0, &mut b);
    let room = 65535 - b.len();
    b.put_slice(&data[2..data.len().min(2 + room)]);
    finish_msg(&mut b, start);
    check_message(&b);
}

/// `data` in chunks of 1–17 bytes whose sizes come from the data itself.
fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    let mut i = 0;
    std::iter::from_fn(move || {
        let n = (usize::from(*data.get(i % data.len().max(1))?) % 17 + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        i += 1;
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// Feeds `data` to a framer in chunks whose sizes come from the data itself, and checks that the
/// frames equal those of a one-shot framing and that every frame has the length its header announces.
pub fn check_framer(data: &[u8]) {
    let mut whole = Framer::new();
    whole.push(data);
    let mut expected = vec![];
    let expected_err = loop {
        match whole.next_frame() {
            Ok(Some(f)) => expected.push(f),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let mut chunked = Framer::new();
    let mut got = vec![];
    let mut got_err = None;
    for chunk in chunks(data) {
        if got_err.is_some() {
            break;
        }
        chunked.push(chunk);
        loop {
            match chunked.next_frame() {
                Ok(Some(f)) => got.push(f),
                Ok(None) => break,
                Err(e) => {
                    got_err = Some(e);
                    break;
                }
            }
        }
    }
    assert_eq!(got, expected);
    assert_eq!(got_err, expected_err);
    // The same chunks, taking frames alternately borrowed and as `Bytes`.
    let mut mixed = Framer::new();
    let (mut got, mut got_err, mut borrowed) = (vec![], None, false);
    let (mut pushed, mut framed) = (0, 0);
    for chunk in chunks(data) {
        mixed.push(chunk);
        pushed += chunk.len();
        loop {
            borrowed = !borrowed;
            let frame = if borrowed {
                mixed.next_frame_ref().map(|f| f.map(Bytes::copy_from_slice))
            } else {
                mixed.next_frame()
            };
            match frame {
                Ok(Some(f)) => {
                    framed += f.len();
                    got.push(f);
                }
                Ok(None) => break,
                Err(e) => {
                    got_err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(mixed.buffered() + framed, pushed);
        if got_err.is_some() {
            break;
        }
    }
    assert_eq!(got, expected);
    assert_eq!(got_err, expected_err);
    // The same chunks, taking the pending frames in batches with `frames`, every other batch cut
    // short after one frame (the rest stays pending for the next).
    let mut batched = Framer::new();
    let (mut got, mut got_err, mut short) = (vec![], None, false);
    for chunk in chunks(data) {
        batched.push(chunk);
        loop {
            short = !short;
            let before = got.len();
            for frame in batched.frames().take(if short { 1 } else { usize::MAX }) {
                match frame {
                    Ok(f) => got.push(Bytes::copy_from_slice(f)),
                    Err(e) => got_err = Some(e),
                }
            }
            if got.len() == before || got_err.is_some() {
                break;
            }
        }
        if let Some(e) = got_err {
            assert_eq!(batched.next_frame(), Err(e), "the error is kept");
            break;
        }
    }
    assert_eq!(got, expected);
    assert_eq!(got_err, expected_err);
    for f in &got {
        assert_eq!(usize::from(u16::from_be_bytes([f[2], f[3]])), f.len());
    }
}

/// The view contract on any bytes: `MsgView::parse` fails exactly when `OfpMsg::decode` fails,
/// with the same error; otherwise `to_owned` equals the owned decode and every view accessor
/// reads what the owned message holds. Panics (for the fuzzer) on any violation.
pub fn check_view(frame: &[u8]) {
    let owned = OfpMsg::decode(&Bytes::copy_from_slice(frame));
    let view = MsgView::parse(frame);
    let (m, v) = match (owned, view) {
        (Err(e), Err(ve)) => return assert_eq!(e, ve, "parse and decode fail differently on {frame:02x?}"),
        (Ok(m), Ok(v)) => (m, v),
        (m, v) => panic!("decode gives {m:?} but parse gives {v:?} for {frame:02x?}"),
    };
    assert_eq!(v.to_owned().as_ref(), Ok(&m));
    assert_eq!((v.version(), v.xid(), v.raw(), v.stats_flags()), (m.version, m.xid, m.raw, m.stats_flags));
    check_view_body(v.body(), &m.body);
    assert_eq!(v.into_owned(), Ok(m));
}

/// The typed view reads what the owned body holds.
fn check_view_body(v: &BodyView, m: &Message) {
    match (v, m) {
        (BodyView::PacketIn(v), Message::PacketIn(p)) => {
            let fixed = (v.reason(), v.table_id(), v.cookie(), v.total_len(), v.buffer_id(), v.in_port());
            assert_eq!(fixed, (p.reason, p.table_id, p.cookie, p.total_len, p.buffer_id, p.in_port()));
            assert_eq!(v.data(), &p.data[..]);
            if let Some(md) = v.metadata() {
                assert_eq!(md.to_match().as_ref(), Ok(&p.metadata));
                assert_eq!(md.fields().count(), md.fields().fold(0, |n, _| n + 1));
            }
        }
        (BodyView::FlowMod(v), Message::FlowMod(f)) => {
            let fixed = (v.command(), v.table_id(), v.idle_timeout(), v.hard_timeout(), v.priority(), v.buffer_id());
            assert_eq!(fixed, (f.command, f.table_id, f.idle_timeout, f.hard_timeout, f.priority, f.buffer_id));
            assert_eq!(v.out_port(), f.out_port);
            assert_eq!(v.match_().to_match().as_ref(), Ok(&f.match_));
            check_outputs(v.instructions(), &f.instructions);
            check_shortcuts(v.match_(), v.instructions());
        }
        (BodyView::EchoRequest(v), Message::EchoRequest(p)) | (BodyView::EchoReply(v), Message::EchoReply(p)) => {
            assert_eq!(*v, &p[..])
        }
        (BodyView::BarrierRequest, Message::BarrierRequest) | (BodyView::BarrierReply, Message::BarrierReply) => {}
        (BodyView::FlowStatsReply(v), Message::FlowStatsReply(r)) => {
            assert_eq!(v.entries().count(), r.entries.len());
            for (v, e) in v.entries().zip(&r.entries) {
                let fixed = (v.table_id(), v.priority(), v.cookie(), v.duration_sec(), v.duration_nsec());
                assert_eq!(fixed, (e.table_id, e.priority, e.cookie, e.duration_sec, e.duration_nsec));
                let more = (v.idle_timeout(), v.hard_timeout(), v.packet_count(), v.byte_count());
                assert_eq!(more, (e.idle_timeout, e.hard_timeout, e.packet_count, e.byte_count));
                assert_eq!(v.match_().to_match().as_ref(), Ok(&e.match_));
                check_outputs(v.instructions(), &e.instructions);
                check_shortcuts(v.match_(), v.instructions());
            }
        }
        (BodyView::PortStatsReply(v), Message::PortStatsReply(r)) => {
            assert_eq!(v.ports().len(), r.ports.len());
            for (v, p) in v.ports().zip(&r.ports) {
                assert_eq!((v.port_no(), v.duration()), (p.port_no, (p.duration_sec, p.duration_nsec)));
                let c = [v.rx_packets(), v.tx_packets(), v.rx_bytes(), v.tx_bytes(), v.rx_dropped(), v.tx_dropped()];
                assert_eq!(c, [p.rx_packets, p.tx_packets, p.rx_bytes, p.tx_bytes, p.rx_dropped, p.tx_dropped]);
                let c =
                    [v.rx_errors(), v.tx_errors(), v.rx_frame_err(), v.rx_over_err(), v.rx_crc_err(), v.collisions()];
                assert_eq!(c, [p.rx_errors, p.tx_errors, p.rx_frame_err, p.rx_over_err, p.rx_crc_err, p.collisions]);
            }
        }
        (BodyView::Other(v), m) => assert_eq!(&v.body, m),
        (v, m) => panic!("view {v:?} of {m:?}"),
    }
}

/// The shortcuts of the match and instruction views find what their iterators find.
fn check_shortcuts(m: MatchView, i: InstructionsView) {
    assert_eq!(m.fields().count(), m.fields().fold(0, |n, _| n + 1));
    let apply = i.iter().find_map(|i| match i {
        InstructionView::ApplyActions(a) => Some(a),
        _ => None,
    });
    assert_eq!(i.apply_actions(), apply);
}

/// Instructions that are only an apply-actions of outputs read as the owned ones.
fn check_outputs(v: InstructionsView, owned: &Instructions) {
    let only_apply = v.iter().all(|i| matches!(i, InstructionView::ApplyActions(_)));
    let outputs: Option<Vec<Action>> = v.apply_actions().map_or(Some(vec![]), |a| {
        a.iter().map(|a| a.output().map(|(port, max_len)| Action::Output { port, max_len })).collect()
    });
    if let (true, Some(outputs)) = (only_apply, outputs) {
        assert_eq!(*owned, Instructions::apply(outputs));
    }
}
