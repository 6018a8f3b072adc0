//! Property tests over random event sequences, through the fuzz driver (`rconn_core::fuzzing`), which
//! after every step asserts: never two connect attempts at once, backoff within [1 s, max_backoff],
//! per-counter totals equal to what is queued, `poll_timeout` not in the past after `handle_timeout`,
//! early `handle_timeout` a no-op, state-change events chaining to the current state, seqno parity.

use proptest::prelude::*;
use rconn_core::fuzzing::{run, Driver, Op};
use rconn_core::{RconnConfig, State};

/// Ops weighted so that connections often get through the hello exchange and live a while.
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..12_000).prop_map(Op::Advance),
        3 => Just(Op::RunToDeadline),
        2 => Just(Op::Timeout),
        1 => Just(Op::Connect),
        1 => Just(Op::Accept),
        3 => Just(Op::Connected),
        1 => Just(Op::OpenFailed),
        1 => Just(Op::Error),
        1 => Just(Op::Eof),
        3 => (0u8..8, prop_oneof![Just(0u32), 0u32..0x80]).prop_map(|(version, bitmap)| Op::PeerHello { version, bitmap }),
        4 => (any::<u8>(), any::<u8>()).prop_map(|(kind, version)| Op::PeerMsg { kind, version }),
        1 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(Op::PeerBytes),
        3 => (0u8..4, any::<u8>()).prop_map(|(counter, len)| Op::Send { counter, len }),
        2 => (0u8..3, any::<u8>()).prop_map(|(counter, limit)| Op::SendWithLimit { counter, limit }),
        3 => (0u8..4).prop_map(Op::Transmit),
        3 => (0u8..4).prop_map(Op::Recv),
        1 => any::<u8>().prop_map(Op::SetMaxBackoff),
        1 => any::<u8>().prop_map(Op::SetProbeInterval),
        1 => Just(Op::Disconnect),
        1 => Just(Op::Reconnect),
        1 => any::<u8>().prop_map(Op::AddMonitor),
        1 => any::<u8>().prop_map(Op::RemoveMonitor),
    ]
}

fn config() -> impl Strategy<Value = RconnConfig> {
    (0u32..12, 0u32..10).prop_map(|(probe_interval, max_backoff)| RconnConfig {
        probe_interval,
        max_backoff,
        ..RconnConfig::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_event_sequences_keep_the_invariants(cfg in config(), ops in proptest::collection::vec(op(), 1..200)) {
        let mut d = Driver::new(cfg);
        for op in &ops {
            d.step(op);
        }
    }

    /// The fuzz target's entry point, on arbitrary bytes.
    #[test]
    fn fuzz_entry_point_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        run(&data);
    }

    /// A refused reliable connection, left alone, retries on the OVS schedule: 1, 2, 4, then max,
    /// doubling while below half the maximum in whole seconds (a maximum of 5 gives 1, 2, 5).
    #[test]
    fn unattended_retries_follow_the_backoff_schedule(max_backoff in 1u32..20, attempts in 1usize..12) {
        let mut d = Driver::new(RconnConfig { max_backoff, probe_interval: 0, ..RconnConfig::default() });
        d.step(&Op::Connect);
        let mut expected = 0u64;
        for _ in 0..attempts {
            d.step(&Op::OpenFailed);
            prop_assert_eq!(d.rc.state(), State::Backoff);
            let max = u64::from(max_backoff);
            expected = if expected < max / 2 { (2 * expected).max(1) } else { max };
            let wait = d.rc.poll_timeout().unwrap() - d.rc.state_entered();
            prop_assert_eq!(wait.as_millis() as u64, expected * 1000);
            d.step(&Op::RunToDeadline);
            prop_assert_eq!(d.rc.state(), State::Connecting);
        }
    }
}

#[test]
fn some_random_sequences_reach_every_state() {
    // Guards the generator: the invariants above are only worth something if runs get far.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..300 {
        let cfg = config().new_tree(&mut runner).unwrap().current();
        let ops = proptest::collection::vec(op(), 1..200).new_tree(&mut runner).unwrap().current();
        let mut d = Driver::new(cfg);
        for op in &ops {
            d.step(op);
            seen.insert(d.rc.state());
        }
    }
    for s in [State::Void, State::Backoff, State::Connecting, State::Active, State::Idle, State::Disconnected] {
        assert!(seen.contains(&s), "no run reached {s}");
    }
}

/// OVS halves the maximum in whole seconds (`rc->backoff < rc->max_backoff / 2`), so with a maximum
/// of 5 s the waits are 1, 2, then 5 — not 4, as millisecond arithmetic would give.
#[test]
fn an_odd_max_backoff_is_halved_in_whole_seconds() {
    let mut d = Driver::new(RconnConfig { max_backoff: 5, probe_interval: 0, ..RconnConfig::default() });
    d.step(&Op::Connect);
    let mut waits = vec![];
    for _ in 0..4 {
        d.step(&Op::OpenFailed);
        waits.push((d.rc.poll_timeout().unwrap() - d.rc.state_entered()).as_secs());
        d.step(&Op::RunToDeadline);
    }
    assert_eq!(waits, [1, 2, 5, 5]);
}
