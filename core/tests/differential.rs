//! The same commands on a real redis-server and on the embedded engine; every reply and
//! every error text must be identical.

use redkit::{Client, Cmd, ConnectOptions, Transport, Value};

/// `{p}` in an argument is replaced by a per-run key prefix.
fn commands() -> Vec<Vec<&'static str>> {
    let eval = |src: &'static str, rest: &[&'static str]| {
        let mut v = vec!["EVAL", src];
        v.extend_from_slice(rest);
        v
    };
    vec![
        // strings
        vec!["SET", "{p}s", "v"],
        vec!["SET", "{p}s", "w", "NX"],
        vec!["SET", "{p}s", "w", "XX", "GET"],
        vec!["SET", "{p}s", "w", "NX", "XX"],
        vec!["SET", "{p}s", "w", "EX", "0"],
        vec!["SET", "{p}s", "w", "EX", "x"],
        vec!["SET", "{p}s", "w", "PX", "10", "KEEPTTL"],
        vec!["SET", "{p}s"],
        vec!["GET", "{p}s"],
        vec!["GET", "{p}missing"],
        vec!["GETDEL", "{p}s"],
        vec!["GETDEL", "{p}s"],
        vec!["MSET", "{p}a", "1", "{p}b", "2"],
        vec!["MSET", "{p}a", "1", "{p}b"],
        vec!["MGET", "{p}a", "{p}b", "{p}nope"],
        vec!["INCR", "{p}a"],
        vec!["INCRBY", "{p}a", "10"],
        vec!["DECRBY", "{p}a", "3"],
        vec!["INCRBY", "{p}a", "x"],
        vec!["INCRBYFLOAT", "{p}f", "10.5"],
        vec!["INCRBYFLOAT", "{p}f", "0.1"],
        vec!["INCRBYFLOAT", "{p}f", "x"],
        vec!["SET", "{p}max", "9223372036854775807"],
        vec!["INCR", "{p}max"],
        vec!["SETNX", "{p}a", "z"],
        vec!["APPEND", "{p}ap", "abc"],
        vec!["STRLEN", "{p}ap"],
        // keys and expiry
        vec!["EXISTS", "{p}a", "{p}b", "{p}zzz"],
        vec!["TYPE", "{p}a"],
        vec!["TTL", "{p}a"],
        vec!["PTTL", "{p}zzz"],
        vec!["EXPIRE", "{p}a", "100", "GT"],
        vec!["EXPIRE", "{p}a", "100", "NX"],
        vec!["TTL", "{p}a"],
        vec!["EXPIRE", "{p}a", "50", "GT"],
        vec!["EXPIRE", "{p}a", "50", "LT"],
        vec!["TTL", "{p}a"],
        vec!["EXPIRE", "{p}a", "10", "NX", "XX"],
        vec!["EXPIRE", "{p}a", "10", "GT", "LT"],
        vec!["EXPIRE", "{p}a", "x"],
        vec!["EXPIRE", "{p}a", "10", "foo"],
        vec!["PERSIST", "{p}a"],
        vec!["PERSIST", "{p}a"],
        vec!["TTL", "{p}a"],
        vec!["PEXPIRE", "{p}b", "-1"],
        vec!["EXISTS", "{p}b"],
        vec!["DEL", "{p}a", "{p}b", "{p}f"],
        vec!["NOSUCHCOMMAND", "x", "y"],
        vec!["GET"],
        // hashes
        vec!["HSET", "{p}h", "a", "1", "b", "2"],
        vec!["HSET", "{p}h", "a", "3"],
        vec!["HSET", "{p}h", "a"],
        vec!["HGET", "{p}h", "a"],
        vec!["HMGET", "{p}h", "a", "nope", "b"],
        vec!["HGETALL", "{p}h"],
        vec!["HINCRBY", "{p}h", "b", "5"],
        vec!["HINCRBY", "{p}h", "b", "x"],
        vec!["HINCRBYFLOAT", "{p}h", "c", "1.5"],
        vec!["HEXISTS", "{p}h", "a"],
        vec!["HLEN", "{p}h"],
        vec!["HDEL", "{p}h", "a", "nope"],
        vec!["HKEYS", "{p}h"],
        vec!["GET", "{p}h"],
        vec!["HGET", "{p}ap", "x"],
        // lists
        vec!["RPUSH", "{p}l", "a", "b", "c", "a"],
        vec!["LPUSH", "{p}l", "z"],
        vec!["LRANGE", "{p}l", "0", "-1"],
        vec!["LRANGE", "{p}l", "-3", "2"],
        vec!["LRANGE", "{p}l", "5", "1"],
        vec!["LLEN", "{p}l"],
        vec!["LREM", "{p}l", "1", "a"],
        vec!["LPOP", "{p}l"],
        vec!["RPOP", "{p}l", "2"],
        vec!["LPOP", "{p}l", "-1"],
        vec!["LPOP", "{p}nolist", "2"],
        vec!["LMOVE", "{p}l", "{p}l2", "LEFT", "RIGHT"],
        vec!["LMOVE", "{p}l", "{p}l2", "UP", "RIGHT"],
        vec!["EXISTS", "{p}l"],
        vec!["LRANGE", "{p}l2", "0", "-1"],
        vec!["BLPOP", "{p}l2", "x"],
        vec!["BLPOP", "{p}l2", "99999999999999999999"],
        vec!["LPUSH", "{p}ap", "x"],
        // sets
        vec!["SADD", "{p}set", "a", "b", "a"],
        vec!["SISMEMBER", "{p}set", "a"],
        vec!["SCARD", "{p}set"],
        vec!["SREM", "{p}set", "a", "zz"],
        vec!["SMEMBERS", "{p}set"],
        // sorted sets
        vec![
            "ZADD", "{p}z", "1", "a", "2", "b", "1.1", "c", "1e20", "d", "inf", "e",
        ],
        vec!["ZSCORE", "{p}z", "c"],
        vec!["ZSCORE", "{p}z", "d"],
        vec!["ZSCORE", "{p}z", "e"],
        vec!["ZSCORE", "{p}z", "nope"],
        vec!["ZADD", "{p}z", "CH", "GT", "0", "a", "3", "b"],
        vec!["ZADD", "{p}z", "NX", "XX", "1", "a"],
        vec!["ZADD", "{p}z", "GT", "LT", "1", "a"],
        vec!["ZADD", "{p}z", "INCR", "1", "a", "2", "b"],
        vec!["ZADD", "{p}z", "INCR", "2.5", "a"],
        vec!["ZADD", "{p}z", "x", "a"],
        vec!["ZADD", "{p}z", "NX", "1"],
        vec!["ZADD", "{p}z", "XX", "INCR", "1", "nope"],
        vec!["ZINCRBY", "{p}z", "-1.5", "b"],
        vec!["ZINCRBY", "{p}z", "-inf", "e"],
        vec!["ZCARD", "{p}z"],
        vec!["ZCOUNT", "{p}z", "(1", "+inf"],
        vec!["ZCOUNT", "{p}z", "x", "1"],
        vec!["ZRANGE", "{p}z", "0", "-1", "WITHSCORES"],
        vec!["ZRANGE", "{p}z", "0", "1", "REV"],
        vec!["ZRANGE", "{p}z", "(1", "3", "BYSCORE", "WITHSCORES"],
        vec![
            "ZRANGE", "{p}z", "+inf", "1", "BYSCORE", "REV", "LIMIT", "1", "2",
        ],
        vec!["ZRANGE", "{p}z", "0", "1", "LIMIT", "0", "1"],
        vec!["ZRANGEBYSCORE", "{p}z", "-inf", "+inf", "LIMIT", "1", "-1"],
        vec![
            "ZREVRANGEBYSCORE",
            "{p}z",
            "+inf",
            "-inf",
            "WITHSCORES",
            "LIMIT",
            "0",
            "2",
        ],
        vec!["ZRANK", "{p}z", "b"],
        vec!["ZREVRANK", "{p}z", "b"],
        vec!["ZRANK", "{p}z", "nope"],
        vec!["ZREM", "{p}z", "a", "nope"],
        vec!["ZREMRANGEBYSCORE", "{p}z", "0", "(2"],
        vec!["ZREMRANGEBYRANK", "{p}z", "-1", "-1"],
        vec!["ZPOPMIN", "{p}z"],
        vec!["ZPOPMIN", "{p}z", "5"],
        vec!["ZPOPMIN", "{p}z"],
        vec!["BZPOPMIN", "{p}z", "-1"],
        vec!["ZADD", "{p}ap", "1", "a"],
        // streams
        vec!["XADD", "{p}x", "1-1", "f", "v"],
        vec!["XADD", "{p}x", "1-*", "f", "w"],
        vec!["XADD", "{p}x", "1-0", "f", "v"],
        vec!["XADD", "{p}x2", "0-0", "f", "v"],
        vec!["XADD", "{p}x", "5-0", "f"],
        vec!["XADD", "{p}x", "bad", "f", "v"],
        vec!["XADD", "{p}x", "MAXLEN", "2", "7-0", "a", "b"],
        vec!["XLEN", "{p}x"],
        vec!["XRANGE", "{p}x", "-", "+"],
        vec!["XREVRANGE", "{p}x", "+", "-", "COUNT", "1"],
        vec!["XRANGE", "{p}x", "(1-2", "+"],
        vec!["XREAD", "COUNT", "1", "STREAMS", "{p}x", "0"],
        vec!["XREAD", "STREAMS", "{p}x", "$"],
        vec!["XREAD", "STREAMS", "{p}x"],
        vec!["XTRIM", "{p}x", "MAXLEN", "1"],
        vec!["XDEL", "{p}x", "7-0"],
        vec!["XLEN", "{p}x"],
        // stream consumer groups (idle times are left out: they differ by timing)
        vec!["XGROUP", "CREATE", "{p}g", "grp", "$"],
        vec!["XGROUP", "CREATE", "{p}g", "grp", "$", "MKSTREAM"],
        vec!["XGROUP", "CREATE", "{p}g", "grp", "$"],
        vec!["XADD", "{p}g", "1-1", "a", "1"],
        vec!["XADD", "{p}g", "2-1", "b", "2"],
        vec![
            "XREADGROUP",
            "GROUP",
            "grp",
            "c1",
            "COUNT",
            "1",
            "STREAMS",
            "{p}g",
            ">",
        ],
        vec!["XREADGROUP", "GROUP", "nog", "c1", "STREAMS", "{p}g", ">"],
        vec!["XREADGROUP", "GROUP", "grp", "c1", "STREAMS", "{p}g", "0"],
        vec!["XREADGROUP", "GROUP", "grp", "c1", "STREAMS", "{p}g"],
        vec!["XPENDING", "{p}g", "grp"],
        vec!["XACK", "{p}g", "grp", "1-1", "9-9"],
        vec!["XPENDING", "{p}g", "grp"],
        vec!["XREADGROUP", "GROUP", "grp", "c2", "STREAMS", "{p}g", ">"],
        vec!["XREADGROUP", "GROUP", "grp", "c2", "STREAMS", "{p}g", ">"],
        vec!["XPENDING", "{p}g", "grp"],
        vec!["XCLAIM", "{p}g", "grp", "c3", "0", "2-1", "JUSTID"],
        vec!["XAUTOCLAIM", "{p}g", "grp", "c4", "0", "0"],
        vec!["XGROUP", "DELCONSUMER", "{p}g", "grp", "c4"],
        vec!["XGROUP", "CREATECONSUMER", "{p}g", "grp", "c9"],
        vec!["XGROUP", "SETID", "{p}g", "grp", "0"],
        vec!["XGROUP", "DESTROY", "{p}g", "grp"],
        vec!["XACK", "{p}g", "nog", "1-1"],
        vec!["XPENDING", "{p}g", "nog"],
        vec!["XGROUP", "SETID", "{p}g", "grp", "0"],
        vec!["XGROUP", "CREATE", "{p}nostream", "grp", "0"],
        vec!["XGROUP", "FOO", "{p}g"],
        // scripting: conversions
        eval("return {1, 2, nil, 3}", &["0"]),
        eval("return 3.99", &["0"]),
        eval("return -3.5", &["0"]),
        eval("return true", &["0"]),
        eval("return false", &["0"]),
        eval("return nil", &["0"]),
        eval("return", &["0"]),
        eval("return {ok='FINE'}", &["0"]),
        eval("return redis.status_reply('X')", &["0"]),
        eval("return {'a', {1, {ok='S'}, false}, 'c'}", &["0"]),
        eval("return redis.call('get', KEYS[1])", &["1", "{p}missing"]),
        eval(
            "return type(redis.call('get', KEYS[1]))",
            &["1", "{p}missing"],
        ),
        eval(
            "return redis.call('set', KEYS[1], ARGV[1])",
            &["1", "{p}k", "v"],
        ),
        eval("return redis.call('set', KEYS[1], 0.1)", &["1", "{p}k"]),
        vec!["GET", "{p}k"],
        eval("return redis.call('set', KEYS[1], 1e20)", &["1", "{p}k"]),
        vec!["GET", "{p}k"],
        eval("return redis.call('ping')", &["0"]),
        eval("return redis.call('hgetall', KEYS[1])", &["1", "{p}h"]),
        eval(
            "return {KEYS[1], ARGV[1], ARGV[2], #ARGV}",
            &["1", "{p}k", "x", "y"],
        ),
        eval("return redis.sha1hex('')", &["0"]),
        eval("return cjson.encode({a=1})", &["0"]),
        eval("return cjson.encode({1, 2.5, 'x/y', {}, true})", &["0"]),
        eval("return cjson.encode({[1]=1,[3]=3})", &["0"]),
        eval("return cjson.encode(0.1)", &["0"]),
        eval("return cjson.decode('[1,null,3]')[2] == cjson.null", &["0"]),
        eval("return cjson.decode('{\"a\":[5,6]}').a[2]", &["0"]),
        eval(
            "local r = redis.pcall('incr', KEYS[1]); return r.err",
            &["1", "{p}h"],
        ),
        eval("return redis.pcall('incr', KEYS[1])", &["1", "{p}h"]),
        eval("return cmsgpack.pack(1, -1, 127, 128, -32, -33, 300, -300, 70000, -70000, 2^40, -2^40)", &["0"]),
        eval("return cmsgpack.pack(1.5, 0.1, -2.25, 'abc', string.rep('x', 40), string.rep('y', 300))", &["0"]),
        eval("return cmsgpack.pack(true, false, {1, 2, 3}, {a = 1}, {}, {{1}, {b = {2}}})", &["0"]),
        eval("local t = cmsgpack.unpack(cmsgpack.pack({a = {1, 2.5}, b = 'x'})); return {t.a[1], tostring(t.a[2]), t.b}", &["0"]),
        eval("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', 3))}", &["0"]),
        eval("return cmsgpack.unpack(ARGV[1])", &["0", "\u{13}\u{1}\u{2}"]),
        eval("return {cmsgpack.unpack(ARGV[1])}", &["0", "\u{92}\u{1}"]),
        eval("return {bit.band(12, 10), bit.bor(12, 10), bit.bxor(12, 10), bit.bnot(0), bit.tobit(2^32 + 5)}", &["0"]),
        eval("return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-16, 2), bit.rol(1, 33), bit.ror(1, 1)}", &["0"]),
        eval("return {bit.tohex(255), bit.tohex(-1, -4), bit.tohex(4096, 2), bit.bswap(1), bit.band(7, 6, 3)}", &["0"]),
        eval("return tostring(0.1)", &["0"]),
        eval("return string.format('%d:%s', 42, 'x')", &["0"]),
        eval("return math.floor(7.9)", &["0"]),
        eval("return table.concat({'a','b'}, ',')", &["0"]),
        eval("return redis.call('zscore', KEYS[1], 'x')", &["1", "{p}z3"]),
        // scripting: errors
        eval("return redis.call('incr', KEYS[1])", &["1", "{p}h"]),
        eval("return redis.call('lpush', KEYS[1], 'x')", &["1", "{p}h"]),
        eval(
            "\nlocal x = 1\nreturn redis.call('incr', KEYS[1])",
            &["1", "{p}h"],
        ),
        eval("error('boom')", &["0"]),
        eval("return foo.x", &["0"]),
        eval("x = 1", &["0"]),
        eval("return redis.error_reply('INVALID x y')", &["0"]),
        eval("return {err='MY bad'}", &["0"]),
        eval("error({err='MY table'})", &["0"]),
        eval("return redis.call('nosuch')", &["0"]),
        eval("return redis.call()", &["0"]),
        eval("return redis.call('get', {})", &["0"]),
        eval("return redis.call('eval', 'return 1', 0)", &["0"]),
        eval("syntax error here", &["0"]),
        eval("return 1", &["1"]),
        eval("return 1", &["-1"]),
        eval("return 1", &["x"]),
        vec!["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        vec!["SCRIPT", "LOAD", "return 'loaded'"],
        vec!["EVALSHA", "ee7ae2a3f7ac0d13d9bd1c03c40c3fc8a4e1e2a6", "0"],
        vec![
            "SCRIPT",
            "EXISTS",
            "ee7ae2a3f7ac0d13d9bd1c03c40c3fc8a4e1e2a6",
            "ffffffffffffffffffffffffffffffffffffffff",
        ],
        vec!["SCRIPT", "NOPE"],
        vec!["PUBLISH", "{p}chan", "hello"],
        vec!["PING"],
        vec!["PING", "hi"],
        vec!["ECHO", "e"],
    ]
}

fn render(r: redkit::Result<Value>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("{:?}: {e}", e.kind()),
    }
}

#[tokio::test]
async fn engine_replies_match_redis_server() {
    let prefix = redkit_testkit::prefix("diff");
    let redis = Client::connect_with(
        &redkit_testkit::shared().url(),
        ConnectOptions {
            prefix: prefix.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let engine = redkit::Engine::new().unwrap();
    let mut mismatches = Vec::new();
    for cmd in commands() {
        let parts: Vec<String> = cmd.iter().map(|a| a.replace("{p}", &prefix)).collect();
        let build = || {
            parts[1..]
                .iter()
                .fold(Cmd::new(&parts[0]), |c, a| c.arg(a.as_str()))
        };
        let want = render(redis.transport().send(build()).await);
        let got = render(engine.send(build()).await);
        if want != got {
            mismatches.push(format!("{parts:?}\n  redis:    {want}\n  embedded: {got}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
