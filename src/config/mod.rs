//! Configuration: embedded defaults < TOML file < `CALLHOOK_*` environment
//! < command-line flags, validated once at start (README, Interfaces:
//! Configuration file). Secrets are [`SecretString`]s and never printed.

use crate::adapters::mapping::MappingSpec;
use crate::adapters::SourceContext;
use crate::domain::{SourceKind, Vendor};
use crate::signature::Signer;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use ipnet::IpNet;
use jiff::tz::TimeZone;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod access;
mod alert_rules;
pub mod alerts;
mod api_tokens;
pub mod display;
pub mod explain;
mod limits;
mod postgres;
pub mod recordings;
pub mod redact;
mod retention;
mod subscribers;
mod validate_sources;

pub use crate::signature::SignatureConfig;
pub use alerts::{AlertChannelConfig, AlertKind, AlertRuleConfig, Condition};
pub use api_tokens::{ApiTokenConfig, Principal, Scope, API_TOKEN_NAME};
pub use limits::{Limits, DEFAULT_MAX_BODY_BYTES};
pub use postgres::PostgresSettings;
pub use recordings::RecordingsConfig;
pub use subscribers::{
    default_retry_schedule, secret_key, NatsConfig, SubscriberConfig, NATS_TARGET,
};

/// The whole configuration. It serialises as `callhook check-config`
/// prints it: secrets and URL passwords redacted ([`redact`]).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; default `127.0.0.1:8080`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// `sqlite://PATH` (default `sqlite://callhook.db`) or `postgres://…`.
    #[serde(default = "default_database", serialize_with = "redact::url")]
    pub database: String,
    /// Guards `/api`, `/metrics` and the dashboard when set
    /// (`Authorization: Bearer …`, or the login form); admin scope.
    #[serde(default, serialize_with = "redact::opt_secret")]
    pub api_token: Option<SecretString>,
    /// `[[api_tokens]]`: more named tokens, each `read` or `admin`.
    #[serde(default)]
    pub api_tokens: Vec<ApiTokenConfig>,
    /// PEM certificate chain: with `tls_key`, serve HTTPS (rustls).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Masks customer numbers (all but the last 4 digits) in logs, the
    /// dashboard and exports; the JSON API still answers them whole.
    #[serde(default)]
    pub mask_numbers: bool,
    /// `[limits]`: body size, records per push, JSON depth, acknowledgement
    /// budget, concurrency, timeouts.
    #[serde(default)]
    pub limits: Limits,
    /// `[postgres]`: the connection pool on a `postgres://` database.
    #[serde(default)]
    pub postgres: PostgresSettings,
    /// Proxies (CIDR) whose `X-Forwarded-For` names the pushing client for
    /// `allow_ips` and receipts; from any other peer the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
    /// Lets subscribers be loopback/private addresses (outbound delivery).
    #[serde(default)]
    pub allow_private_subscribers: bool,
    /// `[nats]`: publish every event to JetStream.
    #[serde(default)]
    pub nats: Option<NatsConfig>,
    /// `[[subscribers]]`: outbound webhook endpoints.
    #[serde(default)]
    pub subscribers: Vec<SubscriberConfig>,
    /// Push URLs; when empty, one source per kind, named as its kind.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Days receipts, calls and finished outbound events are kept (by
    /// `received_at`, `started_at`, `created_at`); older ones are purged
    /// by `serve` and `callhook purge`. None (the default): kept forever.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// How often `serve` purges when `retention_days` is set; default 1 h.
    #[serde(
        default = "retention::default_interval",
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub retention_interval: std::time::Duration,
    /// IANA zone of every time the dashboard shows, of its day boundaries
    /// and of exports' local-time columns; default: the first source's
    /// `timezone`, else UTC ([`display::resolve`]). Stored times stay UTC.
    #[serde(default)]
    pub display_timezone: Option<String>,
    /// `display_timezone` as resolved by [`Config::validate`].
    #[serde(skip)]
    display_zone: Option<TimeZone>,
    /// `[[alerts]]`: rules evaluated by `serve` (docs/alerts.md).
    #[serde(default)]
    pub alerts: Vec<AlertRuleConfig>,
    /// `[[alert_channels]]`: webhooks notified when a rule fires or resolves.
    #[serde(default)]
    pub alert_channels: Vec<AlertChannelConfig>,
    /// How often `serve` evaluates `[[alerts]]`; default 30 s.
    #[serde(
        default = "alerts::default_interval",
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub alerts_interval: std::time::Duration,
    /// `[recordings]`: the recordings archive (docs/recordings.md).
    #[serde(default)]
    pub recordings: RecordingsConfig,
}

