//! The upcall dispatcher and everything it queues (OVS `struct udpif`): classifies and hashes upcalls onto
//! per-handler queues, hands out handler batches, takes their results back, and holds the queues the main
//! thread drains. Sans-IO: time comes in as `now`, the hash secret at construction.

use log::Level;
use ofp_proto::Instant;

use crate::counters::Counters;
use crate::datapath::{DpifOperate, DpifRecv, Xlate};
use crate::handler::{
    handle_miss_upcalls, DropKey, FlowMissBatch, HandlerBatch, HandlerOutput, PacketIn, FLOW_MISS_MAX_BATCH,
};
use crate::hash::upcall_hash;
use crate::odp_format::KeyDisplay;
use crate::queue::{BoundedQueue, MAX_QUEUE_LENGTH};
use crate::ratelimit::{log_rl, RateLimit};
use crate::upcall::{classify_upcall, BadUpcall, DpifUpcall, Upcall, UpcallType};

/// Most handlers a udpif runs.
pub const MAX_N_HANDLERS: usize = 64;
/// Capacity of the fail-open packet-in queue (OVS ofproto-dpif's asynchronous message queue).
pub const MAX_PACKET_IN_QUEUE: usize = 1024;

/// Where [`Udpif::handle_upcall`] put an upcall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// Queued to this handler.
    Handler(usize),
    /// Queued for the main thread ([`Udpif::upcall_next`]).
    Main,
    /// Dropped by classification.
    Bad(BadUpcall),
    /// Dropped: this handler's queue was full (`miss_queue_overflow`).
    MissQueueOverflow(usize),
    /// Dropped: the main queue was full (`upcall_queue_overflow`).
    UpcallQueueOverflow,
}

#[derive(Debug)]
struct Handler {
    upcalls: BoundedQueue<DpifUpcall>,
    /// Queue length after the dispatcher's last enqueue this round; non-zero means "wake at end of round".
    n_new_upcalls: usize,
    /// Signalled and not yet found its queue empty: it takes batches until it does.
    awake: bool,
    /// A batch of it is out being handled; it takes the next only when that one is done.
    busy: bool,
}

/// The dispatcher, its handlers' queues and the queues to the main thread.
#[derive(Debug)]
pub struct Udpif<F> {
    secret: u32,
    handlers: Vec<Handler>,
    /// Where the round-robin search for a ready handler starts.
    next_handler: usize,
    upcalls: BoundedQueue<Upcall>,
    drop_keys: BoundedQueue<DropKey>,
    fmbs: BoundedQueue<FlowMissBatch<F>>,
    packet_ins: BoundedQueue<PacketIn>,
    reval_seq: u64,
    /// Upcalls in batches handed out and not yet done.
    in_flight: usize,
    counters: Counters,
    rl: RateLimit,
    enqueue_rl: RateLimit,
}

impl<F> Udpif<F> {
    /// A udpif hashing with `secret` onto `n_handlers` handlers (clamped to 1..=64).
    pub fn new(secret: u32, n_handlers: usize) -> Self {
        let n = n_handlers.clamp(1, MAX_N_HANDLERS);
        Udpif {
            secret,
            handlers: (0..n)
                .map(|_| Handler {
                    upcalls: BoundedQueue::new(MAX_QUEUE_LENGTH),
                    n_new_upcalls: 0,
                    awake: false,
                    busy: false,
                })
                .collect(),
            next_handler: 0,
            upcalls: BoundedQueue::new(MAX_QUEUE_LENGTH),
            drop_keys: BoundedQueue::new(MAX_QUEUE_LENGTH),
            fmbs: BoundedQueue::new(MAX_QUEUE_LENGTH),
            packet_ins: BoundedQueue::new(MAX_PACKET_IN_QUEUE),
            reval_seq: 0,
            in_flight: 0,
            counters: Counters::default(),
            rl: RateLimit::new(1, 5),
            enqueue_rl: RateLimit::new(60, 60),
        }
    }

    pub fn n_handlers(&self) -> usize {
        self.handlers.len()
    }

    /// The handler a miss with flow key `key` goes to: the same for every upcall of one L4 flow.
    pub fn handler_for(&self, key: &[u8]) -> usize {
        upcall_hash(self.secret, key).0 as usize % self.handlers.len()
    }

