//! Full-text search over calls (`text=`, docs/search.md): what a call's
//! searchable text is, how a query is checked, and the snippet of a match.
//!
//! Matching is a case-insensitive substring match of the whole query, so
//! Chinese needs no word splitting. Both sides are folded to lower case
//! here, in Rust ([`fold`]), so both backends and the snippet agree on what
//! matches: the stored text (SQLite `call_text`, PostgreSQL `call_text`) is
//! already folded and the databases only compare folded strings.

use crate::domain::Call;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The shortest query the trigram indexes can answer, in characters;
/// shorter ones scan the calls (slower, docs/search.md).
pub const INDEXED_MIN_CHARS: usize = 3;

/// Characters of context on each side of a match in a [`Snippet`].
const CONTEXT_CHARS: usize = 20;

/// Lower-cases `s` (Unicode rules; characters without case, such as Chinese,
/// are kept).
pub fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The searchable fields of `call`, in the order a snippet is looked for:
/// each transcript turn's text, then each analysis's tags (names and text
/// values: summaries, intention tags), the intent's label and code, and
/// the call's tags. Each is `(field, text)`; `field` is `transcript`,
/// `summary`, `intent` or `tags`.
pub fn fields(call: &Call) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = call
        .turns
        .iter()
        .map(|t| ("transcript", t.text.clone()))
        .collect();
    // Summaries carry tags; an inspection's, if a vendor sends any, are
    // searched the same way.
    for a in &call.analyses {
        for (name, value) in a.tags.iter().flatten() {
            out.push(("summary", name.clone()));
            push_strings(value, "summary", &mut out);
        }
    }
    if let Some(i) = &call.intent {
        out.extend(i.label.iter().map(|l| ("intent", l.clone())));
        out.extend(i.code.iter().map(|c| ("intent", c.clone())));
    }
    out.extend(call.tags.iter().map(|t| ("tags", t.clone())));
    out.retain(|(_, t)| !t.is_empty());
    out
}

