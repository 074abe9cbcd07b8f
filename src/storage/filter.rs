//! The `WHERE` clause of the call list and the stats, shared by both
//! backends: conditions written with `?` for each parameter, rendered with
//! the backend's placeholder (`?` for SQLite, `$n` for PostgreSQL).

use super::search::TextQuery;
use super::{CallCursor, CallFilter, StoreError};
use crate::domain::{call_id_for, Vendor};

/// A parameter value of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// Which database the conditions are for: only full-text search
/// (`CallFilter::text`) is written differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// FTS5 `trigram` table `call_fts` over `call_text`. `walk`: the query
    /// matches many calls, so check each call in list order (the page fills
    /// after a few) rather than collect every match first; see
    /// `sqlite::reads::common_text`.
    Sqlite { walk: bool },
    /// `pg_trgm` GIN index on `call_text.body`.
    Postgres,
}

/// Conditions joined by `AND`, each with its `?` parameters in order.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    parts: Vec<String>,
    params: Vec<Param>,
}

impl Conditions {
    /// Adds `sql` (with one `?` per value of `params`).
    pub fn push(&mut self, sql: &str, params: impl IntoIterator<Item = Param>) {
        self.parts.push(sql.to_owned());
        self.params.extend(params);
    }

    /// The conditions of `filter` (docs/http-contract.md): equality on
    /// the indexed columns, `vendor_call_id` through the call id (a hash of
    /// vendor and vendor call id, so the primary key finds it), `search`
    /// as any of those (each indexed), `since ≤ started_at < until`, and
    /// `text` through the search index of `dialect` ([`Conditions::push_text`]).
    pub fn of_calls(filter: &CallFilter, dialect: Dialect) -> Conditions {
        let mut c = Conditions::default();
        let mut eq = |col: &str, v: Option<String>| {
            if let Some(v) = v {
                c.push(&format!("{col} = ?"), [Param::Text(v)]);
            }
        };
        eq("vendor", filter.vendor.map(|v| v.as_str().to_owned()));
        eq("source", filter.source.clone());
        eq("direction", filter.direction.map(|v| v.as_str().to_owned()));
        eq("outcome", filter.outcome.map(|v| v.as_str().to_owned()));
        eq("task_id", filter.task_id.clone());
        eq("out_id", filter.out_id.clone());
        eq("customer_number", filter.customer_number.clone());
        if let Some(vcid) = &filter.vendor_call_id {
            let vendors = match filter.vendor {
                Some(v) => vec![v],
                // Every vendor this process knows: the built-in ones and
                // the configured mapped sources' (a call id is a hash of both).
                None => Vendor::known(),
            };
            let marks = vec!["?"; vendors.len()].join(", ");
            let ids = vendors
                .into_iter()
                .map(|v| Param::Text(call_id_for(v, vcid)));
            c.push(&format!("id IN ({marks})"), ids);
        }
        if let Some(q) = &filter.search {
            let ids: Vec<Param> = Vendor::known()
                .into_iter()
                .map(|v| Param::Text(call_id_for(v, q)))
                .chain([Param::Text(q.clone())])
                .collect();
            let marks = vec!["?"; ids.len()].join(", ");
            let params = [Param::Text(q.clone()), Param::Text(q.clone())]
                .into_iter()
                .chain(ids);
            c.push(
                &format!("(customer_number = ? OR out_id = ? OR id IN ({marks}))"),
                params,
            );
        }
        if let Some(t) = filter.text.as_deref().and_then(TextQuery::lenient) {
            c.push_text(&t, dialect);
        }
        if let Some(t) = filter.since {
            c.push("started_at >= ?", [Param::Int(t.as_millisecond())]);
        }
        if let Some(t) = filter.until {
            c.push("started_at < ?", [Param::Int(t.as_millisecond())]);
        }
        c
    }

