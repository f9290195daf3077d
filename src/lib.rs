//! postmortem: offline forensic analysis of Postfix mail servers.
//!
//! Data flows one way, one module per stage:
//!
//! ```text
//! input  ->  parse  ->  classify  ->  correlate  ->  analyze  ->  report
//! files      lines      reasons       messages       findings     CSV/HTML/JSON
//! ```
//!
//! The library never prints to stdout and never exits the process: every
//! entry point returns a typed [`Error`] or a result the binary renders.

pub mod analyze;
pub mod classify;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod correlate;
pub mod error;
pub mod fleet;
pub mod input;
pub mod memory;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod time;

pub use error::{Error, Result};
