//! Zero-copy message views (smoltcp `wire` style): a [`MsgView`] borrows a frame, has checked it
//! exactly as [`OfpMsg::decode`] would, and reads fields in place; nothing panics after parsing.
//!
//! The contract: `MsgView::parse(b)` fails with exactly the error `OfpMsg::decode(b)` fails with,
//! and when both succeed `to_owned()` equals `OfpMsg::decode(b)`. To keep one source of truth for
//! errors, parsing only proves validity for the shapes the hot path carries (cheap, conservative
//! checks built from the owned decoder's own helpers); anything it cannot prove valid, and every
//! message without a view, goes to the owned decoder, whose verdict (and exact error) it returns.

mod flow_mod;
mod instructions;
mod matches;
mod oxm;
mod packet_in;
mod stats;

use bytes::Bytes;

use crate::buf::be32;
use crate::msg::{DecodeError, OfpMsg};
use crate::raw::{self, MsgType, Raw, OFPSF_REPLY_MORE};

/// An OF1.3 flow mod's body: fixed fields and at least a match header, padded (then a multiple
/// of 8 bytes).
const OF13_FLOW_MOD_MIN_BODY: usize = 40;
/// Multipart types of flow and port statistics.
const OFPMP_FLOW: u16 = 1;
const OFPMP_PORT_STATS: u16 = 4;

pub use flow_mod::FlowModView;
pub use instructions::{ActionIter, ActionView, ActionsView, InstructionIter, InstructionView, InstructionsView};
pub use matches::{MatchField, MatchFields, MatchView};
pub use packet_in::PacketInView;
pub use stats::{FlowStatsIter, FlowStatsReplyView, FlowStatsView, PortStatsReplyView, PortStatsView};

/// A parsed message borrowed from its frame.
#[derive(Clone, Debug, PartialEq)]
pub struct MsgView<'a> {
    frame: &'a [u8],
    raw: Raw,
    body: BodyView<'a>,
}

