//! `callhook sources`: one line per source with its push URL.

use crate::config::Config;
use crate::domain::SourceKind;
use secrecy::ExposeSecret;
use std::process::ExitCode;

/// The push URL of each source, tokens as `<token>` unless `show_secrets`.
pub fn lines(config: &Config, base_url: Option<&str>, show_secrets: bool) -> Vec<String> {
    let base = base_url
        .map(|b| b.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("{}://{}", config.scheme(), config.listen));
    config
        .sources
        .iter()
        .map(|s| {
            let url = match &s.token {
                None => format!("{base}/hooks/{}", s.name),
                Some(t) if show_secrets => {
                    format!(
                        "{base}/hooks/{}/{}",
                        s.name,
                        path_segment(t.expose_secret())
                    )
                }
                Some(_) => format!("{base}/hooks/{}/<token>", s.name),
            };
            let vendor = s.vendor().map_or("", |v| v.as_str());
            format!("{:<24} {:<24} {:<13} {}", s.name, s.kind, vendor, url)
        })
        .collect()
}

/// `s` as one URL path segment: every byte but the unreserved
/// `A-Z a-z 0-9 - . _ ~` percent-encoded, so a token holding `/`, `?`, `#`,
/// `%` or a space still reaches `POST /hooks/{source}/{token}` whole (the
/// route decodes it).
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn run(
    config: &Config,
    base_url: Option<&str>,
    show_secrets: bool,
) -> anyhow::Result<ExitCode> {
    println!("{:<24} {:<24} {:<13} PUSH URL", "SOURCE", "KIND", "VENDOR");
    for l in lines(config, base_url, show_secrets) {
        println!("{l}");
    }
    // After a blank line, the kinds a source may have.
    let kinds: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
    println!();
    println!(
        "kinds: {} (mapped: any vendor, read by a [sources.mapping] table)",
        kinds.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
