//! Flow-table throughput: 100,000 flow-mod adds (into the tables directly, and as OpenFlow 1.3
//! bytes through connection management), the same number as one OpenFlow 1.4 bundle (added and
//! committed, and the commit alone), and lookups in a table of 10,000 rules with a mix of masks.
//! The datapath completes every operation at once.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use connmgr_core::{ConnId, ConnMgr, ControllerSettings, Output, RuleEvent};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ofp_proto::actions::Action;
use ofp_proto::flow::{Flow, ETH_TYPE_IP, IPPROTO_TCP};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType, OFPBF_ATOMIC};
use ofp_proto::msg::{FlowMod, Hello};
use ofp_proto::ofmatch::Match;
use ofp_proto::{Instant, Message, OfpMsg, VersionBitmap};
use ofproto_core::{Config, MonitorSink, OfProto, TestDatapath};

const N_ADDS: u32 = 100_000;

/// Drops rule changes (no flow monitors).
struct Discard;

impl MonitorSink for Discard {
    fn rule_event(&mut self, _: RuleEvent) -> u64 {
        0
    }

    fn end_batch(&mut self, _: Instant) {}
}

/// The i-th of many distinct TCP flows: exact IPv4 destination and port, as a controller
/// programming a forwarding table would send.
fn tcp_flow(i: u32) -> FlowMod {
    let mut m = Match::catchall();
    m.set_dl_type(ETH_TYPE_IP);
    m.set_nw_proto(IPPROTO_TCP);
    m.set_nw_dst_masked(0x0a00_0000 | i, u32::MAX);
    m.set_tp_dst_masked(80, u16::MAX);
    FlowMod {
        match_: m,
        priority: 100,
        new_cookie: u64::from(i),
        instructions: Instructions::apply([Action::Output { port: (i % 48) + 1, max_len: 0 }]),
        ..FlowMod::default()
    }
}

fn tables() -> OfProto<TestDatapath> {
    OfProto::new(Config::default(), TestDatapath::new())
}

