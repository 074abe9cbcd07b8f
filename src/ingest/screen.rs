//! A single pass over a push body before it is parsed, enforcing
//! `limits.max_json_depth` and `limits.max_records_per_push` without
//! building anything: a body of millions of tiny records is refused before
//! the parser allocates a value per record.
//!
//! The scan does not validate JSON (the parser does that next); it tracks
//! strings, escapes and brackets only. Records are the elements of the
//! arrays at the top two levels, which is where every vendor's layout keeps
//! them: `[…]` (Alibaba) or `{"data": […]}` (ITNIO, longlonglong, LAAFFIC).

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

/// The limits the scan enforces.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_depth: usize,
    pub max_records: usize,
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
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in body.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
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
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ScreenError::TooDeep {
                        limit: limits.max_depth,
                        offset,
                    });
                }
                if depth <= 2 {
                    frames[depth - 1] = (b == b'[').then_some(OpenArray {
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
    fn unterminated_arrays_still_count() {
        assert_eq!(
            screen(b"[1, 2, 3, 4", L),
            Err(ScreenError::TooManyRecords { count: 4, limit: 3 })
        );
        assert_eq!(screen(b"", L), Ok(()));
        assert_eq!(screen(b"]]]}}}", L), Ok(()));
    }
}
