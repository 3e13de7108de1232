//! In-process single flight: concurrent `get_or_set` misses on one key in one process
//! share one load instead of each running the loader.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{FutureExt, Shared};

use crate::error::Result;
use crate::rt;
use crate::transport::BoxFuture;

/// What a flight yields: the encoded value (shared, not copied, between waiters).
pub type Landed = Result<Arc<Vec<u8>>>;

type Flight = Shared<BoxFuture<'static, Landed>>;

/// The flights in the air, by key.
#[derive(Default)]
pub struct SingleFlight {
    flights: Mutex<HashMap<String, Flight>>,
}

impl SingleFlight {
    /// Whether a flight for `key` is in the air.
    pub fn in_air(&self, key: &str) -> bool {
        self.flights
            .lock()
            .expect("single-flight lock")
            .contains_key(key)
    }

    /// Join the flight for `key`, or start one with `start` if none is in the air. A caller
    /// that joins waits at most `wait`: past it, the load is slower than a lock holder may
    /// be, or (when the host could not tell the core which loader a call comes from) it is
    /// the caller's own and would never land while the caller waits for it.
    pub async fn run(
        self: &Arc<Self>,
        key: &str,
        wait: Duration,
        start: impl FnOnce() -> BoxFuture<'static, Landed>,
    ) -> Landed {
        let mut joined = true;
        let flight = {
            let mut flights = self.flights.lock().expect("single-flight lock");
            match flights.get(key) {
                Some(f) => f.clone(),
                None => {
                    joined = false;
                    let this = Arc::clone(self);
                    let owned_key = key.to_string();
                    let inner = start();
                    // The flight removes itself when it lands, so the next miss loads anew.
                    let fut: BoxFuture<'static, Landed> = Box::pin(async move {
                        let out = inner.await;
                        this.flights
                            .lock()
                            .expect("single-flight lock")
                            .remove(&owned_key);
                        out
                    });
                    let shared = fut.shared();
                    flights.insert(key.to_string(), shared.clone());
                    shared
                }
            }
        };
        if !joined {
            return flight.await;
        }
        let what = "waiting for this process's load of the same cache key (a loader that \
                    asks for its own key, directly or through other loaders, waits for itself)";
        rt::timeout(wait, what, flight).await
    }
}
