//! Values (docs/values.md) against a real server and the embedded engine: a codec of the
//! application's through `Cache::with_codec`, its failures as typed errors with nothing
//! written, and a stored null told apart from a miss.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::Backend;
use redkit::cache::ValueCodec;
use redkit::{Codec, Error, SetOptions};

/// Text stored upper-cased; refuses the empty string, and reads only upper-case text.
struct Upper;

impl ValueCodec<String> for Upper {
    fn encode(&self, value: &String) -> redkit::Result<Vec<u8>> {
        if value.is_empty() {
            return Err(Error::Encode("Upper stores no empty text".into()));
        }
        Ok(value.to_uppercase().into_bytes())
    }

    fn decode(&self, raw: &[u8]) -> redkit::Result<String> {
        match std::str::from_utf8(raw) {
            Ok(s) if s.chars().all(|c| !c.is_lowercase()) => Ok(s.to_lowercase()),
            _ => Err(Error::Decode("Upper reads upper-case UTF-8 only".into())),
        }
    }
}

async fn a_codec_of_the_application(backend: Backend) {
    let c = backend.client_named("vcodec").await;
    let cache = c.cache("upper").build().unwrap();
    let upper = cache.with_codec(Upper);
    upper
        .set("k", &"hello".to_string(), &SetOptions::new())
        .await
        .unwrap();
    assert_eq!(
        upper.get::<String>("k").await.unwrap().as_deref(),
        Some("hello")
    );
    // The codec's bytes, stored as they were.
    assert_eq!(cache.get_bytes("k").await.unwrap().unwrap(), b"HELLO");
    let loads = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        let loads = loads.clone();
        let v = upper
            .get_or_set("loaded", &SetOptions::new(), move || async move {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>("from the loader".to_string())
            })
            .await
            .unwrap();
        assert_eq!(v, "from the loader");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    // Failures are typed, and nothing is written.
    assert!(matches!(
        upper.set("empty", &String::new(), &SetOptions::new()).await,
        Err(Error::Encode(_))
    ));
    let refused = upper
        .get_or_set("empty", &SetOptions::new(), || async {
            Ok::<_, std::io::Error>(String::new())
        })
        .await;
    assert!(matches!(refused, Err(Error::Encode(_))), "{refused:?}");
    assert_eq!(cache.get_bytes("empty").await.unwrap(), None);
    cache
        .set_bytes("lower", b"lower", &SetOptions::new())
        .await
        .unwrap();
    assert!(matches!(
        upper.get::<String>("lower").await,
        Err(Error::Decode(_))
    ));
    // The named codecs are ValueCodecs too.
    let json = cache.with_codec(Codec::Json);
    json.set("n", &7u32, &SetOptions::new()).await.unwrap();
    assert_eq!(json.get::<u32>("n").await.unwrap(), Some(7));
    assert_eq!(cache.get::<u32>("n").await.unwrap(), Some(7));
}
every_backend!(
    a_codec_of_the_application,
    super::a_codec_of_the_application
);

async fn a_stored_null_is_not_a_miss(backend: Backend) {
    let c = backend.client_named("vnull").await;
    let cache = c.cache("nulls").build().unwrap();
    assert_eq!(cache.get::<Option<u8>>("n").await.unwrap(), None);
    cache
        .set("n", &None::<u8>, &SetOptions::new())
        .await
        .unwrap();
    assert_eq!(cache.get::<Option<u8>>("n").await.unwrap(), Some(None));
    let loads = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        let loads = loads.clone();
        let v: Option<u8> = cache
            .get_or_set("loaded", move || async move {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>(None)
            })
            .await
            .unwrap();
        assert_eq!(v, None);
    }
    assert_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "a stored null was reloaded"
    );
    assert_eq!(cache.get::<Option<u8>>("loaded").await.unwrap(), Some(None));
}
every_backend!(
    a_stored_null_is_not_a_miss,
    super::a_stored_null_is_not_a_miss
);
