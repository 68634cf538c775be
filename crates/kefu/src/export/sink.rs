//! Where exported rows go: a CSV file (UTF-8 with a BOM so Excel reads it, or GB18030 — the
//! superset of GBK that can spell every name, written for `--encoding gbk`) or an Excel
//! workbook in rust_xlsxwriter's constant-memory mode (each row goes to a temporary file as
//! soon as the next one starts), a new worksheet with the header again every 1 048 575 rows.
//! Memory stays at one row whatever the export's size.

use std::io::Write;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// The character encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputEncoding {
    /// UTF-8 with a byte-order mark.
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK as the marketing system reads it (written as GB18030, its superset, so that rare
    /// characters in names survive).
    #[value(alias = "gb18030")]
    Gbk,
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Xlsx,
}

/// Rows per worksheet: Excel's limit of 1 048 576 less the header.
pub const SHEET_ROWS: u32 = 1_048_575;

/// An open export file.
pub enum Sink {
    Csv {
        out: Box<csv::Writer<Box<dyn Write>>>,
        gbk: bool,
    },
    Xlsx {
        book: Box<Workbook>,
        path: PathBuf,
        header: Vec<String>,
        sheet: usize,
        row: u32,
    },
}

fn xlsx_error(e: XlsxError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn start_sheet(book: &mut Workbook, header: &[String]) -> Result<(), XlsxError> {
    let sheet = book.add_worksheet_with_constant_memory();
    let bold = Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.set_column_width(col, 16)?;
        sheet.write_string_with_format(0, col, h, &bold)?;
    }
    Ok(())
}

impl Sink {
    /// A CSV export to `out`, its header written.
    pub fn csv(
        out: Box<dyn Write>,
        encoding: OutputEncoding,
        header: &[&str],
    ) -> std::io::Result<Sink> {
        let mut out = out;
        let gbk = encoding == OutputEncoding::Gbk;
        if !gbk {
            out.write_all("\u{feff}".as_bytes())?;
        }
        let mut sink = Sink::Csv {
            out: Box::new(csv::Writer::from_writer(out)),
            gbk,
        };
        sink.row(header)?;
        Ok(sink)
    }

    /// An Excel export to `path` (written when finished), its header row in bold.
    pub fn xlsx(path: &Path, header: &[&str]) -> std::io::Result<Sink> {
        let mut book = Box::new(Workbook::new());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Temporary row files beside the target rather than in a possibly small /tmp.
            book.set_tempdir(dir).map_err(xlsx_error)?;
        }
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        start_sheet(&mut book, &header).map_err(xlsx_error)?;
        Ok(Sink::Xlsx {
            book,
            path: path.to_owned(),
            header,
            sheet: 0,
            row: 0,
        })
    }

    /// Appends one row.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> std::io::Result<()> {
        match self {
            Sink::Csv { out, gbk: false } => {
                out.write_record(cells.iter().map(|c| c.as_ref().as_bytes()))?;
            }
            Sink::Csv { out, gbk: true } => {
                // GB18030 never puts ',', '"' or a line break inside a multi-byte character,
                // so the CSV writer's quoting works on the encoded bytes.
                out.write_record(
                    cells
                        .iter()
                        .map(|c| encoding_rs::GB18030.encode(c.as_ref()).0),
                )?;
            }
            Sink::Xlsx {
                book,
                header,
                sheet,
                row,
                ..
            } => {
                if *row >= SHEET_ROWS {
                    start_sheet(book, header).map_err(xlsx_error)?;
                    *sheet += 1;
                    *row = 0;
                }
                *row += 1;
                let ws = book.worksheet_from_index(*sheet).map_err(xlsx_error)?;
                for (c, v) in cells.iter().enumerate() {
                    let v = v.as_ref();
                    if !v.is_empty() {
                        ws.write_string(*row, u16::try_from(c).unwrap_or(u16::MAX), v)
                            .map_err(xlsx_error)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Csv { mut out, .. } => out.flush(),
            Sink::Xlsx { mut book, path, .. } => book.save(&path).map_err(xlsx_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A `Write` whose bytes the test can read after the sink is finished.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn written(encoding: OutputEncoding) -> Vec<u8> {
        let out = Shared::default();
        let mut sink = Sink::csv(Box::new(out.clone()), encoding, &["户名", "地址"]).expect("sink");
        sink.row(&["張三, \"老\"", "杭州市\n西湖区"]).expect("row");
        sink.finish().expect("finish");
        out.0.lock().expect("lock").clone()
    }

    #[test]
    fn utf8_csv_starts_with_a_bom_and_quotes_commas_quotes_and_line_breaks() {
        let bytes = written(OutputEncoding::Utf8);
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(
            text,
            "\u{feff}户名,地址\n\"張三, \"\"老\"\"\",\"杭州市\n西湖区\"\n"
        );
    }

    #[test]
    fn gbk_csv_decodes_back_to_the_same_text() {
        let bytes = written(OutputEncoding::Gbk);
        assert!(!bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
        assert!(!had_errors);
        assert_eq!(text, "户名,地址\n\"張三, \"\"老\"\"\",\"杭州市\n西湖区\"\n");
        assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    }
}
