//! `kefu export customers|orders` (issue 6): the archive or the work orders as CSV (UTF-8 or
//! GBK) or Excel, streamed: rows are read from the store a keyset page (200 rows) at a time
//! and written at once (`sink`), so memory stays flat for any size of export.
//!
//! Personal data is handled as for an administrator, who has no `personal_data` permission:
//! document numbers and phones are masked (`138****8000`) and the names and addresses of
//! callers outside the archive left out. `--unmasked` writes them in clear for a transfer to
//! another system; like an unmasked read in the API, it is written to the audit log
//! (`customer.export_personal` / `work_order.export_personal`). Every export is audited.

pub mod customers;
pub mod orders;
pub mod sink;

use std::path::Path;

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use kefu_domain::workorder::{AppealType, State};
use kefu_store::{Actor, NewAuditEntry, OrderFilter, Store};

pub use sink::{OutputEncoding, OutputFormat, Sink};

use crate::cli::{ExportArgs, ExportCommand};
use crate::config::Config;
use crate::db;

/// The format to write: `--format`, else `.xlsx` files are Excel and the rest CSV.
pub fn format_for(path: &Path, given: Option<OutputFormat>) -> OutputFormat {
    given.unwrap_or_else(|| {
        let xlsx = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        if xlsx {
            OutputFormat::Xlsx
        } else {
            OutputFormat::Csv
        }
    })
}

fn open_sink(args: &ExportArgs, header: &[&str]) -> anyhow::Result<Sink> {
    let path = &args.output;
    let sink = match format_for(path, args.format) {
        OutputFormat::Xlsx => {
            anyhow::ensure!(
                path.as_os_str() != "-",
                "--output -: an Excel file cannot go to standard output; give a file name"
            );
            Sink::xlsx(path, header)
        }
        OutputFormat::Csv if path.as_os_str() == "-" => {
            Sink::csv(Box::new(std::io::stdout().lock()), args.encoding, header)
        }
        OutputFormat::Csv => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Sink::csv(
                Box::new(std::io::BufWriter::with_capacity(1 << 16, file)),
                args.encoding,
                header,
            )
        }
    };
    sink.with_context(|| format!("cannot write {}", path.display()))
}

/// A centre date (`2026-02-13`) as the instant its day starts.
fn day_start(
    raw: &str,
    flag: &str,
    offset: chrono::FixedOffset,
) -> anyhow::Result<chrono::DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{flag}: '{raw}' is not a date like 2026-02-13"))?;
    offset
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("{flag}: '{raw}' has no start of day"))
}

/// The order filter of `kefu export orders`.
fn order_filter(
    args: &crate::cli::ExportOrdersArgs,
    offset: chrono::FixedOffset,
) -> anyhow::Result<OrderFilter> {
    let state = match args.state.as_deref() {
        Some(s) => Some(
            State::parse_code("state", s.trim())
                .map_err(|e| anyhow::anyhow!("--state: {}", e.reason))?,
        ),
        None => None,
    };
    let appeal_type = match args.appeal_type.as_deref() {
        Some(s) => Some(
            AppealType::parse_code("appeal_type", s.trim())
                .map_err(|e| anyhow::anyhow!("--appeal-type: {}", e.reason))?,
        ),
        None => None,
    };
    let created_from = args
        .from
        .as_deref()
        .map(|d| day_start(d, "--from", offset))
        .transpose()?;
    let created_to = match args.to.as_deref() {
        // `--to` is inclusive: the orders before the next day starts.
        Some(d) => Some(day_start(d, "--to", offset)? + chrono::Duration::days(1)),
        None => None,
    };
    Ok(OrderFilter {
        state,
        appeal_type,
        created_from,
        created_to,
        ..OrderFilter::default()
    })
}

async fn audit(
    store: &dyn Store,
    action: &str,
    target: &str,
    detail: String,
) -> anyhow::Result<()> {
    store
        .append_audit(
            NewAuditEntry {
                action: action.to_owned(),
                target: target.to_owned(),
                detail,
            },
            &Actor::System("export"),
            Utc::now(),
        )
        .await?;
    Ok(())
}

/// `kefu export …`: writes the file and prints how many rows it holds.
pub async fn command(config: &Config, cmd: &ExportCommand) -> anyhow::Result<()> {
    let store = db::open_migrated(&config.database).await?;
    let store = store.as_ref();
    let (n, args) = match cmd {
        ExportCommand::Customers(a) => {
            let scope = crate::orders::scope(store, a.export.unit.as_deref()).await?;
            let codes = crate::orders::unit_codes(store, &scope).await?;
            let filter = customers::CustomerFilter {
                scope,
                include_retired: a.include_retired,
            };
            let mut sink = open_sink(&a.export, &customers::header())?;
            let n = customers::write(store, &filter, &codes, a.export.unmasked, &mut sink).await?;
            sink.finish()
                .with_context(|| format!("cannot write {}", a.export.output.display()))?;
            let action = if a.export.unmasked {
                "customer.export_personal"
            } else {
                "customer.export"
            };
            let detail = format!(
                "{n} customers of {} to {}",
                filter.scope.as_str(),
                a.export.output.display()
            );
            audit(store, action, "customer:*", detail).await?;
            (n, &a.export)
        }
        ExportCommand::Orders(a) => {
            let scope = crate::orders::scope(store, a.export.unit.as_deref()).await?;
            let codes = crate::orders::unit_codes(store, &scope).await?;
            let filter = order_filter(a, config.utc_offset)?;
            let mut sink = open_sink(&a.export, &orders::HEADER)?;
            let n = orders::write(
                store,
                &filter,
                &scope,
                &codes,
                config.utc_offset,
                a.export.unmasked,
                &mut sink,
            )
            .await?;
            sink.finish()
                .with_context(|| format!("cannot write {}", a.export.output.display()))?;
            let action = if a.export.unmasked {
                "work_order.export_personal"
            } else {
                "work_order.export"
            };
            let detail = format!(
                "{n} orders of {} to {}",
                scope.as_str(),
                a.export.output.display()
            );
            audit(store, action, "work_order:*", detail).await?;
            (n, &a.export)
        }
    };
    if args.output.as_os_str() != "-" {
        println!("导出 exported: {n} 行 rows → {}", args.output.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_extension_unless_given() {
        assert_eq!(format_for(Path::new("a.XLSX"), None), OutputFormat::Xlsx);
        assert_eq!(format_for(Path::new("a.csv"), None), OutputFormat::Csv);
        assert_eq!(format_for(Path::new("-"), None), OutputFormat::Csv);
        assert_eq!(
            format_for(Path::new("a.csv"), Some(OutputFormat::Xlsx)),
            OutputFormat::Xlsx
        );
    }

    #[test]
    fn the_to_date_includes_its_whole_day_in_the_centre_offset() {
        let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
        let start = day_start("2026-02-13", "--from", offset).expect("date");
        assert_eq!(start.to_rfc3339(), "2026-02-12T16:00:00+00:00");
        assert!(day_start("13/02/2026", "--from", offset).is_err());
    }
}
