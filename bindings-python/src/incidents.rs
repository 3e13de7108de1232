//! The core's incident reports (decisions a fail-safe cache or a rate limiter made because
//! Redis failed, at most one per cache or limiter per interval: see `redkit::incidents`) as
//! warnings on the standard `logging` logger named `redkit`.

use std::sync::Arc;

use pyo3::prelude::*;

/// Send `client`'s incident reports to `logging.getLogger("redkit").warning`.
pub fn log_to_python(client: &redkit::Client) {
    client.set_reporter(Some(Arc::new(|incident: &redkit::incidents::Incident| {
        let message = incident.to_string();
        Python::attach(|py| {
            let logged = py
                .import("logging")
                .and_then(|logging| logging.call_method1("getLogger", ("redkit",)))
                .and_then(|logger| logger.call_method1("warning", ("%s", message)));
            // A logging failure must not fail the request it reports on.
            if let Err(e) = logged {
                e.write_unraisable(py, None);
            }
        });
    })));
}
