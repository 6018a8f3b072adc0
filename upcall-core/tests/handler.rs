//! The handler step: merging, translation once per miss, execution order, slow path, drop keys, fail-open.

mod common;

use bytes::Bytes;
use common::{action, miss, miss_with, tcp_key};
use ofp_proto::Instant;
use upcall_core::fuzzing::{
    packet_id, TestDpif, TestXlate, PORT_DROP, PORT_FAIL_OPEN, PORT_INVALID, PORT_SLOW, PORT_UNKNOWN,
};
use upcall_core::odp::AttrBuilder;
use upcall_core::*;

const NOW: Instant = Instant::from_secs(7);

fn batch(upcalls: Vec<DpifUpcall>) -> HandlerBatch {
    HandlerBatch { handler: 0, reval_seq: 0, upcalls }
}

fn run(upcalls: Vec<DpifUpcall>) -> (HandlerOutput<Bytes>, TestXlate, TestDpif) {
    let (mut xlate, mut dpif) = (TestXlate::standard(), TestDpif::default());
    let out = handle_miss_upcalls(NOW, batch(upcalls), &mut xlate, &mut dpif);
    (out, xlate, dpif)
}

fn executed_ids(dpif: &TestDpif) -> Vec<u64> {
    assert_eq!(dpif.batches.len(), 1, "one datapath batch per handler batch");
    dpif.batches[0]
        .iter()
        .map(|op| match op {
            DpifOp::Execute { packet, .. } => packet_id(packet).unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn merges_upcalls_of_one_flow_with_statistics_and_translates_once() {
    let (a, b, c) = (tcp_key(6, 1, 80), tcp_key(6, 2, 80), tcp_key(7, 1, 80));
    let upcalls = vec![
        miss_with(&a, 0, 0x02, 0),  // SYN, 9 bytes
        miss_with(&b, 1, 0x02, 10), // 19 bytes
        miss_with(&a, 2, 0x10, 20), // ACK, 29 bytes
        miss_with(&c, 3, 0, 0),
        miss_with(&b, 4, 0x01, 1), // FIN, 10 bytes
        miss_with(&a, 5, 0x18, 3), // PSH|ACK, 12 bytes
    ];
    let (out, xlate, _) = run(upcalls);
    assert_eq!(xlate.n_translated, 3, "one translation per flow miss");
    let flows: Vec<&Bytes> = out.fmb.misses.iter().map(|m| &m.flow).collect();
    assert_eq!(flows, vec![&a, &b, &c], "misses in order of first arrival");
    let stats: Vec<MissStats> = out.fmb.misses.iter().map(|m| m.stats).collect();
    assert_eq!(
        stats,
        vec![
            MissStats { n_packets: 3, n_bytes: 9 + 29 + 12, tcp_flags: 0x1a, used: NOW },
            MissStats { n_packets: 2, n_bytes: 19 + 10, tcp_flags: 0x03, used: NOW },
            MissStats { n_packets: 1, n_bytes: 9, tcp_flags: 0, used: NOW },
        ]
    );
    let m = &out.fmb.misses[0];
    assert_eq!((&m.key, m.upcall_type, m.in_port), (&a, DPIF_UC_MISS, 6));
    assert_eq!(m.xout, Xlated { actions: TestXlate::actions_for(6), slow: false, fail_open: false });
    assert_eq!(out.counts, HandlerCounts { executed: 6, ..HandlerCounts::default() });
    assert_eq!(out.n_upcalls, 6);
}

#[test]
fn executes_packets_in_arrival_order_as_one_batch() {
    let keys: Vec<Bytes> = (0..5).map(|i| tcp_key(6 + i % 2, i as u16 % 3, 80)).collect();
    let upcalls: Vec<DpifUpcall> = (0..FLOW_MISS_MAX_BATCH as u64).map(|id| miss(&keys[id as usize % 5], id)).collect();
    let (out, _, dpif) = run(upcalls);
    assert_eq!(executed_ids(&dpif), (0..50).collect::<Vec<_>>());
    // Each execute carries its miss's key and actions; merged packets use the first packet's key.
    for op in &dpif.batches[0] {
        let DpifOp::Execute { key, packet, actions } = op else { unreachable!() };
        let id = packet_id(packet).unwrap() as usize;
        let miss = out.fmb.misses.iter().find(|m| m.flow == keys[id % 5]).unwrap();
        assert_eq!((key, actions), (&miss.key, &miss.xout.actions));
    }
}

#[test]
fn slow_path_action_upcalls_are_handled_as_misses() {
    let key = tcp_key(6, 1, 80);
    let (out, _, dpif) = run(vec![action(&key, 0, USER_ACTION_COOKIE_SLOW_PATH, 8), miss(&key, 1)]);
    assert_eq!(out.fmb.misses.len(), 1);
    assert_eq!(out.fmb.misses[0].upcall_type, DPIF_UC_ACTION, "type of the first upcall");
    assert_eq!(out.fmb.misses[0].stats.n_packets, 2);
    assert_eq!(executed_ids(&dpif), vec![0, 1]);
}

#[test]
fn slow_pathed_packets_are_translated_one_by_one_in_order() {
    let (slow, plain) = (tcp_key(PORT_SLOW, 1, 80), tcp_key(6, 1, 80));
    let upcalls = vec![miss(&slow, 0), miss(&plain, 1), miss(&slow, 2), miss(&slow, 3)];
    let (out, xlate, dpif) = run(upcalls);
    let side: Vec<u64> = xlate.side_effects.iter().map(|p| packet_id(p).unwrap()).collect();
    assert_eq!(side, vec![0, 2, 3]);
    assert_eq!(xlate.n_translated, 2);
    assert!(out.fmb.misses[0].xout.slow);
    assert_eq!(executed_ids(&dpif), vec![0, 1, 2, 3]);
}

#[test]
fn misses_without_actions_issue_no_operation() {
    let (dropped, plain) = (tcp_key(PORT_DROP, 1, 80), tcp_key(6, 1, 80));
    let (out, _, dpif) = run(vec![miss(&dropped, 0), miss(&plain, 1), miss(&dropped, 2)]);
    assert_eq!(executed_ids(&dpif), vec![1]);
    assert_eq!(out.counts, HandlerCounts { executed: 1, no_actions: 2, ..HandlerCounts::default() });
    assert!(out.fmb.misses[0].xout.actions.is_empty(), "still a miss for the main thread to install");
    assert_eq!(out.fmb.misses[0].stats.n_packets, 2);
}

#[test]
fn unknown_ports_make_drop_keys_and_other_receive_errors_drop() {
    let unknown = tcp_key(PORT_UNKNOWN, 1, 80);
    let invalid = tcp_key(PORT_INVALID, 1, 80);
    let no_port = AttrBuilder::new().ethertype(0x0800).tcp(1, 80).finish();
    let plain = tcp_key(6, 1, 80);
    let upcalls = vec![miss(&unknown, 0), miss(&invalid, 1), miss(&plain, 2), miss(&no_port, 3), miss(&unknown, 4)];
    let (out, xlate, dpif) = run(upcalls);
    assert_eq!(executed_ids(&dpif), vec![2]);
    assert_eq!(out.counts, HandlerCounts { no_port: 2, receive_error: 2, executed: 1, no_actions: 0 });
    assert_eq!(out.drop_keys, vec![DropKey { key: unknown.clone(), odp_port: PORT_UNKNOWN }; 2]);
    assert_eq!(out.drop_keys[0].flow_put(), DpifOp::FlowPut { key: unknown, actions: Bytes::new() });
    assert_eq!(out.fmb.misses.len(), 1);
    assert_eq!(xlate.n_translated, 1);
}

#[test]
fn drop_keys_reach_the_main_thread_until_the_queue_overflows() {
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 1);
    let (mut xlate, mut dpif) = (TestXlate::standard(), TestDpif::default());
    let unknown = tcp_key(PORT_UNKNOWN, 1, 80);
    for round in 0..11u64 {
        for i in 0..50 {
            udpif.handle_upcall(NOW, miss(&unknown, round * 50 + i));
        }
        assert_eq!(udpif.run_handlers(NOW, &mut xlate, &mut dpif), 1);
    }
    let c = udpif.counters();
    assert_eq!((c.miss_no_port, c.drop_queue_overflow), (550, 38));
    assert_eq!(udpif.drop_queue_len(), MAX_QUEUE_LENGTH);
    let k = udpif.drop_key_next().unwrap();
    assert_eq!((k.key, k.odp_port), (unknown, PORT_UNKNOWN));
    assert!(dpif.batches.iter().all(|ops| ops.is_empty()), "nothing executed for unassociated ports");
}

#[test]
fn fail_open_sends_every_packet_of_the_batch_as_no_match_packet_ins() {
    let fail_open = tcp_key(PORT_FAIL_OPEN, 1, 80);
    let (plain, unknown) = (tcp_key(6, 1, 80), tcp_key(PORT_UNKNOWN, 1, 80));
    let upcalls = vec![miss(&plain, 0), miss(&unknown, 1), miss_with(&fail_open, 2, 0, 30), miss(&plain, 3)];
    let packets: Vec<Bytes> = upcalls.iter().map(|u| u.packet.clone()).collect();
    let (out, _, dpif) = run(upcalls);
    assert_eq!(executed_ids(&dpif), vec![0, 2, 3], "packet-ins come on top of execution");
    let pins: Vec<(u32, u64, usize, u8)> =
        out.packet_ins.iter().map(|p| (p.in_port, packet_id(&p.packet).unwrap(), p.total_len, p.reason)).collect();
    assert_eq!(pins, vec![(6, 0, 9, OFPR_NO_MATCH), (PORT_FAIL_OPEN, 2, 39, OFPR_NO_MATCH), (6, 3, 9, OFPR_NO_MATCH)]);
    // Zero-copy: the packet-in shares the upcall's buffer.
    assert_eq!(out.packet_ins[1].packet.as_ptr(), packets[2].as_ptr());

    let (out, _, _) = run(vec![miss(&plain, 0), miss(&plain, 1)]);
    assert!(out.packet_ins.is_empty(), "no packet-ins without the fail-open rule");
}

#[test]
fn packet_in_queue_holds_1024_then_counts_overflow() {
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 1);
    let (mut xlate, mut dpif) = (TestXlate::standard(), TestDpif::default());
    let fail_open = tcp_key(PORT_FAIL_OPEN, 1, 80);
    for round in 0..21u64 {
        for i in 0..50 {
            udpif.handle_upcall(NOW, miss(&fail_open, round * 50 + i));
        }
        udpif.run_handlers(NOW, &mut xlate, &mut dpif);
    }
    let c = udpif.counters();
    assert_eq!((c.packet_in_sent, c.packet_in_overflow), (1050, 26));
    assert_eq!(udpif.packet_in_queue_len(), MAX_PACKET_IN_QUEUE);
    let ids: Vec<u64> = std::iter::from_fn(|| udpif.packet_in_next()).map(|p| packet_id(&p.packet).unwrap()).collect();
    assert_eq!(ids, (0..1024).collect::<Vec<_>>(), "the oldest are kept, in order");
}

#[test]
fn flow_miss_batches_queue_for_installation_until_the_queue_overflows() {
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 1);
    let (mut xlate, mut dpif) = (TestXlate::standard(), TestDpif::default());
    let key = tcp_key(6, 1, 80);
    for id in 0..(MAX_QUEUE_LENGTH as u64 + 3) {
        udpif.handle_upcall(NOW, miss(&key, id));
        udpif.end_recv_round();
        udpif.run_handlers(NOW, &mut xlate, &mut dpif);
    }
    assert_eq!(udpif.fmb_queue_len(), MAX_QUEUE_LENGTH);
    assert_eq!(udpif.counters().fmb_queue_overflow, 3);
    assert_eq!(udpif.counters().miss_executed, MAX_QUEUE_LENGTH as u64 + 3, "overflowed batches were executed");
    let fmb = udpif.flow_miss_batch_next().unwrap();
    assert_eq!((fmb.reval_seq, fmb.misses.len(), &fmb.misses[0].flow), (0, 1, &key));
}

#[test]
fn handler_values_can_cross_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<HandlerBatch>();
    assert_send::<HandlerOutput<Bytes>>();
    assert_send::<FlowMissBatch<Bytes>>();
    assert_send::<Udpif<Bytes>>();
}
