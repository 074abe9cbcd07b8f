//! `[[alerts]]` and `[[alert_channels]]` in the configuration: errors name
//! the rule and key, `check-config` prints them with secrets redacted, and
//! the examples of docs/alerts.md load.

use crate::receiver::SECRET;
use callhook::config::{Config, Overrides};
use std::io::Write;

fn load(toml: &str) -> Result<Config, String> {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(toml.as_bytes()).unwrap();
    Config::load(Some(f.path()), &Overrides::default()).map_err(|e| e.to_string())
}

#[test]
fn configuration_errors_name_the_rule_and_key() {
    let channel = format!(
        "[[alert_channels]]\nname = \"ops\"\nurl = \"https://hooks.example.com/x\"\nsecret = \"{SECRET}\"\n"
    );
    let cases = [
        ("[[alerts]]\nname = \"a\"\nkind = \"source_silent\"\nminutes = 5\n", "alerts[0] (`a`).source: required for kind source_silent"),
        ("[[alerts]]\nname = \"a\"\nkind = \"source_silent\"\nsource = \"nope\"\nminutes = 5\n", "source: no source named `nope`"),
        ("[[alerts]]\nname = \"a\"\nkind = \"source_silent\"\nsource = \"bland-call\"\nminutes = 5\nactive_hours = \"8-20\"\n", "active_hours: `8-20` is not \"HH:MM-HH:MM\""),
        ("[[alerts]]\nname = \"a\"\nkind = \"source_silent\"\nsource = \"bland-call\"\nminutes = 5\nactive_hours = \"08:00-20:00\"\ntimezone = \"Mars/Olympus\"\n", "timezone: unknown time zone `Mars/Olympus`"),
        ("[[alerts]]\nname = \"a\"\nkind = \"rejected_rate\"\nabove = 5\nwindow_minutes = 10\n", "above: 5 is not a fraction from 0 to 1"),
        ("[[alerts]]\nname = \"a\"\nkind = \"rejected_rate\"\nabove = 0.1\nwindow_minutes = 10\nsource = \"bland-call\"\n", "source: not a key of kind rejected_rate"),
        ("[[alerts]]\nname = \"a\"\nkind = \"dead_deliveries\"\nsubscriber = \"crm\"\n", "subscriber: no subscriber named `crm`"),
        ("[[alerts]]\nname = \"a\"\nkind = \"answer_rate\"\nbelow = 0.2\nwindow_minutes = 60\n", "task_id: give either task_id or vendor"),
        ("[[alerts]]\nname = \"a\"\nkind = \"answer_rate\"\ntask_id = \"t\"\nwindow_minutes = 60\n", "below: required for kind answer_rate"),
        ("[[alerts]]\nname = \"a\"\nkind = \"dead_deliveries\"\n[[alerts]]\nname = \"a\"\nkind = \"dead_deliveries\"\n", "alerts[1] (`a`).name: duplicate alert name"),
        ("[[alerts]]\nname = \"a\"\nkind = \"dead_deliveries\"\nchannels = [\"pager\"]\n", "channels: no [[alert_channels]] named `pager`"),
        ("[[alerts]]\nname = \"a\"\nkind = \"coffee_low\"\n", "coffee_low"),
    ];
    for (rule, want) in cases {
        let err = load(&format!("{channel}\n{rule}")).expect_err(rule);
        assert!(err.contains(want), "{rule}\n=> {err}\nwanted: {want}");
    }
    let err = load(
        "[[alert_channels]]\nname = \"ops\"\nurl = \"http://10.0.0.1/x\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
    )
    .unwrap_err();
    assert!(err.contains("alert_channels[0] (`ops`).url: "), "{err}");
    assert!(err.contains("allow_private_subscribers"), "{err}");
    let err = load(
        "[[alert_channels]]\nname = \"ops\"\nurl = \"https://x.example\"\nsecret = \"nope\"\n",
    )
    .unwrap_err();
    assert!(
        err.contains("alert_channels[0] (`ops`).secret[0]: must start with `whsec_`"),
        "{err}"
    );
    let err = load("alerts_interval = \"0s\"\n").unwrap_err();
    assert!(
        err.contains("alerts_interval: must be longer than zero"),
        "{err}"
    );
}

#[test]
fn check_config_prints_rules_with_channel_secrets_redacted() {
    let c = load(&format!(
        "alerts_interval = \"15s\"\n[[alert_channels]]\nname = \"ops\"\nurl = \"https://hooks.example.com/x\"\nsecret = \"{SECRET}\"\n\
         [[alerts]]\nname = \"quiet\"\nkind = \"source_silent\"\nsource = \"bland-call\"\nminutes = 30\nactive_hours = \"08:00-20:00\"\ntimezone = \"Asia/Shanghai\"\n"
    ))
    .unwrap();
    let text = c.effective_toml().unwrap();
    assert!(!text.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "{text}");
    assert!(text.contains("alerts_interval = \"15s\""), "{text}");
    assert!(
        text.contains("[[alerts]]") && text.contains("kind = \"source_silent\""),
        "{text}"
    );
    assert!(
        text.contains("[[alert_channels]]") && text.contains("<redacted>"),
        "{text}"
    );
}

#[test]
fn the_examples_of_docs_alerts_md_load() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/alerts.md"),
    )
    .unwrap();
    let blocks: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 5, "{blocks:?}");
    // The channels block opens with a top-level key: it goes first. The
    // `dead_deliveries` example defines the subscriber it names.
    let (channels, rules): (Vec<&str>, Vec<&str>) = blocks
        .iter()
        .partition(|b| b.contains("[[alert_channels]]"));
    let toml = format!("{}\n{}", channels.concat(), rules.join("\n"));
    let c = load(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(c.alerts.len(), 5, "one example per kind");
    assert_eq!(c.alert_channels.len(), 1);
}
