//! `retention_days` and `retention_interval` (Secrets and PII):
//! how long receipts, calls and finished outbound events are kept, and how
//! often `serve` purges what is older (`storage/purge.rs`).

use std::time::Duration;

/// How often `serve` purges when `retention_interval` is not set: 1 h.
pub fn default_interval() -> Duration {
    Duration::from_secs(3600)
}

/// Checks `retention_days` (at least 1 when set) and `retention_interval`
/// (longer than zero).
///
/// Errors: a message naming the key.
pub fn validate(days: Option<u32>, interval: Duration) -> Result<(), String> {
    if days == Some(0) {
        return Err(
            "retention_days: must be at least 1 (0 would delete every call at once; \
             remove the key to keep everything)"
                .into(),
        );
    }
    if interval.is_zero() {
        return Err("retention_interval: must be longer than zero".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError, Overrides};
    use std::io::Write;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        Config::load(Some(f.path()), &Overrides::default())
    }

    #[test]
    fn zero_days_and_a_zero_interval_are_refused_naming_the_key() {
        let e = load("retention_days = 0\n").unwrap_err().to_string();
        assert!(
            e.contains("retention_days") && e.contains("at least 1"),
            "{e}"
        );
        let e = load("retention_days = 7\nretention_interval = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("retention_interval"), "{e}");
        let e = load("retention_days = -3\n").unwrap_err().to_string();
        assert!(e.contains("retention_days"), "{e}");
        let e = load("retention_interval = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("retention_interval") && e.contains("soon"),
            "{e}"
        );
    }

    #[test]
    fn unset_keeps_everything_and_set_values_are_read_and_printed() {
        let c = load("").unwrap();
        assert_eq!(c.retention_days, None);
        assert_eq!(c.retention_interval, std::time::Duration::from_secs(3600));
        let shown = c.effective_toml().unwrap();
        assert!(shown.starts_with("# retention_days is not set"), "{shown}");
        let table: toml::Table = shown.parse().unwrap();
        assert_eq!(table["retention_interval"].as_str(), Some("1h"));
        assert!(!table.contains_key("retention_days"));

        let c = load("retention_days = 30\nretention_interval = \"10m\"\n").unwrap();
        assert_eq!(c.retention_days, Some(30));
        assert_eq!(c.retention_interval, std::time::Duration::from_secs(600));
        let table: toml::Table = c.effective_toml().unwrap().parse().unwrap();
        assert_eq!(table["retention_days"].as_integer(), Some(30));
        assert_eq!(table["retention_interval"].as_str(), Some("10m"));
    }
}
