//! Reading an import file as rows of text cells with their line numbers: CSV streamed from
//! disk in UTF-8 (with or without BOM) or GBK/GB18030, or the first sheet of an Excel workbook
//! (.xlsx, .xls, via calamine). Problems of one row (bad bytes, wrong column count, a quote
//! left open) are that row's problem, reported with it; problems of the whole file are errors.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use calamine::{Data, Reader};
use encoding_rs::{Encoding, GB18030, UTF_8};

use crate::ImportError;

/// How a CSV file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum EncodingChoice {
    /// UTF-8, with or without BOM.
    #[cfg_attr(feature = "clap", value(name = "utf-8", alias = "utf8"))]
    Utf8,
    /// GBK / GB18030 (the Chinese Windows default).
    #[cfg_attr(feature = "clap", value(name = "gbk", alias = "gb18030"))]
    Gbk,
    /// A BOM → UTF-8; otherwise valid UTF-8 → UTF-8; otherwise GB18030.
    Auto,
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Comma-separated values.
    Csv,
    /// Excel workbook, .xlsx or .xls (the first sheet).
    Xlsx,
}

impl Format {
    /// The format named by the file's extension (`.csv`/`.txt`, `.xlsx`/`.xls`/`.xlsm`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "xlsx" | "xls" | "xlsm" | "xlsb" | "ods" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// How much of a CSV file `auto` looks at to decide between UTF-8 and GB18030.
const SNIFF_BYTES: usize = 1 << 20;

/// Decides the encoding of a CSV file from its first bytes; returns it and the BOM length.
pub fn detect(head: &[u8], choice: EncodingChoice) -> (&'static Encoding, usize) {
    let bom = if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        3
    } else {
        0
    };
    match choice {
        EncodingChoice::Utf8 => (UTF_8, bom),
        EncodingChoice::Gbk => (GB18030, 0),
        EncodingChoice::Auto if bom > 0 => (UTF_8, bom),
        EncodingChoice::Auto => match std::str::from_utf8(head) {
            Ok(_) => (UTF_8, 0),
            // Only an incomplete character cut at the end of the sample: still UTF-8.
            Err(e) if e.error_len().is_none() => (UTF_8, 0),
            Err(_) => (GB18030, 0),
        },
    }
}

/// One data row: its line (1-based, the header being line 1 of a plain file), its cells as far
/// as they could be read, and why the row as a whole cannot be used, if so.
#[derive(Debug)]
pub struct RawRow {
    pub line: u64,
    pub cells: Vec<String>,
    /// Bad bytes, a wrong column count or a quote left open.
    pub problem: Option<String>,
}

/// Rows of a file after its header.
pub enum Rows {
    Csv {
        reader: csv::Reader<BufReader<File>>,
        encoding: &'static Encoding,
        width: usize,
        record: csv::ByteRecord,
    },
    Excel {
        rows: std::vec::IntoIter<(u64, Vec<String>)>,
        width: usize,
    },
}

/// An open import file: its header and its rows.
pub struct Source {
    pub headers: Vec<String>,
    pub rows: Rows,
    /// Total size for progress: bytes of a CSV file, rows of a sheet.
    pub total: u64,
    /// `"UTF-8"`, `"GB18030"` or `"Excel"`, for the summary.
    pub encoding_name: &'static str,
}

fn decode(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
}

