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
        let (fresh_until_ms, delta_ms, header_len) = header(&raw)
            .ok_or_else(|| Error::Decode("cache entry is not in redkit's v1 layout".into()))?;
        // Drop the header in place: no second allocation for the payload.
        raw.drain(..header_len);
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

/// The two numbers of a `v1:<fresh>:<delta>:` header and the header's length.
fn header(raw: &[u8]) -> Option<(u64, u64, usize)> {
    let rest = raw.strip_prefix(MAGIC)?;
    let (fresh, fresh_len) = number(rest)?;
    let (delta, delta_len) = number(&rest[fresh_len..])?;
    Some((fresh, delta, MAGIC.len() + fresh_len + delta_len))
}

/// A decimal number of 1 to 19 digits (any fits a u64; digits only, as the scripts write
/// and read it) ended by `:`, and the bytes it took with the `:`. By hand: it runs on every
/// hit, and going through `str` (UTF-8 check, then `parse`) cost several times more.
fn number(s: &[u8]) -> Option<(u64, usize)> {
    let len = s.iter().position(|&b| b == b':')?;
    if len == 0 || len > 19 {
        return None;
    }
    let mut n = 0u64;
    for &b in &s[..len] {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    Some((n, len + 1))
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
        assert_eq!(Envelope::decode(b"v1:5:0:".to_vec()).unwrap().payload, b"");
    }

    #[test]
    fn rejects_foreign_values() {
        assert!(Envelope::decode(b"{\"a\":1}".to_vec()).is_err());
        assert!(Envelope::decode(b"v1:12".to_vec()).is_err());
        assert!(Envelope::decode(b"v1:x:1:".to_vec()).is_err());
        assert!(Envelope::decode(b"v1::1:".to_vec()).is_err());
        assert!(Envelope::decode(b"v1:1:-1:".to_vec()).is_err());
        assert!(Envelope::decode(b"v1:99999999999999999999:1:".to_vec()).is_err());
        assert!(Envelope::decode(b"v1:1:2".to_vec()).is_err());
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
