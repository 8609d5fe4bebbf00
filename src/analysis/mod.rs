//! Analyses of the heap index: pure functions of it, no UI types.

pub mod histogram;
