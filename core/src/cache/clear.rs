//! `clear()`: forget every entry of a namespace, in bounded steps.
//!
//! The entries are found with `SCAN MATCH <prefix>:{cache:<ns>}:k:*` (never KEYS) and
//! removed with UNLINK, each batch's UNLINK travelling in one pipeline with the next SCAN.
//! Each step costs Redis at most one SCAN page and one batch of deletes, so other clients
//! are never held up behind a large namespace. A hit stays one GET: nothing is added to
//! the read path (a namespace generation read on every hit would be). On Redis Cluster the
//! namespace lives in one slot (its hash tag), so the scan has one node to visit.
//!
//! An entry written while `clear()` runs may or may not survive it; every entry that
//! existed before the call and was not rewritten during it is gone when it returns. A
//! near cache of the namespace on this client is emptied; other processes' near caches
//! hear of each delete through their key tracking.

use super::Cache;
use crate::error::{Error, Result};
use crate::value::{Cmd, Value};

/// Keys asked of each SCAN step (a hint to Redis, which may return more or fewer).
const PAGE: u32 = 1000;

impl Cache {
    /// Delete every entry of the namespace; returns how many were deleted. Bounded work per
    /// step (one SCAN page, one UNLINK of what it found); see [`clear`](self).
    pub async fn clear(&self) -> Result<u64> {
        let result = self.clear_entries().await;
        if let Some(near) = self.near_for_writes() {
            // Reads that began before now are not kept either (the store's generation moves).
            near.clear();
        }
        self.inner.stats.count(result)
    }

    async fn clear_entries(&self) -> Result<u64> {
        let pattern = format!("{}*", glob_escape(&self.inner.entry_prefix));
        let transport = self.inner.client.transport();
        let scan = |cursor: &str| {
            Cmd::new("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern.as_str())
                .arg("COUNT")
                .arg(PAGE)
        };
        let mut cursor = "0".to_string();
        let mut found: Vec<Vec<u8>> = Vec::new();
        let mut deleted = 0u64;
        loop {
            let mut replies = if found.is_empty() {
                vec![transport.send(scan(&cursor)).await?]
            } else {
                let unlink = Cmd::new("UNLINK").args(std::mem::take(&mut found));
                transport.pipeline(vec![unlink, scan(&cursor)]).await?
            };
            let page = replies.pop().ok_or_else(|| short("SCAN"))?;
            if let Some(unlinked) = replies.pop() {
                deleted += count(unlinked)?;
            }
            let mut page = reply_ok(page)?.into_array()?.into_iter();
            cursor = page
                .next()
                .ok_or_else(|| short("SCAN"))?
                .into_string()?
                .ok_or_else(|| short("SCAN"))?;
            found = page
                .next()
                .ok_or_else(|| short("SCAN"))?
                .into_array()?
                .into_iter()
                .filter_map(|k| k.into_bytes().ok().flatten())
                .collect();
            if cursor == "0" {
                break;
            }
        }
        if !found.is_empty() {
            deleted += count(transport.send(Cmd::new("UNLINK").args(found)).await?)?;
        }
        Ok(deleted)
    }
}

/// A pipelined reply, its error slot turned into an error.
fn reply_ok(v: Value) -> Result<Value> {
    match v {
        Value::Error(msg) => Err(Error::Server(msg)),
        v => Ok(v),
    }
}

fn count(v: Value) -> Result<u64> {
    Ok(reply_ok(v)?.as_int()?.max(0) as u64)
}

fn short(what: &str) -> Error {
    Error::Decode(format!("{what} answered an unexpected reply"))
}

/// `text` as a SCAN MATCH pattern matching only itself: the glob's special characters
/// (which a prefix or namespace may hold) escaped.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_escape_leaves_only_literal_characters() {
        assert_eq!(
            super::glob_escape("rk:{cache:a*b}:k:"),
            "rk:{cache:a\\*b}:k:"
        );
        assert_eq!(super::glob_escape("p?[x]\\"), "p\\?\\[x\\]\\\\");
    }
}
