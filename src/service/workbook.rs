//! Proves an uploaded XLSX small before calamine opens it: the zip's declared
//! entry count, every entry's declared and actual expanded size and its
//! compression ratio (each entry is inflated through a hard byte cap, since
//! declared sizes lie), the shared-string counts (declared and actual) and
//! every cell, row and dimension reference against the row and column limits.
//! calamine reserves `uniqueCount` strings and sizes ranges from references
//! before any row limit can apply; after this check it only ever sees an
//! archive already proven small.

use std::io::{self, BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use crate::config::LimitArgs;

/// The most entries a workbook may hold (a one-sheet template has about ten).
pub const MAX_ENTRIES: usize = 1_000;
/// The most columns a sheet may use (the comments template has ten).
pub const MAX_COLUMNS: usize = 64;
/// Entries expanding to no more than this are never refused for their ratio:
/// a small entry cannot be a bomb.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// What an upload may cost.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Data rows (the heading row comes on top).
    pub rows: usize,
    pub columns: usize,
    /// All entries together, expanded.
    pub expanded_bytes: u64,
    /// Expanded to compressed, per entry.
    pub ratio: u64,
}

impl Bounds {
    pub fn of(limits: &LimitArgs, rows: usize) -> Self {
        Self {
            rows,
            columns: MAX_COLUMNS,
            expanded_bytes: limits.max_upload_expanded_bytes,
            ratio: limits.max_upload_zip_ratio.max(1),
        }
    }

    /// The most shared strings a sheet within the limits can need.
    fn strings(&self) -> u64 {
        ((self.rows + 1) as u64).saturating_mul(self.columns as u64)
    }
}

/// Why a workbook is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It expands past the limits (HTTP 413).
    TooLarge(String),
    /// It is unreadable or its content is over the row or column limits (HTTP 422).
    Invalid(String),
}

/// Check the workbook's archive and XML against `b`; nothing is kept.
pub fn check(bytes: &[u8], b: &Bounds) -> Result<(), Refusal> {
    let declared = declared_entries(bytes)?;
    if declared > MAX_ENTRIES as u64 {
        return Err(too_many_entries(declared));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Refusal::Invalid(format!("the XLSX workbook cannot be read: {e}")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(too_many_entries(zip.len() as u64));
    }
    let mut left = b.expanded_bytes;
    let mut strings = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| Refusal::Invalid(format!("the XLSX workbook cannot be read: {e}")))?;
        let name = entry.name().to_owned();
        let packed = entry.compressed_size();
        let over = || {
            Refusal::TooLarge(format!(
                "the XLSX workbook expands to more than {} bytes (at '{name}'): refused",
                b.expanded_bytes
            ))
        };
        if entry.size() > left {
            return Err(over());
        }
        bomb(&name, entry.size(), packed, b)?;
        let mut counted = Counted {
            inner: (&mut entry).take(left.saturating_add(1)),
            read: 0,
        };
        let lower = name.replace('\\', "/").to_ascii_lowercase();
        if lower.ends_with(".xml") {
            scan_xml(BufReader::new(&mut counted), b, &mut strings)?;
        }
        let drained = io::copy(&mut counted, &mut io::sink());
        let actual = counted.read;
        if actual > left {
            return Err(over());
        }
        bomb(&name, actual, packed, b)?;
        drained.map_err(|e| {
            Refusal::Invalid(format!("the XLSX workbook cannot be read ('{name}'): {e}"))
        })?;
        left -= actual;
    }
    Ok(())
}

fn too_many_entries(n: u64) -> Refusal {
    Refusal::TooLarge(format!(
        "the XLSX workbook declares {n} files: at most {MAX_ENTRIES}"
    ))
}

fn bomb(name: &str, size: u64, packed: u64, b: &Bounds) -> Result<(), Refusal> {
    if size > RATIO_FLOOR && size > packed.saturating_mul(b.ratio) {
        return Err(Refusal::TooLarge(format!(
            "'{name}' in the XLSX workbook expands {size} bytes from {packed}: more than {} to 1, refused as a zip bomb",
            b.ratio
        )));
    }
    Ok(())
}

/// The entry count the archive's end record declares (ZIP64 included),
/// read before the zip reader sizes its directory from it.
fn declared_entries(bytes: &[u8]) -> Result<u64, Refusal> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let from = bytes.len().saturating_sub(22 + u16::MAX as usize);
    let Some(at) = bytes[from..]
        .windows(4)
        .rposition(|w| w == EOCD)
        .map(|p| from + p)
    else {
        return Err(Refusal::Invalid(
            "the XLSX workbook cannot be read: no end of zip archive".into(),
        ));
    };
    let u16_at = |p: usize| {
        bytes
            .get(p..p + 2)
            .map(|s| u64::from(u16::from_le_bytes([s[0], s[1]])))
    };
    let mut n = u16_at(at + 10)
        .unwrap_or(0)
        .max(u16_at(at + 8).unwrap_or(0));
    // A ZIP64 locator sits just before the end record and points at the ZIP64 end record.
    if let Some(locator) = at.checked_sub(20).and_then(|p| bytes.get(p..at)) {
        if locator.starts_with(b"PK\x06\x07") {
            let offset = u64::from_le_bytes(locator[8..16].try_into().unwrap_or([0; 8]));
            let record = usize::try_from(offset)
                .ok()
                .and_then(|o| bytes.get(o..o.checked_add(40)?));
            match record {
                Some(r) if r.starts_with(b"PK\x06\x06") => {
                    let total = u64::from_le_bytes(r[32..40].try_into().unwrap_or([0; 8]));
                    let here = u64::from_le_bytes(r[24..32].try_into().unwrap_or([0; 8]));
                    n = n.max(total).max(here);
                }
                _ => {
                    return Err(Refusal::Invalid(
                        "the XLSX workbook cannot be read: a broken ZIP64 end record".into(),
                    ))
                }
            }
        }
    }
    Ok(n)
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Where the scan is in a sheet, as calamine counts positions (1-based here).
#[derive(Default)]
struct Position {
    row: u64,
    column: u64,
}

