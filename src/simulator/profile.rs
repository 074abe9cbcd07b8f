//! How each vendor delivers a push: what its receiver must answer, how long
//! it waits, and when it tries again.
//!
//! Alibaba (Alibaba's push document, "Push retries"; docs/push.md, Delivery
//! rules): `POST` with `Content-Type: application/json`; accepted when the
//! answer is HTTP 200 and the JSON body's `code` is a number (its value is
//! not checked); 700 ms to answer; after a failure, retries 1, 5 and 10
//! minutes apart, then never again.
//!
//! LAAFFIC (LAAFFIC's document, 推送示例 and 响应示例): `POST` with
//! `Content-Type: application/json;charset=UTF-8`; any HTTP 200 is
//! accepted, the body is not checked.
//!
//! Vapi (docs.vapi.ai/server-url/end-of-call-report): waits up to 20 s
//! for an answer and does not retry by default. Retell
//! (docs.retellai.com/features/webhook-overview): 10 s to answer with a
//! 2xx, retried up to 3 times (the delays are not documented: 10 s here).
//! Bland (docs.bland.ai/tutorials/post-call-webhooks): any 2xx; "automatic
//! retries based on the response code", timeout and delays not documented
//! (Alibaba's here). None of the three reads the answer's body.
//!
//! **Decision:** the ITNIO Tech and longlonglong documents say nothing of
//! timeouts, retries or what they check in the answer, nor does LAAFFIC's of
//! timeouts and retries (the vendors' delivery notes, docs/push.md: "the others are similar or silent"), so
//! those rules are Alibaba's. A receiver that satisfies Alibaba's profile
//! satisfies every vendor.

use crate::domain::SourceKind;
use std::time::Duration;

/// One vendor's delivery rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub kind: SourceKind,
    /// How long the vendor waits for an answer; longer is a failed attempt.
    pub timeout: Duration,
    /// Delay before each retry, measured from the failed attempt's end.
    pub retry_schedule: Vec<Duration>,
    /// The request's `Content-Type`.
    pub content_type: &'static str,
    /// Whether an HTTP 200 must also carry a numeric `code` in its JSON
    /// body (Alibaba) or is accepted as it is (LAAFFIC).
    pub needs_numeric_code: bool,
    /// Whether any 2xx is accepted (Vapi, Retell, Bland), not only 200.
    pub any_2xx: bool,
    /// Where the rules come from.
    pub source: &'static str,
}

impl Profile {
    /// The profile of `kind`.
    pub fn of(kind: SourceKind) -> Profile {
        let source = match kind {
            SourceKind::AliyunCallReport => "Alibaba AlicomAgentCallReport (001): Push retries",
            SourceKind::AliyunCallNotes => "Alibaba Note Agent call notes (000): Retry push",
            SourceKind::LaafficVoiceReport => {
                "LAAFFIC (004): any HTTP 200; timeout and retries Alibaba's (not documented)"
            }
            SourceKind::VapiEndOfCallReport => {
                "Vapi end-of-call-report: 20 s, no retries by default"
            }
            SourceKind::RetellCallEvent => "Retell webhooks: 10 s, up to 3 retries",
            SourceKind::BlandCall => {
                "Bland post-call webhook: any 2xx; timeout and retries Alibaba's (not documented)"
            }
            _ => "not documented by the vendor: Alibaba's rules (docs/push.md)",
        };
        let laaffic = kind == SourceKind::LaafficVoiceReport;
        let ai = kind.is_ai_platform();
        let (timeout, retry_schedule) = match kind {
            SourceKind::VapiEndOfCallReport => (Duration::from_secs(20), Vec::new()),
            SourceKind::RetellCallEvent => {
                (Duration::from_secs(10), vec![Duration::from_secs(10); 3])
            }
            _ => (
                Duration::from_millis(700),
                [1, 5, 10].map(|m| Duration::from_secs(m * 60)).to_vec(),
            ),
        };
        Profile {
            kind,
            timeout,
            retry_schedule,
            content_type: if laaffic {
                "application/json;charset=UTF-8"
            } else {
                "application/json"
            },
            needs_numeric_code: !laaffic && !ai,
            any_2xx: ai,
            source,
        }
    }

    /// Whether the vendor counts an answer of `status` with `body` as
    /// accepted. Errors: why not (`HTTP 503`, `code is not a number: "ok"`).
    pub fn judge(&self, status: u16, body: &[u8]) -> Result<(), String> {
        let ok = if self.any_2xx {
            (200..300).contains(&status)
        } else {
            status == 200
        };
        if !ok {
            return Err(format!("HTTP {status}"));
        }
        if !self.needs_numeric_code {
            return Ok(());
        }
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| "HTTP 200 but the body is not JSON".to_owned())?;
        match v.get("code") {
            Some(c) if c.is_number() => Ok(()),
            Some(c) => Err(format!("HTTP 200 but `code` is not a number: {c}")),
            None => Err("HTTP 200 but the body has no `code`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alibaba_needs_200_and_a_numeric_code_and_retries_three_times() {
        let p = Profile::of(SourceKind::AliyunCallReport);
        assert_eq!(p.judge(200, br#"{"code":0,"msg":"ok"}"#), Ok(()));
        assert_eq!(
            p.judge(200, br#"{"code":-1}"#),
            Ok(()),
            "the value is not checked"
        );
        assert!(p
            .judge(200, br#"{"code":"0"}"#)
            .unwrap_err()
            .contains("not a number"));
        assert!(p.judge(200, b"ok").unwrap_err().contains("not JSON"));
        assert!(p
            .judge(200, br#"{"msg":"ok"}"#)
            .unwrap_err()
            .contains("no `code`"));
        assert_eq!(p.judge(201, br#"{"code":0}"#), Err("HTTP 201".into()));
        assert_eq!(p.judge(503, b""), Err("HTTP 503".into()));
        let mins: Vec<u64> = p.retry_schedule.iter().map(|d| d.as_secs() / 60).collect();
        assert_eq!(mins, [1, 5, 10]);
        assert_eq!(p.timeout, Duration::from_millis(700));
    }

    #[test]
    fn laaffic_accepts_any_200_and_says_its_charset() {
        let p = Profile::of(SourceKind::LaafficVoiceReport);
        assert_eq!(p.judge(200, b"whatever"), Ok(()));
        assert_eq!(p.judge(500, br#"{"code":0}"#), Err("HTTP 500".into()));
        assert_eq!(p.content_type, "application/json;charset=UTF-8");
        assert!(Profile::of(SourceKind::ItnioCallRecord).needs_numeric_code);
    }

    #[test]
    fn every_kind_has_a_profile() {
        for k in SourceKind::ALL {
            let p = Profile::of(*k);
            assert_eq!(p.kind, *k);
            let retries = if *k == SourceKind::VapiEndOfCallReport {
                0
            } else {
                3
            };
            assert_eq!(p.retry_schedule.len(), retries, "{k}");
        }
    }

    #[test]
    fn the_ai_platforms_accept_any_2xx_and_wait_longer() {
        let vapi = Profile::of(SourceKind::VapiEndOfCallReport);
        assert_eq!(vapi.timeout, Duration::from_secs(20));
        assert_eq!(vapi.judge(204, b""), Ok(()));
        assert_eq!(vapi.judge(400, b""), Err("HTTP 400".into()));
        let retell = Profile::of(SourceKind::RetellCallEvent);
        assert_eq!(retell.timeout, Duration::from_secs(10));
        assert_eq!(retell.judge(202, b"not json"), Ok(()));
        assert_eq!(Profile::of(SourceKind::BlandCall).judge(200, b""), Ok(()));
    }
}
