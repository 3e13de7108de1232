//! Shared helpers of the core integration tests.
#![allow(dead_code)]

use redkit::{Client, ConnectOptions};

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
    let opts = ConnectOptions {
        prefix: prefix.to_string(),
        ..Default::default()
    };
    Client::connect_with(url, opts).await.expect("connect")
}

/// A loader error for tests.
pub fn db_down() -> std::io::Error {
    std::io::Error::other("database is down")
}
