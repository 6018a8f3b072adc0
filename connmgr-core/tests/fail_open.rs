//! Fail-open (OVS `fail-open.c`) and secure mode, on virtual time.

mod common;

use common::*;
use connmgr_core::{ControllerSettings, FailMode};

const CTRL: &str = "tcp:192.0.2.1:6653";

/// Standalone with one primary controller probing every 5 s (trigger: 15 s) that never answers.
fn standalone() -> Sw {
    capture_logs();
    let mut sw = Sw::new();
    sw.mgr.set_fail_mode(sw.now, FailMode::Standalone, &mut sw.owner);
    sw.set_controllers(&[(CTRL, ControllerSettings::default())]);
    sw.owner.actions.clear();
    sw
}

/// Refuses every connection attempt at once, as an unreachable controller does.
fn refuse(sw: &mut Sw) {
    for c in sw.mgr.transports().collect::<Vec<_>>() {
        sw.mgr.handle_open_failed(sw.now, c, rconn_core::ConnError::CONNECTION_REFUSED);
    }
    sw.run();
}

fn advance_refusing(sw: &mut Sw, ms: u64) {
    let end = sw.now.as_millis() + ms;
    while sw.now.as_millis() < end {
        sw.advance(100);
        refuse(sw);
    }
}

#[test]
fn fails_open_after_three_probe_intervals_and_relogs_every_minute() {
    let mut sw = standalone();
    advance_refusing(&mut sw, 14_900);
    assert!(!sw.mgr.is_fail_open_active());
    advance_refusing(&mut sw, 100);
    assert!(sw.mgr.is_fail_open_active());
    assert_eq!(
        logs_from("fail_open"),
        ["WARN fail_open: Could not connect to controller (or switch failed controller's post-connection admission \
          control policy) for 15 seconds, failing open"]
    );
    assert_eq!(sw.owner.actions, ["flush", "add FailOpen"]);
    // More than 60 s later (76 s disconnected) it says so once.
    advance_refusing(&mut sw, 60_900);
    assert!(logs_from("fail_open").is_empty());
    advance_refusing(&mut sw, 100);
    assert_eq!(
        logs_from("fail_open"),
        ["INFO fail_open: Still in fail-open mode after 76 seconds disconnected from controller"]
    );
}

#[test]
fn fails_open_on_time_without_other_wakeups() {
    // With a long backoff nothing else wakes the switch; fail-open still starts at 15 s.
    let mut sw = standalone();
    sw.set_controllers(&[(CTRL, ControllerSettings { max_backoff: 60, ..ControllerSettings::default() })]);
    sw.owner.actions.clear();
    let c = sw.pending_connect(CTRL);
    sw.peers.insert(c, Default::default());
    sw.mgr.handle_connected(sw.now, c);
    // Connected, hello never comes: the attempt times out after 1 s, then backoff 2 s, 4 s, 8 s...
    sw.advance(15_000);
    assert!(sw.mgr.is_fail_open_active());
}

#[test]
fn bogus_packet_ins_while_connected_and_recovery_on_admission() {
    let mut sw = standalone();
    advance_refusing(&mut sw, 15_000);
    assert!(sw.mgr.is_fail_open_active());
    sw.advance(1000);
    take_logs();
    sw.owner.actions.clear();
    // The controller answers; connected but not admitted: a bogus packet-in every 2 s.
    let c = sw.connect(CTRL, 4);
    sw.advance(4000);
    let pins = sw.take(c);
    assert_eq!(pins.len(), 2, "at +2 s and +4 s");
    for p in &pins {
        assert_eq!(name_of(p), "OFPT_PACKET_IN");
        // Broadcast RARP from a random Nicira address (00:23:20 with the top bit set next).
        let at = p.windows(9).position(|w| w[..6] == [0xff; 6] && w[6..9] == [0, 0x23, 0x20]).unwrap();
        assert!(p[at + 9] & 0x80 != 0);
        assert_eq!(&p[at + 12..at + 14], &[0x80, 0x35]);
    }
    assert_ne!(pins[0], pins[1], "a new address each time");
    // Messages that do not show admission (echo, features) change nothing.
    sw.send(c, "0402000800000001");
    assert!(sw.mgr.is_fail_open_active());
    // A barrier does: the message after it ends fail-open.
    sw.send(c, "0414000800000002");
    sw.send(c, "0402000800000003");
    assert!(!sw.mgr.is_fail_open_active());
    assert_eq!(logs_from("fail_open"), ["WARN fail_open: No longer in fail-open mode"]);
    assert!(sw.owner.actions.ends_with(&["delete FailOpen".to_string()]), "{:?}", sw.owner.actions);
    sw.take(c);
    sw.advance(10_000);
    assert!(sw.take(c).is_empty(), "no more bogus packet-ins");
}

#[test]
fn secure_mode_never_fails_open() {
    capture_logs();
    let mut sw = Sw::new();
    sw.set_controllers(&[(CTRL, ControllerSettings::default())]);
    advance_refusing(&mut sw, 60_000);
    assert!(!sw.mgr.is_fail_open_active());
    assert_eq!(sw.owner.actions, ["flush"]);
    assert!(logs_from("fail_open").is_empty());
}

#[test]
fn leaving_standalone_while_failing_open_recovers() {
    let mut sw = standalone();
    advance_refusing(&mut sw, 15_000);
    assert!(sw.mgr.is_fail_open_active());
    sw.owner.actions.clear();
    sw.mgr.set_fail_mode(sw.now, FailMode::Secure, &mut sw.owner);
    assert!(!sw.mgr.is_fail_open_active());
    assert_eq!(sw.owner.actions, ["delete FailOpen"]);
}
