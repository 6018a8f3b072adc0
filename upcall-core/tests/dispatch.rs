//! The dispatcher: hashing, classification, queue bounds, overflow counters, waking handlers.

mod common;

use std::collections::VecDeque;

use bytes::Bytes;
use common::{action, miss, tcp_key};
use ofp_proto::Instant;
use upcall_core::fuzzing::{packet_id, test_packet, TestDpif, TestXlate};
use upcall_core::odp::{AttrBuilder, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_UDP};
use upcall_core::*;

const NOW: Instant = Instant::from_secs(1);

fn ids(batch: &HandlerBatch) -> Vec<u64> {
    batch.upcalls.iter().map(|u| packet_id(&u.packet).unwrap()).collect()
}

/// Runs `batch` with the standard test translator and hands the output back.
fn complete(udpif: &mut Udpif<Bytes>, batch: HandlerBatch) {
    let out = handle_miss_upcalls(NOW, batch, &mut TestXlate::standard(), &mut TestDpif::default());
    udpif.handle_batch_done(NOW, out);
}

// Netlink attributes are host-order, so the hash of a given flow differs by host endianness (as in OVS);
// these pinned values (checked against an independent murmur3 computation) are the little-endian ones.
#[cfg(target_endian = "little")]
#[test]
fn hash_is_stable() {
    let tcp = AttrBuilder::new().in_port(1).ethertype(0x0800).tcp(1000, 80).finish();
    let udp = AttrBuilder::new().in_port(2).udp(53, 53).finish();
    assert_eq!(upcall_hash(0x1234_5678, &tcp), (0xde27_ff98, 0));
    assert_eq!(upcall_hash(0x1234_5678, &udp), (0x6400_7ebe, 0));
    assert_eq!(Udpif::<Bytes>::new(0x1234_5678, 64).handler_for(&tcp), 0xde27_ff98 % 64);
    assert_eq!(Udpif::<Bytes>::new(0x1234_5678, 8).handler_for(&tcp), 0xde27_ff98 % 8);
}

#[test]
fn one_l4_flow_always_lands_on_one_handler() {
    let udpif: Udpif<Bytes> = Udpif::new(99, 16);
    for src in 0..200u16 {
        let plain = tcp_key(3, src, 80);
        // Different L2/L3 attributes, same in_port and TCP ports.
        let other = AttrBuilder::new().in_port(3).ethertype(0x86dd).tcp(src, 80).put(40, &[1, 2, 3]).finish();
        assert_eq!(udpif.handler_for(&plain), udpif.handler_for(&other), "src port {src}");
    }
    // Dispatching agrees with `handler_for`, for misses and slow-path action upcalls alike.
    let mut udpif: Udpif<Bytes> = Udpif::new(99, 16);
    for (id, src) in (0..100u16).enumerate() {
        let key = tcp_key(3, src, 80);
        let want = Dispatch::Handler(udpif.handler_for(&key));
        assert_eq!(udpif.handle_upcall(NOW, miss(&key, id as u64)), want);
        assert_eq!(udpif.handle_upcall(NOW, action(&key, 1000 + id as u64, USER_ACTION_COOKIE_SLOW_PATH, 8)), want);
    }
}

#[test]
fn hash_spreads_flows_evenly_and_depends_on_the_secret() {
    for n_handlers in [2usize, 8, 64] {
        let udpif: Udpif<Bytes> = Udpif::new(0xdead_beef, n_handlers);
        let per_handler = 400;
        let mut counts = vec![0usize; n_handlers];
        for i in 0..n_handlers * per_handler {
            let key = tcp_key(1 + (i % 4) as u32, 1024 + (i / 4) as u16, 443);
            counts[udpif.handler_for(&key)] += 1;
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > per_handler * 3 / 4 && *max < per_handler * 5 / 4, "{n_handlers} handlers: {counts:?}");
    }
    // UDP ports count too.
    let udpif: Udpif<Bytes> = Udpif::new(5, 8);
    let spread: std::collections::BTreeSet<usize> =
        (0..64u16).map(|p| udpif.handler_for(&AttrBuilder::new().in_port(1).udp(p, 53).finish())).collect();
    assert_eq!(spread.len(), 8);
    // Another secret reshuffles most flows.
    let (a, b): (Udpif<Bytes>, Udpif<Bytes>) = (Udpif::new(1, 8), Udpif::new(2, 8));
    let moved =
        (0..1000u16).filter(|&p| a.handler_for(&tcp_key(1, p, 80)) != b.handler_for(&tcp_key(1, p, 80))).count();
    assert!(moved > 800, "only {moved} of 1000 flows moved");
}

