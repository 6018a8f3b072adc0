//! Every message this codec decodes and encodes, dispatched by OVS message type.

pub mod async_cfg;
pub mod bundle;
pub mod flow_mod;
pub mod flow_removed;
pub mod flow_stats;
pub mod hello;
pub mod monitor;
pub mod multipart;
pub mod nicira;
mod ofpact_bits;
pub mod packet_in;
pub mod packet_out;
pub mod port;
pub mod role;
pub mod stats;
pub mod status;
pub mod switch;
pub mod table_features;

use bytes::{Bytes, BytesMut};

use crate::buf::Reader;
use crate::errors::{ErrorMsg, OfpErr};
use crate::header::{Header, HEADER_LEN};
use crate::raw::{self, MsgType, Raw};

pub use async_cfg::{AsyncConfig, AsyncUpdate};
pub use bundle::{BundleAdd, BundleCtrl};
pub use flow_mod::FlowMod;
pub use flow_removed::FlowRemoved;
pub use flow_stats::{AggregateStats, FlowStatsReply, FlowStatsRequest};
pub use hello::Hello;
pub use monitor::{FlowMonitorReply, FlowMonitorRequest};
pub use nicira::{FlowFormat, PacketInFormat};
pub use packet_in::PacketIn;
pub use packet_out::PacketOut;
pub use port::{PortDescReply, PortDescRequest, PortMod, PortStatus};
pub use role::{RoleMsg, RoleStatus};
pub use stats::{DescStats, PortStatsReply, PortStatsRequest, TableStatsReply};
pub use status::{RequestForward, TableStatus};
pub use switch::{SwitchConfig, SwitchFeatures};
pub use table_features::TableFeaturesMsg;

/// What a body codec is told about the message it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cx {
    pub version: u8,
    pub raw: Raw,
}

/// One message body type: decode from the bytes after the headers, encode them back, and print
/// the text `ovs-ofctl ofp-print` prints after "NAME (OFx.y) (xid=0x..):".
pub trait Body: Sized {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr>;
    fn encode(&self, cx: Cx, buf: &mut BytesMut);
    fn print(&self, _cx: Cx, _out: &mut String, _verbosity: u8) {}

    /// For a body whose decode failed with `err`: appends what `ovs-ofctl` prints before it gives
    /// up (OVS prints some lists up to the bad element, and reads some bodies more loosely than a
    /// switch must), and returns the error it then reports, `None` if its printer accepts the body.
    fn print_undecodable(_cx: Cx, _r: &mut Reader, err: OfpErr, _out: &mut String, _verbosity: u8) -> Option<OfpErr> {
        Some(err)
    }
}

/// A decoded message body, one variant per OVS message type (`enum ofptype`) in scope.
// Flow-family bodies hold their `Match` inline so decoding a packet-in does not allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Hello(Hello),
    Error(ErrorMsg),
    EchoRequest(Bytes),
    EchoReply(Bytes),
    FeaturesRequest,
    FeaturesReply(SwitchFeatures),
    GetConfigRequest,
    GetConfigReply(SwitchConfig),
    SetConfig(SwitchConfig),
    PacketIn(PacketIn),
    FlowRemoved(FlowRemoved),
    PortStatus(PortStatus),
    PacketOut(PacketOut),
    FlowMod(FlowMod),
    PortMod(PortMod),
    BarrierRequest,
    BarrierReply,
    RoleRequest(RoleMsg),
    RoleReply(RoleMsg),
    RoleStatus(RoleStatus),
    GetAsyncRequest,
    GetAsyncReply(AsyncConfig),
    SetAsyncConfig(AsyncUpdate),
    Requestforward(RequestForward),
    TableStatus(TableStatus),
    BundleControl(BundleCtrl),
    BundleAddMessage(BundleAdd),
    DescStatsRequest,
    DescStatsReply(DescStats),
    FlowStatsRequest(FlowStatsRequest),
    FlowStatsReply(FlowStatsReply),
    AggregateStatsRequest(FlowStatsRequest),
    AggregateStatsReply(AggregateStats),
    TableStatsRequest,
    TableStatsReply(TableStatsReply),
    PortStatsRequest(PortStatsRequest),
    PortStatsReply(PortStatsReply),
    TableFeaturesStatsRequest(TableFeaturesMsg),
    TableFeaturesStatsReply(TableFeaturesMsg),
    PortDescStatsRequest(PortDescRequest),
    PortDescStatsReply(PortDescReply),
    FlowMonitorStatsRequest(FlowMonitorRequest),
    FlowMonitorStatsReply(FlowMonitorReply),
    /// NXT/ONFT cancel of a monitor id, OF1.0–1.3; OF1.4+ cancels with a request entry whose
    /// command is delete ([`monitor::cancel_message`] picks the form).
    FlowMonitorCancel(u32),
    /// NXT/ONFT, OF1.0–1.3; OF1.4+ reports it as a reply event ([`monitor::paused_message`]).
    FlowMonitorPaused,
    /// NXT/ONFT, OF1.0–1.3; OF1.4+ reports it as a reply event ([`monitor::resumed_message`]).
    FlowMonitorResumed,
    SetFlowFormat(FlowFormat),
    FlowModTableId(bool),
    SetPacketInFormat(PacketInFormat),
    FlowAge,
    SetControllerId(u16),
    /// A message OVS knows but this codec keeps opaque (group, meter and table mods, queue
    /// config, group/meter/queue stats, TLV tables, conntrack flush, …): the body after the headers.
    Other(MsgType, Bytes),
}

