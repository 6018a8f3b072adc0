//! Compact past instants for per-connection state: every idle connection carries a few, and an
//! `Instant` costs eight bytes and its alignment where four do.

use std::time::Duration;

use ofp_proto::Instant;

/// An instant in the past, as milliseconds since the daemon started modulo 2^32 (about 49.7
/// days): exact for any instant less than that long ago, which is all the event loop asks of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp(u32);

impl Stamp {
    pub fn of(t: Instant) -> Stamp {
        Stamp(t.as_millis() as u32)
    }

    /// How long ago the stamp was taken, seen at `now` (not earlier than the stamp).
    pub fn age(self, now: Instant) -> Duration {
        Duration::from_millis(u64::from(Stamp::of(now).0.wrapping_sub(self.0)))
    }

    /// The instant the stamp was taken, seen at `now`.
    pub fn instant(self, now: Instant) -> Instant {
        Instant::from_millis(now.as_millis() - self.age(now).as_millis().min(u128::from(now.as_millis())) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_survive_the_wrap_of_their_32_bits() {
        let t = Instant::from_millis((1 << 32) - 3);
        let s = Stamp::of(t);
        let later = Instant::from_millis((1 << 32) + 5);
        assert_eq!(s.age(later), Duration::from_millis(8));
        assert_eq!(s.instant(later), t);
        assert_eq!(Stamp::of(later).age(later), Duration::ZERO);
        assert_eq!(Stamp::default().instant(Instant::from_millis(7)), Instant::ZERO);
    }
}
