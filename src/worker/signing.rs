//! Standard Webhooks signatures (docs/http-contract.md; the
//! scheme is <https://www.standardwebhooks.com/>): HMAC-SHA256 of
//! `"{id}.{timestamp}.{body}"`, base64 (standard alphabet, padded), written
//! as `v1,<signature>` in the `webhook-signature` header, several signatures
//! separated by single spaces.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The MAC of `"{id}.{timestamp}.{body}"` under `key`, not yet finalized.
fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (longer ones are hashed first), so
    // this never fails.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header value for one request.
///
/// `keys` are the raw key bytes (the base64 part of each `whsec_` secret,
/// decoded: [`crate::config::secret_key`]), newest first; `id` is the
/// `webhook-id` (the event id); `timestamp` the `webhook-timestamp` in whole
/// seconds since the Unix epoch; `body` the exact request body. Answers one
/// `v1,<base64>` entry per key, in the order of `keys`, joined by spaces
/// (empty when `keys` is).
pub fn sign(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| {
            let tag = mac(key, id, timestamp, body).finalize().into_bytes();
            format!("v1,{}", STANDARD.encode(tag))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `header` (a `webhook-signature` value) holds a `v1` signature of
/// `"{id}.{timestamp}.{body}"` under `key`, compared in constant time.
///
/// Entries of other versions, and ones whose signature is not base64, are
/// skipped. This checks the signature only: a receiver should also refuse
/// a `timestamp` far from its own clock (Standard Webhooks suggests 5 min).
pub fn verify(key: &[u8], id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let expected = mac(key, id, timestamp, body);
    header
        .split_ascii_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|tag| expected.clone().verify_slice(&tag).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks reference vector, checked independently with
    /// Python: `base64.b64encode(hmac.new(base64.b64decode(
    /// "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}',
    /// hashlib.sha256).digest())`.
    const SPEC_KEY_B64: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn spec_key() -> Vec<u8> {
        STANDARD.decode(SPEC_KEY_B64).unwrap()
    }

    /// Key bytes 0..32, checked the same way with Python.
    fn counting_key() -> Vec<u8> {
        (0u8..32).collect()
    }
    const COUNTING_BODY: &[u8] = br#"{"id":"evt_01J","type":"call.created"}"#;
    const COUNTING_SIG: &str = "v1,aj6/G/l5pK2sM/zv1mL1WZmBRAJ5pH++Pg/nikPxZsY=";

    #[test]
    fn sign_matches_the_known_answer_vectors() {
        assert_eq!(sign(&[spec_key()], SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
        assert_eq!(
            sign(&[counting_key()], "evt_01J", 1_700_000_000, COUNTING_BODY),
            COUNTING_SIG
        );
    }

    #[test]
    fn sign_writes_one_entry_per_key_in_order() {
        let header = sign(&[spec_key(), spec_key()], SPEC_ID, SPEC_TS, SPEC_BODY);
        assert_eq!(header, format!("{SPEC_SIG} {SPEC_SIG}"));
        let header = sign(&[counting_key(), spec_key()], SPEC_ID, SPEC_TS, SPEC_BODY);
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert_ne!(entries[0], SPEC_SIG);
        assert_eq!(entries[1], SPEC_SIG);
        assert_eq!(sign(&[], SPEC_ID, SPEC_TS, SPEC_BODY), "");
    }

    #[test]
    fn verify_accepts_the_vector_and_any_matching_entry() {
        assert!(verify(&spec_key(), SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SIG));
        let rotated = sign(&[counting_key(), spec_key()], SPEC_ID, SPEC_TS, SPEC_BODY);
        assert!(verify(&spec_key(), SPEC_ID, SPEC_TS, SPEC_BODY, &rotated));
        assert!(verify(
            &counting_key(),
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            &rotated
        ));
        let noisy = format!("v2,abc v1,!!notbase64!! {SPEC_SIG}");
        assert!(verify(&spec_key(), SPEC_ID, SPEC_TS, SPEC_BODY, &noisy));
    }

    #[test]
    fn verify_refuses_any_change() {
        let key = spec_key();
        assert!(!verify(&key, SPEC_ID, SPEC_TS + 1, SPEC_BODY, SPEC_SIG));
        assert!(!verify(&key, "msg_other", SPEC_TS, SPEC_BODY, SPEC_SIG));
        assert!(!verify(
            &key,
            SPEC_ID,
            SPEC_TS,
            br#"{"test": 2432232315}"#,
            SPEC_SIG
        ));
        assert!(!verify(
            &counting_key(),
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            SPEC_SIG
        ));
        let v2 = SPEC_SIG.replacen("v1,", "v2,", 1);
        assert!(!verify(&key, SPEC_ID, SPEC_TS, SPEC_BODY, &v2));
        let truncated = &SPEC_SIG[..SPEC_SIG.len() - 4];
        assert!(!verify(&key, SPEC_ID, SPEC_TS, SPEC_BODY, truncated));
        assert!(!verify(&key, SPEC_ID, SPEC_TS, SPEC_BODY, ""));
    }
}
