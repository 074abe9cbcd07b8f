//! The search text of calls on SQLite (`call_text`, indexed by the FTS5
//! trigram table `call_fts` through triggers; schema migration "full-text
//! search").

use super::rows::stored_call;
use crate::domain::Call;
use crate::storage::doc_codec::StoredDoc;
use crate::storage::search::index_text;
use crate::storage::StoreError;
use rusqlite::{params, Connection};

/// Writes `call`'s search text (the projector, in its transaction). An
/// unchanged text is not written again, so the index is only touched when
/// the transcript, analyses, intent or tags change.
///
/// Errors: [`StoreError::Unavailable`] when the statement fails.
pub fn upsert_text(conn: &Connection, call: &Call) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO call_text (call_id, body) VALUES (?1, ?2)
         ON CONFLICT (call_id) DO UPDATE SET body = excluded.body WHERE body != excluded.body",
    )
    .and_then(|mut s| s.execute(params![call.id, index_text(call)]))?;
    Ok(())
}

/// Fills `call_text` from every stored call (the migration that creates
/// it); returns how many calls were written.
///
/// Errors: the SQLite error, or a document that cannot be read (as
/// `rusqlite::Error::UserFunctionError`): the migration then applies nothing.
pub fn fill(tx: &Connection) -> rusqlite::Result<usize> {
    let mut read = tx.prepare("SELECT doc FROM calls")?;
    let mut write =
        tx.prepare("INSERT OR REPLACE INTO call_text (call_id, body) VALUES (?1, ?2)")?;
    let mut rows = read.query([])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let doc: StoredDoc = row.get(0)?;
        let call = stored_call(doc).map_err(|e: StoreError| {
            rusqlite::Error::UserFunctionError(format!("filling call_text: {e}").into())
        })?;
        write.execute(params![call.id, index_text(&call)])?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{CallFilter, PageRequest};

    fn call(n: usize, text: &str, at: &str) -> Call {
        serde_json::from_value(serde_json::json!({
            "id": format!("c{n}"), "vendor": "itnio", "source": "s", "vendor_call_id": format!("v{n}"),
            "direction": "outbound", "outcome": "answered", "vendor_status": "", "hangup_by": "unknown",
            "started_at": at, "tags": [], "turns": [{"speaker": "customer", "text": text}],
            "analyses": [], "vendor_fields": {}, "first_received_at": at, "updated_at": at
        }))
        .unwrap()
    }

    /// Lists by `text`: the vendor call ids, newest first.
    fn listed(conn: &Connection, text: &str) -> Vec<String> {
        let filter = CallFilter {
            text: Some(text.into()),
            ..Default::default()
        };
        let page = PageRequest {
            limit: 10,
            cursor: None,
        };
        super::super::reads::list_calls(conn, &filter, &page)
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.vendor_call_id)
            .collect()
    }

    #[test]
    fn common_rare_and_short_queries_list_the_same_calls() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::configure(&conn).unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let calls = [
            call(1, "我想申请退款", "2025-06-01T00:00:00Z"),
            call(2, "申请退款，谢谢", "2025-06-03T00:00:00Z"),
            call(3, "请问多少钱", "2025-06-02T00:00:00Z"),
        ];
        for c in &calls {
            super::super::rows::upsert_call(&conn, c, &serde_json::to_string(c).unwrap(), 1)
                .unwrap();
            upsert_text(&conn, c).unwrap();
        }
        // Two matches: the walk in list order; one: the matches collected.
        assert_eq!(listed(&conn, "申请退款"), ["v2", "v1"]);
        assert_eq!(listed(&conn, "多少钱"), ["v3"]);
        assert_eq!(listed(&conn, "退款"), ["v2", "v1"]);
        assert!(listed(&conn, "退款了").is_empty());
        // A changed text replaces the old one in the index.
        let changed = call(1, "取消订单", "2025-06-01T00:00:00Z");
        upsert_text(&conn, &changed).unwrap();
        assert_eq!(listed(&conn, "申请退款"), ["v2"]);
        assert_eq!(listed(&conn, "取消订单"), ["v1"]);
    }
}
