//! Packet-in rate limiting (OVS `ofproto/pinsched.c`): a token bucket of 1000 tokens per packet; a
//! packet that finds tokens and no backlog goes straight out, others wait in one FIFO per input port,
//! released round-robin as tokens accrue. A full backlog drops the oldest packet of a longest queue.
//!
//! Queues are served in ascending port order from where the last release left off, and ties for
//! the longest queue are broken with the scheduler's own seeded generator, so the schedule is a
//! function of the inputs.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use ofp_proto::Instant;

use crate::rng::Rng;
use crate::token_bucket::TokenBucket;

/// Tokens one packet costs.
const TOKENS_PER_PACKET: u32 = 1000;
/// Most packets released by one [`PinSched::run`].
pub const MAX_RELEASES_PER_RUN: usize = 50;

/// OVS `struct pinsched_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinSchedStats {
    /// Packets waiting now.
    pub n_queued: u32,
    /// Packets sent at once, without waiting ("bypassed").
    pub n_normal: u64,
    /// Packets that had to wait ("queued").
    pub n_limited: u64,
    /// Packets dropped from a full backlog.
    pub n_queue_dropped: u64,
}

/// What [`PinSched::send`] did with a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheduled {
    /// Send it now.
    Now(Bytes),
    /// Queued; the backlog was full, so this older packet was dropped to make room.
    Queued { dropped: Option<Bytes> },
}

/// OVS `struct pinsched`.
#[derive(Clone, Debug)]
pub struct PinSched {
    bucket: TokenBucket,
    queues: BTreeMap<u32, VecDeque<Bytes>>,
    n_queued: u32,
    /// The next release serves the first queue at or after this port (wrapping around).
    cursor: u32,
    stats: PinSchedStats,
    rng: Rng,
}

/// OVS `adjust_limits`: rate defaults to 1000 packets/s, burst to a quarter of the rate, at least 1.
fn adjust_limits(rate_limit: u32, burst_limit: u32) -> (u32, u32) {
    let rate = if rate_limit == 0 { 1000 } else { rate_limit };
    let burst = if burst_limit == 0 { rate / 4 } else { burst_limit };
    (rate, burst.max(1))
}

impl PinSched {
    /// `rate_limit` packets per second with bursts of `burst_limit` packets (0: defaults).
    pub fn new(rate_limit: u32, burst_limit: u32, seed: u64) -> PinSched {
        let (rate, burst) = adjust_limits(rate_limit, burst_limit);
        PinSched {
            bucket: TokenBucket::new(rate, burst.saturating_mul(TOKENS_PER_PACKET)),
            queues: BTreeMap::new(),
            n_queued: 0,
            cursor: 0,
            stats: PinSchedStats::default(),
            rng: Rng::new(seed),
        }
    }

    /// The effective (rate, burst) in packets.
    pub fn limits(&self) -> (u32, u32) {
        (self.bucket.rate(), self.bucket.burst() / TOKENS_PER_PACKET)
    }

    /// Changes the limits; a backlog above the new burst is cut down (oldest of the longest first).
    pub fn set_limits(&mut self, rate_limit: u32, burst_limit: u32) {
        let (rate, burst) = adjust_limits(rate_limit, burst_limit);
        self.bucket.set(rate, burst.saturating_mul(TOKENS_PER_PACKET));
        while self.n_queued > burst {
            self.drop_packet();
        }
    }

    pub fn stats(&self) -> PinSchedStats {
        PinSchedStats { n_queued: self.n_queued, ..self.stats }
    }

    /// Offers a packet-in that arrived on `port`.
    pub fn send(&mut self, now: Instant, port: u32, packet: Bytes) -> Scheduled {
        if self.n_queued == 0 && self.bucket.withdraw(now, TOKENS_PER_PACKET) {
            self.stats.n_normal += 1;
            return Scheduled::Now(packet);
        }
        let full = u64::from(self.n_queued) * u64::from(TOKENS_PER_PACKET) >= u64::from(self.bucket.burst());
        let dropped = if full { self.drop_packet() } else { None };
        self.queues.entry(port).or_default().push_back(packet);
        self.n_queued += 1;
        self.stats.n_limited += 1;
        Scheduled::Queued { dropped }
    }

