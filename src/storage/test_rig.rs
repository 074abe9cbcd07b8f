//! The store the contract tests run on: SQLite in a temporary directory,
//! or, with `CALLHOOK_TEST_BACKEND=postgres`, PostgreSQL on a database of
//! its own (`CALLHOOK_TEST_POSTGRES_URL`).

use super::postgres::testdb::{fresh, on_postgres, TestDb};
use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{Store, Target};
use crate::domain::EventType;
use std::sync::Arc;

/// A store and what it lives in.
pub struct Rig {
    /// The SQLite file is `dir/t.db`.
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    /// Declared last: dropped after the store.
    _db: Option<TestDb>,
}

/// An outbound target `name` that takes every event of every vendor.
pub fn target(name: &str) -> Target {
    Target {
        name: name.into(),
        events: EventType::ALL.to_vec(),
        vendors: vec![],
    }
}

/// A fresh store fanning events out to `targets`.
pub async fn rig_with(targets: Vec<Target>) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    if on_postgres() {
        let db = fresh().await;
        let store = PgStore::open(&db.url, &Default::default(), targets)
            .await
            .unwrap();
        return Rig {
            dir,
            store: Arc::new(store),
            _db: Some(db),
        };
    }
    let store = SqliteStore::open_with_targets(&dir.path().join("t.db"), targets).unwrap();
    Rig {
        dir,
        store: Arc::new(store),
        _db: None,
    }
}
