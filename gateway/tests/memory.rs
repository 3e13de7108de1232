//! The gateway's memory under a burst of large requests: the built binary runs as a process
//! of its own, and its peak resident set (VmHWM in /proc) is read after the burst. Before
//! the caps, one 1 MiB pipeline of tiny commands took it from 8 MB to 290 MB and sixteen at
//! once to 1.84 GB.

mod common;

use common::{Gateway, CONCURRENCY};
use redkit_testkit::{prefix, Server};

/// The peak resident set the gateway may reach over the whole test, in MiB: its start-up
/// footprint plus the bytes in flight (16 MiB of bodies) and their parsing, with room for
/// allocator slack, and far below the ~1.8 GB the same bursts took without the caps.
const PEAK_LIMIT_MIB: u64 = 160;

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
