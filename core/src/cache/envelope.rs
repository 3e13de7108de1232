//! The bytes stored under a cache key: a short ASCII header, then the payload.
//!
//! `v1:<fresh_until_ms>:<delta_ms>:<payload>` — `fresh_until_ms` is the server time after
//! which the entry is stale (it may still be served while `stale_ttl` lasts); `delta_ms`
//! is how long the loader took, which early refresh (XFetch) weighs. ASCII so the Lua
//! scripts can write and read it with plain string functions.

use crate::error::{Error, Result};

/// A decoded cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Server time (ms since the epoch) when the entry turns stale.
    pub fresh_until_ms: u64,
    /// How long the loader took to produce it, in ms.
    pub delta_ms: u64,
    /// The encoded value.
    pub payload: Vec<u8>,
}

const MAGIC: &[u8] = b"v1:";

impl Envelope {
    /// Parse stored bytes.
    pub fn decode(mut raw: Vec<u8>) -> Result<Envelope> {
        let bad = || Error::Decode("cache entry is not in redkit's v1 layout".into());
        if !raw.starts_with(MAGIC) {
            return Err(bad());
        }
        let mut pos = MAGIC.len();
        let mut field = |raw: &[u8]| -> Result<u64> {
            let end = raw[pos..].iter().position(|&b| b == b':').ok_or_else(bad)? + pos;
            let n = std::str::from_utf8(&raw[pos..end])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(bad)?;
            pos = end + 1;
            Ok(n)
        };
        let fresh_until_ms = field(&raw)?;
        let delta_ms = field(&raw)?;
        // Drop the header in place: no second allocation for the payload.
        raw.drain(..pos);
        Ok(Envelope {
            fresh_until_ms,
            delta_ms,
            payload: raw,
        })
    }

    /// Whether the entry is still fresh at `now_ms`.
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms < self.fresh_until_ms
    }

    /// XFetch (Vattani, Chierichetti, Lowenstein 2015): recompute early with a probability
    /// that rises as expiry nears and with how slow the loader is.
    /// `now - delta * beta * ln(rand()) >= expiry`, with `rand()` in (0, 1].
    pub fn should_refresh_early(&self, now_ms: u64, beta: f64, rand_unit: f64) -> bool {
        if beta <= 0.0 {
            return false;
        }
        let gap = -(self.delta_ms.max(1) as f64) * beta * rand_unit.ln();
        now_ms as f64 + gap >= self.fresh_until_ms as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_header_and_keeps_payload_bytes() {
        let e = Envelope::decode(b"v1:1700000000000:12:a:b\x00c".to_vec()).unwrap();
        assert_eq!(e.fresh_until_ms, 1_700_000_000_000);
        assert_eq!(e.delta_ms, 12);
        assert_eq!(e.payload, b"a:b\x00c");
    }

    #[test]
    fn rejects_foreign_values() {
        assert!(Envelope::decode(b"{\"a\":1}".to_vec()).is_err());
        assert!(Envelope::decode(b"v1:12".to_vec()).is_err());
        assert!(Envelope::decode(b"v1:x:1:".to_vec()).is_err());
    }

    #[test]
    fn xfetch_refreshes_only_near_expiry() {
        let e = Envelope {
            fresh_until_ms: 10_000,
            delta_ms: 100,
            payload: vec![],
        };
        // Far from expiry: even the unluckiest draw (ln(1e-9) ~ -20.7) stays short.
        assert!(!e.should_refresh_early(1_000, 1.0, 1e-9));
        // Right at expiry it always refreshes.
        assert!(e.should_refresh_early(10_000, 1.0, 0.5));
        // beta 0 turns it off.
        assert!(!e.should_refresh_early(9_999, 0.0, 1e-9));
        // 50 ms before expiry with delta 100: refresh iff -100*ln(r) >= 50, i.e. r <= e^-0.5.
        assert!(e.should_refresh_early(9_950, 1.0, 0.6));
        assert!(!e.should_refresh_early(9_950, 1.0, 0.7));
    }
}
