//! A driver that pushes arbitrary operation sequences through a [`Udpif`] and its handlers and checks the
//! invariants after every step; [`run`] decodes the operations from raw bytes (for cargo-fuzz and proptest).
//!
//! Invariants: every upcall is, at every moment, in exactly one place (a handler queue, a batch in flight,
//! the main queue or the caller's hands) or counted in exactly one terminal counter, and the counters agree
//! with a per-upcall ledger; no queue exceeds its bound; one L4 flow always lands on one handler; packets of
//! one L4 flow are executed in arrival order, each at most once; handler outputs match what their inputs
//! imply (merged statistics, drop keys, fail-open packet-ins). [`TestXlate`] and [`TestDpif`] are the
//! deterministic stand-ins for ofproto and the datapath that the driver, the tests and the benchmarks use.

use bytes::Bytes;
use hashbrown::HashMap;
use ofp_proto::Instant;

use crate::datapath::{DpifOp, DpifOperate, ReceiveError, Received, Xlate, Xlated};
use crate::handler::{handle_miss_upcalls, HandlerBatch, HandlerOutput, MissStats, FLOW_MISS_MAX_BATCH};
use crate::hash::BuildFlowHasher;
use crate::odp::{key_in_port, AttrBuilder, OVS_KEY_ATTR_TCP};
use crate::queue::MAX_QUEUE_LENGTH;
use crate::udpif::{Dispatch, Udpif, MAX_PACKET_IN_QUEUE};
use crate::upcall::{
    cookie, DpifUpcall, UpcallType, DPIF_UC_ACTION, DPIF_UC_MISS, USER_ACTION_COOKIE_FLOW_SAMPLE,
    USER_ACTION_COOKIE_IPFIX, USER_ACTION_COOKIE_SFLOW, USER_ACTION_COOKIE_SLOW_PATH,
};
use crate::Counters;

/// Datapath ports with a fixed meaning to [`TestXlate::standard`].
pub const PORT_UNKNOWN: u32 = 1;
pub const PORT_INVALID: u32 = 2;
pub const PORT_DROP: u32 = 3;
pub const PORT_SLOW: u32 = 4;
pub const PORT_FAIL_OPEN: u32 = 5;

/// Flow lookup and translation for tests: the flow is the key itself; behaviour is chosen per in_port.
#[derive(Clone, Debug, Default)]
pub struct TestXlate {
    /// Ports that belong to no bridge (`ReceiveError::NoDevice`).
    pub unknown_ports: Vec<u32>,
    /// Ports whose upcalls cannot be received (`ReceiveError::Invalid`); so can keys without an in_port.
    pub invalid_ports: Vec<u32>,
    /// Ports whose flows translate to no actions.
    pub drop_ports: Vec<u32>,
    /// Ports whose flows are slow-pathed.
    pub slow_ports: Vec<u32>,
    /// Ports whose flows hit the fail-open rule.
    pub fail_open_ports: Vec<u32>,
    /// Calls of `lookup_and_translate`.
    pub n_translated: u64,
    /// Packets given to `translate_for_side_effects`, in order.
    pub side_effects: Vec<Bytes>,
}

impl TestXlate {
    /// The configuration the fuzz driver uses: ports 1–5 as the `PORT_*` constants say, others plain.
    pub fn standard() -> Self {
        TestXlate {
            unknown_ports: vec![PORT_UNKNOWN],
            invalid_ports: vec![PORT_INVALID],
            drop_ports: vec![PORT_DROP],
            slow_ports: vec![PORT_SLOW],
            fail_open_ports: vec![PORT_FAIL_OPEN],
            ..TestXlate::default()
        }
    }

    /// The actions a plain flow from `in_port` translates to: output to `in_port + 1`.
    pub fn actions_for(in_port: u32) -> Bytes {
        AttrBuilder::new().output(in_port.wrapping_add(1)).finish()
    }
}

impl Xlate for TestXlate {
    type Flow = Bytes;

