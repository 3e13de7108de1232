//! Rate limiting in a few lines: 5 requests per second and 100 per minute for each user,
//! decided together in one round trip.
//!
//! Run against any Redis: `cargo run -p redkit-examples --bin rate_limit -- redis://127.0.0.1:6379`
//! (the URL defaults to $REDIS_URL, then to redis://127.0.0.1:6379).

use std::time::Duration;

use redkit::{Algorithm, Client, OnError};

#[tokio::main]
async fn main() -> redkit::Result<()> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("REDIS_URL").ok())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;

    let api = client
        .rate_limiter("example-api")
        .algorithm(Algorithm::Gcra)
        .limit(5)
        .window(Duration::from_secs(1))
        .and_limit(100, Duration::from_secs(60))
        .on_error(OnError::Allow) // fail open, with a short timeout, if Redis is in trouble
        .timeout(Duration::from_millis(250))
        .local_block(true) // a blocked user costs no round trip until its retry time
        .build()?;

    let user = "user:42";
    api.reset(user).await?;
    for i in 1..=7 {
        let r = api.limit(user, 1).await?;
        println!(
            "request {i}: {:<7} remaining {} retry after {} ms ({})",
            if r.allowed { "allowed" } else { "429" },
            r.remaining,
            r.retry_after_ms,
            r.reason.as_str()
        );
    }
    let wait = api.peek(user).await?.retry_after_ms;
    println!("waiting {wait} ms for the next slot…");
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let r = api.limit(user, 1).await?;
    println!("after waiting: allowed = {}", r.allowed);
    api.reset(user).await?;
    Ok(())
}
