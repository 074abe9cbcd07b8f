use super::*;
use crate::signature::SignatureConfig;
use std::collections::HashMap;

fn signer(kind: SourceKind, secret: &str, settings: Option<SignatureConfig>) -> Signer {
    Signer::new(kind, SecretString::from(secret), settings.as_ref()).unwrap()
}

fn at_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap()
}

fn check(
    s: &Signer,
    headers: &[(&str, &str)],
    body: &[u8],
    now: Timestamp,
) -> Result<(), SignatureError> {
    let map: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect();
    s.verify(|name| map.get(name).map(String::as_str), body, now)
}

#[test]
fn retell_matches_the_vector_of_its_sdk() {
    let s = signer(SourceKind::RetellCallEvent, "test-api-key", None);
    let body = br#"{"event":"call_ended"}"#;
    let header =
        "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e";
    let now = at_ms(1_700_000_000_000 + 1_000);
    assert_eq!(check(&s, &[(RETELL_HEADER, header)], body, now), Ok(()));
    assert_eq!(s.sign(body, at_ms(1_700_000_000_000))[0].1, header);
}

#[test]
fn retell_refuses_a_stale_a_changed_and_a_missing_signature() {
    let s = signer(SourceKind::RetellCallEvent, "test-api-key", None);
    let body = br#"{"event":"call_ended"}"#;
    let header =
        "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e";
    let late = at_ms(1_700_000_000_000 + 301_000);
    assert!(matches!(
        check(&s, &[(RETELL_HEADER, header)], body, late),
        Err(SignatureError::Stale {
            age_s: 301,
            tolerance_s: 300
        })
    ));
    let now = at_ms(1_700_000_000_000);
    assert_eq!(
        check(
            &s,
            &[(RETELL_HEADER, header)],
            br#"{"event":"call_analyzed"}"#,
            now
        ),
        Err(SignatureError::Mismatch(RETELL_HEADER.into()))
    );
    assert_eq!(
        check(&s, &[], body, now),
        Err(SignatureError::Missing(RETELL_HEADER.into()))
    );
    assert!(matches!(
        check(&s, &[(RETELL_HEADER, "07024cab")], body, now),
        Err(SignatureError::Malformed { .. })
    ));
    let other_key = signer(SourceKind::RetellCallEvent, "another-key", None);
    assert!(check(&other_key, &[(RETELL_HEADER, header)], body, now).is_err());
}

#[test]
fn bland_signs_the_raw_body_with_hmac_sha256_hex() {
    let s = signer(SourceKind::BlandCall, "whsec_bland", None);
    let body = br#"{"call_id":"c-1"}"#;
    let signed = s.sign(body, Timestamp::now());
    assert_eq!(signed[0].0, BLAND_HEADER);
    assert_eq!(signed[0].1.len(), 64);
    let now = Timestamp::now();
    assert_eq!(
        check(&s, &[("X-Webhook-Signature", &signed[0].1)], body, now),
        Ok(())
    );
    assert_eq!(
        check(
            &s,
            &[(BLAND_HEADER, &signed[0].1)],
            br#"{"call_id":"c-2"}"#,
            now
        ),
        Err(SignatureError::Mismatch(BLAND_HEADER.into()))
    );
}

#[test]
fn vapi_defaults_to_its_secret_header() {
    let s = signer(SourceKind::VapiEndOfCallReport, "vapi-secret", None);
    let now = Timestamp::now();
    assert_eq!(
        check(&s, &[("X-Vapi-Secret", "vapi-secret")], b"{}", now),
        Ok(())
    );
    assert_eq!(
        check(&s, &[("X-Vapi-Secret", "vapi-secreT")], b"{}", now),
        Err(SignatureError::Mismatch(VAPI_SECRET_HEADER.into()))
    );
    assert_eq!(
        check(&s, &[], b"{}", now),
        Err(SignatureError::Missing(VAPI_SECRET_HEADER.into()))
    );
}

#[test]
fn vapi_hmac_defaults_sign_timestamp_dot_body() {
    let settings = SignatureConfig {
        scheme: "hmac".into(),
        ..SignatureConfig::default()
    };
    let s = signer(SourceKind::VapiEndOfCallReport, "k", Some(settings));
    let now = at_ms(1_765_000_000_000);
    let headers = s.sign(b"{\"a\":1}", now);
    assert_eq!(headers[0].0, "x-signature");
    assert_eq!(
        headers[1],
        ("x-timestamp".to_owned(), "1765000000000".to_owned())
    );
    let expected = hex_digest(Algorithm::Sha256, b"k", &[b"1765000000000.{\"a\":1}"]);
    assert_eq!(headers[0].1, expected);
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(check(&s, &pairs, b"{\"a\":1}", now), Ok(()));
    let later = at_ms(1_765_000_000_000 + 600_000);
    assert!(matches!(
        check(&s, &pairs, b"{\"a\":1}", later),
        Err(SignatureError::Stale { .. })
    ));
}

#[test]
fn vapi_hmac_with_prefix_base64_and_no_timestamp() {
    let settings = SignatureConfig {
        scheme: "hmac".into(),
        header: Some("X-Vapi-Signature".into()),
        timestamp_header: Some(String::new()),
        algorithm: "sha512".into(),
        encoding: "base64".into(),
        prefix: "sha512=".into(),
        ..SignatureConfig::default()
    };
    let s = signer(SourceKind::VapiEndOfCallReport, "k", Some(settings));
    let headers = s.sign(b"body", Timestamp::now());
    assert_eq!(headers.len(), 1);
    let raw = digest(Algorithm::Sha512, b"k", &[b"body"]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    assert_eq!(
        headers[0],
        ("x-vapi-signature".to_owned(), format!("sha512={b64}"))
    );
    let now = Timestamp::now();
    assert_eq!(
        check(&s, &[("x-vapi-signature", &headers[0].1)], b"body", now),
        Ok(())
    );
    assert!(matches!(
        check(&s, &[("x-vapi-signature", &b64)], b"body", now),
        Err(SignatureError::Malformed { .. })
    ));
}

#[test]
fn settings_that_cannot_work_are_refused_at_load() {
    let bad = |c: SignatureConfig| {
        Signer::new(
            SourceKind::VapiEndOfCallReport,
            SecretString::from("k"),
            Some(&c),
        )
        .unwrap_err()
    };
    let hmac = SignatureConfig {
        scheme: "hmac".into(),
        ..SignatureConfig::default()
    };
    assert!(bad(SignatureConfig {
        scheme: "rsa".into(),
        ..hmac.clone()
    })
    .contains("signature.scheme"));
    assert!(bad(SignatureConfig {
        algorithm: "md5".into(),
        ..hmac.clone()
    })
    .contains("signature.algorithm"));
    assert!(bad(SignatureConfig {
        payload: Some("{url}{body}".into()),
        ..hmac.clone()
    })
    .contains("{url}"));
    let e = Signer::new(
        SourceKind::RetellCallEvent,
        SecretString::from("k"),
        Some(&hmac),
    )
    .unwrap_err();
    assert!(e.contains("remove [sources.signature]"), "{e}");
    let e = Signer::new(SourceKind::ItnioCallRecord, SecretString::from("k"), None).unwrap_err();
    assert!(e.contains("use `token`"), "{e}");
}

#[test]
fn the_secret_is_not_in_the_debug_form() {
    let s = signer(SourceKind::BlandCall, "very-secret-value", None);
    assert!(!format!("{s:?}").contains("very-secret-value"));
}
