//! Dispatch throughput (classify + hash + enqueue; target ≥ 10 M upcalls/s per core) and handler batches
//! with de-duplication.

// Benchmarks measure wall-clock time; the sans-IO rule is for the library.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ofp_proto::Instant;
use std::hint::black_box;
use std::time::{Duration, Instant as StdInstant};
use upcall_core::fuzzing::{test_packet, TestXlate};
use upcall_core::odp::{AttrBuilder, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_SKB_MARK};
use upcall_core::{
    handle_miss_upcalls, upcall_hash, DpifOp, DpifOperate, DpifUpcall, HandlerBatch, MissStats, ReceiveError, Received,
    Udpif, Xlate, Xlated, DPIF_UC_MISS, FLOW_MISS_MAX_BATCH,
};

const NOW: Instant = Instant::from_secs(1);

/// A key as the kernel datapath sends it for a TCP/IPv4 miss.
fn key(port: u32, src: u16) -> Bytes {
    AttrBuilder::new()
        .put_u32(OVS_KEY_ATTR_PRIORITY, 0)
        .in_port(port)
        .put_u32(OVS_KEY_ATTR_SKB_MARK, 0)
        .ethernet([0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 2])
        .ethertype(0x0800)
        .ipv4(0x0a00_0001, 0x0a00_0002, 6, 0, 64, 0)
        .tcp(src, 80)
        .finish()
}

/// `n` misses over `n_flows` flows, 64-byte packets.
fn misses(n: usize, n_flows: usize) -> Vec<DpifUpcall> {
    let keys: Vec<Bytes> = (0..n_flows).map(|i| key(1 + (i % 4) as u32, 1024 + i as u16)).collect();
    (0..n)
        .map(|i| DpifUpcall {
            kind: DPIF_UC_MISS,
            key: keys[i % n_flows].clone(),
            packet: test_packet(i as u64, 0x10, 55),
            userdata: None,
        })
        .collect()
}

/// Drops every upcall at receive time: the cheapest way to empty the handler queues between rounds.
struct RejectAll;

impl Xlate for RejectAll {
    type Flow = ();

    fn receive(&mut self, _key: &Bytes, _packet: &Bytes) -> Result<Received<()>, ReceiveError> {
        Err(ReceiveError::Invalid)
    }

    fn lookup_and_translate(&mut self, _flow: &(), _stats: &MissStats) -> Xlated {
        Xlated::default()
    }

    fn translate_for_side_effects(&mut self, _flow: &(), _packet: &Bytes) {}
}

struct CountingDpif(usize);

impl DpifOperate for CountingDpif {
    fn operate(&mut self, ops: &[DpifOp]) {
        self.0 += ops.len();
    }
}

fn dispatch(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch");
    let k = key(1, 1024);
    g.throughput(Throughput::Elements(1));
    g.bench_function("hash", |b| b.iter(|| upcall_hash(black_box(0x1234_5678), black_box(&k))));

    // Distinct flows, at most half the handlers' total queue space, so nothing overflows. The udpif lives
    // across iterations, as in a running switch: its queues have grown once and are drained (untimed)
    // between rounds, so this measures classify + hash + enqueue, not allocation.
    for (n_handlers, n) in [(1usize, 512usize), (8, 2048), (64, 4096)] {
        let upcalls = misses(n, n);
        let mut udpif = Udpif::<()>::new(0x1234_5678, n_handlers);
        let mut sink = (RejectAll, CountingDpif(0));
        let mut round = Vec::with_capacity(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("hash_and_enqueue/{n_handlers}_handlers"), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    round.extend(upcalls.iter().cloned());
                    let start = StdInstant::now();
                    for u in round.drain(..) {
                        black_box(udpif.handle_upcall(NOW, u));
                    }
                    elapsed += start.elapsed();
                    udpif.end_recv_round();
                    udpif.run_handlers(NOW, &mut sink.0, &mut sink.1);
                }
                assert_eq!(udpif.counters().miss_queue_overflow, 0);
                elapsed
            })
        });
    }
    g.finish();
}

fn handler(c: &mut Criterion) {
    let mut g = c.benchmark_group("handler_batch");
    g.throughput(Throughput::Elements(FLOW_MISS_MAX_BATCH as u64));
    for n_flows in [1usize, 10, 50] {
        let batch = HandlerBatch { handler: 0, reval_seq: 0, upcalls: misses(FLOW_MISS_MAX_BATCH, n_flows) };
        g.bench_function(format!("{n_flows}_flows"), |b| {
            let (mut xlate, mut dpif) = (TestXlate::default(), CountingDpif(0));
            b.iter_batched(
                || batch.clone(),
                |batch| handle_miss_upcalls(NOW, batch, &mut xlate, &mut dpif),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, dispatch, handler);
criterion_main!(benches);
