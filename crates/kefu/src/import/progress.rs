//! Progress of a long import on stderr: an indicatif bar with rows/s and the ETA on a terminal,
//! a plain line every few seconds otherwise (logs of cron jobs and CI stay readable).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is written when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
    total: u64,
    unit: &'static str,
    quiet: bool,
}

impl Progress {
    /// `total` is the file's size in bytes (CSV) or its row count (Excel), named by `unit`.
    pub fn new(total: u64, unit: &'static str, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{wide_bar}] {percent:>3}% {msg} 剩余 ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            started: now,
            last_line: now,
            total,
            unit,
            quiet,
        }
    }

    /// Reports `rows` read and `done` of `total` units.
    pub fn update(&mut self, rows: u64, done: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = rows as f64 / secs;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(format!("{rows} 行 rows, {rate:.0} 行/秒 rows/s"));
        } else if !self.quiet && self.last_line.elapsed() >= PLAIN_EVERY {
            self.last_line = Instant::now();
            let share = if self.total == 0 {
                100.0
            } else {
                done as f64 * 100.0 / self.total as f64
            };
            eprintln!(
                "进度 progress: {rows} 行 rows, {share:.0}% of {} {}, {rate:.0} 行/秒 rows/s",
                self.total, self.unit
            );
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
