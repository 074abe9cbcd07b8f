//! NDJSON: one line per call, the whole call exactly as
//! `serde_json::to_string(&call)` gives it (turns, analyses and
//! vendor_fields included; the same document as `GET /api/v1/calls/{id}`
//! without `receipts`), each line ended by `\n`.

use super::{EncodeError, Encoder};
use crate::domain::Call;
use crate::masking::Masker;

/// Encodes calls as JSON lines into a buffer taken after each page.
pub struct NdjsonEncoder {
    out: Vec<u8>,
    mask: bool,
}

impl NdjsonEncoder {
    /// An encoder with nothing written yet (NDJSON has no header).
    pub fn new(mask: bool) -> NdjsonEncoder {
        NdjsonEncoder {
            out: Vec::new(),
            mask,
        }
    }
}

impl Encoder for NdjsonEncoder {
    fn encode(&mut self, call: &Call) -> Result<(), EncodeError> {
        let masker = self
            .mask
            .then(|| Masker::new(call.customer_number.as_deref()))
            .flatten();
        match masker {
            None => serde_json::to_writer(&mut self.out, call)?,
            Some(m) => {
                let mut doc = serde_json::to_value(call)?;
                m.scrub_call_json(&mut doc);
                serde_json::to_writer(&mut self.out, &doc)?;
            }
        }
        self.out.push(b'\n');
        Ok(())
    }

    fn finish(&mut self) -> Result<(), EncodeError> {
        Ok(())
    }

    fn take(&mut self) -> Result<Vec<u8>, EncodeError> {
        Ok(std::mem::take(&mut self.out))
    }
}
