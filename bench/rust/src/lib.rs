//! Shared pieces of redkit's Rust benchmark binaries.

pub mod measure;
pub mod server;
