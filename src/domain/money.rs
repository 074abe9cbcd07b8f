//! Money as an exact decimal with its ISO 4217 currency; never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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
