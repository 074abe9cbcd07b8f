//! The call-list filters as text (query-string parameters of
//! `GET /api/v1/calls` and `/api/v1/stats`, flags of `callhook export`),
//! checked one by one so a mistake names the parameter. One set of rules
//! and messages for the API and the command line.

use super::search::TextQuery;
use super::CallFilter;
use crate::domain::Vendor;
use jiff::Timestamp;
use std::str::FromStr;

/// The filters of the query API (docs/http-contract.md) as given, before parsing.
/// An empty string is the same as an absent value.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterText<'a> {
    pub vendor: Option<&'a str>,
    pub source: Option<&'a str>,
    pub direction: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub task_id: Option<&'a str>,
    pub out_id: Option<&'a str>,
    pub customer_number: Option<&'a str>,
    pub vendor_call_id: Option<&'a str>,
    /// RFC 3339, inclusive, on `started_at`.
    pub since: Option<&'a str>,
    /// RFC 3339, exclusive, on `started_at`.
    pub until: Option<&'a str>,
    /// `q`: one value matched exactly against the customer number,
    /// `out_id`, the vendor call id and the call id.
    pub search: Option<&'a str>,
    /// `text`: full-text search, a case-insensitive substring of the
    /// transcript, summaries, intent or tags (at most 200 characters).
    pub text: Option<&'a str>,
}

/// A filter value that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct FilterError {
    /// The parameter's API name (`since`, `task_id`, …).
    pub param: &'static str,
    /// What is wrong, without the name, e.g. "`x` is not an RFC 3339 time …".
    pub message: String,
}

impl FilterError {
    /// The message naming the command-line flag (`--task-id: …`) rather
    /// than the query parameter.
    pub fn for_flag(&self) -> String {
        format!("--{}: {}", self.param.replace('_', "-"), self.message)
    }
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

fn parsed<T: FromStr<Err = String>>(
    param: &'static str,
    v: Option<&str>,
) -> Result<Option<T>, FilterError> {
    present(v)
        .map(|s| T::from_str(s).map_err(|message| FilterError { param, message }))
        .transpose()
}

fn time(param: &'static str, v: Option<&str>) -> Result<Option<Timestamp>, FilterError> {
    present(v)
        .map(|s| {
            // An unencoded `+` of an offset arrives as a space: put it back.
            let plus = s.rsplit_once(' ').map(|(a, b)| format!("{a}+{b}"));
            Timestamp::from_str(s)
                .or_else(|e| plus.as_deref().map_or(Err(e), Timestamp::from_str))
                .map_err(|_| FilterError {
                    param,
                    message: format!("`{s}` is not an RFC 3339 time such as 2025-06-01T00:00:00Z"),
                })
        })
        .transpose()
}

fn owned(v: Option<&str>) -> Option<String> {
    present(v).map(str::to_owned)
}

impl FilterText<'_> {
    /// The filter. Errors: the first bad value, in the order of the
    /// fields; `since` after `until` is an error of `since`.
    pub fn parse(&self) -> Result<CallFilter, FilterError> {
        let f = CallFilter {
            vendor: present(self.vendor)
                .map(|s| {
                    Vendor::lookup(s).map_err(|message| FilterError {
                        param: "vendor",
                        message,
                    })
                })
                .transpose()?,
            source: owned(self.source),
            direction: parsed("direction", self.direction)?,
            outcome: parsed("outcome", self.outcome)?,
            task_id: owned(self.task_id),
            out_id: owned(self.out_id),
            customer_number: owned(self.customer_number),
            vendor_call_id: owned(self.vendor_call_id),
            since: time("since", self.since)?,
            until: time("until", self.until)?,
            search: owned(self.search),
            text: match present(self.text) {
                Some(t) => TextQuery::parse(t)
                    .map_err(|message| FilterError {
                        param: "text",
                        message,
                    })?
                    .map(|_| t.trim().to_owned()),
                None => None,
            },
        };
        if let (Some(s), Some(u)) = (f.since, f.until) {
            if s > u {
                return Err(FilterError {
                    param: "since",
                    message: "must not be after until".into(),
                });
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Vendor;

    #[test]
    fn values_parse_and_empty_means_absent() {
        let f = FilterText {
            vendor: Some("laaffic"),
            source: Some(""),
            since: Some("2025-06-01T08:00:00 08:00"),
            ..FilterText::default()
        }
        .parse()
        .unwrap();
        assert_eq!(f.vendor, Some(Vendor::Laaffic));
        assert_eq!(f.source, None);
        assert_eq!(f.since.unwrap().to_string(), "2025-06-01T00:00:00Z");
    }

    #[test]
    fn errors_name_the_parameter_and_the_flag() {
        let e = FilterText {
            task_id: Some("7"),
            until: Some("yesterday"),
            ..FilterText::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.param, "until");
        assert!(
            e.to_string().starts_with("until: `yesterday` is not"),
            "{e}"
        );
        let e = FilterText {
            outcome: Some("won"),
            ..FilterText::default()
        }
        .parse()
        .unwrap_err();
        assert!(e.for_flag().starts_with("--outcome: unknown outcome `won`"));
        let e = FilterText {
            since: Some("2025-06-02T00:00:00Z"),
            until: Some("2025-06-01T00:00:00Z"),
            ..FilterText::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.for_flag(), "--since: must not be after until");
        let e = FilterText {
            text: Some(&"字".repeat(201)),
            ..FilterText::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.for_flag(), "--text: at most 200 characters (got 201)");
        let f = FilterText {
            text: Some(" 退款 "),
            ..FilterText::default()
        };
        assert_eq!(f.parse().unwrap().text.as_deref(), Some("退款"));
    }
}