#[test]
fn wrongly_sized_port_attributes_are_skipped_and_counted() {
    let mut udpif: Udpif<Bytes> = Udpif::new(7, 64);
    let port_only = AttrBuilder::new().in_port(9).finish();
    for attr in [OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_UDP] {
        let short = AttrBuilder::new().in_port(9).put(attr, &[0, 80]).finish();
        let long = AttrBuilder::new().in_port(9).put(attr, &[0, 80, 0, 81, 0]).finish();
        assert_eq!(udpif.handler_for(&short), udpif.handler_for(&port_only));
        assert_eq!(upcall_hash(7, &long), (upcall_hash(7, &port_only).0, 1));
        udpif.handle_upcall(NOW, miss(&short, 0));
    }
    let bad_port = AttrBuilder::new().put(upcall_core::odp::OVS_KEY_ATTR_IN_PORT, &[9]).tcp(1, 2).finish();
    assert_eq!(upcall_hash(7, &bad_port).1, 1);
    udpif.handle_upcall(NOW, miss(&bad_port, 1));
    assert_eq!(udpif.counters().upcall_bad_hash_attr, 3);
    assert_eq!(udpif.counters().upcall_received, 3);
}

#[test]
fn bad_upcalls_are_dropped_and_counted() {
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 4);
    let key = tcp_key(1, 1, 1);
    let no_cookie = DpifUpcall { userdata: None, ..action(&key, 0, 0, 8) };
    let cases = [
        (DpifUpcall { kind: 7, ..miss(&key, 0) }, BadUpcall::UnexpectedType(7)),
        (no_cookie, BadUpcall::MissingCookie),
        (action(&key, 0, USER_ACTION_COOKIE_SFLOW, 1), BadUpcall::CookieSize(1)),
        (action(&key, 0, USER_ACTION_COOKIE_SFLOW, 20), BadUpcall::CookieSize(20)),
        (action(&key, 0, USER_ACTION_COOKIE_SLOW_PATH, 16), BadUpcall::InvalidCookie { cookie_type: 2, size: 16 }),
    ];
    for (i, (upcall, why)) in cases.into_iter().enumerate() {
        assert_eq!(udpif.handle_upcall(NOW, upcall), Dispatch::Bad(why));
        assert_eq!(udpif.counters().upcall_bad, i as u64 + 1);
    }
    udpif.end_recv_round();
    assert!(udpif.poll_handler_batch().is_none());
    assert!(!udpif.main_pending());
}

#[test]
fn samples_go_to_the_main_queue_which_holds_512() {
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 4);
    let key = tcp_key(1, 1, 1);
    let kinds = [
        (USER_ACTION_COOKIE_SFLOW, 8, UpcallType::SFlow),
        (USER_ACTION_COOKIE_FLOW_SAMPLE, 16, UpcallType::FlowSample),
        (USER_ACTION_COOKIE_IPFIX, 2, UpcallType::Ipfix),
    ];
    for id in 0..MAX_QUEUE_LENGTH as u64 {
        let (t, size, _) = kinds[id as usize % 3];
        assert_eq!(udpif.handle_upcall(NOW, action(&key, id, t, size)), Dispatch::Main);
    }
    let overflow = action(&key, 999, USER_ACTION_COOKIE_SFLOW, 8);
    assert_eq!(udpif.handle_upcall(NOW, overflow), Dispatch::UpcallQueueOverflow);
    assert_eq!(udpif.counters().upcall_queue_overflow, 1);
    assert_eq!(udpif.upcall_queue_len(), MAX_QUEUE_LENGTH);
    assert!(udpif.main_pending());
    for id in 0..MAX_QUEUE_LENGTH as u64 {
        let u = udpif.upcall_next().unwrap();
        assert_eq!((packet_id(&u.upcall.packet), u.kind), (Some(id), kinds[id as usize % 3].2));
    }
    assert!(udpif.upcall_next().is_none());
    assert!(!udpif.main_pending());
}

