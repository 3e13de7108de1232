//! The gateway against a real redis-server: every endpoint, every kind of bad input (status
//! and JSON body), and that the service keeps serving after each.

use axum::body::Bytes;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use redkit_gateway::{Config, Gateway};
use redkit_testkit::{prefix, shared, Server};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const TOKEN: &str = "test-token-3f9a";

/// A gateway served in-process on a free port.
struct Gw {
    client: Client,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<()>>,
}

/// Sends HTTP requests to a gateway.
#[derive(Clone)]
struct Client {
    addr: SocketAddr,
}

impl std::ops::Deref for Gw {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Gw {
    async fn start(config: Config) -> Gw {
        let gateway = Gateway::connect(&config)
            .await
            .expect("gateway connects to redis");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(gateway.serve(listener, async {
            let _ = stopped.await;
        }));
        Gw {
            client: Client { addr },
            stop: Some(stop),
            served,
        }
    }

    async fn on(server: &Server) -> Gw {
        Gw::start(Config::new(server.url(), TOKEN)).await
    }

    async fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.served)
            .await
            .expect("stops")
            .unwrap()
            .unwrap();
    }
}

impl Client {
    /// One HTTP/1.1 request on a fresh connection: the status and the body parsed as JSON
    /// (every answer, errors included, must be JSON).
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (StatusCode, Value) {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect to gateway");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = sender
            .send_request(req.body(Full::new(body.into())).unwrap())
            .await
            .expect("response");
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            content_type.as_deref(),
            Some("application/json"),
            "status {status}: {bytes:?}"
        );
        let json =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {bytes:?}"));
        (status, json)
    }

    /// POST with the token.
    async fn post(&self, path: &str, body: impl Into<Bytes>) -> (StatusCode, Value) {
        self.send(
            Method::POST,
            path,
            &[("authorization", &format!("Bearer {TOKEN}"))],
            body,
        )
        .await
    }

    /// POST with the token and `Upstash-Encoding: base64`.
    async fn post64(&self, path: &str, body: impl Into<Bytes>) -> (StatusCode, Value) {
        let auth = format!("Bearer {TOKEN}");
        self.send(
            Method::POST,
            path,
            &[("authorization", &auth), ("upstash-encoding", "base64")],
            body,
        )
        .await
    }

    /// GET with the token.
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(
            Method::GET,
            path,
            &[("authorization", &format!("Bearer {TOKEN}"))],
            Bytes::new(),
        )
        .await
    }

    /// One command in the JSON form; returns the status and the whole JSON answer.
    async fn cmd(&self, args: Value) -> (StatusCode, Value) {
        self.post("/", args.to_string()).await
    }

    /// One command that must succeed; returns its `result`.
    async fn ok(&self, args: Value) -> Value {
        let (status, body) = self.cmd(args.clone()).await;
        assert_eq!(status, StatusCode::OK, "{args} -> {body}");
        body["result"].clone()
    }

    /// After a bad request, a good one still works.
    async fn assert_serves(&self) {
        assert_eq!(self.ok(json!(["PING"])).await, json!("PONG"));
    }
}

async fn gw() -> Gw {
    Gw::start(Config::new(shared().url(), TOKEN)).await
}

fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {body}"))
}

#[tokio::test]
async fn single_command_results_keep_their_json_types() {
    let gw = gw().await;
    let p = prefix("single");
    let k = format!("{p}:k");
    assert_eq!(gw.ok(json!(["SET", k, "héllo ✓"])).await, json!("OK"));
    assert_eq!(gw.ok(json!(["GET", k])).await, json!("héllo ✓"));
    assert_eq!(
        gw.ok(json!(["GET", format!("{p}:missing")])).await,
        Value::Null
    );
    // Numbers are accepted as arguments and integer replies stay numbers.
    assert_eq!(
        gw.ok(json!(["INCRBY", format!("{p}:n"), 41])).await,
        json!(41)
    );
    assert_eq!(gw.ok(json!(["incr", format!("{p}:n")])).await, json!(42));
    assert_eq!(
        gw.ok(json!(["RPUSH", format!("{p}:l"), "a", "b"])).await,
        json!(2)
    );
    assert_eq!(
        gw.ok(json!(["LRANGE", format!("{p}:l"), 0, -1])).await,
        json!(["a", "b"])
    );
    // Nested arrays, integers and nil inside arrays.
    let nested = gw
        .ok(json!([
            "EVAL",
            "return {1, {'x', 2}, redis.call('GET', KEYS[1])}",
            1,
            format!("{p}:none")
        ]))
        .await;
    assert_eq!(
        nested,
        json!([1, ["x", 2], null]),
        "a missing key is Lua false, which Redis turns into nil"
    );
    let with_nil = gw.ok(json!(["MGET", k, format!("{p}:none")])).await;
    assert_eq!(with_nil, json!(["héllo ✓", null]));
    gw.shutdown().await;
}

