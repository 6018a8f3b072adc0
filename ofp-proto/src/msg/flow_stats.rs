//! Flow and aggregate statistics: OFPST_FLOW / OFPST_AGGREGATE / NXST_FLOW / NXST_AGGREGATE
//! requests and replies in every version (OVS `ofputil_decode_flow_stats_request`,
//! `ofputil_decode_flow_stats_reply`, `ofputil_append_flow_stats_reply`, aggregate replies), with
//! splitting of long flow-stats replies into messages of at most 65535 bytes.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::{round_up8, Reader};
use crate::errors::OfpErr;
use crate::header::{OFP10_VERSION, OFP14_VERSION};
use crate::instructions::Instructions;
use crate::msg::flow_mod::{FlowModFlags, OFPG_ANY};
use crate::msg::flow_removed::format_duration;
use crate::msg::{multipart, Body, Cx};
use crate::ofmatch::ofp10::OFP10_MATCH_LEN;
use crate::ofmatch::{nxm, ofp11, Match, OFP_DEFAULT_PRIORITY};
use crate::oxs::OxsStats;
use crate::port_no;
use crate::raw::{MsgType, Raw};

/// A flow or aggregate statistics request (OVS `struct ofputil_flow_stats_request`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStatsRequest {
    pub match_: Match,
    pub cookie: u64,
    pub cookie_mask: u64,
    /// Only flows that output to this port (OFPP_ANY: any).
    pub out_port: u32,
    pub out_group: u32,
    /// 255: all tables.
    pub table_id: u8,
}

impl Default for FlowStatsRequest {
    fn default() -> Self {
        FlowStatsRequest {
            match_: Match::catchall(),
            cookie: 0,
            cookie_mask: 0,
            out_port: port_no::ANY,
            out_group: OFPG_ANY,
            table_id: 255,
        }
    }
}

impl Body for FlowStatsRequest {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let mut fsr = FlowStatsRequest::default();
        match cx.raw {
            Raw::Ofpst10FlowRequest | Raw::Ofpst10AggregateRequest => {
                let m: [u8; OFP10_MATCH_LEN] = r.array()?;
                fsr.match_ = Match::from_ofp10(&m);
                fsr.table_id = r.u8()?;
                r.skip(1)?;
                fsr.out_port = port_no::ofp10_to_ofp11(r.u16()?);
            }
            Raw::NxstFlowRequest | Raw::NxstAggregateRequest => {
                fsr.out_port = port_no::ofp10_to_ofp11(r.u16()?);
                let match_len = usize::from(r.u16()?);
                fsr.table_id = r.u8()?;
                r.skip(3)?;
                let mut cookie = (0, 0);
                nxm::pull_nx_match_into(r, match_len, true, Some(&mut cookie), &mut fsr.match_)?;
                (fsr.cookie, fsr.cookie_mask) = cookie;
                if !r.is_empty() {
                    return Err(OfpErr::OFPBRC_BAD_LEN);
                }
            }
            _ => {
                fsr.table_id = r.u8()?;
                r.skip(3)?;
                fsr.out_port = port_no::from_ofp11(r.u32()?)?;
                fsr.out_group = r.u32()?;
                r.skip(4)?;
                fsr.cookie = r.u64()?;
                fsr.cookie_mask = r.u64()?;
                ofp11::pull_ofp11_match_into(r, &mut fsr.match_)?;
            }
        }
        Ok(fsr)
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        match cx.raw {
            Raw::Ofpst10FlowRequest | Raw::Ofpst10AggregateRequest => {
                buf.put_slice(&self.match_.to_ofp10());
                buf.put_u8(self.table_id);
                buf.put_u8(0);
                buf.put_u16(port_no::to_ofp10_wire(self.out_port));
            }
            Raw::NxstFlowRequest | Raw::NxstAggregateRequest => {
                let start = buf.len();
                buf.put_u16(port_no::to_ofp10_wire(self.out_port));
                buf.put_u16(0);
                buf.put_u8(self.table_id);
                buf.put_bytes(0, 3);
                let len = nxm::put_nx_match(buf, &self.match_, self.cookie, self.cookie_mask);
                buf[start + 2..start + 4].copy_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                buf.put_u8(self.table_id);
                buf.put_bytes(0, 3);
                buf.put_u32(self.out_port);
                buf.put_u32(self.out_group);
                buf.put_u32(0);
                buf.put_u64(self.cookie);
                buf.put_u64(self.cookie_mask);
                ofp11::put_ofp11_match(buf, &self.match_, cx.version);
            }
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        if self.table_id != 0xff {
            let _ = write!(out, " table={}", self.table_id);
        }
        if self.out_port != port_no::ANY {
            out.push_str(" out_port=");
            port_no::format_port(self.out_port, out);
        }
        out.push(' ');
        self.match_.format(OFP_DEFAULT_PRIORITY, out);
    }
}

