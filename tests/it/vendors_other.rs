//! ITNIO, longlonglong and LAAFFIC bodies pushed over HTTP and read back
//! through the query API field by field (the canonical call model).

use crate::support::{assert_call, body, sample, spawn_app};
use serde_json::{json, Value};

/// An ITNIO `pushCallRecord` built from the field table of vendor doc 002
/// (there is no published sample): every documented field, with a transcript.
pub fn itnio_record(call_id: &str) -> Value {
    json!({
        "callId": call_id,
        "appId": "a1b2c3d4e5",
        "robotCallJobId": 880011,
        "dialogFlowId": 3301,
        "tenantPhoneNumberId": 501,
        "calledPhoneNumber": "6591234567",
        "startTime": 1748743200,
        "endTime": 1748743290,
        "resultStatus": "ANSWERED",
        "hangupBy": "REMOTE_HANGUP",
        "customerConcern": ["price"],
        "analysisBasis": "The customer asked for the price.",
        "chatDuration": 75,
        "billingTime": 120,
        "pay": "0.035",
        "chatRound": 3,
        "attributes": [{"name": "name", "value": "Tan"}],
        "properties": {"customerName": "Tan"},
        "intentLevelDetailName": "A (interested)",
        "callRecordTagIds": [11],
        "callRecordTagNames": ["Interested"],
        "customerTagIds": [21],
        "customerTagNames": ["VIP"],
        "fullAudioUrl": "https://rec.example.com/full.mp3",
        "customerAudioUrl": "https://rec.example.com/customer.mp3",
        "dynamicProperties": {"wantsCallback": "yes"},
        "callDetailList": [
            {"callDetailId": 9001, "text": "Hello, this is Ava from Bright Finance.", "type": "ROBOT"},
            {"callDetailId": 9002, "text": "How much does it cost?", "type": "PERSON",
             "startOffset": 3200, "endOffset": 4800},
            {"callDetailId": 9003, "text": "Only ten dollars a month.", "type": "ROBOT"}
        ],
        "callCount": 1,
        "redialTimes": 0
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn itnio_call_record_reads_back_with_its_transcript() {
    let app = spawn_app().await;
    app.push_ok("itnio-call-record", body(&itnio_record("itn-1001")))
        .await;
    let call = assert_call(
        &app,
        "itnio",
        "itn-1001",
        json!({
            "vendor": "itnio",
            "source": "itnio-call-record",
            "vendor_call_id": "itn-1001",
            "direction": "outbound",
            "out_id": null,
            "task_id": "880011",
            "batch_id": null,
            "script_id": "3301",
            "task_name": null,
            "customer_number": "6591234567",
            "line_number": null,
            "outcome": "answered",
            "vendor_status": "ANSWERED",
            "hangup_by": "customer",
            // Epoch seconds.
            "originated_at": "2025-06-01T02:00:00Z",
            "ringing_at": null,
            "answered_at": null,
            "ended_at": "2025-06-01T02:01:30Z",
            "started_at": "2025-06-01T02:00:00Z",
            "ring_seconds": null,
            "talk_seconds": 75,
            "billed_seconds": 120,
            "cost": {"amount": "0.035", "currency": "USD"},
            "intent": {"label": "A (interested)"},
            "tags": ["Interested", "VIP"],
            "recording_url": "https://rec.example.com/full.mp3",
            "region": null,
            "turns": [
                {"speaker": "agent", "text": "Hello, this is Ava from Bright Finance."},
                {"speaker": "customer", "text": "How much does it cost?", "start_ms": 3200, "end_ms": 4800},
                {"speaker": "agent", "text": "Only ten dollars a month."}
            ],
            "analyses": [],
            "vendor_fields": {
                "appId": "a1b2c3d4e5",
                "tenantPhoneNumberId": 501,
                "customerConcern": ["price"],
                "analysisBasis": "The customer asked for the price.",
                "chatRound": 3,
                "attributes": [{"name": "name", "value": "Tan"}],
                "properties": {"customerName": "Tan"},
                "callRecordTagIds": [11],
                "customerTagIds": [21],
                "customerAudioUrl": "https://rec.example.com/customer.mp3",
                "dynamicProperties": {"wantsCallback": "yes"},
                "callCount": 1,
                "redialTimes": 0,
                "callDetailIds": [9001, 9002, 9003]
            }
        }),
    )
    .await;
    assert_eq!(call["receipts"][0]["source"], "itnio-call-record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn itnio_pay_takes_the_currency_of_the_source() {
    let app = crate::support::spawn_app_with(
        r#"
        [[sources]]
        name = "onbuka"
        kind = "itnio-call-record"
        currency = "eur"
        "#,
    )
    .await;
    app.push_ok("onbuka", body(&itnio_record("itn-eur"))).await;
    let call = app.call_by_vendor_id("itnio", "itn-eur").await;
    assert_eq!(call["cost"], json!({"amount": "0.035", "currency": "EUR"}));
    assert_eq!(call["source"], "onbuka");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn longlonglong_inbound_sample_reads_back_field_by_field() {
    let app = spawn_app().await;
    app.push_ok("longlonglong-inbound", sample("longlonglong-inbound"))
        .await;
    assert_call(
        &app,
        "longlonglong",
        "3e7ff3fb-2e65-4a51-b322-a01db56f8a90",
        json!({
            "vendor": "longlonglong",
            "source": "longlonglong-inbound",
            "vendor_call_id": "3e7ff3fb-2e65-4a51-b322-a01db56f8a90",
            "direction": "inbound",
            "out_id": null,
            "task_id": "cb4a91c2-09c0-4c71-8e67-3887f593bd4d",
            "batch_id": null,
            "script_id": "11032",
            "task_name": "cky呼入任务测试",
            // The caller of an inbound call is the customer.
            "customer_number": "17534989887",
            "line_number": null,
            "outcome": "answered",
            "vendor_status": "inbound_success",
            "hangup_by": "unknown",
            "originated_at": "2025-09-25T13:39:55Z",
            "ringing_at": null,
            "answered_at": "2025-09-25T13:39:55Z",
            "ended_at": "2025-09-25T13:40:38Z",
            "started_at": "2025-09-25T13:39:55Z",
            "ring_seconds": null,
            "talk_seconds": 43,
            "billed_seconds": null,
            "cost": null,
            "intent": {"code": "1"},
            "tags": ["打出来的是什么号码"],
            "recording_url": "hw.test-saas.our.top/api/agent-api/download-voice?key=Um5tQ1dGWXdlVGJYVUF1TDB",
            "region": {"province": "山西", "city": "晋中", "carrier": "联通"},
            "turns": [],
            "analyses": [],
            "vendor_fields": {
                "duration": 43,
                "customer_id": "794b99dd-1039-4049-953b-b623f8ea959a",
                "master_user_id": "40863af8-db4a-41c6-a269-eb5bc386d97f",
                "user_id": "40863af8-db4a-41c6-a269-eb5bc386d97f",
                "type": 4,
                "rounds": 2,
                "score": 0,
                "group": {"name": "cky测试"},
                "user": {"id": "40863af8-db4a-41c6-a269-eb5bc386d97f", "name": "官方系统测试账号"},
                "level": {"level_id": "7049b435-3781-4f01-9c42-325bb12f743c", "level_name": "评分中"},
                "customer_data": {"name": "未知", "email": null, "company": null, "extra": null},
                "tag_ids": ["db97dd4e-d7d7-4f7d-bc1c-f347dacc146b"]
            }
        }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn laaffic_sample_reads_back_field_by_field() {
    let app = spawn_app().await;
    app.push_ok("laaffic-voice-report", sample("laaffic-voice-report"))
        .await;
    assert_call(
        &app,
        "laaffic",
        "260326152224160100152",
        json!({
            "vendor": "laaffic",
            "source": "laaffic-voice-report",
            "vendor_call_id": "260326152224160100152",
            "direction": "outbound",
            "out_id": null,
            "task_id": "5034040",
            "batch_id": null,
            "script_id": "63",
            "task_name": null,
            "customer_number": "2222222228613200000007",
            "line_number": "5034040",
            "outcome": "answered",
            "vendor_status": "callStatus=50;callStatusNew=1;callDescription=1",
            "hangup_by": "customer",
            // Epoch milliseconds.
            "originated_at": "2026-03-26T07:22:27Z",
            "ringing_at": "2026-03-26T07:22:27Z",
            "answered_at": "2026-03-26T07:22:28Z",
            "ended_at": "2026-03-26T07:23:03Z",
            "started_at": "2026-03-26T07:22:27Z",
            "ring_seconds": 1,
            "talk_seconds": 35,
            "billed_seconds": 60,
            // Line cost "0" plus the AI-agent fee "0.1".
            "cost": {"amount": "0.1", "currency": "USD"},
            "intent": {"code": "302", "label": "Connected-Customer No Responsern"},
            "tags": [],
            "recording_url": null,
            "region": null,
            "turns": [],
            "analyses": [],
            "vendor_fields": {
                "sipCode": "200",
                "type": 1,
                "terminationReason": "Called hang up",
                "submitTime": 1774509744963_u64,
                "aiAgentChargedDuration": 60,
                "calledInfo": null,
                "billPeriod": "60-60",
                "aiAgentQuoteRate": "0.1",
                "costEur": "0",
                "terminationCode": "0",
                "rate": "0",
                "recordingFileId": "260326152224160100152.wav",
                "aiAgentQuoteFee": "0.1",
                "cost": "0",
                "aiAgentBillPeriod": "60+60"
            }
        }),
    )
    .await;
}
