//! Shared helpers for the integration tests: each test crate includes them with `mod support;`.

pub mod census;
pub mod hprof_writer;
pub mod jvm;