/// One flow's statistics (OVS `struct ofputil_flow_stats`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStats {
    pub table_id: u8,
    pub match_: Match,
    pub priority: u16,
    pub cookie: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    /// OF1.4+ eviction importance.
    pub importance: u16,
    /// OF1.3+ flow flags.
    pub flags: FlowModFlags,
    /// Seconds since the last packet / last modification, if the message can say (NXM, OF1.5).
    pub idle_age: Option<u32>,
    pub hard_age: Option<u32>,
    /// u64::MAX: unknown.
    pub packet_count: u64,
    pub byte_count: u64,
    pub instructions: Instructions,
}

impl Default for FlowStats {
    fn default() -> Self {
        FlowStats {
            table_id: 0,
            match_: Match::catchall(),
            priority: OFP_DEFAULT_PRIORITY,
            cookie: 0,
            duration_sec: 0,
            duration_nsec: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            importance: 0,
            flags: FlowModFlags::default(),
            idle_age: None,
            hard_age: None,
            packet_count: 0,
            byte_count: 0,
            instructions: Instructions::default(),
        }
    }
}

/// Instructions of `len` bytes that must lie within the entry (OFPBIC_BAD_LEN otherwise).
fn pull_instructions(r: &mut Reader, len: Option<usize>, version: u8) -> Result<Instructions, OfpErr> {
    let bad = if version == OFP10_VERSION { OfpErr::OFPBRC_BAD_LEN } else { OfpErr::OFPBIC_BAD_LEN };
    let len = len.ok_or(bad)?;
    if !len.is_multiple_of(8) || len > r.remaining() {
        return Err(bad);
    }
    Instructions::decode(&r.bytes(len)?, version)
}

