//! A single pass over a push body before it is parsed, enforcing
//! `limits.max_json_depth` and `limits.max_records_per_push` without
//! building anything: a body of millions of tiny records is refused before
//! the parser allocates a value per record.
//!
//! The scan does not validate JSON (the parser does that next); it tracks
//! strings, escapes and brackets only. Records are where every vendor's
//! layout keeps them: the elements of a top-level array (`[…]`: Alibaba and
//! ITNIO), or of the array under `data` (longlonglong) or `array` (LAAFFIC)
//! in a top-level object. Any other array, a bare record's transcript
//! included, is a field of one record and does not count (Vapi, Retell and
//! Bland push one call per body; a mapped source's records are counted
//! after its mapping selects them, by [`super::read_body`]).

/// How a body breaks a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreenError {
    /// Arrays and objects nested deeper than the limit (answered 400).
    #[error("JSON nested deeper than {limit} levels (at byte {offset})")]
    TooDeep { limit: usize, offset: usize },
    /// More records than the limit (answered 413). `count` is exact.
    #[error("{count} records in one push; the limit is {limit} (split the batch)")]
    TooManyRecords { count: usize, limit: usize },
}

/// Where a byte-by-byte scan is with respect to JSON strings.
#[derive(Default)]
struct Strings {
    open: bool,
    escaped: bool,
}

impl Strings {
    /// Whether `b`, the next byte, is inside a string (its closing quote
    /// included, its opening quote not: that one is a token), so that
    /// brackets and separators in it do not count.
    fn inside(&mut self, b: u8) -> bool {
        if self.open {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.open = false;
            }
            return true;
        }
        self.open = b == b'"';
        false
    }
}

/// The limits the scan enforces.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_depth: usize,
    pub max_records: usize,
}

/// The keys of the wrapped layouts' record arrays: `{"data": […]}`
/// (longlonglong) and `{"array": […]}` (LAAFFIC).
const RECORDS_KEYS: [&[u8]; 2] = [b"data", b"array"];

/// Whether a key, as written in the body, may be one of [`RECORDS_KEYS`]:
/// it is, or it has escapes (`"d\u0061ta"` is `data` too), counted to be
/// safe.
fn may_be_records_key(raw: &[u8]) -> bool {
    RECORDS_KEYS.contains(&raw) || raw.contains(&b'\\')
}

/// One open array in the top two levels: its separators seen, and whether
/// it holds anything.
#[derive(Clone, Copy)]
struct OpenArray {
    commas: usize,
    nonempty: bool,
}

