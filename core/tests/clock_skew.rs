//! A client whose clock is off from the server's. Cache entries carry their fresh-until time
//! in server time (the scripts read `TIME`), so the client must judge freshness in server
//! time too: ahead, it would reload entries that are fresh; behind, it would serve stale
//! entries as fresh.
//!
//! The skew is process-wide (`redkit::rt::skew_clock`), so this binary holds one test,
//! which runs each backend in turn.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Backend;
use redkit::{Cache, SetOptions};

const MINUTE: Duration = Duration::from_secs(60);
/// Far more than any ttl below: a client this far off gets every freshness check wrong.
const SKEW_MS: i64 = 10 * 60 * 1000;

/// `get_or_set` of `key`, counting the loader's calls in `loads`.
async fn get_or_set(cache: &Cache, key: &str, loads: &Arc<AtomicUsize>) -> String {
    let loads = Arc::clone(loads);
    cache
        .get_or_set(key, move || async move {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>("loaded".to_string())
        })
        .await
        .unwrap()
}

async fn freshness_in_server_time(backend: Backend, near_cache: usize) {
    let name = format!("skew-{near_cache}");
    // Ahead before the client exists: its first measurement already sees the skew.
    redkit::rt::skew_clock(SKEW_MS);
    let client = backend.client_named(&name).await;
    let cache = client
        .cache("c")
        .ttl(MINUTE)
        .stale_ttl(MINUTE)
        .near_cache(near_cache)
        .build()
        .unwrap();
    let loads = Arc::new(AtomicUsize::new(0));

    // Client ahead: a fresh entry is fresh, and served rather than reloaded.
    cache
        .set("fresh", "stored", &SetOptions::new())
        .await
        .unwrap();
    assert_eq!(
        cache.get::<String>("fresh").await.unwrap().as_deref(),
        Some("stored"),
        "{backend:?}: a fresh entry read as stale by a client 10 minutes ahead"
    );
    assert_eq!(get_or_set(&cache, "fresh", &loads).await, "stored");
    assert_eq!(
        loads.load(Ordering::SeqCst),
        0,
        "{backend:?}: fresh entry reloaded"
    );

    // The clock jumps to 10 minutes behind: a stale entry is stale, and reloaded.
    redkit::rt::skew_clock(-SKEW_MS);
    let short = SetOptions::new().ttl(Duration::from_millis(50));
    cache.set("stale", "old", &short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        cache.get::<String>("stale").await.unwrap(),
        None,
        "{backend:?}: a stale entry served as fresh by a client 10 minutes behind"
    );
    assert_eq!(get_or_set(&cache, "stale", &loads).await, "loaded");
    assert_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "{backend:?}: stale entry not reloaded"
    );
    // ... and the fresh one is still fresh.
    assert_eq!(
        cache.get::<String>("fresh").await.unwrap().as_deref(),
        Some("stored")
    );
    redkit::rt::skew_clock(0);
}

#[tokio::test]
async fn freshness_is_judged_in_server_time() {
    for kind in ["redis", "embedded"] {
        // With a near cache too (a server only): its copies are judged by the same clock.
        for near_cache in [0, 100] {
            freshness_in_server_time(Backend::named(kind), near_cache).await;
        }
    }
}
