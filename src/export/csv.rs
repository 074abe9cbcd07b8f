//! CSV: a header of [`super::columns::COLUMNS`], then one record per call
//! (RFC 4180 quoting by the `csv` crate, `\n` line ends, UTF-8, no BOM).
//! An unknown value is an empty cell; `tags` are joined with `|`.

use super::columns::{cell_text, names, row};
use super::mask::Masker;
use super::{EncodeError, Encoder};
use crate::domain::Call;

/// Encodes calls as CSV records into a buffer taken after each page.
pub struct CsvEncoder {
    out: csv::Writer<Vec<u8>>,
    mask: bool,
}

impl CsvEncoder {
    /// An encoder whose first bytes are the header line.
    ///
    /// Errors: [`EncodeError::Csv`] (only if the header cannot be written).
    pub fn new(mask: bool) -> Result<CsvEncoder, EncodeError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(names())?;
        Ok(CsvEncoder { out, mask })
    }
}

impl Encoder for CsvEncoder {
    fn push(&mut self, call: &Call) -> Result<(), EncodeError> {
        let masker = self
            .mask
            .then(|| Masker::new(call.customer_number.as_deref()))
            .flatten();
        let cells = row(call, masker.as_ref());
        for cell in &cells {
            self.out.write_field(cell_text(cell).as_bytes())?;
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
