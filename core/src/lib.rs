//! redkit: the Redis patterns every application rebuilds by hand — cache-aside with
//! stampede protection, write-through and tag invalidation, rate limiters (job queues are
//! coming) — written once, with one data layout shared by every runtime (Rust, Python,
//! Node, edge).
//!
//! ```no_run
//! # async fn demo() -> redkit::Result<()> {
//! use std::time::Duration;
//! let client = redkit::Client::connect("redis://127.0.0.1:6379").await?;
//! let users = client.cache("users").ttl(Duration::from_secs(3600)).build()?;
//! let name: String = users
//!     .get_or_set("user:42", || async { Ok::<_, std::io::Error>("Ada".to_string()) })
//!     .await?;
//! # Ok(()) }
//! ```

// On wasm, transports hold JS values and are deliberately neither Send nor Sync (see
// transport::MaybeSend); `Arc` keeps one type for both targets.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

mod breaker;
pub mod cache;
mod client;
pub mod duration;
mod health;
pub mod host;
pub mod incidents;
pub mod input;
pub mod keys;
mod options;
pub mod queue;
pub mod ratelimit;
pub mod rt;
pub mod script;
mod server_clock;
pub mod transport;
// The worker engine runs on tokio (as the embedded engine does), which the wasm build lacks:
// the edge produces and inspects jobs, it does not process them.
#[cfg(feature = "embedded")]
pub mod worker;

// The shared vocabulary lives in its own crate so the embedded engine can speak it without
// the patterns; `crate::error` and `crate::value` keep their paths here.
use redkit_protocol::{error, value};

pub use cache::{Cache, CacheBuilder, CacheOptions, Codec, SetOptions};
#[cfg(feature = "native")]
pub use client::ClientBuilder;
pub use client::{is_embedded_url, Client, LAYOUT_VERSION};
pub use health::HealthReport;
pub use host::{Cancel, HostCall, HostError, HostFunction, HostResult};
pub use input::{Dialect, Input};
pub use options::{ConnectOptions, MAX_RETRIES};
pub use queue::{Job, JobOptions, JobState, Queue, QueueOptions};
pub use ratelimit::{
    Algorithm, ClockMode, OnError, RateLimitResult, RateLimiter, RateLimiterBuilder,
    RateLimiterOptions, Reason, Rule,
};
pub use redkit_protocol::{server_error, Cmd, ToArg, Value};
pub use redkit_protocol::{Error, ErrorKind, LoaderError, Result};
#[cfg(feature = "embedded")]
pub use transport::embedded::{EmbeddedOptions, Engine, Message, Subscription};
pub use transport::{BoxFuture, MaybeSend, MaybeSync, Transport};
