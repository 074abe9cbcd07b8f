//! `GET /calls/{id}`: one call: its facts, a timeline from origination to
//! hang-up, the transcript as a conversation, QA items with scores,
//! summary tags, cost, intent, the recording (a player, a download link
//! and when a signed link expires), the vendor's most useful unmapped
//! fields as rows, and the raw receipts. Every vendor string is shown as
//! text (the template escapes it); a recording is played or linked only
//! from an `http(s)` URL.

use super::call_recording::{self, ArchiveView, KeptView};
use super::templates::Chrome;
use super::vendor_rows::{self, FieldRow};
use super::{chrome, durations, format, html, recording_expiry, UiError};
use crate::domain::{Analysis, AnalysisKind, Call};
use crate::http::AppState;
use crate::storage::recordings::RecordingRecord;
use crate::storage::ReceiptRef;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use jiff::Timestamp;
use serde_json::Value;

pub struct Moment {
    pub at: String,
    pub what: &'static str,
    /// Time after the first moment, e.g. `+12 s`, `+2 min 05 s`.
    pub offset: String,
}

pub struct TurnView {
    pub speaker: &'static str,
    pub at: String,
    pub text: String,
}

pub struct ItemView {
    pub name: String,
    pub score: String,
    pub full: String,
    pub problem: String,
    pub suggestion: String,
}

pub struct AnalysisView {
    pub kind: &'static str,
    pub success: bool,
    pub error: String,
    pub reported_at: String,
    pub score: Option<String>,
    pub items: Vec<ItemView>,
    pub tags: Vec<(String, String)>,
}

pub struct ReceiptView {
    pub id: String,
    pub received_at: String,
    pub source: String,
    pub status: &'static str,
}

pub struct CallView {
    pub id: String,
    pub vendor_call_id: String,
    pub outcome: &'static str,
    /// Known only from its analyses ([`Call::awaiting_report`]).
    pub awaiting_report: bool,
    pub vendor_status: String,
    pub vendor: &'static str,
    pub source: String,
    pub direction: &'static str,
    pub customer_number: String,
    pub line_number: String,
    pub task: String,
    pub out_id: String,
    /// Talk, ring and billed time (`2 min 05 s · 12 s · 3 min 00 s`).
    pub durations: String,
    pub cost: String,
    pub intent: String,
    pub hangup_by: &'static str,
    pub tags: Vec<String>,
    pub region: String,
    pub recording_link: Option<String>,
    pub recording_text: String,
    /// "link expires … (in 3 h)" for a signed recording URL.
    pub recording_note: Option<String>,
    /// The archive of `recording_url`: the kept copy, or why not.
    pub archive: Option<ArchiveView>,
    /// The vendor's other recording links and their archives.
    pub other_recordings: Vec<ArchiveView>,
    /// The vendor's fields worth a row of their own ([`vendor_rows`]).
    pub vendor_rows: Vec<FieldRow>,
    pub timeline: Vec<Moment>,
    pub turns: Vec<TurnView>,
    pub analyses: Vec<AnalysisView>,
    pub receipts: Vec<ReceiptView>,
    pub vendor_fields: String,
}

impl CallView {
    /// The kept copy of `recording_url`, when archived.
    pub fn kept(&self) -> Option<&KeptView> {
        self.archive.as_ref().and_then(|a| a.kept.as_ref())
    }
}

#[derive(Template)]
#[template(path = "call.html")]
pub struct CallPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub c: CallView,
}

pub async fn page(
    State(st): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<(CookieJar, Response), UiError> {
    let mut detail = st
        .store
        .get_call(&id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("no call with id `{id}`")))?;
    if st.config.mask_numbers {
        crate::masking::mask_call(&mut detail.call);
    }
    // The page still shows the call when the archive's rows cannot be read.
    let recordings = st.store.call_recordings(&id).await.unwrap_or_else(|e| {
        tracing::warn!(error = %crate::error_chain::ErrorChain(&e), call = %id, "call page without its recordings");
        Vec::new()
    });
    let (jar, chrome) = chrome(&st, jar, None);
    let c = view(
        &detail.call,
        &detail.receipts,
        &recordings,
        Timestamp::now(),
    );
    let page = CallPage {
        nav: "calls",
        chrome,
        c,
    };
    Ok((jar, html(&page)))
}

