//! The dispatcher against a real SQLite store and a scripted sink.

use super::dispatch::Dispatcher;
use super::{SendKind, SendResult, Sink};
use crate::domain::{EventType, Vendor};
use crate::storage::test_rig::{rig_with, target, Rig};
use crate::storage::*;
use async_trait::async_trait;
use jiff::Timestamp;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Answers from a script, then `then`; remembers every message sent.
struct Scripted {
    script: Mutex<VecDeque<SendKind>>,
    then: Mutex<SendKind>,
    sent: Mutex<Vec<OutboundMessage>>,
    /// Calls whose first attempt fails (before the script is consulted).
    fail_once: Mutex<std::collections::HashSet<String>>,
}

impl Scripted {
    fn new(script: &[SendKind], then: SendKind) -> Arc<Scripted> {
        Arc::new(Scripted {
            script: Mutex::new(script.iter().copied().collect()),
            then: Mutex::new(then),
            sent: Mutex::default(),
            fail_once: Mutex::default(),
        })
    }
    fn sent(&self) -> Vec<OutboundMessage> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Sink for Scripted {
    async fn send(&self, m: &OutboundMessage) -> SendResult {
        self.sent.lock().unwrap().push(m.clone());
        let kind = if self.fail_once.lock().unwrap().remove(&m.call_id) {
            SendKind::Failed
        } else {
            let next = self.script.lock().unwrap().pop_front();
            next.unwrap_or(*self.then.lock().unwrap())
        };
        let status = match kind {
            SendKind::Delivered => 200,
            SendKind::Failed => 503,
            SendKind::Gone => 410,
        };
        SendResult {
            kind,
            status: Some(status),
            error: (kind != SendKind::Delivered).then(|| format!("HTTP {status}")),
            retry_after: None,
        }
    }
}

/// A push of one record per `(call, talk_seconds)`.
fn push(id: &str, calls: &[(&str, i64)]) -> IngestBatch {
    test_batch(id, calls, false)
}

async fn rig(targets: &[&str]) -> Rig {
    rig_with(targets.iter().map(|t| target(t)).collect()).await
}

fn dispatcher(
    store: &Arc<dyn Store>,
    name: &str,
    sink: Arc<Scripted>,
    schedule: &[u64],
) -> Dispatcher {
    Dispatcher {
        outbox: store.clone(),
        target: name.into(),
        sink,
        schedule: Arc::new(
            schedule
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
        ),
        max_in_flight: 4,
        lease: Duration::from_secs(30),
    }
}

async fn deliveries(store: &Arc<dyn Store>, status: Option<DeliveryStatus>) -> Vec<Delivery> {
    let filter = DeliveryFilter {
        subscriber: None,
        status,
    };
    let page = PageRequest {
        limit: 1000,
        cursor: None,
    };
    store.list_deliveries(&filter, &page).await.unwrap().items
}

/// Waits until `cond` holds on the deliveries (at most 10 s).
async fn until(
    store: &Arc<dyn Store>,
    what: &str,
    cond: impl Fn(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    for _ in 0..1000 {
        let all = deliveries(store, None).await;
        if cond(&all) {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "timed out waiting until {what}: {:#?}",
        deliveries(store, None).await
    );
}

fn all_are(status: DeliveryStatus, n: usize) -> impl Fn(&[Delivery]) -> bool {
    move |d| d.len() == n && d.iter().all(|x| x.status == status)
}

#[tokio::test]
async fn events_of_one_call_arrive_in_order_even_when_the_first_is_retried() {
    let rig = rig(&["crm"]).await;
    rig.store
        .ingest(push("r1", &[("a", 10), ("b", 10)]))
        .await
        .unwrap();
    rig.store.ingest(push("r2", &[("a", 20)])).await.unwrap();
    rig.store
        .ingest(push("r3", &[("a", 30), ("b", 20)]))
        .await
        .unwrap();
    rig.store
        .ingest(push("r3-dup", &[("a", 30)]))
        .await
        .unwrap();
    // Call a's first attempt (its created event) fails once.
    let sink = Scripted::new(&[], SendKind::Delivered);
    sink.fail_once
        .lock()
        .unwrap()
        .insert(crate::domain::call_id_for(Vendor::Aliyun, "a"));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(dispatcher(&rig.store, "crm", sink.clone(), &[50]).run(stopped));
    let done = until(
        &rig.store,
        "all delivered",
        all_are(DeliveryStatus::Delivered, 5),
    )
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();

    let sent = sink.sent();
    let order = |call: &str| -> Vec<(EventType, u32)> {
        let id = crate::domain::call_id_for(Vendor::Aliyun, call);
        sent.iter()
            .filter(|m| m.call_id == id)
            .map(|m| (m.event_type, m.attempts))
            .collect()
    };
    assert_eq!(
        order("a"),
        [
            (EventType::Created, 0),
            (EventType::Created, 1),
            (EventType::Updated, 0),
            (EventType::Updated, 0)
        ],
        "call a: the failed created event is retried before its updates go out"
    );
    assert_eq!(
        order("b"),
        [(EventType::Created, 0), (EventType::Updated, 0)]
    );
    assert_eq!(sent.len(), 6, "the duplicate push made no event");
    let retried: Vec<_> = done.iter().filter(|d| d.attempts == 2).collect();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].last_response_status, Some(200));
    assert!(done
        .iter()
        .all(|d| d.delivered_at.is_some() && d.next_attempt_at.is_none()));
}

#[tokio::test]
async fn after_the_last_retry_a_delivery_is_dead_and_a_retry_by_hand_delivers_it() {
    let rig = rig(&["crm"]).await;
    rig.store.ingest(push("r1", &[("a", 10)])).await.unwrap();
    let sink = Scripted::new(&[], SendKind::Failed);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(dispatcher(&rig.store, "crm", sink.clone(), &[10, 20]).run(stopped));
    let dead = until(&rig.store, "dead", all_are(DeliveryStatus::Dead, 1)).await;
    assert_eq!(dead[0].attempts, 3, "one attempt and two retries");
    assert_eq!(dead[0].last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(sink.sent().len(), 3);

    *sink.then.lock().unwrap() = SendKind::Delivered;
    let filter = DeliveryFilter {
        subscriber: Some("crm".into()),
        status: Some(DeliveryStatus::Dead),
    };
    assert_eq!(
        rig.store
            .retry_deliveries(None, &filter, Timestamp::now())
            .await
            .unwrap(),
        1
    );
    let done = until(
        &rig.store,
        "delivered",
        all_are(DeliveryStatus::Delivered, 1),
    )
    .await;
    assert_eq!(
        done[0].attempts, 1,
        "a retry by hand starts a fresh schedule"
    );
    assert_eq!(sink.sent().len(), 4);
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn gone_disables_the_target_until_enabled_and_loses_nothing() {
    let rig = rig(&["crm"]).await;
    rig.store
        .ingest(push("r1", &[("a", 10), ("b", 10)]))
        .await
        .unwrap();
    let sink = Scripted::new(&[SendKind::Gone], SendKind::Delivered);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let d = Dispatcher {
        max_in_flight: 1,
        ..dispatcher(&rig.store, "crm", sink.clone(), &[10])
    };
    let task = tokio::spawn(d.run(stopped));
    let names = ["crm".to_owned()];
    for _ in 0..500 {
        if rig.store.target_states(&names).await.unwrap()[0]
            .disabled_at
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let state = &rig.store.target_states(&names).await.unwrap()[0];
    assert!(state.disabled_reason.as_deref().unwrap().contains("410"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sink.sent().len(),
        1,
        "nothing is sent to a disabled subscriber"
    );
    assert_eq!(
        rig.store.next_due("crm").await.unwrap(),
        None,
        "nothing is due for a disabled target, so its dispatcher sleeps instead of spinning"
    );
    assert_eq!(
        deliveries(&rig.store, Some(DeliveryStatus::Pending))
            .await
            .len(),
        2
    );

    rig.store
        .set_target_disabled("crm", None, Timestamp::now())
        .await
        .unwrap();
    until(
        &rig.store,
        "delivered",
        all_are(DeliveryStatus::Delivered, 2),
    )
    .await;
    let state = &rig.store.target_states(&names).await.unwrap()[0];
    assert_eq!(
        (state.disabled_at, state.delivered, state.pending),
        (None, 2, 0)
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn each_target_gets_its_own_deliveries_by_its_filters() {
    let only_itnio = Target {
        vendors: vec![Vendor::Itnio],
        ..target("itnio-only")
    };
    let only_analyzed = Target {
        events: vec![EventType::Analyzed],
        ..target("qa")
    };
    let rig = rig_with(vec![target("all"), only_itnio, only_analyzed]).await;
    let store = rig.store.clone();
    store.ingest(push("r1", &[("a", 10)])).await.unwrap();
    store.ingest(push("r2", &[("a", 20)])).await.unwrap();
    let by = |name: &str| {
        let store = store.clone();
        let name = name.to_owned();
        async move {
            let filter = DeliveryFilter {
                subscriber: Some(name),
                status: None,
            };
            let page = PageRequest {
                limit: 100,
                cursor: None,
            };
            store.list_deliveries(&filter, &page).await.unwrap().items
        }
    };
    let all = by("all").await;
    assert_eq!(
        all.iter().map(|d| d.event_type).collect::<Vec<_>>(),
        [EventType::Updated, EventType::Created]
    );
    assert!(by("itnio-only").await.is_empty());
    assert!(by("qa").await.is_empty());
    let detail = store.get_delivery(&all[1].id).await.unwrap().unwrap();
    assert_eq!(detail.event["type"], "call.created");
    assert_eq!(detail.event["id"], all[1].event_id.as_str());
    assert_eq!(detail.event["data"]["talk_seconds"], 10);
}

#[tokio::test]
async fn pending_deliveries_counts_only_pending_rows_per_target() {
    let only_itnio = Target {
        vendors: vec![Vendor::Itnio],
        ..target("itnio-only")
    };
    let rig = rig_with(vec![target("crm"), target("bi"), only_itnio]).await;
    let counts = |store: Arc<dyn Store>| async move {
        let mut c = store.pending_deliveries().await.unwrap();
        c.sort();
        c
    };
    assert!(counts(rig.store.clone()).await.is_empty());
    rig.store
        .ingest(push("r1", &[("a", 10), ("b", 10), ("c", 10)]))
        .await
        .unwrap();
    let three = vec![("bi".to_owned(), 3), ("crm".to_owned(), 3)];
    assert_eq!(counts(rig.store.clone()).await, three);
    // crm's three are delivered: no longer pending; bi's wait.
    let sink = Scripted::new(&[], SendKind::Delivered);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let d = dispatcher(&rig.store, "crm", sink.clone(), &[]);
    let task = tokio::spawn(d.run(stopped));
    until(&rig.store, "crm delivered", |all| {
        all.iter()
            .filter(|d| d.subscriber == "crm" && d.status == DeliveryStatus::Delivered)
            .count()
            == 3
    })
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(counts(rig.store.clone()).await, vec![("bi".to_owned(), 3)]);
}
