//! Deletes through the store, and pushes racing a purge (contract tests,
//! both backends; helpers in `purge_tests.rs`).

use super::*;

#[tokio::test]
async fn deleting_a_call_takes_its_own_receipts_and_keeps_shared_ones() {
    let rig = rig().await;
    let s = &*rig.store;
    s.ingest(push("r1", at(0), &[("x", at(0), 30)]))
        .await
        .unwrap();
    // r2 changes x (a second, pending event) and makes y.
    let out = s
        .ingest(push("r2", at(10), &[("x", at(0), 31), ("y", at(5), 40)]))
        .await
        .unwrap();
    assert_eq!((out.created, out.updated), (1, 1));
    assert_eq!(deliveries(s).await.len(), 3);

    let deleted = s.delete_call(&id("x")).await.unwrap();
    let want = PurgeCounts {
        calls: 1,
        receipts: 1,
        events: 2,
    };
    assert_eq!(deleted, Some(want), "its pending events go too");
    assert!(!present(s, "x").await);
    assert!(
        s.get_receipt("r1").await.unwrap().is_none(),
        "x's own receipt"
    );
    assert!(
        s.get_receipt("r2").await.unwrap().is_some(),
        "shared with y"
    );
    let y = s.get_call(&id("y")).await.unwrap().unwrap();
    let linked: Vec<&str> = y.receipts.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(linked, ["r2"]);
    let left: Vec<String> = deliveries(s).await.into_iter().map(|d| d.call_id).collect();
    assert_eq!(left, [id("y")]);
    assert_rollups_match_a_scan(s).await;
    assert_eq!(s.delete_call(&id("x")).await.unwrap(), None);
    assert_eq!(s.delete_call("no-such-call").await.unwrap(), None);

    assert!(s.delete_receipt("r2").await.unwrap());
    assert!(s.get_receipt("r2").await.unwrap().is_none());
    let y = s.get_call(&id("y")).await.unwrap().unwrap();
    assert!(y.receipts.is_empty(), "the call stays, unlinked");
    assert!(!s.delete_receipt("r2").await.unwrap());
    assert!(!s.delete_receipt("no-such-receipt").await.unwrap());
    assert_rollups_match_a_scan(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_racing_a_purge_all_land_and_the_rollups_stay_exact() {
    let rig = rig().await;
    let store = rig.store.clone();
    let old = |i: usize| (format!("o{i}"), at(-2 * DAY - i as i64));
    for chunk in 0..30 {
        let calls: Vec<(String, Timestamp)> = (chunk * 10..chunk * 10 + 10).map(old).collect();
        let calls: Vec<(&str, Timestamp, i64)> =
            calls.iter().map(|(c, t)| (c.as_str(), *t, 30)).collect();
        store
            .ingest(push(&format!("r-old-{chunk:02}"), at(-2 * DAY), &calls))
            .await
            .unwrap();
    }
    let pusher = tokio::spawn({
        let store = store.clone();
        async move {
            for round in 0..40_usize {
                // Updates of old calls (which the purge may have taken:
                // then the push makes them anew) and new calls.
                let olds: Vec<(String, Timestamp)> =
                    (0..8).map(|k| old((round * 37 + k * 11) % 300)).collect();
                let fresh = format!("n{round}");
                let mut calls: Vec<(&str, Timestamp, i64)> = olds
                    .iter()
                    .map(|(c, t)| (c.as_str(), *t, 40 + round as i64))
                    .collect();
                calls.push((&fresh, at(DAY), 50));
                let out = store
                    .ingest(push(&format!("r-push-{round:02}"), at(DAY), &calls))
                    .await
                    .expect("a push racing the purge lands");
                assert_eq!(out.status, Some(ReceiptStatus::Accepted));
            }
        }
    });
    let mut purged = 0;
    while !pusher.is_finished() {
        match store.purge(cutoff(), 25).await.expect("a batch succeeds") {
            PurgeBatch::Deleted(b) => purged += b.calls,
            PurgeBatch::Busy => panic!("busy with one instance"),
        }
    }
    pusher.await.unwrap();
    while let PurgeBatch::Deleted(b) = store.purge(cutoff(), 25).await.unwrap() {
        purged += b.calls;
        if !b.is_full(25) {
            break;
        }
    }
    assert!(purged >= 300, "every old call went, some twice: {purged}");
    let left = store
        .list_calls(&CallFilter::default(), &everything())
        .await
        .unwrap();
    let mut names: Vec<String> = left
        .items
        .iter()
        .map(|c| c.vendor_call_id.clone())
        .collect();
    names.sort();
    let mut want: Vec<String> = (0..40).map(|r| format!("n{r}")).collect();
    want.sort();
    assert_eq!(names, want, "only the calls after the cutoff are left");
    assert_rollups_match_a_scan(&*store).await;
}
