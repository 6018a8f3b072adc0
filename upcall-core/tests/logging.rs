//! Log lines: OVS's texts under the `ofproto_dpif_upcall` target, rate-limited as OVS limits them.
//! One test in its own binary, since the logger is process-wide.

mod common;

use std::sync::Mutex;

use bytes::Bytes;
use common::{miss, tcp_key};
use log::{Level, LevelFilter, Log, Metadata, Record};
use ofp_proto::Instant;
use upcall_core::fuzzing::{TestDpif, TestXlate, PORT_UNKNOWN};
use upcall_core::odp::{AttrBuilder, OVS_KEY_ATTR_UDP};
use upcall_core::{DpifUpcall, Udpif, LOG_TARGET};

struct Capture(Mutex<Vec<(Level, String)>>);

impl Log for Capture {
    fn enabled(&self, m: &Metadata) -> bool {
        m.target() == LOG_TARGET
    }

    fn log(&self, r: &Record) {
        if self.enabled(r.metadata()) {
            self.0.lock().unwrap().push((r.level(), r.args().to_string()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Capture = Capture(Mutex::new(Vec::new()));

fn take() -> Vec<(Level, String)> {
    std::mem::take(&mut *LOGGER.0.lock().unwrap())
}

#[test]
fn ovs_texts_at_ovs_rates() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(LevelFilter::Debug);
    let t0 = Instant::from_secs(1000);
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 1);
    let key = tcp_key(1, 1, 80);

    // Warnings share one limit of 1 per minute, bursts of 5.
    for id in 0..7 {
        udpif.handle_upcall(t0, DpifUpcall { kind: 9, ..miss(&key, id) });
    }
    let warn = (Level::Warn, "upcall has unexpected type 9".to_string());
    assert_eq!(take(), vec![warn.clone(); 5]);
    let bad_udp = AttrBuilder::new().in_port(1).put(OVS_KEY_ATTR_UDP, &[0, 53]).finish();
    udpif.handle_upcall(t0 + std::time::Duration::from_secs(30), miss(&bad_udp, 7));
    assert_eq!(
        take(),
        vec![(
            Level::Debug,
            "dispatcher: miss enqueue (in_port(1),udp(bad key length 2, expected 4)(00 35))".to_string()
        )],
        "the warning is still over its limit after 30 s; the debug line has its own limit"
    );
    udpif.handle_upcall(t0 + std::time::Duration::from_secs(61), miss(&bad_udp, 8));
    assert_eq!(
        take(),
        vec![
            (
                Level::Warn,
                "Dropped 3 log messages in last 61 seconds (most recently, 31 seconds ago) due to excessive rate"
                    .to_string()
            ),
            (Level::Warn, "Netlink attribute with incorrect size.".to_string()),
            (
                Level::Debug,
                "dispatcher: miss enqueue (in_port(1),udp(bad key length 2, expected 4)(00 35))".to_string()
            ),
        ]
    );
    assert_eq!(udpif.counters().upcall_bad_hash_attr, 2);

    // Enqueue debug lines: the key in ovs-dpctl's words, 60 per minute with bursts of 60.
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 1);
    let t1 = Instant::from_secs(5000);
    for id in 0..61 {
        udpif.handle_upcall(t1, miss(&key, 100 + id));
    }
    let lines = take();
    assert_eq!(lines.len(), 60);
    assert_eq!(
        lines[0],
        (
            Level::Debug,
            "dispatcher: miss enqueue (in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),\
             eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=80))"
                .to_string()
        )
    );

    // Unassociated ports, at info level, under the warnings' limit.
    let mut udpif: Udpif<Bytes> = Udpif::new(1, 1);
    take();
    let unknown = tcp_key(PORT_UNKNOWN, 1, 80);
    udpif.handle_upcall(t1, miss(&unknown, 0));
    take();
    udpif.end_recv_round();
    udpif.run_handlers(t1, &mut TestXlate::standard(), &mut TestDpif::default());
    assert_eq!(take(), vec![(Level::Info, "received packet on unassociated datapath port 1".to_string())]);
}
