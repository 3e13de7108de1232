//! Shared helpers of the core integration tests.
//!
//! One suite, every backend: a test written as `async fn name(backend: Backend)` and
//! registered with `every_backend!(name, super::name)` runs twice, against the real
//! redis-server the harness starts and against the embedded engine. Where the two
//! disagree, the engine is wrong.
#![allow(dead_code)]

use redkit::{Client, ConnectOptions, EmbeddedOptions, Engine};

/// Where a test's data lives.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The redis-server shared by this test binary.
    Redis,
    /// One in-process engine; every client of this backend shares it.
    Embedded(Engine),
}

impl Backend {
    /// `redis` or `embedded` (a fresh engine).
    pub fn named(kind: &str) -> Backend {
        match kind {
            "redis" => Backend::Redis,
            "embedded" => Backend::Embedded(Engine::new().expect("engine")),
            other => panic!("unknown backend {other}"),
        }
    }

    /// A client on this backend with `prefix`. Several clients on one prefix act as
    /// several processes sharing the data.
    pub async fn client(&self, prefix: &str) -> Client {
        match self {
            Backend::Redis => client_at(&redkit_testkit::shared().url(), prefix).await,
            Backend::Embedded(engine) => {
                Client::from_transport(std::sync::Arc::new(engine.clone()), prefix).expect("client")
            }
        }
    }

    /// A client with a key prefix of its own.
    pub async fn client_named(&self, name: &str) -> Client {
        self.client(&redkit_testkit::prefix(name)).await
    }
}

/// A client on the shared test server with a key prefix of its own.
pub async fn client(name: &str) -> Client {
    client_at(
        &redkit_testkit::shared().url(),
        &redkit_testkit::prefix(name),
    )
    .await
}

/// A client on `url` with `prefix` (several clients on one prefix act as several processes).
pub async fn client_at(url: &str, prefix: &str) -> Client {
    Client::connect_with(url, options(prefix))
        .await
        .expect("connect")
}

fn options(prefix: &str) -> ConnectOptions {
    ConnectOptions::default().prefix(prefix)
}

/// A client whose server is unreachable (nothing listens on port 1): what a scenario with
/// `"backend": "unreachable"` replays on (conformance/README.md).
pub async fn unreachable(name: &str) -> Client {
    Client::connect_with(
        "redis://127.0.0.1:1",
        options(&redkit_testkit::prefix(name))
            .lazy_connect(true)
            .retries(0),
    )
    .await
    .expect("lazy connect")
}

/// A scenario's client: on `backend`, or unreachable when the scenario says so.
pub async fn scenario_client(backend: &Backend, scenario: &serde_json::Value) -> Client {
    match scenario.get("backend").and_then(|b| b.as_str()) {
        Some("unreachable") => unreachable("conf").await,
        None => backend.client_named("conf").await,
        Some(other) => panic!("unknown scenario backend {other}"),
    }
}

/// An embedded client with its own engine and prefix.
pub fn embedded(name: &str) -> Client {
    Client::embedded_with(EmbeddedOptions {
        prefix: redkit_testkit::prefix(name),
        ..Default::default()
    })
    .expect("engine")
}

/// A loader error for tests.
pub fn db_down() -> std::io::Error {
    std::io::Error::other("database is down")
}

/// `every_backend!(name, path::to::async_fn)` makes `name::redis` and `name::embedded`,
/// two tests that call the same `async fn(Backend)`. Extra arguments go to
/// `#[tokio::test(...)]` (`flavor = "multi_thread"`).
#[macro_export]
macro_rules! every_backend {
    ($name:ident, $body:path $(, $($attr:tt)*)?) => {
        mod $name {
            #[tokio::test($($($attr)*)?)]
            async fn redis() {
                $body($crate::common::Backend::named("redis")).await
            }
            #[tokio::test($($($attr)*)?)]
            async fn embedded() {
                $body($crate::common::Backend::named("embedded")).await
            }
        }
    };
}
