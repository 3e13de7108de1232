//! A [`Transport`] over a JS Redis client the user already has. The facade (js/adapters.js)
//! reduces ioredis, node-redis and @upstash/redis to one function:
//! `sendCommand(args: (string | Uint8Array)[]) => Promise<reply>`.

use futures_util::future::join_all;
use js_sys::Function;
use redkit::{BoxFuture, Cmd, Error, Result, Transport, Value};
use wasm_bindgen::prelude::*;

use crate::convert::{cmd_to_js, reply_from_js};
use crate::errors::{message_of, name_of};
use crate::host::HostPromise;

/// Sends through a JS `sendCommand` function.
pub struct AdapterTransport {
    send: Function,
    closed: std::cell::Cell<bool>,
}

impl AdapterTransport {
    /// Wrap `send(args) => Promise<reply>`.
    pub fn new(send: Function) -> Self {
        AdapterTransport {
            send,
            closed: std::cell::Cell::new(false),
        }
    }

    async fn call(&self, cmd: &Cmd) -> Result<Value> {
        if self.closed.get() {
            return Err(Error::Closed);
        }
        let args: JsValue = cmd_to_js(cmd).into();
        let returned = self
            .send
            .call1(&JsValue::NULL, &args)
            .map_err(|e| thrown(&e))?;
        let reply = HostPromise::new(returned).await.map_err(|e| thrown(&e))?;
        Ok(reply_from_js(&reply))
    }
}

/// What a JS client threw: Redis error replies (ioredis `ReplyError`, node-redis
/// `ErrorReply`, Upstash errors, or any `CODE message` text) are server errors — so
/// NOSCRIPT reaches the EVAL fallback — and the rest is connection trouble.
fn thrown(e: &JsValue) -> Error {
    let message = message_of(e);
    let name = name_of(e);
    let code = message.split(' ').next().unwrap_or("");
    let looks_like_reply = code.len() > 1 && code.chars().all(|c| c.is_ascii_uppercase());
    if matches!(
        name.as_str(),
        "ReplyError" | "ErrorReply" | "SimpleError" | "BlobError" | "UpstashError"
    ) || looks_like_reply
    {
        // ioredis appends the command to the text; the code comes first either way.
        redkit::server_error(message)
    } else if name == "TimeoutError" || message.to_ascii_lowercase().contains("timed out") {
        Error::Timeout(message)
    } else {
        Error::Connection(message)
    }
}

impl Transport for AdapterTransport {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move { self.call(&cmd).await?.into_result() })
    }

    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        // The clients pipeline concurrent commands on one connection by themselves
        // (ioredis auto-pipelining, node-redis' queue), so concurrent sends are one round
        // trip where the client supports it; each error reply stays in its slot.
        Box::pin(async move {
            let replies = join_all(cmds.iter().map(|c| self.call(c))).await;
            replies
                .into_iter()
                .map(|r| match r {
                    Ok(v) => Ok(v),
                    Err(Error::Server(msg)) | Err(Error::Script(msg)) => Ok(Value::Error(msg)),
                    Err(e) => Err(e),
                })
                .collect()
        })
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.closed.set(true);
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "adapter"
    }
}
