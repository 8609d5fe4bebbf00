//! Shared helpers for the integration tests: each test crate includes them with `mod support;`.

pub mod jvm;
