//! EVAL, EVALSHA and SCRIPT on Lua 5.1, with Redis's rules: `redis.call` raises and
//! `redis.pcall` returns error tables, replies convert between Lua and RESP as Redis
//! converts them, the globals are read-only, and errors read as Redis 7 writes them
//! (`ERR user_script:1: ... script: <sha>, on @user_script:1.`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value as LuaValue, VmState};

use super::command::{dispatch, Ctx, Spec, NOSCRIPT, WRITE};
use super::db::Db;
use super::pubsub::PubSub;
use super::reply::{bulk, fmt_g17, parse_i64, Fail, Reply};
use redkit_protocol::Value;

/// EVAL and friends run in [`Scripting::run`], which holds the Lua state; the table keeps
/// their arity and marks them as not callable from a script.
pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("eval", -3, WRITE | NOSCRIPT, not_here),
    Spec::new("evalsha", -3, WRITE | NOSCRIPT, not_here),
    Spec::new("eval_ro", -3, NOSCRIPT, not_here),
    Spec::new("evalsha_ro", -3, NOSCRIPT, not_here),
    Spec::new("script", -2, NOSCRIPT, not_here),
];

fn not_here(_: &mut Ctx<'_>, _: &[Vec<u8>]) -> Reply {
    Err(Fail::err("This Redis command is not allowed from script"))
}

