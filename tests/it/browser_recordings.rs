//! The call page plays the kept recording in real headless Chromium: the
//! player loads the WAV's metadata from the dashboard's
//! `/calls/{id}/recording` (its duration is the WAV's), seeks (range
//! requests), and the page fits a 390-pixel phone. Leaves screenshots.

use crate::browser::Browser;
use crate::recordings_serve::{archived_call, config, tone_wav, vendor_server};
use crate::support::spawn_app_with;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn the_call_page_plays_and_seeks_the_kept_recording() {
    let b = Browser::start().await;
    let wav = tone_wav(2.0);
    let server = vendor_server(wav.clone()).await;
    let app = spawn_app_with(&config(false)).await;
    let id = archived_call(&app, &server, &wav).await;
    let page = format!("/calls/{id}");
    b.goto(&app.url(&page)).await;
    let src = b
        .js("const a = document.querySelector('#recording-kept'); return a ? a.getAttribute('src') : null")
        .await;
    assert_eq!(src, Value::String(format!("/calls/{id}/recording")));
    b.until("const a = document.querySelector('#recording-kept'); return a.readyState >= 1 && Math.abs(a.duration - 2.0) < 0.1")
        .await;
    b.js("document.querySelector('#recording-kept').currentTime = 1.0; return true")
        .await;
    b.until("const a = document.querySelector('#recording-kept'); return !a.seeking && Math.abs(a.currentTime - 1.0) < 0.05 && a.error === null")
        .await;
    b.shot("call-kept-recording").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url(&page)).await;
    b.assert_fits(&page).await;
    b.js("document.getElementById('recording').scrollIntoView(); return true")
        .await;
    let width = b
        .js("return document.querySelector('#recording-kept').getBoundingClientRect().right <= window.innerWidth")
        .await;
    assert_eq!(width, Value::Bool(true), "the player fits the phone");
    b.shot("call-kept-recording-phone").await;
    b.close().await;
}
