//! callhook's integration tests: one binary (see `shared/design/architecture.md`).

mod adapters;
