//! The vocabulary every redkit crate shares, with no I/O and no runtime: a command
//! ([`Cmd`]), a reply ([`Value`]), the one error type ([`Error`]) and the RESP codec
//! ([`resp`]). The core (`redkit`) re-exports all of it; the embedded engine
//! (`redkit-engine`) depends on this crate alone, so it needs none of the patterns.

pub mod error;
pub mod resp;
pub mod value;

pub use error::{Error, ErrorKind, LoaderError, Result};
pub use value::{server_error, Cmd, ToArg, Value};