/// One push URL given to one vendor account.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// URL-safe name: the segment of `/hooks/{name}`.
    pub name: String,
    pub kind: SourceKind,
    /// Secret expected in the path, `?token=` or `Authorization: Bearer`.
    #[serde(default, serialize_with = "redact::opt_secret")]
    pub token: Option<SecretString>,
    /// IANA zone for zone-less times; default by kind (see [`SourceContext::default_for`]).
    #[serde(default)]
    pub timezone: Option<String>,
    /// ISO 4217 code for money without a currency; default by kind.
    #[serde(default)]
    pub currency: Option<String>,
    /// Client networks allowed to push (CIDR); empty allows any.
    #[serde(default)]
    pub allow_ips: Vec<IpNet>,
    /// Pushes per second this source may make (per instance); above it:
    /// 429 with `Retry-After`. None (the default): unlimited.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Pushes allowed at once before `rate_limit` applies; default `rate_limit`.
    #[serde(default)]
    pub rate_limit_burst: Option<u32>,
    /// Signed kinds (Vapi, Retell, Bland): the key of the vendor's
    /// signature (Retell's API key, Bland's webhook signing secret, Vapi's
    /// server secret). When set, an unsigned or wrongly signed push is 401.
    #[serde(default, serialize_with = "redact::opt_secret")]
    pub secret: Option<SecretString>,
    /// Vapi: `[sources.signature]`, how its pushes are signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureConfig>,
    /// `mapped`: the vendor name its calls carry (lowercase, URL-safe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Vendor>,
    /// `mapped`: `[sources.mapping]`, where each canonical field is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingSpec>,
    /// Resolved from `timezone`, `currency` and `mapping` by [`Config::validate`].
    #[serde(skip)]
    pub context: Option<SourceContext>,
    /// Built from `secret` and `signature` by [`Config::validate`].
    #[serde(skip)]
    pub signer: Option<Signer>,
}

impl SourceConfig {
    /// A source named after its kind, with the kind's defaults.
    pub fn default_for(kind: SourceKind) -> SourceConfig {
        SourceConfig {
            name: kind.as_str().to_owned(),
            kind,
            token: None,
            timezone: None,
            currency: None,
            allow_ips: Vec::new(),
            rate_limit: None,
            rate_limit_burst: None,
            secret: None,
            signature: None,
            vendor: None,
            mapping: None,
            context: Some(SourceContext::default_for(kind)),
            signer: None,
        }
    }

    /// The vendor of this source's calls: the kind's, or a mapped source's
    /// `vendor` setting (`None` only before validation).
    pub fn vendor(&self) -> Option<Vendor> {
        self.kind.vendor().or(self.vendor)
    }

    /// The adapter settings (resolved at validation; the kind's defaults before).
    pub fn context(&self) -> SourceContext {
        self.context
            .clone()
            .unwrap_or_else(|| SourceContext::default_for(self.kind))
    }

    /// Whether `given` is this source's token (constant-time); true when none is set.
    pub fn token_matches(&self, given: Option<&str>) -> bool {
        match (&self.token, given) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(t), Some(g)) => secret_matches(t, g),
        }
    }
}

/// Whether `given` is `secret`, compared in constant time (source tokens,
/// `api_token`).
pub fn secret_matches(secret: &SecretString, given: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(secret.expose_secret().as_bytes(), given.as_bytes()).into()
}

impl Config {
    /// The configuration as it takes effect, as TOML: defaults filled in
    /// (each source's time zone and currency as resolved), secrets and
    /// URL passwords as `<redacted>` (`callhook check-config`).
    ///
    /// Errors: the TOML serialiser's message (not expected for a loaded
    /// configuration).
    pub fn effective_toml(&self) -> Result<String, String> {
        let mut shown = self.clone();
        shown.display_timezone = Some(display::name(&self.display_zone()));
        for s in &mut shown.sources {
            let ctx = s.context();
            s.timezone = s
                .timezone
                .take()
                .or_else(|| ctx.timezone.iana_name().map(str::to_owned));
            s.currency = s.currency.take().or(ctx.currency);
        }
        let text = toml::to_string_pretty(&shown).map_err(|e| e.to_string())?;
        Ok(match self.retention_days {
            // TOML has no null: say what an absent key means.
            None => format!("# retention_days is not set: everything is kept\n{text}"),
            Some(_) => text,
        })
    }
}

/// Whether `name` is non-empty and only `A-Z a-z 0-9 - _ .` (source and
/// subscriber names appear in URLs).
fn url_safe(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_database() -> String {
    "sqlite://callhook.db".to_owned()
}

/// Why an in-memory (or empty-named, temporary) SQLite database is refused.
const PRIVATE_SQLITE: &str = "an in-memory or temporary SQLite database is private to one \
    connection, so the API could not read back what pushes stored; use sqlite://FILE";

/// The backend `database` names ([`Config::store_url`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The SQLite file's path.
    Sqlite(String),
    /// The PostgreSQL connection URL, as given.
    Postgres(String),
}

