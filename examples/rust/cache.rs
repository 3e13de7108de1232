//! The seed article's caching snippets, through redkit: cache-aside with jittered TTLs,
//! delete-on-write, write-through, and tag invalidation.
//!
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p redkit-examples --bin cache`

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redkit::{Client, SetOptions};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct User {
    id: u32,
    name: String,
    team: u32,
}

/// Stands in for the application's database, counting the queries it serves.
#[derive(Default, Clone)]
struct Db {
    users: Arc<Mutex<HashMap<u32, User>>>,
    queries: Arc<Mutex<u32>>,
}

#[derive(Debug)]
struct NotFound(u32);
impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user {} not found", self.0)
    }
}
impl std::error::Error for NotFound {}

impl Db {
    async fn find_user(&self, id: u32) -> Result<User, NotFound> {
        *self.queries.lock().unwrap() += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.users
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .ok_or(NotFound(id))
    }
    fn update_user(&self, id: u32, name: &str) -> User {
        let mut users = self.users.lock().unwrap();
        let user = users.get_mut(&id).expect("user exists");
        user.name = name.to_string();
        user.clone()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::builder(&url).prefix("example").build().await?;
    let db = Db::default();
    for (id, name, team) in [(1, "Ada", 7), (2, "Grace", 7), (3, "Linus", 9)] {
        db.users.lock().unwrap().insert(
            id,
            User {
                id,
                name: name.into(),
                team,
            },
        );
    }
    // ttl 60 min plus up to 5 min of jitter, like the seed's `3600 + random(300)`.
    let users = client
        .cache("users")
        .ttl(Duration::from_secs(3600))
        .jitter(Duration::from_secs(300))
        .build()?;
    users.delete(&["user:1", "user:2", "user:3"]).await?;

    // Cache-aside: the first call loads from the database, the next ones are hits.
    let get_user = |id: u32| {
        let (users, db) = (users.clone(), db.clone());
        async move {
            let tags = SetOptions::new().tags([format!("team:{}", if id == 3 { 9 } else { 7 })]);
            users
                .get_or_set_with(&format!("user:{id}"), &tags, move || async move {
                    db.find_user(id).await
                })
                .await
        }
    };
    let ada = get_user(1).await?;
    let again = get_user(1).await?;
    println!(
        "cache-aside: {} loaded once, read twice ({} db query)",
        ada.name,
        db.queries.lock().unwrap()
    );
    assert_eq!(ada, again);

    // Stampede protection: 50 concurrent cold reads, one database query.
    let before = *db.queries.lock().unwrap();
    let reads: Vec<_> = (0..50).map(|_| tokio::spawn(get_user(2))).collect();
    for r in reads {
        r.await??;
    }
    println!(
        "stampede: 50 concurrent misses -> {} db query",
        *db.queries.lock().unwrap() - before
    );

    // A loader error (user 404) is an error, and nothing is cached.
    match get_user(404).await {
        Err(e) => println!("missing user: {e}"),
        Ok(u) => panic!("unexpected {u:?}"),
    }

    // Pattern 1, delete on write: the next read reloads.
    db.update_user(1, "Ada Lovelace");
    users.delete(&["user:1"]).await?;
    println!("delete-on-write: now {}", get_user(1).await?.name);

    // Pattern 2, write-through: the cache is updated with the write.
    let updated = db.update_user(1, "Countess Ada");
    users
        .set("user:1", &updated, &SetOptions::new().tags(["team:7"]))
        .await?;
    println!(
        "write-through: cache holds {}",
        users.get::<User>("user:1").await?.unwrap().name
    );

    // Pattern 3, tags: invalidate the whole team at once.
    get_user(3).await?;
    let removed = users.invalidate_tags(&["team:7"]).await?;
    println!(
        "tags: invalidated team:7 -> {removed} entries gone; user:1 cached? {}; user:3 (team:9) cached? {}",
        users.get::<User>("user:1").await?.is_some(),
        users.get::<User>("user:3").await?.is_some()
    );

    // A near cache: hot entries also kept in this process, so a hit makes no round trip.
    // Redis keeps the copy coherent (key tracking): a write from any process reaches it
    // within the time of one message; a write through this client is seen at once. (The
    // embedded engine is in-process already and keeps no copy.)
    let hot = client.cache("users").near_cache(10_000).build()?;
    hot.set("user:1", &updated, &SetOptions::new()).await?;
    users.delete(&["user:1"]).await?; // another handle, same client
    println!(
        "near cache: user:1 after a delete through another handle: {:?}",
        hot.get::<User>("user:1").await?.map(|u| u.name)
    );
    Ok(())
}
