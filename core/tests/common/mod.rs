//! One suite, two backends: every integration test runs against a real redis-server (the
//! test harness starts it) and against the embedded engine. Where they disagree, the
//! engine is wrong.

#![allow(dead_code)]

use redkit::{Client, ConnectOptions, EmbeddedOptions};

/// A client on `backend` (`redis` or `embedded`) with a key prefix no other test uses.
pub async fn client(backend: &str, test: &str) -> Client {
    let prefix = redkit_testkit::prefix(test);
    match backend {
        "redis" => {
            let opts = ConnectOptions {
                prefix,
                ..Default::default()
            };
            Client::connect_with(&redkit_testkit::shared().url(), opts)
                .await
                .expect("connect")
        }
        "embedded" => Client::embedded_with(EmbeddedOptions {
            prefix,
            ..Default::default()
        })
        .expect("engine"),
        other => panic!("unknown backend {other}"),
    }
}

/// `both_backends!(name, path::to::async_fn)` makes `name::redis` and `name::embedded`,
/// two tests that call the same `async fn(Client)`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test]
            async fn redis() {
                $body($crate::common::client("redis", stringify!($name)).await).await
            }
            #[tokio::test]
            async fn embedded() {
                $body($crate::common::client("embedded", stringify!($name)).await).await
            }
        }
    };
}
