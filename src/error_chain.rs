//! [`ErrorChain`]: an error printed with its sources, for logs.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each of its [`source`](Error::source)s,
/// joined by `: ` (`storage unavailable: database is locked`). A source
/// whose text already ends the line so far is left out: several libraries
/// (deadpool, rusqlite) print their source in their own message too.
///
/// Log errors with it (`error = %ErrorChain(&e)`): an error's own
/// `Display` names only its own layer.
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut source = self.0.source();
        while let Some(e) = source {
            let text = e.to_string();
            if !text.is_empty() && !line.ends_with(&text) {
                if !line.is_empty() {
                    line.push_str(": ");
                }
                line.push_str(&text);
            }
            source = e.source();
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorChain;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn prints_each_source_once() {
        let e = Outer(Middle(std::io::Error::other("disk full")));
        assert_eq!(ErrorChain(&e).to_string(), "outer: middle: disk full");
    }
}
