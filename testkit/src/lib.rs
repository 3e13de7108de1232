//! Starts real `redis-server` processes for tests, on free loopback ports, and hands out
//! key prefixes that no other test uses.
//!
//! [`shared()`] is one server per test binary (tests isolate by prefix). [`Server::start`]
//! is a private server for tests that stop, restart or count commands.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A redis-server child process on 127.0.0.1.
pub struct Server {
    port: u16,
    /// The TLS port, for servers started with [`Server::start_tls`].
    tls_port: Option<u16>,
    dir: PathBuf,
    child: Option<Child>,
}

impl Server {
    /// Start a fresh server on a free port and wait until it answers PING.
    pub fn start() -> Server {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("redkit-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = Server {
            port,
            tls_port: None,
            dir,
            child: None,
        };
        server.spawn();
        server
    }

    /// Start a server that also serves TLS, with a self-signed certificate made by the
    /// `openssl` command for 127.0.0.1.
    pub fn start_tls() -> Server {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("redkit-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
                "-subj",
                "/CN=127.0.0.1",
            ])
            .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            .current_dir(&dir)
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl could not make a certificate");
        let mut server = Server {
            port,
            tls_port: Some(free_port()),
            dir,
            child: None,
        };
        server.spawn();
        server
    }

    /// The TLS port of a server from [`Server::start_tls`].
    pub fn tls_port(&self) -> Option<u16> {
        self.tls_port
    }

    /// `rediss://127.0.0.1:<tls port>/#insecure` (the certificate is self-signed).
    pub fn tls_url(&self) -> String {
        format!(
            "rediss://127.0.0.1:{}/#insecure",
            self.tls_port.expect("a TLS server")
        )
    }

    fn spawn(&mut self) {
        let bin = std::env::var("REDKIT_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        // A watchdog shell ends the server when this test process dies, however it dies.
        let tls = match self.tls_port {
            Some(p) => format!(
                "--tls-port {p} --tls-cert-file cert.pem --tls-key-file key.pem \
                 --tls-ca-cert-file cert.pem --tls-auth-clients no"
            ),
            None => String::new(),
        };
        let script = format!(
            "cd {dir} && {bin} --port {port} --bind 127.0.0.1 --save '' --appendonly no --dir {dir} \
             {tls} --daemonize no --loglevel warning & s=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $s 2>/dev/null; do sleep 1; done; kill $s 2>/dev/null",
            port = self.port,
            dir = self.dir.display(),
            parent = std::process::id(),
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server ({bin}): {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self
                .raw(&["PING"])
                .map(|r| r.starts_with("+PONG"))
                .unwrap_or(false)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stop the server (SHUTDOWN NOSAVE) and wait until the port is closed.
    pub fn stop(&mut self) {
        let _ = self.raw(&["SHUTDOWN", "NOSAVE"]);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Start it again on the same port (after [`Server::stop`]).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Send one command over a fresh connection and return the raw RESP reply text.
    pub fn raw(&self, args: &[&str]) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(req.as_bytes())?;
        read_reply(&mut BufReader::new(s))
    }

    /// An integer reply (DBSIZE, ...).
    pub fn int(&self, args: &[&str]) -> i64 {
        let r = self.raw(args).expect("command");
        r.trim_start_matches(':')
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("not an integer reply: {r:?}"))
    }

    /// Watch every command clients send (MONITOR) until the returned [`Monitor`] is read.
    /// Unlike INFO commandstats, it tells client commands from those a script runs.
    pub fn monitor(&self) -> Monitor {
        Monitor::start(self.port)
    }

    /// How many times the server executed `command` (lower-case, e.g. `get`, `evalsha`)
    /// since the last `CONFIG RESETSTAT`. Counts commands run inside scripts too: to count
    /// what clients sent, use [`Server::monitor`].
    pub fn calls(&self, command: &str) -> u64 {
        let info = self.raw(&["INFO", "commandstats"]).expect("info");
        let needle = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|l| l.strip_prefix(&needle))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Every command call the server counted since the last `CONFIG RESETSTAT`,
    /// excluding the INFO calls this harness makes to read them. Includes commands run
    /// inside scripts (see [`Server::monitor`] for client commands only).
    pub fn total_calls(&self) -> u64 {
        let info = self.raw(&["INFO", "commandstats"]).expect("info");
        info.lines()
            .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
            .filter_map(|l| l.split("calls=").nth(1))
            .filter_map(|rest| rest.split(',').next())
            .filter_map(|n| n.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A MONITOR connection collecting what clients send.
pub struct Monitor {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Monitor {
    fn start(port: u16) -> Monitor {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("monitor connect");
        stream
            .write_all(b"*1\r\n$7\r\nMONITOR\r\n")
            .expect("monitor");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut ok = String::new();
        reader.read_line(&mut ok).expect("monitor reply");
        assert!(ok.starts_with("+OK"), "MONITOR refused: {ok}");
        Monitor { stream, reader }
    }

    /// Stop watching and return the client commands seen, upper-cased names with their
    /// first argument (`GET rk:{cache:c}:k:a`), leaving out commands scripts ran.
    pub fn finish(mut self) -> Vec<String> {
        // A marker command from a separate connection ends the capture deterministically.
        let port = self.stream.peer_addr().expect("addr").port();
        let marker = "redkit-testkit-monitor-end";
        let mut m = TcpStream::connect(("127.0.0.1", port)).expect("marker connect");
        m.write_all(format!("*2\r\n$4\r\nECHO\r\n${}\r\n{marker}\r\n", marker.len()).as_bytes())
            .expect("marker");
        let mut seen = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 || line.contains(marker) {
                break;
            }
            // +1700000000.123456 [0 127.0.0.1:5555] "GET" "key"   (scripts: [0 lua])
            let Some(rest) = line
                .split_once("] ")
                .map(|(head, rest)| (head.contains(" lua"), rest))
            else {
                continue;
            };
            if rest.0 {
                continue;
            }
            let words: Vec<&str> = rest
                .1
                .trim()
                .split("\" \"")
                .map(|w| w.trim_matches('"'))
                .collect();
            seen.push(
                format!(
                    "{} {}",
                    words[0].to_uppercase(),
                    words.get(1).unwrap_or(&"")
                )
                .trim()
                .to_string(),
            );
        }
        seen
    }
}

fn read_reply(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    match line.as_bytes().first() {
        Some(b'$') => {
            let n: i64 = line[1..].trim().parse().unwrap_or(-1);
            if n < 0 {
                return Ok(line);
            }
            let mut buf = vec![0; n as usize + 2];
            r.read_exact(&mut buf)?;
            Ok(String::from_utf8_lossy(&buf[..n as usize]).into_owned())
        }
        Some(b'*') => {
            let n: i64 = line[1..].trim().parse().unwrap_or(0);
            let mut out = line.clone();
            for _ in 0..n.max(0) {
                out.push_str(&read_reply(r)?);
                out.push('\n');
            }
            Ok(out)
        }
        _ => Ok(line),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The server shared by every test of this binary.
pub fn shared() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(Server::start)
}

/// A key prefix no other test in this process uses: `t<pid>_<n>_<name>`.
pub fn prefix(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "t{}_{}_{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
