//! Packet-ins per second through connection management: `send_async` (async config, encoding per
//! connection) → pinsched (when a rate limit is set) → the rconn transmit queue → `poll_transmit`,
//! for 1, 10 and 100 OpenFlow 1.3 connections. Throughput is in packet-ins delivered.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use connmgr_core::fuzzing::NullOwner;
use connmgr_core::{AsyncMsg, AsyncPacketIn, Config, ConnId, ConnMgr, ControllerSettings};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ofp_proto::msg::Hello;
use ofp_proto::{Instant, Message, OfpMsg, VersionBitmap};

/// A ConnMgr with `n` accepted OF1.3 connections, optionally rate limited.
fn setup(n: usize, rate_limit: u32) -> (ConnMgr, Vec<ConnId>, Instant) {
    let now = Instant::from_secs(1000);
    let mut mgr = ConnMgr::new(Config { name: "br0".into(), seed: 1 });
    let settings = ControllerSettings {
        probe_interval: 0,
        rate_limit,
        burst_limit: rate_limit / 10,
        conn_type: Some(connmgr_core::ConnType::Primary),
        ..ControllerSettings::default()
    };
    let map = BTreeMap::from([("ptcp:6653".to_string(), settings)]);
    mgr.set_controllers(now, &map, &mut NullOwner);
    let hello = OfpMsg::new(4, 1, Message::Hello(Hello::new(VersionBitmap(1 << 4)))).to_bytes();
    let conns: Vec<ConnId> = (0..n)
        .map(|i| {
            let c = mgr.handle_accept(now, "ptcp:6653", &format!("tcp:192.0.2.{i}:5000")).unwrap();
            mgr.handle_bytes(now, c, &hello);
            while mgr.poll_transmit(now, c).is_some() {}
            c
        })
        .collect();
    mgr.handle_timeout(now, &mut NullOwner);
    while mgr.poll_output().is_some() {}
    while mgr.poll_event().is_some() {}
    (mgr, conns, now)
}

fn packet_ins(c: &mut Criterion) {
    let mut g = c.benchmark_group("packet_in");
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    // 10000 packet-ins/s (10 per ms of virtual time): one packet-in per virtual millisecond never
    // waits, so the rate-limited path measures the scheduler's bookkeeping, not its delay.
    for (label, rate) in [("no_limit", 0), ("rate_limited", 10_000)] {
        for n in [1usize, 10, 100] {
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new(label, n), &n, |b, &n| {
                let (mut mgr, conns, mut now) = setup(n, rate);
                let data = Bytes::from(vec![0x5a; 64]);
                b.iter(|| {
                    now += Duration::from_millis(1);
                    let pin = AsyncPacketIn {
                        pin: connmgr_core::fuzzing::packet_in(&data),
                        reason: 1,
                        controller_id: 0,
                        in_port: 1,
                    };
                    mgr.send_async(now, AsyncMsg::PacketIn(pin));
                    let mut sent = 0;
                    for c in &conns {
                        while let Some(m) = mgr.poll_transmit(now, *c) {
                            sent += m.len();
                        }
                    }
                    assert!(sent > 0);
                    sent
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, packet_ins);
criterion_main!(benches);
