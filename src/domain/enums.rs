//! Closed vocabularies of the canonical model: vendors, source kinds,
//! directions, outcomes, who hung up, who spoke.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use super::vendor::Vendor;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name, as used in JSON, URLs and the store.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            /// Parses the wire name; the error lists the accepted values.
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} `{}` (expected one of: {})",
                        stringify!($name).to_lowercase(),
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum! {
    /// A kind of push message; each has one adapter (docs/http-contract.md).
    SourceKind {
        /// `AlicomAgentCallReport` (vendor doc 001): JSON array of call records.
        AliyunCallReport => "aliyun-call-report",
        /// Note Agent call notes (vendor doc 000): QA inspections and summaries.
        AliyunCallNotes => "aliyun-call-notes",
        /// ITNIO `pushCallRecord` (vendor doc 002): one record with transcript.
        ItnioCallRecord => "itnio-call-record",
        /// longlonglong inbound success callback (vendor doc 003).
        LonglonglongInbound => "longlonglong-inbound",
        /// LAAFFIC `agentPushVoiceReportBatch` (vendor doc 004).
        LaafficVoiceReport => "laaffic-voice-report",
        /// Vapi's `end-of-call-report` server message.
        VapiEndOfCallReport => "vapi-end-of-call-report",
        /// Retell's `call_started`, `call_ended` and `call_analyzed` webhook events.
        RetellCallEvent => "retell-call-event",
        /// Bland's post-call webhook.
        BlandCall => "bland-call",
        /// Any other vendor, read by the source's `[sources.mapping]` table.
        Mapped => "mapped",
    }
}

impl SourceKind {
    /// The vendor whose messages this kind carries; `None` for
    /// [`SourceKind::Mapped`], whose vendor is the source's `vendor` setting.
    pub fn vendor(self) -> Option<Vendor> {
        Some(match self {
            SourceKind::AliyunCallReport | SourceKind::AliyunCallNotes => Vendor::Aliyun,
            SourceKind::ItnioCallRecord => Vendor::Itnio,
            SourceKind::LonglonglongInbound => Vendor::Longlonglong,
            SourceKind::LaafficVoiceReport => Vendor::Laaffic,
            SourceKind::VapiEndOfCallReport => Vendor::Vapi,
            SourceKind::RetellCallEvent => Vendor::Retell,
            SourceKind::BlandCall => Vendor::Bland,
            SourceKind::Mapped => return None,
        })
    }

    /// The kinds with an adapter of their own (every kind but `mapped`).
    pub fn built_in() -> impl Iterator<Item = SourceKind> {
        SourceKind::ALL
            .iter()
            .copied()
            .filter(|k| *k != SourceKind::Mapped)
    }

    /// Whether this is an AI voice-agent platform's kind (Vapi, Retell,
    /// Bland): one call per body with its direction in it, signed pushes,
    /// RFC 3339 or epoch times, US dollars, any 2xx accepted.
    pub fn is_ai_platform(self) -> bool {
        matches!(
            self,
            SourceKind::VapiEndOfCallReport | SourceKind::RetellCallEvent | SourceKind::BlandCall
        )
    }
}

string_enum! {
    /// Who placed the call.
    Direction {
        Outbound => "outbound",
        Inbound => "inbound",
    }
}

string_enum! {
    /// Who ended the call.
    HangupBy {
        /// The customer (callee of an outbound call, caller of an inbound one).
        Customer => "customer",
        /// The business side: the AI agent or a human agent.
        Agent => "agent",
        /// The platform or the carrier.
        System => "system",
        Unknown => "unknown",
    }
}

string_enum! {
    /// Who said a transcript line.
    Speaker {
        Customer => "customer",
        Agent => "agent",
    }
}

string_enum! {
    /// The canonical outcome taxonomy; `vendor_status` keeps the raw value.
    Outcome {
        /// A person was connected.
        Answered => "answered",
        /// A machine (voicemail, voice assistant) answered.
        Voicemail => "voicemail",
        /// Rang, not answered.
        NoAnswer => "no_answer",
        Busy => "busy",
        /// The customer declined.
        Rejected => "rejected",
        PoweredOff => "powered_off",
        /// Number suspended by the carrier.
        Suspended => "suspended",
        /// Out of service area, cannot connect.
        Unreachable => "unreachable",
        InvalidNumber => "invalid_number",
        /// Stopped by the carrier.
        Blocked => "blocked",
        /// The customer hung up while waiting for a line or an agent.
        Abandoned => "abandoned",
        /// Canceled on the business side before answer.
        Canceled => "canceled",
        /// The platform or the business line failed.
        Failed => "failed",
        /// A known value that fits none of the above.
        Other => "other",
        /// A value the adapter does not know, or none.
        Unknown => "unknown",
    }
}

impl Outcome {
    /// This outcome's position in [`Outcome::ALL`] (declaration order):
    /// the index of its count in a rollup row's outcome columns.
    pub fn index(self) -> usize {
        self as usize
    }
}