    fn receive(&mut self, key: &Bytes, packet: &Bytes) -> Result<Received<Bytes>, ReceiveError> {
        let port = key_in_port(key).ok_or(ReceiveError::Invalid)?;
        if self.unknown_ports.contains(&port) {
            return Err(ReceiveError::NoDevice { odp_port: port });
        }
        if self.invalid_ports.contains(&port) {
            return Err(ReceiveError::Invalid);
        }
        Ok(Received { flow: key.clone(), in_port: port, tcp_flags: packet_tcp_flags(packet) })
    }

    fn lookup_and_translate(&mut self, flow: &Bytes, _stats: &MissStats) -> Xlated {
        self.n_translated += 1;
        let port = key_in_port(flow).unwrap_or(0);
        Xlated {
            actions: if self.drop_ports.contains(&port) { Bytes::new() } else { Self::actions_for(port) },
            slow: self.slow_ports.contains(&port),
            fail_open: self.fail_open_ports.contains(&port),
        }
    }

    fn translate_for_side_effects(&mut self, _flow: &Bytes, packet: &Bytes) {
        self.side_effects.push(packet.clone());
    }
}

/// A datapath that records every `operate` call.
#[derive(Clone, Debug, Default)]
pub struct TestDpif {
    pub batches: Vec<Vec<DpifOp>>,
}

impl DpifOperate for TestDpif {
    fn operate(&mut self, ops: &[DpifOp]) {
        self.batches.push(ops.to_vec());
    }
}

/// Test packets start with a little-endian u64 id, then one byte of TCP flags, then padding.
pub fn test_packet(id: u64, tcp_flags: u8, padding: usize) -> Bytes {
    let mut p = Vec::with_capacity(9 + padding);
    p.extend_from_slice(&id.to_le_bytes());
    p.push(tcp_flags);
    p.resize(9 + padding, 0xa5);
    Bytes::from(p)
}

/// The id of a [`test_packet`].
pub fn packet_id(packet: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(packet.get(..8)?.try_into().ok()?))
}

fn packet_tcp_flags(packet: &[u8]) -> u16 {
    packet.get(8).copied().map_or(0, u16::from)
}

/// A cookie that `classify_upcall` must reject: a type 0–7 with a size 0–20 that does not fit it.
fn bad_cookie(len: u8) -> Bytes {
    let cookie_type = u16::from(len % 8);
    let mut size = usize::from(len % 21);
    let fits = |size| match cookie_type {
        USER_ACTION_COOKIE_SFLOW | USER_ACTION_COOKIE_SLOW_PATH => size == 8,
        USER_ACTION_COOKIE_FLOW_SAMPLE => size == 16,
        USER_ACTION_COOKIE_IPFIX => size == 2,
        _ => false,
    };
    if fits(size) {
        size += 1;
    }
    cookie(cookie_type, size)
}

/// What an upcall looks like; every field is taken modulo what it selects from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpcallSpec {
    /// `% 16`: 0–9 miss, 10 slow-path action, 11 sFlow, 12 flow sample, 13 IPFIX, 14 action with a bad cookie
    /// (type `len % 8`, a size up to 21 that does not fit it), 15 missing cookie (even `len`) or unexpected type `2 + len` (odd).
    pub kind: u8,
    /// `% 8`: the in_port (see the `PORT_*` constants); 7 means no in_port attribute at all.
    pub port: u8,
    /// `% 4`: no L4 attribute, TCP, UDP, or a TCP attribute of the wrong size.
    pub l4: u8,
    pub src: u16,
    pub dst: u16,
    /// Selects the ethertype (odd: IPv6) and the IPv4 source: a different flow with the same L4 identity.
    pub variant: u8,
    pub tcp_flags: u8,
    pub len: u8,
}

/// One step of the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Upcall(UpcallSpec),
    /// `n` upcalls of the same shape in a row (fills queues, merges flows).
    Burst(UpcallSpec, u8),
    EndRound,
    /// Take the next ready handler batch, if any.
    Poll,
    /// Run the polled batch at this index (modulo) through `handle_miss_upcalls`.
    Run(u8),
    /// Give the run output at this index (modulo) back to the udpif.
    Done(u8),
    Revalidate,
    /// Pop up to this many entries from each main-thread queue.
    Drain(u8),
    /// Advance time by this many milliseconds.
    Tick(u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    Executed,
    NoActions,
    NoPort,
    ReceiveError,
}

