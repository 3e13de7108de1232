//! Errors the gateway answers with: an HTTP status and `{"error": "..."}`, the shape the
//! Upstash clients read.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redis::{RedisError, ServerError};
use std::time::Duration;

/// A request that ends in an error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 504: Redis did not answer within `timeout`.
    pub fn timeout(timeout: Duration) -> ApiError {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!("ERR Redis did not answer within {} ms", timeout.as_millis()),
        )
    }

    /// The message sent as `error`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Map a redis-rs failure. Redis's own errors (wrong type, syntax, script errors) are
    /// the caller's fault: 400 with Redis's text, as Upstash does. A slow Redis is 504 and
    /// an unreachable one 502, so clients can tell "retry later" from "fix the request".
    pub fn from_redis(e: RedisError, timeout: Duration) -> ApiError {
        if e.is_timeout() {
            return ApiError::timeout(timeout);
        }
        if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
            return ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("ERR Redis unavailable: {e}"),
            );
        }
        let aborted = e.code() == Some("EXECABORT");
        let text = e.to_string();
        match e.into_server_errors() {
            Some(errors) if aborted => {
                let causes: Vec<String> = errors
                    .iter()
                    .map(|(i, err)| format!("command {}: {}", i + 1, server_error_text(err)))
                    .collect();
                ApiError::bad_request(format!(
                    "EXECABORT Transaction discarded because of previous errors: {}",
                    causes.join("; ")
                ))
            }
            Some(errors) if !errors.is_empty() => {
                ApiError::bad_request(server_error_text(&errors[0].1))
            }
            _ => ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("ERR unexpected reply from Redis: {text}"),
            ),
        }
    }
}

/// Redis's error line as Redis wrote it: `ERR wrong number of arguments ...`.
pub fn server_error_text(e: &ServerError) -> String {
    match e.details() {
        Some(detail) => format!("{} {detail}", e.code()),
        None => e.code().to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::http::json_response(self.status, &serde_json::json!({ "error": self.message }))
    }
}