    /// Adds the full-text condition `q` (folded text of `call_text`, kept
    /// by the projector). SQLite: an FTS5 trigram phrase for queries of 3
    /// characters or more that match few calls, else `instr` over each
    /// candidate call's text (a walk in list order, stopping at the page's
    /// end: quick when matches are common, a scan when they are rare). PostgreSQL: `LIKE` on the
    /// folded text, which the `pg_trgm` GIN index answers for 3 characters
    /// or more.
    pub fn push_text(&mut self, q: &TextQuery, dialect: Dialect) {
        match dialect {
            Dialect::Sqlite { walk: false } if q.indexed() => self.push(
                "calls.id IN (SELECT t.call_id FROM call_text t WHERE t.id IN
                    (SELECT rowid FROM call_fts WHERE call_fts MATCH ?))",
                [Param::Text(q.fts5_phrase())],
            ),
            // Short queries, and common ones (`walk`): each candidate call's
            // folded text is read in list order (`instr` costs microseconds;
            // an FTS5 lookup per call costs a seek per trigram and segment).
            Dialect::Sqlite { .. } => self.push(
                "EXISTS (SELECT 1 FROM call_text t WHERE t.call_id = calls.id
                    AND instr(t.body, ?) > 0)",
                [Param::Text(q.folded().to_owned())],
            ),
            Dialect::Postgres => self.push(
                "calls.id IN (SELECT t.call_id FROM call_text t WHERE t.body LIKE ?)",
                [Param::Text(q.like_pattern())],
            ),
        }
    }

    /// Adds the position after `cursor` in the newest-first call order.
    /// The leading `started_at <= ?` says nothing new but lets both
    /// databases start the `calls_by_started` index at the cursor: with
    /// the `OR` alone they scan it from the newest call, so each page cost
    /// as much as all the pages before it.
    ///
    /// Errors: [`StoreError::Corrupt`] for a cursor callhook did not make
    /// (the API checks cursors before they reach the store).
    pub fn after_call(&mut self, cursor: &str) -> Result<(), StoreError> {
        let c = CallCursor::decode(cursor).map_err(|e| StoreError::corrupt("cursor", e))?;
        self.push(
            "started_at <= ? AND (started_at < ? OR (started_at = ? AND id < ?))",
            [
                Param::Int(c.started_at_ms),
                Param::Int(c.started_at_ms),
                Param::Int(c.started_at_ms),
                Param::Text(c.id),
            ],
        );
        Ok(())
    }

    /// `WHERE …` (empty without conditions) with each `?` replaced by
    /// `mark(n)` (`n` from `first`), and the parameters in order.
    pub fn render(&self, first: usize, mark: impl Fn(usize) -> String) -> (String, Vec<Param>) {
        if self.parts.is_empty() {
            return (String::new(), self.params.clone());
        }
        let joined = self.parts.join(" AND ");
        let mut sql = String::with_capacity(joined.len() + 8);
        let mut n = first;
        for ch in joined.chars() {
            if ch == '?' {
                sql.push_str(&mark(n));
                n += 1;
            } else {
                sql.push(ch);
            }
        }
        (format!("WHERE {sql}"), self.params.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_render_with_either_placeholder_style() {
        let filter = CallFilter {
            vendor: Some(Vendor::Itnio),
            vendor_call_id: Some("c-1".into()),
            since: Some(jiff::Timestamp::from_millisecond(1_000).unwrap()),
            ..Default::default()
        };
        let c = Conditions::of_calls(&filter, Dialect::Sqlite { walk: false });
        let (sqlite, params) = c.render(1, |_| "?".into());
        assert_eq!(sqlite, "WHERE vendor = ? AND id IN (?) AND started_at >= ?");
        let (pg, _) = c.render(1, |n| format!("${n}"));
        assert_eq!(pg, "WHERE vendor = $1 AND id IN ($2) AND started_at >= $3");
        assert_eq!(
            params,
            [
                Param::Text("itnio".into()),
                Param::Text(call_id_for(Vendor::Itnio, "c-1")),
                Param::Int(1_000)
            ]
        );
        assert_eq!(Conditions::default().render(1, |_| "?".into()).0, "");
        let all = Conditions::of_calls(
            &CallFilter {
                vendor_call_id: Some("x".into()),
                ..Default::default()
            },
            Dialect::Sqlite { walk: false },
        );
        // Other tests may make more vendors known meanwhile: at least the built-in ones.
        let ids = all.render(1, |_| "?".into()).1;
        assert!(ids.len() >= Vendor::ALL.len());
        for v in Vendor::ALL {
            assert!(ids.contains(&Param::Text(call_id_for(*v, "x"))), "{v}");
        }
        let search = Conditions::of_calls(
            &CallFilter {
                search: Some("138".into()),
                ..Default::default()
            },
            Dialect::Sqlite { walk: false },
        );
        let (sql, params) = search.render(1, |_| "?".into());
        assert!(
            sql.starts_with("WHERE (customer_number = ? OR out_id = ? OR id IN (?"),
            "{sql}"
        );
        assert!(params.len() > 2 + Vendor::ALL.len());
        assert_eq!(params.last(), Some(&Param::Text("138".into())));
    }
}
