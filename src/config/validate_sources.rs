//! Checking `[[sources]]`: the built-in sources when none is configured,
//! names (URL-safe, unique), and each source's settings resolved into its
//! [`SourceContext`] and [`Signer`].

use super::{url_safe, SourceConfig};
use crate::adapters::mapping::Mapping;
use crate::adapters::SourceContext;
use crate::domain::SourceKind;
use crate::signature::Signer;
use jiff::tz::TimeZone;
use secrecy::ExposeSecret;

/// Fills `sources` with one source per built-in kind when it is empty,
/// then checks each and sets its `context` and `signer`.
///
/// Errors: a message naming the source and key
/// (``sources[0] (`ali`).timezone: unknown time zone `Mars/Base` (…)``).
pub(super) fn fill_and_check(sources: &mut Vec<SourceConfig>) -> Result<(), String> {
    if sources.is_empty() {
        *sources = SourceKind::built_in()
            .map(SourceConfig::default_for)
            .collect();
    }
    let mut seen = std::collections::HashSet::new();
    for (i, s) in sources.iter_mut().enumerate() {
        let at = format!("sources[{i}] (`{}`)", s.name);
        if !url_safe(&s.name) {
            return Err(format!(
                "{at}: name must be non-empty and use only A-Z a-z 0-9 - _ ."
            ));
        }
        if !seen.insert(s.name.clone()) {
            return Err(format!("{at}: duplicate source name"));
        }
        s.context = Some(source_context(s).map_err(|e| format!("{at}.{e}"))?);
    }
    Ok(())
}

/// Checks one source's settings and resolves its adapter settings (its
/// kind's defaults with `timezone`, `currency` and `mapping` applied);
/// builds its signer on the way.
///
/// Errors: a message starting with the key at fault (`timezone: …`).
fn source_context(s: &mut SourceConfig) -> Result<SourceContext, String> {
    let mut ctx = SourceContext::default_for(s.kind);
    if let Some(tz) = &s.timezone {
        ctx.timezone =
            TimeZone::get(tz).map_err(|e| format!("timezone: unknown time zone `{tz}` ({e})"))?;
    }
    if let Some(cur) = &s.currency {
        ctx.currency = Some(currency_code(cur)?);
    }
    for (key, v) in [
        ("rate_limit", s.rate_limit),
        ("rate_limit_burst", s.rate_limit_burst),
    ] {
        if v == Some(0) {
            return Err(format!(
                "{key}: must be at least 1 (remove the key for no limit)"
            ));
        }
    }
    if s.token
        .as_ref()
        .is_some_and(|t| t.expose_secret().is_empty())
    {
        return Err("token: empty; remove the key for no token".into());
    }
    kind_settings(s, &mut ctx)?;
    Ok(ctx)
}

/// `cur` upper-cased when it is three letters (ISO 4217).
fn currency_code(cur: &str) -> Result<String, String> {
    if cur.len() != 3 || !cur.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("currency: `{cur}` is not an ISO 4217 code"));
    }
    Ok(cur.to_ascii_uppercase())
}

/// Checks the settings that belong to some kinds only (`secret` and
/// `signature`, `vendor` and `mapping`), builds the source's [`Signer`] and
/// puts its compiled [`Mapping`] into `ctx`.
///
/// Errors: a message starting with the key at fault.
fn kind_settings(s: &mut SourceConfig, ctx: &mut SourceContext) -> Result<(), String> {
    if s.kind == SourceKind::Mapped {
        let vendor = s
            .vendor
            .ok_or("vendor: required for a mapped source (the vendor name its calls carry)")?;
        let spec = s
            .mapping
            .as_ref()
            .ok_or("mapping: required for a mapped source ([sources.mapping])")?;
        let m = Mapping::compile(spec, vendor, ctx.currency.as_deref())
            .map_err(|e| format!("mapping.{e}"))?;
        ctx.mapping = Some(std::sync::Arc::new(m));
    } else if s.vendor.is_some() || s.mapping.is_some() {
        return Err(format!(
            "{}: only a `mapped` source takes `vendor` and [sources.mapping]",
            if s.vendor.is_some() {
                "vendor"
            } else {
                "mapping"
            }
        ));
    }
    match &s.secret {
        Some(secret) if secret.expose_secret().is_empty() => {
            return Err("secret: empty; remove the key for no signature check".into())
        }
        Some(secret) => {
            s.signer = Some(Signer::new(s.kind, secret.clone(), s.signature.as_ref())?);
        }
        None if s.signature.is_some() => {
            return Err("signature: needs the source's `secret`".into());
        }
        None => s.signer = None,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_currency_is_three_letters_upper_cased() {
        assert_eq!(currency_code("eur"), Ok("EUR".to_owned()));
        assert_eq!(
            currency_code("euro"),
            Err("currency: `euro` is not an ISO 4217 code".to_owned())
        );
        assert!(currency_code("e1r").is_err());
    }

    #[test]
    fn no_sources_means_one_per_built_in_kind_and_names_must_be_unique() {
        let mut sources = Vec::new();
        fill_and_check(&mut sources).unwrap();
        assert_eq!(sources.len(), SourceKind::built_in().count());
        assert!(sources.iter().all(|s| s.context.is_some()));
        let twice = SourceConfig::default_for(sources[0].kind);
        sources.push(twice);
        let e = fill_and_check(&mut sources).unwrap_err();
        assert!(e.ends_with(": duplicate source name"), "{e}");
    }
}
