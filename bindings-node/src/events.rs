//! `NativeQueueEvents`: a cursor over a queue's events stream (the core's
//! `Queue::events_from`, XREAD BLOCK on a connection of its own), for `events.js`.
//!
//! One `next` call hands over every event ready (as the worker's events do), so JS pays one
//! native round trip per burst, not per event. `close` ends a read in flight at once: the
//! core's blocking read may be dropped (its connection is closed rather than reused, and the
//! cursor moves only on an answer), so a closed reader keeps nothing alive.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;
use redkit::queue::{QueueEvent, QueueEvents};
use serde_json::{json, Value};
use tokio::sync::{watch, Mutex};

use crate::completion::{Completions, Outcome};
use crate::errors::js;
use crate::functions::{arg, Functions};
use crate::queue::NativeQueue;

/// How long one XREAD blocks on the server; the read goes on with another until events come.
const BLOCK: Duration = Duration::from_secs(1);

/// An event as `events.js` hands it out: Python's `QueueEvent` in JS's case.
fn event_json(e: QueueEvent) -> Value {
    json!({ "id": e.id, "event": e.event, "jobId": e.job_id, "fields": e.fields })
}

/// The reader behind `QueueEvents` in `events.js`.
#[napi]
pub struct NativeQueueEvents {
    cursor: Arc<Mutex<QueueEvents>>,
    /// Set by `close`: reads in flight and later ones resolve to `null`.
    closed: watch::Sender<bool>,
    completions: Arc<Completions>,
}

/// Every event ready (waiting for the first), or `None` once closed.
async fn next_events(
    cursor: &Mutex<QueueEvents>,
    mut closed: watch::Receiver<bool>,
) -> redkit::Result<Option<Vec<Value>>> {
    let read = async {
        let mut cursor = cursor.lock().await;
        loop {
            let batch = cursor.next_batch(BLOCK).await?;
            if !batch.is_empty() {
                return Ok(batch.into_iter().map(event_json).collect());
            }
        }
    };
    tokio::select! {
        biased;
        _ = closed.wait_for(|c| *c) => Ok(None),
        batch = read => batch.map(Some),
    }
}

#[napi]
impl NativeQueue {
    /// A reader of this queue's events after the entry `from_id` (`"$"`: from now on, pinned
    /// by `pin`, which `events.js` starts at once, or by the first read). A bad id is an
    /// `InvalidArgument` here, not a server error at the first read.
    #[napi(catch_unwind)]
    pub fn events(&self, from_id: String) -> napi::Result<NativeQueueEvents> {
        Ok(NativeQueueEvents {
            cursor: Arc::new(Mutex::new(js(self.core().events_from(&from_id))?)),
            closed: watch::channel(false).0,
            completions: Arc::clone(self.completions()),
        })
    }
}

#[napi]
impl NativeQueueEvents {
    /// Stop: a read in flight resolves to `null` now, as every later one does.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// The operations as plain functions (see `functions.rs`), each taking its `Start`
    /// first: `pin` fixes a `"$"` cursor to the stream's last entry; `next` resolves to the
    /// JSON text of the events ready (an array, oldest first), or `null` once closed.
    #[napi(
        catch_unwind,
        ts_return_type = "{ pin(op: number): unknown; next(op: number): unknown }"
    )]
    pub fn functions<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (cursor, c1) = (Arc::clone(&self.cursor), Arc::clone(&self.completions));
        let f = Functions::new(env)?.add("pin", move |x| {
            let cursor = Arc::clone(&cursor);
            c1.start(x.env, arg(x, 0)?, async move {
                cursor.lock().await.prime().await?;
                Ok(Outcome::Unit)
            })
        })?;
        let (cursor, closed, c2) = (
            Arc::clone(&self.cursor),
            self.closed.clone(),
            Arc::clone(&self.completions),
        );
        let f = f.add("next", move |x| {
            let (cursor, closed) = (Arc::clone(&cursor), closed.subscribe());
            c2.start(x.env, arg(x, 0)?, async move {
                Ok(match next_events(&cursor, closed).await? {
                    Some(batch) => Outcome::Text(Value::Array(batch).to_string()),
                    None => Outcome::Null,
                })
            })
        })?;
        Ok(f.finish())
    }
}
