//! [`Vendor`]: the platform that produced a call. Eight are built in; a
//! `mapped` source names its own (its `vendor` setting), so the set is open.
//!
//! A vendor is a `&'static str` so that it stays `Copy` and compares by
//! value. Names that are not built in are interned once per process: at
//! most [`MAX_MAPPED_VENDORS`] distinct names (each at most
//! [`MAX_VENDOR_LEN`] bytes), so untrusted input (an API filter) cannot grow
//! the table without bound.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{OnceLock, RwLock};

/// The platform that produced a call: its wire name (`aliyun`, `vapi`, or a
/// mapped source's `vendor`), lowercase and URL-safe.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vendor(&'static str);

/// The longest vendor name accepted, in bytes.
pub const MAX_VENDOR_LEN: usize = 32;
/// How many names besides the built-in ones one process accepts.
pub const MAX_MAPPED_VENDORS: usize = 1024;

#[allow(non_upper_case_globals)]
impl Vendor {
    /// Alibaba Cloud Intelligent Contact Center (`aiccs`).
    pub const Aliyun: Vendor = Vendor("aliyun");
    /// ITNIO Tech / Onbuka AI Voice.
    pub const Itnio: Vendor = Vendor("itnio");
    /// The call-centre SaaS documented at docs.longlonglong.cn.
    pub const Longlonglong: Vendor = Vendor("longlonglong");
    /// LAAFFIC IVR / AI-agent group calls.
    pub const Laaffic: Vendor = Vendor("laaffic");
    /// Vapi (vapi.ai) voice agents.
    pub const Vapi: Vendor = Vendor("vapi");
    /// Retell AI (retellai.com) voice agents.
    pub const Retell: Vendor = Vendor("retell");
    /// Bland AI (bland.ai) phone agents.
    pub const Bland: Vendor = Vendor("bland");

    /// The built-in vendors, in documentation order.
    pub const ALL: &'static [Vendor] = &[
        Vendor::Aliyun,
        Vendor::Itnio,
        Vendor::Longlonglong,
        Vendor::Laaffic,
        Vendor::Vapi,
        Vendor::Retell,
        Vendor::Bland,
    ];

    /// The wire name, as used in JSON, URLs, NATS subjects and the store.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The built-in vendors, then every other name this process has
    /// accepted (the configured mapped sources' vendors first), sorted.
    pub fn known() -> Vec<Vendor> {
        let mut extra: Vec<Vendor> = interned()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|s| Vendor(s))
            .filter(|v| !Vendor::ALL.contains(v))
            .collect();
        extra.sort();
        Vendor::ALL.iter().copied().chain(extra).collect()
    }

    /// Whether `name` is a usable vendor name: 1 to [`MAX_VENDOR_LEN`] bytes
    /// of `a-z 0-9 - _`.
    pub fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_VENDOR_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }
}

impl Vendor {
    /// A vendor this process already knows (built in, a configured mapped
    /// source's, or one read from the store): for filters typed by users,
    /// where an unknown name is a typo, not a new vendor.
    ///
    /// Errors: a message listing the known vendors.
    pub fn lookup(s: &str) -> Result<Vendor, String> {
        if let Some(v) = Vendor::ALL.iter().find(|v| v.0 == s) {
            return Ok(*v);
        }
        if let Some(found) = interned().read().unwrap_or_else(|p| p.into_inner()).get(s) {
            return Ok(Vendor(found));
        }
        let known: Vec<&str> = Vendor::known().iter().map(|v| v.0).collect();
        Err(format!(
            "unknown vendor `{s}` (expected one of: {})",
            known.join(", ")
        ))
    }
}

fn interned() -> &'static RwLock<HashSet<&'static str>> {
    static NAMES: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    NAMES.get_or_init(Default::default)
}

impl FromStr for Vendor {
    type Err = String;

    /// A built-in name, or any valid name (interned on first use).
    ///
    /// Errors: a message naming the rule for a name that is not
    /// [`Vendor::valid_name`], or when [`MAX_MAPPED_VENDORS`] other names
    /// are already known.
    fn from_str(s: &str) -> Result<Vendor, String> {
        if let Some(v) = Vendor::ALL.iter().find(|v| v.0 == s) {
            return Ok(*v);
        }
        if !Vendor::valid_name(s) {
            let builtin: Vec<&str> = Vendor::ALL.iter().map(|v| v.0).collect();
            return Err(format!(
                "unknown vendor `{s}` (expected one of: {}, or a mapped source's vendor: \
                 1 to {MAX_VENDOR_LEN} characters of a-z 0-9 - _)",
                builtin.join(", ")
            ));
        }
        let names = interned();
        if let Some(found) = names.read().unwrap_or_else(|p| p.into_inner()).get(s) {
            return Ok(Vendor(found));
        }
        let mut names = names.write().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = names.get(s) {
            return Ok(Vendor(found));
        }
        if names.len() >= MAX_MAPPED_VENDORS {
            return Err(format!(
                "unknown vendor `{s}`: this process already knows {MAX_MAPPED_VENDORS} vendor names"
            ));
        }
        // Bounded above: at most MAX_MAPPED_VENDORS names of MAX_VENDOR_LEN bytes.
        let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
        names.insert(leaked);
        Ok(Vendor(leaked))
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.0)
    }
}

impl fmt::Debug for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vendor({})", self.0)
    }
}

impl Serialize for Vendor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Vendor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Vendor, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Vendor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z0-9_-]{1,32}$"))
            .examples(Vendor::ALL.iter().map(|v| serde_json::Value::from(v.0)))
            .description(Some(
                "The platform that produced the call: aliyun, itnio, longlonglong, laaffic, \
                 vapi, retell, bland, or a mapped source's `vendor`.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Vendor {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_names_parse_to_their_constants() {
        for v in Vendor::ALL {
            assert_eq!(v.as_str().parse::<Vendor>().unwrap(), *v);
        }
    }

    #[test]
    fn a_mapped_name_is_interned_once_and_listed_as_known() {
        let a: Vendor = "acme-voice".parse().unwrap();
        let b: Vendor = "acme-voice".parse().unwrap();
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert!(Vendor::known().contains(&a));
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"acme-voice\"");
    }

    #[test]
    fn lookup_knows_only_names_already_seen() {
        assert_eq!(Vendor::lookup("vapi"), Ok(Vendor::Vapi));
        let e = Vendor::lookup("never-configured-vendor").unwrap_err();
        assert!(e.contains("expected one of: aliyun"), "{e}");
        let seen: Vendor = "seen-in-config".parse().unwrap();
        assert_eq!(Vendor::lookup("seen-in-config"), Ok(seen));
    }

    #[test]
    fn names_outside_the_rule_are_refused_with_the_rule() {
        for bad in ["", "Acme", "acme voice", "a/b", &"x".repeat(33)] {
            let e = bad.parse::<Vendor>().unwrap_err();
            assert!(e.contains("a-z 0-9 - _"), "{bad}: {e}");
        }
    }
}
