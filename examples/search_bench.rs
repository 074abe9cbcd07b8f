//! Full-text search benchmark (docs/search.md): loads `CALLS` calls with
//! Chinese and English transcripts, then times `GET /api/v1/calls?text=…
//! &limit=50` for four kinds of query, reports the search index's size, and
//! measures the projection with and without the index.
//!
//! Usage: `cargo run --release --example search_bench` (env `CALLS`
//! 1000000, `RUNS` 40 per kind of query, `INGEST` 20000 calls per
//! projection run, `BACKENDS` `sqlite,postgres`, `POSTGRES` a server URL,
//! default `postgres://postgres@127.0.0.1:5432`: the benchmark creates and
//! drops its own databases there).
//!
//! The calls: seven in ten Chinese, three in ten English, each with 3–6
//! transcript turns of 4–12 words drawn from a vocabulary with Zipf-like
//! frequencies (a word's weight is 1/(rank+1)), an intent label and a tag.
//! They are written straight into the tables (the call row with its packed
//! document, and its search text as the projector writes it), which is
//! much faster than pushing them; the projection runs push `INGEST` itnio
//! call records with the same transcripts through HTTP and wait until each
//! is projected, once as shipped and once with the index's upkeep removed
//! (SQLite: the triggers that feed `call_fts`; PostgreSQL: the GIN index),
//! the `call_text` rows still written.

use callhook::app::App;
use callhook::config::{Config, Overrides};
use callhook::domain::{call_id_for, Call, Vendor};
use callhook::storage::doc_codec::pack_doc;
use callhook::storage::search::index_text;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ZH: &[&str] = &[
    "您好",
    "请问",
    "我们",
    "这边",
    "是的",
    "可以",
    "不用",
    "谢谢",
    "没有",
    "什么",
    "时间",
    "已经",
    "知道",
    "需要",
    "现在",
    "一下",
    "客户",
    "电话",
    "信用卡",
    "贷款",
    "额度",
    "利息",
    "还款",
    "账单",
    "分期",
    "优惠",
    "活动",
    "办理",
    "银行",
    "保险",
    "理财",
    "产品",
    "套餐",
    "流量",
    "话费",
    "宽带",
    "营业厅",
    "手机号",
    "验证码",
    "身份证",
    "不需要",
    "再见",
    "考虑一下",
    "有兴趣",
    "没兴趣",
    "太贵了",
    "怎么收费",
    "多少钱",
    "退款",
    "投诉",
    "取消",
    "订单",
    "快递",
    "地址",
    "发货",
    "售后",
    "维修",
    "预约",
    "上门",
    "师傅",
    "明天",
    "下午",
    "周末",
    "工作日",
    "短信",
    "链接",
    "微信",
    "公众号",
    "年费",
    "免年费",
    "提前还款",
    "逾期",
    "征信",
    "审核",
    "放款",
    "到账",
    "利率",
    "手续费",
    "会员",
    "积分",
    "兑换",
    "礼品",
    "抽奖",
    "中奖",
    "续费",
    "升级",
    "降档",
    "合约",
    "违约金",
    "携号转网",
    "光纤",
    "网速",
    "信号",
    "基站",
    "故障",
    "报修",
    "工单",
    "回访",
    "满意度",
    "评价",
    "人工服务",
    "转人工",
    "稍等",
    "马上",
    "负责人",
    "经理",
    "专员",
    "客服",
    "热线",
    "官方",
    "正规",
    "诈骗",
    "安全",
    "放心",
    "保障",
    "理赔",
    "医疗险",
    "意外险",
    "车险",
    "重疾险",
    "保费",
    "保额",
    "受益人",
    "投保",
    "退保",
    "犹豫期",
    "生效",
    "到期",
    "续保",
    "体检",
    "告知",
    "健康",
    "家人",
    "孩子",
    "教育",
    "课程",
    "试听",
    "老师",
    "辅导",
    "成绩",
    "报名",
    "学费",
    "校区",
    "线上",
    "线下",
    "房子",
    "楼盘",
    "看房",
    "首付",
    "月供",
    "按揭",
    "公积金",
    "户型",
    "交房",
    "物业",
    "装修",
];