/// Where one upcall is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Bad,
    MissOverflow,
    UpcallOverflow,
    Queued(usize),
    InFlight,
    Ran(Outcome),
    Done(Outcome),
    Main(UpcallType),
    Drained,
}

/// The L4 identity the dispatcher must keep on one handler: port and well-formed TCP/UDP ports.
type L4Id = (u8, u8, u16, u16);

#[derive(Clone, Copy, Debug)]
struct Expect {
    outcome: Outcome,
    l4: L4Id,
    fail_open: bool,
}

/// The driver: a udpif with the test stand-ins, a ledger of every upcall's fate, and the invariant checks.
pub struct Driver {
    pub udpif: Udpif<Bytes>,
    pub xlate: TestXlate,
    pub dpif: TestDpif,
    now: Instant,
    fates: Vec<Fate>,
    expects: Vec<Expect>,
    /// Ledger tallies, kept incrementally so checks stay O(handlers).
    queued: Vec<usize>,
    in_flight: usize,
    main: usize,
    drained: u64,
    terminal: HashMap<Outcome, u64, BuildFlowHasher>,
    n_bad: u64,
    n_miss_overflow: u64,
    n_upcall_overflow: u64,
    /// Wrongly sized TCP attributes the dispatcher must have skipped.
    n_bad_hash_attrs: u64,
    polled: Vec<HandlerBatch>,
    /// Run outputs not yet given back, with the ids of the upcalls their batch held.
    ran: Vec<(HandlerOutput<Bytes>, Vec<u64>)>,
    handler_of: HashMap<L4Id, usize, BuildFlowHasher>,
    last_executed: HashMap<L4Id, u64, BuildFlowHasher>,
    prev: Counters,
}

impl Driver {
    pub fn new(secret: u32, n_handlers: usize) -> Self {
        let udpif = Udpif::new(secret, n_handlers);
        let n = udpif.n_handlers();
        Driver {
            udpif,
            xlate: TestXlate::standard(),
            dpif: TestDpif::default(),
            now: Instant::from_secs(1),
            fates: Vec::new(),
            expects: Vec::new(),
            queued: vec![0; n],
            in_flight: 0,
            main: 0,
            drained: 0,
            terminal: HashMap::default(),
            n_bad: 0,
            n_miss_overflow: 0,
            n_upcall_overflow: 0,
            n_bad_hash_attrs: 0,
            polled: Vec::new(),
            ran: Vec::new(),
            handler_of: HashMap::default(),
            last_executed: HashMap::default(),
            prev: Counters::default(),
        }
    }

    /// Builds the upcall `spec` describes, with packet id `id`, and what a handler should do with it.
    fn build(spec: &UpcallSpec, id: u64) -> (DpifUpcall, Expect) {
        let port = u32::from(spec.port % 8);
        let mut key = AttrBuilder::new();
        if port != 7 {
            key.in_port(port);
        }
        key.ethertype(if spec.variant % 2 == 1 { 0x86dd } else { 0x0800 });
        key.ipv4(u32::from(spec.variant), 0x0a00_0001, 6, 0, 64, 0);
        let l4 = spec.l4 % 4;
        match l4 {
            1 => key.tcp(spec.src, spec.dst),
            2 => key.udp(spec.src, spec.dst),
            3 => key.put(OVS_KEY_ATTR_TCP, &spec.src.to_be_bytes()),
            _ => &mut key,
        };
        let l4_id = if matches!(l4, 1 | 2) { (port as u8, l4, spec.src, spec.dst) } else { (port as u8, 0, 0, 0) };
        let packet = test_packet(id, spec.tcp_flags, usize::from(spec.len));
        let (kind, userdata) = match spec.kind % 16 {
            0..=9 => (DPIF_UC_MISS, None),
            10 => (DPIF_UC_ACTION, Some(cookie(USER_ACTION_COOKIE_SLOW_PATH, 8))),
            11 => (DPIF_UC_ACTION, Some(cookie(USER_ACTION_COOKIE_SFLOW, 8))),
            12 => (DPIF_UC_ACTION, Some(cookie(USER_ACTION_COOKIE_FLOW_SAMPLE, 16))),
            13 => (DPIF_UC_ACTION, Some(cookie(USER_ACTION_COOKIE_IPFIX, 2))),
            14 => (DPIF_UC_ACTION, Some(bad_cookie(spec.len))),
            _ if spec.len.is_multiple_of(2) => (DPIF_UC_ACTION, None),
            _ => (2 + u32::from(spec.len), None),
        };
        let outcome = match port {
            7 | PORT_INVALID => Outcome::ReceiveError,
            PORT_UNKNOWN => Outcome::NoPort,
            PORT_DROP => Outcome::NoActions,
            _ => Outcome::Executed,
        };
        let expect = Expect { outcome, l4: l4_id, fail_open: port == PORT_FAIL_OPEN };
        (DpifUpcall { kind, key: key.finish(), packet, userdata }, expect)
    }

