//! OFPT_FLOW_REMOVED (OF1.0, OF1.1–1.4, OF1.5 with OXS stats) and NXT_FLOW_REMOVED (OVS
//! `ofputil_decode_flow_removed`, `ofputil_encode_flow_removed`, flow-removed text).

use std::fmt::Write;

use bytes::{BufMut, BytesMut};

use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::header::OFP14_VERSION;
use crate::msg::{Body, Cx};
use crate::ofmatch::ofp10::OFP10_MATCH_LEN;
use crate::ofmatch::{nxm, ofp11, Match};
use crate::oxs::OxsStats;
use crate::raw::Raw;

pub const OFPRR_IDLE_TIMEOUT: u8 = 0;
pub const OFPRR_HARD_TIMEOUT: u8 = 1;
pub const OFPRR_DELETE: u8 = 2;
pub const OFPRR_GROUP_DELETE: u8 = 3;
pub const OFPRR_METER_DELETE: u8 = 4;
pub const OFPRR_EVICTION: u8 = 5;

/// OVS `ofp_flow_removed_reason_to_string`.
pub fn flow_removed_reason_name(reason: u8) -> String {
    match reason {
        OFPRR_IDLE_TIMEOUT => "idle".into(),
        OFPRR_HARD_TIMEOUT => "hard".into(),
        OFPRR_DELETE => "delete".into(),
        OFPRR_GROUP_DELETE => "group_delete".into(),
        OFPRR_EVICTION => "eviction".into(),
        OFPRR_METER_DELETE => "meter_delete".into(),
        r => r.to_string(),
    }
}

/// OVS `ofp_print_duration`: seconds, then milliseconds or as many nanosecond digits as needed.
pub fn format_duration(sec: u32, nsec: u32, out: &mut String) {
    let _ = write!(out, "{sec}");
    if nsec > 0 {
        let msec = nsec / 1_000_000;
        if msec * 1_000_000 == nsec {
            let _ = write!(out, ".{msec:03}");
        } else {
            let s = format!("{nsec:09}");
            out.push('.');
            out.push_str(s.trim_end_matches('0'));
        }
    }
    out.push('s');
}

/// A flow left the table (OVS `struct ofputil_flow_removed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRemoved {
    pub match_: Match,
    pub priority: u16,
    pub cookie: u64,
    /// OFPRR_*.
    pub reason: u8,
    /// 255 when the message cannot say (OF1.0).
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub packet_count: u64,
    pub byte_count: u64,
}

impl Default for FlowRemoved {
    fn default() -> Self {
        FlowRemoved {
            match_: Match::catchall(),
            priority: crate::ofmatch::OFP_DEFAULT_PRIORITY,
            cookie: 0,
            reason: OFPRR_IDLE_TIMEOUT,
            table_id: 255,
            duration_sec: 0,
            duration_nsec: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            packet_count: 0,
            byte_count: 0,
        }
    }
}