/// The body of a [`MsgView`]: typed views of the messages a controller connection carries most.
///
/// Each view keeps, besides its slices, at most one 32-bit word (the packet-in, the commonest,
/// excepted): the views `parse` builds on its several paths reach the caller through one slot
/// of memory, where the caller's reads of one view's fields may be hoisted above its match on
/// the variant, and a read over several narrower writes of another view stalls the processor
/// until they are committed (no store forwarding).
#[derive(Clone, Debug, PartialEq)]
pub enum BodyView<'a> {
    /// OF1.0, OF1.2 and OF1.3–1.5 packet-ins (the Nicira and OF1.1 forms are `Other`).
    PacketIn(PacketInView<'a>),
    FlowMod(FlowModView<'a>),
    EchoRequest(&'a [u8]),
    EchoReply(&'a [u8]),
    BarrierRequest,
    BarrierReply,
    /// OF1.1–1.4 flow statistics replies (OF1.0, OF1.5 and Nicira ones are `Other`).
    FlowStatsReply(FlowStatsReplyView<'a>),
    /// OF1.0–1.3 port statistics replies (OF1.4+ ones are `Other`).
    PortStatsReply(PortStatsReplyView<'a>),
    /// Any other message, already decoded (parsing it needed the owned decoder anyway).
    Other(Box<OfpMsg>),
}

impl<'a> BodyView<'a> {
    /// The view of `raw`'s body by its layout (`None` for messages without a view), and whether
    /// the owned decoder surely accepts it. (Always inlined: a view returned through memory
    /// stalls the loads that copy it.)
    #[inline(always)]
    fn layout(raw: Raw, version: u8, body: &'a [u8]) -> Option<(BodyView<'a>, bool)> {
        Some(match raw {
            Raw::Ofpt10PacketIn | Raw::Ofpt12PacketIn | Raw::Ofpt13PacketIn => {
                let (v, valid) = PacketInView::layout(raw, body)?;
                (BodyView::PacketIn(v), valid)
            }
            Raw::Ofpt10FlowMod | Raw::Ofpt11FlowMod => {
                let v = FlowModView::layout(raw, version, body)?;
                (BodyView::FlowMod(v), v.surely_valid())
            }
            Raw::OfptEchoRequest => (BodyView::EchoRequest(body), true),
            Raw::OfptEchoReply => (BodyView::EchoReply(body), true),
            Raw::Ofpt10BarrierRequest | Raw::Ofpt11BarrierRequest => (BodyView::BarrierRequest, true),
            Raw::Ofpt10BarrierReply | Raw::Ofpt11BarrierReply => (BodyView::BarrierReply, true),
            Raw::Ofpst11FlowReply | Raw::Ofpst13FlowReply => {
                let (v, valid) = FlowStatsReplyView::layout(raw, version, body)?;
                (BodyView::FlowStatsReply(v), valid)
            }
            Raw::Ofpst10PortReply | Raw::Ofpst11PortReply | Raw::Ofpst13PortReply => {
                let v = PortStatsReplyView::layout(raw, version, body)?;
                (BodyView::PortStatsReply(v), v.surely_valid())
            }
            _ => return None,
        })
    }
}

impl<'a> MsgView<'a> {
    /// Parses exactly one message (as the framer yields it), with every check `OfpMsg::decode`
    /// makes and its exact error. (The commonest messages are read inline, where the caller
    /// reads the view: building it then costs no copy through memory.)
    #[inline(always)]
    pub fn parse(frame: &'a [u8]) -> Result<MsgView<'a>, DecodeError> {
        match MsgView::of13_common(frame) {
            Some(v) => Ok(v),
            None => match MsgView::of13_tables(frame) {
                Some(v) => Ok(v),
                None => MsgView::parse_general(frame),
            },
        }
    }

    /// `parse` for what the OpenFlow 1.3 shortcuts do not take.
    #[inline(never)]
    fn parse_general(frame: &'a [u8]) -> Result<MsgView<'a>, DecodeError> {
        // Every message with a view is one `pull_quick_ok` identifies (when its length is right).
        if let Some((raw, hdrs_len)) = raw::pull_quick_ok(frame) {
            if let Some((body, true)) = BodyView::layout(raw, frame[0], frame.get(hdrs_len..).unwrap_or_default()) {
                return Ok(MsgView { frame, raw, body });
            }
        }
        MsgView::parse_owned(frame)
    }

    /// The views of the OpenFlow 1.3 messages a connection carries most (packet-ins with only an
    /// input port, echoes, barriers), read without the general identification: what it and the
    /// layouts would find (`None` for anything else). The lengths are OF1.3's
    /// (`of13_lengths_are_the_layouts` checks them).
    #[inline(always)]
    fn of13_common(frame: &'a [u8]) -> Option<MsgView<'a>> {
        let (&[version, msg_type, _, _, _, _, _, _], body) = frame.split_first_chunk::<8>()?;
        // OF1.3 numbers: echo request and reply 2 and 3, packet-in 10, barrier request and reply
        // 20 and 21.
        let (raw, body) = match (version, msg_type) {
            (4, 10) => (Raw::Ofpt13PacketIn, BodyView::PacketIn(PacketInView::of13_in_port_only(body)?)),
            (4, 2) => (Raw::OfptEchoRequest, BodyView::EchoRequest(body)),
            (4, 3) => (Raw::OfptEchoReply, BodyView::EchoReply(body)),
            (4, 20) if body.is_empty() => (Raw::Ofpt11BarrierRequest, BodyView::BarrierRequest),
            (4, 21) if body.is_empty() => (Raw::Ofpt11BarrierReply, BodyView::BarrierReply),
            _ => return None,
        };
        Some(MsgView { frame, raw, body })
    }

    /// `of13_common` for OpenFlow 1.3 flow mods, flow and port statistics replies.
    #[inline(always)]
    fn of13_tables(frame: &'a [u8]) -> Option<MsgView<'a>> {
        let (&[version, msg_type, _, _, _, _, _, _], body) = frame.split_first_chunk::<8>()?;
        // OF1.3 numbers: flow mod 14, multipart reply 19.
        let (raw, body) = match (version, msg_type) {
            (4, 14) if body.len() >= OF13_FLOW_MOD_MIN_BODY && body.len() % 8 == 0 => {
                let v = FlowModView::layout(Raw::Ofpt11FlowMod, 4, body)?;
                (Raw::Ofpt11FlowMod, BodyView::FlowMod(v.surely_valid().then_some(v)?))
            }
            (4, 19) => {
                // Multipart reply headers: type, flags, 4 pad bytes.
                let (&[s0, s1, _, _, _, _, _, _], body) = body.split_first_chunk::<8>()?;
                match u16::from_be_bytes([s0, s1]) {
                    OFPMP_FLOW => match FlowStatsReplyView::layout(Raw::Ofpst13FlowReply, 4, body)? {
                        (v, true) => (Raw::Ofpst13FlowReply, BodyView::FlowStatsReply(v)),
                        (_, false) => return None,
                    },
                    OFPMP_PORT_STATS => {
                        let v = PortStatsReplyView::layout(Raw::Ofpst13PortReply, 4, body)?;
                        (Raw::Ofpst13PortReply, BodyView::PortStatsReply(v.surely_valid().then_some(v)?))
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(MsgView { frame, raw, body })
    }

    /// `parse` for what the views cannot prove valid: the owned decoder decides.
    #[cold]
    #[inline(never)]
    fn parse_owned(frame: &'a [u8]) -> Result<MsgView<'a>, DecodeError> {
        let msg = OfpMsg::decode(&Bytes::copy_from_slice(frame))?;
        let raw = msg.raw;
        let body = match BodyView::layout(raw, msg.version, &frame[raw.hdrs_len(msg.version)..]) {
            Some((body, _)) => body,
            None => BodyView::Other(Box::new(msg)),
        };
        Ok(MsgView { frame, raw, body })
    }

    /// The whole frame.
    #[inline]
    pub fn frame(&self) -> &'a [u8] {
        self.frame
    }

    #[inline]
    pub fn version(&self) -> u8 {
        self.frame[0]
    }

    /// The header's type byte (OFPT_*).
    #[inline]
    pub fn header_type(&self) -> u8 {
        self.frame[1]
    }

    #[inline]
    pub fn xid(&self) -> u32 {
        be32(self.frame, 4)
    }

    /// The message's concrete layout.
    #[inline]
    pub fn raw(&self) -> Raw {
        self.raw
    }

    #[inline]
    pub fn msg_type(&self) -> MsgType {
        self.raw.msg_type()
    }

    /// Multipart flags (0 for other messages), as [`OfpMsg::stats_flags`].
    #[inline]
    pub fn stats_flags(&self) -> u16 {
        if self.raw.is_stat() {
            crate::buf::be16(self.frame, 10)
        } else {
            0
        }
    }

    /// A multipart reply that more replies follow (OFPSF_REPLY_MORE).
    #[inline]
    pub fn more(&self) -> bool {
        self.stats_flags() & OFPSF_REPLY_MORE != 0
    }

    #[inline]
    pub fn body(&self) -> &BodyView<'a> {
        &self.body
    }

    /// The owned message, exactly what `OfpMsg::decode` gives for the frame (payloads copied).
    #[inline]
    pub fn to_owned(&self) -> Result<OfpMsg, DecodeError> {
        match &self.body {
            BodyView::Other(m) => Ok((**m).clone()),
            _ => OfpMsg::decode(&Bytes::copy_from_slice(self.frame)),
        }
    }

    /// Like `to_owned`, without cloning a message parsing already decoded.
    #[inline]
    pub fn into_owned(self) -> Result<OfpMsg, DecodeError> {
        match self.body {
            BodyView::Other(m) => Ok(*m),
            _ => OfpMsg::decode(&Bytes::copy_from_slice(self.frame)),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, BytesMut};

    use super::*;
    use crate::raw::Family;

    /// `parse` looks for views only among what `pull_quick_ok` identifies: every standard layout of
    /// a message type with a view is there, in OpenFlow 1.0–1.5.
    #[test]
    fn every_layout_with_a_view_is_quickly_identified() {
        use MsgType::*;
        let mut n = 0;
        for info in raw::all_raw_info() {
            let viewed = matches!(
                info.msg_type,
                PacketIn
                    | FlowMod
                    | EchoRequest
                    | EchoReply
                    | BarrierRequest
                    | BarrierReply
                    | FlowStatsReply
                    | PortStatsReply
            );
            if !viewed || !matches!(info.family, Family::Ofpt | Family::Ofpst) {
                continue;
            }
            for version in info.min_version..=info.max_version.min(6) {
                let mut b = BytesMut::new();
                let start = info.raw.put_headers(version, 1, 0, &mut b);
                b.put_bytes(0, usize::from(info.min_body));
                raw::finish_msg(&mut b, start);
                assert_eq!(raw::pull_quick_ok(&b), Some((info.raw, info.raw.hdrs_len(version))), "{:?}", info.raw);
                n += 1;
            }
        }
        assert!(n > 20, "{n}");
    }

    /// The lengths and numbers the shortcuts assume are OF1.3's.
    #[test]
    fn of13_lengths_are_the_layouts() {
        let info = Raw::Ofpt11FlowMod.info();
        assert_eq!((usize::from(info.min_body), info.extra_multiple, info.number), (OF13_FLOW_MOD_MIN_BODY, 8, 14));
        assert_eq!(Raw::Ofpst13FlowReply.info().number, u32::from(OFPMP_FLOW));
        assert_eq!(Raw::Ofpst13PortReply.info().number, u32::from(OFPMP_PORT_STATS));
        for raw in [Raw::Ofpst13FlowReply, Raw::Ofpst13PortReply] {
            assert_eq!((raw.hdrs_len(4), raw.info().min_body), (16, 0));
        }
        let of13 = [
            (2, Raw::OfptEchoRequest),
            (3, Raw::OfptEchoReply),
            (10, Raw::Ofpt13PacketIn),
            (14, Raw::Ofpt11FlowMod),
            (20, Raw::Ofpt11BarrierRequest),
            (21, Raw::Ofpt11BarrierReply),
        ];
        for (msg_type, raw) in of13 {
            let frame = [4, msg_type, 0, 8, 0, 0, 0, 0];
            assert_eq!(raw::identify(&frame).map(|r| (r, r.hdrs_len(4))), Ok((raw, 8)), "{msg_type}");
        }
        for (stat, raw) in [(OFPMP_FLOW, Raw::Ofpst13FlowReply), (OFPMP_PORT_STATS, Raw::Ofpst13PortReply)] {
            let mut frame = vec![4, 19, 0, 16, 0, 0, 0, 0];
            frame.extend(stat.to_be_bytes());
            frame.resize(16, 0);
            assert_eq!(raw::identify(&frame), Ok(raw));
        }
    }

    /// The OpenFlow 1.3 shortcuts find what the general path finds, and only that.
    #[test]
    fn the_shortcuts_are_the_general_path() {
        fn general(frame: &[u8]) -> Option<MsgView<'_>> {
            let (raw, hdrs_len) = raw::pull_quick_ok(frame)?;
            match BodyView::layout(raw, frame[0], &frame[hdrs_len..])? {
                (body, true) => Some(MsgView { frame, raw, body }),
                _ => None,
            }
        }
        fn shortcut(frame: &[u8]) -> Option<MsgView<'_>> {
            MsgView::of13_common(frame).or_else(|| MsgView::of13_tables(frame))
        }
        let mut packet_in = vec![4, 10, 0, 0, 0, 0, 0, 9];
        packet_in.extend([0xff, 0xff, 0xff, 0xff, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
        packet_in.extend([0, 1, 0, 12, 0x80, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
        packet_in.extend([0xab; 64]);
        let mut shortcuts = 0;
        for msg_type in 0..=32u8 {
            for len in 8..packet_in.len() {
                let changes = [(0, 4), (0, 5), (0, 1), (27, 3), (20, 0x80), (24, 0), (25, 0xff), (26, 0), (17, 1)];
                for (at, byte) in changes {
                    let mut f = packet_in[..len].to_vec();
                    f[1] = msg_type;
                    if let Some(b) = f.get_mut(at) {
                        *b = byte;
                    }
                    f[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                    if let Some(v) = shortcut(&f) {
                        assert_eq!(general(&f), Some(v), "{f:02x?}");
                        shortcuts += 1;
                    }
                }
            }
        }
        assert!(shortcuts > 1000, "{shortcuts}");
        // Flow mods and statistics replies, whole and cut short, with bytes changed here and there.
        let mut shortcuts = 0;
        for frame in of13_frames() {
            for len in 8..=frame.len() {
                for at in (0..len).step_by(3) {
                    for byte in [0, 1, 0x80, 0xff] {
                        let mut f = frame[..len].to_vec();
                        f[at] = byte;
                        f[0] = 4;
                        if let Some(v) = shortcut(&f) {
                            assert_eq!(general(&f), Some(v), "{f:02x?}");
                            shortcuts += 1;
                        }
                    }
                }
            }
        }
        assert!(shortcuts > 1000, "{shortcuts}");
    }

    /// An OF1.3 flow mod, flow statistics reply and port statistics reply.
    fn of13_frames() -> Vec<Vec<u8>> {
        use crate::actions::Action;
        use crate::flow::ETH_TYPE_IP;
        use crate::instructions::Instructions;
        use crate::msg::flow_mod::FlowMod;
        use crate::msg::flow_stats::{FlowStats, FlowStatsReply};
        use crate::msg::stats::{PortStats, PortStatsReply};
        use crate::msg::{Message, OfpMsg};
        use crate::ofmatch::Match;
        let mut m = Match::catchall();
        m.set_in_port(3);
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_dst_masked(0x0a00_0001, u32::MAX);
        let instructions = Instructions::apply([Action::Output { port: 2, max_len: 0 }]);
        let flow_mod = FlowMod { match_: m, instructions: instructions.clone(), ..FlowMod::default() };
        let stats = FlowStats { match_: m, instructions, ..FlowStats::default() };
        let bodies = [
            Message::FlowMod(flow_mod),
            Message::FlowStatsReply(FlowStatsReply { entries: vec![stats.clone(), stats] }),
            Message::PortStatsReply(PortStatsReply { ports: vec![PortStats::unknown(1), PortStats::unknown(2)] }),
        ];
        bodies.into_iter().map(|b| OfpMsg::new(4, 1, b).to_bytes().to_vec()).collect()
    }
}