impl Message {
    pub fn msg_type(&self) -> MsgType {
        use Message as M;
        match self {
            M::Hello(_) => MsgType::Hello,
            M::Error(_) => MsgType::Error,
            M::EchoRequest(_) => MsgType::EchoRequest,
            M::EchoReply(_) => MsgType::EchoReply,
            M::FeaturesRequest => MsgType::FeaturesRequest,
            M::FeaturesReply(_) => MsgType::FeaturesReply,
            M::GetConfigRequest => MsgType::GetConfigRequest,
            M::GetConfigReply(_) => MsgType::GetConfigReply,
            M::SetConfig(_) => MsgType::SetConfig,
            M::PacketIn(_) => MsgType::PacketIn,
            M::FlowRemoved(_) => MsgType::FlowRemoved,
            M::PortStatus(_) => MsgType::PortStatus,
            M::PacketOut(_) => MsgType::PacketOut,
            M::FlowMod(_) => MsgType::FlowMod,
            M::PortMod(_) => MsgType::PortMod,
            M::BarrierRequest => MsgType::BarrierRequest,
            M::BarrierReply => MsgType::BarrierReply,
            M::RoleRequest(_) => MsgType::RoleRequest,
            M::RoleReply(_) => MsgType::RoleReply,
            M::RoleStatus(_) => MsgType::RoleStatus,
            M::GetAsyncRequest => MsgType::GetAsyncRequest,
            M::GetAsyncReply(_) => MsgType::GetAsyncReply,
            M::SetAsyncConfig(_) => MsgType::SetAsyncConfig,
            M::Requestforward(_) => MsgType::Requestforward,
            M::TableStatus(_) => MsgType::TableStatus,
            M::BundleControl(_) => MsgType::BundleControl,
            M::BundleAddMessage(_) => MsgType::BundleAddMessage,
            M::DescStatsRequest => MsgType::DescStatsRequest,
            M::DescStatsReply(_) => MsgType::DescStatsReply,
            M::FlowStatsRequest(_) => MsgType::FlowStatsRequest,
            M::FlowStatsReply(_) => MsgType::FlowStatsReply,
            M::AggregateStatsRequest(_) => MsgType::AggregateStatsRequest,
            M::AggregateStatsReply(_) => MsgType::AggregateStatsReply,
            M::TableStatsRequest => MsgType::TableStatsRequest,
            M::TableStatsReply(_) => MsgType::TableStatsReply,
            M::PortStatsRequest(_) => MsgType::PortStatsRequest,
            M::PortStatsReply(_) => MsgType::PortStatsReply,
            M::TableFeaturesStatsRequest(_) => MsgType::TableFeaturesStatsRequest,
            M::TableFeaturesStatsReply(_) => MsgType::TableFeaturesStatsReply,
            M::PortDescStatsRequest(_) => MsgType::PortDescStatsRequest,
            M::PortDescStatsReply(_) => MsgType::PortDescStatsReply,
            M::FlowMonitorStatsRequest(_) => MsgType::FlowMonitorStatsRequest,
            M::FlowMonitorStatsReply(_) => MsgType::FlowMonitorStatsReply,
            M::FlowMonitorCancel(_) => MsgType::FlowMonitorCancel,
            M::FlowMonitorPaused => MsgType::FlowMonitorPaused,
            M::FlowMonitorResumed => MsgType::FlowMonitorResumed,
            M::SetFlowFormat(_) => MsgType::SetFlowFormat,
            M::FlowModTableId(_) => MsgType::FlowModTableId,
            M::SetPacketInFormat(_) => MsgType::SetPacketInFormat,
            M::FlowAge => MsgType::FlowAge,
            M::SetControllerId(_) => MsgType::SetControllerId,
            M::Other(t, _) => *t,
        }
    }

