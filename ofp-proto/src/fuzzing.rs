//! Checks shared by the cargo-fuzz targets and the "arbitrary bytes" property tests: beyond "no panic",
//! whatever decodes must re-encode to bytes that decode again and re-encode identically.

use bytes::{BufMut, Bytes, BytesMut};

use crate::framer::Framer;
use crate::msg::OfpMsg;
use crate::print::{key_fields, ofp_to_string};
use crate::raw::{finish_msg, MsgType, Raw};

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
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() && got_err.is_none() {
        let n = (usize::from(data[i % data.len()]) % 17 + 1).min(rest.len());
        chunked.push(&rest[..n]);
        rest = &rest[n..];
        i += 1;
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
    for f in &got {
        assert_eq!(usize::from(u16::from_be_bytes([f[2], f[3]])), f.len());
    }
}