/// Whether a command is one [`Scripting::run`] handles.
pub(crate) fn is_scripting(name: &[u8]) -> bool {
    ["eval", "evalsha", "eval_ro", "evalsha_ro", "script"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

/// The Lua side of the sandbox: read-only globals, the reply helpers, and the runner that
/// catches errors with the script line.
const PRELUDE: &str = r#"
local script_line = ...
local error, xpcall, tostring = error, xpcall, tostring
function redis.error_reply(msg) return {err = msg} end
function redis.status_reply(msg) return {ok = msg} end
local function run(f)
  local line = 0
  local ok, res = xpcall(f, function(e) line = script_line(); return e end)
  return ok, res, line
end
setmetatable(_G, {
  __index = function(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
})
return run
"#;

/// The error `redis.call` raises for an error reply. It is raised from Rust (not Lua) so
/// `return redis.call(...)`, a tail call, keeps the script's frame and so its line.
#[derive(Debug)]
struct CallFailed(String);

impl std::fmt::Display for CallFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for CallFailed {}

/// The [`CallFailed`] inside an error that went through Lua, if that is what it is.
fn call_failed(e: &mlua::Error) -> Option<&str> {
    match e {
        mlua::Error::CallbackError { cause, .. } => call_failed(cause),
        mlua::Error::ExternalError(inner) => {
            inner.downcast_ref::<CallFailed>().map(|c| c.0.as_str())
        }
        _ => None,
    }
}

/// The Lua state, the compiled scripts by SHA1, and the runner from [`PRELUDE`].
pub(crate) struct Scripting {
    lua: Lua,
    scripts: HashMap<String, Function>,
    run: Function,
    /// The `redis` table, where each run installs `call` and `pcall` bound to the keyspace.
    redis: Table,
    /// Unix ms after which the running script is stopped (0: none running).
    deadline: Arc<AtomicU64>,
    timeout: Duration,
}

fn lua_err(e: mlua::Error) -> Fail {
    Fail::err(format!("Error running script: {e}"))
}

impl Scripting {
    /// A fresh Lua state with Redis's libraries. Scripts that run longer than `timeout`
    /// are stopped (Redis would answer BUSY to everyone else meanwhile; here that would be
    /// a hang).
    pub fn new(timeout: Duration, memory_limit: usize) -> Result<Scripting, Fail> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )
        .map_err(lua_err)?;
        // A script that builds a huge string fails with an error instead of taking the
        // process down with a failed allocation.
        lua.set_memory_limit(memory_limit).map_err(lua_err)?;
        let deadline = Arc::new(AtomicU64::new(0));
        let watch = deadline.clone();
        lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(10_000),
            move |_, _| {
                let until = watch.load(Ordering::Relaxed);
                if until != 0 && crate::command::now_ms() > until {
                    return Err(mlua::Error::runtime(
                        "script timed out (the embedded engine's script_timeout)",
                    ));
                }
                Ok(VmState::Continue)
            },
        )
        .map_err(lua_err)?;
        let globals = lua.globals();
        for name in ["dofile", "loadfile", "print"] {
            globals.raw_set(name, LuaValue::Nil).map_err(lua_err)?;
        }
        super::lua_libs::install(&lua).map_err(lua_err)?;
        super::lua_msgpack::install(&lua).map_err(lua_err)?;
        let redis: Table = globals.get("redis").map_err(lua_err)?;
        // The line of the innermost frame of the user's script, for error messages.
        let script_line = lua
            .create_function(|lua, ()| {
                Ok((1..64)
                    .map_while(|level| {
                        lua.inspect_stack(level, |d| {
                            let user = d.source().short_src.as_deref() == Some("user_script");
                            d.current_line().filter(|_| user)
                        })
                    })
                    .flatten()
                    .next()
                    .unwrap_or(0))
            })
            .map_err(lua_err)?;
        let run: Function = lua
            .load(PRELUDE)
            .set_name("=redkit_prelude")
            .call(script_line)
            .map_err(lua_err)?;
        Ok(Scripting {
            lua,
            scripts: HashMap::new(),
            run,
            redis,
            deadline,
            timeout,
        })
    }

    /// Compile (once) and remember a script; its SHA1.
    fn load(&mut self, source: &[u8]) -> Result<String, Fail> {
        let sha = sha1_smol::Sha1::from(source).digest().to_string();
        if !self.scripts.contains_key(&sha) {
            let f = self
                .lua
                .load(source)
                .set_name("=user_script")
                .into_function()
                .map_err(|e| match e {
                    mlua::Error::SyntaxError { message, .. } => {
                        Fail::err(format!("Error compiling script (new function): {message}"))
                    }
                    other => lua_err(other),
                })?;
            self.scripts.insert(sha.clone(), f);
        }
        Ok(sha)
    }

    /// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.
    pub fn run(
        &mut self,
        db: &mut Db,
        pubsub: &mut PubSub,
        now_us: u64,
        args: &[Vec<u8>],
    ) -> Reply {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        if name == "script" {
            return self.script_cmd(args);
        }
        let sha = if name.starts_with("evalsha") {
            let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
            if !self.scripts.contains_key(&sha) {
                return Err(Fail("NOSCRIPT No matching script. Please use EVAL.".into()));
            }
            sha
        } else {
            self.load(&args[1])?
        };
        let numkeys = parse_i64(&args[2]).ok_or_else(super::reply::not_int)?;
        if numkeys < 0 {
            return Err(Fail::err("Number of keys can't be negative"));
        }
        let numkeys = numkeys as usize;
        if numkeys > args.len() - 3 {
            return Err(Fail::err(
                "Number of keys can't be greater than number of args",
            ));
        }
        let (keys, argv) = args[3..].split_at(numkeys);
        let f = self.scripts[&sha].clone();
        self.deadline.store(
            crate::command::now_ms() + self.timeout.as_millis() as u64,
            Ordering::Relaxed,
        );
        let result = self.call(db, pubsub, now_us, &f, keys, argv, &sha);
        self.deadline.store(0, Ordering::Relaxed);
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        db: &mut Db,
        pubsub: &mut PubSub,
        now_us: u64,
        f: &Function,
        keys: &[Vec<u8>],
        argv: &[Vec<u8>],
        sha: &str,
    ) -> Reply {
        let lua = &self.lua;
        let globals = lua.globals();
        let set_list = |name: &str, items: &[Vec<u8>]| -> mlua::Result<()> {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(item)?)?;
            }
            globals.raw_set(name, t)
        };
        set_list("KEYS", keys).map_err(lua_err)?;
        set_list("ARGV", argv).map_err(lua_err)?;
        let keyspace = RefCell::new((db, pubsub));
        // One command from the script: its reply, or the error reply's text.
        let exec = |args: MultiValue| -> Result<Value, Fail> {
            let parts = command_args(args)?;
            let mut guard = keyspace.borrow_mut();
            let (db, pubsub) = &mut *guard;
            dispatch(&mut Ctx::new(db, pubsub, now_us, true), &parts)
        };
        let outcome = lua.scope(|scope| {
            let call = scope.create_function(|lua, args: MultiValue| match exec(args) {
                Ok(v) => to_lua(lua, &v),
                Err(Fail(msg)) => Err(mlua::Error::external(CallFailed(msg))),
            })?;
            let pcall = scope.create_function(|lua, args: MultiValue| match exec(args) {
                Ok(v) => to_lua(lua, &v),
                Err(Fail(msg)) => to_lua(lua, &Value::Error(msg)),
            })?;
            self.redis.raw_set("call", call)?;
            self.redis.raw_set("pcall", pcall)?;
            let (ok, res, line): (bool, LuaValue, i64) = self.run.call(f.clone())?;
            Ok(if ok {
                Ok(from_lua(&res))
            } else {
                Err(error_text(&res, line, sha))
            })
        });
        match outcome.map_err(lua_err)? {
            Ok(Value::Error(msg)) => Err(Fail(msg)),
            Ok(v) => Ok(v),
            Err(msg) => Err(Fail(msg)),
        }
    }

    fn script_cmd(&mut self, args: &[Vec<u8>]) -> Reply {
        let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        match (sub.as_str(), args.len()) {
            ("load", 3) => Ok(bulk(self.load(&args[2])?)),
            ("exists", n) if n >= 3 => Ok(Value::Array(
                args[2..]
                    .iter()
                    .map(|s| {
                        let sha = String::from_utf8_lossy(s).to_ascii_lowercase();
                        Value::Int(self.scripts.contains_key(&sha) as i64)
                    })
                    .collect(),
            )),
            ("flush", 2 | 3) => {
                self.scripts.clear();
                super::reply::ok()
            }
            ("kill", 2) => Err(Fail("NOTBUSY No scripts in execution right now.".into())),
            ("load" | "exists" | "flush" | "kill", _) => Err(Fail::err(format!(
                "unknown subcommand or wrong number of arguments for '{sub}'. Try SCRIPT HELP."
            ))),
            _ => Err(Fail::err(format!(
                "unknown subcommand '{}'. Try SCRIPT HELP.",
                String::from_utf8_lossy(&args[1])
            ))),
        }
    }
}