    /// `xid` is the outer header's, which a bundle add's embedded message must repeat.
    fn decode_body(cx: Cx, xid: u32, r: &mut Reader) -> Result<Message, OfpErr> {
        use Message as M;
        fn d<T: Body>(cx: Cx, r: &mut Reader) -> Result<T, OfpErr> {
            T::decode(cx, r)
        }
        Ok(match cx.raw.msg_type() {
            MsgType::Hello => M::Hello(Hello::decode(cx.version, r)),
            MsgType::Error => M::Error(ErrorMsg::decode(cx.version, r)?),
            MsgType::EchoRequest => M::EchoRequest(r.rest()),
            MsgType::EchoReply => M::EchoReply(r.rest()),
            MsgType::FeaturesRequest => M::FeaturesRequest,
            MsgType::FeaturesReply => M::FeaturesReply(d(cx, r)?),
            MsgType::GetConfigRequest => M::GetConfigRequest,
            MsgType::GetConfigReply => M::GetConfigReply(d(cx, r)?),
            MsgType::SetConfig => M::SetConfig(d(cx, r)?),
            MsgType::PacketIn => M::PacketIn(d(cx, r)?),
            MsgType::FlowRemoved => M::FlowRemoved(d(cx, r)?),
            MsgType::PortStatus => M::PortStatus(d(cx, r)?),
            MsgType::PacketOut => M::PacketOut(d(cx, r)?),
            MsgType::FlowMod => M::FlowMod(d(cx, r)?),
            MsgType::PortMod => M::PortMod(d(cx, r)?),
            MsgType::BarrierRequest => M::BarrierRequest,
            MsgType::BarrierReply => M::BarrierReply,
            MsgType::RoleRequest => M::RoleRequest(d(cx, r)?),
            MsgType::RoleReply => M::RoleReply(d(cx, r)?),
            MsgType::RoleStatus => M::RoleStatus(d(cx, r)?),
            MsgType::GetAsyncRequest => M::GetAsyncRequest,
            MsgType::GetAsyncReply => M::GetAsyncReply(d(cx, r)?),
            MsgType::SetAsyncConfig => M::SetAsyncConfig(d(cx, r)?),
            MsgType::Requestforward => M::Requestforward(d(cx, r)?),
            MsgType::TableStatus => M::TableStatus(d(cx, r)?),
            MsgType::BundleControl => M::BundleControl(d(cx, r)?),
            MsgType::BundleAddMessage => M::BundleAddMessage(BundleAdd::decode(cx, xid, r)?),
            MsgType::DescStatsRequest => M::DescStatsRequest,
            MsgType::DescStatsReply => M::DescStatsReply(d(cx, r)?),
            MsgType::FlowStatsRequest => M::FlowStatsRequest(d(cx, r)?),
            MsgType::FlowStatsReply => M::FlowStatsReply(d(cx, r)?),
            MsgType::AggregateStatsRequest => M::AggregateStatsRequest(d(cx, r)?),
            MsgType::AggregateStatsReply => M::AggregateStatsReply(d(cx, r)?),
            MsgType::TableStatsRequest => M::TableStatsRequest,
            MsgType::TableStatsReply => M::TableStatsReply(d(cx, r)?),
            MsgType::PortStatsRequest => M::PortStatsRequest(d(cx, r)?),
            MsgType::PortStatsReply => M::PortStatsReply(d(cx, r)?),
            MsgType::TableFeaturesStatsRequest => M::TableFeaturesStatsRequest(d(cx, r)?),
            MsgType::TableFeaturesStatsReply => M::TableFeaturesStatsReply(d(cx, r)?),
            MsgType::PortDescStatsRequest => M::PortDescStatsRequest(d(cx, r)?),
            MsgType::PortDescStatsReply => M::PortDescStatsReply(d(cx, r)?),
            MsgType::FlowMonitorStatsRequest => M::FlowMonitorStatsRequest(d(cx, r)?),
            MsgType::FlowMonitorStatsReply => M::FlowMonitorStatsReply(d(cx, r)?),
            MsgType::FlowMonitorCancel => M::FlowMonitorCancel(r.u32()?),
            MsgType::FlowMonitorPaused => M::FlowMonitorPaused,
            MsgType::FlowMonitorResumed => M::FlowMonitorResumed,
            MsgType::SetFlowFormat => M::SetFlowFormat(d(cx, r)?),
            MsgType::FlowModTableId => {
                let on = r.u8()? != 0;
                r.skip(7)?;
                M::FlowModTableId(on)
            }
            MsgType::SetPacketInFormat => M::SetPacketInFormat(d(cx, r)?),
            MsgType::FlowAge => M::FlowAge,
            MsgType::SetControllerId => {
                r.skip(6)?;
                M::SetControllerId(r.u16()?)
            }
            t => M::Other(t, r.rest()),
        })
    }

