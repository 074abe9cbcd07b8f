//! `vapi-end-of-call-report`: any bytes through the adapter; see `callhook_fuzz::check_parse`
//! for the invariants checked on every input.

#![no_main]

use callhook::domain::SourceKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    callhook_fuzz::check_parse(SourceKind::VapiEndOfCallReport, data);
});
