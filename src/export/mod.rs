//! Exports of the stored calls as CSV, NDJSON or Parquet (`callhook export`,
//! the dashboard's download button; `docs/export.md`).
//!
//! [`export_stream`] pages through [`Store::list_calls`] (newest
//! `started_at` first, the list's order) a page at a time and yields the
//! encoded bytes after each page, so memory stays flat whatever the number
//! of calls: one page of calls, and for Parquet one row group of values.
//! The columns of CSV and Parquet are [`columns::COLUMNS`]; NDJSON is the
//! whole call. Customer numbers are hidden by [`crate::masking`].

pub mod columns;
mod csv;
mod ndjson;
mod parquet;

use crate::domain::Call;
use crate::storage::{CallFilter, PageRequest, Store, StoreError};
use futures::Stream;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Calls read from the store at a time.
pub const PAGE_CALLS: usize = 1000;
/// Rows of a Parquet row group.
pub const ROW_GROUP_ROWS: usize = 10_000;

/// An export's file format (the columns of CSV and Parquet are
/// [`columns::COLUMNS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// A header line, then one record per call.
    Csv,
    /// One JSON document per line: the whole call.
    Ndjson,
    /// Apache Parquet, one row per call.
    Parquet,
}

impl Format {
    /// The wire name: `csv`, `ndjson`, `parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }

    /// The media type to serve the export with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    /// Parses the wire name; the error lists csv, ndjson, parquet.
    fn from_str(s: &str) -> Result<Format, String> {
        [Format::Csv, Format::Ndjson, Format::Parquet]
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format `{s}` (expected one of: csv, ndjson, parquet)"))
    }
}

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    pub format: Format,
    /// Mask customer numbers ([`crate::masking`]).
    pub mask_numbers: bool,
    /// The zone of the local-time columns (`started_at_local`, …): the
    /// display zone; the other times stay UTC.
    pub timezone: jiff::tz::TimeZone,
}

/// Bytes of the export, in order; concatenated they are the whole file.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// May be empty (Parquet while a row group fills).
    pub bytes: bytes::Bytes,
    /// Calls encoded so far, this chunk's included.
    pub calls: u64,
}

/// Why an export stopped. The stream ends after yielding one.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read the calls to export")]
    Store(#[from] StoreError),
    #[error("cannot encode the export")]
    Encode(#[from] EncodeError),
}

/// What an encoder could not do.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("CSV")]
    Csv(#[from] ::csv::Error),
    #[error("JSON")]
    Json(#[from] serde_json::Error),
    #[error("Parquet")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    #[error("writing the encoded bytes")]
    Io(#[from] std::io::Error),
    /// The encoding task ended abnormally.
    #[error("the encoder stopped: {0}")]
    Stopped(String),
}

/// Sizes of an export's steps; [`Default`] is [`PAGE_CALLS`] and
/// [`ROW_GROUP_ROWS`]. Smaller values are for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Calls read per [`Store::list_calls`] (1 to 1000).
    pub page_calls: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            page_calls: PAGE_CALLS,
            row_group_rows: ROW_GROUP_ROWS,
        }
    }
}

/// One format's encoder: calls in, bytes out.
trait Encoder: Send {
    /// Encodes one more call.
    fn encode(&mut self, call: &Call) -> Result<(), EncodeError>;
    /// Writes what ends the file (Parquet's last row group and footer).
    fn finish(&mut self) -> Result<(), EncodeError>;
    /// Takes the bytes encoded since the last call.
    fn take(&mut self) -> Result<Vec<u8>, EncodeError>;
}

fn encoder(opts: &ExportOptions, limits: Limits) -> Result<Box<dyn Encoder>, EncodeError> {
    let tz = opts.timezone.clone();
    Ok(match opts.format {
        Format::Csv => Box::new(csv::CsvEncoder::new(opts.mask_numbers, tz)?),
        Format::Ndjson => Box::new(ndjson::NdjsonEncoder::new(opts.mask_numbers)),
        Format::Parquet => Box::new(parquet::ParquetEncoder::new(
            opts.mask_numbers,
            limits.row_group_rows,
            tz,
        )?),
    })
}

/// Streams every call matching `filter`, newest started_at first (the list
/// order), as encoded bytes: one [`Chunk`] after each page of
/// [`PAGE_CALLS`] calls, the last one ending the file (CSV's header comes
/// with the first; an export of no calls is a header alone, an empty
/// NDJSON, or a Parquet file without row groups).
///
/// Poll it inside a Tokio runtime: each page is encoded on the blocking
/// pool. Errors: [`ExportError::Store`] when a page cannot be read,
/// [`ExportError::Encode`]; the stream ends after the first error, and the
/// bytes yielded until then are not a whole file.
pub fn export_stream(
    store: Arc<dyn Store>,
    filter: CallFilter,
    opts: ExportOptions,
) -> impl Stream<Item = Result<Chunk, ExportError>> + Send + 'static {
    export_stream_with(store, filter, opts, Limits::default())
}

/// [`export_stream`] with other page and row-group sizes.
pub fn export_stream_with(
    store: Arc<dyn Store>,
    filter: CallFilter,
    opts: ExportOptions,
    limits: Limits,
) -> impl Stream<Item = Result<Chunk, ExportError>> + Send + 'static {
    let state = Paging {
        store,
        filter,
        page: PageRequest {
            limit: limits.page_calls.clamp(1, PAGE_CALLS),
            cursor: None,
        },
        encoder: None,
        opts,
        limits,
        calls: 0,
    };
    futures::stream::unfold(Some(state), |state| async move {
        let mut paging = state?;
        match paging.next_chunk().await {
            Ok((chunk, more)) => Some((Ok(chunk), more.then_some(paging))),
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// Where an export stands between two chunks.
struct Paging {
    store: Arc<dyn Store>,
    filter: CallFilter,
    page: PageRequest,
    encoder: Option<Box<dyn Encoder>>,
    opts: ExportOptions,
    limits: Limits,
    calls: u64,
}

impl Paging {
    /// Reads and encodes the next page: its chunk, and whether more follow.
    async fn next_chunk(&mut self) -> Result<(Chunk, bool), ExportError> {
        let mut enc = match self.encoder.take() {
            Some(e) => e,
            None => encoder(&self.opts, self.limits)?,
        };
        let page = self.store.list_calls(&self.filter, &self.page).await?;
        let (items, next) = (page.items, page.next_cursor);
        let last = next.is_none();
        let n = items.len() as u64;
        let (enc, bytes) = tokio::task::spawn_blocking(move || {
            let out = encode(enc.as_mut(), &items, last);
            (enc, out)
        })
        .await
        .map_err(|e| EncodeError::Stopped(e.to_string()))?;
        let bytes = bytes?;
        self.calls += n;
        self.page.cursor = next;
        self.encoder = Some(enc);
        let chunk = Chunk {
            bytes: bytes.into(),
            calls: self.calls,
        };
        Ok((chunk, !last))
    }
}

fn encode(enc: &mut dyn Encoder, calls: &[Call], last: bool) -> Result<Vec<u8>, EncodeError> {
    for call in calls {
        enc.encode(call)?;
    }
    if last {
        enc.finish()?;
    }
    enc.take()
}

#[cfg(test)]
mod tests;
