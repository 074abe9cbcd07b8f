//! Exact decimal arithmetic inside SQLite, which has no decimal type: money
//! is kept as decimal text, and `dec_add(a, b)` / the aggregate `dec_sum(x)`
//! add it with `rust_decimal` instead of SQLite's floats. Registered on
//! every connection ([`register`]); the rollups (`rollup.rs`) use them.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Registers `dec_add` and `dec_sum` on `conn`.
///
/// Errors: SQLite's, if a function cannot be registered.
pub fn register(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("dec_add", 2, flags, |ctx| {
        let sum = arg(ctx, 0)?.saturating_add(arg(ctx, 1)?);
        Ok(sum.to_string())
    })?;
    conn.create_aggregate_function("dec_sum", 1, flags, DecSum)
}

/// Argument `i` as a decimal: NULL is 0; text or a number must be a decimal.
///
/// Errors: [`Error::UserFunctionError`] naming the value that is not one.
fn arg(ctx: &Context<'_>, i: usize) -> Result<Decimal> {
    let text = match ctx.get_raw(i) {
        ValueRef::Null => return Ok(Decimal::ZERO),
        ValueRef::Integer(v) => return Ok(Decimal::from(v)),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Real(v) => v.to_string(),
        ValueRef::Blob(_) => return Err(Error::UserFunctionError("dec: a blob".into())),
    };
    Decimal::from_str(&text).map_err(|e| {
        Error::UserFunctionError(format!("dec: `{text}` is not a decimal: {e}").into())
    })
}

struct DecSum;

impl Aggregate<Decimal, String> for DecSum {
    fn init(&self, _: &mut Context<'_>) -> Result<Decimal> {
        Ok(Decimal::ZERO)
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Decimal) -> Result<()> {
        *acc = acc.saturating_add(arg(ctx, 0)?);
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<Decimal>) -> Result<String> {
        Ok(acc.unwrap_or_default().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_sums_exactly() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let add: String = c
            .query_row("SELECT dec_add('0.1', '0.2')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(add, "0.3");
        let null: String = c
            .query_row("SELECT dec_add(NULL, '-0.0400')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, "-0.0400");
        c.execute_batch(
            "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('0.1'), ('0.1'), ('0.1'), (NULL);",
        )
        .unwrap();
        let sum: String = c
            .query_row("SELECT dec_sum(x) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sum, "0.3");
        let empty: String = c
            .query_row("SELECT dec_sum(x) FROM t WHERE 0", [], |r| r.get(0))
            .unwrap();
        assert_eq!(empty, "0");
    }

    #[test]
    fn a_value_that_is_not_a_decimal_is_an_error() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let e = c
            .query_row("SELECT dec_add('abc', '1')", [], |r| r.get::<_, String>(0))
            .unwrap_err();
        assert!(e.to_string().contains("`abc` is not a decimal"), "{e}");
    }
}
