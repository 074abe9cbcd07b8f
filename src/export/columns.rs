//! The columns of the CSV and Parquet exports: one table ([`COLUMNS`]) gives
//! each column's name, type and value, so both formats agree by
//! construction. `docs/export.md` has the table with units and sources.

use crate::domain::Call;
use crate::masking::{Masker, KEPT};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::borrow::Cow;

/// A column's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text: ids, enum wire names, RFC 3339 UTC times, decimal money.
    Text,
    /// A whole number (seconds).
    Int,
    /// A double (the QA score in percent).
    Float,
}

/// One value of a row; `Null` is "not known" (an empty CSV cell, a Parquet null).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    Float(f64),
}

/// One column: its name (CSV header, Parquet field), type, whether every
/// call has a value, and how the value is read from a call.
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// `true` when the value is never [`Cell::Null`] (Parquet `REQUIRED`).
    pub required: bool,
    value: Value,
}

/// How a column's value is read.
enum Value {
    /// From the call alone.
    Of(fn(&Call) -> Cell<'_>),
    /// An instant of the call written in the export's zone,
    /// `YYYY-MM-DD HH:MM:SS` (a spreadsheet reads it as a date and time).
    Local(fn(&Call) -> Option<Timestamp>),
    /// The export zone's IANA name.
    Zone,
}

fn text(s: &str) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(s))
}

fn opt_text(s: &Option<String>) -> Cell<'_> {
    s.as_deref().map_or(Cell::Null, text)
}

/// An RFC 3339 UTC time exactly as the API serialises it.
fn time(t: Timestamp) -> Cell<'static> {
    Cell::Text(Cow::Owned(t.to_string()))
}

fn opt_time(t: Option<Timestamp>) -> Cell<'static> {
    t.map_or(Cell::Null, time)
}

fn opt_int(i: Option<i64>) -> Cell<'static> {
    i.map_or(Cell::Null, Cell::Int)
}

macro_rules! col {
    ($name:literal, $kind:ident, $required:literal, $value:expr) => {
        Column {
            name: $name,
            kind: Kind::$kind,
            required: $required,
            value: Value::Of($value),
        }
    };
}

macro_rules! local {
    ($name:literal, $required:literal, $value:expr) => {
        Column {
            name: $name,
            kind: Kind::Text,
            required: $required,
            value: Value::Local($value),
        }
    };
}

/// Every column, in export order: the call's fields with UTC times, then
/// the main times again in the export's zone and that zone's name.
pub const COLUMNS: [Column; 36] = [
    col!("id", Text, true, |c| text(&c.id)),
    col!("vendor", Text, true, |c| text(c.vendor.as_str())),
    col!("source", Text, true, |c| text(&c.source)),
    col!("vendor_call_id", Text, true, |c| text(&c.vendor_call_id)),
    col!("direction", Text, true, |c| text(c.direction.as_str())),
    col!("outcome", Text, true, |c| text(c.outcome.as_str())),
    col!("vendor_status", Text, true, |c| text(&c.vendor_status)),
    col!("hangup_by", Text, true, |c| text(c.hangup_by.as_str())),
    col!("task_id", Text, false, |c| opt_text(&c.task_id)),
    col!("task_name", Text, false, |c| opt_text(&c.task_name)),
    col!("batch_id", Text, false, |c| opt_text(&c.batch_id)),
    col!("script_id", Text, false, |c| opt_text(&c.script_id)),
    col!("out_id", Text, false, |c| opt_text(&c.out_id)),
    col!("customer_number", Text, false, |c| opt_text(
        &c.customer_number
    )),
    col!("line_number", Text, false, |c| opt_text(&c.line_number)),
    col!("started_at", Text, true, |c| time(c.started_at)),
    col!("originated_at", Text, false, |c| opt_time(c.originated_at)),
    col!("ringing_at", Text, false, |c| opt_time(c.ringing_at)),
    col!("answered_at", Text, false, |c| opt_time(c.answered_at)),
    col!("ended_at", Text, false, |c| opt_time(c.ended_at)),
    col!("ring_seconds", Int, false, |c| opt_int(c.ring_seconds)),
    col!("talk_seconds", Int, false, |c| opt_int(c.talk_seconds)),
    col!("billed_seconds", Int, false, |c| opt_int(c.billed_seconds)),
    col!("cost_amount", Text, false, |c| c
        .cost
        .as_ref()
        .map_or(Cell::Null, |m| Cell::Text(Cow::Owned(
            m.amount.to_string()
        )))),
    col!("cost_currency", Text, false, |c| c
        .cost
        .as_ref()
        .map_or(Cell::Null, |m| text(&m.currency))),
    col!("intent_code", Text, false, |c| c
        .intent
        .as_ref()
        .map_or(Cell::Null, |i| opt_text(&i.code))),
    col!("intent_label", Text, false, |c| c
        .intent
        .as_ref()
        .map_or(Cell::Null, |i| opt_text(&i.label))),
    col!("tags", Text, true, |c| Cell::Text(Cow::Owned(
        c.tags.join("|")
    ))),
    col!("recording_url", Text, false, |c| opt_text(&c.recording_url)),
    col!("qa_score", Float, false, |c| c
        .qa_score_percent()
        .map_or(Cell::Null, Cell::Float)),
    col!("first_received_at", Text, true, |c| time(
        c.first_received_at
    )),
    col!("updated_at", Text, true, |c| time(c.updated_at)),
    local!("started_at_local", true, |c| Some(c.started_at)),
    local!("answered_at_local", false, |c| c.answered_at),
    local!("ended_at_local", false, |c| c.ended_at),
    Column {
        name: "local_timezone",
        kind: Kind::Text,
        required: true,
        value: Value::Zone,
    },
];

/// The column names, in order (the CSV header).
pub fn names() -> impl Iterator<Item = &'static str> {
    COLUMNS.iter().map(|c| c.name)
}

/// The row of `call`, one cell per column of [`COLUMNS`], local times in
/// `tz`. With `mask`, the customer number is masked and its occurrences in
/// the other text columns (but those of [`KEPT`]) are replaced by the
/// masked form.
pub fn row<'a>(call: &'a Call, mask: Option<&Masker>, tz: &TimeZone) -> Vec<Cell<'a>> {
    COLUMNS
        .iter()
        .map(|col| {
            let cell = match col.value {
                Value::Of(f) => f(call),
                Value::Local(f) => f(call).map_or(Cell::Null, |t| {
                    Cell::Text(Cow::Owned(
                        t.to_zoned(tz.clone())
                            .strftime("%Y-%m-%d %H:%M:%S")
                            .to_string(),
                    ))
                }),
                Value::Zone => Cell::Text(Cow::Owned(crate::config::display::name(tz))),
            };
            match (mask, cell) {
                (Some(m), Cell::Text(t)) if !KEPT.contains(&col.name) => {
                    let scrubbed = match m.scrub(&t) {
                        Cow::Owned(o) => Some(o),
                        Cow::Borrowed(_) => None,
                    };
                    Cell::Text(scrubbed.map_or(t, Cow::Owned))
                }
                (_, cell) => cell,
            }
        })
        .collect()
}

/// A cell as CSV text: empty for `Null`; numbers in Rust's shortest
/// round-trip form (`80`, `83.33333333333334`).
pub fn cell_text<'a>(cell: &'a Cell<'a>) -> Cow<'a, str> {
    match cell {
        Cell::Null => Cow::Borrowed(""),
        Cell::Text(t) => Cow::Borrowed(t),
        Cell::Int(i) => Cow::Owned(i.to_string()),
        Cell::Float(f) => Cow::Owned(f.to_string()),
    }
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
