//! A lost reply to the cache lock script (issue 16, item 2): Redis ran it and took the
//! lock, the connection dropped before the reply came back, and the client resent it after
//! reconnecting. The resent call holds the caller's own token, so it must get the lock
//! back, not "busy" (which made the caller and every other client of the key wait out
//! lock_timeout, ~10 s).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redkit::{Client, ConnectOptions};
use redkit_testkit::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// A TCP proxy on loopback in front of `upstream` that, once armed with a marker, cuts the
/// connection that sends the marker right after the server's next reply arrives on it,
/// before passing that reply on: the server ran the command, the client never hears so.
struct ReplyDropper {
    port: u16,
    marker: Arc<std::sync::Mutex<Option<Vec<u8>>>>,
    dropped: Arc<AtomicBool>,
}

impl ReplyDropper {
    async fn start(upstream: u16) -> ReplyDropper {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let marker: Arc<std::sync::Mutex<Option<Vec<u8>>>> = Arc::default();
        let dropped = Arc::new(AtomicBool::new(false));
        let (m, d) = (Arc::clone(&marker), Arc::clone(&dropped));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
                tokio::spawn(pipe(client, server, Arc::clone(&m), Arc::clone(&d)));
            }
        });
        ReplyDropper {
            port,
            marker,
            dropped,
        }
    }

    fn arm(&self, marker: &str) {
        *self.marker.lock().unwrap() = Some(marker.as_bytes().to_vec());
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    marker: Arc<std::sync::Mutex<Option<Vec<u8>>>>,
    dropped: Arc<AtomicBool>,
) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let cut_up = Arc::clone(&cut);
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            {
                let mut armed = marker.lock().unwrap();
                let hit = armed
                    .as_ref()
                    .is_some_and(|m| buf[..n].windows(m.len()).any(|w| w == m));
                if hit {
                    *armed = None;
                    cut_up.store(true, Ordering::SeqCst);
                }
            }
            if server_tx.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match server_rx.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if cut.load(Ordering::SeqCst) {
            // The reply to the marked command: swallowed, and the connection cut.
            dropped.store(true, Ordering::SeqCst);
            break;
        }
        if client_tx.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    up.abort();
}

#[tokio::test]
async fn a_resent_lock_script_gets_the_callers_own_lock_back() {
    let server = Server::start();
    let proxy = ReplyDropper::start(server.port()).await;
    let client = Client::connect_with(
        &format!("redis://127.0.0.1:{}", proxy.port),
        ConnectOptions::default().prefix("lost"),
    )
    .await
    .unwrap();
    let cache = client
        .cache("c")
        .lock_timeout(LOCK_TIMEOUT)
        .build()
        .unwrap();
    // Every script is loaded, so the next lock call is one EVALSHA that Redis runs.
    let warm: u32 = cache
        .get_or_set("warm", || async { Ok::<_, std::io::Error>(0) })
        .await
        .unwrap();
    assert_eq!(warm, 0);

    // The lock key is in the lock script's call and in no command before it.
    proxy.arm("{cache:c}:l:k");
    let loads = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&loads);
    let started = Instant::now();
    let value: u32 = cache
        .get_or_set("k", move || async move {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(42)
        })
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(proxy.dropped.load(Ordering::SeqCst), "no reply was dropped");
    assert_eq!(value, 42);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert!(
        took < Duration::from_secs(3),
        "the resent lock call waited {took:?} for its own lock"
    );
    // The write released the lock the resent call took back.
    assert_eq!(server.int(&["EXISTS", "lost:{cache:c}:l:k"]), 0);
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(42));
}

/// Loads under a CLIENT KILL every 200 ms: each kill may land between a lock script and
/// its reply. No call may wait out the lock of a load that is its own, and every value
/// read back is the one loaded.
#[tokio::test]
async fn loads_under_client_kill_storms_never_wait_for_their_own_lock() {
    let server = Server::start();
    let client = Client::connect_with(&server.url(), ConnectOptions::default().prefix("storm"))
        .await
        .unwrap();
    let cache = client
        .cache("c")
        .lock_timeout(LOCK_TIMEOUT)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let stop = Arc::clone(&stop);
        let port = server.port();
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            let mut reply = [0u8; 64];
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                // This connection is spared (SKIPME defaults to yes).
                conn.write_all(
                    b"*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n$6\r\nnormal\r\n",
                )
                .unwrap();
                let _ = conn.read(&mut reply).unwrap();
            }
        })
    };
    let workers: Vec<_> = (0..16)
        .map(|w| {
            let cache = cache.clone();
            tokio::spawn(async move {
                let mut slowest = Duration::ZERO;
                let until = Instant::now() + Duration::from_secs(4);
                let mut i = 0u32;
                while Instant::now() < until {
                    let key = format!("{w}:{i}");
                    let want = w * 1_000_000 + i;
                    let started = Instant::now();
                    let got: Result<u32, _> = cache
                        .get_or_set(&key, move || async move { Ok::<_, std::io::Error>(want) })
                        .await;
                    slowest = slowest.max(started.elapsed());
                    if let Ok(v) = got {
                        assert_eq!(v, want, "{key}");
                    }
                    i += 1;
                }
                (slowest, i)
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    let mut calls = 0;
    for w in workers {
        let (s, n) = w.await.unwrap();
        slowest = slowest.max(s);
        calls += n;
    }
    stop.store(true, Ordering::SeqCst);
    killer.await.unwrap();
    assert!(calls > 100, "only {calls} calls");
    assert!(
        slowest < Duration::from_secs(5),
        "a call took {slowest:?} of {calls}: it waited for a lock it held"
    );
}
