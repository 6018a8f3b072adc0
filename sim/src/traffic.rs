//! Traffic into a switch's ports: UDP frames, each carrying a unique id (so a packet-in can be
//! traced back to its frame), spread over a number of flows, at a steady rate or as a burst.

use bytes::{BufMut, Bytes, BytesMut};
use ofp_proto::Instant;

/// Where a frame's id sits: right after the Ethernet, IPv4 and UDP headers, within the 128 bytes a
/// packet-in carries by default.
const ID_OFFSET: usize = 14 + 20 + 8;

/// A UDP frame of `size` bytes (at least 64) for flow `flow` (its UDP source port), carrying `id`.
/// `port` goes into the source MAC so frames from different ports differ.
pub fn frame(id: u64, flow: u32, port: u32, size: usize) -> Bytes {
    let size = size.max(64);
    let mut b = BytesMut::with_capacity(size);
    b.put_slice(&[0x00, 0x00, 0x00, 0x00, 0x00, 0x02]);
    b.put_slice(&[0x00, 0x00, 0x00, 0x00, (port & 0xff) as u8, 0x01]);
    b.put_u16(0x0800);
    let ip_len = (size - 14) as u16;
    b.put_slice(&[0x45, 0, (ip_len >> 8) as u8, ip_len as u8, 0, 0, 0, 0, 64, 17, 0, 0]);
    b.put_slice(&[10, 1, 0, 1, 10, 2, 0, 1]);
    b.put_u16(1024 + (flow % 60_000) as u16);
    b.put_u16(5000);
    b.put_u16(ip_len - 20);
    b.put_u16(0);
    b.put_u64(id);
    b.resize(size, 0);
    b.freeze()
}

/// The id of a frame made by [`frame`] (or the first bytes of one, as a packet-in carries it).
pub fn frame_id(data: &[u8]) -> Option<u64> {
    let b = data.get(ID_OFFSET..ID_OFFSET + 8)?;
    (data.get(12..14)? == [0x08, 0x00]).then(|| u64::from_be_bytes(b.try_into().unwrap_or_default()))
}

/// Frames into one port: `count` frames, `rate` a second from `start` (0: all at once), cycling
/// over `flows` flows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub switch: usize,
    pub port: u32,
    pub flows: u32,
    pub size: usize,
    pub count: u64,
    pub rate: u64,
    pub start: Instant,
    pub sent: u64,
}

/// When item `n` of a series paced at `rate` a second from `start` is due (to the millisecond).
pub fn paced(start: Instant, n: u64, rate: u64) -> Instant {
    match rate {
        0 => start,
        r => Instant::from_millis(start.as_millis() + n * 1000 / r),
    }
}

impl Source {
    /// The flows of the frames due by `now`.
    pub fn due(&mut self, now: Instant) -> Vec<u32> {
        let mut out = Vec::new();
        while self.sent < self.count && self.next() <= now {
            out.push((self.sent % u64::from(self.flows.max(1))) as u32);
            self.sent += 1;
        }
        out
    }

    /// When the next frame is due.
    pub fn next(&self) -> Instant {
        paced(self.start, self.sent, self.rate)
    }

    pub fn is_done(&self) -> bool {
        self.sent >= self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_id() {
        let f = frame(0x1234_5678_9abc, 3, 2, 100);
        assert_eq!(f.len(), 100);
        assert_eq!(frame_id(&f), Some(0x1234_5678_9abc));
        assert_eq!(frame_id(&f[..60]), Some(0x1234_5678_9abc));
        assert_eq!(frame_id(&f[..40]), None);
        let flow = ofp_proto::flow::Flow::extract(&f, 2);
        assert_eq!((flow.nw_proto, flow.tp_src, flow.tp_dst), (17, 1027, 5000));
    }

    #[test]
    fn sources_pace_and_cycle_flows() {
        let mut s =
            Source { switch: 0, port: 1, flows: 2, size: 64, count: 5, rate: 100, start: Instant::ZERO, sent: 0 };
        assert_eq!(s.due(Instant::from_millis(25)), [0, 1, 0]);
        assert_eq!(s.next(), Instant::from_millis(30));
        assert_eq!(s.due(Instant::from_millis(100)), [1, 0]);
        assert!(s.is_done());
        // Faster than one a millisecond: several frames per millisecond, none early.
        let mut fast = Source { rate: 5000, count: 20, ..s.clone() };
        fast.sent = 0;
        assert_eq!(fast.due(Instant::from_millis(1)).len(), 10);
        assert_eq!(paced(Instant::from_secs(1), 7, 5000), Instant::from_millis(1001));
    }
}
