//! Key names. Every key of one pattern instance shares a hash tag —
//! `rk:{cache:users}:k:user:42` — so all of them live in one Redis Cluster slot and every
//! script that touches several of them runs unchanged on a cluster.

use crate::error::{Error, Result};

/// Builds the keys of one pattern instance (`{kind:name}` under a prefix).
#[derive(Debug, Clone)]
pub struct Keyspace {
    /// `rk:{cache:users}:` — everything up to the per-key part.
    base: String,
}

impl Keyspace {
    /// The keyspace of pattern `kind` named `name` under `prefix`.
    pub fn new(prefix: &str, kind: &str, name: &str) -> Result<Self> {
        check_name("name", name)?;
        Ok(Keyspace {
            base: format!("{prefix}:{{{kind}:{name}}}:"),
        })
    }

    /// `rk:{queue:emails}:`: what every key of the instance starts with (queue scripts
    /// get it as KEYS[1] and derive their keys from it).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base` + `part` + `:` + `id`, e.g. `rk:{cache:users}:k:user:42`.
    pub fn key(&self, part: &str, id: &str) -> String {
        let mut k = String::with_capacity(self.base.len() + part.len() + 1 + id.len());
        self.write_key(&mut k, part, id);
        k
    }

    /// [`Keyspace::key`] written into `buf` (cleared first), for a caller that reuses one
    /// buffer instead of allocating a key per call.
    pub fn write_key(&self, buf: &mut String, part: &str, id: &str) {
        buf.clear();
        buf.push_str(&self.base);
        buf.push_str(part);
        buf.push(':');
        buf.push_str(id);
    }
}

/// Names of pattern instances (cache namespaces, limiter and queue names) become part of a
/// hash tag: they must be non-empty and free of braces.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if name.contains(['{', '}']) {
        return Err(Error::invalid(format!(
            "{what} must not contain '{{' or '}}': {name:?}"
        )));
    }
    Ok(())
}

/// Per-entry identifiers (cache keys, tags, limiter identifiers) may hold anything but
/// must not be empty.
pub fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    Ok(())
}
