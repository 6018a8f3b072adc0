//! Property tests over the fuzz driver: whatever the operation sequence, every upcall is executed, queued or
//! counted dropped exactly once, queues stay bounded, and flows keep their order (see `upcall_core::fuzzing`).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use upcall_core::fuzzing::{self, Driver, Op, UpcallSpec, PORT_FAIL_OPEN, PORT_SLOW, PORT_UNKNOWN};

/// Deterministic: seed 004, no regression files.
fn config(cases: u32) -> Config {
    Config { cases, rng_seed: RngSeed::Fixed(4), failure_persistence: None, ..Config::default() }
}

fn spec() -> impl Strategy<Value = UpcallSpec> {
    (any::<u8>(), 0u8..8, 0u8..4, 0u16..4, 0u16..4, any::<u8>(), any::<u8>(), 0u8..64).prop_map(
        |(kind, port, l4, src, dst, variant, tcp_flags, len)| UpcallSpec {
            kind,
            port,
            l4,
            src,
            dst,
            variant,
            tcp_flags,
            len,
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => spec().prop_map(Op::Upcall),
        1 => (spec(), any::<u8>()).prop_map(|(s, n)| Op::Burst(s, n)),
        2 => Just(Op::EndRound),
        3 => Just(Op::Poll),
        3 => any::<u8>().prop_map(Op::Run),
        3 => any::<u8>().prop_map(Op::Done),
        1 => Just(Op::Revalidate),
        1 => any::<u8>().prop_map(Op::Drain),
        1 => any::<u16>().prop_map(Op::Tick),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn every_upcall_is_executed_queued_or_counted_dropped_exactly_once(
        secret in any::<u32>(),
        n_handlers in prop_oneof![1usize..=8, Just(64usize)],
        ops in proptest::collection::vec(op(), 0..400),
    ) {
        let mut driver = Driver::new(secret, n_handlers);
        for op in &ops {
            driver.step(op);
        }
        driver.finish();
    }

    #[test]
    fn fuzz_driver_accepts_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        fuzzing::run(&data);
    }
}

fn spec_on(port: u32, src: u16) -> UpcallSpec {
    UpcallSpec { kind: 0, port: port as u8, l4: 1, src, dst: 80, ..UpcallSpec::default() }
}

/// Drives the checked paths a random sequence rarely reaches (overflow of the handler and main queues,
/// stale batches with drop keys, fail-open, slow path, batches completed out of order), and proves they
/// were reached.
#[test]
fn driver_reaches_overflow_revalidation_and_fail_open_paths() {
    let mut d = Driver::new(0x0400, 2);
    // Flows on both handlers, with drop keys, fail-open and slow path; one batch is given back before a
    // revalidation (installed, then flushed), the other after (stale).
    let mut program: Vec<Op> = (0..40)
        .map(|src| Op::Upcall(spec_on([PORT_UNKNOWN, PORT_FAIL_OPEN, PORT_SLOW, 0][src % 4], src as u16)))
        .collect();
    program.extend([
        Op::EndRound,
        Op::Poll,
        Op::Poll,
        Op::Run(1),
        Op::Run(0),
        Op::Done(1),
        Op::Revalidate,
        Op::Done(0),
    ]);
    program.extend([
        // Three bursts of one flow: 765 misses for one handler, 253 over its 512.
        Op::Burst(spec_on(6, 1), 255),
        Op::Burst(spec_on(6, 1), 255),
        Op::Burst(spec_on(6, 1), 255),
        // 520 sFlow samples: 8 over the main queue's 512.
        Op::Burst(UpcallSpec { kind: 11, ..spec_on(6, 1) }, 255),
        Op::Burst(UpcallSpec { kind: 11, ..spec_on(6, 1) }, 255),
        Op::Burst(UpcallSpec { kind: 11, ..spec_on(6, 1) }, 10),
        Op::Burst(UpcallSpec { kind: 15, ..spec_on(6, 1) }, 3),
        Op::Drain(3),
    ]);
    for op in &program {
        d.step(op);
    }
    d.finish();
    let c = *d.udpif.counters();
    assert_eq!(c.miss_queue_overflow, 253);
    assert_eq!(c.upcall_queue_overflow, 8);
    assert_eq!(c.upcall_bad, 3);
    assert_eq!((c.fmb_queue_flushed, c.fmb_queue_revalidated), (1, 1));
    assert!(c.drop_queue_flushed > 0);
    assert!(c.miss_no_port > 0 && c.packet_in_sent > 0 && !d.xlate.side_effects.is_empty());
    assert_eq!(c.upcall_received, 40 + 765 + 520 + 3);
}
