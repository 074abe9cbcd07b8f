//! What the writer thread commits: receipt appends ([`Job`]) and other
//! writes ([`Exec`]: projection batches, the outbox's claims and attempt
//! records, retries), grouped
//! into one transaction and answered only once the commit is durable.

use super::syncer::Answer;
use crate::storage::{Append, PackedBody, StoreError};
use rusqlite::Connection;
use std::any::Any;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;

/// One queued receipt append (its body already packed by the caller) and
/// where to send its outcome.
pub struct Job {
    pub append: Append,
    pub body: PackedBody,
    pub reply: oneshot::Sender<Result<(), StoreError>>,
    pub claim: Arc<Claim>,
}

/// Decides a queued job's fate once: started by the writer or given up by
/// its caller, whichever comes first.
#[derive(Debug, Default)]
pub struct Claim(AtomicU8);

const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const GIVEN_UP: u8 = 2;

impl Claim {
    /// The writer takes the job; `false` when its caller gave up first.
    fn start(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The caller gives up; `false` when the writer has started the job (its
    /// outcome will be sent).
    pub fn give_up(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, GIVEN_UP, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// A value an [`Exec`] returns, typed again by its caller.
pub type AnyValue = Box<dyn Any + Send>;

/// The function of an [`Exec`].
pub type ExecFn = Box<dyn Fn(&Connection) -> Result<AnyValue, StoreError> + Send>;

/// A write other than a push: a function run on the write connection inside
/// the group's transaction. It may run twice (the group is retried job by
/// job after any failure), hence `Fn`.
pub struct Exec {
    pub run: ExecFn,
    pub reply: oneshot::Sender<Result<AnyValue, StoreError>>,
}

/// One unit of the writer's queue.
// Boxing the job would cost every push an allocation; Exec is rare.
#[allow(clippy::large_enum_variant)]
pub enum Work {
    Ingest(Job),
    Exec(Exec),
}

/// What a unit of work produced inside the transaction.
pub enum Output {
    Ingest,
    Exec(AnyValue),
}

pub fn busy() -> StoreError {
    StoreError::Busy("not committed within the acknowledgement budget".into())
}

impl Work {
    /// The weight of this unit (at least 1), to bound a group's size: an
    /// append's body kilobytes.
    pub fn records(&self) -> usize {
        match self {
            Work::Ingest(job) => 1 + job.body.stored.len() / 1024,
            Work::Exec(_) => 1,
        }
    }

    /// Starts the unit unless its caller is gone or its deadline passed
    /// (then it is given up here, so it can never start later).
    pub fn try_start(&self, now: std::time::Instant) -> bool {
        match self {
            Work::Ingest(job) => !self.expired(now) && job.claim.start(),
            Work::Exec(e) => !e.reply.is_closed(),
        }
    }

    /// Whether the caller is gone, or the deadline passed and the job is
    /// now given up.
    pub fn expired(&self, now: std::time::Instant) -> bool {
        match self {
            Work::Ingest(job) => {
                job.reply.is_closed()
                    || (job.append.deadline.is_some_and(|d| d.into_std() <= now)
                        && job.claim.give_up())
            }
            Work::Exec(e) => e.reply.is_closed(),
        }
    }

    /// Answers at once, without a commit (refused, expired, failed).
    pub fn refuse(self, error: StoreError) {
        match self {
            Work::Ingest(job) => {
                let _ = job.reply.send(Err(error));
            }
            Work::Exec(e) => {
                let _ = e.reply.send(Err(error));
            }
        }
    }

    /// The answer to send once the commit holding `result` is durable (or
    /// the sync error instead, if syncing failed).
    pub fn answer(self, result: Result<Output, StoreError>) -> Answer {
        match self {
            Work::Ingest(job) => Box::new(move |synced: Option<&StoreError>| {
                let r = settle(synced, result, |o| match o {
                    Output::Ingest => Some(()),
                    Output::Exec(_) => None,
                });
                let _ = job.reply.send(r);
            }),
            Work::Exec(e) => Box::new(move |synced: Option<&StoreError>| {
                let r = settle(synced, result, |o| match o {
                    Output::Exec(v) => Some(v),
                    Output::Ingest => None,
                });
                let _ = e.reply.send(r);
            }),
        }
    }
}

/// A job's final answer: the sync error if syncing failed, else its own
/// result, its output taken out by `take` (`None`: not this job's kind).
fn settle<T>(
    synced: Option<&StoreError>,
    result: Result<Output, StoreError>,
    take: impl FnOnce(Output) -> Option<T>,
) -> Result<T, StoreError> {
    if let Some(e) = synced {
        return Err(e.clone());
    }
    take(result?).ok_or_else(|| StoreError::Corrupt("the writer mixed up two jobs' outputs".into()))
}
