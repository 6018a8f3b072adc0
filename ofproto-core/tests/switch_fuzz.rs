//! The whole-switch fuzz driver (`ofproto_core::fuzzing::run`, the cargo-fuzz target's body) on
//! random operation sequences: no panic, no livelock, every frame accounted for, every frame out
//! counted on its port, the same input giving the same transcript twice.

use proptest::prelude::*;

/// Connects the active controller and says hello in OF1.0, then in OF1.3 on an accepted passive
/// connection, so that random operations after it find live controllers.
const SETUP: &[u8] = &[0, 0, 0, 3, 0, 0, 2, 1, 0, 3, 1, 3];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn switch_fuzz_driver_from_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        ofproto_core::fuzzing::run(&data);
    }

    #[test]
    fn switch_fuzz_driver_with_live_controllers(setup in any::<u8>(), seed in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut input = vec![setup, seed];
        input.extend_from_slice(SETUP);
        input.extend_from_slice(&data);
        ofproto_core::fuzzing::run(&input);
    }
}
