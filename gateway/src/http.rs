//! The HTTP side: authentication, body limit, routing, and JSON responses.

use crate::backend::Backend;
use crate::error::ApiError;
use crate::policy::Policy;
use crate::reply::{item_json, to_json, Encoding};
use crate::request::{self, Command};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body as _;
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What every request handler shares.
pub struct App {
    /// Where commands run.
    pub backend: Backend,
    /// What may run.
    pub policy: Policy,
    /// The expected bearer token.
    pub token: String,
    /// Largest accepted body, in bytes.
    pub max_body: usize,
    /// Most commands in one `/pipeline` or `/multi-exec` request.
    pub max_commands: usize,
    /// One permit per request-body byte held, across all requests.
    pub inflight: Arc<Semaphore>,
    /// The size of `inflight`, for the error message.
    pub max_inflight_bytes: usize,
    /// How long a body may take to arrive.
    pub body_timeout: Duration,
}

/// The routes. One fallback handler sees every request, so that every failure, including
/// an unknown path or a wrong method, is answered in the same JSON shape.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Json) -> Response {
    let bytes = serde_json::to_vec(body)
        .unwrap_or_else(|_| b"{\"error\":\"ERR cannot encode reply\"}".to_vec());
    (status, [(CONTENT_TYPE, "application/json")], bytes).into_response()
}

enum Route {
    Single,
    Pipeline,
    MultiExec,
    Path,
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    app.dispatch(req)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

impl App {
    async fn dispatch(&self, req: Request) -> Result<Response, ApiError> {
        let (parts, body) = req.into_parts();
        self.authorize(&parts.headers)?;
        let encoding = encoding(&parts.headers);
        let path = parts.uri.path();
        let route = route(&parts.method, path)?;
        // The permit for the body's bytes is held until the answer is built.
        let (body, _held) = self.read_body(body).await?;
        match route {
            Route::Single => self.one(&request::single(&body)?, encoding, false).await,
            Route::Path => {
                self.one(
                    &request::from_path(path, parts.uri.query(), &body),
                    encoding,
                    true,
                )
                .await
            }
            Route::Pipeline => {
                let cmds = request::batch(&body, self.max_commands)?;
                let blocking = self.check_all(&cmds)?;
                let results = self.backend.pipeline(&cmds, blocking).await?;
                Ok(items(results, encoding))
            }
            Route::MultiExec => {
                let cmds = request::batch(&body, self.max_commands)?;
                // Blocking commands do not block inside MULTI, so the shared connection is fine.
                self.check_all(&cmds)?;
                let results = self.backend.transaction(&cmds).await?;
                Ok(items(results, encoding))
            }
        }
    }

    /// `Authorization: Bearer <token>`, compared in constant time. The three failures get
    /// three messages, so a client can tell a missing header from a misspelt one.
    fn authorize(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let unauthorized = |message| Err(ApiError::new(StatusCode::UNAUTHORIZED, message));
        let Some(header) = headers.get(AUTHORIZATION) else {
            return unauthorized("ERR missing bearer token (Authorization: Bearer <token>)");
        };
        let given = header
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match given {
            // An empty configured token matches nothing: a gateway is never open by accident.
            Some(token)
                if !self.token.is_empty()
                    && constant_time_eq(token.as_bytes(), self.token.as_bytes()) =>
            {
                Ok(())
            }
            Some(_) => unauthorized("ERR invalid token"),
            None => unauthorized("ERR malformed Authorization header: expected `Bearer <token>`"),
        }
    }

    /// The whole body, within the size limit and the body timeout, with the in-flight
    /// permits for its bytes (taken as each chunk arrives, so a burst of large requests is
    /// refused with 503 before it is all in memory).
    async fn read_body(
        &self,
        body: Body,
    ) -> Result<(Bytes, Option<OwnedSemaphorePermit>), ApiError> {
        let mut body = Limited::new(body, self.max_body);
        let capacity = body.size_hint().exact().unwrap_or(0);
        let mut bytes =
            Vec::with_capacity(usize::try_from(capacity).unwrap_or(0).min(self.max_body));
        let mut held: Option<OwnedSemaphorePermit> = None;
        let read = async {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| {
                    if e.is::<LengthLimitError>() {
                        ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!("ERR request body larger than {} bytes", self.max_body),
                        )
                    } else {
                        ApiError::bad_request(format!("ERR cannot read request body: {e}"))
                    }
                })?;
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                let permit = u32::try_from(data.len())
                    .ok()
                    .and_then(|n| self.inflight.clone().try_acquire_many_owned(n).ok())
                    .ok_or_else(|| {
                        ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!(
                                "ERR the gateway holds {} bytes of requests already, retry later",
                                self.max_inflight_bytes
                            ),
                        )
                    })?;
                match held.as_mut() {
                    Some(held) => held.merge(permit),
                    None => held = Some(permit),
                }
                bytes.extend_from_slice(&data);
            }
            Ok::<(), ApiError>(())
        };
        match tokio::time::timeout(self.body_timeout, read).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "ERR request body not received within {} ms",
                        self.body_timeout.as_millis()
                    ),
                ))
            }
        }
        Ok((Bytes::from(bytes), held))
    }

    async fn one(
        &self,
        cmd: &Command,
        encoding: Encoding,
        path_form: bool,
    ) -> Result<Response, ApiError> {
        let blocking = self.policy.check(cmd)?;
        match self.backend.command(cmd, blocking).await {
            Ok(value) => Ok(json_response(
                StatusCode::OK,
                &json!({ "result": to_json(value, encoding) }),
            )),
            // In the path form the path names the command: no such command, no such resource.
            Err(e) if path_form && e.message().starts_with("ERR unknown command") => {
                Err(ApiError::new(StatusCode::NOT_FOUND, e.message()))
            }
            Err(e) => Err(e),
        }
    }

    /// Check every command before running any; true if any may block.
    fn check_all(&self, cmds: &[Command]) -> Result<bool, ApiError> {
        cmds.iter().try_fold(false, |blocking, cmd| {
            Ok(self.policy.check(cmd)? || blocking)
        })
    }
}

fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let post_only = |route| match *method {
        Method::POST => Ok(route),
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("ERR {path} takes POST"),
        )),
    };
    match path {
        "/" => post_only(Route::Single),
        "/pipeline" => post_only(Route::Pipeline),
        "/multi-exec" => post_only(Route::MultiExec),
        _ if !request::looks_like_command(path) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("ERR unknown path {path}"),
        )),
        _ if *method == Method::GET || *method == Method::POST => Ok(Route::Path),
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "ERR commands take GET or POST",
        )),
    }
}

fn encoding(headers: &HeaderMap) -> Encoding {
    let base64 = headers
        .get("upstash-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"));
    if base64 {
        Encoding::Base64
    } else {
        Encoding::Text
    }
}

/// A batch's results as a JSON array, written item by item: a tree of JSON values for the
/// whole batch would cost many times the size of the answer.
fn items(results: Vec<redis::Value>, encoding: Encoding) -> Response {
    let mut out = Vec::with_capacity(results.len() * 16 + 2);
    out.push(b'[');
    for (i, value) in results.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if serde_json::to_writer(&mut out, &item_json(value, encoding)).is_err() {
            return ApiError::new(StatusCode::BAD_GATEWAY, "ERR cannot encode reply")
                .into_response();
        }
    }
    out.push(b']');
    (StatusCode::OK, [(CONTENT_TYPE, "application/json")], out).into_response()
}

/// Compare without an early exit, so response timing does not reveal how much of a guessed
/// token was right. (Length still leaks; tokens should be long and random anyway.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
