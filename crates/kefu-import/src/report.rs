//! The bad-row report: CSV in UTF-8 with a BOM (so Excel opens it with the Chinese intact), one
//! line per problem: the file's line number, the field, the reason, then the row's cells as read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::ImportError;

/// The report's first columns, before the file's own headers (the server's report uses them too).
pub const REPORT_HEADER: [&str; 3] = ["行号 line", "字段 field", "原因 reason"];

/// Where bad rows go.
pub struct Report {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl Report {
    /// Creates (or replaces) the report, writing its header: 行号 line, 字段 field, 原因 reason
    /// and the file's own column headers.
    pub fn create(path: &Path, headers: &[String]) -> Result<Self, ImportError> {
        let fail = |e: &dyn std::fmt::Display| ImportError::Report {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let mut file = BufWriter::new(File::create(path).map_err(|e| fail(&e))?);
        file.write_all("\u{feff}".as_bytes())
            .map_err(|e| fail(&e))?;
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
        let mut head: Vec<String> = REPORT_HEADER.iter().map(|h| (*h).to_owned()).collect();
        head.extend(headers.iter().cloned());
        writer.write_record(&head).map_err(|e| fail(&e))?;
        Ok(Self {
            path: path.to_owned(),
            writer,
        })
    }

    /// Appends one problem of the row at `line`.
    pub fn add(
        &mut self,
        line: u64,
        field: &str,
        reason: &str,
        original: &[String],
    ) -> Result<(), ImportError> {
        let mut rec = Vec::with_capacity(original.len() + 3);
        rec.push(line.to_string());
        rec.push(field.to_owned());
        rec.push(reason.to_owned());
        rec.extend(original.iter().cloned());
        self.writer
            .write_record(&rec)
            .map_err(|e| ImportError::Report {
                path: self.path.clone(),
                reason: e.to_string(),
            })
    }

    /// Flushes the report to disk.
    pub fn finish(&mut self) -> Result<(), ImportError> {
        self.writer.flush().map_err(|e| ImportError::Report {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}