    fn encode_body(&self, cx: Cx, buf: &mut BytesMut) {
        use bytes::BufMut;
        use Message as M;
        match self {
            M::Hello(b) => b.encode(buf),
            M::Error(b) => b.encode(cx.version, buf),
            M::EchoRequest(b) | M::EchoReply(b) | M::Other(_, b) => buf.put_slice(b),
            M::FeaturesRequest
            | M::GetConfigRequest
            | M::BarrierRequest
            | M::BarrierReply
            | M::GetAsyncRequest
            | M::DescStatsRequest
            | M::TableStatsRequest
            | M::FlowMonitorPaused
            | M::FlowMonitorResumed
            | M::FlowAge => {}
            M::FeaturesReply(b) => b.encode(cx, buf),
            M::GetConfigReply(b) | M::SetConfig(b) => b.encode(cx, buf),
            M::PacketIn(b) => b.encode(cx, buf),
            M::FlowRemoved(b) => b.encode(cx, buf),
            M::PortStatus(b) => b.encode(cx, buf),
            M::PacketOut(b) => b.encode(cx, buf),
            M::FlowMod(b) => b.encode(cx, buf),
            M::PortMod(b) => b.encode(cx, buf),
            M::RoleRequest(b) | M::RoleReply(b) => b.encode(cx, buf),
            M::RoleStatus(b) => b.encode(cx, buf),
            M::GetAsyncReply(b) => b.encode(cx, buf),
            M::SetAsyncConfig(b) => b.encode(cx, buf),
            M::Requestforward(b) => b.encode(cx, buf),
            M::TableStatus(b) => b.encode(cx, buf),
            M::BundleControl(b) => b.encode(cx, buf),
            M::BundleAddMessage(b) => b.encode(cx, buf),
            M::DescStatsReply(b) => b.encode(cx, buf),
            M::FlowStatsRequest(b) | M::AggregateStatsRequest(b) => b.encode(cx, buf),
            M::FlowStatsReply(b) => b.encode(cx, buf),
            M::AggregateStatsReply(b) => b.encode(cx, buf),
            M::TableStatsReply(b) => b.encode(cx, buf),
            M::PortStatsRequest(b) => b.encode(cx, buf),
            M::PortStatsReply(b) => b.encode(cx, buf),
            M::TableFeaturesStatsRequest(b) | M::TableFeaturesStatsReply(b) => b.encode(cx, buf),
            M::PortDescStatsRequest(b) => b.encode(cx, buf),
            M::PortDescStatsReply(b) => b.encode(cx, buf),
            M::FlowMonitorStatsRequest(b) => b.encode(cx, buf),
            M::FlowMonitorStatsReply(b) => b.encode(cx, buf),
            M::FlowMonitorCancel(id) => buf.put_u32(*id),
            M::SetFlowFormat(b) => b.encode(cx, buf),
            M::FlowModTableId(on) => {
                buf.put_u8(u8::from(*on));
                buf.put_bytes(0, 7);
            }
            M::SetPacketInFormat(b) => b.encode(cx, buf),
            M::SetControllerId(id) => {
                buf.put_bytes(0, 6);
                buf.put_u16(*id);
            }
        }
    }

