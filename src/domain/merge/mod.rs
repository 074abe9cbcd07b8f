//! Merging a [`CallUpdate`] into a stored [`Call`] (docs/call-model.md,
//! Identity and merging): new values win, missing values keep the stored
//! ones, analyses accumulate, and repeating a push changes nothing.

use super::{Analysis, Call, CallPatch, CallUpdate, HangupBy, Outcome, Vendor};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// What applying an update did to a call; drives receipt status and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The call was unknown before (`call.created`).
    Created,
    /// The update added or replaced an analysis (`call.analyzed`).
    Analyzed,
    /// Other fields changed (`call.updated`).
    Updated,
    /// Nothing changed: a duplicate.
    Unchanged,
}

/// callhook's id for a call: 32 lower-case hex characters of
/// SHA-256(`vendor` NUL `vendor_call_id`). Deterministic, so any instance
/// derives the same id for the same call without coordination.
pub fn call_id_for(vendor: Vendor, vendor_call_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(vendor.as_str().as_bytes());
    h.update([0u8]);
    h.update(vendor_call_id.as_bytes());
    hex::encode(&h.finalize()[..16])
}

macro_rules! patch_fields {
    ($call:ident, $patch:ident, $only_empty:expr; opt: $($o:ident),*; plain: $($p:ident = $unset:expr),*) => {
        $(if let Some(v) = &$patch.$o {
            if !$only_empty || $call.$o.is_none() { $call.$o = Some(v.clone()); }
        })*
        $(if let Some(v) = &$patch.$p {
            if !$only_empty || $call.$p == $unset { $call.$p = v.clone(); }
        })*
    };
}

fn apply_patch(call: &mut Call, patch: &CallPatch, only_empty: bool) {
    patch_fields!(call, patch, only_empty;
        opt: out_id, task_id, batch_id, script_id, task_name, customer_number, line_number,
             originated_at, ringing_at, answered_at, ended_at, ring_seconds, talk_seconds,
             billed_seconds, cost, intent, recording_url, region;
        plain: outcome = Outcome::Unknown, vendor_status = String::new(),
               hangup_by = HangupBy::Unknown, tags = Vec::<String>::new(),
               turns = Vec::new());
}

fn merge_analyses(stored: &mut Vec<Analysis>, incoming: &[Analysis]) {
    for a in incoming {
        match stored.iter_mut().find(|s| s.same_report(a)) {
            Some(s) => *s = a.clone(),
            None => stored.push(a.clone()),
        }
    }
    // Arrival order must not matter: keep a canonical order.
    stored.sort_by_key(|a| (a.reported_at, a.kind));
}

fn started_at(call: &Call) -> Timestamp {
    [call.originated_at, call.ringing_at, call.answered_at]
        .into_iter()
        .flatten()
        .min()
        .or(call.ended_at)
        .unwrap_or(call.first_received_at)
}

impl Call {
    /// A new call holding only what `update` says, first received at `now`.
    pub fn from_update(update: &CallUpdate, source: &str, now: Timestamp) -> Call {
        let mut call = Call {
            id: call_id_for(update.vendor, &update.vendor_call_id),
            vendor: update.vendor,
            source: source.to_owned(),
            vendor_call_id: update.vendor_call_id.clone(),
            direction: update.direction,
            out_id: None,
            task_id: None,
            batch_id: None,
            script_id: None,
            task_name: None,
            customer_number: None,
            line_number: None,
            outcome: Outcome::Unknown,
            vendor_status: String::new(),
            hangup_by: HangupBy::Unknown,
            originated_at: None,
            ringing_at: None,
            answered_at: None,
            ended_at: None,
            started_at: now,
            ring_seconds: None,
            talk_seconds: None,
            billed_seconds: None,
            cost: None,
            intent: None,
            tags: Vec::new(),
            recording_url: None,
            recording: None,
            region: None,
            turns: Vec::new(),
            analyses: Vec::new(),
            vendor_fields: Default::default(),
            first_received_at: now,
            updated_at: now,
        };
        call.merge_fields(update);
        call
    }

    /// Applies `update` (from source `source`, received at `now`) and says what changed.
    /// `source` and `updated_at` move only when something else changed.
    pub fn apply(&mut self, update: &CallUpdate, source: &str, now: Timestamp) -> Change {
        let before = self.clone();
        self.merge_fields(update);
        if *self == before {
            return Change::Unchanged;
        }
        self.source = source.to_owned();
        self.updated_at = now;
        if self.analyses != before.analyses {
            Change::Analyzed
        } else {
            Change::Updated
        }
    }

    fn merge_fields(&mut self, update: &CallUpdate) {
        self.direction = update.direction;
        apply_patch(self, &update.set, false);
        apply_patch(self, &update.fill, true);
        merge_analyses(&mut self.analyses, &update.analyses);
        for (k, v) in &update.vendor_fields {
            self.vendor_fields.insert(k.clone(), v.clone());
        }
        self.started_at = started_at(self);
    }
}

#[cfg(test)]
mod tests;
