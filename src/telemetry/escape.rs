//! Log-safe text: control characters (newline, carriage return, escape,
//! NUL, …) and the Unicode bidirectional overrides are written as Rust
//! escapes (`\n`, `\r`, `\u{1b}`, `\u{202e}`), so a value from a vendor or
//! a client can neither start a forged log line nor drive the terminal.
//! [`fields`] applies this to every field of the text log format.

use std::borrow::Cow;
use std::fmt::Write as _;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{debug_fn, Writer};
use tracing_subscriber::fmt::FormatFields;

/// Whether `c` is escaped by [`escape_control`]: Unicode control
/// characters (`Cc`) and the bidirectional embedding, override and
/// isolate marks (U+202A–U+202E, U+2066–U+2069).
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `s` with every character [`needs_escape`] picks replaced by its Rust
/// escape (`\n`, `\t`, `\u{1b}`); borrowed when there is none. Other
/// text, Chinese included, is kept as it is.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The field formatter of the text log format: as tracing-subscriber's
/// default (`message` first without its name, then `name=value`, spaces
/// between), with every value passed through [`escape_control`].
pub fn fields() -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
    debug_fn(
        |w: &mut Writer<'_>, field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
            let text = format!("{value:?}");
            let text = escape_control(&text);
            if field.name() == "message" {
                write!(w, "{text}")
            } else {
                write!(w, "{}={text}", field.name())
            }
        },
    )
    .delimited(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bidi_marks_are_escaped_and_other_text_kept() {
        assert!(matches!(
            escape_control("外呼 ok"),
            Cow::Borrowed("外呼 ok")
        ));
        assert_eq!(
            escape_control("x\nINFO forged\r\u{1b}[31m\u{202e}"),
            "x\\nINFO forged\\r\\u{1b}[31m\\u{202e}"
        );
        assert_eq!(escape_control("a\0b\tc"), "a\\u{0}b\\tc");
    }

    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_text_format_escapes_displayed_field_values() {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(fields())
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let value = "ok\nINFO callhook: forged line";
            tracing::warn!(field = "status", value = %value, "unknown vendor value");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains(
                r#"unknown vendor value field="status" value=ok\nINFO callhook: forged line"#
            ),
            "{text}"
        );
    }
}
