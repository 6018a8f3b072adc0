//! Multipart request reassembly (OVS `ofpmp_assembler`): the parts of an OF1.3+ multipart request
//! sent with the "more" flag are held until the last one, at most 1 s apart and 4 MiB in all.

use std::time::Duration;

use ofp_proto::{header, raw, OfpErr, Raw};
use rconn_core::Received;
use smallvec::{smallvec, SmallVec};

use crate::lazy_map::LazyMap;

/// How long a partial request waits for its next part.
const PART_TIMEOUT: Duration = Duration::from_secs(1);
/// Most bytes one reassembled request may have.
const MAX_SIZE: usize = 4 * 1024 * 1024;

const OFPT10_STATS_REQUEST: u8 = 16;
const OFPT11_STATS_REQUEST: u8 = 18;

#[derive(Debug)]
struct Partial {
    raw: Raw,
    timeout: ofp_proto::Instant,
    parts: Vec<Received>,
    size: usize,
    has_body: bool,
}

/// One connection's partially received multipart requests, by xid.
#[derive(Debug, Default)]
pub struct Assembler {
    partials: LazyMap<u32, Partial>,
}

/// True for a multipart request header, whatever its body (OVS `ofpmsg_is_stat_request`).
fn is_stat_request(msg: &[u8]) -> bool {
    match msg {
        [version, t, ..] if *version == header::OFP10_VERSION => *t == OFPT10_STATS_REQUEST,
        [_, t, ..] => *t == OFPT11_STATS_REQUEST,
        _ => false,
    }
}

