//! The filter form of the overview and the calls page: its fields as typed
//! (empty means "all"), turned into a [`CallFilter`] and back into the
//! query string of links (next page, downloads).

use super::UiError;
use crate::domain::Vendor;
use crate::storage::CallFilter;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::str::FromStr;

/// The form's fields. `from` and `to` are dates in the display zone, both included.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FilterForm {
    pub q: String,
    /// Full-text search (`storage/search.rs`).
    pub text: String,
    pub from: String,
    pub to: String,
    pub vendor: String,
    pub source: String,
    pub outcome: String,
    pub direction: String,
    pub task_id: String,
}

fn parsed<T: FromStr<Err = String>>(name: &str, v: &str) -> Result<Option<T>, UiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    T::from_str(v)
        .map(Some)
        .map_err(|e| UiError::BadRequest(format!("{name}: {e}")))
}

fn text(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A `YYYY-MM-DD` field. Errors: 400 naming the field.
pub fn date(name: &str, v: &str) -> Result<Option<Date>, UiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    Date::from_str(v)
        .map(Some)
        .map_err(|_| UiError::BadRequest(format!("{name}: `{v}` is not a date such as 2025-06-01")))
}

/// The start of `d` in `tz` (midnight, or the first instant of the day
/// where a zone skips midnight).
pub fn midnight(d: Date, tz: &TimeZone) -> Result<jiff::Timestamp, UiError> {
    d.to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp())
        .map_err(|e| UiError::BadRequest(format!("date {d}: {e}")))
}

impl FilterForm {
    /// `from` and `to` as dates. Errors: 400 for a field that is not a
    /// date, or `from` after `to`.
    pub fn days(&self) -> Result<(Option<Date>, Option<Date>), UiError> {
        let (from, to) = (date("from", &self.from)?, date("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(UiError::BadRequest("from: must not be after to".into()));
            }
        }
        Ok((from, to))
    }

    /// The store filter, its days in the request's display zone
    /// ([`super::zone::current`]). Errors: 400 naming the first bad field.
    pub fn call_filter(&self) -> Result<CallFilter, UiError> {
        self.call_filter_in(&super::zone::current())
    }

    /// The store filter: the start of `from` in `tz` inclusive to the
    /// start of the day after `to` exclusive. Errors: 400 naming the
    /// first bad field.
    pub fn call_filter_in(&self, tz: &TimeZone) -> Result<CallFilter, UiError> {
        let (from, to) = self.days()?;
        let until = match to {
            Some(t) => Some(midnight(
                t.tomorrow()
                    .map_err(|e| UiError::BadRequest(format!("to: {e}")))?,
                tz,
            )?),
            None => None,
        };
        Ok(CallFilter {
            vendor: text(&self.vendor)
                .map(|v| Vendor::lookup(&v))
                .transpose()
                .map_err(|e| UiError::BadRequest(format!("vendor: {e}")))?,
            source: text(&self.source),
            direction: parsed("direction", &self.direction)?,
            outcome: parsed("outcome", &self.outcome)?,
            task_id: text(&self.task_id),
            since: from.map(|d| midnight(d, tz)).transpose()?,
            until,
            search: text(&self.q),
            text: match crate::storage::search::TextQuery::parse(&self.text) {
                Ok(q) => q.map(|_| self.text.trim().to_owned()),
                Err(e) => return Err(UiError::BadRequest(format!("text: {e}"))),
            },
            ..Default::default()
        })
    }

    /// The non-empty fields as a URL query string (`a=1&b=2`, encoded).
    pub fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("text", &self.text),
            ("from", &self.from),
            ("to", &self.to),
            ("vendor", &self.vendor),
            ("source", &self.source),
            ("outcome", &self.outcome),
            ("direction", &self.direction),
            ("task_id", &self.task_id),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_a_filter_with_whole_days() {
        let f = FilterForm {
            from: "2025-06-01".into(),
            to: "2025-06-02".into(),
            vendor: "laaffic".into(),
            q: " 13900000001 ".into(),
            ..Default::default()
        };
        let c = f.call_filter().unwrap();
        assert_eq!(c.since.unwrap().to_string(), "2025-06-01T00:00:00Z");
        assert_eq!(c.until.unwrap().to_string(), "2025-06-03T00:00:00Z");
        assert_eq!(c.search.as_deref(), Some("13900000001"));
        assert_eq!(
            f.query(),
            "q=13900000001&from=2025-06-01&to=2025-06-02&vendor=laaffic"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = |f: FilterForm| f.call_filter().unwrap_err().to_string();
        let e = bad(FilterForm {
            vendor: "Acme Voice".into(),
            ..Default::default()
        });
        assert!(e.starts_with("vendor:"), "{e}");
        let e = bad(FilterForm {
            from: "06/01/2025".into(),
            ..Default::default()
        });
        assert!(e.contains("not a date"), "{e}");
        let e = bad(FilterForm {
            from: "2025-06-03".into(),
            to: "2025-06-01".into(),
            ..Default::default()
        });
        assert!(e.contains("after"), "{e}");
    }
}