impl Body for FlowRemoved {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let mut fr = FlowRemoved::default();
        match cx.raw {
            Raw::Ofpt15FlowRemoved => {
                fr.table_id = r.u8()?;
                fr.reason = r.u8()?;
                fr.priority = r.u16()?;
                fr.idle_timeout = r.u16()?;
                fr.hard_timeout = r.u16()?;
                fr.cookie = r.u64()?;
                ofp11::pull_ofp11_match_into(r, &mut fr.match_)?;
                let (s, _) = OxsStats::pull(r)?;
                (fr.duration_sec, fr.duration_nsec) = s.duration.unwrap_or((u32::MAX, u32::MAX));
                fr.packet_count = s.packet_count.unwrap_or(u64::MAX);
                fr.byte_count = s.byte_count.unwrap_or(u64::MAX);
            }
            Raw::Ofpt11FlowRemoved => {
                fr.cookie = r.u64()?;
                fr.priority = r.u16()?;
                fr.reason = r.u8()?;
                fr.table_id = r.u8()?;
                fr.duration_sec = r.u32()?;
                fr.duration_nsec = r.u32()?;
                fr.idle_timeout = r.u16()?;
                fr.hard_timeout = r.u16()?;
                fr.packet_count = r.u64()?;
                fr.byte_count = r.u64()?;
                ofp11::pull_ofp11_match_into(r, &mut fr.match_)?;
            }
            Raw::Ofpt10FlowRemoved => {
                let m: [u8; OFP10_MATCH_LEN] = r.array()?;
                fr.match_ = Match::from_ofp10(&m);
                fr.cookie = r.u64()?;
                fr.priority = r.u16()?;
                fr.reason = r.u8()?;
                r.skip(1)?;
                fr.duration_sec = r.u32()?;
                fr.duration_nsec = r.u32()?;
                fr.idle_timeout = r.u16()?;
                r.skip(2)?;
                fr.packet_count = r.u64()?;
                fr.byte_count = r.u64()?;
            }
            _ => {
                fr.cookie = r.u64()?;
                fr.priority = r.u16()?;
                fr.reason = r.u8()?;
                // NXM carries the table id plus one, 0 meaning unknown.
                fr.table_id = r.u8()?.wrapping_sub(1);
                fr.duration_sec = r.u32()?;
                fr.duration_nsec = r.u32()?;
                fr.idle_timeout = r.u16()?;
                let match_len = usize::from(r.u16()?);
                fr.packet_count = r.u64()?;
                fr.byte_count = r.u64()?;
                nxm::pull_nx_match_into(r, match_len, true, None, &mut fr.match_)?;
                if !r.is_empty() {
                    return Err(OfpErr::OFPBRC_BAD_LEN);
                }
            }
        }
        Ok(fr)
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        let version = cx.version;
        // Meter deletion has no reason code before OF1.4.
        let reason =
            if self.reason == OFPRR_METER_DELETE && version < OFP14_VERSION { OFPRR_DELETE } else { self.reason };
        let known = |v: u64| if v == u64::MAX { 0 } else { v };
        match cx.raw {
            Raw::Ofpt15FlowRemoved => {
                buf.put_u8(self.table_id);
                buf.put_u8(reason);
                buf.put_u16(self.priority);
                buf.put_u16(self.idle_timeout);
                buf.put_u16(self.hard_timeout);
                buf.put_u64(self.cookie);
                ofp11::put_ofp11_match(buf, &self.match_, version);
                let some64 = |v: u64| (v != u64::MAX).then_some(v);
                OxsStats {
                    duration: (self.duration_sec != u32::MAX).then_some((self.duration_sec, self.duration_nsec)),
                    packet_count: some64(self.packet_count),
                    byte_count: some64(self.byte_count),
                    ..OxsStats::default()
                }
                .put(buf);
            }
            Raw::Ofpt11FlowRemoved => {
                buf.put_u64(self.cookie);
                buf.put_u16(self.priority);
                buf.put_u8(reason);
                buf.put_u8(self.table_id);
                buf.put_u32(self.duration_sec);
                buf.put_u32(self.duration_nsec);
                buf.put_u16(self.idle_timeout);
                buf.put_u16(self.hard_timeout);
                buf.put_u64(self.packet_count);
                buf.put_u64(self.byte_count);
                ofp11::put_ofp11_match(buf, &self.match_, version);
            }
            Raw::Ofpt10FlowRemoved => {
                buf.put_slice(&self.match_.to_ofp10());
                buf.put_u64(self.cookie);
                buf.put_u16(self.priority);
                buf.put_u8(reason);
                buf.put_u8(0);
                buf.put_u32(self.duration_sec);
                buf.put_u32(self.duration_nsec);
                buf.put_u16(self.idle_timeout);
                buf.put_u16(0);
                buf.put_u64(known(self.packet_count));
                buf.put_u64(known(self.byte_count));
            }
            _ => {
                let start = buf.len();
                buf.put_u64(self.cookie);
                buf.put_u16(self.priority);
                buf.put_u8(reason);
                buf.put_u8(self.table_id.wrapping_add(1));
                buf.put_u32(self.duration_sec);
                buf.put_u32(self.duration_nsec);
                buf.put_u16(self.idle_timeout);
                buf.put_u16(0);
                buf.put_u64(self.packet_count);
                buf.put_u64(self.byte_count);
                let len = nxm::put_nx_match(buf, &self.match_, 0, 0);
                buf[start + 22..start + 24].copy_from_slice(&(len as u16).to_be_bytes());
            }
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push(' ');
        self.match_.format(self.priority, out);
        let _ = write!(out, " reason={}", flow_removed_reason_name(self.reason));
        if self.table_id != 255 {
            let _ = write!(out, " table_id={}", self.table_id);
        }
        if self.cookie != 0 {
            let _ = write!(out, " cookie:0x{:x}", self.cookie);
        }
        out.push_str(" duration");
        format_duration(self.duration_sec, self.duration_nsec, out);
        let _ = write!(out, " idle{}", self.idle_timeout);
        if self.hard_timeout != 0 {
            let _ = write!(out, " hard{}", self.hard_timeout);
        }
        let _ = writeln!(out, " pkts{} bytes{}", self.packet_count, self.byte_count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ETH_TYPE_IP;
    use crate::msg::{Message, OfpMsg};
    use crate::print::first_line;

    fn sample() -> FlowRemoved {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_default_packet_type();
        m.set_nw_src_masked(0x0a00_0000, 0xff00_0000);
        FlowRemoved {
            match_: m,
            priority: 7,
            cookie: 0x55,
            reason: OFPRR_METER_DELETE,
            table_id: 3,
            duration_sec: 5,
            duration_nsec: 820_000_000,
            idle_timeout: 10,
            hard_timeout: 20,
            packet_count: 1,
            byte_count: 60,
        }
    }

    #[test]
    fn durations() {
        let d = |s, n| {
            let mut o = String::new();
            format_duration(s, n, &mut o);
            o
        };
        assert_eq!(d(3600, 500_000), "3600.0005s");
        assert_eq!(d(1, 48_000_000), "1.048s");
        assert_eq!(d(0, 0), "0s");
    }

    #[test]
    fn every_version_round_trips() {
        for (v, raw) in [
            (4, Raw::Ofpt11FlowRemoved),
            (5, Raw::Ofpt11FlowRemoved),
            (6, Raw::Ofpt15FlowRemoved),
            (1, Raw::NxtFlowRemoved),
            (4, Raw::NxtFlowRemoved),
        ] {
            let msg = OfpMsg::new(v, 0, Message::FlowRemoved(sample())).with_raw(raw);
            let back = OfpMsg::decode(&msg.to_bytes()).unwrap();
            let mut want = sample();
            if v < OFP14_VERSION {
                want.reason = OFPRR_DELETE;
            }
            if raw == Raw::NxtFlowRemoved {
                // NXM has no hard timeout field.
                want.hard_timeout = 0;
            }
            assert_eq!(back.body, Message::FlowRemoved(want), "{raw:?} v{v}");
        }
        assert_eq!(
            first_line(&OfpMsg::new(5, 0, Message::FlowRemoved(sample())).to_bytes()),
            "OFPT_FLOW_REMOVED (OF1.4) (xid=0x0): priority=7,ip,nw_src=10.0.0.0/8 reason=meter_delete table_id=3 \
             cookie:0x55 duration5.820s idle10 hard20 pkts1 bytes60"
        );
    }
}
