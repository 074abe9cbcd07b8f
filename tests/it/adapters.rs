//! Snapshot tests of every adapter over every fixture.