    fn set_fate(&mut self, id: u64, from: Fate, to: Fate) {
        let fate = &mut self.fates[id as usize];
        assert_eq!(*fate, from, "upcall {id}: expected to be {from:?}, is {fate:?}, moving to {to:?}");
        *fate = to;
    }

    fn feed(&mut self, spec: &UpcallSpec) {
        let id = self.fates.len() as u64;
        let (upcall, expect) = Self::build(spec, id);
        let dispatch = self.udpif.handle_upcall(self.now, upcall);
        let fate = match dispatch {
            Dispatch::Handler(i) | Dispatch::MissQueueOverflow(i) => {
                let l4 = expect.l4;
                let h = *self.handler_of.entry(l4).or_insert(i);
                assert_eq!(h, i, "L4 flow {l4:?} dispatched to handler {i}, earlier to {h}");
                if let Dispatch::Handler(i) = dispatch {
                    self.queued[i] += 1;
                    Fate::Queued(i)
                } else {
                    self.n_miss_overflow += 1;
                    Fate::MissOverflow
                }
            }
            Dispatch::Main => {
                self.main += 1;
                let kind = match spec.kind % 16 {
                    11 => UpcallType::SFlow,
                    12 => UpcallType::FlowSample,
                    13 => UpcallType::Ipfix,
                    k => panic!("upcall of spec kind {k} went to the main queue"),
                };
                Fate::Main(kind)
            }
            Dispatch::Bad(_) => {
                assert!(matches!(spec.kind % 16, 14 | 15), "spec kind {} classified bad", spec.kind % 16);
                self.n_bad += 1;
                Fate::Bad
            }
            Dispatch::UpcallQueueOverflow => {
                self.n_upcall_overflow += 1;
                Fate::UpcallOverflow
            }
        };
        if matches!(fate, Fate::Queued(_) | Fate::MissOverflow) {
            assert!(spec.kind % 16 <= 10, "spec kind {} dispatched as a miss", spec.kind % 16);
            if spec.l4 % 4 == 3 {
                self.n_bad_hash_attrs += 1;
            }
        }
        self.fates.push(fate);
        self.expects.push(expect);
    }

    fn poll(&mut self) -> bool {
        let Some(batch) = self.udpif.poll_handler_batch() else { return false };
        assert!(!batch.upcalls.is_empty() && batch.upcalls.len() <= FLOW_MISS_MAX_BATCH);
        assert!(!self.polled.iter().any(|b| b.handler == batch.handler), "two batches out for one handler");
        assert!(!self.ran.iter().any(|(o, _)| o.handler == batch.handler), "two batches out for one handler");
        assert_eq!(batch.reval_seq, self.udpif.reval_seq());
        for u in &batch.upcalls {
            let id = packet_id(&u.packet).expect("test packet");
            self.set_fate(id, Fate::Queued(batch.handler), Fate::InFlight);
        }
        self.queued[batch.handler] -= batch.upcalls.len();
        self.in_flight += batch.upcalls.len();
        self.polled.push(batch);
        true
    }

