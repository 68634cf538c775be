//! The SLA sweep in the server: a background task that raises warnings, overdue marks and
//! escalations as their instants pass (`kefu_store::sla`). Several processes may run it against
//! one PostgreSQL; each order is handled by one of them.

use std::sync::Arc;
use std::time::Duration;

use kefu_store::Store;
use kefu_store::sla::sweep_all;

/// A sweep that has not finished in this long is abandoned (the next tick retries).
const SWEEP_TIMEOUT: Duration = Duration::from_secs(120);

/// Sweeps every `every` until the task is aborted.
pub async fn sweep_forever(store: Arc<dyn Store>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = chrono::Utc::now();
        match tokio::time::timeout(SWEEP_TIMEOUT, sweep_all(store.as_ref(), now)).await {
            Ok(Ok(done)) if done.alerts > 0 => {
                tracing::info!(
                    orders = done.orders,
                    alerts = done.alerts,
                    "SLA sweep raised alerts"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "SLA sweep failed; retrying at the next tick"),
            Err(_) => tracing::warn!("SLA sweep timed out; retrying at the next tick"),
        }
    }
}
