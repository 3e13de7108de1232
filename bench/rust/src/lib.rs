//! Shared pieces of redkit's Rust benchmark binaries.

pub mod measure;
pub mod server;
pub mod slow_link;

/// A setting from the environment (`BENCH_SECONDS`, `BENCH_JOBS`, …): `default` when unset
/// or unreadable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
