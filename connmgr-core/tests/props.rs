//! Property tests: the fuzz driver's invariants on random operation sequences, and packet-in
//! accounting — every packet-in is delivered, still queued, or counted dropped, and never two of
//! these — both in the rate limiter alone and through a connection.

mod common;

use std::collections::{BTreeMap, HashSet, VecDeque};

use bytes::Bytes;
use common::*;
use connmgr_core::pinsched::{PinSched, Scheduled};
use connmgr_core::{AsyncMsg, ControllerSettings};
use ofp_proto::Instant;
use proptest::prelude::*;

/// Configures every target, connects the first controller and has every transport say hello in
/// OF1.3, so that random operations after it find live connections.
const SETUP: &[u8] = &[3, 0x0f, 5, 0, 1, 6, 0, 10, 0, 3, 10, 1, 3, 10, 2, 3, 25];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_driver_from_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        connmgr_core::fuzzing::run(&data);
    }

    #[test]
    fn fuzz_driver_with_live_connections(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut input = SETUP.to_vec();
        input.extend_from_slice(&data);
        connmgr_core::fuzzing::run(&input);
    }

    #[test]
    fn fuzz_driver_with_flow_monitors(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        // Both live connections watch everything (catch-all monitors with actions) before the
        // random operations: flow mods, bursts, expiries, partial reads, more monitor requests.
        let mut input = SETUP.to_vec();
        input.extend_from_slice(&[11, 0, 17, 0x3e, 0x20, 11, 2, 17, 0x3e, 0x42, 25]);
        input.extend_from_slice(&data);
        connmgr_core::fuzzing::run(&input);
    }

    #[test]
    fn pinsched_accounts_for_every_packet(
        rate in 1u32..50,
        burst in 0u32..8,
        seed in any::<u64>(),
        ops in proptest::collection::vec((any::<bool>(), 0u32..4, 0u64..300), 1..200),
    ) {
        let mut ps = PinSched::new(rate, burst, seed);
        let mut now = Instant::from_secs(1);
        let (mut released, mut dropped) = (Vec::new(), HashSet::new());
        let mut sent_per_port: BTreeMap<u32, VecDeque<Bytes>> = BTreeMap::new();
        let mut n = 0u32;
        for (send, port, wait) in ops {
            now = Instant::from_millis(now.as_millis() + wait);
            if send {
                let p = Bytes::from(format!("{port}:{n}"));
                n += 1;
                sent_per_port.entry(port).or_default().push_back(p.clone());
                match ps.send(now, port, p) {
                    Scheduled::Now(p) => released.push(p),
                    Scheduled::Queued { dropped: Some(d) } => { prop_assert!(dropped.insert(d)); }
                    Scheduled::Queued { dropped: None } => {}
                }
            } else {
                ps.run(now, &mut released);
            }
            let backlog: Vec<Bytes> = ps.backlog().cloned().collect();
            let s = ps.stats();
            prop_assert_eq!(s.n_queued as usize, backlog.len());
            prop_assert!(s.n_queued <= ps.limits().1);
            prop_assert_eq!(s.n_normal + s.n_limited, u64::from(n));
            prop_assert_eq!(s.n_queue_dropped as usize, dropped.len());
            // Every packet is in exactly one place.
            let mut all: Vec<&Bytes> = released.iter().chain(dropped.iter()).chain(backlog.iter()).collect();
            prop_assert_eq!(all.len(), n as usize);
            all.sort();
            all.dedup();
            prop_assert_eq!(all.len(), n as usize);
        }
        // Per port, what was released keeps the order it was sent in.
        for (port, sent) in sent_per_port {
            let out: Vec<&Bytes> = released.iter().filter(|p| p.starts_with(format!("{port}:").as_bytes())).collect();
            let order: Vec<&Bytes> = sent.iter().filter(|p| out.contains(p)).collect();
            prop_assert_eq!(out, order);
        }
    }

    #[test]
    fn connection_accounts_for_every_packet_in(
        rate in prop_oneof![Just(0u32), 1u32..30],
        burst in 0u32..6,
        queue in 1u32..8,
        ops in proptest::collection::vec((0u8..4, 0u32..3, 0u64..400), 1..150),
    ) {
        let mut sw = Sw::new();
        let s = ControllerSettings { rate_limit: rate, burst_limit: burst, controller_queue_size: queue, ..settings() };
        sw.set_controllers(&[("tcp:192.0.2.1:6653", s)]);
        let c = sw.connect("tcp:192.0.2.1:6653", 4);
        sw.peers.get_mut(&c).unwrap().reading = false;
        let mut sent = 0u64;
        let mut delivered = HashSet::new();
        for (op, port, wait) in ops {
            match op {
                0 | 1 => {
                    let tag = format!("pin#{sent}#");
                    sent += 1;
                    let reason = if op == 0 { 1 } else { 0 };
                    sw.mgr.send_async(sw.now, AsyncMsg::PacketIn(pin(tag.as_bytes(), reason, 0, port)));
                    sw.run();
                }
                2 => sw.advance(wait),
                _ => {
                    while let Some(m) = sw.mgr.poll_transmit(sw.now, c) {
                        let i = m.windows(4).position(|w| w == b"pin#").expect("only packet-ins are sent");
                        prop_assert!(delivered.insert(m.slice(i..)), "delivered twice");
                    }
                    sw.run();
                }
            }
            let pairs = &sw.mgr.controller_info(sw.now)["tcp:192.0.2.1:6653"].pairs;
            let count = |k: &str| pairs.get(k).map_or(0, |v| v.parse::<u64>().unwrap());
            let pinsched_dropped = count("packet-in-action-dropped") + count("packet-in-miss-dropped");
            let overflow = sw.mgr.n_packet_in_overflow(c).unwrap();
            let queued = sw.mgr.memory_usage().packets as u64;
            prop_assert_eq!(delivered.len() as u64 + queued + pinsched_dropped + overflow, sent);
        }
    }
}