impl FlowStats {
    /// Decodes one entry of a reply of `raw` (OVS `ofputil_decode_flow_stats_reply`, with the
    /// flow-age extension as ofp-print decodes).
    pub fn decode(raw: Raw, version: u8, r: &mut Reader) -> Result<FlowStats, OfpErr> {
        let mut fs = FlowStats::default();
        let start = r.remaining();
        let consumed = |r: &Reader| start - r.remaining();
        match raw {
            Raw::Ofpst15FlowReply => {
                let length = usize::from(r.u16()?);
                r.skip(2)?;
                fs.table_id = r.u8()?;
                r.skip(1)?;
                fs.priority = r.u16()?;
                fs.idle_timeout = r.u16()?;
                fs.hard_timeout = r.u16()?;
                let flags = r.u16()?;
                fs.importance = r.u16()?;
                fs.cookie = r.u64()?;
                if length < 24 {
                    return Err(OfpErr::OFPBRC_BAD_LEN);
                }
                ofp11::pull_ofp11_match_into(r, &mut fs.match_)?;
                fs.flags = FlowModFlags::decode(flags, false, version)?;
                let (s, _) = OxsStats::pull(r)?;
                (fs.duration_sec, fs.duration_nsec) = s.duration.unwrap_or((u32::MAX, u32::MAX));
                fs.packet_count = s.packet_count.unwrap_or(u64::MAX);
                fs.byte_count = s.byte_count.unwrap_or(u64::MAX);
                fs.idle_age = s.idle_age.filter(|&a| a != u32::MAX);
                fs.instructions = pull_instructions(r, length.checked_sub(consumed(r)), version)?;
            }
            Raw::Ofpst11FlowReply | Raw::Ofpst13FlowReply => {
                let length = fs.pull_head(r)?;
                let flags = r.u16()?;
                let importance = r.u16()?;
                r.skip(2)?;
                fs.cookie = r.u64()?;
                fs.packet_count = r.u64()?;
                fs.byte_count = r.u64()?;
                if length < 48 {
                    return Err(OfpErr::OFPBRC_BAD_LEN);
                }
                ofp11::pull_ofp11_match_into(r, &mut fs.match_)?;
                if version >= OFP14_VERSION {
                    fs.importance = importance;
                }
                if raw == Raw::Ofpst13FlowReply {
                    fs.flags = FlowModFlags::decode(flags, false, version)?;
                }
                fs.instructions = pull_instructions(r, length.checked_sub(consumed(r)), version)?;
            }
            Raw::Ofpst10FlowReply => {
                let length = usize::from(r.u16()?);
                fs.table_id = r.u8()?;
                r.skip(1)?;
                let m: [u8; OFP10_MATCH_LEN] = r.array()?;
                fs.duration_sec = r.u32()?;
                fs.duration_nsec = r.u32()?;
                fs.priority = r.u16()?;
                fs.idle_timeout = r.u16()?;
                fs.hard_timeout = r.u16()?;
                r.skip(6)?;
                fs.cookie = r.u64()?;
                fs.packet_count = r.u64()?;
                fs.byte_count = r.u64()?;
                if length < 88 {
                    return Err(OfpErr::OFPBRC_BAD_LEN);
                }
                fs.match_ = Match::from_ofp10(&m);
                fs.instructions = pull_instructions(r, Some(length - 88), version)?;
            }
            _ => {
                let length = fs.pull_head(r)?;
                let match_len = usize::from(r.u16()?);
                let (idle_age, hard_age) = (r.u16()?, r.u16()?);
                fs.cookie = r.u64()?;
                fs.packet_count = r.u64()?;
                fs.byte_count = r.u64()?;
                if length < 48 + round_up8(match_len) {
                    return Err(OfpErr::OFPBRC_BAD_LEN);
                }
                nxm::pull_nx_match_into(r, match_len, true, None, &mut fs.match_)?;
                fs.idle_age = idle_age.checked_sub(1).map(u32::from);
                fs.hard_age = hard_age.checked_sub(1).map(u32::from);
                fs.instructions = pull_instructions(r, Some(length - 48 - round_up8(match_len)), version)?;
            }
        }
        Ok(fs)
    }

    /// The start OF1.1–1.4 and NXM entries share: length (returned), table, duration, priority
    /// and timeouts.
    fn pull_head(&mut self, r: &mut Reader) -> Result<usize, OfpErr> {
        let length = usize::from(r.u16()?);
        self.table_id = r.u8()?;
        r.skip(1)?;
        self.duration_sec = r.u32()?;
        self.duration_nsec = r.u32()?;
        self.priority = r.u16()?;
        self.idle_timeout = r.u16()?;
        self.hard_timeout = r.u16()?;
        Ok(length)
    }

    /// `pull_head`'s fields, the length as 0 for the caller to patch.
    fn put_head(&self, buf: &mut BytesMut) {
        buf.put_u16(0);
        buf.put_u8(self.table_id);
        buf.put_u8(0);
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
        buf.put_u16(self.priority);
        buf.put_u16(self.idle_timeout);
        buf.put_u16(self.hard_timeout);
    }

