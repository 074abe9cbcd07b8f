//! The campaign pages: `/tasks` lists tasks with calls in the range,
//! `/tasks/{id}` shows one task's figures compared with the period
//! before, by day and by hour of day, with its intents.

use crate::support::{body, spawn_app_with};
use serde_json::{json, Value};

/// An Alibaba record of task `task` started at `start` (Beijing time).
fn record(id: &str, task: &str, start: &str, status: &str) -> Value {
    json!({"callId": id, "taskId": task, "callee": "13900000000", "caller": "057100001111",
           "smartStatusCode": status, "hangupDirection": "User",
           "originateTime": start, "startTime": start, "endTime": start, "duration": 60})
}

fn figure(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("{id}: {page}"));
    page[at..]
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_campaign_page_compares_its_period_with_the_one_before() {
    let app = spawn_app_with("display_timezone = \"Asia/Shanghai\"\n").await;
    let records = vec![
        // The week before: 2 calls, 1 answered.
        record("C-1", "T-spring", "2025-06-02 10:00:00", "ANSWERED"),
        record("C-2", "T-spring", "2025-06-03 10:00:00", "NO_ANSWER"),
        // This week: 4 calls, 3 answered, two of them at 09 local.
        record("C-3", "T-spring", "2025-06-09 09:10:00", "ANSWERED"),
        record("C-4", "T-spring", "2025-06-10 09:20:00", "ANSWERED"),
        record("C-5", "T-spring", "2025-06-11 14:00:00", "ANSWERED"),
        record("C-6", "T-spring", "2025-06-12 14:00:00", "USER_BUSY"),
        // Another task, busier.
        record("C-7", "T-other", "2025-06-09 11:00:00", "ANSWERED"),
        record("C-8", "T-other", "2025-06-09 11:05:00", "ANSWERED"),
        record("C-9", "T-other", "2025-06-09 11:10:00", "ANSWERED"),
        record("C-10", "T-other", "2025-06-09 11:15:00", "ANSWERED"),
        record("C-11", "T-other", "2025-06-09 11:20:00", "ANSWERED"),
        record("C-12", "T-other", "2025-06-09 11:25:00", "ANSWERED"),
        record("C-13", "T-other", "2025-06-09 11:30:00", "ANSWERED"),
    ];
    app.push_ok("aliyun-call-report", body(&Value::Array(records)))
        .await;
    app.settle().await;

    let list = app.page("/tasks?range=all").await;
    let other = list.find("/tasks/T-other").expect("listed");
    let spring = list.find("/tasks/T-spring").expect("listed");
    assert!(other < spring, "busiest first");

    let page = app
        .page("/tasks/T-spring?from=2025-06-09&to=2025-06-15")
        .await;
    assert!(page.contains("id=\"task-id\">T-spring<"));
    assert_eq!(figure(&page, "cmp-calls"), "4");
    assert_eq!(figure(&page, "cmp-answered"), "3");
    assert_eq!(figure(&page, "cmp-answer-rate"), "75.0%");
    // The previous 7 days: 2 calls, 1 answered: +100% calls, +25 points.
    assert!(page.contains("2025-06-02 to 2025-06-08"), "{page}");
    assert!(page.contains("+100.0%"), "{page}");
    assert!(page.contains("+25.0 pts"), "{page}");
    for chart in ["calls-per-day", "answer-rate", "calls-by-hour", "outcomes"] {
        let at = page.find(&format!("id=\"chart-{chart}\"")).unwrap();
        let points: usize = page[at..]
            .split("data-points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(points > 0, "{chart} has data");
    }
    // Calls by hour of day: 09 and 14 local, two each.
    let at = page.find("id=\"chart-calls-by-hour\"").unwrap();
    let points: usize = page[at..]
        .split("data-points=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(points, 2, "two busy hours");
    assert!(page.contains("75.0% (3)"), "outcome mix in percent: {page}");
    assert!(
        page.contains("/calls?from=2025-06-09&amp;to=2025-06-15&amp;task_id=T-spring")
            || page.contains("task_id=T-spring")
    );
    // An unknown task is an empty page, not an error.
    let none = app.page("/tasks/nope").await;
    assert_eq!(figure(&none, "cmp-calls"), "0");
}
