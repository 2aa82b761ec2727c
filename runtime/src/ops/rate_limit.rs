//! The rate limit on control actions (`ops.actions_per_second`, bursts of
//! `ops.action_burst`): a token bucket over every caller. A flood of
//! halt/unhalt (1,500 a second grew events and audit by 59 MB in 2 minutes)
//! now costs one `429` each and, per second, at most one log line counting
//! them — no audit record or event per refused request.

use crate::refusal::Refusal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Refusals are summed up in one warning at most this often.
const SUMMARY_EVERY: Duration = Duration::from_secs(1);

/// A token bucket: `burst` tokens, refilled at `per_second`.
pub struct RateLimit {
    per_second: u32,
    burst: u32,
    bucket: Mutex<Bucket>,
    /// Refused since start (`sandbar_ops_rate_limited_total`).
    refused_total: std::sync::atomic::AtomicU64,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
    /// Refused since the last summary warning.
    refused: u64,
    summarised: Option<Instant>,
}

impl RateLimit {
    /// A full bucket. Zeroes (which validation refuses) count as 1.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let (per_second, burst) = (per_second.max(1), burst.max(1));
        Self {
            per_second,
            burst,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(burst),
                refilled: Instant::now(),
                refused: 0,
                summarised: None,
            }),
            refused_total: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Actions refused since start.
    pub fn refused_total(&self) -> u64 {
        self.refused_total
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes a token for one action `what` (for the log), or refuses it.
    pub fn take(&self, what: &str) -> Result<(), Refusal> {
        self.take_at(Instant::now(), what)
    }

    fn take_at(&self, now: Instant, what: &str) -> Result<(), Refusal> {
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens =
            (bucket.tokens + elapsed * f64::from(self.per_second)).min(f64::from(self.burst));
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        bucket.refused += 1;
        self.refused_total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if bucket
            .summarised
            .is_none_or(|at| now.saturating_duration_since(at) >= SUMMARY_EVERY)
        {
            tracing::warn!(
                target: "sandbar::audit", refused = bucket.refused, last = what,
                per_second = self.per_second, burst = self.burst,
                "control actions refused by the rate limit (`ops.actions_per_second`); they are not audited one by one"
            );
            bucket.refused = 0;
            bucket.summarised = Some(now);
        }
        let wait = (1.0 - bucket.tokens) / f64::from(self.per_second);
        Err(Refusal::RateLimited {
            per_second: self.per_second,
            burst: self.burst,
            retry_after_s: (wait.ceil() as u64).max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refusal::RefusalKind;

    #[test]
    fn a_burst_passes_then_the_steady_rate() {
        let limit = RateLimit::new(2, 3);
        let start = Instant::now();
        for i in 0..3 {
            assert!(limit.take_at(start, "halt").is_ok(), "burst {i}");
        }
        let refused = limit.take_at(start, "halt").unwrap_err();
        assert_eq!(refused.kind(), RefusalKind::RateLimited);
        assert!(matches!(
            refused,
            Refusal::RateLimited {
                retry_after_s: 1,
                ..
            }
        ));
        // Half a second at 2 a second refills one token, and only one.
        assert_eq!(limit.refused_total(), 1);
        let later = start + Duration::from_millis(500);
        assert!(limit.take_at(later, "halt").is_ok());
        assert!(limit.take_at(later, "halt").is_err());
        // A long quiet spell refills the burst, no more.
        let much_later = later + Duration::from_secs(60);
        let passed = (0..10)
            .filter(|_| limit.take_at(much_later, "halt").is_ok())
            .count();
        assert_eq!(passed, 3);
    }

    #[test]
    fn retry_after_covers_the_wait_for_the_next_token() {
        let limit = RateLimit::new(1, 1);
        let start = Instant::now();
        limit.take_at(start, "pause").unwrap();
        match limit.take_at(start, "pause") {
            Err(Refusal::RateLimited { retry_after_s, .. }) => assert_eq!(retry_after_s, 1),
            other => panic!("{other:?}"),
        }
    }
}