#[test]
fn handler_queue_holds_512_then_counts_miss_queue_overflow() {
    let mut udpif: Udpif<Bytes> = Udpif::new(3, 4);
    let key = tcp_key(6, 5000, 80);
    let h = udpif.handler_for(&key);
    for id in 0..600 {
        let want = if id < 512 { Dispatch::Handler(h) } else { Dispatch::MissQueueOverflow(h) };
        assert_eq!(udpif.handle_upcall(NOW, miss(&key, id)), want, "upcall {id}");
    }
    assert_eq!(udpif.handler_queue_len(h), MAX_QUEUE_LENGTH);
    assert_eq!(udpif.counters().miss_queue_overflow, 88);
    assert!((0..4).filter(|&i| i != h).all(|i| udpif.handler_queue_len(i) == 0));
    // Taking a batch makes room for exactly that many.
    let batch = udpif.poll_handler_batch().unwrap();
    assert_eq!(ids(&batch), (0..50).collect::<Vec<_>>());
    for id in 600..651 {
        udpif.handle_upcall(NOW, miss(&key, id));
    }
    assert_eq!(udpif.handler_queue_len(h), MAX_QUEUE_LENGTH);
    assert_eq!(udpif.counters().miss_queue_overflow, 89);
}

#[test]
fn handler_wakes_at_a_full_batch_or_at_the_end_of_the_round() {
    let mut udpif: Udpif<Bytes> = Udpif::new(3, 1);
    let key = tcp_key(6, 1, 2);
    for id in 0..49 {
        udpif.handle_upcall(NOW, miss(&key, id));
    }
    assert!(udpif.poll_handler_batch().is_none(), "woken before a full batch");
    udpif.handle_upcall(NOW, miss(&key, 49));
    let batch = udpif.poll_handler_batch().expect("woken at 50");
    assert_eq!(ids(&batch), (0..50).collect::<Vec<_>>());
    assert_eq!(udpif.in_flight(), 50);
    complete(&mut udpif, batch);
    assert_eq!(udpif.in_flight(), 0);

    for id in 50..53 {
        udpif.handle_upcall(NOW, miss(&key, id));
    }
    assert!(udpif.poll_handler_batch().is_none());
    udpif.end_recv_round();
    let batch = udpif.poll_handler_batch().expect("woken at end of round");
    assert_eq!(ids(&batch), vec![50, 51, 52]);
    complete(&mut udpif, batch);
    // Nothing new this round: ending it again wakes nobody.
    udpif.end_recv_round();
    assert!(udpif.poll_handler_batch().is_none());
}

#[test]
fn an_awake_handler_takes_batches_of_50_one_at_a_time_until_empty() {
    let mut udpif: Udpif<Bytes> = Udpif::new(3, 1);
    let key = tcp_key(6, 1, 2);
    for id in 0..120 {
        udpif.handle_upcall(NOW, miss(&key, id));
    }
    let first = udpif.poll_handler_batch().unwrap();
    assert!(udpif.poll_handler_batch().is_none(), "second batch while the first is out");
    complete(&mut udpif, first);
    let second = udpif.poll_handler_batch().unwrap();
    assert_eq!(ids(&second), (50..100).collect::<Vec<_>>());
    complete(&mut udpif, second);
    // The remainder comes without waiting for the end of the round: the handler is still awake.
    let third = udpif.poll_handler_batch().unwrap();
    assert_eq!(ids(&third), (100..120).collect::<Vec<_>>());
    complete(&mut udpif, third);
    // Now it found its queue empty and sleeps until woken again.
    udpif.handle_upcall(NOW, miss(&key, 120));
    assert!(udpif.poll_handler_batch().is_none());
    assert_eq!(udpif.counters().miss_executed, 120);
}

