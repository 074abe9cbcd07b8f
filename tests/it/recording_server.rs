//! A vendor's recording server on 127.0.0.1 for the archive's tests: a
//! generated WAV file at `/ok.wav`, one that answers 404 before it works
//! (`/flaky.wav`), one declaring 2 GB (`/huge.wav`), a redirect to the
//! cloud metadata address (`/redirect`), and a slow one (`/slow.wav`, a
//! chunk every 50 ms) to be cut mid-download. It counts requests per path.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A WAV file: `seconds` of a 440 Hz tone, 8 kHz, 16-bit mono.
pub fn wav(seconds: f64) -> Vec<u8> {
    let rate = 8_000u32;
    let samples = (seconds * rate as f64) as u32;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let t = i as f64 / rate as f64;
        let v = ((t * 440.0 * std::f64::consts::TAU).sin() * 8_000.0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[derive(Clone)]
struct Shared {
    wav: Arc<Vec<u8>>,
    hits: Arc<Mutex<HashMap<String, u32>>>,
}

/// The running server.
pub struct RecordingServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bytes every WAV path serves.
    pub wav: Arc<Vec<u8>>,
    hits: Arc<Mutex<HashMap<String, u32>>>,
}

impl RecordingServer {
    /// Starts the server serving a `seconds`-long WAV.
    pub async fn start(seconds: f64) -> RecordingServer {
        let shared = Shared {
            wav: Arc::new(wav(seconds)),
            hits: Default::default(),
        };
        let app = Router::new()
            .route("/{name}", get(serve))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        RecordingServer {
            base,
            wav: shared.wav,
            hits: shared.hits,
        }
    }

    /// The URL of `path` (`/ok.wav` …).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests made for `/name`.
    pub fn hits(&self, name: &str) -> u32 {
        self.hits.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

async fn serve(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    let n = {
        let mut hits = s.hits.lock().unwrap();
        let n = hits.entry(name.clone()).or_default();
        *n += 1;
        *n
    };
    let wav = |body: Body| {
        let mut r = Response::new(body);
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
        r
    };
    match name.as_str() {
        "ok.wav" => wav(Body::from(s.wav.to_vec())),
        "flaky.wav" if n == 1 => StatusCode::NOT_FOUND.into_response(),
        "flaky.wav" => wav(Body::from(s.wav.to_vec())),
        "huge.wav" => {
            let stalled = futures::stream::once(async {
                Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"RIFF"))
            })
            .chain(futures::stream::pending());
            let mut r = wav(Body::from_stream(stalled));
            r.headers_mut().insert(
                header::CONTENT_LENGTH,
                HeaderValue::from_static("2147483648"),
            );
            r
        }
        "redirect" => (
            StatusCode::FOUND,
            [(header::LOCATION, "http://169.254.169.254/latest/meta-data")],
        )
            .into_response(),
        "slow.wav" => {
            let chunks: Vec<Vec<u8>> = s.wav.chunks(1024).map(<[u8]>::to_vec).collect();
            let slow = futures::stream::iter(chunks).then(|c| async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, std::io::Error>(bytes::Bytes::from(c))
            });
            let mut r = wav(Body::from_stream(slow));
            r.headers_mut().insert(
                header::CONTENT_LENGTH,
                HeaderValue::from_str(&s.wav.len().to_string()).unwrap(),
            );
            r
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

use futures::StreamExt;
