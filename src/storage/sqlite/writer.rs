//! The single writer: one thread owns the write connection and commits
//! whatever receipt appends and other writes (projection batches, outbox
//! claims) have queued up in one transaction (group commit),
//! each job in its own savepoint so one failure does not sink the others.
//! Every job is answered only after the commit that holds it is durable: the
//! writer commits without fsync and passes the answers to [`super::syncer`],
//! which fsyncs the WAL before sending them, while the writer goes on with
//! the next group.
//!
//! Deadlines: a job is either started by the writer (inside a transaction
//! that holds the write lock) or given up by its caller at its deadline,
//! whichever comes first ([`super::work::Claim`]). A job given up is never committed; a
//! job started is always answered with its real outcome, however long its
//! own commit takes (a 10,000-record push is not refused for being large).
//!
//! Faults:
//! A failed transaction (disk full, read-only, locked past `busy_timeout`)
//! answers its jobs [`StoreError::Unavailable`] and the connection is
//! reopened for the next group, so the writer recovers by itself once the
//! fault clears. A panic while committing is caught: its jobs' callers see
//! the writer as unavailable (503) and the thread carries on.

use super::rows;
use super::schema;
use super::syncer::{self, Answers};
use super::work::{busy, Output, Work};
use crate::storage::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Most jobs committed in one transaction.
const MAX_GROUP: usize = 512;

/// Most records in one transaction (a push larger than this is a group of
/// its own). A group is started as a whole, so its size bounds the wait of
/// every push in it: under overload, 512 pushes of 50 records made one
/// commit take a second, and the pushes queued behind it all expired.
const MAX_GROUP_RECORDS: usize = 2_000;

/// The write connection, reopened after a failed transaction.
struct Writer {
    path: PathBuf,
    conn: Option<Connection>,
    /// Committed groups' answers, to the syncer.
    synced: std::sync::mpsc::Sender<Answers>,
    /// Set by the syncer after a failed fsync: refuse everything.
    poisoned: Arc<AtomicBool>,
}

impl Writer {
    fn connection(&mut self) -> Result<&mut Connection, StoreError> {
        if self.conn.is_none() {
            let conn = Connection::open(&self.path)?;
            schema::configure_writer(&conn)?;
            tracing::info!(path = %self.path.display(), "sqlite writer connection opened");
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }
}

/// Runs until every sender is dropped. `conn` is the already-migrated
/// connection to `path`.
pub fn run(
    path: PathBuf,
    conn: Connection,
    mut rx: mpsc::Receiver<Work>,
    synced: std::sync::mpsc::Sender<Answers>,
    poisoned: Arc<AtomicBool>,
) {
    let mut writer = Writer {
        path,
        conn: Some(conn),
        synced,
        poisoned,
    };
    let mut group = Vec::with_capacity(MAX_GROUP);
    // A job taken from the queue that did not fit the previous group.
    let mut carried: Option<Work> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match rx.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        let mut records = first.records();
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) if records + job.records() > MAX_GROUP_RECORDS => {
                    carried = Some(job);
                    break;
                }
                Ok(job) => {
                    records += job.records();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        // Expired jobs do not wait for the write lock.
        let now = std::time::Instant::now();
        let (expired, mut live): (Vec<Work>, Vec<Work>) =
            group.drain(..).partition(|j| j.expired(now));
        for job in expired {
            job.refuse(busy());
        }
        if live.is_empty() {
            continue;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| commit_group(&mut writer, &mut live)));
        if outcome.is_err() {
            // The jobs' reply senders drop with `live`: their callers answer 503.
            tracing::error!(
                jobs = live.len(),
                "sqlite writer panicked; reopening its connection"
            );
            writer.conn = None;
            live.clear();
        }
    }
}

fn commit_group(writer: &mut Writer, group: &mut Vec<Work>) {
    if writer.poisoned.load(Ordering::Acquire) {
        for job in group.drain(..) {
            job.refuse(StoreError::Unavailable(syncer::POISONED.into()));
        }
        return;
    }
    let began = std::time::Instant::now();
    let committed = writer
        .connection()
        .and_then(|conn| Ok(transact(conn, group)?));
    match committed {
        Ok(results) => {
            record_commit(began.elapsed(), group);
            let answers: Answers = group
                .drain(..)
                .zip(results)
                .map(|(job, r)| job.answer(r))
                .collect();
            if let Err(unsent) = writer.synced.send(answers) {
                let stopped = StoreError::Unavailable(
                    "the syncer stopped before the commit was durable".into(),
                );
                for answer in unsent.0 {
                    answer(Some(&stopped));
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, jobs = group.len(), "sqlite commit failed; reopening the connection");
            writer.conn = None;
            for job in group.drain(..) {
                job.refuse(e.clone());
            }
        }
    }
}

/// Observes one committed group: its transaction time and its pushes.
fn record_commit(took: std::time::Duration, group: &[Work]) {
    use crate::telemetry::names;
    metrics::histogram!(names::STORE_COMMIT_SECONDS, "backend" => "sqlite")
        .record(took.as_secs_f64());
    let pushes = group
        .iter()
        .filter(|j| matches!(j, Work::Ingest(_)))
        .count();
    if pushes > 0 {
        metrics::histogram!(names::STORE_BATCH_SIZE, "backend" => "sqlite").record(pushes as f64);
    }
}

/// All of `group` in one transaction. The fast path runs the jobs one after
/// another with no savepoints (a savepoint per job cost a quarter of the
/// writer's time); if any job fails, the transaction is rolled back and the
/// group runs again with one savepoint per job, so only the failing job is
/// lost.
fn transact(
    conn: &mut Connection,
    group: &[Work],
) -> rusqlite::Result<Vec<Result<Output, StoreError>>> {
    // IMMEDIATE takes the write lock at BEGIN, where SQLite waits out
    // `busy_timeout`; a deferred transaction upgrading from a read would
    // fail at once with SQLITE_BUSY when another process holds the lock.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Jobs are started only now that the lock is held: BEGIN may have
    // waited, and a caller whose deadline passed meanwhile has its 503.
    let now = std::time::Instant::now();
    let started: Vec<bool> = group.iter().map(|j| j.try_start(now)).collect();
    let mut results = Vec::with_capacity(group.len());
    let mut failed = false;
    for (job, &go) in group.iter().zip(&started) {
        if !go {
            results.push(Err(busy()));
            continue;
        }
        match run_one(&tx, job) {
            Ok(outcome) => results.push(Ok(outcome)),
            Err(e) => {
                tracing::warn!(error = %crate::error_chain::ErrorChain(&e), "a job failed inside a group; retrying the group job by job");
                failed = true;
                break;
            }
        }
    }
    if !failed {
        tx.commit()?;
        return Ok(results);
    }
    tx.rollback()?;
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    results.clear();
    for (job, &go) in group.iter().zip(&started) {
        if !go {
            results.push(Err(busy()));
            continue;
        }
        let mut sp = tx.savepoint()?;
        let r = run_one(&sp, job);
        if r.is_ok() {
            sp.commit()?;
        } else {
            sp.rollback()?;
        }
        results.push(r);
    }
    tx.commit()?;
    Ok(results)
}

/// Runs one unit of work inside the current transaction.
fn run_one(tx: &Connection, work: &Work) -> Result<Output, StoreError> {
    match work {
        Work::Ingest(job) => {
            rows::append_receipt(tx, &job.append, &job.body).map(|()| Output::Ingest)
        }
        Work::Exec(e) => (e.run)(tx).map(Output::Exec),
    }
}
