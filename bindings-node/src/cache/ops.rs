//! The everyday cache operations of the native cache (`getMany`, `setMany`, `exists`,
//! `ttl`, `touch`, `incr`, `clear`) as plain functions, and `stats()`. Each operation
//! takes its [`Start`] first and returns at once (see `Completions::start`); results cross
//! as JSON text (lists, numbers, booleans) or, for `getManyBytes`, as one framed buffer,
//! so the completion queue needs no new kind of outcome.

use napi::bindgen_prelude::{Buffer, Object};
use napi::Env;
use napi_derive::napi;

use super::{text, NativeCache};
use crate::completion::{Outcome, Start};
use crate::functions::{arg, opt_arg, string_arg, Functions, Made};
use crate::options::{duration, set_options, Js};

/// A cache's counters (`cache.stats()`), camelCase in JS.
#[napi(object)]
pub struct CacheStats {
    /// Reads answered with a fresh value.
    pub hits: f64,
    /// Reads that found no fresh value.
    pub misses: f64,
    /// `getOrSet` calls answered with a stale value.
    pub stale_serves: f64,
    /// Of the hits, those served from the near cache.
    pub near_hits: f64,
    /// Times a loader was called.
    pub loader_calls: f64,
    /// Failed calls (not bad input) and answers `failSafe` made without Redis.
    pub errors: f64,
}

/// A result as JSON text: a number, a boolean.
fn json(value: impl ToString) -> Outcome {
    Outcome::Ascii(value.to_string().into_bytes())
}

/// The values of `getMany` as one JSON array text: each payload is JSON text already.
fn json_list(values: Vec<Option<Vec<u8>>>) -> redkit::Result<Outcome> {
    let mut out = Vec::with_capacity(2 + values.iter().flatten().map(Vec::len).sum::<usize>());
    out.push(b'[');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(value.as_deref().unwrap_or(b"null"));
    }
    out.push(b']');
    text(out)
}

/// The values of `getManyBytes` framed in one buffer: per value a little-endian u32 length
/// (`0xFFFFFFFF` for a miss), then its bytes (see `decodeFrames` in cache.js).
fn frames(values: Vec<Option<Vec<u8>>>) -> redkit::Result<Outcome> {
    let mut out = Vec::new();
    for value in values {
        match value {
            Some(v) => {
                let len = u32::try_from(v.len())
                    .ok()
                    .filter(|&n| n != u32::MAX)
                    .ok_or_else(|| redkit::Error::Decode("a cached value is too large".into()))?;
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&v);
            }
            None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
        }
    }
    Ok(Outcome::Bytes(out))
}

impl NativeCache {
    fn get_many(
        &self,
        env: &Env,
        op: Start,
        keys: Js,
        done: fn(Vec<Option<Vec<u8>>>) -> redkit::Result<Outcome>,
    ) -> napi::Result<Made> {
        let keys = keys.texts("keys")?;
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            done(cache.get_many_bytes(&refs).await?)
        })
    }

    fn set_many(
        &self,
        env: &Env,
        op: Start,
        keys: Js,
        values: Vec<Vec<u8>>,
        opts: Option<Js>,
    ) -> napi::Result<Made> {
        let keys = keys.texts("keys")?;
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            let opts = set_options(opts)?;
            let entries: Vec<(&str, &[u8])> = keys
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(Vec::as_slice))
                .collect();
            cache.set_many_bytes(&entries, &opts).await?;
            Ok(Outcome::Unit)
        })
    }
}

#[napi]
impl NativeCache {
    /// The everyday operations as plain functions, each taking its [`Start`] first.
    #[napi(
        catch_unwind,
        ts_return_type = "{ getManyText(op: number, keys: string[]): unknown; getManyBytes(op: number, keys: string[]): unknown; setManyText(op: number, keys: string[], values: string[], opts?: unknown): unknown; setManyBytes(op: number, keys: string[], values: Buffer[], opts?: unknown): unknown; exists(op: number, key: string): unknown; ttl(op: number, key: string): unknown; touch(op: number, key: string, ttl: unknown): unknown; incr(op: number, key: string, by?: unknown, opts?: unknown): unknown; clear(op: number): unknown }"
    )]
    pub fn ops<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let c = || self.clone();
        let (c1, c2, c3, c4, c5, c6, c7, c8, c9) = (c(), c(), c(), c(), c(), c(), c(), c(), c());
        Ok(Functions::new(env)?
            .add("getManyText", move |x| {
                c1.get_many(x.env, arg(x, 0)?, arg(x, 1)?, json_list)
            })?
            .add("getManyBytes", move |x| {
                c2.get_many(x.env, arg(x, 0)?, arg(x, 1)?, frames)
            })?
            .add("setManyText", move |x| {
                let values: Js = arg(x, 2)?;
                let values = values.texts("values")?.into_iter().map(String::into_bytes);
                c3.set_many(
                    x.env,
                    arg(x, 0)?,
                    arg(x, 1)?,
                    values.collect(),
                    opt_arg(x, 3)?,
                )
            })?
            .add("setManyBytes", move |x| {
                let values: Vec<Buffer> = arg(x, 2)?;
                let values = values.iter().map(|b| b.to_vec()).collect();
                c4.set_many(x.env, arg(x, 0)?, arg(x, 1)?, values, opt_arg(x, 3)?)
            })?
            .add("exists", move |x| {
                let (cache, key) = (c5.inner.clone(), string_arg(x, 1)?);
                c5.completions.start(x.env, arg(x, 0)?, async move {
                    Ok(json(cache.exists(&key).await?))
                })
            })?
            .add("ttl", move |x| {
                let (cache, key) = (c6.inner.clone(), string_arg(x, 1)?);
                c6.completions.start(x.env, arg(x, 0)?, async move {
                    Ok(match cache.ttl(&key).await? {
                        Some(left) => json(left.as_millis()),
                        None => Outcome::Null,
                    })
                })
            })?
            .add("touch", move |x| {
                let (cache, key, ttl) = (c7.inner.clone(), string_arg(x, 1)?, arg(x, 2)?);
                c7.completions.start(x.env, arg(x, 0)?, async move {
                    let ttl = duration("ttl", ttl)?;
                    Ok(json(cache.touch(&key, ttl).await?))
                })
            })?
            .add("incr", move |x| {
                let (cache, key) = (c8.inner.clone(), string_arg(x, 1)?);
                let by: Option<Js> = opt_arg(x, 2)?;
                let opts: Option<Js> = opt_arg(x, 3)?;
                c8.completions.start(x.env, arg(x, 0)?, async move {
                    let by = redkit::cache::incr_amount(by.map_or(redkit::Input::Null, Js::input))?;
                    let ttl = redkit::cache::incr_ttl(set_options(opts)?)?;
                    Ok(json(cache.incr(&key, by, ttl).await?))
                })
            })?
            .add("clear", move |x| {
                let cache = c9.inner.clone();
                c9.completions.start(
                    x.env,
                    arg(x, 0)?,
                    async move { Ok(json(cache.clear().await?)) },
                )
            })?
            .finish())
    }

    /// What this cache did since it was made: hits, misses, stale serves, near hits,
    /// loader calls, errors.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> CacheStats {
        let s = self.inner.stats();
        CacheStats {
            hits: s.hits as f64,
            misses: s.misses as f64,
            stale_serves: s.stale_serves as f64,
            near_hits: s.near_hits as f64,
            loader_calls: s.loader_calls as f64,
            errors: s.errors as f64,
        }
    }
}
