use super::*;
use crate::domain::{Direction, Outcome, Vendor};
use crate::storage::rollup::RollupKey;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + s).unwrap()
}

fn update(call: &str, talk: i64) -> CallUpdate {
    let mut u = CallUpdate::new(Vendor::Aliyun, call.to_owned(), Direction::Outbound);
    u.set.outcome = Some(Outcome::Answered);
    u.set.talk_seconds = Some(talk);
    u
}

fn receipt(seq: i64, updates: Vec<CallUpdate>) -> ReadReceipt {
    ReadReceipt {
        seq,
        id: format!("r{seq:03}"),
        source: "ali".into(),
        received_at: at(seq),
        result: BodyResult::Parsed {
            record_count: updates.len(),
            updates,
            errors: vec![],
            warnings: vec![],
        },
    }
}

/// 40 receipts over 9 calls: each call is set several times with other
/// talk times, so the order of application shows in the result.
fn log() -> Vec<ReadReceipt> {
    (1..=40)
        .map(|seq| {
            let a = format!("c{}", seq % 9);
            let b = format!("c{}", (seq * 5) % 9);
            receipt(seq, vec![update(&a, seq), update(&b, 100 + seq)])
        })
        .collect()
}

/// Calls, events and rollups, each sorted.
type Snapshot = (Vec<String>, Vec<Event>, Vec<String>);

/// An event: id, type, time (epoch ms), payload.
type Event = (String, String, i64, String);

/// A store in memory: what a backend would hold after writing plans.
#[derive(Default)]
struct Memory {
    calls: HashMap<String, StoredCall>,
    events: Vec<Event>,
    rollups: BTreeMap<RollupKey, Sums>,
    links: HashMap<String, Vec<String>>,
    receipts: HashMap<String, ReceiptStatus>,
    log: Vec<ReadReceipt>,
}

impl Memory {
    fn stored_for(&self, batch: &[ReadReceipt], extra: &[String]) -> HashMap<String, StoredCall> {
        batch
            .iter()
            .flat_map(ReadReceipt::call_ids)
            .chain(extra.iter().cloned())
            .filter_map(|id| self.calls.get(&id).map(|c| (id, c.clone())))
            .collect()
    }

    fn history(&self, ids: &[String]) -> HashMap<String, Vec<ReadReceipt>> {
        ids.iter()
            .map(|id| {
                let linked = self.links.get(id).cloned().unwrap_or_default();
                let rs = self
                    .log
                    .iter()
                    .filter(|r| linked.contains(&r.id))
                    .cloned()
                    .collect();
                (id.clone(), rs)
            })
            .collect()
    }

    fn project(&mut self, batch: &[ReadReceipt]) -> Plan {
        let stored = self.stored_for(batch, &[]);
        let rebuild = needs_history(batch, &stored, Mode::Project, &[]);
        let history = self.history(&rebuild);
        let plan = plan(batch, &stored, &history, Mode::Project).unwrap();
        self.write(&plan);
        plan
    }

    fn write(&mut self, plan: &Plan) {
        for c in &plan.calls {
            self.calls.insert(
                c.call.id.clone(),
                StoredCall {
                    call: c.call.clone(),
                    last_seq: c.last_seq,
                },
            );
        }
        for (id, seq) in &plan.touched {
            let c = self.calls.get_mut(id).unwrap();
            c.last_seq = c.last_seq.max(*seq);
        }
        for e in &plan.events {
            let kind = format!("{:?}", e.change);
            self.events
                .push((e.id.clone(), kind, e.at.as_millisecond(), e.doc.clone()));
        }
        for (call, receipt) in &plan.links {
            let l = self.links.entry(call.clone()).or_default();
            if !l.contains(receipt) {
                l.push(receipt.clone());
            }
        }
        for r in &plan.receipts {
            self.receipts.insert(r.id.clone(), r.status);
        }
    }

    fn add_rollups(&mut self, plan: Plan) {
        for (k, s) in plan.rollups.into_rows() {
            self.rollups.entry(k).or_default().add(&s, 1);
        }
        self.rollups.retain(|_, s| !s.is_zero());
    }

