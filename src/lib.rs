//! heapsight: a fast reader and analyser of Java heap dumps (HPROF).
//!
//! Data flows one way: file → [`hprof`] → [`heap`] → [`analysis`] → report / UI.

pub mod analysis;
pub mod format;
pub mod heap;
pub mod hprof;
pub mod memory;
pub mod prefetch;
pub mod progress;
pub mod report;
pub mod ui;
