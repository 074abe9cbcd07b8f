//! Decoding the text columns both backends store alike: enum names
//! (`kind`, `status`, `event_type`, `vendor`) and JSON documents. Each
//! backend reads the column's text with its own driver and hands it to
//! [`decode`], so a value no version of callhook writes becomes the same
//! [`StoreError::Corrupt`] on SQLite and PostgreSQL, naming the column.

use super::{DeliveryStatus, ReceiptStatus, StoreError};
use crate::domain::{Call, EventType, RecordingStatus, SourceKind, Vendor};

/// A value stored as one text column.
pub(crate) trait TextColumn: Sized {
    /// What the column holds, for the error ("receipt status").
    const WHAT: &'static str;

    /// The value of `text`. Errors: why it is not one (a message).
    fn parse_text(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>>;
}

/// The value stored as `text`.
///
/// Errors: [`StoreError::Corrupt`] naming [`TextColumn::WHAT`] when the
/// text is not a value of `T`.
pub(crate) fn decode<T: TextColumn>(text: &str) -> Result<T, StoreError> {
    T::parse_text(text).map_err(|e| StoreError::corrupt(T::WHAT, e))
}

macro_rules! text_column {
    ($($t:ty: $what:literal by $parse:path;)+) => {
        $(impl TextColumn for $t {
            const WHAT: &'static str = $what;
            fn parse_text(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($parse(text)?)
            }
        })+
    };
}

text_column! {
    SourceKind: "receipt kind" by str::parse;
    ReceiptStatus: "receipt status" by ReceiptStatus::parse;
    RecordingStatus: "recording status" by RecordingStatus::parse;
    DeliveryStatus: "delivery status" by DeliveryStatus::parse;
    EventType: "event type" by str::parse;
    Vendor: "event vendor" by str::parse;
    Call: "call document" by serde_json::from_str;
    serde_json::Value: "event payload" by serde_json::from_str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_name_decodes_to_its_value() {
        assert_eq!(
            decode::<ReceiptStatus>("accepted").unwrap(),
            ReceiptStatus::Accepted
        );
        assert_eq!(
            decode::<SourceKind>("aliyun-call-report").unwrap(),
            SourceKind::AliyunCallReport
        );
        assert_eq!(
            decode::<EventType>("call.created").unwrap(),
            EventType::Created
        );
    }

    #[test]
    fn an_unknown_value_is_corrupt_and_names_the_column() {
        for err in [
            decode::<ReceiptStatus>("nope").unwrap_err(),
            decode::<DeliveryStatus>("nope").map(|_| ()).unwrap_err(),
            decode::<Call>("{not json").map(|_| ()).unwrap_err(),
        ] {
            assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
        }
        let err = decode::<RecordingStatus>("nope").unwrap_err().to_string();
        assert!(err.contains("recording status"), "{err}");
    }
}
