//! Simulated TCP between switches and controllers: one [`Stream`] per connection, a [`Pipe`] per
//! direction with latency, jitter, bandwidth, bursty loss (retransmitted, so it shows as delay),
//! a window (a receiver that stops reading stops its sender), partitions in one or both directions,
//! resets and half-open connections.
//!
//! Segments of one pipe arrive in the order they were sent; a segment that reaches a blocked path
//! stays at the head of its pipe (TCP retransmitting it) and everything behind waits. When the path
//! opens, the next retransmission (exponential backoff from 200 ms, 1 s for a SYN) carries it.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use connmgr_core::ConnId;
use ofp_proto::Instant;
use rconn_core::ConnError;

use crate::rng::Rng;

/// Switch to controller.
pub const UP: usize = 0;
/// Controller to switch.
pub const DOWN: usize = 1;

/// Data retransmission timeout (Linux's minimum RTO) and its cap.
const RTO_MIN: Duration = Duration::from_millis(200);
const RTO_MAX: Duration = Duration::from_secs(60);
/// SYN retransmission starts at 1 s.
const SYN_RTO: Duration = Duration::from_secs(1);

/// One direction of a link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathCfg {
    pub latency: Duration,
    /// Uniform extra delay in [0, jitter]; it never reorders a stream.
    pub jitter: Duration,
    /// Bytes per second; 0: unlimited.
    pub bandwidth: u64,
    /// Probability that a segment is lost (then retransmitted).
    pub loss: f64,
    /// Probability that the segment after a lost one is lost too (bursty loss).
    pub burst: f64,
}

impl Default for PathCfg {
    fn default() -> Self {
        PathCfg { latency: Duration::from_millis(1), jitter: Duration::ZERO, bandwidth: 0, loss: 0.0, burst: 0.0 }
    }
}

/// A link between a switch and a controller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkCfg {
    pub path: [PathCfg; 2],
    /// Bytes a direction holds unread plus in flight before its sender must wait (socket buffers).
    pub window: usize,
}

impl Default for LinkCfg {
    fn default() -> Self {
        LinkCfg { path: [PathCfg::default(); 2], window: 256 * 1024 }
    }
}

/// What travels on a pipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Syn,
    SynAck,
    Data(Bytes),
    Fin,
    Rst(ConnError),
}

impl Seg {
    fn len(&self) -> usize {
        match self {
            Seg::Data(b) => b.len(),
            _ => 0,
        }
    }
}

#[derive(Debug)]
struct Segment {
    arrive: Instant,
    seg: Seg,
    /// Its next retransmission timeout, should this attempt be lost.
    rto: Duration,
}

/// One direction of a stream.
#[derive(Debug, Default)]
pub struct Pipe {
    q: VecDeque<Segment>,
    q_bytes: usize,
    /// Delivered and not yet read by the receiving application.
    unread: VecDeque<Bytes>,
    unread_bytes: usize,
    /// A FIN arrived behind `unread`: the end of the stream once that is read.
    pub fin: bool,
    link_free: Instant,
    last_arrive: Instant,
    /// The head reached a blocked path at this time and waits to be retransmitted.
    stalled_since: Option<Instant>,
    /// When the pending arrival event for the head fires.
    pub scheduled: Option<Instant>,
    in_burst: bool,
    /// (bytes sent so far, their checksum) at each data segment boundary not yet delivered, and the
    /// receiver's running (bytes, checksum): a pipe must deliver exactly what was sent, in order.
    sent_marks: VecDeque<(u64, u64)>,
    sent: (u64, u64),
    received: (u64, u64),
}