const EN: &[&str] = &[
    "hello",
    "this",
    "is",
    "calling",
    "from",
    "your",
    "bank",
    "about",
    "the",
    "card",
    "account",
    "yes",
    "no",
    "thanks",
    "please",
    "would",
    "like",
    "to",
    "know",
    "price",
    "cost",
    "monthly",
    "plan",
    "offer",
    "discount",
    "interest",
    "rate",
    "loan",
    "payment",
    "due",
    "balance",
    "credit",
    "limit",
    "upgrade",
    "cancel",
    "refund",
    "order",
    "delivery",
    "address",
    "tomorrow",
    "morning",
    "afternoon",
    "weekend",
    "call",
    "back",
    "later",
    "busy",
    "not",
    "interested",
    "maybe",
    "send",
    "details",
    "email",
    "message",
    "link",
    "verify",
    "identity",
    "insurance",
    "policy",
    "premium",
    "claim",
    "coverage",
    "renewal",
    "appointment",
    "technician",
    "repair",
    "internet",
    "speed",
    "signal",
    "complaint",
    "manager",
    "supervisor",
    "survey",
    "feedback",
    "satisfied",
    "annual",
    "fee",
    "waiver",
    "installment",
    "overdue",
    "penalty",
    "points",
    "reward",
    "voucher",
    "gift",
    "subscription",
    "membership",
    "trial",
    "course",
    "teacher",
    "school",
    "apartment",
    "mortgage",
    "deposit",
    "viewing",
    "agent",
    "warranty",
    "replacement",
    "shipping",
    "tracking",
    "number",
];

const INTENTS: &[&str] = &["A (interested)", "B (maybe)", "C (not now)", "D (refused)"];
const TAGS: &[&str] = &[
    "VIP",
    "new",
    "callback",
    "complaint",
    "高意向",
    "已成交",
    "待跟进",
];

/// Queries of each kind (cycled over the runs), picked from the
/// vocabulary's middle (common) and tail (rare) so each kind has the
/// frequency its name says.
const Q3: &[&str] = &["信用卡", "营业厅", "手机号", "验证码", "身份证", "不需要"];
const Q4: &[&str] = &["携号转网", "提前还款", "人工服务", "考虑一下", "怎么收费"];
const QEN: &[&str] = &["refund", "mortgage", "warranty", "insurance", "appointment"];
const Q2: &[&str] = &["退款", "投诉", "快递", "年费", "放款", "课程"];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Draws words by Zipf-like weights.
struct Vocab {
    words: &'static [&'static str],
    cumulative: Vec<f64>,
}

impl Vocab {
    fn new(words: &'static [&'static str]) -> Vocab {
        let mut sum = 0.0;
        let cumulative = (0..words.len())
            .map(|r| {
                sum += 1.0 / (r as f64 + 1.0);
                sum
            })
            .collect();
        Vocab { words, cumulative }
    }

    fn word(&self, rng: &mut StdRng) -> &'static str {
        let x = rng.random::<f64>() * self.cumulative[self.cumulative.len() - 1];
        let i = self.cumulative.partition_point(|c| *c < x);
        self.words[i.min(self.words.len() - 1)]
    }
}

/// The transcript lines of call `i`.
fn transcript(i: usize, zh: &Vocab, en: &Vocab) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(i as u64);
    let chinese = i % 10 < 7;
    let turns = rng.random_range(3..=6);
    (0..turns)
        .map(|_| {
            let n = rng.random_range(4..=12);
            let words: Vec<&str> = (0..n)
                .map(|_| {
                    if chinese {
                        zh.word(&mut rng)
                    } else {
                        en.word(&mut rng)
                    }
                })
                .collect();
            if chinese {
                format!("{}。", words.concat())
            } else {
                let mut s = words.join(" ");
                s.push('.');
                s
            }
        })
        .collect()
}

/// The itnio call record of call `i` (what the projection runs push).
fn record(i: usize, zh: &Vocab, en: &Vocab) -> Value {
    let lines = transcript(i, zh, en);
    let start = 1_748_736_000 + (i as i64 % 2_592_000);
    json!({
        "callId": format!("S{i}"), "robotCallJobId": 7000 + i % 50, "calledPhoneNumber": format!("139{i:08}"),
        "startTime": start, "endTime": start + 90, "resultStatus": "ANSWERED", "chatDuration": 80,
        "intentLevelDetailName": INTENTS[i % INTENTS.len()], "customerTagNames": [TAGS[i % TAGS.len()]],
        "callDetailList": lines.iter().enumerate().map(|(n, t)| json!({
            "callDetailId": n, "text": t, "type": if n % 2 == 0 { "ROBOT" } else { "PERSON" }
        })).collect::<Vec<_>>(),
    })
}

