//! Parquet: one flat message `call` with a field per column of
//! [`super::columns::COLUMNS`] — text as `BYTE_ARRAY (STRING)` (times too:
//! RFC 3339 UTC strings exactly as the API serialises them; money as the
//! exact decimal string), seconds as `INT64`, the QA score as `DOUBLE`;
//! columns every call has are `REQUIRED`, the others `OPTIONAL`. Snappy
//! compression. Rows are buffered column by column and written as a row
//! group every `row_group_rows` calls, so memory holds at most one row
//! group; the footer comes at [`Encoder::finish`].

use super::columns::{row, Cell, Kind, COLUMNS};
use super::{EncodeError, Encoder};
use crate::domain::Call;
use crate::masking::Masker;
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};
use std::sync::Arc;

/// The Parquet schema of the export: message `call`, one field per column.
///
/// Errors: [`ParquetError`] only if the column table were invalid.
pub fn schema() -> Result<TypePtr, ParquetError> {
    let fields = COLUMNS
        .iter()
        .map(|c| {
            let (physical, logical) = match c.kind {
                Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                Kind::Int => (Physical::INT64, None),
                Kind::Float => (Physical::DOUBLE, None),
            };
            let repetition = if c.required {
                Repetition::REQUIRED
            } else {
                Repetition::OPTIONAL
            };
            Type::primitive_type_builder(c.name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(
        Type::group_type_builder("call")
            .with_fields(fields)
            .build()?,
    ))
}

/// One column's values of the row group being filled.
enum Values {
    Text(Vec<ByteArray>),
    Int(Vec<i64>),
    Float(Vec<f64>),
}

/// The values and definition levels (1 present, 0 null) of one column.
struct ColumnBuf {
    name: &'static str,
    required: bool,
    values: Values,
    defs: Vec<i16>,
}

impl ColumnBuf {
    fn add(&mut self, cell: Cell<'_>) -> Result<(), EncodeError> {
        let present = !matches!(cell, Cell::Null);
        match (&mut self.values, cell) {
            (_, Cell::Null) if self.required => {
                return Err(ParquetError::General(format!("{} has no value", self.name)).into())
            }
            (_, Cell::Null) => {}
            (Values::Text(v), Cell::Text(t)) => {
                v.push(ByteArray::from(t.into_owned().into_bytes()))
            }
            (Values::Int(v), Cell::Int(i)) => v.push(i),
            (Values::Float(v), Cell::Float(f)) => v.push(f),
            (_, other) => {
                let msg = format!("{}: unexpected value {other:?}", self.name);
                return Err(ParquetError::General(msg).into());
            }
        }
        self.defs.push(i16::from(present));
        Ok(())
    }
}

/// Encodes calls as Parquet row groups into a buffer taken after each page
/// (empty while a row group fills).
pub struct ParquetEncoder {
    writer: Option<SerializedFileWriter<Vec<u8>>>,
    columns: Vec<ColumnBuf>,
    rows: usize,
    row_group_rows: usize,
    mask: bool,
    /// The zone of the local-time columns.
    tz: jiff::tz::TimeZone,
}

impl ParquetEncoder {
    /// An encoder writing a row group every `row_group_rows` calls (at
    /// least 1), local-time columns in `tz`.
    ///
    /// Errors: [`EncodeError::Parquet`] if the writer cannot start.
    pub fn new(
        mask: bool,
        row_group_rows: usize,
        tz: jiff::tz::TimeZone,
    ) -> Result<ParquetEncoder, EncodeError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(row_group_rows.max(1)))
            .set_created_by(format!("callhook {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(Vec::new(), schema()?, Arc::new(props))?;
        let columns = COLUMNS
            .iter()
            .map(|c| ColumnBuf {
                name: c.name,
                required: c.required,
                values: match c.kind {
                    Kind::Text => Values::Text(Vec::new()),
                    Kind::Int => Values::Int(Vec::new()),
                    Kind::Float => Values::Float(Vec::new()),
                },
                defs: Vec::new(),
            })
            .collect();
        Ok(ParquetEncoder {
            writer: Some(writer),
            columns,
            rows: 0,
            row_group_rows: row_group_rows.max(1),
            mask,
            tz,
        })
    }

    fn writer(&mut self) -> Result<&mut SerializedFileWriter<Vec<u8>>, EncodeError> {
        self.writer
            .as_mut()
            .ok_or_else(|| ParquetError::General("the file is already finished".into()).into())
    }

    /// Writes the buffered rows as one row group and empties the buffers.
    fn flush_row_group(&mut self) -> Result<(), EncodeError> {
        if self.rows == 0 {
            return Ok(());
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| ParquetError::General("the file is already finished".into()))?;
        let mut group = writer.next_row_group()?;
        for buf in &mut self.columns {
            let mut col = group
                .next_column()?
                .ok_or_else(|| ParquetError::General(format!("no column {}", buf.name)))?;
            let defs = (!buf.required).then_some(buf.defs.as_slice());
            match &mut buf.values {
                Values::Text(v) => col.typed::<ByteArrayType>().write_batch(v, defs, None)?,
                Values::Int(v) => col.typed::<Int64Type>().write_batch(v, defs, None)?,
                Values::Float(v) => col.typed::<DoubleType>().write_batch(v, defs, None)?,
            };
            col.close()?;
            match &mut buf.values {
                Values::Text(v) => v.clear(),
                Values::Int(v) => v.clear(),
                Values::Float(v) => v.clear(),
            }
            buf.defs.clear();
        }
        group.close()?;
        writer.flush()?;
        self.rows = 0;
        Ok(())
    }
}

impl Encoder for ParquetEncoder {
    fn encode(&mut self, call: &Call) -> Result<(), EncodeError> {
        let masker = self
            .mask
            .then(|| Masker::new(call.customer_number.as_deref()))
            .flatten();
        for (buf, cell) in self
            .columns
            .iter_mut()
            .zip(row(call, masker.as_ref(), &self.tz))
        {
            buf.add(cell)?;
        }
        self.rows += 1;
        if self.rows >= self.row_group_rows {
            self.flush_row_group()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), EncodeError> {
        self.flush_row_group()?;
        self.writer()?.finish()?;
        Ok(())
    }

    fn take(&mut self) -> Result<Vec<u8>, EncodeError> {
        // The writer counts what it wrote itself: taking the bytes out of
        // its buffer does not change the offsets the footer records.
        let writer = self.writer()?;
        writer.flush()?;
        Ok(std::mem::take(writer.inner_mut()))
    }
}
