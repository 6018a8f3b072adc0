//! Services and connections: `set_controllers` as OVS applies it (add, remove, reconfigure,
//! re-initialize, flush on the primary-controller flip), transports and ids, events, snoops,
//! status keys and memory figures.

mod common;

use common::*;
use connmgr_core::{ConnType, ControllerSettings, Event, FailMode, MemoryUsage, Output, Role};
use ofp_proto::msg::async_cfg::packet_in_reason::ACTION;
use ofp_proto::VersionBitmap;
use rconn_core::ConnError;

const CTRL: &str = "tcp:192.0.2.1:6653";
const PTCP: &str = "ptcp:6653";

fn closes(sw: &Sw) -> Vec<connmgr_core::ConnId> {
    sw.outputs.iter().filter_map(|o| if let Output::Close { conn, .. } = o { Some(*conn) } else { None }).collect()
}

#[test]
fn adding_and_removing_services_follows_ovs() {
    capture_logs();
    let mut sw = Sw::new();
    let errors = sw.set_controllers(&[(CTRL, settings()), (PTCP, settings()), ("udp:192.0.2.9", settings())]);
    assert_eq!(errors, ["udp:192.0.2.9: unknown connection type (expected tcp:, ssl:, unix:, ptcp:, pssl: or punix:)"]);
    assert_eq!(
        logs_from("connmgr"),
        [
            "INFO connmgr: br0: added service controller \"ptcp:6653\"",
            "INFO connmgr: br0: added primary controller \"tcp:192.0.2.1:6653\"",
            "WARN connmgr: br0: unsupported controller \"udp:192.0.2.9\""
        ]
    );
    let c = sw.pending_connect(CTRL);
    assert_eq!(
        sw.outputs,
        [Output::Listen { target: PTCP.into(), dscp: 48 }, Output::Connect { conn: c, target: CTRL.into(), dscp: 48 }]
    );
    // Having a primary controller now flushes the flows (there were none before).
    assert_eq!(sw.owner.actions, ["flush"]);
    assert!(sw.mgr.has_controllers());

    let c = sw.connect(CTRL, 4);
    let s = sw.accept(PTCP, "tcp:192.0.2.7:50000", 1);
    assert_eq!(
        sw.events(),
        [
            Event::Connected { conn: c, target: CTRL.into(), conn_type: ConnType::Primary, version: 4 },
            Event::Connected { conn: s, target: PTCP.into(), conn_type: ConnType::Service, version: 1 },
        ]
    );
    assert_eq!(sw.mgr.conn_info(s).unwrap().miss_send_len, 0);

    // Removing the primary closes its connection and flushes again.
    sw.outputs.clear();
    sw.set_controllers(&[(PTCP, settings())]);
    assert_eq!(logs_from("connmgr"), ["INFO connmgr: br0: removed primary controller \"tcp:192.0.2.1:6653\""]);
    assert_eq!(closes(&sw), [c]);
    assert_eq!(sw.events(), [Event::Disconnected { conn: c }]);
    assert_eq!(sw.owner.actions, ["flush", "flush"]);
    assert!(!sw.mgr.has_controllers());

    // Removing the passive service stops listening and closes what it accepted.
    sw.outputs.clear();
    sw.set_controllers(&[]);
    assert_eq!(
        sw.outputs,
        [Output::Close { conn: s, error: None, unsent: Default::default() }, Output::Unlisten { target: PTCP.into() }]
    );
    assert_eq!(sw.owner.actions.len(), 2, "no primary before or after: no flush");
}

#[test]
fn a_version_change_recreates_the_service() {
    capture_logs();
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, settings())]);
    let c = sw.connect(CTRL, 4);
    sw.events();
    sw.outputs.clear();
    take_logs();
    let of13 = ControllerSettings { allowed_versions: VersionBitmap(1 << 4), ..settings() };
    sw.set_controllers(&[(CTRL, of13)]);
    assert_eq!(
        logs_from("connmgr"),
        [
            "INFO connmgr: br0: Changes to controller \"tcp:192.0.2.1:6653\" expects re-initialization: Re-initializing now.",
            "INFO connmgr: br0: added primary controller \"tcp:192.0.2.1:6653\""
        ]
    );
    assert_eq!(sw.events(), [Event::Disconnected { conn: c }]);
    let new = sw.pending_connect(CTRL);
    assert!(new > c, "ids are never reused");
    assert_eq!(closes(&sw), [c]);
    // The same settings again change nothing.
    sw.outputs.clear();
    sw.set_controllers(&[(CTRL, of13)]);
    assert!(sw.outputs.is_empty());
}

