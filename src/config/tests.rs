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
    assert_eq!(c.store_url(), Ok(StoreUrl::Sqlite("callhook.db".into())));
    let names: Vec<_> = c.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "aliyun-call-report",
            "aliyun-call-notes",
            "itnio-call-record",
            "longlonglong-inbound",
            "laaffic-voice-report",
            "vapi-end-of-call-report",
            "retell-call-event",
            "bland-call"
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
    assert_eq!(c.store_url(), Ok(StoreUrl::Sqlite("b.db".into())));
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
    for s in &mut c.sources {
        s.token = Some(SecretString::from(format!("t-{}", s.name)));
    }
    let e = c.check_exposure(false).unwrap_err().to_string();
    assert!(
        e.contains("without `api_token`") && e.contains("--insecure"),
        "{e}"
    );
    c.api_tokens.push(ApiTokenConfig {
        name: "grafana".into(),
        token: SecretString::from("r"),
        scope: Scope::Read,
    });
    assert!(
        c.check_exposure(false).is_ok(),
        "a named token guards the API"
    );
    c.api_tokens.clear();
    c.api_token = Some(SecretString::from("admin"));
    assert!(c.check_exposure(false).is_ok());
}

#[test]
fn tls_needs_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "x").unwrap();
    let mut c = Config::defaults();
    c.tls_cert = Some(cert.clone());
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("tls_cert is set without tls_key"));
    c.tls_key = Some(dir.path().join("missing.pem"));
    let e = c.validate().unwrap_err().to_string();
    assert!(
        e.contains("tls_key: file") && e.contains("missing.pem"),
        "{e}"
    );
    c.tls_cert = None;
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("tls_key is set without tls_cert"));
}

#[test]
fn postgres_urls_are_accepted_and_other_schemes_refused() {
    let load = |db: &str| {
        Config::load(
            None,
            &Overrides {
                listen: None,
                database: Some(db.into()),
            },
        )
    };
    let c = load("postgres://x@y/z").unwrap();
    assert_eq!(
        c.store_url(),
        Ok(StoreUrl::Postgres("postgres://x@y/z".into()))
    );
    assert!(load("postgresql://x@y/z").is_ok());
    let e = load("mysql://x@y/z").unwrap_err().to_string();
    assert!(e.contains("sqlite://") && e.contains("postgres://"), "{e}");
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
    assert_eq!(c.limits.max_concurrent_api_requests, 64);
    assert_eq!(c.limits.max_connections, 768);
    assert_eq!(c.limits.max_connections_per_ip, 64);
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
        (
            "[limits]\nmax_concurrent_api_requests = 0\n",
            "limits.max_concurrent_api_requests",
        ),
        ("[limits]\nmax_connections = 0\n", "limits.max_connections"),
        (
            "[limits]\nmax_connections = 10\nmax_connections_per_ip = 11\n",
            "limits.max_connections_per_ip",
        ),
    ] {
        let f = file(text);
        let e = Config::load(Some(f.path()), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect), "{text}: {e}");
    }
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn subscriber_config(extra: &str) -> Result<Config, ConfigError> {
    let f = file(&format!(
        "[[subscribers]]\nname = \"crm\"\nurl = \"https://crm.example.com/hooks\"\nsecret = \"{SECRET}\"\n{extra}\n"
    ));
    Config::load(Some(f.path()), &Overrides::default())
}