/// Settings given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {}", explain::explain(.0))]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` (if any), then `CALLHOOK_LISTEN`,
    /// `CALLHOOK_DATABASE`, `CALLHOOK_API_TOKEN`,
    /// `CALLHOOK_ALLOW_PRIVATE_SUBSCRIBERS`, `CALLHOOK_RETENTION_DAYS`,
    /// `CALLHOOK_RETENTION_INTERVAL`, `CALLHOOK_LIMITS_<KEY>` (e.g.
    /// `CALLHOOK_LIMITS_ACK_BUDGET=300ms`) and `CALLHOOK_POSTGRES_<KEY>`
    /// (e.g. `CALLHOOK_POSTGRES_MAX_CONNECTIONS=32`), `CALLHOOK_RECORDINGS_<KEY>`
    /// (e.g. `CALLHOOK_RECORDINGS_URL=s3://bucket/calls`), then `overrides`, and
    /// validates.
    ///
    /// Errors: [`ConfigError::Load`] for an unreadable file, a wrong type or an
    /// unknown key (with its path); [`ConfigError::Invalid`] as [`Config::validate`].
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig
            .merge(Env::prefixed("CALLHOOK_").only(&[
                "listen",
                "database",
                "api_token",
                "allow_private_subscribers",
                "tls_cert",
                "tls_key",
                "mask_numbers",
                "retention_days",
                "retention_interval",
                "alerts_interval",
            ]))
            .merge(Env::prefixed("CALLHOOK_LIMITS_").map(|k| format!("limits.{k}").into()))
            .merge(Env::prefixed("CALLHOOK_POSTGRES_").map(|k| format!("postgres.{k}").into()))
            .merge(Env::prefixed("CALLHOOK_RECORDINGS_").map(|k| format!("recordings.{k}").into()))
            .merge(Serialized::defaults(overrides));
        let mut config: Config = fig.extract().map_err(Box::new)?;
        config
            .validate()
            .map_err(|e| explain::name_the_variable(e, overrides))?;
        Ok(config)
    }

    /// The built-in configuration (no file), validated.
    pub fn defaults() -> Config {
        let mut c: Config = Figment::new()
            .extract()
            .expect("defaults always deserialize");
        c.validate().expect("defaults are valid");
        c
    }

    /// Fills default sources, resolves time zones and currencies, and checks
    /// names (URL-safe, unique) and the database URL.
    ///
    /// Errors: [`ConfigError::Invalid`] naming the offending source or key.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        validate_sources::fill_and_check(&mut self.sources).map_err(ConfigError::Invalid)?;
        self.validate_sections().map_err(ConfigError::Invalid)?;
        self.display_zone = Some(
            display::resolve(self.display_timezone.as_deref(), &self.sources)
                .map_err(ConfigError::Invalid)?,
        );
        self.validate_alerts().map_err(ConfigError::Invalid)
    }

    /// Checks the tokens, TLS files, database URL, `[limits]`,
    /// `[postgres]`, `[recordings]`, retention and the subscribers, in
    /// that order.
    ///
    /// Errors: the first section's message.
    fn validate_sections(&self) -> Result<(), String> {
        api_tokens::validate(self.api_token.as_ref(), &self.api_tokens)?;
        self.tls_files()?;
        self.store_url()?;
        self.limits.validate()?;
        self.postgres.validate()?;
        self.recordings.validate()?;
        retention::validate(self.retention_days, self.retention_interval)?;
        subscribers::validate(
            &self.subscribers,
            self.nats.as_ref(),
            self.allow_private_subscribers,
        )
    }

    /// Checks `[[alert_channels]]` and `[[alerts]]` against the sources and
    /// targets, resolving each rule's condition.
    ///
    /// Errors: a message naming the entry and key.
    fn validate_alerts(&mut self) -> Result<(), String> {
        let sources: Vec<String> = self.sources.iter().map(|s| s.name.clone()).collect();
        let known = alerts::Known {
            sources: &sources,
            targets: &self.target_names(),
        };
        alerts::validate(
            &mut self.alerts,
            &self.alert_channels,
            self.alerts_interval,
            self.allow_private_subscribers,
            &known,
        )
    }

    /// The zone the dashboard and exports show times in
    /// (`display_timezone` as resolved; UTC before [`Config::validate`]).
    pub fn display_zone(&self) -> TimeZone {
        self.display_zone.clone().unwrap_or(TimeZone::UTC)
    }

    /// The store `database` names: `sqlite://PATH` (`sqlite://callhook.db`
    /// → the file `callhook.db`) or `postgres://…` / `postgresql://…`.
    ///
    /// Errors: a message naming the URL for other schemes, and for in-memory
    /// or empty SQLite names (SQLite gives each connection its own such
    /// database, so the read pool would never see what the writer stored).
    pub fn store_url(&self) -> Result<StoreUrl, String> {
        let d = self.database.as_str();
        if d.starts_with("postgres://") || d.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(d.to_owned()));
        }
        let path = d
            .strip_prefix("sqlite://")
            .or_else(|| d.strip_prefix("sqlite:"))
            .ok_or_else(|| format!("database `{d}`: expected sqlite://PATH or postgres://…"))?;
        if path.is_empty() || path == ":memory:" {
            return Err(format!("database `{d}`: {PRIVATE_SQLITE}"));
        }
        Ok(StoreUrl::Sqlite(path.to_owned()))
    }

    /// The names of the outbound targets: each subscriber, then `nats`
    /// when `[nats]` is set.
    pub fn target_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.subscribers.iter().map(|s| s.name.clone()).collect();
        if self.nats.is_some() {
            names.push(NATS_TARGET.to_owned());
        }
        names
    }

    /// The source named `name`.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests;
