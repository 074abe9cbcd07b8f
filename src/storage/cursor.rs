//! The opaque page cursor of the call list: base64url of
//! `{started_at in ms}:{call id}`, the last item of the previous page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A position in the newest-first call order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCursor {
    /// `started_at` of the last item, epoch milliseconds.
    pub started_at_ms: i64,
    pub id: String,
}

/// A cursor that was not made by callhook.
#[derive(Debug, thiserror::Error)]
#[error("invalid cursor: pass back the `next_cursor` of the previous page unchanged")]
pub struct CursorError;

impl CallCursor {
    /// The opaque text form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.started_at_ms, self.id))
    }

    /// Reads the text form. Errors: [`CursorError`] for anything else.
    pub fn decode(s: &str) -> Result<CallCursor, CursorError> {
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| CursorError)?;
        let text = String::from_utf8(raw).map_err(|_| CursorError)?;
        let (ms, id) = text.split_once(':').ok_or(CursorError)?;
        Ok(CallCursor {
            started_at_ms: ms.parse().map_err(|_| CursorError)?,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = CallCursor {
            started_at_ms: 1_748_743_200_000,
            id: "ab12".into(),
        };
        assert_eq!(CallCursor::decode(&c.encode()).unwrap(), c);
        assert!(CallCursor::decode("not a cursor!").is_err());
        assert!(CallCursor::decode(&URL_SAFE_NO_PAD.encode("x:y")).is_err());
    }
}