    /// [`Body::print_undecodable`] for the message type of `cx`.
    pub(crate) fn print_undecodable(
        cx: Cx,
        body: Bytes,
        err: OfpErr,
        out: &mut String,
        verbosity: u8,
    ) -> Option<OfpErr> {
        let r = &mut Reader::new(body);
        match cx.raw.msg_type() {
            MsgType::FeaturesReply => SwitchFeatures::print_undecodable(cx, r, err, out, verbosity),
            MsgType::PortMod => PortMod::print_undecodable(cx, r, err, out, verbosity),
            MsgType::PortDescStatsReply => PortDescReply::print_undecodable(cx, r, err, out, verbosity),
            MsgType::FlowMonitorStatsRequest => FlowMonitorRequest::print_undecodable(cx, r, err, out, verbosity),
            MsgType::FlowMonitorStatsReply => FlowMonitorReply::print_undecodable(cx, r, err, out, verbosity),
            _ => Some(err),
        }
    }

    /// Appends what `ovs-ofctl ofp-print` prints after the "NAME (OFx.y) (xid=0x..):" prefix.
    pub(crate) fn print_body(&self, cx: Cx, out: &mut String, verbosity: u8) {
        use Message as M;
        match self {
            M::Hello(h) => {
                out.push_str("\n version bitmap: ");
                Hello::format_bitmap(h.versions, out);
            }
            M::Error(e) => crate::print::format_error_msg(e, cx, out),
            M::EchoRequest(b) | M::EchoReply(b) => {
                out.push_str(&format!(" {} bytes of payload\n", b.len()));
                if verbosity > 1 {
                    crate::print::hex_dump(b, 0, out);
                }
            }
            M::FeaturesRequest
            | M::GetConfigRequest
            | M::BarrierRequest
            | M::BarrierReply
            | M::GetAsyncRequest
            | M::DescStatsRequest
            | M::TableStatsRequest
            | M::FlowMonitorPaused
            | M::FlowMonitorResumed
            | M::FlowAge
            | M::Other(..) => {}
            M::FeaturesReply(b) => b.print(cx, out, verbosity),
            M::GetConfigReply(b) | M::SetConfig(b) => b.print(cx, out, verbosity),
            M::PacketIn(b) => b.print(cx, out, verbosity),
            M::FlowRemoved(b) => b.print(cx, out, verbosity),
            M::PortStatus(b) => b.print(cx, out, verbosity),
            M::PacketOut(b) => b.print(cx, out, verbosity),
            M::FlowMod(b) => b.print(cx, out, verbosity),
            M::PortMod(b) => b.print(cx, out, verbosity),
            M::RoleRequest(b) | M::RoleReply(b) => b.print(cx, out, verbosity),
            M::RoleStatus(b) => b.print(cx, out, verbosity),
            M::GetAsyncReply(b) => b.print(cx, out, verbosity),
            M::SetAsyncConfig(b) => b.print(cx, out, verbosity),
            M::Requestforward(b) => b.print(cx, out, verbosity),
            M::TableStatus(b) => b.print(cx, out, verbosity),
            M::BundleControl(b) => b.print(cx, out, verbosity),
            M::BundleAddMessage(b) => b.print(cx, out, verbosity),
            M::DescStatsReply(b) => b.print(cx, out, verbosity),
            M::FlowStatsRequest(b) | M::AggregateStatsRequest(b) => b.print(cx, out, verbosity),
            M::FlowStatsReply(b) => b.print(cx, out, verbosity),
            M::AggregateStatsReply(b) => b.print(cx, out, verbosity),
            M::TableStatsReply(b) => b.print(cx, out, verbosity),
            M::PortStatsRequest(b) => b.print(cx, out, verbosity),
            M::PortStatsReply(b) => b.print(cx, out, verbosity),
            M::TableFeaturesStatsRequest(b) | M::TableFeaturesStatsReply(b) => b.print(cx, out, verbosity),
            M::PortDescStatsRequest(b) => b.print(cx, out, verbosity),
            M::PortDescStatsReply(b) => b.print(cx, out, verbosity),
            M::FlowMonitorStatsRequest(b) => b.print(cx, out, verbosity),
            M::FlowMonitorStatsReply(b) => b.print(cx, out, verbosity),
            M::FlowMonitorCancel(id) => out.push_str(&format!(" id={id}")),
            M::SetFlowFormat(b) => b.print(cx, out, verbosity),
            M::FlowModTableId(on) => out.push_str(if *on { " enable" } else { " disable" }),
            M::SetPacketInFormat(b) => b.print(cx, out, verbosity),
            M::SetControllerId(id) => out.push_str(&format!(" id={id}")),
        }
    }
}

