//! The web dashboard over HTTP (the browser tests are in `browser.rs`):
//! pages, filters, escaping of vendor strings, CSRF on posts, the login.

use crate::dataset;
use crate::support::{body, spawn_app, spawn_app_with, TestApp};
use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;

/// A browser without JavaScript: keeps cookies, does not follow redirects.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        Visitor {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, resp: reqwest::Response) -> Page {
        for c in resp.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.insert(k.to_owned(), v.to_owned());
        }
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(resp).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.unwrap();
        self.keep(resp).await
    }

    /// The CSRF token the pages put in their forms.
    pub fn csrf(&self) -> String {
        self.cookies
            .get("callhook_csrf")
            .cloned()
            .unwrap_or_default()
    }
}

/// Rows of the table with `id` (each `<tr>` of its body), as raw HTML.
pub fn rows<'a>(html: &'a str, id: &str) -> Vec<&'a str> {
    let table = html.split(&format!("id=\"{id}\"")).nth(1).unwrap();
    let body = table.split("<tbody>").nth(1).unwrap();
    let body = body.split("</tbody>").next().unwrap();
    body.split("<tr>").skip(1).collect()
}

#[tokio::test]
async fn every_page_answers_html_with_a_strict_policy() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    let mut v = Visitor::new(&app);
    let id = app.call_id("aliyun", "S-A1").await;
    for path in [
        "/".to_owned(),
        "/calls".into(),
        format!("/calls/{id}"),
        "/receipts?status=all".into(),
        "/deliveries".into(),
    ] {
        let p = v.get(&path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.text);
        assert_eq!(p.headers[CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = p.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(p.text.contains("<meta charset=\"utf-8\">"));
        assert_eq!(v.csrf().len(), 32, "{path} sets the CSRF cookie");
    }
    let css = v.get("/assets/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.text.contains("@media (max-width: 640px)"),
        "readable on a phone"
    );
}

#[tokio::test]
async fn the_overview_totals_and_charts_come_from_the_data() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    let mut v = Visitor::new(&app);
    let p = v.get("/?from=2025-06-01&to=2025-06-03").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    // 9 calls, 6 answered (dataset.rs).
    assert!(p.text.contains("<b id=\"total-calls\">9</b>"), "{}", p.text);
    assert!(p.text.contains("<b id=\"total-answered\">6</b>"));
    assert!(p.text.contains("<b id=\"total-answer-rate\">66.7%</b>"));
    assert!(p.text.contains("0.25 EUR"), "cost per currency");
    for chart in [
        "calls-per-day",
        "answer-rate",
        "outcomes",
        "talk-time",
        "cost",
        "qa-trend",
    ] {
        let at = p.text.find(&format!("id=\"chart-{chart}\"")).unwrap();
        let points: usize = p.text[at..]
            .split("data-points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(points > 0, "{chart} has data");
    }
    // One vendor: the other vendors leave the charts.
    let p = v
        .get("/?from=2025-06-01&to=2025-06-03&vendor=laaffic")
        .await;
    assert!(p.text.contains("<b id=\"total-calls\">4</b>"), "{}", p.text);
    // Without dates: every call with a report, in the display zone.
    let p = v.get("/").await;
    assert!(
        p.text.contains("(Asia/Shanghai): every call with a report"),
        "{}",
        p.text
    );
    assert!(
        p.text
            .contains(&format!("<b id=\"total-calls\">{}</b>", dataset::ALL.len())),
        "{}",
        p.text
    );
    // A quick range that holds no call says what to do.
    let p = v.get("/?range=today").await;
    assert!(p.text.contains("id=\"empty-state\""), "{}", p.text);
    assert!(p.text.contains("No calls in this range"));
    assert!(v.get("/?range=year").await.status == StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn filters_and_search_narrow_the_call_table() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    let mut v = Visitor::new(&app);
    assert_eq!(rows(&v.get("/calls").await.text, "calls-table").len(), 9);
    let laaffic = v.get("/calls?vendor=laaffic").await.text;
    let r = rows(&laaffic, "calls-table");
    assert_eq!(r.len(), 4);
    assert!(r.iter().all(|row| row.contains("<td>laaffic</td>")));
    assert!(
        laaffic.contains("<option value=\"laaffic\" selected>"),
        "the form keeps the filter"
    );
    assert!(
        laaffic.contains("/calls/export?format=csv&amp;vendor=laaffic"),
        "downloads keep it too"
    );
    let day = v.get("/calls?from=2025-06-02&to=2025-06-02").await.text;
    assert_eq!(rows(&day, "calls-table").len(), 3, "S-A3, S-L1, S-L2");
    for q in ["13900000002", "crm-2"] {
        let found = v.get(&format!("/calls?q={q}")).await.text;
        let r = rows(&found, "calls-table");
        assert_eq!(r.len(), 1, "search {q}");
        assert!(found.contains("13900000002") || found.contains("crm-2"));
    }
    let none = v.get("/calls?q=nobody").await.text;
    assert!(none.contains("id=\"no-calls\""));
    let bad = v.get("/calls?vendor=acme").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("vendor:"), "{}", bad.text);
    let missing = v.get("/calls/no-such-call").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// An ITNIO call whose transcript and tags carry markup and Chinese text.
pub fn hostile_call() -> Vec<u8> {
    body(
        &json!({"callId": "XSS-1", "robotCallJobId": 7, "calledPhoneNumber": "8613900000009",
        "startTime": 1748743200, "endTime": 1748743272, "resultStatus": "ANSWERED", "chatDuration": 62,
        "callRecordTagNames": ["<script>window.__tag=1</script>"],
        "callDetailList": [
            {"text": "您好，这里是光明金融。", "type": "ROBOT"},
            {"text": "<img src=x onerror=\"window.__xss=1\">", "type": "PERSON", "startOffset": 6120}
        ]}),
    )
}

#[tokio::test]
async fn vendor_strings_are_text_never_markup() {
    let app = spawn_app().await;
    app.push_ok("itnio-call-record", hostile_call()).await;
    let id = app.call_id("itnio", "XSS-1").await;
    let mut v = Visitor::new(&app);
    let p = v.get(&format!("/calls/{id}")).await.text;
    assert!(
        p.contains("&#60;img src=x onerror=&#34;window.__xss=1&#34;&#62;"),
        "{p}"
    );
    assert!(!p.contains("<img"), "no element from a transcript");
    assert!(p.contains("&#60;script&#62;window.__tag=1"), "{p}");
    assert!(!p.contains("<script>window"));
    assert!(p.contains("您好，这里是光明金融。"), "Chinese text as sent");
}

#[tokio::test]
async fn a_replay_needs_the_csrf_token_of_this_site() {
    let app = spawn_app().await;
    let (status, _) = app.push("aliyun-call-report", b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let receipt = app.receipt_of(b"{not json").await;
    let id = receipt["id"].as_str().unwrap().to_owned();
    let mut v = Visitor::new(&app);
    let list = v.get("/receipts").await.text;
    assert_eq!(
        rows(&list, "receipts-table").len(),
        1,
        "rejected is the first tab"
    );
    assert!(list.contains("invalid JSON"), "the error is shown");
    assert!(
        list.contains(&format!("name=\"csrf\" value=\"{}\"", v.csrf())),
        "the replay form carries the token"
    );
    let path = format!("/receipts/{id}/replay");
    let refused = v.post(&path, &[("csrf", "wrong")], None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("CSRF"), "{}", refused.text);
    let csrf = v.csrf();
    let cross = v
        .post(&path, &[("csrf", &csrf)], Some("https://evil.example"))
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let before = app.get_json(&format!("/api/v1/receipts/{id}")).await;
    assert_eq!(before["replay_count"], 0, "refused posts did nothing");
    let ok = v.post(&path, &[("csrf", &csrf)], None).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(
        ok.headers[LOCATION],
        format!("/receipts/{id}?done=replayed")
    );
    let after = app.get_json(&format!("/api/v1/receipts/{id}")).await;
    assert_eq!(after["replay_count"], 1);
    let shown = v.get(&format!("/receipts/{id}?done=replayed")).await.text;
    assert!(shown.contains("the receipt is now rejected"), "{shown}");
    assert!(shown.contains("{not json"), "the raw body");
}

#[tokio::test]
async fn with_a_token_the_pages_need_a_login() {
    let app = spawn_app_with("api_token = \"dash-s3cret\"\n").await;
    let mut v = Visitor::new(&app);
    let p = v.get("/calls?vendor=aliyun").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.headers[LOCATION],
        "/login?next=%2Fcalls%3Fvendor%3Daliyun"
    );
    let form = v.get("/login?next=%2Fcalls%3Fvendor%3Daliyun").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = v.csrf();
    let next = "/calls?vendor=aliyun";
    let wrong = v
        .post(
            "/login",
            &[("token", "guess"), ("csrf", &csrf), ("next", next)],
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(!v.cookies.contains_key("callhook_session"));
    let ok = v
        .post(
            "/login",
            &[("token", "dash-s3cret"), ("csrf", &csrf), ("next", next)],
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    assert_eq!(ok.headers[LOCATION], next);
    let set = ok.headers[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert_eq!(v.get(next).await.status, StatusCode::OK);
    // The cookie is for the pages only: the API still wants its bearer token.
    let api = v.get("/api/v1/calls").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    let out = v.post("/logout", &[("csrf", &csrf)], None).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(v.get("/").await.status, StatusCode::SEE_OTHER, "logged out");
    // A forged or stale cookie is no login.
    v.cookies
        .insert("callhook_session".into(), "99999999999999.00".into());
    assert_eq!(v.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_calls_page_downloads_what_it_shows() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    let mut v = Visitor::new(&app);
    let csv = v.get("/calls/export?format=csv&vendor=laaffic").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert_eq!(csv.headers[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = csv.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"callhook-calls-"),
        "{disposition}"
    );
    assert!(disposition.ends_with(".csv\""), "{disposition}");
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(
        lines[0].starts_with("id,vendor,source,vendor_call_id"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 4, "a header and the 4 LAAFFIC calls");
    assert!(lines[1..].iter().all(|l| l.contains(",laaffic,")));
    let masked = v
        .get("/calls/export?format=ndjson&mask_numbers=true&q=13900000002")
        .await;
    assert_eq!(masked.text.lines().count(), 1);
    assert!(!masked.text.contains("13900000002"), "{}", masked.text);
    assert!(masked.text.contains("139****0002"), "{}", masked.text);
    let parquet = v.get("/calls/export?format=parquet").await;
    assert_eq!(parquet.status, StatusCode::OK);
    assert!(parquet.text.as_bytes().starts_with(b"PAR1"));
    let bad = v.get("/calls/export?format=xlsx").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("format:"), "{}", bad.text);
}
