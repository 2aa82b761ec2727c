//! CSV replay: reads the common OHLCV layouts (see config/README.md,
//! "Feeds") and yields numbered bars, or a bad row named by file and line.

use super::sequence::{RawBar, Sequencer};
use super::time::parse_timestamp;
use crate::Bar;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Names a time column may have (case-insensitive).
const TIME_HEADERS: [&str; 7] = [
    "",
    "date",
    "datetime",
    "time",
    "timestamp",
    "ts",
    "date_time",
];

/// A row the feed could not use.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    /// The CSV file (`feed.path` or `--data`).
    pub path: PathBuf,
    /// 1-based line of the row in the file (the header is line 1).
    pub line: u64,
    /// What is wrong with the row, in one sentence.
    pub message: String,
}

impl BadRow {
    /// A data row is wrong (not the file, nor its header): the error that
    /// `[feed] on_bad_row = "skip"` can skip.
    pub fn is_data_row(&self) -> bool {
        self.line > 1
    }
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: the file as a whole (it cannot be opened, the feed has no
        // symbols), which no line number would locate.
        match self.line {
            0 => write!(f, "{}: {}", self.path.display(), self.message),
            line => write!(f, "{}:{line}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for BadRow {}

/// Where each field is in a row.
#[derive(Debug, Clone, Copy)]
struct Layout {
    time: usize,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: Option<usize>,
    symbol: Option<usize>,
}

impl Layout {
    fn from_headers(headers: &csv::StringRecord) -> Result<Self, String> {
        let names: Vec<String> = headers
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        let time = match names.first() {
            Some(first) if TIME_HEADERS.contains(&first.as_str()) => Some(0),
            _ => find(&TIME_HEADERS[1..]),
        };
        let required = |name: &str| {
            find(&[name]).ok_or_else(|| {
                format!(
                    "the header has no `{name}` column (columns: {}); the CSV needs open, high, low and close columns and a time column",
                    headers.iter().collect::<Vec<_>>().join(", ")
                )
            })
        };
        Ok(Self {
            time: time.ok_or_else(|| {
                format!(
                    "the header has no time column (columns: {}); name it date, datetime, time or timestamp, or leave the first column's name empty",
                    headers.iter().collect::<Vec<_>>().join(", ")
                )
            })?,
            open: required("open")?,
            high: required("high")?,
            low: required("low")?,
            close: required("close")?,
            volume: find(&["volume", "vol"]),
            symbol: find(&["symbol", "ticker"]),
        })
    }
}

/// Bars from a CSV file, in file order.
pub struct CsvBars {
    path: PathBuf,
    reader: csv::Reader<File>,
    layout: Layout,
    symbols: Vec<String>,
    sequencer: Sequencer,
    record: csv::StringRecord,
}

impl CsvBars {
    /// Opens the file and reads its header. `symbols` are the feed's; rows
    /// without a symbol column belong to the first one.
    pub fn open(path: &Path, symbols: &[String]) -> Result<Self, BadRow> {
        let bad = |line: u64, message: String| BadRow {
            path: path.to_owned(),
            line,
            message,
        };
        let file = File::open(path).map_err(|e| {
            bad(
                0,
                format!("cannot open the CSV file: {e}; check [feed] path or --data"),
            )
        })?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(bad(
                0,
                "is a directory, not a CSV file; check [feed] path or --data".into(),
            ));
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(file);
        let headers = reader
            .headers()
            .map_err(|e| bad(1, format!("cannot read the header: {e}")))?
            .clone();
        let layout = Layout::from_headers(&headers).map_err(|m| bad(1, m))?;
        if symbols.is_empty() {
            return Err(bad(0, "the feed has no symbols; set [feed] symbols".into()));
        }
        Ok(Self {
            path: path.to_owned(),
            reader,
            layout,
            symbols: symbols.to_vec(),
            sequencer: Sequencer::new(symbols.len()),
            record: csv::StringRecord::new(),
        })
    }

    fn parse(&self) -> Result<RawBar, String> {
        let record = &self.record;
        let field = |index: usize, name: &str| {
            record.get(index).ok_or_else(|| {
                format!(
                    "the row has {} fields, too few for the `{name}` column",
                    record.len()
                )
            })
        };
        let number = |index: usize, name: &str| -> Result<f64, String> {
            let text = field(index, name)?;
            text.parse::<f64>()
                .map_err(|_| format!("{name} `{text}` is not a number"))
        };
        let layout = self.layout;
        let symbol = match layout.symbol {
            Some(index) => {
                let name = field(index, "symbol")?;
                self.symbols.iter().position(|s| s == name).ok_or_else(|| {
                    format!(
                        "symbol `{name}` is not in the feed's symbols [{}]; add it to [feed] symbols",
                        self.symbols.join(", ")
                    )
                })? as u32
            }
            None => 0,
        };
        Ok(RawBar {
            symbol,
            ts_ms: parse_timestamp(field(layout.time, "time")?)?,
            open: number(layout.open, "open")?,
            high: number(layout.high, "high")?,
            low: number(layout.low, "low")?,
            close: number(layout.close, "close")?,
            volume: match layout.volume {
                Some(index) if !field(index, "volume")?.is_empty() => number(index, "volume")?,
                _ => 0.0,
            },
        })
    }
}

impl Iterator for CsvBars {
    type Item = Result<Bar, BadRow>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.reader.position().line();
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Err(e) => {
                    return Some(Err(BadRow {
                        path: self.path.clone(),
                        line: e.position().map_or(line, |p| p.line()),
                        message: format!("unreadable row: {e}"),
                    }));
                }
                Ok(true) => {}
            }
            // A blank line in the middle of a file is not data.
            if self.record.iter().all(str::is_empty) {
                continue;
            }
            let line = self.record.position().map_or(line, |p| p.line());
            let admitted = self
                .parse()
                .and_then(|raw| self.sequencer.admit(raw, &self.symbols));
            return Some(admitted.map_err(|message| BadRow {
                path: self.path.clone(),
                line,
                message,
            }));
        }
    }
}

/// Reads a whole file, applying the bad-row policy: `skip` reports each bad
/// row through `on_skip` and goes on; `stop` returns the first.
pub fn read_all(
    path: &Path,
    symbols: &[String],
    skip_bad_rows: bool,
    mut on_skip: impl FnMut(&BadRow),
) -> Result<Vec<Bar>, BadRow> {
    let mut bars = Vec::new();
    for row in CsvBars::open(path, symbols)? {
        match row {
            Ok(bar) => bars.push(bar),
            Err(bad) if skip_bad_rows => on_skip(&bad),
            Err(bad) => return Err(bad),
        }
    }
    Ok(bars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bars.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn symbols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn read(text: &str, names: &[&str]) -> Result<Vec<Bar>, BadRow> {
        let (_dir, path) = write(text);
        read_all(&path, &symbols(names), false, |_| {})
    }

    #[test]
    fn reads_an_unnamed_first_column_with_dates() {
        let bars = read(
            ",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n2004-08-20,101.01,109.08,100.5,108.31,11428600\n",
            &["GOOG"],
        )
        .unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!((bars[0].seq, bars[1].seq), (0, 1));
        assert_eq!(bars[0].ts_ms, 1_092_873_600_000);
        assert_eq!(
            (bars[1].open, bars[1].close, bars[1].volume),
            (101.01, 108.31, 11428600.0)
        );
    }

    #[test]
    fn reads_lowercase_headers_epoch_times_symbols_and_no_volume() {
        let bars = read(
            "timestamp,symbol,open,high,low,close\n1706659200000,ETH,1,2,0.5,1.5\n1706659200000,BTC,10,20,5,15\n1706659260,ETH,1.5,2,1,1.8\n",
            &["BTC", "ETH"],
        )
        .unwrap();
        assert_eq!(
            bars.iter().map(|b| (b.symbol, b.ts_ms)).collect::<Vec<_>>(),
            [
                (1, 1_706_659_200_000),
                (0, 1_706_659_200_000),
                (1, 1_706_659_260_000)
            ]
        );
        assert_eq!(bars[0].volume, 0.0);
    }

    #[test]
    fn reads_datetime_headers_in_any_case_and_other_column_orders() {
        let bars = read(
            "Close,DATETIME,Low,High,Open,Vol\n1.5,2024-01-31 15:00:00,1,2,1.2,7\n",
            &["X"],
        )
        .unwrap();
        assert_eq!(
            (bars[0].open, bars[0].close, bars[0].volume),
            (1.2, 1.5, 7.0)
        );
    }

    #[test]
    fn a_bad_row_names_the_file_the_line_and_the_problem() {
        let text = "date,open,high,low,close\n2024-01-01,1,2,0.5,1\n2024-01-02,1,x,0.5,1\n2024-01-03,1,2,0.5,1\n";
        let error = read(text, &["X"]).unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error
                .to_string()
                .ends_with("bars.csv:3: high `x` is not a number"),
            "{error}"
        );

        let (_dir, path) = write(text);
        let mut skipped = Vec::new();
        let bars = read_all(&path, &symbols(&["X"]), true, |bad| skipped.push(bad.line)).unwrap();
        assert_eq!((bars.len(), skipped), (2, vec![3]));
        assert_eq!(
            (bars[0].seq, bars[1].seq),
            (0, 1),
            "skipped rows take no number"
        );
    }

    #[test]
    fn every_kind_of_bad_row_is_caught() {
        for (row, expect) in [
            ("2024-01-02,1,2,0.5", "too few"),
            ("someday,1,2,0.5,1", "not a time"),
            ("2024-01-01,1,2,0.5,1", "not after its previous bar"),
            ("2024-01-02,1,0.9,0.5,1", "do not contain"),
            ("2024-01-02,-1,2,0.5,1", "open is -1"),
        ] {
            let text = format!("date,open,high,low,close\n2024-01-01,1,2,0.5,1\n{row}\n");
            let error = read(&text, &["X"]).unwrap_err();
            assert_eq!(error.line, 3, "{row}");
            assert!(error.message.contains(expect), "{row}: {error}");
        }
        let error = read(
            "symbol,date,open,high,low,close\nDOGE,2024-01-01,1,2,0.5,1\n",
            &["X"],
        )
        .unwrap_err();
        assert!(
            error
                .message
                .contains("`DOGE` is not in the feed's symbols [X]"),
            "{error}"
        );
    }

    #[test]
    fn a_header_without_prices_or_time_is_refused_with_the_columns_listed() {
        let error = read("date,open,high,low\n", &["X"]).unwrap_err();
        assert_eq!(error.line, 1);
        assert!(
            error
                .message
                .contains("no `close` column (columns: date, open, high, low)"),
            "{error}"
        );
        let error = read("when,open,high,low,close\n", &["X"]).unwrap_err();
        assert!(error.message.contains("no time column"), "{error}");
        let error = read_all(
            Path::new("/nonexistent/x.csv"),
            &symbols(&["X"]),
            false,
            |_| {},
        )
        .unwrap_err();
        assert!(error.message.contains("cannot open"), "{error}");
        assert_eq!(
            error.to_string(),
            format!("/nonexistent/x.csv: {}", error.message),
            "no line number for the file as a whole"
        );
        assert!(!error.is_data_row());
        let dir = std::env::temp_dir();
        let error = read_all(&dir, &symbols(&["X"]), false, |_| {}).unwrap_err();
        assert!(error.message.contains("is a directory"), "{error}");
        let error = read("date,open,high,low,close\n2024-01-01,1,2,x,1\n", &["X"]).unwrap_err();
        assert!(error.is_data_row(), "{error}");
    }

    #[test]
    fn blank_lines_and_a_byte_order_mark_are_fine() {
        let bars = read(
            "\u{feff}Date,Open,High,Low,Close\n2024-01-01,1,2,0.5,1\n\n2024-01-02,1,2,0.5,1\n",
            &["X"],
        )
        .unwrap();
        assert_eq!(bars.len(), 2);
    }
}
