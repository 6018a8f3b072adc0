//! Rate-limited log lines (OVS `VLOG_*_RL`): at most `rate` lines per minute with bursts of
//! `burst`; when lines flow again after some were dropped, OVS's summary line goes first.

use log::{log, Level};
use ofp_proto::Instant;

use crate::token_bucket::TokenBucket;

/// Tokens one log line costs: the bucket gains `rate` per millisecond, so `rate` lines a minute.
const MSG_TOKENS: u32 = 60 * 1000;

#[derive(Clone, Debug)]
pub struct RateLimit {
    bucket: TokenBucket,
    n_dropped: u32,
    first_dropped: Instant,
    last_dropped: Instant,
}

impl RateLimit {
    /// OVS `VLOG_RATE_LIMIT_INIT(rate, burst)`.
    pub fn new(rate: u32, burst: u32) -> RateLimit {
        RateLimit {
            bucket: TokenBucket::new(rate, burst.saturating_mul(MSG_TOKENS)),
            n_dropped: 0,
            first_dropped: Instant::ZERO,
            last_dropped: Instant::ZERO,
        }
    }

    /// Whether a line may be logged now (`false`: it is counted as dropped).
    pub fn allow(&mut self, now: Instant, target: &str, level: Level) -> bool {
        if !log::log_enabled!(target: target, level) {
            return false;
        }
        if !self.bucket.withdraw(now, MSG_TOKENS) {
            if self.n_dropped == 0 {
                self.first_dropped = now;
            }
            self.last_dropped = now;
            self.n_dropped += 1;
            return false;
        }
        if self.n_dropped > 0 {
            let secs = |t: Instant| (now.as_millis() / 1000).saturating_sub(t.as_millis() / 1000);
            log!(
                target: target,
                level,
                "Dropped {} log messages in last {} seconds (most recently, {} seconds ago) due to excessive rate",
                self.n_dropped,
                secs(self.first_dropped),
                secs(self.last_dropped)
            );
            self.n_dropped = 0;
        }
        true
    }
}
