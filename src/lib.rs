//! callhook: the customer's side of AI voice-calling platforms' push reports.
//!
//! Receives each vendor's push ([`http`]), parses it with a pure adapter
//! ([`adapters`]) into canonical call updates ([`domain`]), stores the raw
//! receipt and the merged calls durably ([`storage`]), and serves them back
//! (the API, and files: [`export`]).

pub mod adapters;
pub mod address_policy;
pub mod alerts;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod duration_text;
pub mod error_chain;
pub mod export;
pub mod http;
pub mod ingest;
pub mod masking;
pub mod memory;
pub mod recordings;
pub mod retention;
pub mod signature;
pub mod simulator;
pub mod storage;
pub mod telemetry;
pub mod worker;
