//! The steps of [`Mapping::compile`](super::Mapping::compile) for groups of
//! fields: direction, text, time and duration fields, and cost. Each takes
//! `path`, which parses a JSONPath and notes the top-level key it consumes.

use super::{
    canonical, coded, iso_4217, need_path, text_fields, time_format, CostRule, Currency,
    DirectionRule, Path, Scale, SecondsTarget, TextTarget, TimeFormat, TimeTarget,
};
use crate::adapters::mapping::spec::{FieldSpec, MappingSpec};
use crate::domain::Direction;

/// `direction`: outbound when absent, a constant `value`, or a `path` with
/// a `map` onto outbound / inbound.
pub(super) fn direction_rule(
    f: Option<&FieldSpec>,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<DirectionRule, String> {
    let Some(f) = f else {
        return Ok(DirectionRule::Fixed(Direction::Outbound));
    };
    match (&f.value, &f.path) {
        (Some(v), None) => Ok(DirectionRule::Fixed(canonical("direction.value", v)?)),
        (None, Some(_)) if f.map.is_none() => {
            Err("direction: a `path` needs a `map` onto outbound / inbound".into())
        }
        (None, Some(_)) => Ok(DirectionRule::Mapped(coded("direction", f, path)?)),
        _ => Err("direction: give either `value` or `path` with `map`".into()),
    }
}

/// The fields of `table` that are given, in its order.
fn given<'a, T, const N: usize>(
    table: [(T, &'static str, &'a Option<FieldSpec>); N],
) -> impl Iterator<Item = (T, &'static str, &'a FieldSpec)> {
    table
        .into_iter()
        .filter_map(|(target, key, f)| Some((target, key, f.as_ref()?)))
}

/// The text fields `spec` gives, in [`text_fields`] order.
pub(super) fn text_rules(
    spec: &MappingSpec,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<Vec<(TextTarget, Path)>, String> {
    given(text_fields(spec))
        .map(|(target, key, f)| Ok((target, path(key, need_path(key, f)?)?)))
        .collect()
}

/// The time fields `spec` gives, each with its format.
pub(super) fn time_rules(
    spec: &MappingSpec,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<Vec<(TimeTarget, Path, TimeFormat)>, String> {
    given([
        (TimeTarget::Originated, "originated_at", &spec.originated_at),
        (TimeTarget::Ringing, "ringing_at", &spec.ringing_at),
        (TimeTarget::Answered, "answered_at", &spec.answered_at),
        (TimeTarget::Ended, "ended_at", &spec.ended_at),
    ])
    .map(|(target, key, f)| Ok((target, path(key, need_path(key, f)?)?, time_format(key, f)?)))
    .collect()
}

/// The duration fields `spec` gives, each with its unit as a [`Scale`] to
/// seconds.
pub(super) fn seconds_rules(
    spec: &MappingSpec,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<Vec<(SecondsTarget, Path, Scale)>, String> {
    given([
        (SecondsTarget::Ring, "ring_seconds", &spec.ring_seconds),
        (SecondsTarget::Talk, "talk_seconds", &spec.talk_seconds),
        (
            SecondsTarget::Billed,
            "billed_seconds",
            &spec.billed_seconds,
        ),
    ])
    .map(|(target, key, f)| {
        let scale = seconds_scale(key, f.unit.as_deref())?;
        Ok((target, path(key, need_path(key, f)?)?, scale))
    })
    .collect()
}

/// A duration's `unit` (`s`, the default, `ms` or `min`) as seconds per unit.
fn seconds_scale(key: &str, unit: Option<&str>) -> Result<Scale, String> {
    match unit.unwrap_or("s") {
        "s" => Ok(Scale(1.0)),
        "ms" => Ok(Scale(0.001)),
        "min" => Ok(Scale(60.0)),
        u => Err(format!("{key}.unit: `{u}` (expected s, ms or min)")),
    }
}

/// `cost`: the amount's path, its unit (`cents` or none) and its currency;
/// `source_currency` is the source's `currency`, the default.
pub(super) fn cost_rule(
    f: &FieldSpec,
    source_currency: Option<&str>,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<CostRule, String> {
    let amount = path("cost", need_path("cost", f)?)?;
    let cents = match f.unit.as_deref() {
        None => false,
        Some("cents") => true,
        Some(u) => return Err(format!("cost.unit: `{u}` (expected cents, or no unit)")),
    };
    let currency = match (&f.currency, &f.currency_path, source_currency) {
        (Some(c), None, _) => Currency::Fixed(iso_4217("cost.currency", c)?),
        (None, Some(p), _) => Currency::At(path("cost.currency_path", p)?),
        (None, None, Some(c)) => Currency::Fixed(c.to_owned()),
        (None, None, None) => {
            return Err(
                "cost: give `currency` or `currency_path` (or set the source's `currency`)".into(),
            )
        }
        (Some(_), Some(_), _) => {
            return Err("cost: give `currency` or `currency_path`, not both".into())
        }
    };
    Ok(CostRule {
        amount,
        cents,
        currency,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse_path;
    use super::*;

    fn at(key: &str, text: &str) -> Result<Path, String> {
        parse_path(key, text)
    }

    fn field(path: &str) -> FieldSpec {
        FieldSpec {
            path: Some(path.to_owned()),
            ..FieldSpec::default()
        }
    }

    #[test]
    fn direction_is_outbound_by_default_and_a_path_needs_a_map() {
        assert!(matches!(
            direction_rule(None, &mut at),
            Ok(DirectionRule::Fixed(Direction::Outbound))
        ));
        let e = direction_rule(Some(&field("$.dir")), &mut at).unwrap_err();
        assert!(e.contains("needs a `map`"), "{e}");
        let both = FieldSpec {
            value: Some("inbound".into()),
            ..field("$.dir")
        };
        assert!(direction_rule(Some(&both), &mut at)
            .unwrap_err()
            .contains("either"));
    }

    #[test]
    fn duration_units_are_seconds_per_unit() {
        assert_eq!(seconds_scale("talk_seconds", None), Ok(Scale(1.0)));
        assert_eq!(seconds_scale("talk_seconds", Some("ms")), Ok(Scale(0.001)));
        assert_eq!(seconds_scale("talk_seconds", Some("min")), Ok(Scale(60.0)));
        assert_eq!(
            seconds_scale("talk_seconds", Some("h")),
            Err("talk_seconds.unit: `h` (expected s, ms or min)".into())
        );
    }

    #[test]
    fn cost_takes_its_currency_from_the_field_the_record_or_the_source() {
        let fixed = FieldSpec {
            currency: Some("eur".into()),
            unit: Some("cents".into()),
            ..field("$.cost")
        };
        let rule = cost_rule(&fixed, Some("USD"), &mut at).unwrap();
        assert!(rule.cents);
        assert!(matches!(rule.currency, Currency::Fixed(ref c) if c == "EUR"));
        let rule = cost_rule(&field("$.cost"), Some("USD"), &mut at).unwrap();
        assert!(matches!(rule.currency, Currency::Fixed(ref c) if c == "USD"));
        let e = cost_rule(&field("$.cost"), None, &mut at).unwrap_err();
        assert!(e.starts_with("cost: give `currency`"), "{e}");
    }
}