    /// Releases the packets the bucket now allows, at most [`MAX_RELEASES_PER_RUN`], into `out`.
    pub fn run(&mut self, now: Instant, out: &mut Vec<Bytes>) {
        for _ in 0..MAX_RELEASES_PER_RUN {
            if self.n_queued == 0 || !self.bucket.withdraw(now, TOKENS_PER_PACKET) {
                break;
            }
            out.push(self.next_packet());
        }
    }

    /// When [`PinSched::run`] next has a packet to release; `None` with an empty backlog.
    pub fn next_release(&self) -> Option<Instant> {
        (self.n_queued > 0).then(|| self.bucket.ready_at(TOKENS_PER_PACKET))
    }

    /// Every packet still waiting, in the order they would go out per queue (for discarding).
    pub fn backlog(&self) -> impl Iterator<Item = &Bytes> {
        self.queues.values().flatten()
    }

    fn next_packet(&mut self) -> Bytes {
        let port = match self.queues.range(self.cursor..).next() {
            Some((p, _)) => *p,
            None => *self.queues.keys().next().expect("n_queued > 0"),
        };
        self.cursor = port.wrapping_add(1);
        self.dequeue(port)
    }

    fn dequeue(&mut self, port: u32) -> Bytes {
        let q = self.queues.get_mut(&port).expect("queue exists");
        let packet = q.pop_front().expect("queues are never empty");
        if q.is_empty() {
            self.queues.remove(&port);
        }
        self.n_queued -= 1;
        packet
    }