/// The message of the error at the bottom of a chain of callback errors.
fn root_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => root_message(cause),
        mlua::Error::RuntimeError(msg) => msg.clone(),
        other => other.to_string(),
    }
}

/// The text of a failed script, as Redis 7 formats it.
fn error_text(res: &LuaValue, line: i64, sha: &str) -> String {
    let msg = match res {
        LuaValue::Table(t) => match t.raw_get::<LuaValue>("err") {
            Ok(LuaValue::String(s)) => s.to_string_lossy(),
            _ => "ERR unknown error".to_string(),
        },
        LuaValue::String(s) => format!("ERR {}", s.to_string_lossy()),
        LuaValue::Error(e) => match call_failed(e) {
            Some(msg) => msg.to_string(),
            // A library function (cjson, cmsgpack) or the timeout hook failed: Lua's C
            // libraries put the script position first, so this does too.
            None => format!("ERR user_script:{line}: {}", root_message(e)),
        },
        other => format!("ERR {other:?}"),
    };
    format!("{msg} script: {sha}, on @user_script:{line}.")
}

/// `redis.call` arguments: strings, or numbers printed as Redis prints them.
fn command_args(args: MultiValue) -> Result<Vec<Vec<u8>>, Fail> {
    if args.is_empty() {
        return Err(Fail::err(
            "Please specify at least one argument for this redis lib call",
        ));
    }
    args.into_iter()
        .map(|a| match a {
            LuaValue::String(s) => Ok(s.as_bytes().to_vec()),
            LuaValue::Integer(i) => Ok(i.to_string().into_bytes()),
            LuaValue::Number(n) => Ok(fmt_g17(n).into_bytes()),
            _ => Err(Fail::err(
                "Lua redis lib command arguments must be strings or integers",
            )),
        })
        .collect()
}

/// A reply as Lua sees it: nil is false, status is `{ok=...}`, an error is `{err=...}`.
fn to_lua(lua: &Lua, v: &Value) -> mlua::Result<LuaValue> {
    Ok(match v {
        Value::Nil => LuaValue::Boolean(false),
        Value::Int(i) => LuaValue::Integer(*i),
        Value::Bulk(b) => LuaValue::String(lua.create_string(b)?),
        Value::Status(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", s.as_str())?;
            LuaValue::Table(t)
        }
        Value::Error(e) => {
            let t = lua.create_table()?;
            t.raw_set("err", e.as_str())?;
            LuaValue::Table(t)
        }
        Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Map(pairs) => {
            let t = lua.create_table_with_capacity(pairs.len() * 2, 0)?;
            for (i, (k, val)) in pairs.iter().enumerate() {
                t.raw_set(2 * i + 1, to_lua(lua, k)?)?;
                t.raw_set(2 * i + 2, to_lua(lua, val)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Double(d) => LuaValue::Number(*d),
        Value::Bool(b) => LuaValue::Boolean(*b),
    })
}

/// A script's return value as a reply: numbers truncate to integers, false is nil, true
/// is 1, `{err=...}` and `{ok=...}` are error and status, arrays stop at the first nil.
fn from_lua(v: &LuaValue) -> Value {
    match v {
        LuaValue::Boolean(true) => Value::Int(1),
        LuaValue::Integer(i) => Value::Int(*i),
        LuaValue::Number(n) => Value::Int(*n as i64),
        LuaValue::String(s) => Value::Bulk(s.as_bytes().to_vec()),
        LuaValue::Table(t) => {
            if let Ok(LuaValue::String(e)) = t.raw_get::<LuaValue>("err") {
                return Value::Error(e.to_string_lossy());
            }
            if let Ok(LuaValue::String(s)) = t.raw_get::<LuaValue>("ok") {
                return Value::Status(s.to_string_lossy());
            }
            let mut out = Vec::new();
            for i in 1.. {
                match t.raw_get::<LuaValue>(i) {
                    Ok(LuaValue::Nil) | Err(_) => break,
                    Ok(item) => out.push(from_lua(&item)),
                }
            }
            Value::Array(out)
        }
        _ => Value::Nil,
    }
}
