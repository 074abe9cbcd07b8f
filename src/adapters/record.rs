//! [`Record`]: reads one vendor record field by field, remembering which
//! keys were mapped so that every other key lands in `vendor_fields`.

use super::{values, RecordIssue, UnknownValue};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// A reader over one record object (or a nested object of one).
///
/// Each getter returns `None` when the key is absent or its value means
/// "unknown"; an unreadable value also gives `None`, adds a warning with the
/// field's JSON path, and stays in the leftover so nothing is lost.
pub struct Record<'a> {
    map: &'a Map<String, Value>,
    index: usize,
    path: String,
    used: Vec<&'a str>,
    nested: Map<String, Value>,
    warnings: Vec<RecordIssue>,
    unknown: Vec<UnknownValue>,
}

impl<'a> Record<'a> {
    /// A reader over `map`, record number `index` of the batch, at JSON path `path`.
    pub fn new(map: &'a Map<String, Value>, index: usize, path: String) -> Record<'a> {
        Record {
            map,
            index,
            path,
            used: Vec::new(),
            nested: Map::new(),
            warnings: Vec::new(),
            unknown: Vec::new(),
        }
    }

    /// The JSON path of `key` in this record, e.g. `$[0].callId`.
    pub fn path_of(&self, key: &str) -> String {
        format!("{}.{}", self.path, key)
    }

    /// The raw value of `key`, without marking it mapped.
    pub fn peek(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// The raw value of `key`, marked mapped: the caller maps it by hand.
    pub fn take(&mut self, key: &str) -> Option<&'a Value> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.push(k.as_str());
        Some(v)
    }

    fn read<T>(&mut self, key: &str, f: impl Fn(&Value) -> Result<Option<T>, String>) -> Option<T> {
        let (k, v) = self.map.get_key_value(key)?;
        match f(v) {
            Ok(out) => {
                self.used.push(k.as_str());
                out
            }
            Err(message) => {
                self.warn(key, message);
                None
            }
        }
    }

    /// Text; numbers and booleans as written (ids sent as numbers).
    pub fn text(&mut self, key: &str) -> Option<String> {
        self.read(key, values::text)
    }

    /// A whole number (seconds, counts, codes), from a number or a numeric string.
    pub fn integer(&mut self, key: &str) -> Option<i64> {
        self.read(key, values::integer)
    }

    /// A number that may have a fraction (scores).
    pub fn number(&mut self, key: &str) -> Option<f64> {
        self.read(key, values::number)
    }

    /// An exact decimal amount of money, below 10^15 in magnitude
    /// ([`values::money_amount`]); a larger one is a warning, and the
    /// field stays in `vendor_fields` as received.
    pub fn decimal(&mut self, key: &str) -> Option<Decimal> {
        self.read(key, values::money_amount)
    }

    /// A boolean.
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        self.read(key, values::boolean)
    }

    /// An instant, by the rules of [`values::time`], zone-less text read in `tz`.
    pub fn time(&mut self, key: &str, tz: &TimeZone) -> Option<Timestamp> {
        self.read(key, |v| values::time(v, tz))
    }

    /// The call id in `key`, required.
    ///
    /// Errors: a message naming the field when it is absent, empty or not a scalar.
    pub fn call_id(&mut self, key: &str) -> Result<String, String> {
        match self.map.get(key) {
            None => Err(format!("missing call id `{key}`")),
            // An id sent as a number past 64 bits was rounded by the JSON
            // reader: storing it would merge different calls.
            Some(Value::Number(n)) if !n.is_i64() && !n.is_u64() => Err(format!(
                "call id `{key}`: the number {n} cannot be read exactly"
            )),
            Some(v) => match values::text(v) {
                Ok(Some(id)) => {
                    self.take(key);
                    Ok(id)
                }
                Ok(None) => Err(format!("empty call id `{key}`")),
                Err(e) => Err(format!("call id `{key}`: {e}")),
            },
        }
    }

    /// A reader over the nested object in `key`. Pass it back to
    /// [`Record::absorb`] so its leftover and warnings are kept.
    /// `None` (and a warning, if it is not null) when `key` is not an object.
    pub fn child(&mut self, key: &str) -> Option<Record<'a>> {
        match self.map.get_key_value(key) {
            Some((k, Value::Object(m))) => {
                self.used.push(k.as_str());
                Some(Record::new(m, self.index, self.path_of(key)))
            }
            // null says nothing: mapped, like a null scalar.
            Some((k, Value::Null)) => {
                self.used.push(k.as_str());
                None
            }
            None => None,
            Some(_) => {
                self.warn(key, "expected an object".to_owned());
                None
            }
        }
    }

    /// Takes back a child reader: its unmapped keys go to this record's
    /// leftover under `key`, its warnings and unknown values to this record's.
    pub fn absorb(&mut self, key: &str, child: Record<'a>) {
        let (leftover, warnings, unknown) = child.finish();
        if !leftover.is_empty() {
            self.nested.insert(key.to_owned(), Value::Object(leftover));
        }
        self.warnings.extend(warnings);
        self.unknown.extend(unknown);
    }

    /// Records a field problem at `key`'s path.
    pub fn warn(&mut self, key: &str, message: String) {
        self.warnings.push(RecordIssue {
            index: Some(self.index),
            path: self.path_of(key),
            message,
        });
    }

    /// Records a vendor value the adapter does not know (for the metric and
    /// the receipt's warnings).
    pub fn unknown_value(&mut self, field: &'static str, value: &str) {
        self.warn(
            field,
            format!("unknown value {}", super::values::quoted(value)),
        );
        self.unknown.push(UnknownValue {
            field,
            value: value.to_owned(),
        });
    }

    /// Takes the unmapped keys now (in the body's order, values as
    /// received), marking them mapped: for a caller that keeps them somewhere
    /// other than the call's `vendor_fields`.
    pub fn drain_leftover(&mut self) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in self.map {
            if let Some(n) = self.nested.remove(k) {
                out.insert(k.clone(), n);
            } else if !self.used.contains(&k.as_str()) {
                self.used.push(k.as_str());
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// The unmapped keys (see [`Record::drain_leftover`]), the warnings and
    /// the unknown values.
    pub fn finish(mut self) -> (Map<String, Value>, Vec<RecordIssue>, Vec<UnknownValue>) {
        let leftover = self.drain_leftover();
        (leftover, self.warnings, self.unknown)
    }
}
