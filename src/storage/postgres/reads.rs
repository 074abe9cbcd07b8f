//! Read queries on PostgreSQL, answering exactly as the SQLite backend does
//! (same orders, `NULL` keys first in stats, money summed as decimals).

use crate::domain::Call;
use crate::storage::columns::decode;
use crate::storage::doc_codec::json_of_bytes;
use crate::storage::filter::{Conditions, Dialect, Param};
use crate::storage::rollup::{CallFolder, Dim, RollupRow};
use crate::storage::shared::{from_ms, receipt_issues};
use crate::storage::{
    CallCursor, CallDetail, CallFilter, Page, PageRequest, Receipt, ReceiptFilter, ReceiptRef,
    ReceiptStatus, ReceiptSummary, StoreError,
};

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// `WHERE …` with `$n` placeholders from `first`, and its parameters.
pub(super) fn where_clause(conds: &Conditions, first: usize) -> (String, Params) {
    let (wh, params) = conds.render(first, |n| format!("${n}"));
    let params = params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                Param::Text(t) => Box::new(t),
                Param::Int(i) => Box::new(i),
            }
        })
        .collect();
    (wh, params)
}

pub(super) fn refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

pub async fn list_calls(
    c: &Client,
    filter: &CallFilter,
    page: &PageRequest,
) -> Result<Page<Call>, StoreError> {
    let mut conds = Conditions::of_calls(filter, Dialect::Postgres);
    if let Some(cur) = &page.cursor {
        conds.after_call(cur)?;
    }
    let (wh, mut params) = where_clause(&conds, 1);
    let n = params.len() + 1;
    params.push(Box::new(page.limit as i64 + 1));
    let sql = format!("SELECT doc FROM calls {wh} ORDER BY started_at DESC, id DESC LIMIT ${n}");
    let rows = c.query(&sql, &refs(&params)).await?;
    let mut items = rows
        .iter()
        .map(|r| decode::<Call>(&json_of_bytes(r.get(0))?))
        .collect::<Result<Vec<_>, _>>()?;
    super::recordings::fill(c, &mut items).await?;
    Ok(Page::from_overfetch(items, page.limit, |c| {
        CallCursor {
            started_at_ms: c.started_at.as_millisecond(),
            id: c.id.clone(),
        }
        .encode()
    }))
}

