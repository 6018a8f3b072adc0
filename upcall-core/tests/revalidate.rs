//! Revalidation: queued batches and drop keys are discarded, batches finished under an old sequence number
//! are not installed.

mod common;

use bytes::Bytes;
use common::{miss, tcp_key};
use ofp_proto::Instant;
use upcall_core::fuzzing::{packet_id, TestDpif, TestXlate, PORT_FAIL_OPEN, PORT_UNKNOWN};
use upcall_core::*;

const NOW: Instant = Instant::from_secs(3);

struct Rig {
    udpif: Udpif<Bytes>,
    xlate: TestXlate,
    dpif: TestDpif,
}

impl Rig {
    fn new() -> Self {
        Rig { udpif: Udpif::new(42, 1), xlate: TestXlate::standard(), dpif: TestDpif::default() }
    }

    /// Feeds `ids` as misses of `key` and ends the round.
    fn feed(&mut self, key: &Bytes, ids: std::ops::Range<u64>) {
        for id in ids {
            self.udpif.handle_upcall(NOW, miss(key, id));
        }
        self.udpif.end_recv_round();
    }

    fn take(&mut self) -> HandlerBatch {
        self.udpif.poll_handler_batch().expect("a ready batch")
    }

    fn handle(&mut self, batch: HandlerBatch) -> HandlerOutput<Bytes> {
        handle_miss_upcalls(NOW, batch, &mut self.xlate, &mut self.dpif)
    }
}

#[test]
fn revalidate_discards_queued_batches_and_drop_keys() {
    let mut rig = Rig::new();
    let (plain, unknown) = (tcp_key(6, 1, 80), tcp_key(PORT_UNKNOWN, 1, 80));
    for round in 0..3 {
        rig.feed(&plain, round * 10..round * 10 + 2);
        rig.feed(&unknown, round * 10 + 2..round * 10 + 4);
        rig.udpif.run_handlers(NOW, &mut rig.xlate, &mut rig.dpif);
    }
    assert_eq!((rig.udpif.fmb_queue_len(), rig.udpif.drop_queue_len()), (3, 6));
    assert_eq!(rig.udpif.reval_seq(), 0);

    rig.udpif.revalidate();
    assert_eq!(rig.udpif.reval_seq(), 1);
    assert_eq!((rig.udpif.fmb_queue_len(), rig.udpif.drop_queue_len()), (0, 0));
    let c = rig.udpif.counters();
    assert_eq!((c.fmb_queue_flushed, c.drop_queue_flushed, c.fmb_queue_revalidated), (3, 6, 0));
    assert!(rig.udpif.flow_miss_batch_next().is_none());
    assert!(rig.udpif.drop_key_next().is_none());
}

#[test]
fn a_batch_finished_under_an_old_sequence_number_is_discarded_not_installed() {
    let mut rig = Rig::new();
    let (fail_open, unknown) = (tcp_key(PORT_FAIL_OPEN, 1, 80), tcp_key(PORT_UNKNOWN, 1, 80));
    rig.feed(&fail_open, 0..3);
    rig.feed(&unknown, 3..4);
    let batch = rig.take();
    assert_eq!(batch.reval_seq, 0);
    let out = rig.handle(batch);

    rig.udpif.revalidate();
    rig.udpif.handle_batch_done(NOW, out);
    let c = *rig.udpif.counters();
    assert_eq!(c.fmb_queue_revalidated, 1);
    assert!(rig.udpif.flow_miss_batch_next().is_none(), "stale batch installed");
    // Its drop key went stale with it; its packets were already executed and sent up.
    assert_eq!((c.drop_queue_flushed, rig.udpif.drop_queue_len()), (1, 0));
    assert_eq!((c.miss_executed, c.miss_no_port), (3, 1));
    assert_eq!(rig.dpif.batches.concat().len(), 3);
    assert_eq!(rig.udpif.packet_in_queue_len(), 3);
    assert_eq!(rig.udpif.in_flight(), 0);

    // The next batch is taken under the new sequence number and installed.
    rig.feed(&fail_open, 4..5);
    let batch = rig.take();
    assert_eq!(batch.reval_seq, 1);
    let out = rig.handle(batch);
    rig.udpif.handle_batch_done(NOW, out);
    let fmb = rig.udpif.flow_miss_batch_next().expect("fresh batch installed");
    assert_eq!(fmb.reval_seq, 1);
    assert_eq!(fmb.misses[0].stats.n_packets, 1);
    assert_eq!(rig.udpif.counters().fmb_queue_revalidated, 1);
}

#[test]
fn revalidation_does_not_touch_upcalls_not_yet_handled() {
    let mut rig = Rig::new();
    let key = tcp_key(6, 1, 80);
    rig.feed(&key, 0..60);
    let first = rig.take();
    rig.udpif.revalidate();
    // Queued misses stay queued and are handled under the new sequence number.
    assert_eq!(rig.udpif.handler_queue_len(0), 10);
    let out = rig.handle(first);
    rig.udpif.handle_batch_done(NOW, out);
    let second = rig.take();
    assert_eq!((second.reval_seq, second.upcalls.len()), (1, 10));
    assert_eq!(packet_id(&second.upcalls[0].packet), Some(50));
    let out = rig.handle(second);
    rig.udpif.handle_batch_done(NOW, out);
    let c = rig.udpif.counters();
    assert_eq!((c.fmb_queue_revalidated, c.miss_executed), (1, 60));
    assert_eq!(rig.udpif.fmb_queue_len(), 1);
}

#[test]
fn each_revalidation_bumps_the_sequence_number() {
    let mut rig = Rig::new();
    let key = tcp_key(6, 1, 80);
    rig.feed(&key, 0..1);
    let batch = rig.take();
    for _ in 0..3 {
        rig.udpif.revalidate();
    }
    assert_eq!(rig.udpif.reval_seq(), 3);
    let out = rig.handle(batch);
    rig.udpif.handle_batch_done(NOW, out);
    assert_eq!(rig.udpif.counters().fmb_queue_revalidated, 1);
}
