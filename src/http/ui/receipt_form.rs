//! The receipts page's filters: the status tab, the source and the
//! received dates (`from`/`to`, UTC days, both included), as typed (empty
//! means "all"), turned into a [`ReceiptFilter`] and back into the query
//! string that tabs, *Next page* and bulk replay carry.

use super::filters::{date, midnight};
use super::UiError;
use crate::storage::{ReceiptFilter, ReceiptStatus};
use serde::Deserialize;

/// The status tabs: query value and label (rejected first, the default).
pub const TABS: [(&str, &str); 5] = [
    ("rejected", "Rejected"),
    ("partial", "Partial"),
    ("accepted", "Accepted"),
    ("duplicate", "Duplicate"),
    ("all", "All"),
];

/// The form's fields; `status` empty is the first tab (`rejected`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReceiptsForm {
    pub status: String,
    pub source: String,
    pub from: String,
    pub to: String,
}

impl ReceiptsForm {
    /// The tab shown: `status`, or `rejected` when empty.
    pub fn tab(&self) -> &str {
        match self.status.trim() {
            "" => "rejected",
            s => s,
        }
    }

    /// The store filter: the tab's status (none for `all`), the source,
    /// the start of `from` inclusive to the start of the day after `to`
    /// exclusive, days in the display zone ([`super::zone::current`]).
    /// Errors: 400 naming the first bad field.
    pub fn filter(&self) -> Result<ReceiptFilter, UiError> {
        let status = match self.tab() {
            "all" => None,
            s => Some(
                ReceiptStatus::parse(s).map_err(|e| UiError::BadRequest(format!("status: {e}")))?,
            ),
        };
        let (from, to) = (date("from", &self.from)?, date("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(UiError::BadRequest("from: must not be after to".into()));
            }
        }
        let tz = super::zone::current();
        let until = match to {
            Some(t) => Some(midnight(
                t.tomorrow()
                    .map_err(|e| UiError::BadRequest(format!("to: {e}")))?,
                &tz,
            )?),
            None => None,
        };
        Ok(ReceiptFilter {
            status,
            source: Some(self.source.trim().to_owned()).filter(|s| !s.is_empty()),
            since: from.map(|d| midnight(d, &tz)).transpose()?,
            until,
        })
    }

    /// The non-empty fields as a query string, with the status `status`
    /// (a tab's link) or the form's own (`None`).
    pub fn query(&self, status: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("status", status.unwrap_or(self.tab()));
        for (k, v) in [
            ("source", &self.source),
            ("from", &self.from),
            ("to", &self.to),
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
    fn the_form_becomes_a_filter_of_whole_days() {
        let f = ReceiptsForm {
            status: "partial".into(),
            source: " shop ".into(),
            from: "2025-06-01".into(),
            to: "2025-06-02".into(),
        };
        let r = f.filter().unwrap();
        assert_eq!(r.status, Some(ReceiptStatus::Partial));
        assert_eq!(r.source.as_deref(), Some("shop"));
        assert_eq!(r.since.unwrap().to_string(), "2025-06-01T00:00:00Z");
        assert_eq!(r.until.unwrap().to_string(), "2025-06-03T00:00:00Z");
        assert_eq!(
            f.query(Some("all")),
            "status=all&source=shop&from=2025-06-01&to=2025-06-02"
        );
        let all = ReceiptsForm::default();
        assert_eq!(all.tab(), "rejected");
        assert_eq!(all.query(None), "status=rejected");
        let every = ReceiptsForm {
            status: "all".into(),
            ..Default::default()
        };
        assert_eq!(every.filter().unwrap().status, None);
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = |f: ReceiptsForm| f.filter().unwrap_err().to_string();
        assert!(bad(ReceiptsForm {
            status: "lost".into(),
            ..Default::default()
        })
        .starts_with("status:"));
        assert!(bad(ReceiptsForm {
            to: "June".into(),
            ..Default::default()
        })
        .contains("not a date"));
        assert!(bad(ReceiptsForm {
            from: "2025-06-03".into(),
            to: "2025-06-01".into(),
            ..Default::default()
        })
        .contains("after"));
    }
}