/// Scans `body` for nesting deeper than `limits.max_depth` and record arrays
/// longer than `limits.max_records`.
///
/// Errors: [`ScreenError::TooDeep`] at the first bracket past the limit;
/// [`ScreenError::TooManyRecords`] with the longest record array's length.
pub fn screen(body: &[u8], limits: BodyLimits) -> Result<(), ScreenError> {
    // frames[d] is the container opened at depth d+1, for d < 2; `None` for
    // an object.
    let mut frames: [Option<OpenArray>; 2] = [None, None];
    let mut depth = 0usize;
    let mut longest = 0usize;
    let mut strings = Strings::default();
    // The last string closed at depth 1: in a top-level object, the key
    // of the member whose value comes next.
    let (mut string_start, mut last_key) = (0usize, 0..0);
    for (offset, &b) in body.iter().enumerate() {
        if strings.inside(b) {
            if !strings.open && depth == 1 {
                last_key = string_start + 1..offset;
            }
            continue;
        }
        if b == b'"' {
            string_start = offset;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        // Any token directly inside an open top-level array makes it nonempty.
        if (1..=2).contains(&depth) && b != b']' {
            if let Some(a) = frames[depth - 1].as_mut() {
                if b == b',' {
                    a.commas += 1;
                } else {
                    a.nonempty = true;
                }
            }
        }
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ScreenError::TooDeep {
                        limit: limits.max_depth,
                        offset,
                    });
                }
                // Records: the top-level array's elements, or those of the
                // array under `data` in a top-level object (the wrapped
                // layout). Any other array is a field of one record.
                let records = match depth {
                    1 => true,
                    2 => frames[0].is_none() && may_be_records_key(&body[last_key.clone()]),
                    _ => false,
                };
                if depth <= 2 {
                    frames[depth - 1] = (b == b'[' && records).then_some(OpenArray {
                        commas: 0,
                        nonempty: false,
                    });
                }
            }
            b']' | b'}' => {
                if (1..=2).contains(&depth) {
                    if let Some(a) = frames[depth - 1].take() {
                        longest = longest.max(count(a));
                    }
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    // An unterminated array still counts (the parser will refuse it anyway).
    for a in frames.into_iter().take(depth.min(2)).flatten() {
        longest = longest.max(count(a));
    }
    if longest > limits.max_records {
        return Err(ScreenError::TooManyRecords {
            count: longest,
            limit: limits.max_records,
        });
    }
    Ok(())
}

/// Memory one JSON value or object member takes once parsed, beyond its
/// text: a `serde_json::Value` (32 bytes), an object entry with its hash
/// and index slot and the key's own allocation, and the adapter's copy of
/// what it keeps. Measured with 8 MiB ITNIO transcripts (see
/// `bench/burst_memory.sh`); errs on the high side.
pub const NODE_BYTES: usize = 160;

/// An estimate, in bytes, of the memory that reading `body` takes at its
/// peak: the body itself, its parsed tree and what the adapter builds from
/// it. It counts the separators and openings outside strings (one per
/// value or member) at [`NODE_BYTES`] each, plus the body's length twice
/// (its strings, parsed and copied into the call). Never fails; linear in
/// the body, no allocation.
pub fn parsed_size(body: &[u8]) -> usize {
    let mut nodes = 1usize;
    let mut strings = Strings::default();
    for &b in body {
        if !strings.inside(b) && matches!(b, b'[' | b'{' | b',' | b':') {
            nodes += 1;
        }
    }
    body.len()
        .saturating_mul(2)
        .saturating_add(nodes.saturating_mul(NODE_BYTES))
}

fn count(a: OpenArray) -> usize {
    if a.nonempty {
        a.commas + 1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: BodyLimits = BodyLimits {
        max_depth: 4,
        max_records: 3,
    };

    #[test]
    fn counts_records_at_the_top_two_levels_only() {
        assert_eq!(screen(b"[]", L), Ok(()));
        assert_eq!(screen(b"[{}, {}, {}]", L), Ok(()));
        assert_eq!(
            screen(b"[{}, {}, {}, {\"a\": [1, 2, 3, 4, 5]}]", L),
            Err(ScreenError::TooManyRecords { count: 4, limit: 3 })
        );
        assert_eq!(
            screen(br#"{"count": 4, "data": [{}, {}, {}, {}]}"#, L),
            Err(ScreenError::TooManyRecords { count: 4, limit: 3 })
        );
        // Strings are records too, and their commas are not separators.
        assert_eq!(
            screen(br#"["a,b", "c", "d", "e"]"#, L),
            Err(ScreenError::TooManyRecords { count: 4, limit: 3 })
        );
        // A bare record's own arrays (a transcript) are not records.
        assert_eq!(
            screen(br#"{"callId": "x", "callDetailList": [1, 2, 3, 4, 5]}"#, L),
            Ok(())
        );
        assert_eq!(
            screen(
                br#"{"callId": "x", "tags": ["data"], "data2": [1, 2, 3, 4]}"#,
                L
            ),
            Ok(())
        );
        assert_eq!(
            screen(br#"{"note": "data", "data" : [{}, {}, {}, {}]}"#, L),
            Err(ScreenError::TooManyRecords { count: 4, limit: 3 })
        );
        assert_eq!(
            screen(br#"{"d\u0061ta": [{}, {}, {}, {}]}"#, L),
            Err(ScreenError::TooManyRecords { count: 4, limit: 3 })
        );
        // Turns inside a record (depth 3) are not records.
        assert_eq!(screen(br#"[{"turns": [1, 2, 3, 4, 5, 6]}]"#, L), Ok(()));
    }

    #[test]
    fn brackets_and_commas_inside_strings_do_not_count() {
        let body = br#"[{"text": "a, b, [c], {d}, \"e, f\""}, "x,y,z"]"#;
        assert_eq!(screen(body, L), Ok(()));
    }

    #[test]
    fn depth_past_the_limit_is_refused_with_its_offset() {
        assert_eq!(screen(b"[[[[1]]]]", L), Ok(()));
        assert_eq!(
            screen(b"[[[[[1]]]]]", L),
            Err(ScreenError::TooDeep {
                limit: 4,
                offset: 4
            })
        );
        assert_eq!(
            screen(br#"{"a": {"b": {"c": {"d": {}}}}}"#, L),
            Err(ScreenError::TooDeep {
                limit: 4,
                offset: 24
            })
        );
    }

    #[test]
    fn parsed_size_counts_values_and_members_outside_strings() {
        assert_eq!(parsed_size(b""), NODE_BYTES);
        // `[`, `{`, `:`, `,`, `:` outside strings: five, plus the root.
        let body = br#"[{"a":1,"b":"x, y: [z]"}]"#;
        assert_eq!(parsed_size(body), 2 * body.len() + 6 * NODE_BYTES);
        // A long transcript costs per line, not only per byte.
        let lines: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"text":"t{i}","type":"ROBOT"}}"#))
            .collect();
        let body = format!(r#"{{"callDetailList":[{}]}}"#, lines.join(","));
        assert!(parsed_size(body.as_bytes()) > 4_000 * NODE_BYTES);
    }

    #[test]
    fn unterminated_arrays_still_count() {
        assert_eq!(
            screen(b"[1, 2, 3, 4", L),
            Err(ScreenError::TooManyRecords { count: 4, limit: 3 })
        );
        assert_eq!(screen(b"", L), Ok(()));
        assert_eq!(screen(b"]]]}}}", L), Ok(()));
    }
}
