//! callhook's integration tests: one binary (see `shared/design/architecture.md`).

#![recursion_limit = "256"]

mod adapters;
mod auth;
mod backend;
mod browser;
mod calls_api;
mod cli;
mod copy_cli;
mod dashboard;
mod dataset;
mod deliveries_cli;
mod durability;
mod export_cli;
mod export_data;
mod export_output;
mod fuzz_regressions;
mod ingest;
mod ingest_order;
mod limits;
mod load;
mod merge;
mod nats_sink;
mod outbound;
mod outbound_nats;
mod pagination;
mod parsers_prop;
mod process;
mod purge_cli;
mod push_cli;
mod receipts_api;
mod receiver;
mod restart;
mod retention;
mod rollups;
mod scale_out;
mod stats_api;
mod storage_faults;
mod support;
mod time_rules;
mod vendors_aliyun;
mod vendors_other;
