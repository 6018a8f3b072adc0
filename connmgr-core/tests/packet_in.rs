//! Packet-ins through connection management: formats, rate limiting (pinsched) per connection with
//! separate miss and action schedulers, round-robin release, the queue limit and its log line.

mod common;

use common::*;
use connmgr_core::{AsyncMsg, ConnId, ControllerSettings};
use ofp_proto::msg::async_cfg::packet_in_reason::{ACTION, EXPLICIT_MISS, NO_MATCH};

const CTRL: &str = "tcp:192.0.2.1:6653";

fn controller(s: ControllerSettings) -> (Sw, ConnId) {
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, s)]);
    let c = sw.connect(CTRL, 4);
    (sw, c)
}

fn send_pin(sw: &mut Sw, tag: &str, reason: u32, port: u32) {
    sw.mgr.send_async(sw.now, AsyncMsg::PacketIn(pin(tag.as_bytes(), reason, 0, port)));
}

/// The tags of the packet-ins the controller got, in order.
fn tags(sw: &mut Sw, c: ConnId) -> Vec<String> {
    sw.take(c)
        .iter()
        .map(|f| {
            let i = f.windows(4).position(|w| w == b"pin:").expect("tagged");
            String::from_utf8_lossy(&f[i..]).into_owned()
        })
        .collect()
}

#[test]
fn packet_in_formats() {
    let (mut sw, c) = controller(settings());
    send_pin(&mut sw, "pin:std", ACTION, 1);
    sw.send(c, "0404001400000005000023200000001000000001");
    send_pin(&mut sw, "pin:nxt", ACTION, 1);
    sw.send(c, "0404001400000005000023200000001000000002");
    send_pin(&mut sw, "pin:nxt2", ACTION, 1);
    assert_eq!(sw.take_names(c), ["OFPT_PACKET_IN", "NXT_PACKET_IN", "NXT_PACKET_IN2"]);
}

#[test]
fn rate_limit_releases_at_the_configured_rate() {
    // 10 packet-ins per second, bursts of 4.
    let (mut sw, c) = controller(ControllerSettings { rate_limit: 10, burst_limit: 4, ..settings() });
    for i in 0..7 {
        send_pin(&mut sw, &format!("pin:{i}"), ACTION, 1);
    }
    assert_eq!(tags(&mut sw, c), ["pin:0", "pin:1", "pin:2", "pin:3"]);
    sw.advance(100);
    assert!(tags(&mut sw, c).is_empty(), "the tokens arrive at 100 ms, the wakeup a millisecond later");
    sw.advance(1);
    assert_eq!(tags(&mut sw, c), ["pin:4"]);
    sw.advance(300);
    assert_eq!(tags(&mut sw, c), ["pin:5", "pin:6"]);
    let info = &sw.mgr.controller_info(sw.now)[CTRL].pairs;
    assert_eq!(
        (
            info["packet-in-action-bypassed"].as_str(),
            info["packet-in-action-queued"].as_str(),
            info["packet-in-action-backlog"].as_str(),
            info["packet-in-action-dropped"].as_str()
        ),
        ("4", "3", "0", "0")
    );
    // Misses have their own scheduler with its own burst.
    send_pin(&mut sw, "pin:miss-a", NO_MATCH, 1);
    send_pin(&mut sw, "pin:miss-b", EXPLICIT_MISS, 1);
    assert_eq!(tags(&mut sw, c), ["pin:miss-a", "pin:miss-b"]);
    assert_eq!(sw.mgr.controller_info(sw.now)[CTRL].pairs["packet-in-miss-bypassed"], "2");
    // A backlog is never longer than the burst: the oldest of the longest queue makes room.
    let (mut sw, c) = controller(ControllerSettings { rate_limit: 10, burst_limit: 2, ..settings() });
    for i in 0..6 {
        send_pin(&mut sw, &format!("pin:{i}"), ACTION, 1);
    }
    sw.advance(1000);
    assert_eq!(tags(&mut sw, c), ["pin:0", "pin:1", "pin:4", "pin:5"]);
}

#[test]
fn queued_packet_ins_leave_round_robin_by_port_and_a_full_backlog_drops() {
    let (mut sw, c) = controller(ControllerSettings { rate_limit: 1, burst_limit: 4, ..settings() });
    for i in 0..4 {
        send_pin(&mut sw, &format!("pin:burst{i}"), ACTION, 1);
    }
    sw.take(c);
    for (tag, port) in [("pin:9a", 9), ("pin:9b", 9), ("pin:9c", 9), ("pin:2a", 2)] {
        send_pin(&mut sw, tag, ACTION, port);
    }
    // The backlog is full (4): port 9's oldest goes, the new one queues.
    send_pin(&mut sw, "pin:5a", ACTION, 5);
    sw.advance(5000);
    assert_eq!(tags(&mut sw, c), ["pin:2a", "pin:5a", "pin:9b", "pin:9c"]);
    assert_eq!(sw.mgr.controller_info(sw.now)[CTRL].pairs["packet-in-action-dropped"], "1");
}

#[test]
fn the_queue_limit_drops_with_a_rate_limited_line() {
    capture_logs();
    let (mut sw, c) = controller(ControllerSettings { controller_queue_size: 5, ..settings() });
    take_logs();
    sw.peers.get_mut(&c).unwrap().reading = false;
    for i in 0..15 {
        send_pin(&mut sw, &format!("pin:{i}"), ACTION, 1);
    }
    assert_eq!(sw.mgr.n_packet_in_overflow(c), Some(10));
    let line = "INFO connmgr: br0<->tcp:192.0.2.1:6653: dropping packet-in due to queue overflow";
    assert_eq!(logs_from("connmgr"), vec![line; 5], "five lines, then the rate limit");
    // A minute later the count of suppressed lines comes first.
    sw.now = ofp_proto::Instant::from_millis(sw.now.as_millis() + 60_000);
    send_pin(&mut sw, "pin:late", ACTION, 1);
    assert_eq!(
        logs_from("connmgr"),
        [
            "INFO connmgr: Dropped 5 log messages in last 60 seconds (most recently, 60 seconds ago) due to excessive rate",
            line
        ]
    );
    sw.peers.get_mut(&c).unwrap().reading = true;
    assert_eq!(tags(&mut sw, c), ["pin:0", "pin:1", "pin:2", "pin:3", "pin:4"]);
    // The default limit is 100; out-of-range settings mean the default.
    let (mut sw, c) = controller(ControllerSettings { controller_queue_size: 1000, ..settings() });
    sw.peers.get_mut(&c).unwrap().reading = false;
    for i in 0..101 {
        send_pin(&mut sw, &format!("pin:{i}"), ACTION, 1);
    }
    assert_eq!(sw.mgr.n_packet_in_overflow(c), Some(1));
}