#[test]
fn subscribers_default_to_every_event_and_the_documented_retry_schedule() {
    let c = subscriber_config("").unwrap();
    let s = &c.subscribers[0];
    assert_eq!(s.events, crate::domain::EventType::ALL.to_vec());
    assert!(s.vendors.is_empty());
    let secs: Vec<u64> = s.retry_schedule.iter().map(|d| d.as_secs()).collect();
    assert_eq!(
        secs,
        [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
        "5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h"
    );
    assert_eq!(s.timeout, std::time::Duration::from_secs(15));
    assert_eq!(secret_key(&s.secret[0]).unwrap().len(), 24);
    assert_eq!(c.target_names(), ["crm"]);
}

#[test]
fn subscriber_settings_are_read_and_checked() {
    let c = subscriber_config(&format!(
        "events = [\"call.analyzed\"]\nvendors = [\"itnio\"]\nretry_schedule = [\"1s\", \"2m\"]\nsecret = [\"{SECRET}\", \"{SECRET}\"]"
    ));
    // `secret` twice is a TOML error: the list form replaces the string.
    assert!(c.is_err());
    let f = file(&format!(
        "[[subscribers]]\nname = \"crm\"\nurl = \"https://crm.example.com/hooks\"\nsecret = [\"{SECRET}\", \"whsec_dGhpcy1pcy1hLTI0LWJ5dGUta2V5LTEyMzQ=\"]\nevents = [\"call.analyzed\"]\nvendors = [\"itnio\"]\nretry_schedule = [\"1s\", \"2m\"]\n\n[nats]\nurl = \"nats://127.0.0.1:4222\"\n"
    ));
    let c = Config::load(Some(f.path()), &Overrides::default()).unwrap();
    let s = &c.subscribers[0];
    assert_eq!(s.secret.len(), 2, "two secrets for rotation");
    assert_eq!(
        s.retry_schedule,
        [
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(120)
        ]
    );
    assert_eq!(c.nats.as_ref().unwrap().stream, "CALLHOOK");
    assert_eq!(c.nats.as_ref().unwrap().subject_prefix, "callhook");
    assert_eq!(c.target_names(), ["crm", "nats"]);

    let err = |extra: &str| subscriber_config(extra).unwrap_err().to_string();
    assert!(err("events = [\"call.deleted\"]").contains("call.deleted"));
    assert!(err("retry_schedule = [\"soon\"]").contains("soon"));
}

#[test]
fn bad_subscribers_are_refused_with_the_key_named() {
    let load = |name: &str, url: &str, secret: &str| {
        let f = file(&format!(
            "[[subscribers]]\nname = \"{name}\"\nurl = \"{url}\"\nsecret = \"{secret}\"\n"
        ));
        Config::load(Some(f.path()), &Overrides::default())
            .unwrap_err()
            .to_string()
    };
    let ok_url = "https://crm.example.com/";
    let e = load("crm", ok_url, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert!(
        e.contains("subscribers[0] (`crm`).secret[0]") && e.contains("whsec_"),
        "{e}"
    );
    let e = load("crm", ok_url, "whsec_c2hvcnQ=");
    assert!(e.contains("24 to 64 bytes"), "{e}");
    let e = load("crm", ok_url, "whsec_***");
    assert!(e.contains("base64"), "{e}");
    assert!(
        !e.contains("***"),
        "the secret itself is never printed: {e}"
    );
    let e = load("nats", ok_url, SECRET);
    assert!(e.contains("reserved"), "{e}");
    let e = load("crm", "ftp://crm.example.com/", SECRET);
    assert!(e.contains("http"), "{e}");
    for private in [
        "http://127.0.0.1:9000/x",
        "http://10.0.0.8/x",
        "http://[::1]/",
        "http://localhost/",
        "http://169.254.169.254/latest",
    ] {
        let e = load("crm", private, SECRET);
        assert!(e.contains("allow_private_subscribers"), "{private}: {e}");
    }
    let f = file(&format!(
        "allow_private_subscribers = true\n[[subscribers]]\nname = \"crm\"\nurl = \"http://127.0.0.1:9000/x\"\nsecret = \"{SECRET}\"\n"
    ));
    assert!(Config::load(Some(f.path()), &Overrides::default()).is_ok());
}

#[test]
fn postgres_pool_settings_have_defaults_and_are_checked() {
    let c = Config::defaults();
    assert_eq!(c.postgres.max_connections, 16);
    assert_eq!(
        c.postgres.acquire_timeout,
        std::time::Duration::from_secs(5)
    );
    let f = file("[postgres]\nmax_connections = 40\nacquire_timeout = \"750ms\"\n");
    let c = Config::load(Some(f.path()), &Overrides::default()).unwrap();
    assert_eq!(c.postgres.max_connections, 40);
    assert_eq!(
        c.postgres.acquire_timeout,
        std::time::Duration::from_millis(750)
    );
    let f = file("[postgres]\nmax_connections = 0\n");
    let e = Config::load(Some(f.path()), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("postgres.max_connections"), "{e}");
    let f = file("[postgres]\npool = 3\n");
    let e = Config::load(Some(f.path()), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("pool"), "{e}");
}

#[test]
fn display_timezone_defaults_to_the_first_sources_zone_and_is_checked() {
    let zone = |c: &Config| c.display_zone().iana_name().map(str::to_owned);
    let c = Config::defaults();
    assert_eq!(
        zone(&c),
        c.sources[0]
            .context()
            .timezone
            .iana_name()
            .map(str::to_owned),
        "the first default source's zone"
    );
    let f = file("[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntimezone = \"Europe/Berlin\"\n");
    let c = Config::load(Some(f.path()), &Overrides::default()).unwrap();
    assert_eq!(zone(&c).as_deref(), Some("Europe/Berlin"));
    assert!(c
        .effective_toml()
        .unwrap()
        .contains("display_timezone = \"Europe/Berlin\""));
    let f = file("display_timezone = \"America/New_York\"\n[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntimezone = \"Europe/Berlin\"\n");
    let c = Config::load(Some(f.path()), &Overrides::default()).unwrap();
    assert_eq!(zone(&c).as_deref(), Some("America/New_York"));
    let f = file("display_timezone = \"Mars/Base\"\n");
    let e = Config::load(Some(f.path()), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("display_timezone") && e.contains("Mars/Base"),
        "{e}"
    );
}
