//! Outbound event types (docs/http-contract.md): what a push did
//! to a call, as subscribers and the NATS stream see it.

use super::Change;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The `type` of an outbound event.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum EventType {
    /// The call was unknown before, whichever message made it known.
    #[serde(rename = "call.created")]
    Created,
    /// Fields of a known call changed.
    #[serde(rename = "call.updated")]
    Updated,
    /// The push added or replaced an analysis of a known call.
    #[serde(rename = "call.analyzed")]
    Analyzed,
}

impl EventType {
    /// Every type, in the order the README's Interfaces lists them.
    pub const ALL: [EventType; 3] = [EventType::Created, EventType::Updated, EventType::Analyzed];

    /// The wire name: `call.created`, `call.updated`, `call.analyzed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "call.created",
            EventType::Updated => "call.updated",
            EventType::Analyzed => "call.analyzed",
        }
    }

    /// The event a merge result makes; `None` for [`Change::Unchanged`]
    /// (a duplicate makes no event).
    pub fn for_change(change: Change) -> Option<EventType> {
        match change {
            Change::Created => Some(EventType::Created),
            Change::Updated => Some(EventType::Updated),
            Change::Analyzed => Some(EventType::Analyzed),
            Change::Unchanged => None,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = String;
    /// Parses the wire name; the error lists the accepted values.
    fn from_str(s: &str) -> Result<EventType, String> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!("unknown event type `{s}` (expected call.created, call.updated or call.analyzed)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_duplicates_make_no_event() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!("call.deleted"
            .parse::<EventType>()
            .unwrap_err()
            .contains("call.analyzed"));
        assert_eq!(EventType::for_change(Change::Unchanged), None);
        assert_eq!(
            EventType::for_change(Change::Analyzed),
            Some(EventType::Analyzed)
        );
    }
}
