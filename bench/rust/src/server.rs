//! The redis-server a benchmark binary measures, and what it reports about itself.

use redkit::Client;
use redkit_testkit::Server;

/// The server to measure: `REDIS_URL` when set, else a redis-server of the bench's own
/// (kept running while the returned guard lives).
pub fn target() -> (String, Option<Server>) {
    match std::env::var("REDIS_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let server = Server::start();
            (server.url(), Some(server))
        }
    }
}

/// Run one command the bench needs outside redkit's API (FLUSHALL, CONFIG RESETSTAT, …).
pub async fn send(client: &Client, cmd: redkit::Cmd) -> redkit::Value {
    client.transport().send(cmd).await.expect("server command")
}

/// `INFO <section>` as text.
pub async fn info(client: &Client, section: &str) -> String {
    send(client, redkit::Cmd::new("INFO").arg(section))
        .await
        .into_string()
        .expect("text")
        .unwrap_or_default()
}

/// One `field:value` of an INFO text.
pub fn info_field<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.strip_prefix(':')))
        .map(str::trim)
}
