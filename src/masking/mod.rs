//! Customer phone numbers hidden wherever a person reads them
//! (`mask_numbers = true`, `callhook export --mask-numbers`).
//!
//! **What is masked**: a call's `customer_number`, and every occurrence of
//! that raw number in the call's other vendor-given text (transcript,
//! analyses, tags, URLs, `vendor_fields`, object keys included). The
//! business's own `line_number` and the fields callhook makes itself
//! ([`KEPT`]: ids, enums, times) are never changed. Text whose numbers are
//! not known (a rejected push's raw body, a logged query string) has every
//! run of 7 to 15 ASCII digits masked instead ([`mask_phone_like`]).
//!
//! **How** ([`mask_number`], counted in characters, length unchanged):
//! more than 7 characters keep the first 3 and the last 4
//! (`13812345678` → `138****5678`); 3 to 7 keep only the last 2
//! (`10086` → `***86`); 1 or 2 become all `*`; an empty string stays empty.
//!
//! **Who uses it**: the exports (`crate::export`: CSV and Parquet cells,
//! NDJSON documents, through a [`Masker`] per call); the dashboard
//! (`crate::http::ui`: the calls table, a call's page via [`mask_call`],
//! the receipts' raw bodies and errors via [`mask_phone_like`]); and the
//! request log (`crate::telemetry::request_id::redacted`: query values).
//! The JSON API and outbound events keep numbers whole. This module
//! depends only on the domain model: no I/O, no clock.

mod number;
mod view;

pub use number::{mask_number, Masker, KEPT};
pub use view::{mask_call, mask_phone_like};
