//! The canonical call model (docs/call-model.md): every vendor
//! push becomes [`CallUpdate`]s that merge into one [`Call`] per
//! `(vendor, vendor_call_id)`. Pure data and rules: no I/O, no clock.

mod call;
mod enums;
mod event;
pub mod link_expiry;
mod merge;
pub mod money;
mod recording;
mod update;
mod vendor;

pub use call::{Analysis, AnalysisKind, Call, InspectionItem, Intent, Region, Turn};
pub use enums::{Direction, HangupBy, Outcome, SourceKind, Speaker, Vendor};
pub use event::EventType;
pub use merge::{call_id_for, Change};
pub use money::Money;
pub use recording::{Recording, RecordingStatus};
pub use update::{CallPatch, CallUpdate};