fn adds(c: &mut Criterion) {
    let fms: Vec<FlowMod> = (0..N_ADDS).map(tcp_flow).collect();
    let mut g = c.benchmark_group("flow_mod");
    g.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(N_ADDS.into()));
    g.bench_function("add_100k_direct", |b| {
        b.iter_batched(
            tables,
            |mut tb| {
                for fm in &fms {
                    tb.flow_mod(Instant::ZERO, fm, None).unwrap();
                    // As an embedder does: hand the rule change on (here, drop it).
                    tb.forward_monitor_events(Instant::ZERO, &mut Discard);
                }
                tb
            },
            BatchSize::PerIteration,
        )
    });

    let wire: Vec<u8> = fms
        .iter()
        .enumerate()
        .flat_map(|(i, fm)| OfpMsg::new(4, i as u32, Message::FlowMod(fm.clone())).to_bytes())
        .collect();
    g.bench_function("add_100k_openflow13_via_connmgr", |b| {
        b.iter_batched(
            || connected(4),
            |(mut mgr, mut tb, conn)| {
                feed(&mut mgr, &mut tb, conn, &wire);
                assert_eq!(tb.table_len(0), N_ADDS as usize);
                (mgr, tb)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// The i-th flow of `ovs-ofctl --bundle add-flows` as the issue measured it: an exact IPv4
/// destination, one of 1000 priorities, all to the same port.
fn ip_flow(i: u32) -> FlowMod {
    let mut m = Match::catchall();
    m.set_dl_type(ETH_TYPE_IP);
    m.set_nw_dst_masked(0x0a00_0000 | i, u32::MAX);
    FlowMod {
        match_: m,
        priority: (i % 1000 + 1) as u16,
        instructions: Instructions::apply([Action::Output { port: 1, max_len: 0 }]),
        ..FlowMod::default()
    }
}

/// Feeds `wire` to `conn` in 64 KiB reads and handles everything it causes.
fn feed(mgr: &mut ConnMgr, tb: &mut OfProto<TestDatapath>, conn: ConnId, wire: &[u8]) {
    let now = Instant::from_secs(1);
    for chunk in wire.chunks(64 * 1024) {
        mgr.handle_bytes(now, conn, chunk);
        while mgr.poll_timeout().is_some_and(|t| t <= now) {
            mgr.handle_timeout(now, tb);
            tb.forward_events(now, mgr);
        }
    }
}

fn bundles(c: &mut Criterion) {
    const BUNDLE: u32 = 1;
    let ctrl = |xid, ty| OfpMsg::new(5, xid, Message::BundleControl(BundleCtrl::new(BUNDLE, ty, OFPBF_ATOMIC)));
    let mut adds = ctrl(1, BundleCtrlType::OPEN_REQUEST).to_bytes().to_vec();
    for i in 0..N_ADDS {
        let add = BundleAdd::wrap(BUNDLE, OFPBF_ATOMIC, OfpMsg::new(5, i + 2, Message::FlowMod(ip_flow(i)))).unwrap();
        adds.extend_from_slice(&add.to_bytes());
    }
    let commit = ctrl(N_ADDS + 2, BundleCtrlType::COMMIT_REQUEST).to_bytes();
    let mut g = c.benchmark_group("bundle");
    g.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(N_ADDS.into()));
    g.bench_function("add_and_commit_100k_openflow14_via_connmgr", |b| {
        b.iter_batched(
            || connected(5),
            |(mut mgr, mut tb, conn)| {
                feed(&mut mgr, &mut tb, conn, &adds);
                feed(&mut mgr, &mut tb, conn, &commit);
                assert_eq!(tb.table_len(0), N_ADDS as usize);
                (mgr, tb)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("commit_100k_openflow14_via_connmgr", |b| {
        b.iter_batched(
            || {
                let (mut mgr, mut tb, conn) = connected(5);
                feed(&mut mgr, &mut tb, conn, &adds);
                assert_eq!(tb.table_len(0), 0);
                (mgr, tb, conn)
            },
            |(mut mgr, mut tb, conn)| {
                feed(&mut mgr, &mut tb, conn, &commit);
                assert_eq!(tb.table_len(0), N_ADDS as usize);
                (mgr, tb)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// A connection management with one controller speaking OpenFlow `version` (wire number), hello
/// exchanged.
fn connected(version: u8) -> (ConnMgr, OfProto<TestDatapath>, ConnId) {
    let now = Instant::from_secs(1);
    let mut mgr = ConnMgr::new(connmgr_core::Config { name: "br0".into(), seed: 1 });
    let mut tb = tables();
    let settings = ControllerSettings { probe_interval: 0, ..ControllerSettings::default() };
    mgr.set_controllers(now, &BTreeMap::from([("tcp:192.0.2.1:6653".to_string(), settings)]), &mut tb);
    let conn = loop {
        if let Some(Output::Connect { conn, .. }) = mgr.poll_output() {
            break conn;
        }
    };
    mgr.handle_connected(now, conn);
    let hello = Hello::new(VersionBitmap::single(version));
    mgr.handle_bytes(now, conn, &OfpMsg::new(version, 1, Message::Hello(hello)).to_bytes());
    mgr.handle_timeout(now, &mut tb);
    while mgr.poll_transmit(now, conn).is_some() {}
    (mgr, tb, conn)
}

/// 10,000 rules over four masks: 8,000 exact /32 destinations (priority 300), 1,000 /24 networks
/// (200), 900 input ports (100) and 100 TCP ports (50).
fn table_10k() -> OfProto<TestDatapath> {
    let mut tb = tables();
    let mut add = |m: Match, priority: u16| {
        let fm = FlowMod {
            match_: m,
            priority,
            instructions: Instructions::apply([Action::Output { port: 1, max_len: 0 }]),
            ..FlowMod::default()
        };
        tb.flow_mod(Instant::ZERO, &fm, None).unwrap();
    };
    for i in 0..8_000u32 {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_dst_masked(0x0a00_0000 | i, u32::MAX);
        add(m, 300);
    }
    for i in 0..1_000u32 {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_dst_masked(0x0b00_0000 | i << 8, 0xffff_ff00);
        add(m, 200);
    }
    for i in 0..900u16 {
        let mut m = Match::catchall();
        m.set_in_port(u32::from(i) + 1);
        add(m, 100);
    }
    for i in 0..100u16 {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_proto(IPPROTO_TCP);
        m.set_tp_dst_masked(1000 + i, u16::MAX);
        add(m, 50);
    }
    assert_eq!(tb.table_len(0), 10_000);
    tb
}

fn lookups(c: &mut Criterion) {
    let mut tb = table_10k();
    // Hits on each mask and misses, in a fixed mix.
    let packets: Vec<Flow> = (0..1024u32)
        .map(|i| Flow {
            in_port: i % 1200,
            dl_type: ETH_TYPE_IP,
            nw_proto: IPPROTO_TCP,
            nw_dst: match i % 4 {
                0 => 0x0a00_0000 | ((i * 7) % 8_000),
                1 => 0x0b00_0000 | (((i * 13) % 1_000) << 8) | 7,
                _ => 0x0c00_0000 | i,
            },
            tp_dst: 1000 + (i % 150) as u16,
            ..Flow::default()
        })
        .collect();
    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(packets.len() as u64));
    g.bench_function("10k_rules_4_masks", |b| {
        b.iter(|| {
            for p in &packets {
                black_box(tb.lookup(0, black_box(p)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, adds, bundles, lookups);
criterion_main!(benches);