    /// Dispatches one upcall received from the datapath: misses (and slow-path action upcalls) to the handler
    /// their flow hashes to, samples to the main queue, bad upcalls dropped. A handler is woken when its queue
    /// reaches a batch; call [`Udpif::end_recv_round`] after the last upcall of a receive round.
    pub fn handle_upcall(&mut self, now: Instant, upcall: DpifUpcall) -> Dispatch {
        self.counters.upcall_received += 1;
        match classify_upcall(&upcall) {
            Err(bad) => {
                self.counters.upcall_bad += 1;
                log_rl!(self.rl, now, Level::Warn, "{bad}");
                Dispatch::Bad(bad)
            }
            Ok(UpcallType::Miss) => self.dispatch_miss(now, upcall),
            Ok(kind) => match self.upcalls.push(Upcall { kind, upcall }) {
                Ok(_) => Dispatch::Main,
                Err(_) => {
                    self.counters.upcall_queue_overflow += 1;
                    Dispatch::UpcallQueueOverflow
                }
            },
        }
    }

    fn dispatch_miss(&mut self, now: Instant, upcall: DpifUpcall) -> Dispatch {
        let (hash, n_bad) = upcall_hash(self.secret, &upcall.key);
        for _ in 0..n_bad {
            self.counters.upcall_bad_hash_attr += 1;
            log_rl!(self.rl, now, Level::Warn, "Netlink attribute with incorrect size.");
        }
        let idx = hash as usize % self.handlers.len();
        let logged_key = log::log_enabled!(target: crate::LOG_TARGET, Level::Debug).then(|| upcall.key.clone());
        let handler = &mut self.handlers[idx];
        match handler.upcalls.push(upcall) {
            Ok(len) => {
                handler.n_new_upcalls = len;
                if len >= FLOW_MISS_MAX_BATCH {
                    handler.awake = true;
                }
                if let Some(key) = logged_key {
                    log_rl!(self.enqueue_rl, now, Level::Debug, "dispatcher: miss enqueue ({})", KeyDisplay(&key));
                }
                Dispatch::Handler(idx)
            }
            Err(_) => {
                self.counters.miss_queue_overflow += 1;
                Dispatch::MissQueueOverflow(idx)
            }
        }
    }

    /// Ends a receive round: wakes every handler that was given upcalls during it.
    pub fn end_recv_round(&mut self) {
        for h in &mut self.handlers {
            if h.n_new_upcalls != 0 {
                h.n_new_upcalls = 0;
                h.awake = true;
            }
        }
    }

    /// One receive round: dispatches upcalls from `dpif` until it has none, then ends the round. Returns how
    /// many upcalls were read.
    pub fn recv_upcalls<R: DpifRecv + ?Sized>(&mut self, now: Instant, dpif: &mut R) -> usize {
        let mut n = 0;
        while let Some(upcall) = dpif.recv() {
            self.handle_upcall(now, upcall);
            n += 1;
        }
        self.end_recv_round();
        n
    }

    /// The next batch for a handler that is awake, not busy with a batch, and has upcalls: up to 50 of them,
    /// in arrival order. Handlers are served round-robin. Run the batch with [`handle_miss_upcalls`] (on any
    /// thread) and give the output to [`Udpif::handle_batch_done`]; until then that handler gets no new batch.
    pub fn poll_handler_batch(&mut self) -> Option<HandlerBatch> {
        let n = self.handlers.len();
        for k in 0..n {
            let idx = (self.next_handler + k) % n;
            let h = &mut self.handlers[idx];
            if h.busy || !h.awake {
                continue;
            }
            if h.upcalls.is_empty() {
                h.awake = false;
                continue;
            }
            let upcalls: Vec<DpifUpcall> = h.upcalls.take(FLOW_MISS_MAX_BATCH).collect();
            h.busy = true;
            self.in_flight += upcalls.len();
            self.next_handler = (idx + 1) % n;
            return Some(HandlerBatch { handler: idx, reval_seq: self.reval_seq, upcalls });
        }
        None
    }

