//! Logging each unknown vendor value once per process (a sign that the
//! vendor changed its values; the outcome maps it to `unknown`), in bounded memory
//! and bounded log lines: values are cut to [`MAX_VALUE_BYTES`] before
//! being kept or logged, and the set of values already logged holds at
//! most [`MAX_SEEN_BYTES`]; past that, new values are counted
//! (`callhook_unknown_values_bounded_total{reason="dropped"}`) and not
//! logged. The per-field counts stay in `callhook_unknown_values_total`.

use super::escape::escape_control;
use super::names::UNKNOWN_VALUES_BOUNDED;
use crate::adapters::values::{truncate_for_log, MAX_VALUE_BYTES};
use crate::adapters::UnknownValue;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// Bytes the log-once set may hold (values, field names and a fixed
/// per-entry overhead): 1 MiB.
pub const MAX_SEEN_BYTES: usize = 1024 * 1024;

/// Bytes counted for each entry on top of its text (the set's own
/// bookkeeping: two `String` headers, hash and bucket).
const ENTRY_OVERHEAD: usize = 64;

/// Logs (at `warn`, with `source`, `field` and the value cut by
/// [`truncate_for_log`] and escaped by [`escape_control`]) each of
/// `values` not logged before by this process. Memory is bounded by
/// [`MAX_SEEN_BYTES`]; see the module documentation.
pub fn note_unknown_values(source: &str, values: &[UnknownValue]) {
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    if values.is_empty() {
        return;
    }
    let mut seen = SEEN
        .get_or_init(|| Mutex::new(Seen::new(MAX_SEEN_BYTES)))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for v in values {
        match seen.note(v.field, &v.value) {
            Noted::Seen => {}
            Noted::Dropped => {
                metrics::counter!(UNKNOWN_VALUES_BOUNDED, "reason" => "dropped").increment(1);
            }
            Noted::New { value, truncated } => {
                if truncated {
                    metrics::counter!(UNKNOWN_VALUES_BOUNDED, "reason" => "truncated").increment(1);
                }
                tracing::warn!(
                    source,
                    field = v.field,
                    value = %escape_control(&value),
                    "unknown vendor value; mapped to `unknown`"
                );
            }
        }
    }
}

/// What [`Seen::note`] made of a value.
#[derive(Debug, PartialEq, Eq)]
enum Noted {
    /// Logged before: nothing to do.
    Seen,
    /// New, and kept: log `value` (cut to [`MAX_VALUE_BYTES`]).
    New { value: String, truncated: bool },
    /// New, but the set is full: count it, do not log it.
    Dropped,
}

/// The values logged so far, and the bytes they take.
struct Seen {
    set: HashSet<(&'static str, String)>,
    bytes: usize,
    max_bytes: usize,
}

impl Seen {
    fn new(max_bytes: usize) -> Seen {
        Seen {
            set: HashSet::new(),
            bytes: 0,
            max_bytes,
        }
    }

    fn note(&mut self, field: &'static str, value: &str) -> Noted {
        let kept = truncate_for_log(value, MAX_VALUE_BYTES);
        let truncated = matches!(kept, Cow::Owned(_));
        let key = (field, kept.into_owned());
        if self.set.contains(&key) {
            return Noted::Seen;
        }
        let cost = key.0.len() + key.1.len() + ENTRY_OVERHEAD;
        if self.bytes + cost > self.max_bytes {
            return Noted::Dropped;
        }
        self.bytes += cost;
        let value = key.1.clone();
        self.set.insert(key);
        Noted::New { value, truncated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_kept_whole_and_long_ones_cut_on_a_char_boundary() {
        assert!(matches!(truncate_for_log("ok", 200), Cow::Borrowed("ok")));
        assert_eq!(truncate_for_log("abcdef", 4), "abcd…(2 more bytes)");
        // "外" is 3 bytes: a cut at 4 falls inside the second one.
        assert_eq!(truncate_for_log("外呼成功", 4), "外…(9 more bytes)");
        assert_eq!(truncate_for_log("外呼", 6), "外呼");
        let long = "x".repeat(10_000);
        let cut = truncate_for_log(&long, MAX_VALUE_BYTES);
        assert_eq!(cut, format!("{}…(9800 more bytes)", "x".repeat(200)));
    }

    #[test]
    fn each_value_is_noted_once_and_long_values_are_kept_cut() {
        let mut seen = Seen::new(MAX_SEEN_BYTES);
        assert_eq!(
            seen.note("status", "NEW"),
            Noted::New {
                value: "NEW".into(),
                truncated: false
            }
        );
        assert_eq!(seen.note("status", "NEW"), Noted::Seen);
        let long = "y".repeat(1_000_000);
        let Noted::New { value, truncated } = seen.note("status", &long) else {
            panic!("a new long value is noted");
        };
        assert!(truncated);
        assert!(value.len() < 230, "{}", value.len());
        assert!(
            seen.bytes < 400,
            "only the cut value is kept: {}",
            seen.bytes
        );
        assert_eq!(seen.note("status", &long), Noted::Seen);
    }

    #[test]
    fn the_set_is_bounded_by_bytes_and_new_values_past_it_are_dropped() {
        let mut seen = Seen::new(MAX_SEEN_BYTES);
        let mut dropped = 0;
        // 100,000 distinct 200-byte values would be ~26 MB if all kept.
        for i in 0..100_000 {
            let v = format!("{i:0>200}");
            if seen.note("smartStatusCode", &v) == Noted::Dropped {
                dropped += 1;
            }
        }
        assert!(seen.bytes <= MAX_SEEN_BYTES, "{}", seen.bytes);
        let kept_text: usize = seen.set.iter().map(|(f, v)| f.len() + v.len()).sum();
        assert!(kept_text <= MAX_SEEN_BYTES);
        assert!(dropped > 90_000, "{dropped}");
        assert_eq!(seen.set.len() + dropped, 100_000);
    }

    #[test]
    fn the_public_function_accepts_any_values() {
        let values = vec![
            UnknownValue {
                field: "status",
                value: "a\nforged line".into(),
            },
            UnknownValue {
                field: "status",
                value: "z".repeat(5_000),
            },
        ];
        note_unknown_values("test-source", &values);
        note_unknown_values("test-source", &values);
        note_unknown_values("test-source", &[]);
    }
}