/// A recording URL that is safe to link to: `http` or `https` only.
pub fn safe_link(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

fn timeline(c: &Call) -> Vec<Moment> {
    let mut m: Vec<(Timestamp, &'static str)> = [
        (c.originated_at, "originated"),
        (c.ringing_at, "ringing"),
        (c.answered_at, "answered"),
        (c.ended_at, "ended"),
    ]
    .into_iter()
    .filter_map(|(t, w)| t.map(|t| (t, w)))
    .collect();
    m.push((c.first_received_at, "first report received"));
    if c.updated_at != c.first_received_at {
        m.push((c.updated_at, "last changed"));
    }
    m.sort_by_key(|(t, _)| *t);
    let first = m.first().map(|(t, _)| *t);
    m.into_iter()
        .map(|(t, what)| Moment {
            at: format::time(t),
            what,
            offset: first.map_or(String::new(), |f| {
                format!("+{}", durations::duration((t - f).get_seconds()))
            }),
        })
        .collect()
}

fn number(v: Option<f64>) -> String {
    v.map_or_else(|| format::NONE.into(), |n| format!("{n}"))
}

fn analysis(a: &Analysis) -> AnalysisView {
    let kind = match a.kind {
        AnalysisKind::QualityInspection => "Quality inspection",
        AnalysisKind::Summary => "Summary",
    };
    let score = match (a.score, a.full_score) {
        (Some(s), Some(f)) if f > 0.0 => Some(format!("{s} / {f} ({:.1}%)", s / f * 100.0)),
        (Some(s), _) => Some(format!("{s}")),
        _ => None,
    };
    let tags = a
        .tags
        .iter()
        .flatten()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Array(xs) => xs
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect();
    AnalysisView {
        kind,
        success: a.success,
        error: a.error_code.clone().unwrap_or_default(),
        reported_at: format::opt_time(a.reported_at),
        score,
        items: a
            .items
            .iter()
            .flatten()
            .map(|i| ItemView {
                name: i.item.clone(),
                score: number(i.score),
                full: number(i.full_score),
                problem: format::text(i.problem.as_deref()),
                suggestion: format::text(i.suggestion.as_deref()),
            })
            .collect(),
        tags,
    }
}

/// `code · label` of the call's intent, or [`format::NONE`].
fn intent(c: &Call) -> String {
    c.intent.as_ref().map_or(format::NONE.into(), |i| {
        [i.code.as_deref(), i.label.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ")
    })
}

/// `province · city · carrier`, or [`format::NONE`].
fn region(c: &Call) -> String {
    c.region.as_ref().map_or(format::NONE.into(), |r| {
        [
            r.province.as_deref(),
            r.city.as_deref(),
            r.carrier.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
    })
}

/// The page's view of `c`, the receipts that mentioned it and its
/// recording rows, with a signed recording link's expiry told relative to
/// `now`.
pub fn view(
    c: &Call,
    receipts: &[ReceiptRef],
    recordings: &[RecordingRecord],
    now: Timestamp,
) -> CallView {
    let task = match (&c.task_id, &c.task_name) {
        (Some(id), Some(name)) => format!("{id} · {name}"),
        (Some(id), None) => id.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => format::NONE.into(),
    };
    let recording = c.recording_url.as_deref();
    let link = recording.and_then(safe_link);
    // Only a link that is offered gets an expiry note.
    let recording_note = link
        .as_deref()
        .and_then(recording_expiry::url_expiry)
        .map(|at| recording_expiry::note(at, now));
    let (archive, other_recordings) = call_recording::views(&c.id, recordings, now);
    CallView {
        id: c.id.clone(),
        vendor_call_id: c.vendor_call_id.clone(),
        outcome: c.outcome.as_str(),
        awaiting_report: c.awaiting_report(),
        vendor_status: c.vendor_status.clone(),
        vendor: c.vendor.as_str(),
        source: c.source.clone(),
        direction: c.direction.as_str(),
        customer_number: format::text(c.customer_number.as_deref()),
        line_number: format::text(c.line_number.as_deref()),
        task,
        out_id: format::text(c.out_id.as_deref()),
        durations: format!(
            "{} · {} · {}",
            durations::opt_duration(c.talk_seconds),
            durations::opt_duration(c.ring_seconds),
            durations::opt_duration(c.billed_seconds)
        ),
        cost: format::money(c.cost.as_ref()),
        intent: intent(c),
        hangup_by: c.hangup_by.as_str(),
        tags: c.tags.clone(),
        region: region(c),
        recording_link: link,
        recording_text: format::text(recording),
        recording_note,
        archive,
        other_recordings,
        vendor_rows: vendor_rows::rows(c.vendor, &c.vendor_fields),
        timeline: timeline(c),
        turns: c
            .turns
            .iter()
            .map(|t| TurnView {
                speaker: t.speaker.as_str(),
                at: t.start_ms.map(format::offset_ms).unwrap_or_default(),
                text: t.text.clone(),
            })
            .collect(),
        analyses: c.analyses.iter().map(analysis).collect(),
        receipts: receipts
            .iter()
            .map(|r| ReceiptView {
                id: r.id.clone(),
                received_at: format::time(r.received_at),
                source: r.source.clone(),
                status: r.status.as_str(),
            })
            .collect(),
        vendor_fields: serde_json::to_string_pretty(&c.vendor_fields).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_become_links() {
        assert_eq!(
            safe_link("https://oss.example.com/r.wav?x=1").as_deref(),
            Some("https://oss.example.com/r.wav?x=1")
        );
        assert_eq!(safe_link("javascript:alert(1)"), None);
        assert_eq!(safe_link("data:text/html,<b>x</b>"), None);
        assert_eq!(safe_link("not a url"), None);
    }
}
