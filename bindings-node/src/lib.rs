//! The Node.js binding of redkit: the native half of the npm package `redkit`.
//!
//! Thin by design: every method converts its arguments, calls the core and maps the error.
//! Values cross the boundary already encoded (JSON text or raw bytes); the JavaScript files
//! next to this crate (`redkit.js`, `errors.js`, `wrap.js`) encode values, turn error codes
//! into `Error` subclasses and add `cache.wrap`. The classes here are exported as
//! `NativeClient` / `NativeCache` and are not meant to be used directly.

mod cache;
mod client;
mod errors;
mod options;

pub use cache::NativeCache;
pub use client::NativeClient;
