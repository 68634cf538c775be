//! `kefu search reindex`: rebuilds the full-text index of every work order (in batches of one
//! transaction each, with progress on stderr), then of every knowledge-base article, with the
//! stored user dictionary: what was indexed before a dictionary change keeps its old terms
//! until then. A completed pass records the index format (`search_terms::INDEX_FORMAT`), which
//! ends the "index outdated" notice of a store upgraded from format 1.

use crate::cli::SearchReindexArgs;
use crate::config::Config;
use crate::db;
use crate::import::progress::Progress;

/// Reindexes every order; the summary line.
pub async fn reindex(config: &Config, args: &SearchReindexArgs) -> anyhow::Result<String> {
    let store = db::open_migrated(&config.database).await?;
    let version = store.load_search_dictionary().await?;
    let total = store.count_orders().await?;
    let mut progress = Progress::new(total, "工单 orders", args.quiet);
    let started = std::time::Instant::now();
    let (mut after, mut done) = (0_i64, 0_u64);
    while let Some(last) = {
        let step = store.reindex_orders(after, args.batch.max(1)).await?;
        done += step.indexed;
        step.last_id
    } {
        after = last;
        progress.update(done, done.min(total));
    }
    progress.finish();
    // Every row is in the current format now (orders written meanwhile were written in it).
    store.finish_reindex().await?;
    let articles = store.reindex_articles().await?;
    Ok(format!(
        "已重建 {done} 张工单和 {articles} 篇知识的检索索引（用户词典第 {version} 版），用时 {:.1} 秒 / \
         reindexed {done} orders with user dictionary version {version} and {articles} articles \
         in {:.1} s",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    ))
}