#[test]
fn a_dscp_change_reconnects_and_other_settings_apply_in_place() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, settings())]);
    let c = sw.connect(CTRL, 4);
    sw.outputs.clear();
    // Rate limit and queue size apply in place.
    let limited = ControllerSettings { rate_limit: 10, controller_queue_size: 5, ..settings() };
    sw.set_controllers(&[(CTRL, limited)]);
    assert!(sw.outputs.is_empty());
    assert!(sw.mgr.controller_info(sw.now)[CTRL].pairs.contains_key("packet-in-miss-backlog"));
    // A DSCP change drops the connection; the rconn reconnects after its backoff with the new DSCP.
    sw.set_controllers(&[(CTRL, ControllerSettings { dscp: 10, ..limited })]);
    assert_eq!(closes(&sw), [c]);
    sw.advance(1000);
    let next = sw.pending_connect(CTRL);
    assert!(sw.outputs.contains(&Output::Connect { conn: next, target: CTRL.into(), dscp: 10 }));
}

#[test]
fn probe_intervals_below_five_seconds_mean_five() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, ControllerSettings { probe_interval: 2, ..settings() })]);
    let c = sw.connect(CTRL, 4);
    sw.peers.get_mut(&c).unwrap().answers_probes = false;
    let probes = |sw: &Sw| sw.peers[&c].inbox.iter().filter(|f| f[1] == 2).count();
    sw.advance(4999);
    assert_eq!(probes(&sw), 0);
    sw.advance(1);
    assert_eq!(probes(&sw), 1);
    // Unanswered for another 5 s: the connection is dropped.
    sw.advance(5000);
    assert_eq!(sw.events().last(), Some(&Event::Disconnected { conn: c }));
    assert_eq!(sw.mgr.controller_info(sw.now)[CTRL].pairs["last_error"], "Connection timed out");
}

#[test]
fn passive_targets_may_be_primary() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(PTCP, ControllerSettings { conn_type: Some(ConnType::Primary), ..settings() })]);
    assert_eq!(sw.owner.actions, ["flush"]);
    let c = sw.accept(PTCP, "tcp:192.0.2.7:50000", 4);
    let info = sw.mgr.conn_info(c).unwrap();
    assert_eq!((info.conn_type, info.miss_send_len), (ConnType::Primary, 128));
    sw.mgr.send_async(sw.now, connmgr_core::AsyncMsg::PacketIn(pin(b"x", ACTION, 0, 1)));
    assert_eq!(sw.take_names(c), ["OFPT_PACKET_IN"]);
    // Nothing to report for passive targets.
    assert!(sw.mgr.controller_info(sw.now).is_empty());
}

#[test]
fn accepted_connections_that_fail_their_hello_just_go_away() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(PTCP, ControllerSettings { allowed_versions: VersionBitmap(1 << 4), ..settings() })]);
    let id = sw.mgr.handle_accept(sw.now, PTCP, "tcp:192.0.2.7:50000").unwrap();
    assert_eq!(sw.mgr.memory_usage().ofconns, 1);
    sw.peers.insert(id, Default::default());
    sw.peer_hello(id, 1);
    assert_eq!(sw.mgr.memory_usage().ofconns, 0);
    assert!(closes(&sw).contains(&id));
    assert!(sw.events().is_empty(), "never connected, so no events");
    // Not a passive target of ours.
    assert_eq!(sw.mgr.handle_accept(sw.now, "ptcp:9999", "x"), None);
}

#[test]
fn listen_failures_are_retried_by_the_next_configuration() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(PTCP, settings())]);
    sw.mgr.handle_listen_error(sw.now, PTCP, ConnError::Os(98));
    sw.outputs.clear();
    sw.set_controllers(&[(PTCP, settings())]);
    assert_eq!(sw.outputs, [Output::Listen { target: PTCP.into(), dscp: 48 }]);
}

#[test]
fn reconnect_drops_every_connection() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, settings()), (PTCP, settings())]);
    let c = sw.connect(CTRL, 4);
    let s = sw.accept(PTCP, "tcp:192.0.2.7:50000", 4);
    sw.events();
    sw.mgr.reconnect(sw.now);
    sw.run();
    let mut gone = closes(&sw);
    gone.sort();
    assert_eq!(gone, [c, s]);
    assert_eq!(sw.events().len(), 2);
    // The controller comes back, with a new id.
    sw.advance(1000);
    assert!(sw.pending_connect(CTRL) > s);
}

