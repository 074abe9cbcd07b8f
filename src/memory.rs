//! Returning freed memory to the system. The binary's allocator is
//! mimalloc (`main.rs`), which keeps pages a thread freed until that thread
//! allocates or collects again, so after a burst of large pushes (8 MiB
//! transcripts, parsed on the blocking pool) an idle thread would hold
//! hundreds of MiB it no longer uses. Large work ends with [`release`], and
//! every runtime worker calls [`release_if_due`] when it goes idle.
//!
//! In a build whose global allocator is not mimalloc (the test binaries)
//! these collect mimalloc's own empty heaps: harmless and cheap.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Work on at least this many bytes of bodies ends with [`release`]
/// ([`release_after`]).
pub const LARGE_WORK_BYTES: usize = 1024 * 1024;

/// How often one idle worker thread returns memory at most.
const IDLE_RELEASE_EVERY: Duration = Duration::from_secs(1);

/// Returns the memory this thread has freed to the system
/// (`mi_collect(true)`): a few hundred microseconds after large work.
pub fn release() {
    // SAFETY: mi_collect has no preconditions; it only walks and trims the
    // calling thread's own heap.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// [`release`] after work on `bytes` of bodies, if that was large
/// ([`LARGE_WORK_BYTES`]); nothing otherwise.
pub fn release_after(bytes: usize) {
    if bytes >= LARGE_WORK_BYTES {
        release();
    }
}

/// [`release`], at most once per second per thread: for a runtime
/// worker's park hook, which runs every time the worker goes idle.
pub fn release_if_due() {
    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let now = Instant::now();
    let due = LAST.with(|last| match last.get() {
        Some(t) if now.duration_since(t) < IDLE_RELEASE_EVERY => false,
        _ => {
            last.set(Some(now));
            true
        }
    });
    if due {
        release();
    }
}
