//! The gateway's memory under a burst of large requests: the built binary runs as a process
//! of its own, and its peak resident set (VmHWM in /proc) is read after the burst. Before
//! the caps, one 1 MiB pipeline of tiny commands took it from 8 MB to 290 MB and sixteen at
//! once to 1.84 GB.

use redkit_testkit::{prefix, Server};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "memory-test-token";

/// How many requests run at once in each burst.
const CONCURRENCY: usize = 16;

/// The peak resident set the gateway may reach over the whole test, in MiB: its start-up
/// footprint plus the bytes in flight (16 MiB of bodies) and their parsing, with room for
/// allocator slack, and far below the ~1.8 GB the same bursts took without the caps.
const PEAK_LIMIT_MIB: u64 = 160;

/// The gateway binary, killed when dropped.
struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Gateway {
    fn start(redis: &Server) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_redkit-gateway"))
            .env("REDKIT_GATEWAY_LISTEN", "127.0.0.1:0")
            .env("REDKIT_GATEWAY_REDIS_URL", redis.url())
            .env("REDKIT_GATEWAY_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start redkit-gateway");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .parse()
            .unwrap();
        Gateway { child, addr }
    }

    /// The peak resident set so far, in MiB.
    fn peak_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmHWM in /proc/<pid>/status");
        kib / 1024
    }

    /// POST `body` to `path`; the status code.
    async fn post(&self, path: &str, body: &[u8]) -> u16 {
        post(self.addr, path, body).await
    }

    /// `CONCURRENCY` copies of the request at once; their statuses.
    async fn burst(&self, path: &str, body: Vec<u8>) -> Vec<u16> {
        let body = std::sync::Arc::new(body);
        let requests: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (addr, path, body) = (self.addr, path.to_string(), body.clone());
                tokio::spawn(async move { post(addr, &path, &body).await })
            })
            .collect();
        let mut statuses = Vec::new();
        for request in requests {
            statuses.push(request.await.unwrap());
        }
        statuses
    }
}

/// POST `body` to `path` on a connection of its own; the status code.
async fn post(addr: SocketAddr, path: &str, body: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {TOKEN}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The gateway may answer (413, 503) before reading it all, and close.
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {:?}", &text[..text.len().min(200)]))
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `/pipeline` body of `["GET", key]` commands, as many as fit in `size` bytes.
fn tiny_commands(key: &str, count_or_size: Result<usize, usize>) -> Vec<u8> {
    let one = format!("[\"GET\",\"{key}\"]");
    let count = match count_or_size {
        Ok(count) => count,
        Err(size) => size / (one.len() + 1),
    };
    let mut body = Vec::with_capacity(count * (one.len() + 1) + 2);
    body.push(b'[');
    for i in 0..count {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(one.as_bytes());
    }
    body.push(b']');
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_stays_bounded_under_concurrent_megabyte_requests() {
    let redis = Server::start();
    let gw = Gateway::start(&redis);
    let key = prefix("mem");
    assert_eq!(gw.post("/", b"[\"PING\"]").await, 200);
    let at_start = gw.peak_mib();

    // 1 MiB of tiny commands each (~87,000): past the command cap, refused as soon as the
    // cap is passed.
    let mib = 1024 * 1024;
    let statuses = gw.burst("/pipeline", tiny_commands(&key, Err(mib))).await;
    let after_oversized = gw.peak_mib();
    assert_eq!(
        statuses, [413; CONCURRENCY],
        "peak RSS {after_oversized} MiB"
    );

    // At the cap (10,000 commands each): run, and answered.
    let statuses = gw.burst("/pipeline", tiny_commands(&key, Ok(10_000))).await;
    assert_eq!(statuses, [200; CONCURRENCY]);
    let after_at_cap = gw.peak_mib();

    // 1 MiB values, 16 MiB in flight: under the in-flight cap, all stored.
    let path = format!("/set/{key}:big");
    let statuses = gw.burst(&path, vec![b'x'; mib]).await;
    assert_eq!(statuses, [200; CONCURRENCY]);
    let peak = gw.peak_mib();

    eprintln!(
        "gateway peak RSS: {at_start} MiB at start, {after_oversized} MiB after 16 x 1 MiB \
         pipelines of tiny commands, {after_at_cap} MiB after 16 x 10,000-command pipelines, \
         {peak} MiB after 16 x 1 MiB values"
    );
    assert!(peak <= PEAK_LIMIT_MIB, "peak RSS {peak} MiB");
}
