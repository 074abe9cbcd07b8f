use super::*;
use std::io::Write;

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn defaults_have_one_source_per_kind_on_loopback() {
    let c = Config::defaults();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.sqlite_path().ok().as_deref(), Some("callhook.db"));
    let names: Vec<_> = c.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "aliyun-call-report",
            "aliyun-call-notes",
            "itnio-call-record",
            "longlonglong-inbound",
            "laaffic-voice-report"
        ]
    );
    assert_eq!(c.limits, Limits::default());
    assert_eq!(c.limits.max_body_bytes, 8 * 1024 * 1024);
    assert_eq!(c.limits.ack_budget, std::time::Duration::from_millis(500));
    assert_eq!(c.limits.retry_after_secs(), 1);
}

#[test]
fn file_sources_resolve_zone_and_currency() {
    let f = file("[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntimezone = \"Europe/Berlin\"\n\n[[sources]]\nname = \"it\"\nkind = \"itnio-call-record\"\ncurrency = \"eur\"\ntoken = \"t0k\"\n");
    let c = Config::load(Some(f.path()), &Overrides::default()).unwrap();
    assert_eq!(c.sources.len(), 2);
    assert_eq!(
        c.source("ali").unwrap().context().timezone.iana_name(),
        Some("Europe/Berlin")
    );
    assert_eq!(
        c.source("it").unwrap().context().currency.as_deref(),
        Some("EUR")
    );
    assert!(c.source("it").unwrap().token_matches(Some("t0k")));
    assert!(!c.source("it").unwrap().token_matches(Some("t0j")));
    assert!(!c.source("it").unwrap().token_matches(None));
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    let f = file("[[sources]]\nname = \"a\"\nkind = \"aliyun-call-report\"\ncolour = \"red\"\n");
    let e = Config::load(Some(f.path()), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("colour"), "{e}");
    let f = file(
        "[[sources]]\nname = \"a\"\nkind = \"aliyun-call-report\"\ntimezone = \"Mars/Base\"\n",
    );
    let e = Config::load(Some(f.path()), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("sources[0]") && e.contains("Mars/Base"), "{e}");
    let f = file("[[sources]]\nname = \"a b\"\nkind = \"aliyun-call-report\"\n");
    assert!(Config::load(Some(f.path()), &Overrides::default()).is_err());
    let f = file("[[sources]]\nname = \"a\"\nkind = \"nope\"\n");
    assert!(Config::load(Some(f.path()), &Overrides::default())
        .unwrap_err()
        .to_string()
        .contains("nope"));
}

#[test]
fn overrides_win_over_the_file() {
    let f = file("listen = \"127.0.0.1:9000\"\ndatabase = \"sqlite://a.db\"\n");
    let o = Overrides {
        listen: None,
        database: Some("sqlite://b.db".into()),
    };
    let c = Config::load(Some(f.path()), &o).unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert_eq!(c.sqlite_path().ok().as_deref(), Some("b.db"));
}

#[test]
fn exposure_needs_tokens_off_loopback() {
    let mut c = Config::defaults();
    assert!(c.check_exposure(false).is_ok());
    c.listen = "0.0.0.0:8080".parse().unwrap();
    let e = c.check_exposure(false).unwrap_err().to_string();
    assert!(
        e.contains("aliyun-call-report") && e.contains("--insecure"),
        "{e}"
    );
    assert!(c.check_exposure(true).is_ok());
}

#[test]
fn postgres_is_refused_until_built() {
    let o = Overrides {
        listen: None,
        database: Some("postgres://x@y/z".into()),
    };
    assert!(Config::load(None, &o)
        .unwrap_err()
        .to_string()
        .contains("sqlite://"));
}

#[test]
fn limits_read_sizes_and_durations() {
    let f = file("[limits]\nmax_records_per_push = 50\nack_budget = \"1500ms\"\nbody_read_timeout = \"PT2S\"\nheader_read_timeout = \"3s\"\n");
    let c = Config::load(Some(f.path()), &Overrides::default()).unwrap();
    assert_eq!(c.limits.max_records_per_push, 50);
    assert_eq!(c.limits.ack_budget.as_millis(), 1500);
    assert_eq!(c.limits.retry_after_secs(), 2);
    assert_eq!(c.limits.body_read_timeout.as_secs(), 2);
    assert_eq!(c.limits.header_read_timeout.as_secs(), 3);
    assert_eq!(c.limits.max_json_depth, 64, "unset keys keep their default");
}

#[test]
fn bad_limits_are_named() {
    for (text, expect) in [
        ("[limits]\nack_budget = \"soon\"\n", "soon"),
        ("[limits]\nack_budget = \"-1s\"\n", "negative"),
        ("[limits]\nack_budget = \"0s\"\n", "limits.ack_budget"),
        ("[limits]\nmax_json_depth = 500\n", "limits.max_json_depth"),
        (
            "[limits]\nmax_records_per_push = 0\n",
            "limits.max_records_per_push",
        ),
        (
            "[limits]\nmax_body_bytes = 100\nmax_inflight_body_bytes = 10\n",
            "max_inflight_body_bytes",
        ),
        ("[limits]\nmax_bodies = 1\n", "max_bodies"),
    ] {
        let f = file(text);
        let e = Config::load(Some(f.path()), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect), "{text}: {e}");
    }
}
