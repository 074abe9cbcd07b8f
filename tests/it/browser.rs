//! The dashboard in a real browser: headless Chromium driven through
//! chromedriver (Debian's `chromium` and `chromium-driver`; `.ci/run`
//! installs them). A screenshot of each page is written to
//! `target/browser-screenshots/` (or `$CALLHOOK_SCREENSHOTS`), which CI
//! keeps as an artefact.
//!
//! They need chromedriver on `PATH` (or `$CALLHOOK_TEST_CHROMEDRIVER`), so
//! they are `#[ignore]`d: `cargo test -- --include-ignored` runs them (as
//! `.ci/run` does), and fails them without chromedriver.

use crate::dashboard::hostile_call;
use crate::dataset;
use crate::support::{body, spawn_app, spawn_app_with};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    _driver: tokio::process::Child,
}

fn chromedriver() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CALLHOOK_TEST_CHROMEDRIVER") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.is_file())
    })
}

impl Browser {
    /// A started browser. These tests are `#[ignore]`d (a plain `cargo test`
    /// lists them as ignored); run on purpose without chromedriver, they fail
    /// saying what to install.
    pub async fn start() -> Browser {
        let driver = chromedriver().expect(
            "this test needs a browser: install chromium and chromium-driver \
             (chromedriver on PATH, or CALLHOOK_TEST_CHROMEDRIVER)",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
        ];
        args.push("--lang=en-US");
        let mut options = json!({"args": args});
        let binary =
            std::env::var("CALLHOOK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        if std::path::Path::new(&binary).is_file() {
            options["binary"] = json!(binary);
        }
        let caps = json!({"browserName": "chrome", "goog:chromeOptions": options});
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            // chromedriver is local: plain HTTP, no TLS stack needed.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let connected = ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await;
            if let Ok(client) = connected {
                return Browser {
                    client,
                    _driver: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {url} did not start a browser in 10 s");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("page loads");
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("script runs")
    }

    /// Waits (20 s at most) until `script` returns `true`.
    pub async fn until(&self, script: &str) {
        for _ in 0..200 {
            if self.client.execute(script, vec![]).await.ok() == Some(Value::Bool(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("still not true after 20 s: {script}");
    }

    /// Saves a screenshot of the page as `{name}.png`.
    pub async fn shot(&self, name: &str) {
        let dir = std::env::var("CALLHOOK_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("target/browser-screenshots"));
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Asserts the page is no wider than the window, naming the elements
    /// that stick out (outside a `.scroll` box) when it is.
    pub async fn assert_fits(&self, path: &str) {
        let fits = self
            .js("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        let (w, inner) = (fits[0].as_i64().unwrap(), fits[1].as_i64().unwrap());
        if w > inner {
            let wide = self
                .js("return Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)")
                .await;
            panic!("{path}: {w} px wide in a {inner} px window: {wide}");
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn the_overview_draws_its_charts_with_data() {
    let b = Browser::start().await;
    let app = spawn_app().await;
    dataset::seed(&app).await;
    b.goto(&app.url("/?from=2025-06-01&to=2025-06-03")).await;
    let charts = b
        .js(
            r#"return Array.from(document.querySelectorAll("figure.chart")).map(f => {
            const svg = f.querySelector("svg");
            return {id: f.id, points: Number(f.dataset.points),
                    width: svg ? svg.getBoundingClientRect().width : 0,
                    marks: svg ? svg.querySelectorAll("polyline, rect, circle").length : 0};
        })"#,
        )
        .await;
    let charts = charts.as_array().unwrap();
    assert_eq!(charts.len(), 8, "{charts:?}");
    for c in charts {
        assert!(c["points"].as_u64().unwrap() > 0, "{c}");
        assert!(
            c["width"].as_f64().unwrap() > 200.0,
            "drawn at a readable size: {c}"
        );
        assert!(c["marks"].as_u64().unwrap() > 1, "lines or bars drawn: {c}");
    }
    let total = b
        .js("return document.getElementById('total-calls').textContent")
        .await;
    assert_eq!(total, "9");
    b.shot("overview").await;
    // On a phone: nothing wider than the screen.
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/?from=2025-06-01&to=2025-06-03")).await;
    let overflow = b
        .js("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 1,
        "no sideways scrolling: {overflow}"
    );
    b.shot("overview-phone").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn filters_change_the_table() {
    let b = Browser::start().await;
    let app = spawn_app().await;
    dataset::seed(&app).await;
    b.goto(&app.url("/calls")).await;
    let count = "return document.querySelectorAll('#calls-table tbody tr').length";
    assert_eq!(b.js(count).await, 9);
    let vendor = b
        .client
        .find(Locator::Css("select[name=vendor]"))
        .await
        .unwrap();
    vendor.select_by_value("laaffic").await.unwrap();
    b.client
        .find(Locator::Css("#call-filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until("return location.search.includes('vendor=laaffic')")
        .await;
    assert_eq!(b.js(count).await, 4);
    let vendors = b
        .js("return Array.from(document.querySelectorAll('#calls-table tbody tr td:nth-child(2)')).map(td => td.textContent)")
        .await;
    assert_eq!(vendors, json!(["laaffic", "laaffic", "laaffic", "laaffic"]));
    // Sorting by talk time, then the other way.
    let talk = "return Array.from(document.querySelectorAll('#calls-table tbody tr td:nth-child(5)')).map(td => td.textContent)";
    let header = b
        .client
        .find(Locator::XPath("//th[text()='Talk s']"))
        .await
        .unwrap();
    header.click().await.unwrap();
    assert_eq!(b.js(talk).await, json!(["0", "0", "30", "45"]));
    header.click().await.unwrap();
    assert_eq!(b.js(talk).await, json!(["45", "30", "0", "0"]));
    b.shot("calls").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn a_calls_transcript_shows_and_hostile_text_stays_text() {
    let b = Browser::start().await;
    let app = spawn_app().await;
    app.push_ok("itnio-call-record", hostile_call()).await;
    let id = app.call_id("itnio", "XSS-1").await;
    b.goto(&app.url(&format!("/calls/{id}"))).await;
    let said = b
        .js("return Array.from(document.querySelectorAll('#transcript .turn .said')).map(p => p.textContent)")
        .await;
    assert_eq!(
        said,
        json!([
            "您好，这里是光明金融。",
            "<img src=x onerror=\"window.__xss=1\">"
        ])
    );
    let injected = b
        .js("return [document.querySelectorAll('main img, main script').length, window.__xss === undefined, window.__tag === undefined]")
        .await;
    assert_eq!(
        injected,
        json!([0, true, true]),
        "no element made, no script run"
    );
    let speakers = b
        .js("return Array.from(document.querySelectorAll('#transcript .turn')).map(t => t.className)")
        .await;
    assert_eq!(speakers, json!(["turn agent", "turn customer"]));
    b.shot("call").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn a_chinese_text_search_finds_the_transcript_and_marks_the_match() {
    let b = Browser::start().await;
    let app = spawn_app().await;
    dataset::seed(&app).await;
    app.push_ok("itnio-call-record", hostile_call()).await;
    b.goto(&app.url("/calls")).await;
    let text = b
        .client
        .find(Locator::Css("input[name=text]"))
        .await
        .unwrap();
    text.send_keys("光明金融").await.unwrap();
    b.client
        .find(Locator::Css("#call-filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until("return location.search.includes('text=')").await;
    let rows = b
        .js("return Array.from(document.querySelectorAll('#calls-table tbody tr')).map(r => r.className)")
        .await;
    assert_eq!(
        rows,
        json!(["", "snippet"]),
        "the call and its snippet under it"
    );
    let snippet = b
        .js("const s = document.querySelector('#calls-table tr.snippet td'); return [s.textContent.trim(), s.querySelector('mark').textContent]")
        .await;
    assert_eq!(
        snippet,
        json!(["transcript 您好，这里是光明金融。", "光明金融"])
    );
    // The hostile line's snippet stays text.
    b.goto(&app.url("/calls?text=onerror")).await;
    let marked = b
        .js("return [document.querySelector('#calls-table tr.snippet mark').textContent, document.querySelectorAll('main img, main script').length, window.__xss === undefined]")
        .await;
    assert_eq!(marked, json!(["onerror", 0, true]));
    b.shot("calls-text-search").await;
    b.close().await;
}

const WRONG_KIND: &str = "[[sources]]\nname = \"shop\"\nkind = \"laaffic-voice-report\"\n";
const RIGHT_KIND: &str = "[[sources]]\nname = \"shop\"\nkind = \"itnio-call-record\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn the_replay_button_replays_a_rejected_receipt() {
    let b = Browser::start().await;
    // Pushed to a source set up with the wrong kind: rejected, kept.
    let app = spawn_app_with(WRONG_KIND).await;
    let report = body(&json!({"callId": "RP-1", "resultStatus": "ANSWERED",
        "startTime": 1748743200, "endTime": 1748743272, "chatDuration": 62}));
    let (status, _) = app.push("shop", report.clone()).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    // The operator fixes the kind and restarts.
    let app = app.stop().await.restart(RIGHT_KIND).await;
    b.goto(&app.url("/receipts")).await;
    let rows = "return document.querySelectorAll('#receipts-table tbody tr').length";
    assert_eq!(b.js(rows).await, 1);
    b.shot("receipts").await;
    b.client
        .find(Locator::Css("#receipts-table button.replay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = b
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#receipt-status"))
        .await
        .unwrap();
    assert_eq!(status.text().await.unwrap(), "accepted");
    let flash = b
        .js("return document.querySelector('.flash').textContent")
        .await;
    assert!(flash.as_str().unwrap().contains("now accepted"), "{flash}");
    let kind = b
        .js("return document.querySelector('main .facts').textContent")
        .await;
    assert!(
        kind.as_str().unwrap().contains("shop · itnio-call-record"),
        "the receipt names the kind it was last read as: {kind}"
    );
    assert_eq!(app.calls("").await.len(), 1, "the replay made the call");
    b.shot("receipt").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn the_deliveries_page_lists_and_retries() {
    let b = Browser::start().await;
    // A subscriber nobody listens on: its delivery fails and waits.
    let app = spawn_app_with(
        "allow_private_subscribers = true\n\n[[subscribers]]\nname = \"crm\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
    )
    .await;
    dataset::seed(&app).await;
    b.goto(&app.url("/deliveries?subscriber=crm")).await;
    let rows = b
        .js("return document.querySelectorAll('#deliveries-table tbody tr').length")
        .await;
    assert!(rows.as_u64().unwrap() >= 1, "{rows}");
    b.shot("deliveries").await;
    b.client
        .find(Locator::Css("#deliveries-table button.retry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let flash = b
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(".flash"))
        .await
        .unwrap();
    assert!(flash.text().await.unwrap().contains("due now"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn an_operator_plays_replays_in_bulk_and_disables_on_a_phone_too() {
    let b = Browser::start().await;
    let crm = "allow_private_subscribers = true\n\n[[subscribers]]\nname = \"crm\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";
    let app = spawn_app_with(&format!("{crm}\n{WRONG_KIND}")).await;
    for i in 0..2 {
        let report = body(
            &json!({"callId": format!("BULK-{i}"), "resultStatus": "ANSWERED",
            "startTime": 1748743200, "endTime": 1748743272, "chatDuration": 62}),
        );
        let (status, _) = app.push("shop", report).await;
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    }
    let app = app
        .stop()
        .await
        .restart(&format!("{crm}\n{RIGHT_KIND}"))
        .await;
    let recorded = body(&json!({"callId": "PLAY-1", "resultStatus": "ANSWERED",
        "startTime": 1748743200, "endTime": 1748743272, "chatDuration": 62,
        "fullAudioUrl": "https://voice-record.example.com/r/PLAY-1.mp3",
        "customerConcern": ["interest rate"]}));
    app.push_ok("shop", recorded).await;
    let call = format!("/calls/{}", app.call_id("itnio", "PLAY-1").await);

    b.goto(&app.url(&call)).await;
    let audio = b
        .js("const a = document.querySelector('#recording audio'); return a ? [a.preload, a.src, a.controls] : null")
        .await;
    assert_eq!(
        audio,
        json!([
            "none",
            "https://voice-record.example.com/r/PLAY-1.mp3",
            true
        ])
    );
    b.shot("call-recording").await;

    b.goto(&app.url("/receipts?source=shop")).await;
    b.client
        .find(Locator::Css("#bulk-replay button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let flash = b
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(".flash"))
        .await
        .unwrap();
    assert_eq!(
        flash.text().await.unwrap(),
        "Replayed 2 receipts: now 2 accepted."
    );
    b.shot("receipts-bulk-replayed").await;

    b.goto(&app.url("/deliveries")).await;
    let health = "return document.querySelectorAll('#subscriber-health tbody tr').length";
    assert_eq!(b.js(health).await, 1);
    b.client
        .find(Locator::Css("#subscriber-health button.disable"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#subscriber-health button.enable"))
        .await
        .unwrap();
    let state = b
        .js("return document.querySelector('#subscriber-health .t-disabled').textContent")
        .await;
    assert!(state.as_str().unwrap().starts_with("disabled"), "{state}");
    b.shot("deliveries-health").await;

    // On a phone: nothing wider than the screen on any of the three.
    b.client.set_window_size(390, 844).await.unwrap();
    for (path, name) in [
        (call.as_str(), "call-phone"),
        ("/receipts?status=all", "receipts-phone"),
        ("/deliveries", "deliveries-phone"),
    ] {
        b.goto(&app.url(path)).await;
        b.shot(name).await;
        b.assert_fits(path).await;
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn the_health_strip_shows_and_the_alerts_page_lists_a_firing_alert() {
    let b = Browser::start().await;
    // A source that never pushes: silent past 0.6 s, the rule fires.
    let app = spawn_app_with(
        "alerts_interval = \"100ms\"\n\n[[alerts]]\nname = \"bland-quiet\"\nkind = \"source_silent\"\nsource = \"bland-call\"\nminutes = 0.01\n",
    )
    .await;
    // The strip appears once its figures are first read (at start).
    let mut shown = false;
    for _ in 0..100 {
        b.goto(&app.url("/")).await;
        let seen = b
            .js("const h = document.querySelector('.health'); \
                 return !!h && h.innerText.includes('sources never') \
                     && document.querySelector('.h-never').title.includes('bland-call')")
            .await;
        if seen == Value::Bool(true) {
            shown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(shown, "the health strip never showed");
    let rejected = b
        .js("return document.querySelector('.health a[href=\"/receipts?status=rejected\"]').innerText")
        .await;
    assert_eq!(rejected, "0 rejected today");
    // On a 390 px phone the strip wraps instead of overflowing.
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/")).await;
    b.until("return document.querySelector('.health') !== null")
        .await;
    let fits = b
        .js("const h = document.querySelector('.health'); return h.scrollWidth <= h.clientWidth + 1")
        .await;
    assert_eq!(fits, Value::Bool(true), "the strip overflows at 390 px");
    b.shot("health-strip-phone").await;
    b.client.set_window_size(1280, 1000).await.unwrap();
    // The firing reaches the strip (a link to /alerts) and the alerts page.
    let mut listed = false;
    for _ in 0..100 {
        b.goto(&app.url("/alerts")).await;
        let seen = b
            .js("const r = document.querySelector('#alert-history tbody tr'); \
                 const a = document.querySelector('.health a[href=\"/alerts\"]'); \
                 return !!r && r.innerText.includes('bland-quiet') && r.innerText.includes('firing') \
                     && !!a && a.innerText.includes('1 alert firing')")
            .await;
        if seen == Value::Bool(true) {
            listed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        listed,
        "the alerts page and the strip never showed the firing alert"
    );
    let rule = b
        .js("return document.querySelector('#alert-rules tbody tr').innerText")
        .await;
    assert!(
        rule.as_str().unwrap().contains("firing"),
        "the rule shows its state: {rule}"
    );
    b.shot("alerts").await;
    b.close().await;
}