fn checksum(mut h: u64, data: &[u8]) -> u64 {
    for b in data {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Pipe {
    /// Bytes the sender has put in and the receiver not yet read.
    pub fn outstanding(&self) -> usize {
        self.q_bytes + self.unread_bytes
    }

    pub fn has_unread(&self) -> bool {
        !self.unread.is_empty()
    }

    pub fn unread_bytes(&self) -> usize {
        self.unread_bytes
    }

    /// Takes up to `max` unread bytes (whole chunks where possible).
    pub fn read(&mut self, max: usize) -> Option<Bytes> {
        let front = self.unread.front_mut()?;
        let b = if front.len() <= max { self.unread.pop_front()? } else { front.split_to(max.max(1)) };
        self.unread_bytes -= b.len();
        Some(b)
    }

    pub fn is_idle(&self) -> bool {
        self.q.is_empty()
    }
}

/// One TCP connection from a switch's transport `conn` to a controller.
#[derive(Debug)]
pub struct Stream {
    pub switch: usize,
    pub conn: ConnId,
    /// The controller at the target address (`None`: nobody has it).
    pub controller: Option<usize>,
    pub pipes: [Pipe; 2],
    /// The SYN-ACK reached the switch.
    pub established: bool,
    /// The switch still has the transport (until its `Close`).
    pub switch_open: bool,
    /// The controller has a session on it.
    pub ctl_open: bool,
    /// Half-open: a middlebox dropped the connection's state; segments to the controller vanish
    /// until the network heals.
    pub nat_drop: bool,
    /// The switch's end got a reset: it sends nothing more, not even a FIN.
    pub switch_reset: bool,
    /// The link's settings as of `link_epoch`.
    link: LinkCfg,
    link_epoch: u64,
    /// Each direction's randomness (jitter, loss).
    rngs: [Rng; 2],
}

pub type StreamId = u64;

/// Every stream ever opened, by id (ids count up from 0 and streams are kept: a closed stream
/// may still have segments in flight).
#[derive(Debug, Default)]
pub struct Streams(Vec<Stream>);

impl Streams {
    pub fn get(&self, id: &StreamId) -> Option<&Stream> {
        self.0.get(*id as usize)
    }

    pub fn get_mut(&mut self, id: &StreamId) -> Option<&mut Stream> {
        self.0.get_mut(*id as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = (StreamId, &Stream)> {
        self.0.iter().enumerate().map(|(i, s)| (i as StreamId, s))
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.0.iter_mut()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Index<&StreamId> for Streams {
    type Output = Stream;
    fn index(&self, id: &StreamId) -> &Stream {
        &self.0[*id as usize]
    }
}

/// A partition: the directions it blocks between a controller and one switch (or all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub controller: usize,
    pub switch: Option<usize>,
    pub dirs: [bool; 2],
    pub until: Instant,
}

/// Every stream and link, and what blocks them.
#[derive(Debug, Default)]
pub struct Net {
    pub streams: Streams,
    links: BTreeMap<(usize, usize), LinkCfg>,
    default_link: LinkCfg,
    /// Per controller: default settings of its links.
    controller_links: BTreeMap<usize, LinkCfg>,
    pub partitions: BTreeMap<u64, Partition>,
    next_partition: u64,
    /// Controller hosts that are down (segments to them are lost).
    pub down: Vec<bool>,
    /// Bumped by every link change, so streams know when to look their link up again.
    link_epoch: u64,
    seed: u64,
}

impl Net {
    pub fn new(seed: u64) -> Net {
        Net { seed, ..Net::default() }
    }

    pub fn link(&self, switch: usize, controller: usize) -> LinkCfg {
        self.links
            .get(&(switch, controller))
            .or_else(|| self.controller_links.get(&controller))
            .copied()
            .unwrap_or(self.default_link)
    }

    /// Sets the link between `switch` (`None`: every switch) and `controller` (`None`: every
    /// controller).
    pub fn set_link(&mut self, switch: Option<usize>, controller: Option<usize>, cfg: LinkCfg) {
        self.link_epoch += 1;
        match (switch, controller) {
            (Some(s), Some(c)) => {
                self.links.insert((s, c), cfg);
            }
            (None, Some(c)) => {
                self.controller_links.insert(c, cfg);
                self.links.retain(|(_, lc), _| *lc != c);
            }
            (Some(s), None) => {
                for c in 0..self.down.len() {
                    self.links.insert((s, c), cfg);
                }
            }
            (None, None) => {
                self.default_link = cfg;
                self.links.clear();
                self.controller_links.clear();
            }
        }
    }

    pub fn open(&mut self, switch: usize, conn: ConnId, controller: Option<usize>) -> StreamId {
        let id = self.streams.len() as StreamId;
        let rng = |dir: usize| Rng::stream(self.seed, &format!("stream{id}/{dir}"));
        let s = Stream {
            link: controller.map_or(LinkCfg::default(), |c| self.link(switch, c)),
            link_epoch: self.link_epoch,
            rngs: [rng(UP), rng(DOWN)],
            switch,
            conn,
            controller,
            pipes: [Pipe::default(), Pipe::default()],
            established: false,
            switch_open: true,
            ctl_open: false,
            nat_drop: false,
            switch_reset: false,
        };
        self.streams.0.push(s);
        id
    }

    /// Whether direction `dir` of `stream` is cut now.
    pub fn blocked(&self, id: StreamId, dir: usize) -> bool {
        self.streams.get(&id).is_none_or(|s| self.blocks(s, dir))
    }

    fn blocks(&self, s: &Stream, dir: usize) -> bool {
        let Some(c) = s.controller else { return dir == UP };
        if dir == UP && (self.down[c] || s.nat_drop) {
            return true;
        }
        self.partitions.values().any(|p| p.controller == c && p.switch.is_none_or(|x| x == s.switch) && p.dirs[dir])
    }

    /// Puts `seg` on `dir` of `stream`. Returns the time to schedule an arrival event at, if the
    /// pipe had none pending.
    pub fn send(&mut self, now: Instant, id: StreamId, dir: usize, seg: Seg) -> Option<Instant> {
        self.refresh_link(id);
        let s = self.streams.get_mut(&id)?;
        let cfg = s.link.path[dir];
        let rng = &mut s.rngs[dir];
        let p = &mut s.pipes[dir];
        let len = seg.len();
        let depart = now.max(p.link_free);
        let tx = if cfg.bandwidth == 0 { 0 } else { (len as u64 * 1000).div_ceil(cfg.bandwidth) };
        p.link_free = depart + Duration::from_millis(tx);
        let mut arrive = p.link_free + cfg.latency;
        if !cfg.jitter.is_zero() {
            arrive += Duration::from_millis(rng.below(cfg.jitter.as_millis() as u64 + 1));
        }
        arrive = arrive.max(p.last_arrive);
        p.last_arrive = arrive;
        if let Seg::Data(b) = &seg {
            p.sent = (p.sent.0 + len as u64, checksum(p.sent.1, b));
            p.sent_marks.push_back(p.sent);
        }
        p.q_bytes += len;
        let rto = if seg == Seg::Syn { SYN_RTO } else { RTO_MIN };
        p.q.push_back(Segment { arrive, seg, rto });
        if p.scheduled.is_none() && p.stalled_since.is_none() {
            p.scheduled = Some(arrive);
            return Some(arrive);
        }
        None
    }

    /// Takes up the link's current settings if they changed since the stream last looked.
    fn refresh_link(&mut self, id: StreamId) {
        let epoch = self.link_epoch;
        let fresh = match self.streams.get(&id) {
            Some(s) if s.link_epoch != epoch => s.controller.map_or(LinkCfg::default(), |c| self.link(s.switch, c)),
            _ => return,
        };
        if let Some(s) = self.streams.get_mut(&id) {
            s.link = fresh;
            s.link_epoch = epoch;
        }
    }

    /// The next segment of `dir` that has arrived by `now` and may pass. `Err(Some(t))`: the next
    /// one arrives at `t` (schedule it); `Err(None)`: nothing to do (empty, or stalled on a cut path).
    /// Loss is drawn here, with the link's settings of the moment: a lost segment comes again after
    /// its retransmission timeout (doubling each time), and everything behind it waits.
    pub fn arrive(&mut self, now: Instant, id: StreamId, dir: usize) -> Result<Seg, Option<Instant>> {
        self.refresh_link(id);
        let Some(s) = self.streams.get(&id) else { return Err(None) };
        let blocked = !s.pipes[dir].q.is_empty() && self.blocks(s, dir);
        let Some(s) = self.streams.get_mut(&id) else { return Err(None) };
        let cfg = s.link.path[dir];
        let p = &mut s.pipes[dir];
        p.scheduled = None;
        let Some(head) = p.q.front_mut() else { return Err(None) };
        if head.arrive > now {
            p.scheduled = Some(head.arrive);
            return Err(Some(head.arrive));
        }
        if blocked {
            p.stalled_since.get_or_insert(now);
            return Err(None);
        }
        if s.rngs[dir].chance(if p.in_burst { cfg.burst } else { cfg.loss }) {
            p.in_burst = true;
            head.arrive = now + head.rto;
            head.rto = (head.rto * 2).min(RTO_MAX);
            p.scheduled = Some(head.arrive);
            return Err(Some(head.arrive));
        }
        p.in_burst = false;
        let seg = p.q.pop_front().map(|s| s.seg).ok_or(None)?;
        p.q_bytes -= seg.len();
        Ok(seg)
    }

    /// Data that arrived goes to the receiver's buffer. Returns false if the bytes are not the next
    /// ones the sender sent (the network broke its stream).
    pub fn deliver_data(&mut self, id: StreamId, dir: usize, data: Bytes) -> bool {
        let Some(s) = self.streams.get_mut(&id) else { return true };
        let p = &mut s.pipes[dir];
        p.received = (p.received.0 + data.len() as u64, checksum(p.received.1, &data));
        let ok = p.sent_marks.pop_front() == Some(p.received);
        p.unread_bytes += data.len();
        p.unread.push_back(data);
        ok
    }

    /// After a heal: stalled pipes whose path is open again get their head retransmitted at the
    /// next retransmission time. Returns the arrival events to schedule.
    pub fn release(&mut self, now: Instant) -> Vec<(StreamId, usize, Instant)> {
        let mut out = Vec::new();
        for id in 0..self.streams.len() as StreamId {
            for dir in [UP, DOWN] {
                if self.blocked(id, dir) {
                    continue;
                }
                let latency = {
                    let s = &self.streams[&id];
                    s.controller.map_or(Duration::ZERO, |c| self.link(s.switch, c).path[dir].latency)
                };
                let p = &mut self.streams.get_mut(&id).expect("listed").pipes[dir];
                let Some(since) = p.stalled_since.take() else { continue };
                let mut rto = if p.q.front().is_some_and(|h| h.seg == Seg::Syn) { SYN_RTO } else { RTO_MIN };
                let mut t = since + rto;
                while t < now {
                    rto = (rto * 2).min(RTO_MAX);
                    t += rto;
                }
                let at = t + latency;
                for seg in p.q.iter_mut() {
                    seg.arrive = seg.arrive.max(at);
                }
                p.last_arrive = p.last_arrive.max(at);
                p.scheduled = Some(at);
                out.push((id, dir, at));
            }
        }
        out
    }

    /// A reset on `dir` of `stream`: it aborts the connection, so what is still in flight no longer
    /// matters and the RST does not wait behind it; on a cut path it is lost (RSTs are not
    /// retransmitted). Returns when it arrives, to schedule.
    pub fn reset(&mut self, now: Instant, id: StreamId, dir: usize) -> Option<Instant> {
        let s = self.streams.get(&id)?;
        if self.blocks(s, dir) {
            return None;
        }
        let latency = s.controller.map_or(Duration::ZERO, |c| self.link(s.switch, c).path[dir].latency);
        self.abort(id, dir);
        let p = &mut self.streams.get_mut(&id)?.pipes[dir];
        let arrive = now + latency;
        p.last_arrive = arrive;
        p.q.push_back(Segment { arrive, seg: Seg::Rst(ConnError::CONNECTION_RESET), rto: RTO_MIN });
        p.scheduled = Some(arrive);
        Some(arrive)
    }

    /// Forgets what is still to arrive on `dir` of `stream`.
    pub fn abort(&mut self, id: StreamId, dir: usize) {
        if let Some(p) = self.streams.get_mut(&id).map(|s| &mut s.pipes[dir]) {
            p.q.clear();
            p.q_bytes = 0;
            p.sent_marks.clear();
            p.stalled_since = None;
        }
    }

    /// Turns random loss off everywhere (the liveness phase).
    pub fn clear_loss(&mut self) {
        self.link_epoch += 1;
        let calm = |cfg: &mut LinkCfg| {
            for p in cfg.path.iter_mut() {
                p.loss = 0.0;
                p.burst = 0.0;
            }
        };
        calm(&mut self.default_link);
        self.links.values_mut().for_each(calm);
        self.controller_links.values_mut().for_each(calm);
    }

    /// The longest round trip any link can take (latency and jitter, both ways).
    pub fn max_round_trip(&self) -> Duration {
        let rt = |cfg: &LinkCfg| cfg.path.iter().map(|p| p.latency + p.jitter).sum::<Duration>();
        let all = std::iter::once(&self.default_link).chain(self.links.values()).chain(self.controller_links.values());
        all.map(rt).max().unwrap_or_default()
    }

    pub fn add_partition(&mut self, p: Partition) -> u64 {
        let id = self.next_partition;
        self.next_partition += 1;
        self.partitions.insert(id, p);
        id
    }
}