/// The canonical call of call `i` (what the bulk load writes).
fn call(i: usize, zh: &Vocab, en: &Vocab) -> Call {
    let lines = transcript(i, zh, en);
    let vcid = format!("S{i}");
    let at = jiff::Timestamp::from_second(1_748_736_000 + (i as i64 % 2_592_000)).unwrap();
    serde_json::from_value(json!({
        "id": call_id_for(Vendor::Itnio, &vcid), "vendor": "itnio", "source": "itnio-call-record",
        "vendor_call_id": vcid, "direction": "outbound", "outcome": "answered", "vendor_status": "ANSWERED",
        "hangup_by": "unknown", "started_at": at, "talk_seconds": 80, "task_id": format!("{}", 7000 + i % 50),
        "customer_number": format!("139{i:08}"),
        "intent": {"label": INTENTS[i % INTENTS.len()]}, "tags": [TAGS[i % TAGS.len()]],
        "turns": lines.iter().enumerate().map(|(n, t)| json!({
            "speaker": if n % 2 == 0 { "agent" } else { "customer" }, "text": t
        })).collect::<Vec<_>>(),
        "analyses": [], "vendor_fields": {}, "first_received_at": at, "updated_at": at,
    }))
    .expect("a valid call")
}

/// Column values of a bulk-loaded call: (id, vcid, task, number, started ms, doc, text).
type Row = (String, String, String, String, i64, Vec<u8>, String);

fn row(c: &Call) -> Row {
    let doc = pack_doc(&serde_json::to_string(c).expect("json")).into_bytes();
    (
        c.id.clone(),
        c.vendor_call_id.clone(),
        c.task_id.clone().unwrap_or_default(),
        c.customer_number.clone().unwrap_or_default(),
        c.started_at.as_millisecond(),
        doc,
        index_text(c),
    )
}

fn rows(from: usize, to: usize, zh: &Vocab, en: &Vocab) -> Vec<Row> {
    (from..to).map(|i| row(&call(i, zh, en))).collect()
}

async fn start(database: &str) -> anyhow::Result<App> {
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse()?),
        database: Some(database.to_owned()),
    };
    Ok(App::start(Config::load(None, &overrides)?).await?)
}

fn load_sqlite(path: &std::path::Path, calls: usize, zh: &Vocab, en: &Vocab) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -262_144)?;
    let started = Instant::now();
    for from in (0..calls).step_by(20_000) {
        let batch = rows(from, (from + 20_000).min(calls), zh, en);
        let tx = conn.transaction()?;
        {
            let mut c = tx.prepare(
                "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome, task_id,
                    customer_number, started_at, talk_seconds, doc)
                 VALUES (?1, 'itnio', ?2, 'itnio-call-record', 'outbound', 'answered', ?3, ?4, ?5, 80, ?6)",
            )?;
            let mut t = tx.prepare("INSERT INTO call_text (call_id, body) VALUES (?1, ?2)")?;
            for r in &batch {
                c.execute(rusqlite::params![r.0, r.1, r.2, r.3, r.4, r.5])?;
                t.execute(rusqlite::params![r.0, r.6])?;
            }
        }
        tx.commit()?;
        if (from + 20_000) % 200_000 == 0 {
            eprintln!(
                "sqlite: {} calls in {:.0} s",
                from + 20_000,
                started.elapsed().as_secs_f64()
            );
        }
    }
    // No `optimize` of the FTS5 index and no ANALYZE: callhook runs
    // neither, so the queries see what a live database has.
    Ok(())
}

