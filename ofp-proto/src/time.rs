//! Virtual monotonic time shared by every core: the caller supplies `now`, nothing here reads a clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// A point in time, in milliseconds since an arbitrary epoch chosen by the caller (OVS's `time_msec()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);
    /// Later than any real deadline; used for "never".
    pub const FAR_FUTURE: Instant = Instant(u64::MAX);

    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    pub const fn from_secs(s: u64) -> Self {
        Instant(s.saturating_mul(1000))
    }

    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// Milliseconds elapsed since `earlier` as a signed value (negative when `earlier` is later).
    pub fn millis_since(self, earlier: Instant) -> i64 {
        (self.0 as i128 - earlier.0 as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        u64::try_from(d.as_millis()).ok().and_then(|ms| self.0.checked_add(ms)).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at `FAR_FUTURE` rather than overflowing.
    fn add(self, d: Duration) -> Instant {
        self.checked_add(d).unwrap_or(Instant::FAR_FUTURE)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Display for Instant {
    /// Seconds with millisecond precision, the way timelines and transcripts write time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(1500);
        assert_eq!(t + Duration::from_secs(2), Instant::from_millis(3500));
        assert_eq!(Instant::FAR_FUTURE + Duration::from_millis(1), Instant::FAR_FUTURE);
        assert_eq!(Instant::from_millis(10) - t, Duration::ZERO);
        assert_eq!(t.millis_since(Instant::from_millis(2000)), -500);
        assert_eq!(t.to_string(), "1.500");
    }
}