#[test]
fn controller_info_has_ovs_keys() {
    let mut sw = Sw::new();
    let limited = ControllerSettings { rate_limit: 100, ..settings() };
    sw.set_controllers(&[(CTRL, limited)]);
    let info = &sw.mgr.controller_info(sw.now)[CTRL];
    assert!(!info.is_connected && info.role.is_none());
    assert_eq!(info.pairs.keys().collect::<Vec<_>>(), ["state"]);
    assert_eq!(info.pairs["state"], "CONNECTING");
    let c = sw.connect(CTRL, 4);
    sw.advance(3500);
    let info = &sw.mgr.controller_info(sw.now)[CTRL];
    assert_eq!((info.is_connected, info.role), (true, Some(Role::Equal)));
    assert_eq!(info.pairs["state"], "ACTIVE");
    assert_eq!(info.pairs["sec_since_connect"], "3");
    for k in ["action", "miss"] {
        for s in ["backlog", "bypassed", "queued", "dropped"] {
            assert_eq!(info.pairs[&format!("packet-in-{k}-{s}")], "0");
        }
    }
    sw.advance(1000);
    sw.hang_up(c);
    sw.advance(999);
    let info = &sw.mgr.controller_info(sw.now)[CTRL];
    assert_eq!(info.pairs["last_error"], "End of file");
    assert_eq!(info.pairs["sec_since_connect"], "5");
    assert_eq!(info.pairs["sec_since_disconnect"], "0");
    assert_eq!(info.pairs["state"], "BACKOFF");
    // The reconnection attempt nobody answers times out after a second.
    sw.advance(2000);
    assert_eq!(sw.mgr.controller_info(sw.now)[CTRL].pairs["last_error"], "Connection timed out");
}

#[test]
fn memory_usage_counts_connections_and_queued_packets() {
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, ControllerSettings { rate_limit: 1, burst_limit: 1, ..settings() })]);
    let c = sw.connect(CTRL, 4);
    sw.peers.get_mut(&c).unwrap().reading = false;
    for i in 0..3u8 {
        sw.mgr.send_async(sw.now, connmgr_core::AsyncMsg::PacketIn(pin(&[i], ACTION, 0, 1)));
    }
    // One in the transmit queue, one waiting in the rate limiter (burst 1 keeps one, drops one).
    assert_eq!(sw.mgr.memory_usage(), MemoryUsage { ofconns: 1, packets: 2 });
}

#[test]
fn snoops_watch_the_controller_with_the_best_role() {
    capture_logs();
    let mut sw = Sw::new();
    let snoop_target = "punix:/run/openvswitch/br0.snoop";
    assert!(sw.mgr.set_snoops(&[snoop_target.to_string()].into()).is_empty());
    assert_eq!(sw.mgr.poll_output(), Some(Output::Listen { target: snoop_target.into(), dscp: 0 }));
    // No controller to watch: refused with OVS's line.
    assert_eq!(sw.mgr.handle_accept(sw.now, snoop_target, "unix#9"), None);
    assert_eq!(logs_from("connmgr"), ["INFO connmgr: no controller connection to snoop"]);

    let other = "tcp:192.0.2.2:6653";
    sw.set_controllers(&[(CTRL, settings()), (other, settings())]);
    let c1 = sw.connect(CTRL, 4);
    let c2 = sw.connect(other, 4);
    // c2 becomes primary: the snoop goes to it.
    sw.send(c2, "041800180000000300000002000000000000000000000001");
    sw.take(c2);
    let snoop = sw.accept(snoop_target, "unix#10", 4);
    sw.send(c2, "0414000800000004");
    sw.send(c1, "0414000800000005");
    let copies: Vec<String> = sw.take(snoop).iter().map(|f| strip_xid(&ofp_proto::print::first_line(f))).collect();
    assert_eq!(copies, ["OFPT_BARRIER_REQUEST (OF1.3):", "OFPT_BARRIER_REPLY (OF1.3):"]);
    // Asynchronous messages to it are copied too.
    sw.mgr.send_async(sw.now, connmgr_core::AsyncMsg::PacketIn(pin(b"x", ACTION, 0, 1)));

    // The snoop leaves when its controller is removed.
    sw.set_controllers(&[(CTRL, settings())]);
    assert!(closes(&sw).contains(&snoop));
    // Bad snoop targets are refused.
    let bad = sw.mgr.set_snoops(&["tcp:1.2.3.4".to_string()].into());
    assert_eq!(bad.len(), 1);
}

#[test]
fn standalone_without_controllers_keeps_a_normal_flow() {
    let mut sw = Sw::new();
    sw.mgr.set_fail_mode(sw.now, FailMode::Standalone, &mut sw.owner);
    assert_eq!(sw.owner.actions, ["flush", "add Standalone"]);
    // A primary controller appears: flush, and no NORMAL flow (secure until fail-open).
    sw.set_controllers(&[(CTRL, ControllerSettings::default())]);
    assert_eq!(sw.owner.actions, ["flush", "add Standalone", "flush"]);
    // ... and goes: flush and NORMAL again.
    sw.set_controllers(&[]);
    assert_eq!(sw.owner.actions, ["flush", "add Standalone", "flush", "flush", "add Standalone"]);
    // Back to secure: flush, nothing added.
    sw.mgr.set_fail_mode(sw.now, FailMode::Secure, &mut sw.owner);
    assert_eq!(sw.owner.actions.last().map(String::as_str), Some("flush"));
}
