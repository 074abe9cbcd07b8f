//! Configuration errors a person can act on: the `CALLHOOK_*` variable a
//! bad value came from, and the nearest known key or value for a misspelt
//! one ("unknown key `lisen`, did you mean `listen`?").

use figment::error::Kind;

/// The candidate nearest to `word`, when it is near enough to be a typo
/// (Jaro-Winkler similarity of at least 0.8, or a small edit distance).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word, c),
                strsim::levenshtein(&word, c),
                c,
            )
        })
        .filter(|(sim, dist, c)| *sim >= 0.8 || *dist <= (c.len() / 3).max(1))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, _, c)| c)
}

/// ", did you mean `X`?" for `word` among `candidates`, or the list of
/// them when none is near.
pub fn suggestion(word: &str, candidates: &[&str]) -> String {
    match nearest(word, candidates.iter().copied()) {
        Some(near) => format!(", did you mean `{near}`?"),
        None if candidates.is_empty() => String::new(),
        None => format!(
            " (expected one of {})",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The `CALLHOOK_*` variable a key path was read from (`limits.ack_budget`
/// → `CALLHOOK_LIMITS_ACK_BUDGET`).
fn variable(path: &[String]) -> String {
    format!("CALLHOOK_{}", path.join("_").to_ascii_uppercase())
}

/// One figment error, said for a person.
fn describe(e: &figment::Error) -> String {
    let path: Vec<String> = e.path.iter().map(|p| p.to_ascii_lowercase()).collect();
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment variable"));
    let key = path.join(".");
    let what = match &e.kind {
        Kind::UnknownField(found, expected) => {
            let section = match path.len() {
                0 | 1 => String::new(),
                n => format!(" in [{}]", path[..n - 1].join(".")),
            };
            let near = nearest(found, expected.iter().copied());
            let mut s = format!("unknown key `{found}`{section}");
            match (near, from_env) {
                (Some(near), true) => {
                    let mut p = path.clone();
                    if let Some(last) = p.last_mut() {
                        *last = near.to_owned();
                    }
                    s.push_str(&format!(", did you mean `{near}` ({})?", variable(&p)));
                }
                _ => s.push_str(&suggestion(found, expected)),
            }
            s
        }
        Kind::UnknownVariant(found, expected) => {
            format!("unknown value `{found}`{}", suggestion(found, expected))
        }
        kind => kind.to_string(),
    };
    if from_env {
        return format!("environment variable {}: {what}", variable(&path));
    }
    let source = e
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .map(|s| format!("{s}: "))
        .unwrap_or_default();
    match &e.kind {
        Kind::UnknownField(..) => format!("{source}{what}"),
        _ if key.is_empty() => format!("{source}{what}"),
        _ => format!("{source}key `{key}`: {what}"),
    }
}

/// `e` (from [`super::Config::validate`], whose messages begin with the
/// key, e.g. `retention_days: must be at least 1`), naming the `CALLHOOK_*`
/// variable the value came from when one is set (and no flag overrode it).
pub fn name_the_variable(
    e: super::ConfigError,
    overrides: &super::Overrides,
) -> super::ConfigError {
    let super::ConfigError::Invalid(msg) = e else {
        return e;
    };
    let key: String = msg
        .trim_start_matches('`')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
    if key.is_empty()
        || path
            .iter()
            .any(|p| p.is_empty() || p.chars().all(|c| c.is_ascii_digit()))
    {
        return super::ConfigError::Invalid(msg);
    }
    let var = variable(&path);
    let Ok(value) = std::env::var(&var) else {
        return super::ConfigError::Invalid(msg);
    };
    let flag = match key.as_str() {
        "database" => overrides.database.clone(),
        "listen" => overrides.listen.map(|a| a.to_string()),
        _ => None,
    };
    if flag.is_some_and(|f| f != value) {
        return super::ConfigError::Invalid(msg);
    }
    super::ConfigError::Invalid(format!("environment variable {var}: {msg}"))
}

/// Every error figment gathered, one per line.
pub fn explain(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|e| describe(&e))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_words_are_suggested_and_far_ones_are_not() {
        let keys = ["listen", "database", "api_token", "sources"];
        assert_eq!(nearest("lisen", keys), Some("listen"));
        assert_eq!(nearest("databse", keys), Some("database"));
        assert_eq!(nearest("zzz", keys), None);
        assert_eq!(
            nearest(
                "aliyun-call-reprot",
                ["aliyun-call-report", "aliyun-call-notes"]
            ),
            Some("aliyun-call-report")
        );
    }
}
