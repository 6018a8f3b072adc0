//! Log rate limiting with OVS `vlog_rate_limit` semantics, on caller-supplied time.

use ofp_proto::Instant;

/// Tokens one message costs (OVS `VLOG_MSG_TOKENS`): with a fill rate of `rate` tokens per millisecond this
/// makes `rate` messages per minute.
const MSG_TOKENS: u64 = 60 * 1000;

/// At most `rate` messages per minute with bursts of `burst` (OVS `VLOG_RATE_LIMIT_INIT(rate, burst)`).
#[derive(Clone, Debug)]
pub struct RateLimit {
    rate: u64,
    burst: u64,
    tokens: u64,
    last_fill: Option<Instant>,
    n_dropped: u32,
    first_dropped: Instant,
    last_dropped: Instant,
}

/// The decision for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    /// Log it.
    Log,
    /// Log it, after OVS's "Dropped N log messages in last S seconds (most recently, T seconds ago) due to
    /// excessive rate" line with these numbers.
    LogAfterDrops {
        n_dropped: u32,
        first_secs: u64,
        last_secs: u64,
    },
}

impl RateLimit {
    pub const fn new(rate: u64, burst: u64) -> Self {
        RateLimit {
            rate,
            burst: burst.saturating_mul(MSG_TOKENS),
            tokens: 0,
            last_fill: None,
            n_dropped: 0,
            first_dropped: Instant::ZERO,
            last_dropped: Instant::ZERO,
        }
    }

    /// Whether a message at `now` may be logged; takes a message's worth of tokens if so.
    pub fn check(&mut self, now: Instant) -> Verdict {
        if self.tokens < MSG_TOKENS {
            // Never filled yet counts as infinitely long ago: the bucket starts full.
            let elapsed = self.last_fill.map_or(u64::MAX, |t| now.as_millis().saturating_sub(t.as_millis()));
            if self.last_fill.is_none_or(|t| now > t) {
                self.tokens = self.tokens.saturating_add(self.rate.saturating_mul(elapsed)).min(self.burst);
                self.last_fill = Some(now);
            }
            if self.tokens < MSG_TOKENS {
                if self.n_dropped == 0 {
                    self.first_dropped = now;
                }
                self.last_dropped = now;
                self.n_dropped = self.n_dropped.saturating_add(1);
                return Verdict::Drop;
            }
        }
        self.tokens -= MSG_TOKENS;
        if self.n_dropped == 0 {
            return Verdict::Log;
        }
        let secs = |t: Instant| now.saturating_duration_since(t).as_secs();
        let verdict = Verdict::LogAfterDrops {
            n_dropped: self.n_dropped,
            first_secs: secs(self.first_dropped),
            last_secs: secs(self.last_dropped),
        };
        self.n_dropped = 0;
        verdict
    }
}

/// Logs `args` at `level` under `target` unless `rl` says to drop it; checks the level first so a disabled
/// level costs no tokens (as OVS).
macro_rules! log_rl {
    ($rl:expr, $now:expr, $level:expr, $($arg:tt)+) => {{
        let level = $level;
        if log::log_enabled!(target: crate::LOG_TARGET, level) {
            match $rl.check($now) {
                crate::ratelimit::Verdict::Drop => {}
                crate::ratelimit::Verdict::Log => log::log!(target: crate::LOG_TARGET, level, $($arg)+),
                crate::ratelimit::Verdict::LogAfterDrops { n_dropped, first_secs, last_secs } => {
                    log::log!(
                        target: crate::LOG_TARGET,
                        level,
                        "Dropped {} log messages in last {} seconds (most recently, {} seconds ago) due to excessive rate",
                        n_dropped, first_secs, last_secs
                    );
                    log::log!(target: crate::LOG_TARGET, level, $($arg)+);
                }
            }
        }
    }};
}
pub(crate) use log_rl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_minute_with_burst_of_five() {
        let mut rl = RateLimit::new(1, 5);
        let t0 = Instant::from_secs(100);
        for _ in 0..5 {
            assert_eq!(rl.check(t0), Verdict::Log);
        }
        assert_eq!(rl.check(t0), Verdict::Drop);
        assert_eq!(rl.check(Instant::from_secs(130)), Verdict::Drop);
        // One message's worth of tokens after a minute.
        assert_eq!(rl.check(Instant::from_secs(159)), Verdict::Drop);
        assert_eq!(
            rl.check(Instant::from_millis(160_000)),
            Verdict::LogAfterDrops { n_dropped: 3, first_secs: 60, last_secs: 1 }
        );
        assert_eq!(rl.check(Instant::from_millis(160_000)), Verdict::Drop);
    }

    #[test]
    fn refills_to_burst_only() {
        let mut rl = RateLimit::new(60, 2);
        let t = Instant::from_secs(1);
        assert_eq!(rl.check(t), Verdict::Log);
        assert_eq!(rl.check(t), Verdict::Log);
        assert_eq!(rl.check(t), Verdict::Drop);
        let later = Instant::from_secs(3600);
        assert!(matches!(rl.check(later), Verdict::LogAfterDrops { n_dropped: 1, .. }));
        assert_eq!(rl.check(later), Verdict::Log);
        assert_eq!(rl.check(later), Verdict::Drop);
        // 60 per minute: one per second.
        assert_eq!(
            rl.check(later + std::time::Duration::from_secs(1)),
            Verdict::LogAfterDrops { n_dropped: 1, first_secs: 1, last_secs: 1 }
        );
    }
}
