//! The one error type every redkit operation returns.
//!
//! Each binding maps [`ErrorKind`] to its own exception or error class with the same name
//! (`ConnectionError`, `TimeoutError`, ...), so a caller in any language can act on the kind.

use std::fmt;
use std::sync::Arc;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure a loader (a user callback) reported. Kept as a shared trait object so a
/// single-flight result can be handed to every waiter, and so bindings can get their own
/// exception object back out of it.
pub type LoaderError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Every way a redkit operation can fail.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server could not be reached, or the connection broke.
    #[error("connection error: {0}")]
    Connection(String),
    /// The operation did not finish within its deadline.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The caller passed something redkit cannot act on (empty key, zero limit, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A stored value or a reply could not be decoded.
    #[error("decode error: {0}")]
    Decode(String),
    /// A value could not be encoded by its codec (JSON cannot hold it, or a codec object
    /// failed or returned no bytes): nothing was written.
    #[error("encode error: {0}")]
    Encode(String),
    /// A Lua script failed on the server.
    #[error("script error: {0}")]
    Script(String),
    /// The server answered a command with an error reply (WRONGTYPE, OOM, NOPERM, ...).
    #[error("server error: {0}")]
    Server(String),
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The client was closed; no further commands are sent.
    #[error("client is closed")]
    Closed,
    /// A lock could not be acquired within the wait the caller allowed. Reserved for the
    /// lock pattern (`client.lock`), which is not built yet: nothing returns it today.
    #[error("lock not acquired: {0}")]
    LockNotAcquired(String),
    /// A user-supplied loader failed. The original error is kept for the binding.
    #[error("loader failed: {0}")]
    Loader(LoaderError),
    /// A queue job failed for good (what `wait_until_finished` raises): its failed reason.
    #[error("job failed: {0}")]
    JobFailed(String),
}

/// The kind of an [`Error`], without its payload: what bindings map to classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::Connection`].
    Connection,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::InvalidArgument`].
    InvalidArgument,
    /// See [`Error::Decode`].
    Decode,
    /// See [`Error::Encode`].
    Encode,
    /// See [`Error::Script`].
    Script,
    /// See [`Error::Server`].
    Server,
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::Closed`].
    Closed,
    /// See [`Error::LockNotAcquired`].
    LockNotAcquired,
    /// See [`Error::Loader`].
    Loader,
    /// See [`Error::JobFailed`].
    JobFailed,
}

impl ErrorKind {
    /// Every kind: the bindings export their class table from this list (the JS facade's
    /// table is checked against it), so a new kind reaches every runtime.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::InvalidArgument,
        ErrorKind::Decode,
        ErrorKind::Encode,
        ErrorKind::Script,
        ErrorKind::Server,
        ErrorKind::NotFound,
        ErrorKind::Closed,
        ErrorKind::LockNotAcquired,
        ErrorKind::Loader,
        ErrorKind::JobFailed,
    ];

    /// The class name every binding uses for this kind.
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::Connection => "ConnectionError",
            ErrorKind::Timeout => "TimeoutError",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::Decode => "DecodeError",
            ErrorKind::Encode => "EncodeError",
            ErrorKind::Script => "ScriptError",
            ErrorKind::Server => "ServerError",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Closed => "Closed",
            ErrorKind::LockNotAcquired => "LockNotAcquired",
            ErrorKind::Loader => "LoaderError",
            ErrorKind::JobFailed => "JobFailed",
        }
    }

    /// A stable machine-readable code (`ERR_CONNECTION`, ...), used as JS `error.code`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Connection => "ERR_CONNECTION",
            ErrorKind::Timeout => "ERR_TIMEOUT",
            ErrorKind::InvalidArgument => "ERR_INVALID_ARGUMENT",
            ErrorKind::Decode => "ERR_DECODE",
            ErrorKind::Encode => "ERR_ENCODE",
            ErrorKind::Script => "ERR_SCRIPT",
            ErrorKind::Server => "ERR_SERVER",
            ErrorKind::NotFound => "ERR_NOT_FOUND",
            ErrorKind::Closed => "ERR_CLOSED",
            ErrorKind::LockNotAcquired => "ERR_LOCK_NOT_ACQUIRED",
            ErrorKind::Loader => "ERR_LOADER",
            ErrorKind::JobFailed => "ERR_JOB_FAILED",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.class_name())
    }
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Connection(_) => ErrorKind::Connection,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Decode(_) => ErrorKind::Decode,
            Error::Encode(_) => ErrorKind::Encode,
            Error::Script(_) => ErrorKind::Script,
            Error::Server(_) => ErrorKind::Server,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Closed => ErrorKind::Closed,
            Error::LockNotAcquired(_) => ErrorKind::LockNotAcquired,
            Error::Loader(_) => ErrorKind::Loader,
            Error::JobFailed(_) => ErrorKind::JobFailed,
        }
    }

    /// Whether trying the same operation again may succeed: true for connection trouble
    /// and timeouts, and for the server replies that say "not now" (LOADING, BUSY,
    /// TRYAGAIN, MASTERDOWN), false for everything the caller or the data got wrong.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connection(_) | Error::Timeout(_) => true,
            Error::Server(msg) => ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"]
                .iter()
                .any(|p| msg.starts_with(p)),
            _ => false,
        }
    }

    /// Whether a transport should resend the request once the connection is back: the
    /// connection failed, or the server said "not now". Timeouts are not: the deadline is
    /// what a retry would have to fit in.
    pub fn is_connection_trouble(&self) -> bool {
        matches!(self, Error::Connection(_))
            || (matches!(self, Error::Server(_)) && self.is_retryable())
    }

    /// Shorthand for an [`Error::InvalidArgument`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// Wrap any error a user loader returned.
    pub fn loader<E>(err: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error::Loader(Arc::new(err))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Decode(e.to_string())
    }
}
