//! The pure part of the ingest path (`callhook::ingest::read_body`: the
//! depth / record-count screen, then the adapter) with the default limits.
//! The first byte picks the source kind, the rest is the body; see
//! `callhook_fuzz::check_ingest` for the invariants.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    callhook_fuzz::check_ingest(data);
});