/// Refuse the limits' breaches in one XML entry. Malformed XML is left to
/// calamine to report (the scan just stops).
fn scan_xml<R: io::BufRead>(input: R, b: &Bounds, strings: &mut u64) -> Result<(), Refusal> {
    let mut xml = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::with_capacity(1024);
    let mut at = Position::default();
    loop {
        buf.clear();
        let e = match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => e,
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => continue,
        };
        match e.local_name().as_ref() {
            b"sst" => {
                for key in [&b"uniqueCount"[..], b"count"] {
                    if let Some(v) = attribute(&e, key) {
                        let n = std::str::from_utf8(&v)
                            .ok()
                            .and_then(|s| s.trim().parse::<u64>().ok());
                        match n {
                            Some(n) if n <= b.strings() => {}
                            _ => {
                                return Err(Refusal::Invalid(format!(
                                    "the workbook declares {} shared strings: at most {} for {} comments of {} columns",
                                    String::from_utf8_lossy(&v),
                                    b.strings(),
                                    b.rows,
                                    b.columns
                                )))
                            }
                        }
                    }
                }
            }
            b"si" => {
                *strings += 1;
                if *strings > b.strings() {
                    return Err(Refusal::Invalid(format!(
                        "the workbook holds more than {} shared strings: at most that many for {} comments of {} columns",
                        b.strings(),
                        b.rows,
                        b.columns
                    )));
                }
            }
            b"dimension" => {
                if let Some(v) = attribute(&e, b"ref") {
                    let text = String::from_utf8_lossy(&v);
                    for corner in text.split(':') {
                        if let Some((row, column)) = cell_ref(corner) {
                            within(row, column, b)?;
                        }
                    }
                }
            }
            b"row" => {
                at.row = attribute(&e, b"r")
                    .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse().ok())
                    .unwrap_or(at.row + 1);
                at.column = 0;
                within(at.row, 1, b)?;
            }
            b"c" => {
                match attribute(&e, b"r").and_then(|v| cell_ref(&String::from_utf8_lossy(&v))) {
                    Some((row, column)) => {
                        at.row = at.row.max(row).max(1);
                        at.column = column;
                        within(row, column, b)?;
                    }
                    None => {
                        at.column += 1;
                        within(at.row.max(1), at.column, b)?;
                    }
                }
            }
            _ => {}
        }
    }
}

fn attribute(e: &BytesStart<'_>, key: &[u8]) -> Option<Vec<u8>> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .map(|a| a.value.into_owned())
}

/// `XFD1048576` -> (1048576, 16384), 1-based; `None` when it is not a cell reference.
pub fn cell_ref(s: &str) -> Option<(u64, u64)> {
    let s = s.trim().replace('$', "");
    let digits = s.find(|c: char| c.is_ascii_digit())?;
    let (letters, number) = s.split_at(digits);
    if letters.is_empty() || !letters.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let column = letters.bytes().try_fold(0u64, |n, c| {
        n.checked_mul(26)?
            .checked_add(u64::from(c.to_ascii_uppercase() - b'A') + 1)
    })?;
    let row = number.parse::<u64>().ok()?;
    Some((row, column))
}

/// A column's letters: 1 -> A, 16384 -> XFD.
pub fn column_name(mut n: u64) -> String {
    let mut out = Vec::new();
    while n > 0 {
        let d = (n - 1) % 26;
        out.push(b'A' + d as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A (1-based) position inside the heading row plus `b.rows` and `b.columns`?
fn within(row: u64, column: u64, b: &Bounds) -> Result<(), Refusal> {
    if row > b.rows as u64 + 1 {
        return Err(Refusal::Invalid(format!(
            "the sheet has a cell in row {row}: at most {} comments per upload (rows 2 to {})",
            b.rows,
            b.rows + 1
        )));
    }
    if column > b.columns as u64 {
        return Err(Refusal::Invalid(format!(
            "the sheet has a cell in column {}: the comments template has at most {} columns (A to {})",
            column_name(column),
            b.columns,
            column_name(b.columns as u64)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref("A1"), Some((1, 1)));
        assert_eq!(cell_ref("XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(cell_ref("$B$7"), Some((7, 2)));
        assert_eq!(cell_ref("7"), None);
        assert_eq!(cell_ref("A"), None);
        assert_eq!(column_name(16_384), "XFD");
        assert_eq!(column_name(64), "BL");
        assert_eq!(column_name(1), "A");
    }
}