#[tokio::test]
async fn redis_errors_are_400_with_redis_text_and_the_service_goes_on() {
    let gw = gw().await;
    let p = prefix("rediserr");
    gw.ok(json!(["SET", format!("{p}:s"), "text"])).await;
    let (status, body) = gw.cmd(json!(["INCR", format!("{p}:s")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&body),
        "ERR value is not an integer or out of range"
    );
    let (status, body) = gw.cmd(json!(["LPUSH", format!("{p}:s"), "x"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).starts_with("WRONGTYPE "), "{body}");
    let (status, body) = gw.cmd(json!(["NOSUCHCOMMAND", "x"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).starts_with("ERR unknown command"), "{body}");
    let (status, body) = gw
        .cmd(json!([
            "EVAL",
            "return redis.error_reply('MYERR custom')",
            0
        ]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), "MYERR custom");
    gw.assert_serves().await;
    gw.shutdown().await;
}

#[tokio::test]
async fn base64_encoding_carries_binary_values_and_leaves_ok_and_numbers() {
    let gw = gw().await;
    let p = prefix("b64");
    let binary: Vec<u8> = vec![0, 0xff, 0xfe, b'a', 0x80, b'\n'];
    // The path form takes a POSTed body as the last argument: raw bytes, no JSON escaping.
    let (status, body) = gw.post64(&format!("/set/{p}:bin"), binary.clone()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"result": "OK"})));
    let (_, body) = gw
        .post64("/", json!(["GET", format!("{p}:bin")]).to_string())
        .await;
    assert_eq!(
        STANDARD.decode(body["result"].as_str().unwrap()).unwrap(),
        binary
    );
    // Without the header, the same value comes back as lossy text.
    let (_, body) = gw
        .post("/", json!(["GET", format!("{p}:bin")]).to_string())
        .await;
    assert_eq!(body["result"], json!(String::from_utf8_lossy(&binary)));
    // Status replies other than OK are encoded too (the client decodes every string but OK).
    let (_, body) = gw.post64("/", json!(["PING"]).to_string()).await;
    assert_eq!(body, json!({"result": STANDARD.encode("PONG")}));
    let (_, body) = gw
        .post64("/", json!(["TYPE", format!("{p}:bin")]).to_string())
        .await;
    assert_eq!(body, json!({"result": STANDARD.encode("string")}));
    // Integers and nil stay as they are; arrays are encoded element by element.
    gw.ok(json!(["HSET", format!("{p}:h"), "f", "v"])).await;
    let (_, body) = gw
        .post64("/", json!(["HLEN", format!("{p}:h")]).to_string())
        .await;
    assert_eq!(body, json!({"result": 1}));
    let (_, body) = gw
        .post64(
            "/",
            json!(["HMGET", format!("{p}:h"), "f", "none"]).to_string(),
        )
        .await;
    assert_eq!(body, json!({"result": [STANDARD.encode("v"), null]}));
    let (_, body) = gw
        .post64(
            "/pipeline",
            json!([
                ["GET", format!("{p}:h:none")],
                ["HGETALL", format!("{p}:h")]
            ])
            .to_string(),
        )
        .await;
    assert_eq!(
        body,
        json!([{"result": null}, {"result": [STANDARD.encode("f"), STANDARD.encode("v")]}])
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn path_form_decodes_segments_query_and_body() {
    let gw = gw().await;
    let p = prefix("path");
    let (status, body) = gw.get(&format!("/set/{p}:a/hello%20w%2Frld")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"result": "OK"})));
    assert_eq!(
        gw.get(&format!("/get/{p}:a")).await.1,
        json!({"result": "hello w/rld"})
    );
    // Query parameters are appended as arguments: ?EX=100 sets a TTL.
    assert_eq!(
        gw.get(&format!("/set/{p}:ttl/v?EX=100")).await.1,
        json!({"result": "OK"})
    );
    let ttl = gw
        .ok(json!(["TTL", format!("{p}:ttl")]))
        .await
        .as_i64()
        .unwrap();
    assert!((1..=100).contains(&ttl), "ttl {ttl}");
    // A flag without a value: ?NX, refused because the key exists.
    assert_eq!(
        gw.get(&format!("/set/{p}:a/other?NX")).await.1,
        json!({"result": null})
    );
    // POSTed body as the value.
    assert_eq!(
        gw.post(&format!("/set/{p}:b"), "from body").await.1,
        json!({"result": "OK"})
    );
    assert_eq!(
        gw.get(&format!("/get/{p}:b")).await.1,
        json!({"result": "from body"})
    );
    assert_eq!(
        gw.get(&format!("/incrby/{p}:n/5")).await.1,
        json!({"result": 5})
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn pipeline_returns_one_item_per_command_errors_included() {
    let gw = gw().await;
    let p = prefix("pipe");
    let body = json!([
        ["SET", format!("{p}:s"), "text"],
        ["INCR", format!("{p}:s")],
        ["GET", format!("{p}:s")],
        ["INCR", format!("{p}:n")],
        ["GET", format!("{p}:none")],
    ]);
    let (status, result) = gw.post("/pipeline", body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        result,
        json!([
            {"result": "OK"},
            {"error": "ERR value is not an integer or out of range"},
            {"result": "text"},
            {"result": 1},
            {"result": null},
        ])
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn multi_exec_is_a_transaction() {
    let gw = gw().await;
    let p = prefix("multi");
    let (status, result) = gw
        .post(
            "/multi-exec",
            json!([
                ["SET", format!("{p}:s"), "text"],
                ["INCR", format!("{p}:s")],
                ["INCR", format!("{p}:n")],
                ["GET", format!("{p}:s")]
            ])
            .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A command that fails while executing fails alone; the others are applied.
    assert_eq!(
        result,
        json!([{"result": "OK"}, {"error": "ERR value is not an integer or out of range"}, {"result": 1}, {"result": "text"}])
    );
    // A command Redis rejects while queueing aborts the whole transaction: nothing is applied.
    let (status, body) = gw
        .post(
            "/multi-exec",
            json!([
                ["SET", format!("{p}:x"), "1"],
                ["INCR"],
                ["SET", format!("{p}:y"), "2"]
            ])
            .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = error_of(&body);
    assert!(
        error.starts_with("EXECABORT")
            && error.contains("command 2: ERR wrong number of arguments"),
        "{error}"
    );
    assert_eq!(
        gw.ok(json!(["EXISTS", format!("{p}:x"), format!("{p}:y")]))
            .await,
        json!(0)
    );
    // The shared connection is left clean: the next single command is not queued in a MULTI.
    assert_eq!(gw.ok(json!(["INCR", format!("{p}:n")])).await, json!(2));
    gw.shutdown().await;
}

#[tokio::test]
async fn missing_or_wrong_token_is_401() {
    let gw = gw().await;
    let body = json!(["PING"]).to_string();
    let cases: [&[(&str, &str)]; 4] = [
        &[],
        &[("authorization", "Bearer wrong-token")],
        &[("authorization", "Basic dGVzdA==")],
        &[("authorization", "Bearer test-token-3f9")],
    ];
    for headers in cases {
        for path in [
            "/",
            "/pipeline",
            "/multi-exec",
            "/get/x",
            "/no/such/../path",
        ] {
            let (status, reply) = gw.send(Method::POST, path, headers, body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?} {path}");
            assert!(error_of(&reply).contains("token"), "{reply}");
        }
    }
    let (status, reply) = gw
        .send(
            Method::POST,
            "/",
            &[("authorization", &format!("bearer {TOKEN}"))],
            body,
        )
        .await;
    assert_eq!((status, reply), (StatusCode::OK, json!({"result": "PONG"})));
    gw.shutdown().await;
}

#[tokio::test]
async fn an_empty_configured_token_refuses_everything() {
    let gw = Gw::start(Config::new(shared().url(), "")).await;
    for headers in [
        &[][..],
        &[("authorization", "Bearer ")][..],
        &[("authorization", "Bearer")][..],
    ] {
        let (status, body) = gw
            .send(Method::POST, "/", headers, json!(["PING"]).to_string())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}: {body}");
    }
    gw.shutdown().await;
}

/// The deny list checks the commands a request names, not those a script calls; a Redis ACL
/// user in the URL is what binds scripts too (the README says so: this proves it works).
#[tokio::test]
async fn an_acl_user_in_the_url_restricts_scripts_too() {
    let server = Server::start();
    let setuser = [
        "ACL",
        "SETUSER",
        "edge",
        "on",
        ">edge-pass",
        "~*",
        "&*",
        "+@all",
        "-flushall",
        "-flushdb",
    ];
    assert!(server.raw(&setuser).unwrap().starts_with("+OK"));
    let url = format!("redis://edge:edge-pass@127.0.0.1:{}", server.port());
    let gw = Gw::start(Config::new(url, TOKEN)).await;
    let (status, body) = gw
        .cmd(json!(["EVAL", "return redis.call('FLUSHALL')", 0]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("can't run this command"), "{body}");
    assert_eq!(
        gw.ok(json!([
            "EVAL",
            "return redis.call('SET', KEYS[1], 'v')",
            1,
            "k"
        ]))
        .await,
        json!("OK")
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let gw = gw().await;
    let cases: &[(&str, &str, &str)] = &[
        ("/", "{not json", "ERR malformed JSON body"),
        ("/", "", "ERR malformed JSON body"),
        (
            "/",
            "{\"cmd\":\"GET\"}",
            "ERR a command must be a JSON array",
        ),
        ("/", "[]", "ERR empty command"),
        (
            "/",
            "[\"SET\", \"k\", {\"a\": 1}]",
            "ERR command arguments must be strings or numbers",
        ),
        (
            "/",
            "[\"GET\", null]",
            "ERR command arguments must be strings or numbers",
        ),
        (
            "/",
            "[\"SET\", \"k\", true]",
            "ERR command arguments must be strings or numbers, got true",
        ),
        (
            "/",
            "[\"SET\", \"k\", [1]]",
            "ERR command arguments must be strings or numbers, got [1]",
        ),
        ("/", "  [\"PING\"", "ERR malformed JSON body"),
        (
            "/pipeline",
            " \"x\"",
            "ERR the body must be a JSON array of commands",
        ),
        (
            "/pipeline",
            "[\"GET\", \"k\"]",
            "ERR a command must be a JSON array",
        ),
        ("/pipeline", "[]", "ERR empty batch"),
        (
            "/pipeline",
            "{}",
            "ERR the body must be a JSON array of commands",
        ),
        (
            "/pipeline",
            "[[\"PING\"], []]",
            "ERR empty command (command 2)",
        ),
        ("/multi-exec", "[[\"PING\"", "ERR malformed JSON body"),
    ];
    for (path, body, expected) in cases {
        let (status, reply) = gw.post(path, body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(
            error_of(&reply).starts_with(expected),
            "{path} {body}: {reply}"
        );
        gw.assert_serves().await;
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let mut config = Config::new(shared().url(), TOKEN);
    config.max_body = 1024;
    let gw = Gw::start(config).await;
    let p = prefix("limit");
    let big = json!(["SET", format!("{p}:k"), "x".repeat(2000)]).to_string();
    for path in ["/", "/pipeline", "/multi-exec"] {
        let (status, reply) = gw.post(path, big.clone()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(error_of(&reply), "ERR request body larger than 1024 bytes");
    }
    let (status, _) = gw.post(&format!("/set/{p}:k"), vec![b'x'; 1025]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(gw.ok(json!(["EXISTS", format!("{p}:k")])).await, json!(0));
    // Exactly at the limit is accepted.
    let (status, _) = gw.post(&format!("/set/{p}:k"), vec![b'x'; 1024]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        gw.ok(json!(["STRLEN", format!("{p}:k")])).await,
        json!(1024)
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn denied_commands_are_403_and_nothing_in_their_batch_runs() {
    let gw = gw().await;
    let p = prefix("deny");
    let denied = [
        json!(["FLUSHALL"]),
        json!(["flushdb", "ASYNC"]),
        json!(["CONFIG", "SET", "maxmemory", "1"]),
        json!(["config", "get", "*"]),
        json!(["SHUTDOWN", "NOSAVE"]),
        json!(["DEBUG", "SLEEP", "0"]),
        json!(["Client", "Kill", "ID", "1"]),
        json!(["SCRIPT", "FLUSH"]),
    ];
    for cmd in &denied {
        let (status, body) = gw.cmd(cmd.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cmd}");
        assert!(
            error_of(&body).ends_with("is denied by this gateway"),
            "{body}"
        );
    }
    // Commands that would change the one shared connection are refused whatever the list.
    for cmd in [
        json!(["MULTI"]),
        json!(["SELECT", 1]),
        json!(["SUBSCRIBE", "ch"]),
        json!(["MONITOR"]),
        json!(["WATCH", "k"]),
    ] {
        let (status, body) = gw.cmd(cmd.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cmd}");
        assert!(
            error_of(&body).contains("shares one Redis connection"),
            "{body}"
        );
    }
    // The path form is checked too.
    assert_eq!(gw.get("/flushall").await.0, StatusCode::FORBIDDEN);
    // A denied command anywhere in a batch refuses the whole batch before anything runs.
    for path in ["/pipeline", "/multi-exec"] {
        let batch = json!([["SET", format!("{p}:k"), "v"], ["FLUSHDB"]]);
        let (status, body) = gw.post(path, batch.to_string()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_of(&body), "ERR FLUSHDB is denied by this gateway");
    }
    assert_eq!(gw.ok(json!(["EXISTS", format!("{p}:k")])).await, json!(0));
    // Subcommands not on the list still run.
    assert_eq!(
        gw.ok(json!(["CLIENT", "ID"]))
            .await
            .as_i64()
            .map(|id| id > 0),
        Some(true)
    );
    gw.assert_serves().await;
    gw.shutdown().await;
}

#[tokio::test]
async fn the_deny_list_is_configurable() {
    let mut config = Config::new(shared().url(), TOKEN);
    config.deny = vec!["echo".into(), " object   encoding ".into()];
    let gw = Gw::start(config).await;
    let p = prefix("denycfg");
    assert_eq!(gw.cmd(json!(["ECHO", "x"])).await.0, StatusCode::FORBIDDEN);
    let (status, body) = gw
        .cmd(json!(["OBJECT", "ENCODING", format!("{p}:k")]))
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (
            StatusCode::FORBIDDEN,
            "ERR OBJECT ENCODING is denied by this gateway"
        )
    );
    // The list replaces the default one: CONFIG GET is allowed now.
    let maxclients = gw.ok(json!(["CONFIG", "GET", "maxclients"])).await;
    assert_eq!(maxclients[0], json!("maxclients"));
    gw.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let gw = gw().await;
    for path in [
        "/nosuchcommand/x",
        "/favicon.ico",
        "/%20/x",
        "/-x",
        "/pipeline/extra",
        "/_internal",
    ] {
        let (status, body) = gw.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(error_of(&body).starts_with("ERR unknown"), "{body}");
        gw.assert_serves().await;
    }
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/pipeline"),
        (Method::PUT, "/multi-exec"),
        (Method::DELETE, "/get/x"),
    ] {
        let auth = format!("Bearer {TOKEN}");
        let (status, body) = gw
            .send(
                method.clone(),
                path,
                &[("authorization", &auth)],
                Bytes::new(),
            )
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(error_of(&body).starts_with("ERR "), "{body}");
    }
    gw.assert_serves().await;
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_commands_get_their_own_connection() {
    let server = Server::start();
    let gw = Gw::on(&server).await;
    let p = prefix("block");
    let list = format!("{p}:list");
    let blpop = {
        let (client, list) = (gw.client.clone(), list.clone());
        tokio::spawn(async move { client.ok(json!(["BLPOP", list, 5])).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The shared connection is not stalled behind the BLPOP.
    let started = Instant::now();
    assert_eq!(gw.ok(json!(["RPUSH", list, "item"])).await, json!(1));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(blpop.await.unwrap(), json!([list, "item"]));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "BLPOP was woken by the push"
    );
    // Blocking inside a pipeline also runs on its own connection.
    let (status, body) = gw
        .post(
            "/pipeline",
            json!([["RPUSH", list, "a"], ["BLPOP", list, 1]]).to_string(),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!([{"result": 1}, {"result": [list, "a"]}])
        )
    );
    // XREAD BLOCK too: it times out with nil.
    let (status, body) = gw
        .cmd(json!([
            "XREAD",
            "BLOCK",
            100,
            "STREAMS",
            format!("{p}:stream"),
            "$"
        ]))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"result": null})));
    gw.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_redis_is_504_and_blocking_is_cut_at_its_timeout() {
    let server = Server::start();
    let mut config = Config::new(server.url(), TOKEN);
    config.response_timeout = Duration::from_millis(300);
    config.blocking_timeout = Duration::from_millis(300);
    let gw = Gw::start(config).await;
    // A script slower than the response timeout.
    let spin = "local t = redis.call('TIME'); local e = t[1] * 1000000 + t[2] + 700000; \
                while true do local n = redis.call('TIME'); if n[1] * 1000000 + n[2] > e then break end end; return 1";
    let (status, body) = gw.cmd(json!(["EVAL", spin, 0])).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(error_of(&body), "ERR Redis did not answer within 300 ms");
    // A blocking command that would wait forever is cut at the blocking timeout.
    let started = Instant::now();
    let (status, body) = gw.cmd(json!(["BLPOP", prefix("forever"), 0])).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // The late script reply is not mistaken for a later command's reply.
    tokio::time::sleep(Duration::from_millis(800)).await;
    gw.assert_serves().await;
    assert_eq!(gw.ok(json!(["ECHO", "after"])).await, json!("after"));
}

#[tokio::test]
async fn redis_down_is_502_and_the_gateway_recovers() {
    let mut server = Server::start();
    let gw = Gw::on(&server).await;
    gw.assert_serves().await;
    server.stop();
    let (status, body) = gw.cmd(json!(["PING"])).await;
    assert!(
        status == StatusCode::BAD_GATEWAY || status == StatusCode::GATEWAY_TIMEOUT,
        "{status} {body}"
    );
    assert!(error_of(&body).starts_with("ERR Redis"), "{body}");
    server.restart();
    // The connection manager reconnects in the background.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = gw.cmd(json!(["PING"])).await;
        if status == StatusCode::OK {
            assert_eq!(body, json!({"result": "PONG"}));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "gateway did not recover: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_then_stops() {
    let server = Server::start();
    let mut gw = Gw::on(&server).await;
    let addr = gw.addr;
    let in_flight = {
        let client = gw.client.clone();
        tokio::spawn(async move { client.cmd(json!(["BLPOP", prefix("drain"), 1])).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    gw.stop.take().unwrap().send(()).unwrap();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status, body), (StatusCode::OK, json!({"result": null})));
    tokio::time::timeout(Duration::from_secs(5), gw.served)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening after shutdown"
    );
}

#[tokio::test]
async fn a_malformed_authorization_header_is_named_as_such() {
    let gw = gw().await;
    let body = json!(["PING"]).to_string();
    for header in ["Basic dGVzdA==", "Bearer", TOKEN, "Token abc"] {
        let (status, reply) = gw
            .send(
                Method::POST,
                "/",
                &[("authorization", header)],
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(
            error_of(&reply),
            "ERR malformed Authorization header: expected `Bearer <token>`",
            "{header}"
        );
    }
    let (_, reply) = gw.send(Method::POST, "/", &[], body.clone()).await;
    assert_eq!(
        error_of(&reply),
        "ERR missing bearer token (Authorization: Bearer <token>)"
    );
    let (_, reply) = gw
        .send(Method::POST, "/", &[("authorization", "Bearer nope")], body)
        .await;
    assert_eq!(error_of(&reply), "ERR invalid token");
    gw.shutdown().await;
}

/// A script may return an array with an error in it: `POST /` answers the whole array, the
/// error in its place, exactly as `/pipeline` does.
#[tokio::test]
async fn a_reply_array_with_an_error_in_it_is_returned_whole() {
    let gw = gw().await;
    let script = "return {1, redis.error_reply('MYERR inside'), 'x'}";
    let (status, body) = gw.cmd(json!(["EVAL", script, 0])).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"result": [1, {"error": "MYERR inside"}, "x"]})
        )
    );
    let (status, body) = gw
        .post("/pipeline", json!([["EVAL", script, 0]]).to_string())
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!([{"result": [1, {"error": "MYERR inside"}, "x"]}])
        )
    );
    gw.shutdown().await;
}

/// Numbers reach Redis as the client wrote them: no float conversion turns `1e2` into
/// `100.0` or 2^64 into `1.8446744073709552e+19`. Booleans are refused (the README says so).
#[tokio::test]
async fn numbers_pass_through_as_written_and_booleans_are_400() {
    let gw = gw().await;
    let p = prefix("numbers");
    for (i, text) in [
        "1e2",
        "18446744073709551616",
        "-0.5",
        "12345678901234567890123",
        "1.0",
        "-7",
    ]
    .iter()
    .enumerate()
    {
        let key = format!("{p}:{i}");
        let (status, body) = gw.post("/", format!("[\"SET\", \"{key}\", {text}]")).await;
        assert_eq!(status, StatusCode::OK, "{text}: {body}");
        assert_eq!(gw.ok(json!(["GET", key])).await, json!(text));
    }
    // Redis, not the gateway, decides what a number means.
    let (status, body) = gw.post("/", format!("[\"INCRBY\", \"{p}:n\", 1e2]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&body),
        "ERR value is not an integer or out of range"
    );
    for (path, body) in [
        ("/", format!("[\"SET\", \"{p}:b\", true]")),
        ("/", format!("[\"SET\", \"{p}:b\", false]")),
        ("/pipeline", format!("[[\"SET\", \"{p}:b\", true]]")),
        ("/multi-exec", format!("[[\"SET\", \"{p}:b\", false]]")),
    ] {
        let (status, reply) = gw.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(
            error_of(&reply).starts_with("ERR command arguments must be strings or numbers, got "),
            "{reply}"
        );
    }
    assert_eq!(gw.ok(json!(["EXISTS", format!("{p}:b")])).await, json!(0));
    gw.shutdown().await;
}

#[tokio::test]
async fn batches_over_the_command_cap_are_413() {
    let mut config = Config::new(shared().url(), TOKEN);
    config.max_commands = 3;
    let gw = Gw::start(config).await;
    let p = prefix("cmdcap");
    let at_cap = json!([
        ["INCR", format!("{p}:n")],
        ["INCR", format!("{p}:n")],
        ["INCR", format!("{p}:n")]
    ]);
    for path in ["/pipeline", "/multi-exec"] {
        let (status, body) = gw.post(path, at_cap.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let over = json!([["SET", format!("{p}:x"), "1"], ["PING"], ["PING"], ["PING"]]);
    for path in ["/pipeline", "/multi-exec"] {
        let (status, body) = gw.post(path, over.to_string()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(
            error_of(&body),
            "ERR too many commands in one request: at most 3"
        );
    }
    assert_eq!(gw.ok(json!(["EXISTS", format!("{p}:x")])).await, json!(0));
    assert_eq!(gw.ok(json!(["GET", format!("{p}:n")])).await, json!("6"));
    gw.shutdown().await;
}

/// Every entry of the default deny list is refused, every exemption runs, and so does every
/// command that would change the shared connection. Each refused command carries one junk
/// argument, so that if the gateway let it through Redis would fail it for its syntax
/// instead of acting on it (the test has a server of its own all the same).
#[tokio::test]
async fn every_default_deny_entry_and_connection_command_is_403_and_exemptions_run() {
    let server = Server::start();
    let gw = Gw::on(&server).await;
    let junk = "redkit-gateway-test-junk";
    for entry in redkit_gateway::DEFAULT_DENY {
        let exempt = entry.strip_prefix('!');
        let words: Vec<&str> = exempt.unwrap_or(entry).split(' ').collect();
        if let Some(exempt) = exempt {
            let (status, body) = gw.cmd(json!(words)).await;
            assert_ne!(status, StatusCode::FORBIDDEN, "{exempt}: {body}");
            continue;
        }
        let mut cmd = words.clone();
        cmd.push(junk);
        let (status, body) = gw.cmd(json!(cmd)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{entry}: {body}");
        assert_eq!(
            error_of(&body),
            format!("ERR {entry} is denied by this gateway")
        );
        // Any case, and a family whatever subcommand follows.
        let lower: Vec<String> = cmd.iter().map(|w| w.to_lowercase()).collect();
        assert_eq!(
            gw.cmd(json!(lower)).await.0,
            StatusCode::FORBIDDEN,
            "{entry}"
        );
    }
    for entry in redkit_gateway::CONNECTION_STATE {
        let mut cmd: Vec<&str> = entry.split(' ').collect();
        cmd.push(junk);
        let (status, body) = gw.cmd(json!(cmd)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{entry}: {body}");
        assert!(
            error_of(&body).contains("shares one Redis connection"),
            "{body}"
        );
    }
    gw.assert_serves().await;
    gw.shutdown().await;
}

/// The subcommands an adversarial pass got through the per-subcommand list: refused now that
/// their families are denied whole.
#[tokio::test]
async fn dangerous_subcommands_of_denied_families_are_403() {
    let server = Server::start();
    let gw = Gw::on(&server).await;
    for cmd in [
        json!(["FUNCTION", "RESTORE", "payload", "FLUSH"]),
        json!(["FUNCTION", "DELETE", "lib"]),
        json!(["FUNCTION", "KILL"]),
        json!(["FUNCTION", "FLUSH"]),
        json!([
            "FUNCTION",
            "LOAD",
            "#!lua name=x\nredis.register_function('f', function() return 1 end)"
        ]),
        json!(["CLIENT", "SETNAME", "hijacked"]),
        json!(["CLIENT", "NO-EVICT", "on"]),
        json!(["CLIENT", "NO-TOUCH", "on"]),
        json!(["CLIENT", "UNBLOCK", "1"]),
        json!(["CLIENT", "LIST"]),
        json!(["CLIENT", "KILL", "ID", "1"]),
        json!(["CLIENT", "PAUSE", "10"]),
        json!(["SCRIPT", "FLUSH"]),
        json!(["SCRIPT", "KILL"]),
        json!(["SCRIPT", "DEBUG", "YES"]),
    ] {
        let (status, body) = gw.cmd(cmd.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cmd}: {body}");
    }
    // The harmless ones of those families still run.
    assert!(gw.ok(json!(["CLIENT", "ID"])).await.is_i64());
    assert_eq!(
        gw.ok(json!(["SCRIPT", "EXISTS", "0".repeat(40)])).await,
        json!([0])
    );
    assert_eq!(gw.ok(json!(["FUNCTION", "LIST"])).await, json!([]));
    gw.shutdown().await;
}

/// A redkit client whose transport is this gateway, speaking the REST protocol as redkit's
/// edge transport does (arguments as JSON strings, base64 results), so the scripts it runs
/// are exactly the ones redkit sends.
struct RestTransport {
    client: Client,
}

impl RestTransport {
    fn decode(json: &Value) -> redkit::Value {
        match json {
            Value::Null => redkit::Value::Nil,
            Value::Number(n) => n
                .as_i64()
                .map(redkit::Value::Int)
                .unwrap_or_else(|| redkit::Value::Double(n.as_f64().unwrap())),
            Value::String(s) if s == "OK" => redkit::Value::Status(s.clone()),
            Value::String(s) => redkit::Value::Bulk(STANDARD.decode(s).unwrap()),
            Value::Array(items) => redkit::Value::Array(items.iter().map(Self::decode).collect()),
            Value::Object(_) => Self::slot(json),
            Value::Bool(b) => redkit::Value::Bool(*b),
        }
    }

    fn slot(json: &Value) -> redkit::Value {
        match json.get("error") {
            Some(e) => redkit::Value::Error(e.as_str().unwrap().to_string()),
            None => Self::decode(&json["result"]),
        }
    }

    fn body(cmd: &redkit::Cmd) -> Value {
        cmd.parts()
            .map(|p| json!(std::str::from_utf8(p).expect("UTF-8 argument")))
            .collect()
    }
}

impl redkit::Transport for RestTransport {
    fn send(&self, cmd: redkit::Cmd) -> redkit::BoxFuture<'_, redkit::Result<redkit::Value>> {
        Box::pin(async move {
            let (_, reply) = self.client.post64("/", Self::body(&cmd).to_string()).await;
            Self::slot(&reply).into_result()
        })
    }

    fn pipeline(
        &self,
        cmds: Vec<redkit::Cmd>,
    ) -> redkit::BoxFuture<'_, redkit::Result<Vec<redkit::Value>>> {
        Box::pin(async move {
            let body: Value = cmds.iter().map(Self::body).collect();
            let (status, reply) = self.client.post64("/pipeline", body.to_string()).await;
            match reply {
                Value::Array(items) => Ok(items.iter().map(Self::slot).collect()),
                other => Err(redkit::Error::Server(format!("{status}: {other}"))),
            }
        })
    }

    fn close(&self) -> redkit::BoxFuture<'_, redkit::Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "rest-test"
    }
}

/// `--scripts redkit`: redkit's own cache and every rate-limit algorithm (one rule and
/// several) work through the gateway, first with EVAL (a fresh server knows no script) then
/// EVALSHA; any other script, by body, SHA-1, SCRIPT LOAD or function, is 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redkit_scripts_mode_runs_redkits_scripts_and_refuses_any_other() {
    use redkit::ratelimit::{Algorithm, OnError, Reason};
    let server = Server::start();
    let mut config = Config::new(server.url(), TOKEN);
    config.scripts = redkit_gateway::Scripts::Redkit;
    let gw = Gw::start(config).await;
    let transport = std::sync::Arc::new(RestTransport {
        client: gw.client.clone(),
    });
    let client = redkit::Client::from_transport(transport, &prefix("scripts")).unwrap();
    for round in 0..2 {
        let cache = client.cache("c").build().unwrap();
        let v: String = cache
            .get_or_set("k", || async {
                Ok::<_, std::io::Error>("loaded".to_string())
            })
            .await
            .unwrap();
        assert_eq!(v, "loaded");
        cache
            .set("tagged", "v", &redkit::SetOptions::default().tags(["t"]))
            .await
            .unwrap();
        assert_eq!(
            cache.invalidate_tags(&["t"]).await.unwrap(),
            1,
            "round {round}"
        );
        for algorithm in [
            Algorithm::Gcra,
            Algorithm::TokenBucket,
            Algorithm::SlidingWindow,
            Algorithm::SlidingLog,
            Algorithm::FixedWindow,
        ] {
            for rules in [1, 2] {
                let mut limiter = client
                    .rate_limiter(&format!("rl{round}{rules}{algorithm:?}"))
                    .algorithm(algorithm)
                    .limit(2)
                    .window(Duration::from_secs(60));
                if rules == 2 {
                    limiter = limiter.and_limit(5, Duration::from_secs(3600));
                }
                let limiter = limiter.on_error(OnError::Raise).build().unwrap();
                let mut decisions = Vec::new();
                for _ in 0..3 {
                    let result = limiter.limit("id", 1).await.unwrap();
                    assert_eq!(result.reason, Reason::Limit);
                    decisions.push(result.allowed);
                }
                assert_eq!(decisions, [true, true, false], "{algorithm:?} {rules}");
            }
        }
    }
    // The queue's scripts too (they came after the allow-list: it follows the core's).
    let queue = client.queue("q").unwrap();
    let job = queue
        .add("job", &json!({"n": 1}), redkit::JobOptions::default())
        .await
        .unwrap();
    queue.pause().await.unwrap();
    assert!(queue.is_paused().await.unwrap());
    queue.resume().await.unwrap();
    assert_eq!(queue.log(&job.id, "a line").await.unwrap(), 1);
    assert_eq!(queue.counts().await.unwrap().waiting, 1);
    // Any other script, in any form, is refused; redkit's own SHA-1 is accepted by EVALSHA.
    let sha_of_other = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    for cmd in [
        json!(["EVAL", "return redis.call('FLUSHALL')", 0]),
        json!(["eval_ro", "return 1", 0]),
        json!(["EVALSHA", sha_of_other, 0]),
        json!(["EVALSHA_RO", sha_of_other, 0]),
        json!(["SCRIPT", "LOAD", "return 1"]),
        json!(["FCALL", "f", 0]),
        json!(["FCALL_RO", "f", 0]),
        json!(["EVAL"]),
    ] {
        let (status, body) = gw.cmd(cmd.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cmd}: {body}");
        assert!(error_of(&body).contains("is not one of redkit's"), "{body}");
    }
    let (status, body) = gw
        .post(
            "/pipeline",
            json!([["PING"], ["EVAL", "return 1", 0]]).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let ours = redkit::script::all()[0];
    assert_eq!(
        gw.ok(json!(["SCRIPT", "LOAD", ours.source()])).await,
        json!(ours.sha())
    );
    assert_eq!(
        gw.ok(json!(["SCRIPT", "EXISTS", ours.sha().to_uppercase()]))
            .await,
        json!([1])
    );
    gw.shutdown().await;
}

/// While Redis is known to be down, every request gets its 502 at once (not after redis-rs's
/// reconnection attempts, ~9 s, longer than an edge client waits), on every endpoint; the
/// gateway reconnects in the background and serves again once Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_requests_fail_fast_and_it_reconnects_in_the_background() {
    let mut server = Server::start();
    let gw = Gw::on(&server).await;
    gw.assert_serves().await;
    server.stop();
    let requests = [
        ("/", json!(["PING"])),
        ("/pipeline", json!([["PING"], ["GET", "k"]])),
        ("/multi-exec", json!([["INCR", "k"]])),
        ("/", json!(["BLPOP", "list", 1])),
    ];
    for round in 0..5 {
        for (path, body) in &requests {
            let started = Instant::now();
            let (status, reply) = gw.post(path, body.to_string()).await;
            let took = started.elapsed();
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{path} {body}: {reply}");
            assert!(
                error_of(&reply).starts_with("ERR Redis unavailable"),
                "{reply}"
            );
            assert!(
                took < Duration::from_millis(500),
                "round {round}, {path} {body}: 502 after {took:?}"
            );
        }
    }
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, body) = gw.cmd(json!(["PING"])).await;
        if status == StatusCode::OK {
            assert_eq!(body, json!({"result": "PONG"}));
            break;
        }
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert!(Instant::now() < deadline, "no recovery: {body}");
    }
    gw.shutdown().await;
}

/// A connection that has sent `bytes` and nothing more.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Everything the gateway sends on `stream` until it closes it, or `None` if it is still
/// open after `within`.
async fn until_closed(stream: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = stream.read_to_end(&mut got);
    match tokio::time::timeout(within, read).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

const HALF_HEADERS: &[u8] = b"POST / HTTP/1.1\r\nhost: gateway\r\nauthoriz";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_and_idle_connections_are_closed_at_the_header_timeout() {
    let mut config = Config::new(shared().url(), TOKEN);
    config.header_timeout = Duration::from_millis(300);
    let gw = Gw::start(config).await;
    for bytes in [HALF_HEADERS, b""] {
        let started = Instant::now();
        let mut stream = raw(gw.addr, bytes).await;
        let answer = until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.is_some(), "still open after 5 s: {bytes:?}");
        assert!(started.elapsed() >= Duration::from_millis(250));
    }
    gw.assert_serves().await;
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_is_408() {
    let mut config = Config::new(shared().url(), TOKEN);
    config.body_timeout = Duration::from_millis(300);
    let gw = Gw::start(config).await;
    let head = format!(
        "POST / HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {TOKEN}\r\ncontent-length: 100\r\n\r\n[\"PING\""
    );
    let mut stream = raw(gw.addr, head.as_bytes()).await;
    let answer = until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(r#"{"error":"ERR request body not received within 300 ms"}"#),
        "{answer}"
    );
    gw.assert_serves().await;
    gw.shutdown().await;
}

/// More connections than the cap: the extra ones get a 503 at once (not a hang), and once
/// the slow ones reach their header timeout real requests are served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_get_503_and_slow_ones_cannot_starve_real_requests() {
    let mut config = Config::new(shared().url(), TOKEN);
    config.max_connections = 8;
    config.header_timeout = Duration::from_millis(700);
    let gw = Gw::start(config).await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(raw(gw.addr, HALF_HEADERS).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (status, body) = gw.cmd(json!(["PING"])).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "ERR too many connections, retry later"})
        )
    );
    assert!(started.elapsed() < Duration::from_millis(500));
    tokio::time::sleep(Duration::from_millis(800)).await;
    gw.assert_serves().await;
    drop(slow);
    gw.shutdown().await;
}

/// A connection stuck in its headers does not keep the gateway running after the shutdown
/// signal: it stops within the shutdown timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_connection_does_not_outlive_the_shutdown_timeout() {
    let mut config = Config::new(shared().url(), TOKEN);
    config.header_timeout = Duration::from_secs(60);
    config.body_timeout = Duration::from_secs(60);
    config.shutdown_timeout = Duration::from_millis(300);
    let mut gw = Gw::start(config).await;
    let _half_headers = raw(gw.addr, HALF_HEADERS).await;
    let head = format!(
        "POST / HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {TOKEN}\r\ncontent-length: 100\r\n\r\n["
    );
    let _half_body = raw(gw.addr, head.as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    gw.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), gw.served)
        .await
        .expect("stops despite the stuck connections")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// Request bytes held at once are capped across requests: while one large body is being
/// received, another that would pass the cap is 503, and it is served once the first is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bytes_in_flight_are_capped_across_requests() {
    use tokio::io::AsyncWriteExt;
    let mut config = Config::new(shared().url(), TOKEN);
    config.max_inflight_bytes = 1024 * 1024;
    let gw = Gw::start(config).await;
    let p = prefix("inflight");
    let head = format!(
        "POST /set/{p}:big HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {TOKEN}\r\ncontent-length: 900000\r\n\r\n"
    );
    let mut big = raw(gw.addr, head.as_bytes()).await;
    big.write_all(&vec![b'x'; 800_000]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = gw
        .post(&format!("/set/{p}:other"), vec![b'y'; 300_000])
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        error_of(&body),
        "ERR the gateway holds 1048576 bytes of requests already, retry later"
    );
    big.write_all(&vec![b'x'; 100_000]).await.unwrap();
    let mut answer = vec![0u8; 12];
    tokio::io::AsyncReadExt::read_exact(&mut big, &mut answer)
        .await
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    let (status, _) = gw
        .post(&format!("/set/{p}:other"), vec![b'y'; 300_000])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        gw.ok(json!(["STRLEN", format!("{p}:big")])).await,
        json!(900_000)
    );
    gw.shutdown().await;
}
