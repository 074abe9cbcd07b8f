//! `longlonglong-inbound`: the docs.longlonglong.cn inbound success callback
//! (呼入成功回调数据, vendor doc 003).
//!
//! Body: `{"count": N, "data": [...]}` (a bare record, or `data` as one
//! object, is accepted). Every record is an answered inbound call. Times are
//! `yyyy-MM-dd HH:mm:ss` in the source's zone (Beijing time by default);
//! `bill` (通话时长) is talk seconds; `duration` (seconds, undescribed) is kept
//! raw in `vendor_fields`.

use super::batch::{parse_each, records, type_name, Layout};
use super::{values, ParseError, Parsed, Record, SourceContext};
use crate::domain::{CallUpdate, Direction, Intent, Outcome, Region, Vendor};
use serde_json::Value;

/// The `vendor_status` of every record: the callback itself is the status.
pub const VENDOR_STATUS: &str = "inbound_success";

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is an object
/// with a `data` array (or a bare record) or an array of records.
pub fn parse(body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let layout = Layout::Wrapped {
        field: "data",
        id_field: "callid",
    };
    let (items, prefix) = records(body, &layout)?;
    Ok(parse_each(items, &prefix, |r| record(r, ctx)))
}

fn record(r: &mut Record, ctx: &SourceContext) -> Result<CallUpdate, String> {
    let id = r.call_id("callid")?;
    let tz = &ctx.timezone;
    let mut u = CallUpdate::new(Vendor::Longlonglong, id, Direction::Inbound);
    let s = &mut u.set;
    s.outcome = Some(Outcome::Answered);
    s.vendor_status = Some(VENDOR_STATUS.to_owned());
    s.originated_at = r.time("calldate", tz);
    s.answered_at = r.time("answerdate", tz);
    s.talk_seconds = r.integer("bill");
    s.intent = r.text("intention_results").map(|code| Intent {
        code: Some(code),
        label: None,
    });
    s.recording_url = r.text("voice_url");
    if let Some(mut n) = r.child("number_data") {
        s.customer_number = n.text("number");
        s.ended_at = n.time("hangupdate", tz);
        let region = Region {
            province: n.text("province"),
            city: n.text("city"),
            carrier: n.text("operator"),
        };
        if region.province.is_some() || region.city.is_some() || region.carrier.is_some() {
            s.region = Some(region);
        }
        r.absorb("number_data", n);
    }
    if let Some(mut g) = r.child("group") {
        s.script_id = g.text("id");
        r.absorb("group", g);
    }
    if let Some(mut t) = r.child("task") {
        s.task_id = t.text("id");
        s.task_name = t.text("name");
        r.absorb("task", t);
    }
    if let Some((names, ids)) = tags(r) {
        u.set.tags = Some(names);
        if !ids.is_empty() {
            u.vendor_fields.insert("tag_ids".into(), Value::from(ids));
        }
    }
    Ok(u)
}

/// The keys of a tag object that the names and `tag_ids` hold.
const TAG_KEYS: [&str; 2] = ["tag_id", "name"];

/// `tags: [{tag_id, name}]` → (names, tag ids, one per name in the same
/// order); plain strings are accepted as names and a bare tag object as a
/// list of one. When some tag has no name, no `tag_id` or keys of its own,
/// `tags` stays as received in `vendor_fields` and no ids are returned.
fn tags(r: &mut Record) -> Option<(Vec<String>, Vec<Value>)> {
    let list = match r.peek("tags")? {
        Value::Array(items) => items.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        Value::Null => {
            r.take("tags");
            return None;
        }
        other => {
            r.warn(
                "tags",
                format!("expected an array of tags, found {}", type_name(other)),
            );
            return None;
        }
    };
    let (mut names, mut ids) = (Vec::with_capacity(list.len()), Vec::new());
    let mut lossless = true;
    for tag in &list {
        let (name, id) = match tag {
            Value::Object(m) => {
                if m.keys().any(|k| !TAG_KEYS.contains(&k.as_str())) {
                    lossless = false;
                }
                let id = m.get("tag_id").filter(|v| !v.is_null()).cloned();
                let name = m.get("name").and_then(|v| values::text(v).ok().flatten());
                (name, id)
            }
            other => (values::text(other).ok().flatten(), None),
        };
        match (name, id) {
            (Some(name), Some(id)) => {
                names.push(name);
                ids.push(id);
            }
            (Some(name), None) => {
                names.push(name);
                lossless = false;
            }
            (None, _) => lossless = false,
        }
    }
    if lossless {
        r.take("tags");
    } else {
        ids.clear();
    }
    Some((names, ids))
}