    fn run_batch(&mut self, idx: usize) {
        if self.polled.is_empty() {
            return;
        }
        let batch = self.polled.remove(idx % self.polled.len());
        let ids: Vec<u64> = batch.upcalls.iter().map(|u| packet_id(&u.packet).expect("test packet")).collect();
        let expects: Vec<Expect> = ids.iter().map(|&id| self.expects[id as usize]).collect();
        let n_ops_calls = self.dpif.batches.len();
        let n_side_effects = self.xlate.side_effects.len();
        let n_translated = self.xlate.n_translated;
        let reval_seq = batch.reval_seq;
        let out = handle_miss_upcalls(self.now, batch, &mut self.xlate, &mut self.dpif);

        // Exactly one datapath batch, holding the executed packets in arrival order.
        assert_eq!(self.dpif.batches.len(), n_ops_calls + 1);
        let executed: Vec<u64> = self.dpif.batches[n_ops_calls]
            .iter()
            .map(|op| match op {
                DpifOp::Execute { packet, .. } => packet_id(packet).expect("test packet"),
                DpifOp::FlowPut { .. } => panic!("handler issued a flow put"),
            })
            .collect();
        let want: Vec<u64> =
            ids.iter().zip(&expects).filter(|(_, e)| e.outcome == Outcome::Executed).map(|(&id, _)| id).collect();
        assert_eq!(executed, want);
        for &id in &executed {
            let l4 = self.expects[id as usize].l4;
            if let Some(&last) = self.last_executed.get(&l4) {
                assert!(last < id, "L4 flow {l4:?}: packet {id} executed after {last}");
            }
            self.last_executed.insert(l4, id);
        }
        for (&id, e) in ids.iter().zip(&expects) {
            self.set_fate(id, Fate::InFlight, Fate::Ran(e.outcome));
        }

        // Counts, merged statistics, drop keys, packet-ins and slow-path translations agree with the input.
        let count = |o: Outcome| expects.iter().filter(|e| e.outcome == o).count() as u64;
        assert_eq!(out.n_upcalls, ids.len());
        assert_eq!(out.counts.executed, count(Outcome::Executed));
        assert_eq!(out.counts.no_actions, count(Outcome::NoActions));
        assert_eq!(out.counts.no_port, count(Outcome::NoPort));
        assert_eq!(out.counts.receive_error, count(Outcome::ReceiveError));
        assert_eq!(out.drop_keys.len() as u64, count(Outcome::NoPort));
        assert_eq!(out.fmb.reval_seq, reval_seq);
        let received = count(Outcome::Executed) + count(Outcome::NoActions);
        assert_eq!(out.fmb.misses.iter().map(|m| m.stats.n_packets).sum::<u64>(), received);
        assert_eq!(self.xlate.n_translated - n_translated, out.fmb.misses.len() as u64);
        for (i, m) in out.fmb.misses.iter().enumerate() {
            assert!(out.fmb.misses[..i].iter().all(|o| o.flow != m.flow), "flow merged twice");
            assert_eq!(m.stats.used, self.now);
        }
        let slow = expects.iter().filter(|e| e.l4.0 as u32 == PORT_SLOW && e.outcome == Outcome::Executed).count();
        assert_eq!(self.xlate.side_effects.len() - n_side_effects, slow);
        let fail_open = expects.iter().any(|e| e.fail_open);
        let want_pins: Vec<u64> = if fail_open {
            ids.iter()
                .zip(&expects)
                .filter(|(_, e)| matches!(e.outcome, Outcome::Executed | Outcome::NoActions))
                .map(|(&id, _)| id)
                .collect()
        } else {
            Vec::new()
        };
        let pins: Vec<u64> = out.packet_ins.iter().map(|p| packet_id(&p.packet).expect("test packet")).collect();
        assert_eq!(pins, want_pins);
        self.ran.push((out, ids));
    }