/// A whole message: header fields, its concrete wire layout, and the decoded body.
#[derive(Clone, Debug, PartialEq)]
pub struct OfpMsg {
    pub version: u8,
    pub xid: u32,
    pub raw: Raw,
    /// Multipart flags (OFPSF_REPLY_MORE / OFPSF_REQ_MORE); 0 for other messages.
    pub stats_flags: u16,
    pub body: Message,
}

/// Why a frame did not decode, with what is known of it so an error reply can be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub error: OfpErr,
    pub version: u8,
    pub xid: u32,
    /// The message's layout if it was identified before the failure.
    pub raw: Option<Raw>,
}

impl OfpMsg {
    /// The message in the layout OVS would use for this body in `version`, or `None` if
    /// `version` cannot carry it.
    pub fn try_new(version: u8, xid: u32, body: Message) -> Option<OfpMsg> {
        let raw = Raw::for_type(body.msg_type(), version)?;
        Some(OfpMsg { version, xid, raw, stats_flags: 0, body })
    }

    /// Like `try_new`, for combinations known to exist (e.g. echo, barrier, errors in any version).
    ///
    /// # Panics
    /// If `version` cannot carry the message; callers that take the version from a peer use `try_new`.
    pub fn new(version: u8, xid: u32, body: Message) -> OfpMsg {
        let t = body.msg_type();
        OfpMsg::try_new(version, xid, body)
            .unwrap_or_else(|| panic!("{t:?} has no encoding in OpenFlow version {version:#04x}"))
    }

    /// The same body in a specific layout (e.g. NXT_PACKET_IN2 instead of OFPT_PACKET_IN).
    pub fn with_raw(mut self, raw: Raw) -> OfpMsg {
        debug_assert_eq!(raw.msg_type(), self.body.msg_type());
        self.raw = raw;
        self
    }

    pub fn with_stats_flags(mut self, flags: u16) -> OfpMsg {
        self.stats_flags = flags;
        self
    }

    pub fn msg_type(&self) -> MsgType {
        self.raw.msg_type()
    }

    pub fn cx(&self) -> Cx {
        Cx { version: self.version, raw: self.raw }
    }

    /// Decodes exactly one message (as the framer yields it).
    pub fn decode(frame: &Bytes) -> Result<OfpMsg, DecodeError> {
        let hdr = Header::parse(frame);
        let (version, xid) = hdr.map_or((0, 0), |h| (h.version, h.xid));
        let fail = |error, raw| DecodeError { error, version, xid, raw };
        let (raw, hdrs_len) = match raw::pull(frame) {
            Ok(x) => x,
            Err(e) => return Err(fail(e, raw::identify(frame).ok())),
        };
        let cx = Cx { version, raw };
        let mut r = Reader::new(frame.slice(hdrs_len..));
        let body = Message::decode_body(cx, xid, &mut r).map_err(|e| fail(e, Some(raw)))?;
        let stats_flags = if raw.is_stat() { crate::buf::be16(frame, 10) } else { 0 };
        Ok(OfpMsg { version, xid, raw, stats_flags, body })
    }

    /// Appends the encoded message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        let start = self.raw.put_headers(self.version, self.xid, self.stats_flags, buf);
        self.body.encode_body(self.cx(), buf);
        raw::finish_msg(buf, start);
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(HEADER_LEN + 56);
        self.encode(&mut b);
        b.freeze()
    }
}