fn lossy(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

impl Source {
    /// Opens a file and reads its header row.
    pub fn open(path: &Path, format: Format, choice: EncodingChoice) -> Result<Self, ImportError> {
        match format {
            Format::Csv => Self::open_csv(path, choice),
            Format::Xlsx => Self::open_excel(path),
        }
    }

    fn open_csv(path: &Path, choice: EncodingChoice) -> Result<Self, ImportError> {
        let io = |e: std::io::Error| ImportError::Read {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let mut file = File::open(path).map_err(io)?;
        let total = file.metadata().map_err(io)?.len();
        let mut head = Vec::with_capacity(SNIFF_BYTES.min(total as usize));
        (&mut file)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(io)?;
        let (encoding, bom) = detect(&head, choice);
        file.seek(SeekFrom::Start(bom as u64)).map_err(io)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        let mut record = csv::ByteRecord::new();
        let found = reader
            .read_byte_record(&mut record)
            .map_err(|e| ImportError::Read {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        if !found {
            return Err(ImportError::Empty(path.to_owned()));
        }
        let mut headers = Vec::with_capacity(record.len());
        for cell in record.iter() {
            headers.push(
                decode(encoding, cell).ok_or_else(|| ImportError::HeaderEncoding {
                    path: path.to_owned(),
                    encoding: encoding.name(),
                })?,
            );
        }
        Ok(Self {
            headers,
            total,
            encoding_name: if encoding == UTF_8 {
                "UTF-8"
            } else {
                "GB18030"
            },
            rows: Rows::Csv {
                reader,
                encoding,
                width: 0,
                record,
            },
        }
        .with_width())
    }

    fn with_width(mut self) -> Self {
        let w = self.headers.len();
        match &mut self.rows {
            Rows::Csv { width, .. } | Rows::Excel { width, .. } => *width = w,
        }
        self
    }

    fn open_excel(path: &Path) -> Result<Self, ImportError> {
        let bad = |reason: String| ImportError::Excel {
            path: path.to_owned(),
            reason,
        };
        let mut book = calamine::open_workbook_auto(path).map_err(|e| bad(e.to_string()))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| bad("the workbook has no sheet".to_owned()))?
            .map_err(|e| bad(e.to_string()))?;
        let first_row = u64::from(range.start().map_or(0, |(r, _)| r));
        // A whole sheet is read at once: calamine has no row streaming for every format, and a
        // sheet is bounded by Excel's own 1 048 576 rows.
        let mut rows: Vec<(u64, Vec<String>)> = range
            .rows()
            .zip(first_row + 1..)
            .map(|(cells, line)| (line, cells.iter().map(cell_text).collect()))
            .collect();
        if rows.is_empty() {
            return Err(ImportError::Empty(path.to_owned()));
        }
        let (_, headers) = rows.remove(0);
        // Trailing empty header cells (a used range wider than the table) are not columns.
        let width = headers
            .iter()
            .rposition(|h| !h.trim().is_empty())
            .map_or(0, |i| i + 1);
        let headers: Vec<String> = headers.into_iter().take(width).collect();
        Ok(Self {
            total: rows.len() as u64,
            headers,
            encoding_name: "Excel",
            rows: Rows::Excel {
                rows: rows.into_iter(),
                width,
            },
        })
    }
}

/// An Excel cell as the text a CSV export would hold: whole numbers without `.0` (account
/// numbers and phones are often stored as numbers), dates as `YYYY-MM-DD`.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let serial = dt.as_f64();
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|d| d.checked_add_days(chrono::Days::new(serial.max(0.0) as u64)))
                .map_or_else(|| serial.to_string(), |d| d.format("%Y-%m-%d").to_string())
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Checks the column count of a row and explains a mismatch.
fn check_width(cells: &[String], width: usize) -> Result<(), String> {
    if cells.len() == width {
        return Ok(());
    }
    if cells.len() < width && cells.iter().any(|c| c.contains('\n')) {
        return Err(format!(
            "引号未闭合 a quote is not closed: the row runs over a line end and has {} of {width} columns; close the quote or remove it",
            cells.len()
        ));
    }
    Err(format!(
        "列数不符 the row has {} columns, the header has {width}",
        cells.len()
    ))
}

impl Rows {
    /// Bytes read so far (CSV) or rows read (Excel), for progress.
    pub fn position(&self) -> Option<u64> {
        match self {
            Rows::Csv { reader, .. } => Some(reader.position().byte()),
            Rows::Excel { .. } => None,
        }
    }
}

impl Iterator for Rows {
    type Item = Result<RawRow, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Rows::Excel { rows, width } => {
                let (line, mut cells) = rows.next()?;
                // Cells beyond the header's width count only when filled.
                if cells.len() > *width && cells[*width..].iter().all(|c| c.is_empty()) {
                    cells.truncate(*width);
                }
                let problem = check_width(&cells, *width).err();
                Some(Ok(RawRow {
                    line,
                    cells,
                    problem,
                }))
            }
            Rows::Csv {
                reader,
                encoding,
                width,
                record,
            } => loop {
                match reader.read_byte_record(record) {
                    Ok(false) => return None,
                    Ok(true) => {
                        let line = record.position().map_or(0, csv::Position::line);
                        // A blank line is a line without data, not a row with one empty cell.
                        if record.len() == 1 && record[0].is_empty() {
                            continue;
                        }
                        let decoded: Option<Vec<String>> =
                            record.iter().map(|c| decode(encoding, c)).collect();
                        let Some(cells) = decoded else {
                            let cells = record.iter().map(|c| lossy(encoding, c)).collect();
                            return Some(Ok(RawRow {
                                line,
                                cells,
                                problem: Some(format!(
                                    "编码错误 the row is not valid {}: re-save the file as UTF-8, or give --encoding gbk / utf-8 to match it",
                                    encoding.name()
                                )),
                            }));
                        };
                        let problem = check_width(&cells, *width).err();
                        return Some(Ok(RawRow {
                            line,
                            cells,
                            problem,
                        }));
                    }
                    Err(e) => {
                        return Some(Err(ImportError::Csv {
                            reason: e.to_string(),
                        }));
                    }
                }
            },
        }
    }
}