    fn done(&mut self, idx: usize) {
        if self.ran.is_empty() {
            return;
        }
        let (out, ids) = self.ran.remove(idx % self.ran.len());
        let before = *self.udpif.counters();
        let (drop_len, fmb_len, pin_len) =
            (self.udpif.drop_queue_len(), self.udpif.fmb_queue_len(), self.udpif.packet_in_queue_len());
        let stale = out.fmb.reval_seq != self.udpif.reval_seq();
        let n_drop_keys = out.drop_keys.len();
        let n_pins = out.packet_ins.len();
        for id in ids {
            let outcome = self.expects[id as usize].outcome;
            self.set_fate(id, Fate::Ran(outcome), Fate::Done(outcome));
            *self.terminal.entry(outcome).or_default() += 1;
        }
        self.in_flight -= out.n_upcalls;
        self.udpif.handle_batch_done(self.now, out);
        let after = *self.udpif.counters();

        let d = |a: u64, b: u64| a - b;
        assert_eq!(
            self.udpif.drop_queue_len() - drop_len
                + (d(after.drop_queue_overflow, before.drop_queue_overflow)
                    + d(after.drop_queue_flushed, before.drop_queue_flushed)) as usize,
            n_drop_keys
        );
        if stale {
            assert_eq!(d(after.drop_queue_flushed, before.drop_queue_flushed) as usize, n_drop_keys);
            assert_eq!(d(after.fmb_queue_revalidated, before.fmb_queue_revalidated), 1);
            assert_eq!(self.udpif.fmb_queue_len(), fmb_len);
        } else {
            assert_eq!(
                self.udpif.fmb_queue_len() - fmb_len + d(after.fmb_queue_overflow, before.fmb_queue_overflow) as usize,
                1
            );
        }
        assert_eq!(
            self.udpif.packet_in_queue_len() - pin_len
                + d(after.packet_in_overflow, before.packet_in_overflow) as usize,
            n_pins
        );
    }

    fn drain(&mut self, n: u8) {
        for _ in 0..n {
            if let Some(u) = self.udpif.upcall_next() {
                let id = packet_id(&u.upcall.packet).expect("test packet");
                self.set_fate(id, Fate::Main(u.kind), Fate::Drained);
                self.main -= 1;
                self.drained += 1;
            }
            if let Some(fmb) = self.udpif.flow_miss_batch_next() {
                assert_eq!(fmb.reval_seq, self.udpif.reval_seq(), "stale batch queued for installation");
            }
            if let Some(k) = self.udpif.drop_key_next() {
                assert!(matches!(k.flow_put(), DpifOp::FlowPut { ref actions, .. } if actions.is_empty()));
            }
            self.udpif.packet_in_next();
        }
    }

    /// Applies one operation and checks every invariant.
    pub fn step(&mut self, op: &Op) {
        match *op {
            Op::Upcall(ref spec) => self.feed(spec),
            Op::Burst(ref spec, n) => {
                for _ in 0..n {
                    self.feed(spec);
                }
            }
            Op::EndRound => self.udpif.end_recv_round(),
            Op::Poll => {
                self.poll();
            }
            Op::Run(i) => self.run_batch(usize::from(i)),
            Op::Done(i) => self.done(usize::from(i)),
            Op::Revalidate => {
                let (fmbs, drops) = (self.udpif.fmb_queue_len() as u64, self.udpif.drop_queue_len() as u64);
                let before = *self.udpif.counters();
                self.udpif.revalidate();
                let after = self.udpif.counters();
                assert_eq!(after.fmb_queue_flushed - before.fmb_queue_flushed, fmbs);
                assert_eq!(after.drop_queue_flushed - before.drop_queue_flushed, drops);
                assert_eq!((self.udpif.fmb_queue_len(), self.udpif.drop_queue_len()), (0, 0));
            }
            Op::Drain(n) => self.drain(n),
            Op::Tick(ms) => self.now += std::time::Duration::from_millis(u64::from(ms)),
        }
        self.check();
    }

