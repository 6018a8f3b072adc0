//! Arbitrary input never panics any decoder, and whatever decodes re-encodes stably.

use ofp_proto::fuzzing::{check_family, check_framer, check_message, Family};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn framer_is_chunking_independent(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_framer(&data);
    }

    #[test]
    fn any_single_message(mut data in proptest::collection::vec(any::<u8>(), 8..300)) {
        let len = data.len() as u16;
        data[2..4].copy_from_slice(&len.to_be_bytes());
        data[0] %= 7;
        check_message(&data);
    }

    #[test]
    fn control_family(data in proptest::collection::vec(any::<u8>(), 2..200)) {
        check_family(Family::Control, &data);
    }

    #[test]
    fn flow_family(data in proptest::collection::vec(any::<u8>(), 2..300)) {
        check_family(Family::Flow, &data);
    }

    #[test]
    fn multipart_family(data in proptest::collection::vec(any::<u8>(), 2..300)) {
        check_family(Family::Multipart, &data);
    }

    #[test]
    fn bundle_family(data in proptest::collection::vec(any::<u8>(), 2..200)) {
        check_family(Family::Bundle, &data);
    }
}