    /// Appends this entry in the form of `raw` (OVS `ofputil_append_flow_stats_reply`).
    pub fn encode(&self, raw: Raw, version: u8, buf: &mut BytesMut) {
        let start = buf.len();
        let known = |v: u64| if v == u64::MAX { 0 } else { v };
        let flags = self.flags.encode(version);
        match raw {
            Raw::Ofpst15FlowReply => {
                buf.put_u16(0);
                buf.put_u16(0);
                buf.put_u8(self.table_id);
                buf.put_u8(0);
                buf.put_u16(self.priority);
                buf.put_u16(self.idle_timeout);
                buf.put_u16(self.hard_timeout);
                buf.put_u16(flags);
                buf.put_u16(self.importance);
                buf.put_u64(self.cookie);
                nxm::put_oxm_match(buf, &self.match_, version);
                let some64 = |v: u64| (v != u64::MAX).then_some(v);
                OxsStats {
                    duration: (self.duration_sec != u32::MAX).then_some((self.duration_sec, self.duration_nsec)),
                    idle_age: self.idle_age,
                    packet_count: some64(self.packet_count),
                    byte_count: some64(self.byte_count),
                    flow_count: None,
                }
                .put(buf);
                self.instructions.encode(version, buf);
            }
            Raw::Ofpst11FlowReply | Raw::Ofpst13FlowReply => {
                self.put_head(buf);
                buf.put_u16(if raw == Raw::Ofpst13FlowReply { flags } else { 0 });
                buf.put_u16(if version >= OFP14_VERSION { self.importance } else { 0 });
                buf.put_u16(0);
                buf.put_u64(self.cookie);
                buf.put_u64(known(self.packet_count));
                buf.put_u64(known(self.byte_count));
                // OVS sends OXM here even in OF1.1.
                nxm::put_oxm_match(buf, &self.match_, version);
                self.instructions.encode(version, buf);
            }
            Raw::Ofpst10FlowReply => {
                buf.put_u16(0);
                buf.put_u8(self.table_id);
                buf.put_u8(0);
                buf.put_slice(&self.match_.to_ofp10());
                buf.put_u32(self.duration_sec);
                buf.put_u32(self.duration_nsec);
                buf.put_u16(self.priority);
                buf.put_u16(self.idle_timeout);
                buf.put_u16(self.hard_timeout);
                buf.put_bytes(0, 6);
                buf.put_u64(self.cookie);
                buf.put_u64(known(self.packet_count));
                buf.put_u64(known(self.byte_count));
                self.instructions.encode(version, buf);
            }
            _ => {
                self.put_head(buf);
                buf.put_u16(0);
                let age = |a: Option<u32>| a.map_or(0, |a| u16::try_from(a).unwrap_or(u16::MAX - 1) + 1);
                buf.put_u16(age(self.idle_age));
                buf.put_u16(age(self.hard_age));
                buf.put_u64(self.cookie);
                buf.put_u64(self.packet_count);
                buf.put_u64(self.byte_count);
                let len = nxm::put_nx_match(buf, &self.match_, 0, 0);
                buf[start + 18..start + 20].copy_from_slice(&(len as u16).to_be_bytes());
                self.instructions.encode(version, buf);
            }
        }
        crate::buf::patch_len16(buf, start, start);
    }

