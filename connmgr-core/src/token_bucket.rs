//! Token bucket (OVS `lib/token-bucket.c`): `rate` tokens accrue per millisecond up to `burst`; the
//! bucket is refilled only when a withdrawal finds it short, and starts full.

use ofp_proto::Instant;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate: u32,
    burst: u32,
    tokens: u32,
    /// When the bucket was last refilled; `None` before the first refill, which fills it.
    last_fill: Option<Instant>,
}

impl TokenBucket {
    /// `rate` tokens per millisecond, at most `burst` tokens.
    pub fn new(rate: u32, burst: u32) -> TokenBucket {
        TokenBucket { rate, burst, tokens: 0, last_fill: None }
    }

    /// Changes rate and burst, dropping tokens above the new burst.
    pub fn set(&mut self, rate: u32, burst: u32) {
        self.rate = rate;
        self.burst = burst;
        self.tokens = self.tokens.min(burst);
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes `n` tokens if the bucket holds them (refilling it first if it is short).
    pub fn withdraw(&mut self, now: Instant, n: u32) -> bool {
        if self.tokens < n {
            let elapsed = match self.last_fill {
                None => u32::MAX,
                Some(t) if now > t => u32::try_from(now.as_millis() - t.as_millis()).unwrap_or(u32::MAX),
                Some(_) => 0,
            };
            if elapsed > 0 {
                let add = self.rate.saturating_mul(elapsed);
                self.tokens = self.tokens.saturating_add(add).min(self.burst);
                self.last_fill = Some(now);
            }
            if self.tokens < n {
                return false;
            }
        }
        self.tokens -= n;
        true
    }

    /// When a withdrawal of `n` tokens can next succeed (OVS `token_bucket_wait`): at once (the
    /// epoch) if the tokens are there or the bucket was never filled, else one millisecond after the
    /// missing tokens have accrued.
    pub fn ready_at(&self, n: u32) -> Instant {
        match self.last_fill {
            Some(t) if self.tokens < n && self.rate > 0 => {
                let need = n - self.tokens;
                Instant::from_millis(t.as_millis().saturating_add(u64::from(need / self.rate) + 1))
            }
            Some(_) if self.tokens < n => Instant::FAR_FUTURE,
            _ => Instant::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    #[test]
    fn starts_full_then_refills_at_rate() {
        let mut tb = TokenBucket::new(2, 5000);
        for _ in 0..5 {
            assert!(tb.withdraw(ms(1000), 1000));
        }
        assert!(!tb.withdraw(ms(1000), 1000));
        // 2 tokens/ms: 1000 tokens after 500 ms; the wakeup is one millisecond after.
        assert_eq!(tb.ready_at(1000), ms(1501));
        assert!(!tb.withdraw(ms(1499), 1000));
        assert!(tb.withdraw(ms(1500), 1000));
        // The failed attempt at 1499 refilled 998 tokens; 1500 added 2 more.
        assert!(!tb.withdraw(ms(1500), 1));
    }

    #[test]
    fn refill_is_capped_at_burst_and_set_trims() {
        let mut tb = TokenBucket::new(1000, 3000);
        assert!(tb.withdraw(ms(0), 3000));
        assert!(tb.withdraw(ms(1_000_000), 3000));
        assert!(!tb.withdraw(ms(1_000_000), 1));
        assert!(tb.withdraw(ms(1_000_002), 2000));
        tb.set(1, 500);
        assert!(tb.withdraw(ms(1_000_003), 1));
        assert!(!tb.withdraw(ms(1_000_003), 1000));
        assert_eq!(tb.ready_at(1000), ms(1_000_003 + 1001));
    }
}
