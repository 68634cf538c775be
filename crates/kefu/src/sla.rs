//! `kefu sla sweep`: one SLA sweep from the command line, for a deployment whose servers do not
//! sweep (`sla_sweep_seconds = 0`) or to check the rules as of a chosen instant.

use chrono::{DateTime, Utc};
use kefu_store::sla::sweep_all;

use crate::cli::SlaSweepArgs;
use crate::config::Config;
use crate::db;

/// Runs the sweep until nothing is due at `--at` (default now); the summary line.
pub async fn sweep(config: &Config, args: &SlaSweepArgs) -> anyhow::Result<String> {
    let at = match args.at.as_deref() {
        Some(raw) => DateTime::parse_from_rfc3339(raw.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                anyhow::anyhow!(
                    "--at: '{raw}' is not an RFC 3339 instant; write e.g. 2026-02-14T16:00:00+08:00"
                )
            })?,
        None => Utc::now(),
    };
    let store = db::open_migrated(&config.database).await?;
    let done = sweep_all(store.as_ref(), at).await?;
    Ok(format!(
        "已检查 {} 张工单，新增 {} 条时限提醒 / swept {} orders, raised {} alerts (as of {})",
        done.orders,
        done.alerts,
        done.orders,
        done.alerts,
        at.with_timezone(&config.utc_offset).to_rfc3339()
    ))
}
