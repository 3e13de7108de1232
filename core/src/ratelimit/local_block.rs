//! `local_block`: identifiers Redis denied, remembered in this process until their retry
//! time, so a client hammering while blocked costs no round trip.

use std::collections::HashMap;
use std::sync::Mutex;

/// Past this many entries, expired ones are swept; if none are, new blocks are not
/// remembered (the limiter stays correct, it only makes the round trip).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Block {
    /// Wall-clock ms when a request of `cost` may be allowed again.
    until_ms: u64,
    /// The cost that was denied: a smaller request might fit earlier, so it still asks.
    cost: i64,
    /// The limit and reset time Redis reported, replayed in local answers.
    limit: u64,
    reset_at_ms: u64,
}

/// What a local denial answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Denial {
    pub limit: u64,
    pub reset_after_ms: u64,
    pub retry_after_ms: u64,
}

/// The in-process block list of one limiter.
#[derive(Debug, Default)]
pub(crate) struct LocalBlock {
    blocks: Mutex<HashMap<String, Block>>,
}

impl LocalBlock {
    /// Whether `identifier` is blocked for a request of `cost` at `now_ms`.
    pub fn check(&self, identifier: &str, cost: i64, now_ms: u64) -> Option<Denial> {
        let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        let block = *blocks.get(identifier)?;
        if now_ms >= block.until_ms {
            blocks.remove(identifier);
            return None;
        }
        (cost >= block.cost).then(|| Denial {
            limit: block.limit,
            reset_after_ms: block.reset_at_ms.saturating_sub(now_ms),
            retry_after_ms: block.until_ms - now_ms,
        })
    }

    /// Remember that Redis denied `identifier` a request of `cost` at `now_ms`.
    pub fn block(&self, identifier: &str, cost: i64, now_ms: u64, denial: Denial) {
        if denial.retry_after_ms == 0 {
            return;
        }
        let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        if blocks.len() >= MAX_ENTRIES && !blocks.contains_key(identifier) {
            blocks.retain(|_, b| b.until_ms > now_ms);
            if blocks.len() >= MAX_ENTRIES {
                return;
            }
        }
        blocks.insert(
            identifier.to_string(),
            Block {
                until_ms: now_ms + denial.retry_after_ms,
                cost,
                limit: denial.limit,
                reset_at_ms: now_ms + denial.reset_after_ms,
            },
        );
    }

    /// Forget `identifier` (after `reset`, or once Redis allowed it).
    pub fn forget(&self, identifier: &str) {
        self.blocks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(identifier);
    }

    /// How many identifiers are remembered (expired ones included until swept).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.blocks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(limit: u64, reset_after_ms: u64, retry_after_ms: u64) -> Denial {
        Denial {
            limit,
            reset_after_ms,
            retry_after_ms,
        }
    }

    #[test]
    fn blocks_until_retry_time_for_equal_or_larger_costs() {
        let lb = LocalBlock::default();
        lb.block("a", 2, 1_000, d(10, 900, 500));
        assert_eq!(
            lb.check("a", 2, 1_100),
            Some(Denial {
                limit: 10,
                reset_after_ms: 800,
                retry_after_ms: 400
            })
        );
        assert!(lb.check("a", 3, 1_100).is_some());
        assert_eq!(
            lb.check("a", 1, 1_100),
            None,
            "a smaller cost may fit earlier"
        );
        assert_eq!(lb.check("b", 5, 1_100), None);
        assert_eq!(lb.check("a", 2, 1_500), None, "expired at the retry time");
        assert_eq!(lb.len(), 0, "expired entries are dropped when seen");
    }

    #[test]
    fn forget_and_zero_retry() {
        let lb = LocalBlock::default();
        lb.block("a", 1, 0, d(1, 10, 0));
        assert_eq!(lb.len(), 0, "nothing to remember without a retry time");
        lb.block("a", 1, 0, d(1, 10, 10));
        lb.forget("a");
        assert_eq!(lb.check("a", 1, 1), None);
    }

    #[test]
    fn bounded() {
        let lb = LocalBlock::default();
        for i in 0..MAX_ENTRIES {
            lb.block(&i.to_string(), 1, 0, d(1, 10, 10));
        }
        lb.block("late", 1, 5, d(1, 10, 10));
        assert_eq!(
            lb.check("late", 1, 6),
            None,
            "full of live blocks: not remembered"
        );
        lb.block("later", 1, 20, d(1, 10, 10));
        assert!(
            lb.check("later", 1, 21).is_some(),
            "expired ones were swept to make room"
        );
        assert_eq!(lb.len(), 1);
    }
}
