//! Kept recordings served back: a local "vendor" on 127.0.0.1 serves a
//! generated WAV, the archiver keeps it, and
//! `GET /api/v1/calls/{id}/recording` (and the dashboard's
//! `/calls/{id}/recording`) give it back whole, in single byte ranges
//! (`206`), `416` past the end, the whole file for several ranges; `404`s
//! say why; `503` without an archive.

use crate::dashboard::Visitor;
use crate::support::{body, fixture, spawn_app_with, TestApp};
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "rec-s3cret";

/// A WAV of `seconds` of a 440 Hz tone: 8 kHz, 16-bit, mono (16 000
/// bytes of samples a second, after a 44-byte header).
pub fn tone_wav(seconds: f64) -> Vec<u8> {
    let rate: u32 = 8000;
    let samples = (seconds * f64::from(rate)) as u32;
    let data = samples * 2;
    let mut w = Vec::with_capacity(44 + data as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(rate);
        let v = (t * 440.0 * std::f64::consts::TAU).sin() * 8000.0;
        w.extend_from_slice(&(v as i16).to_le_bytes());
    }
    w
}

/// A recording server on 127.0.0.1: `/tone.wav` is the WAV, anything
/// else 404. Stops when dropped.
pub struct VendorServer {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for VendorServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn vendor_server(wav: Vec<u8>) -> VendorServer {
    let router = axum::Router::new().route(
        "/tone.wav",
        get(move || {
            let wav = wav.clone();
            async move { ([(CONTENT_TYPE, "audio/wav")], wav) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    VendorServer { base, task }
}

/// An ITNIO source, recordings fetchable from 127.0.0.1, and the API
/// token [`TOKEN`] when `token`.
pub fn config(token: bool) -> String {
    let token = if token {
        format!("api_token = \"{TOKEN}\"\n")
    } else {
        String::new()
    };
    format!(
        "{token}[[sources]]\nname = \"itnio\"\nkind = \"itnio-call-record\"\n\n\
         [recordings]\nallow_private_networks = [\"127.0.0.1/32\"]\n"
    )
}

/// An ITNIO call report with its recording at `url`.
pub fn itnio_call(id: &str, url: &str) -> Vec<u8> {
    body(
        &json!({"callId": id, "robotCallJobId": 7, "calledPhoneNumber": "8613900000009",
        "startTime": 1748743200, "endTime": 1748743325, "resultStatus": "ANSWERED",
        "chatDuration": 125, "fullAudioUrl": url}),
    )
}

/// Polls call `id` (30 s at most) until its `recording` satisfies `done`;
/// the call.
pub async fn await_recording(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let call = app.get_json(&format!("/api/v1/calls/{id}")).await;
        if done(&call["recording"]) {
            return call;
        }
        assert!(
            Instant::now() < deadline,
            "recording still not there after 30 s: {}",
            call["recording"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Pushes a call whose recording is `wav` at a local server and waits
/// until it is archived with `wav`'s size and SHA-256; the call's id.
pub async fn archived_call(app: &TestApp, server: &VendorServer, wav: &[u8]) -> String {
    let url = format!("{}/tone.wav", server.base);
    app.push_ok("itnio", itnio_call("SERVE-1", &url)).await;
    let id = app.call_id("itnio", "SERVE-1").await;
    let call = await_recording(app, &id, |r| r["status"] == "archived").await;
    assert_eq!(call["recording"]["bytes"], json!(wav.len()));
    assert_eq!(call["recording"]["sha256"], json!(hex(wav)));
    id
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// `method path` with the API token and `range` (if any).
async fn ask(app: &TestApp, method: Method, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(TOKEN);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_kept_recording_is_served_whole_and_in_byte_ranges() {
    let wav = tone_wav(1.5);
    let server = vendor_server(wav.clone()).await;
    let app = spawn_app_with(&config(true)).await;
    let id = archived_call(&app, &server, &wav).await;
    let path = format!("/api/v1/calls/{id}/recording");

    let whole = ask(&app, Method::GET, &path, None).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(header(&whole, "content-type"), "audio/wav");
    assert_eq!(header(&whole, "content-length"), wav.len().to_string());
    assert_eq!(header(&whole, "accept-ranges"), "bytes");
    assert_eq!(header(&whole, "etag"), format!("\"{}\"", hex(&wav)));
    assert_eq!(
        header(&whole, "content-disposition"),
        format!("inline; filename=\"{id}.wav\"")
    );
    assert!(whole.bytes().await.unwrap() == wav, "the whole file");
    let head = ask(&app, Method::HEAD, &path, None).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-length"), wav.len().to_string());
    assert_eq!(header(&head, "etag"), format!("\"{}\"", hex(&wav)));

    let n = wav.len();
    for (range, slice) in [
        ("bytes=0-99", 0..100),
        ("bytes=100-", 100..n),
        ("bytes=-50", n - 50..n),
    ] {
        let part = ask(&app, Method::GET, &path, Some(range)).await;
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        let want = format!("bytes {}-{}/{n}", slice.start, slice.end - 1);
        assert_eq!(header(&part, "content-range"), want, "{range}");
        assert_eq!(header(&part, "content-length"), slice.len().to_string());
        assert!(part.bytes().await.unwrap() == wav[slice], "{range}");
    }
    let past = ask(&app, Method::GET, &path, Some(&format!("bytes={n}-"))).await;
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&past, "content-range"), format!("bytes */{n}"));
    let several = ask(&app, Method::GET, &path, Some("bytes=0-9,20-29")).await;
    assert_eq!(several.status(), StatusCode::OK);
    assert!(several.bytes().await.unwrap() == wav, "several ranges: all");
    dashboard_serves_the_same(&app, &id, &wav).await;
}

/// The dashboard's route, once logged in, answers the same bytes and
/// headers; the call page plays it.
async fn dashboard_serves_the_same(app: &TestApp, id: &str, wav: &[u8]) {
    let mut v = Visitor::new(app);
    v.get("/login").await;
    let csrf = v.csrf();
    let login = v
        .post(
            "/login",
            &[("token", TOKEN), ("csrf", &csrf), ("next", "/")],
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text);
    let cookie: Vec<String> = v.cookies.iter().map(|(k, c)| format!("{k}={c}")).collect();
    let get = |range: &'static str| {
        app.client
            .get(app.url(&format!("/calls/{id}/recording")))
            .header("cookie", cookie.join("; "))
            .header("range", range)
            .send()
    };
    let part = get("bytes=-50").await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    let api = ask(
        app,
        Method::GET,
        &format!("/api/v1/calls/{id}/recording"),
        Some("bytes=-50"),
    )
    .await;
    for name in [
        "content-type",
        "content-length",
        "content-range",
        "etag",
        "content-disposition",
    ] {
        assert_eq!(header(&part, name), header(&api, name), "{name}");
    }
    assert!(part.bytes().await.unwrap() == wav[wav.len() - 50..]);
    let page = v.get(&format!("/calls/{id}")).await.text;
    let player = format!("<audio controls preload=\"metadata\" src=\"/calls/{id}/recording\"");
    assert!(page.contains(&player), "{page}");
    let facts = format!("23.5 KB · SHA-256 {}…", &hex(wav)[..12]);
    assert!(page.contains(&facts), "{page}");
    assert!(page.contains("id=\"recording-vendor-link\""), "{page}");
}

#[tokio::test]
async fn what_cannot_be_served_says_why() {
    let wav = tone_wav(1.0);
    let server = vendor_server(wav.clone()).await;
    let app = spawn_app_with(&config(true)).await;
    let id = archived_call(&app, &server, &wav).await;
    let path = format!("/api/v1/calls/{id}/recording");
    let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, json) = app.get("/api/v1/calls/nosuchcall/recording").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
    assert_eq!(json["error"]["code"], "not_found");
    let (status, json) = app.get(&format!("{path}?link=customerAudioUrl")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("customerAudioUrl"));
    let (status, json) = app.get(&format!("{path}?lnk=x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");

    // The vendor answers 404: pending, retried, and the API says so.
    let gone = format!("{}/gone.wav", server.base);
    app.push_ok("itnio", itnio_call("SERVE-GONE", &gone)).await;
    let gone_id = app.call_id("itnio", "SERVE-GONE").await;
    await_recording(&app, &gone_id, |r| r["attempts"].as_u64() >= Some(1)).await;
    let (status, json) = app.get(&format!("/api/v1/calls/{gone_id}/recording")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
    assert_eq!(json["error"]["code"], "recording_not_archived");
    assert_eq!(json["error"]["status"], "pending");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("not archived: pending — HTTP 404"),
        "{message}"
    );

    // Without its archive (a file where the directory was): 503.
    let stopped = app.stop().await;
    let dir = stopped.dir.path().join("recordings");
    std::fs::rename(&dir, stopped.dir.path().join("moved")).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    let app = stopped.restart(&config(true)).await;
    let (status, json) = app.get(&path).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert_eq!(json["error"]["code"], "archive_unavailable");
}

#[tokio::test]
async fn the_call_page_lists_the_vendors_extra_recording_links() {
    let wav = tone_wav(1.0);
    let server = vendor_server(wav.clone()).await;
    let toml = config(false).replace(
        "[recordings]",
        "[[sources]]\nname = \"retell\"\nkind = \"retell-call-event\"\n\n[recordings]",
    );
    let app = spawn_app_with(&toml).await;
    let report = String::from_utf8(fixture("retell-call-event", "call-ended.json"))
        .unwrap()
        .replace(
            "https://retellai.s3.us-west-2.amazonaws.com/Q7vKd2nXbT4wLpR8sYc3mHf6Ze1Uj9Ag/recording.wav",
            &format!("{}/tone.wav", server.base),
        )
        .replace(
            "https://retellai.s3.us-west-2.amazonaws.com/Q7vKd2nXbT4wLpR8sYc3mHf6Ze1Uj9Ag/recording_multichannel.wav",
            &format!("{}/gone.wav", server.base),
        );
    app.push_ok("retell", report).await;
    let id = app
        .call_id("retell", "Q7vKd2nXbT4wLpR8sYc3mHf6Ze1Uj9Ag")
        .await;
    await_recording(&app, &id, |r| r["status"] == "archived").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let page = app.page(&format!("/calls/{id}")).await;
        if page.contains("last error: HTTP 404") || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let extra = page
        .split("<code>recording_multi_channel_url</code>")
        .nth(1)
        .unwrap_or_else(|| panic!("no extra link in {page}"));
    assert!(
        extra.contains("fetching: attempt 2, next try at "),
        "{extra}"
    );
    assert!(extra.contains("last error: HTTP 404"), "{extra}");
    assert!(
        extra.contains("gone.wav\" rel=\"noopener noreferrer\""),
        "{extra}"
    );
    assert!(page.contains("id=\"recording-kept\""), "{page}");
    let (status, json) = app
        .get(&format!(
            "/api/v1/calls/{id}/recording?link=recording_multi_channel_url"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
    assert_eq!(json["error"]["status"], "pending");
}
