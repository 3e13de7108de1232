//! redkit for edge runtimes (Cloudflare Workers, Deno, Vercel/Netlify edge, browsers, Node).
//!
//! The same core as every other runtime, reached through one of two transports: the
//! Upstash-compatible REST protocol over `fetch` (module `rest`), or a JS Redis client the user
//! already has (module `adapter`). The JS facade in `js/` gives it the Node binding's shape
//! (`Client.rest`, `client.cache(...)`, `getOrSet`, `client.rateLimiter(...)`, error
//! classes).
//!
//! Everything here is compiled for wasm32 only; on a native host the crate is empty.
// The transports hold JS values, which are neither Send nor Sync; the core takes them as
// `Arc<dyn Transport>` (Send/Sync only required on native, see redkit::MaybeSend).
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

#[cfg(target_arch = "wasm32")]
mod adapter;
#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod base64;
#[cfg(target_arch = "wasm32")]
mod cache_ops;
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
mod errors;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod options;
#[cfg(target_arch = "wasm32")]
mod queue;
#[cfg(target_arch = "wasm32")]
mod ratelimit;
#[cfg(target_arch = "wasm32")]
mod rest;
