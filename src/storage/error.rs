//! [`StoreError`]: why the store could not do what was asked, keeping the
//! error underneath (rusqlite's, tokio-postgres's, the pool's) as its
//! [`source`](Error::source), so `?` works on the backends' calls and logs
//! can print the whole chain ([`crate::error_chain::ErrorChain`]).

use crate::error_chain::ErrorChain;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// An underlying error, shared: one failed commit or fsync answers every
/// job of its group.
type Source = Arc<dyn Error + Send + Sync + 'static>;

/// Why the store could not do what was asked.
///
/// Its `Display` names the variant and the context (`storage unavailable:
/// the writer stopped before committing`); the reason underneath is its
/// [`source`](Error::source): print it with
/// [`ErrorChain`](crate::error_chain::ErrorChain).
#[derive(Debug, Clone)]
pub enum StoreError {
    /// The database cannot be reached or written (locked, full, read-only,
    /// closed). The caller should answer 503 so the vendor retries.
    Unavailable(Cause),
    /// The store could not take or commit the push before its deadline
    /// (the acknowledgement budget); nothing was committed. Answer 503 with
    /// `Retry-After`.
    Busy(Cause),
    /// A stored row could not be read back.
    Corrupt(Cause),
}

/// What lies under a [`StoreError`]: what was being done or read (the
/// context) and the error that stopped it (the source); at least one of
/// the two. Its `Display` prints both, the source with its own sources.
#[derive(Debug, Clone)]
pub struct Cause {
    context: Option<String>,
    source: Option<Source>,
}

impl Cause {
    /// `what` failed (or could not be read) because of `why`.
    fn of(what: impl Into<String>, why: impl Into<Box<dyn Error + Send + Sync>>) -> Cause {
        Cause {
            context: Some(what.into()),
            source: Some(Arc::from(why.into())),
        }
    }

    /// What was being done or read, when it was said.
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// The underlying error, when there is one.
    pub fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

impl From<String> for Cause {
    fn from(context: String) -> Cause {
        Cause {
            context: Some(context),
            source: None,
        }
    }
}

impl From<&str> for Cause {
    fn from(context: &str) -> Cause {
        Cause::from(context.to_string())
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.context, self.source()) {
            (Some(c), Some(s)) => write!(f, "{c}: {}", ErrorChain(s)),
            (Some(c), None) => f.write_str(c),
            (None, Some(s)) => write!(f, "{}", ErrorChain(s)),
            (None, None) => Ok(()),
        }
    }
}

impl StoreError {
    /// [`StoreError::Unavailable`] for a reason that is no other error
    /// ("the writer stopped before committing").
    pub fn unavailable(context: impl Into<String>) -> StoreError {
        StoreError::Unavailable(Cause::from(context.into()))
    }

    /// The one constructor of [`StoreError::Corrupt`]: the stored value
    /// `what` (which one and where: `receipt 01J… kind`, `call document`)
    /// could not be decoded, because of `why` (an error, or a message).
    pub fn corrupt(
        what: impl Into<String>,
        why: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> StoreError {
        StoreError::Corrupt(Cause::of(what, why))
    }

    /// The same error with `what` (what was being done, which server)
    /// before its context: `storage unavailable: {what}: {context}`.
    pub fn context(self, what: impl fmt::Display) -> StoreError {
        let prefix = |mut c: Cause| {
            c.context = Some(match c.context {
                Some(old) => format!("{what}: {old}"),
                None => what.to_string(),
            });
            c
        };
        match self {
            StoreError::Unavailable(c) => StoreError::Unavailable(prefix(c)),
            StoreError::Busy(c) => StoreError::Busy(prefix(c)),
            StoreError::Corrupt(c) => StoreError::Corrupt(prefix(c)),
        }
    }

    /// The variant's cause.
    pub fn cause(&self) -> &Cause {
        match self {
            StoreError::Unavailable(c) | StoreError::Busy(c) | StoreError::Corrupt(c) => c,
        }
    }

    /// [`StoreError::Unavailable`]: `what` failed because of `why` (a
    /// task that did not finish, an fsync that failed).
    pub fn unavailable_by(
        what: impl Into<String>,
        why: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> StoreError {
        StoreError::Unavailable(Cause::of(what, why))
    }

    /// [`StoreError::Unavailable`] because of `source`, which says it all.
    fn from_source(source: impl Error + Send + Sync + 'static) -> StoreError {
        StoreError::Unavailable(Cause {
            context: None,
            source: Some(Arc::new(source)),
        })
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreError::Unavailable(_) => "storage unavailable",
            StoreError::Busy(_) => "storage busy",
            StoreError::Corrupt(_) => "stored data is unreadable",
        })?;
        match self.cause().context() {
            Some(c) => write!(f, ": {c}"),
            None => Ok(()),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause().source()
    }
}

/// A failed SQLite statement: the database cannot be used now.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::from_source(e)
    }
}

/// The SQLite read pool could not give a connection.
impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> StoreError {
        StoreError::from_source(e)
    }
}

/// A failed PostgreSQL statement or connection; its source holds the
/// server's own message (`DbError`).
impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        StoreError::from_source(e)
    }
}

/// No pooled PostgreSQL connection: the connection error itself when one
/// was being opened, else the pool's (timeout, closed).
impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::from_source(e),
            e => StoreError::from_source(e),
        }
    }
}

/// Stored JSON that does not decode (where the value is plain from the
/// call; else use [`StoreError::corrupt`] to name it).
impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> StoreError {
        StoreError::Corrupt(Cause {
            context: None,
            source: Some(Arc::new(e)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_context_and_the_chain_the_reason() {
        let e = StoreError::from(rusqlite::Error::InvalidQuery).context("claiming deliveries");
        assert_eq!(e.to_string(), "storage unavailable: claiming deliveries");
        assert!(e.source().unwrap().is::<rusqlite::Error>());
        let chain = ErrorChain(&e).to_string();
        assert_eq!(
            chain,
            format!(
                "storage unavailable: claiming deliveries: {}",
                rusqlite::Error::InvalidQuery
            )
        );
        let StoreError::Unavailable(detail) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            detail.to_string(),
            chain.trim_start_matches("storage unavailable: ")
        );
    }

    #[test]
    fn corrupt_names_what_and_why() {
        let e = StoreError::corrupt("receipt 7 kind", "unknown kind `x`");
        assert_eq!(e.to_string(), "stored data is unreadable: receipt 7 kind");
        assert_eq!(
            ErrorChain(&e).to_string(),
            "stored data is unreadable: receipt 7 kind: unknown kind `x`"
        );
    }
}