    /// Takes back a handler's output: its counts, its drop keys and packet-ins (queued for the main thread),
    /// and its flow-miss batch, which is queued for installation unless revalidation happened since the
    /// batch was taken (`fmb_queue_revalidated`; its drop keys are discarded too).
    pub fn handle_batch_done(&mut self, now: Instant, out: HandlerOutput<F>) {
        if let Some(h) = self.handlers.get_mut(out.handler) {
            h.busy = false;
            if h.upcalls.is_empty() {
                h.awake = false;
            }
        }
        self.in_flight = self.in_flight.saturating_sub(out.n_upcalls);
        let c = &mut self.counters;
        c.miss_no_port += out.counts.no_port;
        c.miss_receive_error += out.counts.receive_error;
        c.miss_executed += out.counts.executed;
        c.miss_no_actions += out.counts.no_actions;

        let stale = out.fmb.reval_seq != self.reval_seq;
        for drop_key in out.drop_keys {
            log_rl!(self.rl, now, Level::Info, "received packet on unassociated datapath port {}", drop_key.odp_port);
            if stale {
                self.counters.drop_queue_flushed += 1;
            } else if self.drop_keys.push(drop_key).is_err() {
                self.counters.drop_queue_overflow += 1;
            }
        }

        self.counters.packet_in_sent += out.packet_ins.len() as u64;
        for pin in out.packet_ins {
            if self.packet_ins.push(pin).is_err() {
                self.counters.packet_in_overflow += 1;
            }
        }

        if stale {
            self.counters.fmb_queue_revalidated += 1;
        } else if self.fmbs.push(out.fmb).is_err() {
            self.counters.fmb_queue_overflow += 1;
        }
    }

    /// Runs every ready handler batch here, one after another, until none is ready (for single-threaded
    /// drivers such as the simulator). Returns how many batches ran.
    pub fn run_handlers<X, D>(&mut self, now: Instant, xlate: &mut X, dpif: &mut D) -> usize
    where
        X: Xlate<Flow = F>,
        D: DpifOperate + ?Sized,
    {
        let mut n = 0;
        while let Some(batch) = self.poll_handler_batch() {
            let out = handle_miss_upcalls(now, batch, xlate, dpif);
            self.handle_batch_done(now, out);
            n += 1;
        }
        n
    }

    /// Something changed that may make earlier translations wrong: bumps the sequence number, so batches in
    /// flight are discarded when done, and discards the queued batches and drop keys.
    pub fn revalidate(&mut self) {
        self.reval_seq += 1;
        self.counters.fmb_queue_flushed += self.fmbs.clear() as u64;
        self.drop_key_clear();
    }

    /// Discards the queued drop keys.
    pub fn drop_key_clear(&mut self) {
        self.counters.drop_queue_flushed += self.drop_keys.clear() as u64;
    }

    /// The next sFlow / flow-sample / IPFIX upcall for the main thread.
    pub fn upcall_next(&mut self) -> Option<Upcall> {
        self.upcalls.pop()
    }

    /// The next flow-miss batch to install. Never a stale one: stale batches are not queued, and
    /// [`Udpif::revalidate`] empties the queue.
    pub fn flow_miss_batch_next(&mut self) -> Option<FlowMissBatch<F>> {
        self.fmbs.pop()
    }

    /// The next key to install as a drop flow ([`DropKey::flow_put`]).
    pub fn drop_key_next(&mut self) -> Option<DropKey> {
        self.drop_keys.pop()
    }

    /// The next fail-open packet-in for the controllers.
    pub fn packet_in_next(&mut self) -> Option<PacketIn> {
        self.packet_ins.pop()
    }

    /// Whether the main thread has something to drain (OVS `udpif_wait` wakes immediately).
    pub fn main_pending(&self) -> bool {
        !(self.upcalls.is_empty() && self.drop_keys.is_empty() && self.fmbs.is_empty() && self.packet_ins.is_empty())
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn reval_seq(&self) -> u64 {
        self.reval_seq
    }

    /// Upcalls waiting in handler `idx`'s queue (0 for an unknown handler).
    pub fn handler_queue_len(&self, idx: usize) -> usize {
        self.handlers.get(idx).map_or(0, |h| h.upcalls.len())
    }

    /// Upcalls in batches handed out and not yet done.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    pub fn upcall_queue_len(&self) -> usize {
        self.upcalls.len()
    }

    pub fn drop_queue_len(&self) -> usize {
        self.drop_keys.len()
    }

    pub fn fmb_queue_len(&self) -> usize {
        self.fmbs.len()
    }

    pub fn packet_in_queue_len(&self) -> usize {
        self.packet_ins.len()
    }
}
