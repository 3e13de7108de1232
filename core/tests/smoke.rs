//! Quick end-to-end check that a client connects and the cache round-trips, on both
//! backends.

mod common;

use std::time::Duration;

use common::Backend;
use redkit::SetOptions;

async fn cache_round_trip(backend: Backend) {
    let client = backend.client_named("smoke").await;
    client.ping().await.unwrap();
    let cache = client
        .cache("users")
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    assert_eq!(cache.get::<String>("a").await.unwrap(), None);
    cache
        .set("a", "hello", &SetOptions::new().tags(["t1"]))
        .await
        .unwrap();
    assert_eq!(
        cache.get::<String>("a").await.unwrap().as_deref(),
        Some("hello")
    );
    let v: u32 = cache
        .get_or_set("b", || async { Ok::<_, std::io::Error>(7) })
        .await
        .unwrap();
    assert_eq!(v, 7);
    assert_eq!(cache.invalidate_tags(&["t1"]).await.unwrap(), 1);
    assert_eq!(cache.get::<String>("a").await.unwrap(), None);
    assert_eq!(cache.delete(&["b", "zz"]).await.unwrap(), 1);
}
every_backend!(cache_round_trip, super::cache_round_trip);

async fn health_report(backend: Backend) {
    let report = backend.client_named("health").await.check().await.unwrap();
    assert!(report.server_version.starts_with('7'), "{report:?}");
    assert_eq!(report.persistence, "none");
}
every_backend!(health_report, super::health_report);