    /// Calls as sorted documents, events sorted by call then time.
    fn snapshot(&self) -> Snapshot {
        let mut calls: Vec<String> = self
            .calls
            .values()
            .map(|c| format!("{}|{}", to_doc(&c.call).unwrap(), c.last_seq))
            .collect();
        calls.sort();
        let mut events = self.events.clone();
        events.sort();
        let rollups = self
            .rollups
            .iter()
            .map(|(k, s)| format!("{k:?}={s:?}"))
            .collect();
        (calls, events, rollups)
    }
}

fn project_in_batches(size: usize) -> Memory {
    let mut m = Memory {
        log: log(),
        ..Memory::default()
    };
    let all = m.log.clone();
    for chunk in all.chunks(size) {
        let plan = m.project(chunk);
        m.add_rollups(plan);
    }
    m
}

#[test]
fn batch_size_does_not_change_calls_events_or_rollups() {
    let one = project_in_batches(1).snapshot();
    assert_eq!(one.0.len(), 9, "nine calls");
    assert!(!one.1.is_empty() && !one.2.is_empty());
    for size in [7, 500] {
        let other = project_in_batches(size).snapshot();
        assert_eq!(one.0, other.0, "calls differ at batch size {size}");
        assert_eq!(one.1, other.1, "events differ at batch size {size}");
        assert_eq!(one.2, other.2, "rollups differ at batch size {size}");
    }
}

#[test]
fn a_receipt_projected_late_rebuilds_the_call_as_if_in_order() {
    let in_order = project_in_batches(1);
    // Receipts 1..=40 with 17 held back (another projector held it), then 17.
    let mut m = Memory {
        log: log(),
        ..Memory::default()
    };
    let all = m.log.clone();
    let (late, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| r.seq == 17);
    for r in &rest {
        let plan = m.project(std::slice::from_ref(r));
        m.add_rollups(plan);
    }
    let plan = m.project(&late);
    assert!(
        plan.events.iter().all(|e| e.change != Change::Created),
        "the late receipt's calls exist: rebuilt, not created"
    );
    m.add_rollups(plan);
    assert_eq!(in_order.snapshot().0, m.snapshot().0, "same calls");
    assert_eq!(in_order.snapshot().2, m.snapshot().2, "same rollups");
    assert_eq!(m.receipts.get("r017"), Some(&ReceiptStatus::Accepted));
}

#[test]
fn a_repeat_is_a_duplicate_with_no_event() {
    let mut m = Memory {
        log: vec![receipt(1, vec![update("a", 10)])],
        ..Memory::default()
    };
    let first = m.project(&m.log.clone());
    assert_eq!(first.events.len(), 1);
    assert_eq!(first.receipts[0].status, ReceiptStatus::Accepted);
    let mut again = receipt(2, vec![update("a", 10)]);
    again.id = "r-again".into();
    m.log.push(again.clone());
    let second = m.project(&[again]);
    assert!(second.events.is_empty() && second.calls.is_empty());
    assert_eq!(second.receipts[0].status, ReceiptStatus::Duplicate);
    assert_eq!(second.touched, vec![(call_id_for(Vendor::Aliyun, "a"), 2)]);
}

#[test]
fn reprojection_makes_one_event_per_changed_call_and_none_otherwise() {
    let mut m = project_in_batches(500);
    let before = m.snapshot();
    let at_now = at(10_000);
    // Read receipt 5 again: same result, so nothing changes.
    let same = vec![m.log[4].clone()];
    let linked: Vec<String> = same[0].call_ids();
    let stored = m.stored_for(&same, &linked);
    let mode = Mode::Reproject { at: at_now };
    let ids = needs_history(&same, &stored, mode, &linked);
    let p = plan(&same, &stored, &m.history(&ids), mode).unwrap();
    assert!(p.events.is_empty() && p.calls.is_empty(), "{:?}", p.events);
    // Receipt 40 read again with another talk time for its first call.
    let mut changed = m.log[39].clone();
    if let BodyResult::Parsed { updates, .. } = &mut changed.result {
        updates[0].set.talk_seconds = Some(999);
    }
    m.log[39] = changed.clone();
    let linked = changed.call_ids();
    let stored = m.stored_for(std::slice::from_ref(&changed), &linked);
    let ids = needs_history(std::slice::from_ref(&changed), &stored, mode, &linked);
    let p = plan(
        std::slice::from_ref(&changed),
        &stored,
        &m.history(&ids),
        mode,
    )
    .unwrap();
    assert_eq!(p.calls.len(), 1, "only the changed call is written");
    assert_eq!(p.events.len(), 1);
    assert_eq!(p.events[0].change, Change::Updated);
    assert_eq!(p.events[0].at, at_now);
    assert_eq!(p.calls[0].call.talk_seconds, Some(999));
    m.write(&p);
    assert_ne!(before.0, m.snapshot().0);
}

