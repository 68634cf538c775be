//! The login rate limit: after `max_failures` failed logins for one login name or one client IP
//! within `window`, further attempts are refused until the window that started with the first
//! failure has passed. In memory (one node's view), with a bounded number of tracked keys.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys (names + addresses) tracked at once; beyond it expired and then the oldest
/// entries are dropped, so a flood of random names cannot exhaust memory.
pub const MAX_TRACKED_KEYS: usize = 10_000;

/// What a failure counter is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// A login name as typed (trimmed, lower-cased).
    Username(String),
    /// A client address.
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Failure counters per key.
#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<LimitKey, Window>>,
}

impl LoginLimiter {
    /// A limiter refusing after `max_failures` failures within `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when any of the keys is locked out at `now`.
    pub fn check(&self, keys: &[LimitKey], now: Instant) -> Result<(), u64> {
        let Ok(entries) = self.entries.lock() else {
            return Ok(());
        };
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k))
            .filter(|w| w.failures >= self.max_failures)
            .filter_map(|w| (w.started + self.window).checked_duration_since(now))
            .max();
        match wait {
            Some(d) if !d.is_zero() => Err(d.as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Counts a failure against each key.
    pub fn record_failure(&self, keys: &[LimitKey], now: Instant) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() + keys.len() > MAX_TRACKED_KEYS {
            let window = self.window;
            entries.retain(|_, w| now.saturating_duration_since(w.started) < window);
            while entries.len() + keys.len() > MAX_TRACKED_KEYS {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, w)| w.started)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => entries.remove(&k),
                    None => break,
                };
            }
        }
        for k in keys {
            let w = entries.entry(k.clone()).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.saturating_duration_since(w.started) >= self.window {
                *w = Window {
                    started: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    /// Forgets a key's failures (a successful login clears its name's counter).
    pub fn clear(&self, key: &LimitKey) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// How many keys are tracked (for tests).
    pub fn tracked(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_until_the_window_passes() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let k = [LimitKey::Username("wang".into())];
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(&k, t0).is_ok());
            l.record_failure(&k, t0);
        }
        assert_eq!(l.check(&k, t0 + Duration::from_secs(10)), Err(50));
        assert!(l.check(&k, t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn the_map_stays_bounded() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED_KEYS + 50) {
            l.record_failure(&[LimitKey::Username(format!("u{i}"))], t0);
        }
        assert!(l.tracked() <= MAX_TRACKED_KEYS);
    }
}