    /// Ends the round, runs every batch to completion and drains the main queues; then nothing may be left
    /// anywhere but in terminal counters.
    pub fn finish(&mut self) {
        self.step(&Op::EndRound);
        while !self.polled.is_empty() || !self.ran.is_empty() || self.poll() {
            self.step(&Op::Run(0));
            self.step(&Op::Done(0));
        }
        self.step(&Op::Drain(u8::MAX));
        while self.udpif.main_pending() {
            self.step(&Op::Drain(u8::MAX));
        }
        assert_eq!(self.in_flight, 0);
        assert!(self.queued.iter().all(|&q| q == 0), "upcalls left in handler queues: {:?}", self.queued);
        assert!(self
            .fates
            .iter()
            .all(|f| !matches!(f, Fate::Queued(_) | Fate::InFlight | Fate::Ran(_) | Fate::Main(_))));
    }

    fn check(&mut self) {
        let c = *self.udpif.counters();
        let t = |o: Outcome| self.terminal.get(&o).copied().unwrap_or(0);
        assert_eq!(c.upcall_received, self.fates.len() as u64);
        assert_eq!(c.upcall_bad, self.n_bad);
        assert_eq!(c.miss_queue_overflow, self.n_miss_overflow);
        assert_eq!(c.upcall_queue_overflow, self.n_upcall_overflow);
        assert_eq!(c.upcall_bad_hash_attr, self.n_bad_hash_attrs);
        assert_eq!(c.miss_executed, t(Outcome::Executed));
        assert_eq!(c.miss_no_actions, t(Outcome::NoActions));
        assert_eq!(c.miss_no_port, t(Outcome::NoPort));
        assert_eq!(c.miss_receive_error, t(Outcome::ReceiveError));
        for (i, &q) in self.queued.iter().enumerate() {
            assert_eq!(self.udpif.handler_queue_len(i), q, "handler {i} queue");
            assert!(q <= MAX_QUEUE_LENGTH);
        }
        assert_eq!(self.udpif.in_flight(), self.in_flight);
        assert_eq!(self.udpif.upcall_queue_len(), self.main);
        let queued: usize = self.queued.iter().sum();
        assert_eq!(
            c.upcall_received,
            c.upcalls_finished() + (queued + self.in_flight + self.main) as u64 + self.drained,
            "upcalls not accounted for exactly once"
        );
        assert!(self.udpif.upcall_queue_len() <= MAX_QUEUE_LENGTH);
        assert!(self.udpif.drop_queue_len() <= MAX_QUEUE_LENGTH);
        assert!(self.udpif.fmb_queue_len() <= MAX_QUEUE_LENGTH);
        assert!(self.udpif.packet_in_queue_len() <= MAX_PACKET_IN_QUEUE);
        assert!(self.prev.iter().zip(c.iter()).all(|((_, a), (_, b))| a <= b), "a counter went backwards");
        self.prev = c;
    }
}

/// Reads operations from bytes; every byte string is a valid (possibly empty) program.
struct OpReader<'a> {
    data: &'a [u8],
}

impl OpReader<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }

    fn spec(&mut self) -> Option<UpcallSpec> {
        Some(UpcallSpec {
            kind: self.u8()?,
            port: self.u8()?,
            l4: self.u8()?,
            src: self.u16()?,
            dst: self.u16()?,
            variant: self.u8()?,
            tcp_flags: self.u8()?,
            len: self.u8()?,
        })
    }

    fn op(&mut self) -> Option<Op> {
        Some(match self.u8()? % 16 {
            0..=5 => Op::Upcall(self.spec()?),
            6 => Op::Burst(self.spec()?, self.u8()?),
            7 | 8 => Op::EndRound,
            9 | 10 => Op::Poll,
            11 => Op::Run(self.u8()?),
            12 => Op::Done(self.u8()?),
            13 => Op::Revalidate,
            14 => Op::Drain(self.u8()?),
            _ => Op::Tick(self.u16()?),
        })
    }
}

/// Decodes `data` into a handler count, a secret and operations, drives them, finishes, and panics on any
/// broken invariant.
pub fn run(data: &[u8]) {
    let mut r = OpReader { data };
    let n_handlers = r.u8().map_or(1, |b| usize::from(b % 8) + 1);
    let secret = u32::from(r.u16().unwrap_or(0)) << 16 | u32::from(r.u16().unwrap_or(0));
    let mut driver = Driver::new(secret, n_handlers);
    while let Some(op) = r.op() {
        driver.step(&op);
    }
    driver.finish();
}