    /// OVS `ofputil_flow_stats_format` with statistics shown.
    pub fn format(&self, out: &mut String) {
        let _ = write!(out, "cookie=0x{:x}, duration=", self.cookie);
        format_duration(self.duration_sec, self.duration_nsec, out);
        let _ = write!(out, ", table={}, ", self.table_id);
        for (name, v) in [("n_packets", self.packet_count), ("n_bytes", self.byte_count)] {
            if v == u64::MAX {
                let _ = write!(out, "{name}=?, ");
            } else {
                let _ = write!(out, "{name}={v}, ");
            }
        }
        if self.idle_timeout != 0 {
            let _ = write!(out, "idle_timeout={}, ", self.idle_timeout);
        }
        if self.hard_timeout != 0 {
            let _ = write!(out, "hard_timeout={}, ", self.hard_timeout);
        }
        self.flags.format(out);
        if self.importance != 0 {
            let _ = write!(out, "importance={}, ", self.importance);
        }
        if let Some(a) = self.idle_age {
            let _ = write!(out, "idle_age={a}, ");
        }
        if let Some(a) = self.hard_age.filter(|&a| a != self.duration_sec) {
            let _ = write!(out, "hard_age={a}, ");
        }
        let before = out.len();
        self.match_.format(self.priority, out);
        if out.len() != before {
            out.push(' ');
        }
        out.push_str("actions=");
        crate::actions::format_instructions(&self.instructions, out);
    }
}

/// One flow-stats reply message's entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowStatsReply {
    pub entries: Vec<FlowStats>,
}

impl FlowStatsReply {
    /// The reply as the messages OVS sends in `version` (see [`multipart::encode_entries`]).
    pub fn encode_multipart(&self, version: u8, xid: u32) -> Vec<Bytes> {
        let t = MsgType::FlowStatsReply;
        multipart::encode_entries(t, version, xid, &self.entries, |e, raw, buf| e.encode(raw, version, buf))
    }
}

impl Body for FlowStatsReply {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let entries = multipart::decode_list(r, |r| FlowStats::decode(cx.raw, cx.version, r))?;
        Ok(FlowStatsReply { entries })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        for e in &self.entries {
            e.encode(cx.raw, cx.version, buf);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        for e in &self.entries {
            out.push_str("\n ");
            e.format(out);
        }
    }
}

/// Totals over the flows a request selects (OVS `struct ofputil_aggregate_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AggregateStats {
    /// u64::MAX: unknown.
    pub packet_count: u64,
    pub byte_count: u64,
    pub flow_count: u32,
}