fn push_strings(v: &Value, field: &'static str, out: &mut Vec<(&'static str, String)>) {
    match v {
        Value::String(s) => out.push((field, s.clone())),
        Value::Array(a) => a.iter().for_each(|v| push_strings(v, field, out)),
        Value::Object(m) => m.values().for_each(|v| push_strings(v, field, out)),
        Value::Number(n) => out.push((field, n.to_string())),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The text stored in the search index for `call`: its [`fields`] folded
/// ([`fold`]) and joined by newlines (a query holds no newline, so no match
/// spans two fields).
pub fn index_text(call: &Call) -> String {
    let parts: Vec<String> = fields(call).iter().map(|(_, t)| fold(t)).collect();
    parts.join("\n")
}

/// A checked `text=` query: the folded string to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery(String);

impl TextQuery {
    /// Checks a query as given: trimmed; empty means no query (`Ok(None)`).
    ///
    /// Errors: a message for more than [`MAX_QUERY_CHARS`] characters or a
    /// control character (a newline, a tab, …).
    pub fn parse(raw: &str) -> Result<Option<TextQuery>, String> {
        let q = raw.trim();
        if q.is_empty() {
            return Ok(None);
        }
        let n = q.chars().count();
        if n > MAX_QUERY_CHARS {
            return Err(format!("at most {MAX_QUERY_CHARS} characters (got {n})"));
        }
        if q.chars().any(char::is_control) {
            return Err("must not contain control characters (newlines, tabs)".into());
        }
        Ok(Some(TextQuery(fold(q))))
    }

    /// A query already checked elsewhere (the store's input): trimmed and
    /// folded, `None` when empty. Longer ones than allowed are still used.
    pub fn lenient(raw: &str) -> Option<TextQuery> {
        let q = raw.trim();
        (!q.is_empty()).then(|| TextQuery(fold(q)))
    }

    /// The folded query.
    pub fn folded(&self) -> &str {
        &self.0
    }

    /// Whether the trigram indexes can answer it (at least
    /// [`INDEXED_MIN_CHARS`] characters).
    pub fn indexed(&self) -> bool {
        self.0.chars().count() >= INDEXED_MIN_CHARS
    }

    /// The query as a `LIKE` pattern `%…%` with `\` escaping `%`, `_`, `\`.
    pub fn like_pattern(&self) -> String {
        let mut p = String::with_capacity(self.0.len() + 2);
        p.push('%');
        for c in self.0.chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        p
    }

    /// The query as one FTS5 phrase (`"…"`, inner quotes doubled): with the
    /// trigram tokenizer, a substring match.
    pub fn fts5_phrase(&self) -> String {
        format!("\"{}\"", self.0.replace('"', "\"\""))
    }
}

/// Where a call matched a text query: about 40 characters around the first
/// match. `match_start`/`match_end` are offsets in Unicode characters (code
/// points, not bytes or UTF-16 units) into `text`, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Snippet {
    /// Which part matched: `transcript`, `summary`, `intent` or `tags`.
    pub field: String,
    /// The context, `…` marking text cut off on either side.
    pub text: String,
    pub match_start: usize,
    pub match_end: usize,
}

impl Snippet {
    /// The snippet split around the match: (before, match, after).
    pub fn parts(&self) -> (String, String, String) {
        let chars: Vec<char> = self.text.chars().collect();
        let s = self.match_start.min(chars.len());
        let e = self.match_end.clamp(s, chars.len());
        (
            chars[..s].iter().collect(),
            chars[s..e].iter().collect(),
            chars[e..].iter().collect(),
        )
    }
}

/// The first match of `q` in `call`'s [`fields`]; `None` if none matches.
pub fn snippet(call: &Call, q: &TextQuery) -> Option<Snippet> {
    fields(call).into_iter().find_map(|(field, text)| {
        let (start, end) = find_folded(&text, q.folded())?;
        let chars: Vec<char> = text.chars().collect();
        let from = start.saturating_sub(CONTEXT_CHARS);
        let to = (end + CONTEXT_CHARS).min(chars.len());
        let mut out = String::new();
        let mut shift = 0;
        if from > 0 {
            out.push('…');
            shift = 1;
        }
        out.extend(&chars[from..to]);
        if to < chars.len() {
            out.push('…');
        }
        Some(Snippet {
            field: field.to_owned(),
            text: out,
            match_start: start - from + shift,
            match_end: end - from + shift,
        })
    })
}

/// The first occurrence of the folded `needle` in `text` folded, as
/// character offsets into `text` (start, end exclusive).
fn find_folded(text: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    // Folding may turn one character into several: keep, for each folded
    // character, the index of the character it came from.
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        for l in c.to_lowercase() {
            folded.push(l);
            origin.push(i);
        }
    }
    let at = folded.find(needle)?;
    let first = folded[..at].chars().count();
    let last = first + needle.chars().count() - 1;
    Some((origin[first], origin[last] + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare_call() -> Call {
        serde_json::from_value(serde_json::json!({
            "id": "c1", "vendor": "aliyun", "source": "s", "vendor_call_id": "A-1",
            "direction": "inbound", "outcome": "unknown", "vendor_status": "",
            "hangup_by": "unknown", "started_at": "2025-06-02T00:00:00Z",
            "tags": [], "turns": [], "analyses": [], "vendor_fields": {},
            "first_received_at": "2025-06-02T00:00:00Z", "updated_at": "2025-06-02T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn queries_are_trimmed_folded_and_bounded() {
        assert_eq!(TextQuery::parse("  ").unwrap(), None);
        let q = TextQuery::parse(" Refund 退款 ").unwrap().unwrap();
        assert_eq!(q.folded(), "refund 退款");
        assert!(q.indexed());
        assert!(!TextQuery::parse("退款").unwrap().unwrap().indexed());
        let long = "字".repeat(MAX_QUERY_CHARS + 1);
        assert!(TextQuery::parse(&long).unwrap_err().contains("at most 200"));
        assert!(TextQuery::parse(&"字".repeat(MAX_QUERY_CHARS)).is_ok());
        assert!(TextQuery::parse("a\nb").is_err());
        let q = TextQuery::parse(r#"50%_"x\"#).unwrap().unwrap();
        assert_eq!(q.like_pattern(), r#"%50\%\_"x\\%"#);
        assert_eq!(q.fts5_phrase(), r#""50%_""x\""#);
    }

    #[test]
    fn matches_map_back_to_the_original_characters() {
        assert_eq!(find_folded("Hello WORLD", "world"), Some((6, 11)));
        assert_eq!(
            find_folded("您好，我想申请退款。", "申请退款"),
            Some((5, 9))
        );
        // 'İ' folds to two characters: offsets still count the original's.
        assert_eq!(find_folded("İstanbul Refund", "refund"), Some((9, 15)));
        assert_eq!(find_folded("abc", "x"), None);
    }

    #[test]
    fn the_snippet_is_the_context_of_the_first_match() {
        let mut call = bare_call();
        call.turns = vec![crate::domain::Turn {
            speaker: crate::domain::Speaker::Customer,
            text: format!("{}我想申请退款，谢谢{}", "前".repeat(30), "后".repeat(30)),
            start_ms: None,
            end_ms: None,
        }];
        call.tags = vec!["VIP".into()];
        let q = TextQuery::parse("申请退款").unwrap().unwrap();
        let s = snippet(&call, &q).unwrap();
        assert_eq!(s.field, "transcript");
        let (before, hit, after) = s.parts();
        assert_eq!(hit, "申请退款");
        assert_eq!(before, format!("…{}我想", "前".repeat(18)));
        assert_eq!(after, format!("，谢谢{}…", "后".repeat(17)));
        let s = snippet(&call, &TextQuery::parse("vip").unwrap().unwrap()).unwrap();
        assert_eq!((s.field.as_str(), s.text.as_str()), ("tags", "VIP"));
        assert_eq!((s.match_start, s.match_end), (0, 3));
        assert!(index_text(&call).ends_with("\nvip"));
        assert_eq!(
            snippet(&call, &TextQuery::parse("nothing").unwrap().unwrap()),
            None
        );
    }
}
