//! `display_timezone`: the IANA zone the dashboard shows times in, draws
//! its days in, and exports write their local-time columns in. Stored
//! times stay UTC; this only changes how they are read.

use super::SourceConfig;
use jiff::tz::TimeZone;

/// The zone `display_timezone` names; without it, the first source's
/// time zone (as resolved, so a kind's default counts), else UTC.
///
/// Errors: `display_timezone: unknown time zone …` for a name the time
/// zone database does not know.
pub fn resolve(configured: Option<&str>, sources: &[SourceConfig]) -> Result<TimeZone, String> {
    match configured {
        Some(name) => zone(name).map_err(|e| format!("display_timezone: {e}")),
        None => Ok(sources
            .first()
            .map(|s| s.context().timezone)
            .unwrap_or(TimeZone::UTC)),
    }
}

/// The zone named `name` (an IANA name such as `Asia/Shanghai`, or `UTC`).
///
/// Errors: `unknown time zone `NAME``, for a name the database lacks or
/// that is not a plain zone name (empty, longer than 64 bytes).
pub fn zone(name: &str) -> Result<TimeZone, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "unknown time zone `{name}` (expected an IANA name such as Asia/Shanghai or UTC)"
        ));
    }
    TimeZone::get(name).map_err(|_| {
        format!("unknown time zone `{name}` (expected an IANA name such as Asia/Shanghai or UTC)")
    })
}

/// The name to show for `tz`: its IANA name, else `UTC` for a fixed zone
/// without one.
pub fn name(tz: &TimeZone) -> String {
    tz.iana_name().unwrap_or("UTC").to_owned()
}
