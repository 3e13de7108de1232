//! In-process single flight: concurrent `get_or_set` misses on one key in one process
//! share one load instead of each running the loader.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::{FutureExt, Shared};

use crate::error::Result;
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

    /// Join the flight for `key`, or start one with `start` if none is in the air.
    pub async fn run(
        self: &Arc<Self>,
        key: &str,
        start: impl FnOnce() -> BoxFuture<'static, Landed>,
    ) -> Landed {
        let flight = {
            let mut flights = self.flights.lock().expect("single-flight lock");
            match flights.get(key) {
                Some(f) => f.clone(),
                None => {
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
        flight.await
    }
}
