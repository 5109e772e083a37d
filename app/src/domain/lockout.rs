//! Lock an account after repeated failed logins (R-REG-5).
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account.
    pub max_failures: u32,
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_for: Duration::minutes(15),
        }
    }
}

/// What the account row should hold after one more failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    pub failures: u32,
    pub locked_until: Option<OffsetDateTime>,
}

impl LockoutPolicy {
    /// Until when an account is locked, if it still is at `now`.
    pub fn locked_until(
        &self,
        locked_until: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        locked_until.filter(|until| *until > now)
    }

    /// Counts one failure; the failure that reaches the limit locks the account and
    /// starts a fresh count for when the lock ends.
    pub fn record_failure(&self, failures_before: u32, now: OffsetDateTime) -> AfterFailure {
        let failures = failures_before.saturating_add(1);
        if failures >= self.max_failures {
            AfterFailure {
                failures: 0,
                locked_until: Some(now + self.lock_for),
            }
        } else {
            AfterFailure {
                failures,
                locked_until: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    // R-REG-5: the 5th consecutive failure locks for 15 minutes; the 4th does not.
    #[test]
    fn fifth_failure_locks() {
        let p = LockoutPolicy::default();
        assert_eq!(
            p.record_failure(3, NOW),
            AfterFailure {
                failures: 4,
                locked_until: None
            }
        );
        assert_eq!(
            p.record_failure(4, NOW),
            AfterFailure {
                failures: 0,
                locked_until: Some(NOW + Duration::minutes(15))
            }
        );
    }

    // R-REG-5: the lock ends exactly at its time.
    #[test]
    fn lock_expires() {
        let p = LockoutPolicy::default();
        let until = NOW + Duration::minutes(15);
        assert_eq!(p.locked_until(Some(until), NOW), Some(until));
        assert_eq!(
            p.locked_until(Some(until), until - Duration::seconds(1)),
            Some(until)
        );
        assert_eq!(p.locked_until(Some(until), until), None);
        assert_eq!(p.locked_until(None, NOW), None);
    }
}