#[test]
fn event_ids_are_deterministic_and_distinct() {
    let a = event_id("r1", "call", 0, at(0));
    assert_eq!(a, event_id("r1", "call", 0, at(0)));
    assert_ne!(a, event_id("r1", "call", 1, at(0)));
    assert_ne!(a, event_id("r2", "call", 0, at(0)));
    assert!(a.starts_with("evt_") && a.len() == 30, "{a}");
}

#[test]
fn a_batch_is_cut_by_records_or_body_bytes_but_always_takes_its_first_receipt() {
    let mut by_records = BatchSize::new(10);
    assert!(by_records.admit(6, 100));
    assert!(by_records.admit(4, 100));
    assert!(!by_records.admit(1, 100), "11 records is past 10");

    let mb = 1024 * 1024;
    let mut by_bytes = BatchSize::new(1_000);
    assert!(by_bytes.admit(1, 8 * mb));
    assert!(by_bytes.admit(1, 8 * mb));
    assert!(!by_bytes.admit(1, 1), "16 MiB of bodies already");

    let mut huge = BatchSize::new(1);
    assert!(huge.admit(5_000, 64 * mb), "the first receipt always fits");
    assert!(!huge.admit(0, 0));

    // A receipt without records (rejected, empty) still counts as one.
    let mut empty = BatchSize::new(2);
    assert!(empty.admit(0, 10));
    assert!(empty.admit(0, 10));
    assert!(!empty.admit(0, 10));
}

/// Reads `body` as one update for the call it names; panics on `panic`.
struct TestReader;

impl crate::storage::BodyReader for TestReader {
    fn read(&self, _source: &str, _kind: crate::domain::SourceKind, body: &[u8]) -> BodyResult {
        let text = std::str::from_utf8(body).unwrap();
        if text == "panic" {
            panic!("adapter bug on {text}");
        }
        BodyResult::Parsed {
            record_count: 1,
            updates: vec![update(text, 10)],
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

fn raw(seq: i64, body: Result<&str, &str>) -> RawReceipt {
    RawReceipt {
        seq,
        id: format!("r{seq:03}"),
        source: "ali".into(),
        kind: crate::domain::SourceKind::AliyunCallReport,
        received_at: at(seq),
        body: body.map(|b| b.as_bytes().to_vec()).map_err(str::to_owned),
    }
}

#[test]
fn a_damaged_body_or_an_adapter_panic_rejects_that_receipt_and_the_batch_goes_on() {
    let raws = vec![
        raw(1, Ok("a")),
        raw(2, Err("receipt body: unknown frame descriptor")),
        raw(3, Ok("panic")),
        raw(4, Ok("b")),
    ];
    let batch = read_all(raws, &TestReader);
    let messages: Vec<String> = batch
        .iter()
        .map(|r| match &r.result {
            BodyResult::Rejected(issue) => issue.message.clone(),
            BodyResult::Parsed { .. } => "parsed".into(),
        })
        .collect();
    assert_eq!(messages[0], "parsed");
    assert!(
        messages[1].contains("unknown frame descriptor"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("panicked") && messages[2].contains("adapter bug"),
        "{}",
        messages[2]
    );
    assert_eq!(messages[3], "parsed");

    let mut m = Memory {
        log: batch.clone(),
        ..Memory::default()
    };
    let plan = m.project(&batch);
    let statuses: Vec<ReceiptStatus> = plan.receipts.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            ReceiptStatus::Accepted,
            ReceiptStatus::Rejected,
            ReceiptStatus::Rejected,
            ReceiptStatus::Accepted
        ]
    );
    assert_eq!(
        m.calls.len(),
        2,
        "the calls of the readable receipts are stored"
    );
}