#[test]
fn handlers_are_served_round_robin_and_independently() {
    let mut udpif: Udpif<Bytes> = Udpif::new(11, 4);
    let keys: Vec<Bytes> =
        (0..4).map(|h| (0u16..).map(|p| tcp_key(6, p, 80)).find(|k| udpif.handler_for(k) == h).unwrap()).collect();
    for round in 0..2 {
        for (h, key) in keys.iter().enumerate() {
            udpif.handle_upcall(NOW, miss(key, (round * 4 + h) as u64));
        }
    }
    udpif.end_recv_round();
    let batches: Vec<HandlerBatch> = std::iter::from_fn(|| udpif.poll_handler_batch()).collect();
    assert_eq!(batches.iter().map(|b| b.handler).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    for b in &batches {
        assert_eq!(ids(b), vec![b.handler as u64, 4 + b.handler as u64]);
    }
    for b in batches {
        complete(&mut udpif, b);
    }
    // The search for a ready handler resumes after the last one served: after 1 comes 3, then 0.
    udpif.handle_upcall(NOW, miss(&keys[1], 100));
    udpif.end_recv_round();
    let b = udpif.poll_handler_batch().unwrap();
    assert_eq!(b.handler, 1);
    complete(&mut udpif, b);
    udpif.handle_upcall(NOW, miss(&keys[0], 101));
    udpif.handle_upcall(NOW, miss(&keys[3], 102));
    udpif.end_recv_round();
    assert_eq!(udpif.poll_handler_batch().map(|b| b.handler), Some(3));
    assert_eq!(udpif.poll_handler_batch().map(|b| b.handler), Some(0));
    assert!(udpif.poll_handler_batch().is_none());
}

struct QueueDpif(VecDeque<DpifUpcall>);

impl DpifRecv for QueueDpif {
    fn recv(&mut self) -> Option<DpifUpcall> {
        self.0.pop_front()
    }
}

#[test]
fn recv_upcalls_reads_everything_then_ends_the_round() {
    let mut udpif: Udpif<Bytes> = Udpif::new(3, 2);
    let key = tcp_key(6, 1, 2);
    let mut dpif = QueueDpif((0..5).map(|id| miss(&key, id)).collect());
    dpif.0.push_back(action(&key, 5, USER_ACTION_COOKIE_IPFIX, 2));
    assert_eq!(udpif.recv_upcalls(NOW, &mut dpif), 6);
    let batch = udpif.poll_handler_batch().expect("round ended");
    assert_eq!(ids(&batch), vec![0, 1, 2, 3, 4]);
    assert_eq!(udpif.upcall_next().map(|u| u.kind), Some(UpcallType::Ipfix));
}

#[test]
fn handler_count_is_clamped_to_1_through_64() {
    assert_eq!(Udpif::<Bytes>::new(0, 0).n_handlers(), 1);
    assert_eq!(Udpif::<Bytes>::new(0, 17).n_handlers(), 17);
    assert_eq!(Udpif::<Bytes>::new(0, 1000).n_handlers(), MAX_N_HANDLERS);
}

#[test]
fn zero_copy_dispatch_keeps_the_receive_buffer() {
    let mut udpif: Udpif<Bytes> = Udpif::new(3, 1);
    let packet = test_packet(0, 0, 100);
    let key = tcp_key(6, 1, 2);
    let upcall = DpifUpcall { kind: DPIF_UC_MISS, key: key.clone(), packet: packet.clone(), userdata: None };
    udpif.handle_upcall(NOW, upcall);
    udpif.end_recv_round();
    let batch = udpif.poll_handler_batch().unwrap();
    assert_eq!(batch.upcalls[0].packet.as_ptr(), packet.as_ptr());
    assert_eq!(batch.upcalls[0].key.as_ptr(), key.as_ptr());
}
