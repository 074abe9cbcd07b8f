//! A light structural check of JSON values against the schemas of an
//! OpenAPI 3.1 document (`$ref`, `allOf`, `anyOf`, `oneOf`, `type` and type
//! lists, `enum`, `required`, `properties`, `items`, `additionalProperties`,
//! `format: date-time`). Stricter than JSON Schema in one way: an object
//! whose schema lists `properties` and no `additionalProperties` may not
//! carry other keys, so an answer cannot grow an undocumented field.
//! [`Checker`] sends requests to a test app and checks their answers.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

/// The problems of `value` against `schema` (empty when it conforms), each
/// as `JSON path: what is wrong`.
pub fn problems(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(doc, schema, value, "$", &mut out);
    out
}

/// The schema behind a `$ref` (`#/components/schemas/Name`), else `schema`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unsupported $ref {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(!target.is_null(), "dangling $ref {r}");
            resolve(doc, target)
        }
        None => schema,
    }
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown type {other}"),
    }
}

/// Every property a schema (with its `allOf` parts) declares, and whether
/// it admits keys beyond them.
fn declared<'a>(doc: &'a Value, schema: &'a Value, names: &mut Vec<&'a str>) -> bool {
    let schema = resolve(doc, schema);
    let mut open = schema.get("additionalProperties").is_some()
        || (schema.get("properties").is_none() && schema.get("allOf").is_none());
    if let Some(Value::Object(props)) = schema.get("properties") {
        names.extend(props.keys().map(String::as_str));
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        open |= declared(doc, part, names);
    }
    open
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    check_with(doc, schema, value, at, out, true);
}

/// `strict`: flag keys no part declares (off for the parts of an `allOf`,
/// whose keys are checked against all parts together).
fn check_with(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    out: &mut Vec<String>,
    strict: bool,
) {
    let schema = resolve(doc, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check_with(doc, part, value, at, out, false);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alternatives) = schema[key].as_array() {
            let fits = alternatives
                .iter()
                .filter(|alt| problems_at(doc, alt, value, at).is_empty())
                .count();
            let ok = if key == "oneOf" { fits == 1 } else { fits >= 1 };
            if !ok {
                out.push(format!(
                    "{at}: {fits} of the {key} alternatives fit {value}"
                ));
            }
        }
    }
    check_parts(doc, schema, value, at, out);
    if let (Value::Object(map), true) = (value, strict) {
        unknown_keys(doc, schema, map, at, out);
    }
}

fn problems_at(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    check(doc, schema, value, at, &mut out);
    out
}

/// `schema`'s own keywords (not its `allOf`/`anyOf`/`oneOf`).
fn check_parts(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
        out.push(format!("{at}: {value} is not of type {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            out.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some("date-time"), Value::String(s)) = (schema["format"].as_str(), value) {
        if s.parse::<jiff::Timestamp>().is_err() {
            out.push(format!("{at}: `{s}` is not an RFC 3339 date-time"));
        }
    }
    match value {
        Value::Object(map) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().expect("required names are strings");
                if !map.contains_key(name) {
                    out.push(format!("{at}: required property `{name}` is missing"));
                }
            }
            let props = schema["properties"].as_object();
            for (k, v) in map {
                let child = format!("{at}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => check(doc, s, v, &child, out),
                    None => {
                        if let Some(extra) = schema.get("additionalProperties") {
                            if extra.is_object() {
                                check(doc, extra, v, &child, out);
                            }
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check(doc, item_schema, v, &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn unknown_keys(
    doc: &Value,
    schema: &Value,
    map: &Map<String, Value>,
    at: &str,
    out: &mut Vec<String>,
) {
    let mut names = Vec::new();
    if declared(doc, schema, &mut names) {
        return;
    }
    for k in map.keys() {
        if !names.contains(&k.as_str()) {
            out.push(format!("{at}: property `{k}` is not in the schema"));
        }
    }
}

/// Sends a request and checks its JSON answer against the document's schema
/// for `(method, template)` at the answer's status; the status must be
/// `expect` and documented. Returns the answer.
pub struct Checker<'a> {
    app: &'a TestApp,
    doc: Value,
    /// Sent as the bearer token to `/api`.
    pub token: &'a str,
    /// Answers checked so far.
    pub checked: usize,
}

impl<'a> Checker<'a> {
    /// A checker of `app`'s answers against `doc`, sending `token` to `/api`.
    pub fn new(app: &'a TestApp, doc: Value, token: &'a str) -> Checker<'a> {
        Checker {
            app,
            doc,
            token,
            checked: 0,
        }
    }

    pub async fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Vec<u8>>,
        expect: StatusCode,
    ) -> Value {
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = self.app.client.request(m, self.app.url(path));
        if path.starts_with("/api/") && expect != StatusCode::UNAUTHORIZED {
            req = req.bearer_auth(self.token);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = resp.text().await.unwrap();
        assert_eq!(status, expect, "{method} {path}: {text}");
        assert!(
            ct.starts_with("application/json"),
            "{method} {path}: `{ct}`"
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        let response = &self.doc["paths"][template][method]["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{method} {template}: {status} is not documented"
        );
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {template} {status}: no JSON schema"
        );
        let found = problems(&self.doc, schema, &value);
        assert!(
            found.is_empty(),
            "{method} {path} {status}:\n{}\n{value:#}",
            found.join("\n")
        );
        self.checked += 1;
        value
    }

    pub async fn get(&mut self, template: &str, path: &str) -> Value {
        self.call("get", template, path, None, StatusCode::OK).await
    }
}

#[test]
fn the_checker_finds_what_is_wrong() {
    let doc = serde_json::json!({"components": {"schemas": {
        "Money": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "string"}}},
        "Row": {"allOf": [{"$ref": "#/components/schemas/Money"},
                          {"type": "object", "properties": {"at": {"type": ["string", "null"], "format": "date-time"}}}]},
        "Kind": {"type": "string", "enum": ["a", "b"]},
    }}});
    let row = serde_json::json!({"$ref": "#/components/schemas/Row"});
    let ok = serde_json::json!({"amount": "0.10", "at": "2026-03-26T07:22:28Z"});
    assert_eq!(problems(&doc, &row, &ok), Vec::<String>::new());
    let bad = serde_json::json!({"at": "yesterday", "extra": 1});
    let found = problems(&doc, &row, &bad).join("\n");
    assert!(found.contains("`amount` is missing"), "{found}");
    assert!(found.contains("not an RFC 3339"), "{found}");
    assert!(found.contains("`extra` is not in the schema"), "{found}");
    let kind = serde_json::json!({"anyOf": [{"$ref": "#/components/schemas/Kind"}, {"type": "string", "enum": [""]}]});
    assert!(problems(&doc, &kind, &serde_json::json!("")).is_empty());
    assert!(!problems(&doc, &kind, &serde_json::json!("c")).is_empty());
    assert!(!problems(&doc, &row, &serde_json::json!({"amount": 5})).is_empty());
}
