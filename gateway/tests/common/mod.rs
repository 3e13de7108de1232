//! The built gateway binary as a process of its own, for the tests that measure the process
//! (its memory, its file descriptors, its signals).

#![allow(dead_code)] // each test binary uses its own part

use redkit_testkit::Server;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The token every test gateway expects.
pub const TOKEN: &str = "process-test-token";

/// How many requests run at once in a burst.
pub const CONCURRENCY: usize = 16;

/// The gateway binary, killed when dropped.
pub struct Gateway {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Gateway {
    /// The gateway with default settings.
    pub fn start(redis: &Server) -> Gateway {
        Gateway::start_with(redis, &[], None)
    }

    /// The gateway with `flags`, under a file limit of `open_files` if given.
    pub fn start_with(redis: &Server, flags: &[&str], open_files: Option<u32>) -> Gateway {
        let bin = env!("CARGO_BIN_EXE_redkit-gateway");
        let mut command = match open_files {
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(bin);
                sh
            }
            None => Command::new(bin),
        };
        let mut child = command
            .args(flags)
            .env("REDKIT_GATEWAY_LISTEN", "127.0.0.1:0")
            .env("REDKIT_GATEWAY_REDIS_URL", redis.url())
            .env("REDKIT_GATEWAY_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start redkit-gateway");
        let mut line = String::new();
        // Only the first line is read: the gateway must live with a closed stdout, as it
        // may under a process manager.
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

    /// Send SIGTERM and wait for the process to exit, at most `within`; its exit code.
    pub fn terminate(&mut self, within: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The peak resident set so far, in MiB.
    pub fn peak_mib(&self) -> u64 {
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
    pub async fn post(&self, path: &str, body: &[u8]) -> u16 {
        post(self.addr, path, body).await
    }

    /// `CONCURRENCY` copies of the request at once; their statuses.
    pub async fn burst(&self, path: &str, body: Vec<u8>) -> Vec<u16> {
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
pub async fn post(addr: SocketAddr, path: &str, body: &[u8]) -> u16 {
    try_post(addr, path, body)
        .await
        .unwrap_or_else(|answer| panic!("no status in {answer:?}"))
}

/// POST `body` to `path` on a connection of its own; the status code, or what came back
/// instead of an HTTP answer.
pub async fn try_post(addr: SocketAddr, path: &str, body: &[u8]) -> Result<u16, String> {
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
        .ok_or_else(|| text[..text.len().min(200)].to_string())
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
