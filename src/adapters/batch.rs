//! Finding the records in a body, and running a per-record parser over them.

use super::{ParseError, Parsed, ParsedRecord, Record, RecordIssue};
use crate::domain::CallUpdate;
use serde_json::{Map, Value};

/// Where a body keeps its records.
pub enum Layout {
    /// A JSON array of records; a bare record object is accepted too.
    Array,
    /// An object with the records in array field `field`; a bare record
    /// (recognised by having `id_field`) and a bare array are accepted too.
    Wrapped {
        field: &'static str,
        id_field: &'static str,
    },
}

/// The records of `body` with the JSON path prefix of each.
///
/// Errors: [`ParseError::Shape`] when the body is neither of the layout's forms.
pub fn records(body: Value, layout: &Layout) -> Result<(Vec<Value>, String), ParseError> {
    match (layout, body) {
        (_, Value::Array(items)) => Ok((items, "$".to_owned())),
        (Layout::Array, Value::Object(obj)) => Ok((vec![Value::Object(obj)], "$".to_owned())),
        (Layout::Wrapped { field, id_field }, Value::Object(mut obj)) => match obj.remove(*field) {
            Some(Value::Array(items)) => Ok((items, format!("$.{field}"))),
            Some(Value::Object(one)) => Ok((vec![Value::Object(one)], format!("$.{field}"))),
            Some(Value::Null) | None if obj.contains_key(*id_field) => {
                Ok((vec![Value::Object(obj)], "$".to_owned()))
            }
            Some(Value::Null) => Ok((Vec::new(), format!("$.{field}"))),
            None => Err(ParseError::Shape {
                path: format!("$.{field}"),
                message: format!("missing: expected an array of records in `{field}`"),
            }),
            Some(other) => Err(ParseError::Shape {
                path: format!("$.{field}"),
                message: format!("expected an array of records, found {}", type_name(&other)),
            }),
        },
        (Layout::Array, other) => Err(ParseError::Shape {
            path: "$".to_owned(),
            message: format!(
                "expected an array of records or one record object, found {}",
                type_name(&other)
            ),
        }),
        (Layout::Wrapped { field, .. }, other) => Err(ParseError::Shape {
            path: "$".to_owned(),
            message: format!(
                "expected an object with `{field}` holding the records, found {}",
                type_name(&other)
            ),
        }),
    }
}

/// Runs `one` over each record: `Ok` is stored, `Err` becomes a record
/// error. Field warnings and unknown values collected by the [`Record`] are
/// kept either way.
pub fn parse_each(
    items: Vec<Value>,
    prefix: &str,
    mut one: impl FnMut(&mut Record) -> Result<CallUpdate, String>,
) -> Parsed {
    let mut parsed = Parsed {
        record_count: items.len(),
        ..Parsed::default()
    };
    for (index, item) in items.into_iter().enumerate() {
        let path = format!("{prefix}[{index}]");
        let Value::Object(map) = item else {
            parsed.errors.push(RecordIssue {
                index: Some(index),
                path,
                message: format!("expected a record object, found {}", type_name(&item)),
            });
            continue;
        };
        read_record(&mut parsed, &map, index, path, &mut one);
    }
    parsed
}

/// Runs `one` over the single record `map` found at `path` (kinds that
/// push one call per body: Vapi, Retell, Bland).
pub fn parse_single(
    map: &Map<String, Value>,
    path: &str,
    mut one: impl FnMut(&mut Record) -> Result<CallUpdate, String>,
) -> Parsed {
    let mut parsed = Parsed {
        record_count: 1,
        ..Parsed::default()
    };
    read_record(&mut parsed, map, 0, path.to_owned(), &mut one);
    parsed
}

fn read_record(
    parsed: &mut Parsed,
    map: &Map<String, Value>,
    index: usize,
    path: String,
    one: &mut impl FnMut(&mut Record) -> Result<CallUpdate, String>,
) {
    let mut rec = Record::new(map, index, path.clone());
    let result = one(&mut rec);
    let (leftover, warnings, unknown) = rec.finish();
    parsed.warnings.extend(warnings);
    parsed.unknown_values.extend(unknown);
    match result {
        Ok(mut update) => {
            merge_leftover(&mut update.vendor_fields, leftover);
            parsed.records.push(ParsedRecord { index, update });
        }
        Err(message) => parsed.errors.push(RecordIssue {
            index: Some(index),
            path,
            message,
        }),
    }
}

/// Takes the object in `key` out of a body that must hold one (`{"message": {...}}`).
///
/// Errors: [`ParseError::Shape`] naming `key` when the body is not an
/// object or `key` is missing or not an object.
pub fn member(body: &mut Value, key: &str) -> Result<Map<String, Value>, ParseError> {
    let found = match body {
        Value::Object(top) => top.remove(key),
        other => {
            return Err(ParseError::Shape {
                path: "$".into(),
                message: format!(
                    "expected an object with `{key}`, found {}",
                    type_name(other)
                ),
            })
        }
    };
    match found {
        Some(Value::Object(m)) => Ok(m),
        None => Err(ParseError::Shape {
            path: format!("$.{key}"),
            message: "missing".into(),
        }),
        Some(other) => Err(ParseError::Shape {
            path: format!("$.{key}"),
            message: format!("expected an object, found {}", type_name(&other)),
        }),
    }
}

fn merge_leftover(into: &mut Map<String, Value>, leftover: Map<String, Value>) {
    for (k, v) in leftover {
        into.entry(k).or_insert(v);
    }
}

/// `object`, `array`, `string`, … for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