pub async fn get_call(c: &Client, id: &str) -> Result<Option<CallDetail>, StoreError> {
    let Some(row) = c
        .query_opt("SELECT doc FROM calls WHERE id = $1", &[&id])
        .await?
    else {
        return Ok(None);
    };
    let mut call: Call = decode(&json_of_bytes(row.get(0))?)?;
    super::recordings::fill(c, std::slice::from_mut(&mut call)).await?;
    let rows = c
        .query(
            "SELECT r.id, r.source, r.received_at, r.status FROM call_receipts cr
             JOIN receipts r ON r.id = cr.receipt_id WHERE cr.call_id = $1 ORDER BY r.id",
            &[&id],
        )
        .await?;
    let receipts = rows
        .iter()
        .map(|r| {
            Ok(ReceiptRef {
                id: r.get(0),
                source: r.get(1),
                received_at: from_ms(r.get(2))?,
                status: decode(r.get(3))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(CallDetail { call, receipts }))
}

/// The calls matching `filter` folded into rollup rows keyed by `dims`
/// (hours and days in `tz`): [`crate::storage::Store::scan_rollup_in`].
/// Streams the matching documents through the filter's indexes.
///
/// Errors: [`StoreError::Unavailable`], [`StoreError::Corrupt`] for a
/// document that does not decode.
pub async fn scan_rollup(
    c: &Client,
    dims: &[Dim],
    filter: &CallFilter,
    tz: &jiff::tz::TimeZone,
) -> Result<Vec<RollupRow>, StoreError> {
    use futures::TryStreamExt;
    let (wh, params) = where_clause(&Conditions::of_calls(filter, Dialect::Postgres), 1);
    let sql = format!("SELECT doc FROM calls {wh}");
    let stream = c
        .query_raw(
            &sql,
            params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)),
        )
        .await?;
    futures::pin_mut!(stream);
    let mut folder = CallFolder::new(dims, tz);
    while let Some(r) = stream.try_next().await? {
        let call: Call = decode(&json_of_bytes(r.get(0))?)?;
        folder.add(&call);
    }
    Ok(folder.finish())
}

const RECEIPT_COLUMNS: &str =
    "id, source, kind, received_at, remote_addr, sha256, status, record_count,
    errors, warnings, replay_count, replayed_at, COALESCE(body_bytes, length(body))::BIGINT";

fn receipt_summary(r: &Row) -> Result<ReceiptSummary, StoreError> {
    Ok(ReceiptSummary {
        id: r.get(0),
        source: r.get(1),
        kind: decode(r.get(2))?,
        received_at: from_ms(r.get(3))?,
        remote_addr: r.get(4),
        sha256: r.get(5),
        status: decode(r.get(6))?,
        record_count: r.get::<_, i64>(7) as usize,
        errors: receipt_issues(r.get(8))?,
        warnings: receipt_issues(r.get(9))?,
        replay_count: r.get::<_, i64>(10) as u32,
        replayed_at: r.get::<_, Option<i64>>(11).map(from_ms).transpose()?,
        body_bytes: r.get::<_, i64>(12) as usize,
    })
}

pub async fn list_receipts(
    c: &Client,
    filter: &ReceiptFilter,
    page: &PageRequest,
) -> Result<Page<ReceiptSummary>, StoreError> {
    let mut conds = crate::storage::page_reads::receipt_conditions(filter, true);
    if let Some(cur) = &page.cursor {
        conds.push("id < ?", [Param::Text(cur.clone())]);
    }
    let (wh, mut params) = where_clause(&conds, 1);
    let n = params.len() + 1;
    params.push(Box::new(page.limit as i64 + 1));
    let sql = format!("SELECT {RECEIPT_COLUMNS} FROM receipts {wh} ORDER BY id DESC LIMIT ${n}");
    let rows = c.query(&sql, &refs(&params)).await?;
    let items = rows
        .iter()
        .map(receipt_summary)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit, |r| r.id.clone()))
}

pub async fn get_receipt(c: &Client, id: &str) -> Result<Option<Receipt>, StoreError> {
    let sql = format!("SELECT {RECEIPT_COLUMNS}, body, body_codec FROM receipts WHERE id = $1");
    let Some(r) = c.query_opt(&sql, &[&id]).await? else {
        return Ok(None);
    };
    let summary = receipt_summary(&r)?;
    let codec = crate::storage::BodyCodec::from_column(r.get::<_, i16>(14) as i64)?;
    let body = crate::storage::unpack_body(codec, r.get(13), summary.body_bytes)?;
    Ok(Some(Receipt { summary, body }))
}

pub async fn receipt_ids(
    c: &Client,
    status: Option<ReceiptStatus>,
) -> Result<Vec<String>, StoreError> {
    let rows = match status {
        Some(s) => {
            c.query(
                "SELECT id FROM receipts WHERE status = $1 ORDER BY id",
                &[&s.as_str()],
            )
            .await
        }
        None => c.query("SELECT id FROM receipts ORDER BY id", &[]).await,
    }?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// [`crate::storage::Store::projection_lag`], from the partial index of
/// pending receipts.
///
/// Errors: [`StoreError::Unavailable`], [`StoreError::Corrupt`].
pub async fn projection_lag(c: &Client) -> Result<crate::storage::ProjectionLag, StoreError> {
    let r = c
        .query_one(
            "SELECT count(*), COALESCE(SUM(record_count), 0)::BIGINT, MIN(received_at)
             FROM receipts WHERE status = 'pending'",
            &[],
        )
        .await?;
    let oldest: Option<i64> = r.get(2);
    Ok(crate::storage::ProjectionLag {
        pending_receipts: r.get::<_, i64>(0) as u64,
        pending_records: r.get::<_, i64>(1) as u64,
        oldest_pending_at: oldest.map(from_ms).transpose()?,
    })
}
