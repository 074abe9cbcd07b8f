//! What one vendor record says about one call: the adapters' output.

use super::{Analysis, Direction, HangupBy, Intent, Money, Outcome, Region, Turn, Vendor};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Values for a call's scalar fields; `None` means "this record does not say".
/// Field meanings and units as in [`super::Call`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallPatch {
    pub out_id: Option<String>,
    pub task_id: Option<String>,
    pub batch_id: Option<String>,
    pub script_id: Option<String>,
    pub task_name: Option<String>,
    pub customer_number: Option<String>,
    pub line_number: Option<String>,
    pub outcome: Option<Outcome>,
    pub vendor_status: Option<String>,
    pub hangup_by: Option<HangupBy>,
    pub originated_at: Option<Timestamp>,
    pub ringing_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub ring_seconds: Option<i64>,
    pub talk_seconds: Option<i64>,
    pub billed_seconds: Option<i64>,
    pub cost: Option<Money>,
    pub intent: Option<Intent>,
    pub tags: Option<Vec<String>>,
    pub recording_url: Option<String>,
    pub region: Option<Region>,
    pub turns: Option<Vec<Turn>>,
}

/// One vendor record's contribution to a call, keyed by `(vendor, vendor_call_id)`.
///
/// `set` values win over stored ones; `fill` values are used only where the
/// stored call has none (Alibaba call notes repeat the callee and `out_id`,
/// but the call report is authoritative, whichever arrives first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallUpdate {
    pub vendor: Vendor,
    pub vendor_call_id: String,
    pub direction: Direction,
    pub set: CallPatch,
    pub fill: CallPatch,
    /// Analyses to add (or to replace the same report, see [`Analysis::same_report`]).
    pub analyses: Vec<Analysis>,
    /// Unmapped vendor fields; each key overwrites the stored key.
    pub vendor_fields: Map<String, Value>,
}

impl CallUpdate {
    /// An update that says nothing yet about the call `vendor_call_id`.
    pub fn new(vendor: Vendor, vendor_call_id: String, direction: Direction) -> CallUpdate {
        CallUpdate {
            vendor,
            vendor_call_id,
            direction,
            set: CallPatch::default(),
            fill: CallPatch::default(),
            analyses: Vec::new(),
            vendor_fields: Map::new(),
        }
    }
}
