//! Quick end-to-end check that a client connects and the cache round-trips.

use std::time::Duration;

use redkit::{Client, ConnectOptions, SetOptions};

#[tokio::test]
async fn cache_round_trip() {
    let server = redkit_testkit::shared();
    let opts = ConnectOptions {
        prefix: redkit_testkit::prefix("smoke"),
        ..Default::default()
    };
    let client = Client::connect_with(&server.url(), opts).await.unwrap();
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