async fn load_postgres(url: &str, calls: usize, zh: &Vocab, en: &Vocab) -> anyhow::Result<f64> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client.batch_execute("DROP INDEX call_text_trgm").await?;
    let started = Instant::now();
    for from in (0..calls).step_by(10_000) {
        let batch = rows(from, (from + 10_000).min(calls), zh, en);
        let col = |f: fn(&Row) -> String| batch.iter().map(f).collect::<Vec<_>>();
        let (ids, vcids, tasks, numbers, texts) = (
            col(|r| r.0.clone()),
            col(|r| r.1.clone()),
            col(|r| r.2.clone()),
            col(|r| r.3.clone()),
            col(|r| r.6.clone()),
        );
        let at: Vec<i64> = batch.iter().map(|r| r.4).collect();
        let docs: Vec<&[u8]> = batch.iter().map(|r| r.5.as_slice()).collect();
        client
            .execute(
                "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome, task_id,
                    customer_number, started_at, talk_seconds, doc)
                 SELECT u.id, 'itnio', u.v, 'itnio-call-record', 'outbound', 'answered', u.t, u.n, u.s, 80, u.d
                 FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::BYTEA[])
                    AS u(id, v, t, n, s, d)",
                &[&ids, &vcids, &tasks, &numbers, &at, &docs],
            )
            .await?;
        client
            .execute(
                "INSERT INTO call_text (call_id, body) SELECT * FROM unnest($1::TEXT[], $2::TEXT[])",
                &[&ids, &texts],
            )
            .await?;
        if (from + 10_000) % 200_000 == 0 {
            eprintln!(
                "postgres: {} calls in {:.0} s",
                from + 10_000,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let t = Instant::now();
    // One statement each: VACUUM cannot run in the implicit transaction
    // of a multi-statement batch.
    for sql in [
        "CREATE INDEX call_text_trgm ON call_text USING gin (body gin_trgm_ops)",
        "VACUUM ANALYZE calls",
        "VACUUM ANALYZE call_text",
    ] {
        client.batch_execute(sql).await?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// p50 and p99 of `runs` sequential GETs cycling over `queries`, in ms,
/// and the items of the last answer.
async fn time(
    client: &reqwest::Client,
    base: &str,
    queries: &[&str],
    runs: usize,
) -> (f64, f64, usize) {
    let mut ms = Vec::new();
    let mut items = 0;
    for i in 0..runs + queries.len() {
        let q: String =
            form_urlencoded::byte_serialize(queries[i % queries.len()].as_bytes()).collect();
        let t = Instant::now();
        let resp = client
            .get(format!("{base}/api/v1/calls?limit=50&text={q}"))
            .send()
            .await
            .expect("GET");
        assert!(resp.status().is_success(), "{}", resp.status());
        let page: Value = resp.json().await.expect("JSON");
        // The first round of each query warms the caches.
        if i >= queries.len() {
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        items = page["items"].as_array().map_or(0, Vec::len);
    }
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (p(0.5), p(0.99), items)
}

/// Pushes `n` itnio records (200 a push, 4 at once) and waits until every
/// one is projected; calls per second.
async fn ingest(app: &App, n: usize, zh: &Vocab, en: &Vocab) -> anyhow::Result<f64> {
    let base = format!("http://{}", app.addr);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for from in (0..n).step_by(200) {
        let records: Vec<Value> = (from..(from + 200).min(n))
            .map(|i| record(10_000_000 + i, zh, en))
            .collect();
        let body = serde_json::to_vec(&records)?;
        let (client, base) = (client.clone(), base.clone());
        if running.len() >= 4 {
            running.join_next().await;
        }
        running.spawn(async move {
            for _ in 0..100 {
                let r = client
                    .post(format!("{base}/hooks/itnio-call-record"))
                    .body(body.clone())
                    .send()
                    .await
                    .expect("push");
                if r.status().is_success() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("push refused 100 times");
        });
    }
    while running.join_next().await.is_some() {}
    loop {
        let ready: Value = client
            .get(format!("{base}/readyz"))
            .send()
            .await?
            .json()
            .await?;
        if ready["projection"]["pending_receipts"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (calls, runs, n_ingest) = (
        env("CALLS", 1_000_000),
        env("RUNS", 40),
        env("INGEST", 20_000),
    );
    let backends = std::env::var("BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let server =
        std::env::var("POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let (zh, en) = (Vocab::new(ZH), Vocab::new(EN));
    let dir = tempfile::Builder::new()
        .prefix("bench-search")
        .tempdir_in("target")?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let (admin, conn) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let fresh_pg = |name: &str| {
        let (admin, url) = (&admin, format!("{server}/{name}"));
        let name = name.to_owned();
        async move {
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await?;
            anyhow::Ok(url)
        }
    };
    let mut report = Vec::new();
    for backend in backends.split(',') {
        // The query data set.
        let database = match backend {
            "sqlite" => format!("sqlite://{}", dir.path().join("search.db").display()),
            _ => fresh_pg("search_bench").await?,
        };
        start(&database).await?.shutdown().await?;
        let t = Instant::now();
        let index_build = match backend {
            "sqlite" => {
                let path = dir.path().join("search.db");
                let (z, e) = (Vocab::new(ZH), Vocab::new(EN));
                tokio::task::spawn_blocking(move || load_sqlite(&path, calls, &z, &e)).await??;
                None
            }
            _ => Some(load_postgres(&database, calls, &zh, &en).await?),
        };
        let load_s = t.elapsed().as_secs_f64();
        let size = index_size(backend, &database, &dir).await?;
        let app = start(&database).await?;
        let base = format!("http://{}", app.addr);
        let mut lines = vec![format!(
            "{backend}: {calls} calls loaded in {load_s:.0} s{}; {size}",
            index_build.map_or(String::new(), |s| format!(" (GIN index built in {s:.0} s)"))
        )];
        for (kind, qs) in [
            ("3-char Chinese", Q3),
            ("4-char Chinese (rarer)", Q4),
            ("English word", QEN),
            ("2-char Chinese (scan)", Q2),
        ] {
            let runs = if kind.starts_with("2-char") {
                runs.min(12)
            } else {
                runs
            };
            let (p50, p99, items) = time(&client, &base, qs, runs).await;
            lines.push(format!(
                "| {backend} | {kind} | {p50:.1} | {p99:.1} | {items} |"
            ));
        }
        let (p50, p99, _) = {
            let t = Instant::now();
            let _ = client
                .get(format!("{base}/api/v1/calls?limit=50"))
                .send()
                .await?
                .bytes()
                .await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            (ms, ms, 0)
        };
        lines.push(format!(
            "| {backend} | no text (floor) | {p50:.1} | {p99:.1} | 50 |"
        ));
        app.shutdown().await?;
        for l in &lines {
            eprintln!("{l}");
        }
        report.extend(lines);

        // The projection with and without the index's upkeep.
        for with_index in [true, false] {
            let database = match backend {
                "sqlite" => format!(
                    "sqlite://{}",
                    dir.path().join(format!("ingest-{with_index}.db")).display()
                ),
                _ => fresh_pg(&format!("search_ingest_{with_index}")).await?,
            };
            start(&database).await?.shutdown().await?;
            if !with_index {
                drop_index(backend, &database).await?;
            }
            let app = start(&database).await?;
            let rate = ingest(&app, n_ingest, &zh, &en).await?;
            app.shutdown().await?;
            let line = format!(
                "{backend}: projection of {n_ingest} calls {} the index: {rate:.0} calls/s",
                if with_index { "with" } else { "without" }
            );
            eprintln!("{line}");
            report.push(line);
        }
    }
    println!("| backend | query | p50 ms | p99 ms | items |\n|---|---|---:|---:|---:|");
    for l in report {
        println!("{l}");
    }
    for name in ["search_bench", "search_ingest_true", "search_ingest_false"] {
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
    Ok(())
}

/// The index's size on disk, as text.
async fn index_size(
    backend: &str,
    database: &str,
    dir: &tempfile::TempDir,
) -> anyhow::Result<String> {
    let mib = |b: i64| b as f64 / 1_048_576.0;
    if backend == "sqlite" {
        let conn = rusqlite::Connection::open(dir.path().join("search.db"))?;
        let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
        let fts = q("SELECT sum(length(block)) FROM call_fts_data")?
            + q("SELECT count(*) * 24 FROM call_fts_idx")?;
        let text = q("SELECT sum(length(body)) FROM call_text")?;
        let file = std::fs::metadata(dir.path().join("search.db"))?.len() as i64;
        return Ok(format!(
            "call_fts index {:.0} MiB, call_text text {:.0} MiB, database file {:.0} MiB",
            mib(fts),
            mib(text),
            mib(file)
        ));
    }
    let (client, conn) = tokio_postgres::connect(database, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let row = client
        .query_one(
            "SELECT pg_relation_size('call_text_trgm'), pg_total_relation_size('call_text'),
                pg_database_size(current_database())",
            &[],
        )
        .await?;
    Ok(format!(
        "GIN index {:.0} MiB, call_text with index {:.0} MiB, database {:.0} MiB",
        mib(row.get(0)),
        mib(row.get(1)),
        mib(row.get(2))
    ))
}

/// Removes the upkeep of the search index (not the `call_text` rows).
async fn drop_index(backend: &str, database: &str) -> anyhow::Result<()> {
    if backend == "sqlite" {
        let path = database.trim_start_matches("sqlite://");
        rusqlite::Connection::open(path)?.execute_batch(
            "DROP TRIGGER call_text_ai; DROP TRIGGER call_text_au; DROP TRIGGER call_text_ad;",
        )?;
        return Ok(());
    }
    let (client, conn) = tokio_postgres::connect(database, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client.batch_execute("DROP INDEX call_text_trgm").await?;
    Ok(())
}
