//! Money as an exact decimal with its ISO 4217 currency; never a float.
//!
//! Amounts are bounded: a vendor amount whose magnitude is
//! [`AMOUNT_LIMIT`] (10^15) or more is not believed ([`check_amount`]; the
//! adapter warns and keeps the raw field in `vendor_fields`). Sums of
//! bounded amounts cannot overflow a decimal (about 7.9 × 10^28) before
//! 7.9 × 10^13 calls; sums are still taken with [`add_amounts`], which
//! saturates instead of panicking, for rows stored before the bound.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// No call costs a quadrillion in any currency: amounts of this magnitude
/// or more are refused by [`check_amount`]. 10^15.
pub const AMOUNT_LIMIT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

/// `amount` when its magnitude is below [`AMOUNT_LIMIT`].
///
/// Errors: a message quoting the amount (for the record's warnings).
pub fn check_amount(amount: Decimal) -> Result<Decimal, String> {
    if amount.abs() < AMOUNT_LIMIT {
        Ok(amount)
    } else {
        Err(format!(
            "amount {amount} is out of range: its magnitude must be below 10^15"
        ))
    }
}

/// `a + b`, saturating at the decimal's bounds instead of panicking (the
/// std `+` of `Decimal` panics on overflow).
pub fn add_amounts(a: Decimal, b: Decimal) -> Decimal {
    a.checked_add(b).unwrap_or_else(|| a.saturating_add(b))
}

/// A sum read back from a database as decimal text. A plain decimal number
/// too large for [`Decimal`] (a database sum of amounts stored before
/// [`AMOUNT_LIMIT`]) saturates to [`Decimal::MAX`] or [`Decimal::MIN`].
///
/// Errors: a message for text that is not a decimal number at all.
pub fn parse_sum(text: &str) -> Result<Decimal, String> {
    if let Ok(d) = Decimal::from_str(text) {
        return Ok(d);
    }
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let numeric = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    match numeric {
        true if t.starts_with('-') => Ok(Decimal::MIN),
        true => Ok(Decimal::MAX),
        false => Err(format!("`{text}` is not a decimal")),
    }
}

/// An amount of money. JSON: `{"amount": "0.10", "currency": "USD"}`;
/// `amount` is a decimal string so no consumer can read it as a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// The exact amount as a decimal string, e.g. `"0.10"`.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "0.10")]
    pub amount: Decimal,
    /// ISO 4217 code, upper case (`USD`, `EUR`, `CNY`).
    #[schema(example = "USD")]
    pub currency: String,
}

impl Money {
    /// Builds money from an amount and a currency code (upper-cased here).
    pub fn new(amount: Decimal, currency: &str) -> Money {
        Money {
            amount,
            currency: currency.trim().to_ascii_uppercase(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_ten_to_the_fifteenth() {
        assert_eq!(AMOUNT_LIMIT, Decimal::from(1_000_000_000_000_000_i64));
        assert!(check_amount("999999999999999.99".parse().unwrap()).is_ok());
        assert!(check_amount("-999999999999999.99".parse().unwrap()).is_ok());
        assert!(check_amount(AMOUNT_LIMIT).is_err());
        assert!(check_amount(-AMOUNT_LIMIT).is_err());
        let e = check_amount(Decimal::from_scientific("5e28").unwrap()).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn sums_saturate_and_oversized_sums_read_back_saturated() {
        assert_eq!(add_amounts(Decimal::MAX, Decimal::ONE), Decimal::MAX);
        assert_eq!(add_amounts(Decimal::MIN, -Decimal::ONE), Decimal::MIN);
        assert_eq!(add_amounts(Decimal::ONE, Decimal::ONE), Decimal::TWO);
        assert_eq!(parse_sum("0.30").unwrap().to_string(), "0.30");
        assert_eq!(
            parse_sum("100000000000000000000000000000").unwrap(),
            Decimal::MAX
        );
        assert_eq!(
            parse_sum("-100000000000000000000000000000.5").unwrap(),
            Decimal::MIN
        );
        assert!(parse_sum("abc").is_err());
        assert!(parse_sum("").is_err());
    }
}
