//! `next` after logging in is followed only to a path of this site: not to
//! a path a browser reads as another host (`/\t/evil.example`), and never
//! with a control character (CR/LF once answered 500).

use crate::dashboard::Visitor;
use crate::support::{spawn_app, spawn_app_with};
use reqwest::header::LOCATION;
use reqwest::StatusCode;

const DISGUISED: [&str; 5] = [
    "/%09/evil.example/x",
    "/%0A/evil.example/x",
    "/%0D%0ASet-Cookie:%20a=b",
    "%09//evil.example",
    "/%5C/evil.example",
];

#[tokio::test]
async fn without_a_token_login_redirects_disguised_next_paths_home() {
    let app = spawn_app().await;
    let mut v = Visitor::new(&app);
    for next in DISGUISED {
        let p = v.get(&format!("/login?next={next}")).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{next}: {}", p.text);
        assert_eq!(p.headers[LOCATION], "/", "{next}");
    }
    let p = v.get("/login?next=%2Fcalls%3Fvendor%3Daliyun").await;
    assert_eq!(p.headers[LOCATION], "/calls?vendor=aliyun");
}

#[tokio::test]
async fn after_a_login_disguised_next_paths_go_home() {
    let app = spawn_app_with("api_token = \"dash-s3cret\"\n").await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.get("/login").await.status, StatusCode::OK);
    let csrf = v.csrf();
    for next in ["/\t/evil.example/x", "/\r\nSet-Cookie: a=b", "/calls\n"] {
        let p = v
            .post(
                "/login",
                &[("token", "dash-s3cret"), ("csrf", &csrf), ("next", next)],
                None,
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{next:?}: {}", p.text);
        assert_eq!(p.headers[LOCATION], "/", "{next:?}");
    }
}

/// Behind a TLS-terminating proxy listed in `trusted_proxies`, the
/// dashboard's cookies are `Secure` when the proxy says the browser came
/// over HTTPS; the same header from any other peer changes nothing.
#[tokio::test]
async fn cookies_are_secure_behind_a_trusted_https_proxy() {
    let set_cookies = |r: &reqwest::Response| -> Vec<String> {
        r.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let behind = spawn_app_with("trusted_proxies = [\"127.0.0.0/8\"]\n").await;
    let login = |app: &crate::support::TestApp, proto: Option<&str>| {
        let mut req = app.client.get(format!("{}/login", app.base));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.send()
    };
    let https = set_cookies(&login(&behind, Some("https")).await.unwrap());
    assert!(!https.is_empty());
    let secure = |c: &String| c.split(';').any(|a| a.trim() == "Secure");
    assert!(https.iter().all(secure), "{https:?}");
    let http = set_cookies(&login(&behind, Some("http")).await.unwrap());
    assert!(!http.is_empty());
    assert!(http.iter().all(|c| !c.contains("Secure")), "{http:?}");
    let direct = spawn_app().await;
    let untrusted = set_cookies(&login(&direct, Some("https")).await.unwrap());
    assert!(!untrusted.is_empty());
    assert!(
        untrusted.iter().all(|c| !c.contains("Secure")),
        "{untrusted:?}"
    );
}