impl Body for AggregateStats {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        if cx.raw == Raw::Ofpst15AggregateReply {
            let (s, _) = OxsStats::pull(r)?;
            return Ok(AggregateStats {
                packet_count: s.packet_count.unwrap_or(u64::MAX),
                byte_count: s.byte_count.unwrap_or(u64::MAX),
                flow_count: s.flow_count.unwrap_or(u32::MAX),
            });
        }
        let a = AggregateStats { packet_count: r.u64()?, byte_count: r.u64()?, flow_count: r.u32()? };
        r.skip(4)?;
        Ok(a)
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        if cx.raw == Raw::Ofpst15AggregateReply {
            OxsStats {
                packet_count: Some(self.packet_count).filter(|&v| v != u64::MAX),
                byte_count: Some(self.byte_count).filter(|&v| v != u64::MAX),
                flow_count: Some(self.flow_count).filter(|&v| v != u32::MAX),
                ..OxsStats::default()
            }
            .put(buf);
            return;
        }
        // OF1.0 has no "unknown".
        let known = |v: u64| if v == u64::MAX && cx.version == OFP10_VERSION { 0 } else { v };
        buf.put_u64(known(self.packet_count));
        buf.put_u64(known(self.byte_count));
        buf.put_u32(self.flow_count);
        buf.put_u32(0);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        let _ = write!(
            out,
            " packet_count={} byte_count={} flow_count={}",
            self.packet_count, self.byte_count, self.flow_count
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;
    use crate::header::MAX_MSG_LEN;
    use crate::msg::{Message, OfpMsg};
    use crate::print::{ofp_to_string, parse_hex};
    use crate::raw::OFPSF_REPLY_MORE;

    fn entry(i: u16) -> FlowStats {
        let mut m = Match::catchall();
        m.set_in_port(i.into());
        FlowStats {
            match_: m,
            priority: i,
            packet_count: 3,
            byte_count: 4,
            duration_sec: 1,
            instructions: Instructions::apply([Action::Output { port: 1, max_len: 0 }]),
            ..FlowStats::default()
        }
    }

    #[test]
    fn replies_round_trip_in_every_form() {
        let mut e = entry(5);
        e.idle_age = Some(2);
        for (v, raw) in [
            (1, Raw::Ofpst10FlowReply),
            (1, Raw::NxstFlowReply),
            (2, Raw::Ofpst11FlowReply),
            (4, Raw::Ofpst13FlowReply),
            (5, Raw::Ofpst13FlowReply),
            (6, Raw::Ofpst15FlowReply),
        ] {
            let mut want = e.clone();
            if !matches!(raw, Raw::NxstFlowReply | Raw::Ofpst15FlowReply) {
                want.idle_age = None;
            }
            let body = Message::FlowStatsReply(FlowStatsReply { entries: vec![want.clone(), want.clone()] });
            let msg = OfpMsg::new(v, 9, body.clone()).with_raw(raw);
            let back = OfpMsg::decode(&msg.to_bytes()).unwrap();
            assert_eq!(back.body, body, "{raw:?}");
        }
    }

    #[test]
    fn aggregate_reply_text() {
        let b = parse_hex("011100240000000400020000000000000000018200000000000093780000000400000000").unwrap();
        assert_eq!(
            ofp_to_string(&b, 1),
            "OFPST_AGGREGATE reply (xid=0x4): packet_count=386 byte_count=37752 flow_count=4\n"
        );
        let a = AggregateStats { packet_count: 1, byte_count: 2, flow_count: 3 };
        let msg = OfpMsg::new(6, 1, Message::AggregateStatsReply(a));
        assert_eq!(OfpMsg::decode(&msg.to_bytes()).unwrap().body, Message::AggregateStatsReply(a));
    }

    #[test]
    fn long_replies_split_under_64k_with_more_flag() {
        let reply = FlowStatsReply { entries: (0..2000).map(entry).collect() };
        let msgs = reply.encode_multipart(4, 7);
        assert!(msgs.len() > 1);
        let mut back = vec![];
        for (i, m) in msgs.iter().enumerate() {
            assert!(m.len() <= MAX_MSG_LEN);
            let d = OfpMsg::decode(m).unwrap();
            assert_eq!(d.xid, 7);
            assert_eq!(d.stats_flags, if i + 1 < msgs.len() { OFPSF_REPLY_MORE } else { 0 });
            let Message::FlowStatsReply(r) = d.body else { panic!() };
            back.extend(r.entries);
        }
        assert_eq!(back, reply.entries);
        // Each message but the last is full: the next entry would not have fit.
        let one = {
            let mut b = BytesMut::new();
            reply.entries[0].encode(Raw::Ofpst13FlowReply, 4, &mut b);
            b.len()
        };
        assert!(msgs[0].len() + one > MAX_MSG_LEN);
    }

    #[test]
    fn request_forms() {
        let mut r = FlowStatsRequest { table_id: 3, out_port: 2, cookie: 5, cookie_mask: 0xff, ..Default::default() };
        r.match_.set_in_port(1);
        for (v, raw) in [(4, Raw::Ofpst11FlowRequest), (1, Raw::NxstFlowRequest), (6, Raw::Ofpst15AggregateRequest)] {
            let body = if raw == Raw::Ofpst15AggregateRequest {
                Message::AggregateStatsRequest(r.clone())
            } else {
                Message::FlowStatsRequest(r.clone())
            };
            let msg = OfpMsg::new(v, 1, body.clone()).with_raw(raw);
            assert_eq!(OfpMsg::decode(&msg.to_bytes()).unwrap().body, body, "{raw:?}");
        }
        let msg = OfpMsg::new(4, 2, Message::FlowStatsRequest(r));
        assert_eq!(
            ofp_to_string(&msg.to_bytes(), 1),
            "OFPST_FLOW request (OF1.3) (xid=0x2): table=3 out_port=2 in_port=1\n"
        );
    }
}