impl Assembler {
    /// Takes a received message: anything but a multipart request comes back at once; a multipart
    /// part is held until its request is complete, then all its parts come back (empty-bodied ones
    /// dropped while others remain). An error is for the caller to send, quoting `msg`.
    pub fn execute(
        &mut self,
        now: ofp_proto::Instant,
        msg: Received,
    ) -> Result<Option<SmallVec<[Received; 1]>>, OfpErr> {
        let bytes = &msg.bytes;
        if !is_stat_request(bytes) {
            return Ok(Some(smallvec![msg]));
        }
        let raw = raw::identify(bytes)?;
        let version = bytes[0];
        let hdrs_len = raw.hdrs_len(version);
        let has_body = bytes.len() > hdrs_len;
        if has_body {
            raw::pull(bytes)?;
        }
        let xid = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let more = version >= header::OFP13_VERSION && raw::stats_flags(bytes) & raw::OFPSF_REPLY_MORE != 0;
        let len = bytes.len();

        let p = self.partials.get_or_insert_with(xid, || Partial {
            raw,
            timeout: now,
            parts: Vec::new(),
            size: 0,
            has_body: false,
        });
        p.timeout = now + PART_TIMEOUT;
        if p.raw != raw {
            self.partials.remove(&xid);
            return Err(OfpErr::OFPBRC_BAD_STAT);
        }
        p.size += len;
        if p.size > MAX_SIZE {
            self.partials.remove(&xid);
            return Err(OfpErr::OFPBRC_MULTIPART_BUFFER_OVERFLOW);
        }
        p.has_body |= has_body;
        if !more && !p.has_body && raw.info().min_body > 0 {
            self.partials.remove(&xid);
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        p.parts.push(msg);
        if more {
            return Ok(None);
        }
        let mut parts = self.partials.remove(&xid).map(|p| p.parts).unwrap_or_default();
        let mut i = 0;
        while i < parts.len() {
            if parts.len() > 1 && parts[i].bytes.len() <= hdrs_len {
                parts.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(Some(SmallVec::from_vec(parts)))
    }

    /// Drops the partial requests whose next part is overdue at `now`, returning for each the
    /// OFPBRC_MULTIPART_REQUEST_TIMEOUT error quoting its last part.
    pub fn expire(&mut self, now: ofp_proto::Instant) -> Vec<(OfpErr, bytes::Bytes)> {
        let overdue: Vec<u32> = self.partials.iter().filter(|(_, p)| now >= p.timeout).map(|(x, _)| *x).collect();
        overdue
            .into_iter()
            .filter_map(|xid| self.partials.remove(&xid))
            .filter_map(|p| p.parts.last().map(|m| (OfpErr::OFPBRC_MULTIPART_REQUEST_TIMEOUT, m.bytes.clone())))
            .collect()
    }

    /// When the first partial request times out.
    pub fn next_timeout(&self) -> Option<ofp_proto::Instant> {
        self.partials.values().map(|p| p.timeout).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use ofp_proto::print::parse_hex;
    use ofp_proto::{Instant, OfpMsg};

    fn rx(hex: &str) -> Received {
        let bytes = Bytes::from(parse_hex(hex).unwrap());
        Received { msg: OfpMsg::decode(&bytes).map(Box::new), bytes }
    }

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// OF1.3 table features request, xid 5, flags, and `body` bytes of body.
    fn tf(flags: u16, body: usize) -> String {
        format!("0412{:04x}00000005000c{flags:04x}00000000{}", 16 + body, "00".repeat(body))
    }

    #[test]
    fn non_multipart_and_single_parts_pass_through() {
        let mut a = Assembler::default();
        let echo = rx("0402000800000001");
        assert_eq!(a.execute(t(0), echo.clone()), Ok(Some(smallvec![echo])));
        let desc = rx("04120010000000020000000000000000");
        assert_eq!(a.execute(t(0), desc.clone()), Ok(Some(smallvec![desc])));
        assert_eq!(a.next_timeout(), None);
    }

    #[test]
    fn parts_are_held_until_the_last_and_empty_ones_dropped() {
        let mut a = Assembler::default();
        assert_eq!(a.execute(t(0), rx(&tf(1, 0))), Ok(None));
        assert_eq!(a.execute(t(500), rx(&tf(1, 8))), Ok(None));
        assert_eq!(a.next_timeout(), Some(t(1500)));
        let done = a.execute(t(900), rx(&tf(0, 0))).unwrap().unwrap();
        assert_eq!(done.into_vec(), vec![rx(&tf(1, 8))]);
        assert_eq!(a.next_timeout(), None);
        // Before OF1.3 the flag means nothing: a part is a whole request.
        let of12 = rx("03120010000000050000000100000000");
        assert_eq!(a.execute(t(0), of12.clone()), Ok(Some(smallvec![of12])));
    }

    #[test]
    fn errors_like_ovs() {
        let mut a = Assembler::default();
        // A different type under the same xid.
        a.execute(t(0), rx(&tf(1, 0))).unwrap();
        assert_eq!(a.execute(t(0), rx("04120010000000050000000100000000")), Err(OfpErr::OFPBRC_BAD_STAT));
        assert_eq!(a.next_timeout(), None);
        // A body of the wrong length; an unknown multipart type.
        assert_eq!(a.execute(t(0), rx("0412001400000007000400000000000000000000")), Err(OfpErr::OFPBRC_BAD_LEN));
        assert_eq!(a.execute(t(0), rx("04120010000000070063000000000000")), Err(OfpErr::OFPBRC_BAD_STAT));
        // Flow stats needs a body: no part had one.
        assert_eq!(a.execute(t(0), rx("04120010000000080001000100000000")), Ok(None));
        assert_eq!(a.execute(t(0), rx("04120010000000080001000000000000")), Err(OfpErr::OFPBRC_BAD_LEN));
        // More than 4 MiB in all.
        let big = rx(&tf(1, 65528 - 16));
        for _ in 0..64 {
            assert_eq!(a.execute(t(0), big.clone()), Ok(None));
        }
        assert_eq!(a.execute(t(0), big), Err(OfpErr::OFPBRC_MULTIPART_BUFFER_OVERFLOW));
        assert_eq!(a.next_timeout(), None);
    }

    #[test]
    fn overdue_parts_time_out_quoting_the_last() {
        let mut a = Assembler::default();
        a.execute(t(0), rx(&tf(1, 0))).unwrap();
        a.execute(t(400), rx(&tf(1, 8))).unwrap();
        assert!(a.expire(t(1399)).is_empty());
        let e = a.expire(t(1400));
        assert_eq!(e, vec![(OfpErr::OFPBRC_MULTIPART_REQUEST_TIMEOUT, rx(&tf(1, 8)).bytes)]);
        assert_eq!(a.next_timeout(), None);
    }
}
