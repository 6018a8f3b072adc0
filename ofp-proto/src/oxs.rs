//! OF1.5 OXS statistics (OVS `ox-stat.c`): a 4-byte header (reserved, length) and TLVs for
//! duration, idle time, flow, packet and byte counts, padded to 8. Absent stats are "unknown".

use bytes::{BufMut, BytesMut};

use crate::buf::{pad8, round_up8, Reader};
use crate::errors::OfpErr;

const OXS_CLASS_BASIC: u16 = 0x8002;
const OXS_DURATION: u8 = 0;
const OXS_IDLE_TIME: u8 = 1;
const OXS_FLOW_COUNT: u8 = 3;
const OXS_PACKET_COUNT: u8 = 4;
const OXS_BYTE_COUNT: u8 = 5;

/// Statistics carried as OXS; `None` when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OxsStats {
    /// (seconds, nanoseconds)
    pub duration: Option<(u32, u32)>,
    /// Seconds idle.
    pub idle_age: Option<u32>,
    pub packet_count: Option<u64>,
    pub byte_count: Option<u64>,
    pub flow_count: Option<u32>,
}

fn oxs_header(field: u8, len: u8) -> u32 {
    u32::from(OXS_CLASS_BASIC) << 16 | u32::from(field) << 9 | u32::from(len)
}

impl OxsStats {
    /// Pulls the stats block, returning it and the padded bytes consumed (OVS `oxs_pull_stat`).
    pub fn pull(r: &mut Reader) -> Result<(OxsStats, usize), OfpErr> {
        let rest = r.peek_rest();
        if rest.len() < 4 {
            return Err(OfpErr::OFPBMC_BAD_LEN);
        }
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let padded = round_up8(len);
        if len < 4 || rest.len() < padded {
            return Err(OfpErr::OFPBMC_BAD_LEN);
        }
        let mut b = &rest[4..len];
        let mut s = OxsStats::default();
        while !b.is_empty() {
            if b.len() < 4 {
                return Err(OfpErr::OFPBMC_BAD_LEN);
            }
            let h = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let class = (h >> 16) as u16;
            let exp = if class == 0xffff { 4 } else { 0 };
            let length = (h & 0xff) as usize;
            if b.len() < 4 + exp || length < exp {
                return Err(OfpErr::OFPBMC_BAD_LEN);
            }
            b = &b[4 + exp..];
            let payload_len = length - exp;
            if b.len() < payload_len {
                return Err(OfpErr::OFPBMC_BAD_LEN);
            }
            let (p, tail) = b.split_at(payload_len);
            b = tail;
            let v = p.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
            // Only exactly-known headers count; anything else is skipped.
            match h {
                x if x == oxs_header(OXS_DURATION, 8) => s.duration = Some(((v >> 32) as u32, v as u32)),
                x if x == oxs_header(OXS_IDLE_TIME, 8) => s.idle_age = Some((v >> 32) as u32),
                x if x == oxs_header(OXS_PACKET_COUNT, 8) => s.packet_count = Some(v),
                x if x == oxs_header(OXS_BYTE_COUNT, 8) => s.byte_count = Some(v),
                x if x == oxs_header(OXS_FLOW_COUNT, 4) => s.flow_count = Some(v as u32),
                _ => {}
            }
        }
        r.skip(padded)?;
        Ok((s, padded))
    }

    /// Appends the stats block (OVS `oxs_put_stats`), in OVS's order.
    pub fn put(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u32(0);
        if let Some((sec, nsec)) = self.duration {
            buf.put_u32(oxs_header(OXS_DURATION, 8));
            buf.put_u32(sec);
            buf.put_u32(nsec);
        }
        if let Some(idle) = self.idle_age {
            buf.put_u32(oxs_header(OXS_IDLE_TIME, 8));
            buf.put_u64(u64::from(idle) << 32);
        }
        if let Some(p) = self.packet_count {
            buf.put_u32(oxs_header(OXS_PACKET_COUNT, 8));
            buf.put_u64(p);
        }
        if let Some(b) = self.byte_count {
            buf.put_u32(oxs_header(OXS_BYTE_COUNT, 8));
            buf.put_u64(b);
        }
        if let Some(f) = self.flow_count {
            buf.put_u32(oxs_header(OXS_FLOW_COUNT, 4));
            buf.put_u32(f);
        }
        let len = (buf.len() - start) as u16;
        buf[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
        pad8(buf, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn round_trip_and_errors() {
        let s = OxsStats { duration: Some((5, 7)), packet_count: Some(9), flow_count: Some(2), ..OxsStats::default() };
        let mut b = BytesMut::new();
        s.put(&mut b);
        let want = "00000024 80020008 00000005 00000007 80020808 0000000000000009 80020604 00000002 00000000";
        assert_eq!(&b[..], &crate::print::parse_hex(want).unwrap()[..]);
        let mut r = Reader::new(b.freeze());
        assert_eq!(OxsStats::pull(&mut r), Ok((s, 40)));
        assert!(r.is_empty());
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 3, 0, 0, 0, 0]));
        assert_eq!(OxsStats::pull(&mut r), Err(OfpErr::OFPBMC_BAD_LEN));
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 12, 0x80, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(OxsStats::pull(&mut r), Err(OfpErr::OFPBMC_BAD_LEN));
    }
}