    /// Drops the oldest packet of a longest queue, picking uniformly among equally long ones
    /// (Knuth's algorithm 3.4.2R, as OVS).
    fn drop_packet(&mut self) -> Option<Bytes> {
        self.stats.n_queue_dropped += 1;
        let mut longest: Option<(u32, usize)> = None;
        let mut n_longest = 0;
        for (port, q) in &self.queues {
            match longest {
                Some((_, n)) if n > q.len() => {}
                Some((_, n)) if n == q.len() => {
                    n_longest += 1;
                    if self.rng.range(n_longest) == 0 {
                        longest = Some((*port, n));
                    }
                }
                _ => {
                    longest = Some((*port, q.len()));
                    n_longest = 1;
                }
            }
        }
        longest.map(|(port, _)| self.dequeue(port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(port: u32, n: u32) -> Bytes {
        Bytes::from(format!("{port}:{n}"))
    }

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    fn names(v: &[Bytes]) -> Vec<String> {
        v.iter().map(|b| String::from_utf8(b.to_vec()).unwrap()).collect()
    }

    #[test]
    fn defaults_follow_ovs() {
        assert_eq!(PinSched::new(0, 0, 0).limits(), (1000, 250));
        assert_eq!(PinSched::new(3, 0, 0).limits(), (3, 1));
        assert_eq!(PinSched::new(100, 7, 0).limits(), (100, 7));
    }

    #[test]
    fn burst_goes_straight_out_then_packets_wait_for_tokens() {
        // 10 packets/s, burst 2: two bypass, the rest queue and leave one per 100 ms.
        let mut ps = PinSched::new(10, 2, 1);
        assert_eq!(ps.send(ms(0), 1, pkt(1, 0)), Scheduled::Now(pkt(1, 0)));
        assert_eq!(ps.send(ms(0), 1, pkt(1, 1)), Scheduled::Now(pkt(1, 1)));
        assert_eq!(ps.send(ms(0), 1, pkt(1, 2)), Scheduled::Queued { dropped: None });
        assert_eq!(ps.send(ms(1), 1, pkt(1, 3)), Scheduled::Queued { dropped: None });
        // The failed withdrawal at 0 left the bucket filled at 0: 1000 tokens at 100 ms, wake at 101.
        assert_eq!(ps.next_release(), Some(ms(101)));
        let mut out = vec![];
        ps.run(ms(99), &mut out);
        assert!(out.is_empty());
        ps.run(ms(101), &mut out);
        assert_eq!(names(&out), ["1:2"]);
        ps.run(ms(201), &mut out);
        assert_eq!(names(&out), ["1:2", "1:3"]);
        assert_eq!(ps.next_release(), None);
        assert_eq!(ps.stats(), PinSchedStats { n_queued: 0, n_normal: 2, n_limited: 2, n_queue_dropped: 0 });
        // With a backlog, even a packet that would find tokens waits its turn.
        let mut ps = PinSched::new(1000, 1, 1);
        assert!(matches!(ps.send(ms(0), 1, pkt(1, 0)), Scheduled::Now(_)));
        assert!(matches!(ps.send(ms(0), 1, pkt(1, 1)), Scheduled::Queued { .. }));
        assert!(matches!(ps.send(ms(5), 1, pkt(1, 2)), Scheduled::Queued { .. }));
    }

    #[test]
    fn round_robin_over_ports_in_order() {
        // Use up the burst so that everything after waits.
        let mut ps = PinSched::new(1000, 100, 0);
        for _ in 0..100 {
            assert!(matches!(ps.send(ms(0), 0, pkt(0, 0)), Scheduled::Now(_)));
        }
        for (port, n) in [(5, 0), (5, 1), (5, 2), (2, 0), (9, 0), (2, 1), (9, 1)] {
            assert_eq!(ps.send(ms(0), port, pkt(port, n)), Scheduled::Queued { dropped: None });
        }
        let mut out = vec![];
        ps.run(ms(3), &mut out); // 1 token/ms: 3000 tokens, three packets.
        assert_eq!(names(&out), ["2:0", "5:0", "9:0"]);
        // A queue added behind the cursor waits for the wrap-around.
        ps.send(ms(3), 1, pkt(1, 0));
        ps.run(ms(10), &mut out);
        assert_eq!(names(&out), ["2:0", "5:0", "9:0", "1:0", "2:1", "5:1", "9:1", "5:2"]);
    }

    #[test]
    fn at_most_fifty_per_run() {
        let mut ps = PinSched::new(1000, 200, 0);
        for _ in 0..200 {
            ps.send(ms(0), 0, pkt(0, 0));
        }
        for n in 0..120 {
            ps.send(ms(0), 3, pkt(3, n));
        }
        let mut out = vec![];
        ps.run(ms(1000), &mut out);
        assert_eq!(out.len(), MAX_RELEASES_PER_RUN);
        // Tokens are there: the next run is due at once.
        assert_eq!(ps.next_release(), Some(Instant::ZERO));
        ps.run(ms(1000), &mut out);
        assert_eq!(out.len(), 100);
    }

    #[test]
    fn full_backlog_drops_oldest_of_longest_and_still_queues() {
        let mut ps = PinSched::new(1, 4, 3);
        for _ in 0..4 {
            assert!(matches!(ps.send(ms(0), 0, pkt(0, 0)), Scheduled::Now(_)));
        }
        for (port, n) in [(1, 0), (2, 0), (2, 1), (3, 0)] {
            assert_eq!(ps.send(ms(0), port, pkt(port, n)), Scheduled::Queued { dropped: None });
        }
        // Backlog holds 4 = burst: port 2 is longest; its oldest goes, the new one still queues.
        assert_eq!(ps.send(ms(0), 1, pkt(1, 1)), Scheduled::Queued { dropped: Some(pkt(2, 0)) });
        let s = ps.stats();
        assert_eq!((s.n_queued, s.n_limited, s.n_queue_dropped), (4, 5, 1));
        let backlog: Vec<_> = ps.backlog().cloned().collect();
        assert_eq!(names(&backlog), ["1:0", "1:1", "2:1", "3:0"]);
    }

    #[test]
    fn ties_are_broken_by_the_seed_and_cover_every_candidate() {
        let victim = |seed| {
            let mut ps = PinSched::new(1, 3, seed);
            for _ in 0..3 {
                ps.send(ms(0), 0, pkt(0, 0));
            }
            for port in [4, 5, 6] {
                ps.send(ms(0), port, pkt(port, 0));
            }
            match ps.send(ms(0), 7, pkt(7, 0)) {
                Scheduled::Queued { dropped: Some(p) } => names(&[p])[0].clone(),
                s => panic!("{s:?}"),
            }
        };
        assert_eq!(victim(11), victim(11));
        let mut seen: Vec<String> = (0..64).map(victim).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, ["4:0", "5:0", "6:0"]);
    }

    #[test]
    fn lowering_the_burst_trims_the_backlog() {
        let mut ps = PinSched::new(1, 10, 0);
        for _ in 0..10 {
            ps.send(ms(0), 0, pkt(0, 0));
        }
        for n in 0..6 {
            ps.send(ms(0), 8, pkt(8, n));
        }
        ps.set_limits(1, 2);
        assert_eq!(ps.limits(), (1, 2));
        let backlog: Vec<_> = ps.backlog().cloned().collect();
        assert_eq!(names(&backlog), ["8:4", "8:5"]);
        assert_eq!(ps.stats().n_queue_dropped, 4);
    }
}
