//! CSV: a header of [`super::columns::COLUMNS`], then one record per call
//! (RFC 4180 quoting by the `csv` crate, `\n` line ends, UTF-8, no BOM).
//! An unknown value is an empty cell; `tags` are joined with `|`.
//!
//! Formula injection (OWASP, CSV Injection): a text cell starting with
//! `=`, `+`, `-`, `@`, a tab or a carriage return is written with a `'`
//! in front, so a spreadsheet shows it as text instead of running it. A
//! text cell that is a plain decimal number (`-1.5` in `cost_amount`,
//! `+8613800000000`) is left as it is: a spreadsheet reads it as a number,
//! never as a formula. Integer and float columns are never changed.

use super::columns::{cell_text, names, row, Cell};
use super::{EncodeError, Encoder};
use crate::domain::Call;
use crate::masking::Masker;
use std::borrow::Cow;

/// `text` with a `'` in front when a spreadsheet would read it as a
/// formula: it starts with `=`, `+`, `-`, `@`, `\t` or `\r` and is not a
/// plain decimal number (optional sign, digits, optional fraction).
pub fn neutralize_formula(text: &str) -> Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// Encodes calls as CSV records into a buffer taken after each page.
pub struct CsvEncoder {
    out: csv::Writer<Vec<u8>>,
    mask: bool,
    tz: jiff::tz::TimeZone,
}

impl CsvEncoder {
    /// An encoder whose first bytes are the header line; local-time
    /// columns in `tz`.
    ///
    /// Errors: [`EncodeError::Csv`] (only if the header cannot be written).
    pub fn new(mask: bool, tz: jiff::tz::TimeZone) -> Result<CsvEncoder, EncodeError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(names())?;
        Ok(CsvEncoder { out, mask, tz })
    }
}

impl Encoder for CsvEncoder {
    fn encode(&mut self, call: &Call) -> Result<(), EncodeError> {
        let masker = self
            .mask
            .then(|| Masker::new(call.customer_number.as_deref()))
            .flatten();
        let cells = row(call, masker.as_ref(), &self.tz);
        for cell in &cells {
            let text = cell_text(cell);
            let text = match cell {
                Cell::Text(_) => neutralize_formula(&text),
                _ => text,
            };
            self.out.write_field(text.as_bytes())?;
        }
        // An empty record ends the one whose fields were just written.
        self.out.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), EncodeError> {
        Ok(())
    }

    fn take(&mut self) -> Result<Vec<u8>, EncodeError> {
        let full = std::mem::replace(&mut self.out, csv::Writer::from_writer(Vec::new()));
        full.into_inner()
            .map_err(|e| EncodeError::Csv(csv::Error::from(e.into_error())))
    }
}

#[cfg(test)]
mod tests {
    use super::neutralize_formula;

    #[test]
    fn formula_starts_get_a_quote_and_plain_numbers_do_not() {
        for (given, written) in [
            (
                "=HYPERLINK(\"http://evil\")",
                "'=HYPERLINK(\"http://evil\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-1.5", "-1.5"),
            ("+8613800000000", "+8613800000000"),
            ("-0.10", "-0.10"),
            ("ok=1", "ok=1"),
            ("外呼", "外呼"),
            ("", ""),
        ] {
            assert_eq!(neutralize_formula(given), written, "{given:?}");
        }
    }
}
