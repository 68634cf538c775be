//! Closed-loop load: `concurrency` workers each send one request, wait for the whole answer,
//! record its latency, and go again until the phase's deadline or request budget is spent.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

/// What one phase measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Successful requests.
    pub requests: u64,
    /// Failed requests (transport errors or unexpected status).
    pub errors: u64,
    /// Wall time of the phase.
    pub elapsed: Duration,
    /// Latencies of successful requests in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// The first failure, for the report.
    pub first_error: Option<String>,
}

impl Measurement {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// The `q` quantile (0–1) of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let n = self.latencies_us.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        f64::from(self.latencies_us[rank - 1]) / 1000.0
    }

    /// Median latency in ms.
    pub fn p50(&self) -> f64 {
        self.quantile_ms(0.50)
    }

    /// 99th percentile latency in ms.
    pub fn p99(&self) -> f64 {
        self.quantile_ms(0.99)
    }
}

/// Runs `concurrency` workers for at most `duration` and `max_requests` requests in total.
/// `op(rng)` performs one request and returns `Err(reason)` on failure; each worker has its own
/// RNG seeded from `seed` and its index.
pub async fn run<F, Fut>(
    concurrency: usize,
    duration: Duration,
    max_requests: u64,
    seed: u64,
    op: F,
) -> Measurement
where
    F: Fn(StdRng) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (StdRng, Result<(), String>)> + Send,
{
    let op = Arc::new(op);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for i in 0..concurrency.max(1) {
        let op = op.clone();
        let issued = issued.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64));
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max_requests
            {
                let t = Instant::now();
                let (back, result) = op(rng).await;
                rng = back;
                match result {
                    Ok(()) => {
                        latencies.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX))
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for w in workers {
        match w.await {
            Ok((lat, err, first)) => {
                all.extend(lat);
                errors += err;
                if first_error.is_none() {
                    first_error = first;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("worker failed: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    Measurement {
        requests: all.len() as u64,
        errors,
        elapsed,
        latencies_us: all,
        first_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let m = Measurement {
            requests: 100,
            errors: 0,
            elapsed: Duration::from_secs(2),
            latencies_us: (1..=100).map(|i| i * 1000).collect(),
            first_error: None,
        };
        assert_eq!(m.p50(), 50.0);
        assert_eq!(m.p99(), 99.0);
        assert_eq!(m.rps(), 50.0);
    }

    #[tokio::test]
    async fn the_request_budget_bounds_a_phase() {
        let m = run(4, Duration::from_secs(10), 40, 1, |rng| async move {
            (rng, Ok(()))
        })
        .await;
        assert_eq!(m.requests, 40);
    }
}
