//! The sorted set: members ordered by (score, member bytes), as Redis orders them.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

/// A score with a total order (scores are never NaN: every write path refuses it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Score(pub f64);

impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal)
    }
}

/// One end of a score range: `5`, `(5` (exclusive), `-inf`, `+inf`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

impl ScoreBound {
    fn admits_low(&self, s: f64) -> bool {
        if self.exclusive {
            s > self.value
        } else {
            s >= self.value
        }
    }
    fn admits_high(&self, s: f64) -> bool {
        if self.exclusive {
            s < self.value
        } else {
            s <= self.value
        }
    }
}

/// A sorted set.
#[derive(Debug, Clone, Default)]
pub(crate) struct ZSet {
    scores: HashMap<Vec<u8>, f64>,
    order: BTreeSet<(Score, Vec<u8>)>,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.scores.len()
    }
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Add or move a member; true when it was added.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        match self.scores.insert(member.to_vec(), score) {
            Some(old) => {
                self.order.remove(&(Score(old), member.to_vec()));
                self.order.insert((Score(score), member.to_vec()));
                false
            }
            None => {
                self.order.insert((Score(score), member.to_vec()));
                true
            }
        }
    }

    /// Remove a member; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.scores.remove(member) {
            Some(old) => {
                self.order.remove(&(Score(old), member.to_vec()));
                true
            }
            None => false,
        }
    }

    /// 0-based rank in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.order.range(..(Score(score), member.to_vec())).count())
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.order.iter().map(|(s, m)| (m.as_slice(), s.0))
    }

    /// Members with scores inside `[min, max]` (each end possibly exclusive), ascending.
    pub fn range_by_score(
        &self,
        min: ScoreBound,
        max: ScoreBound,
    ) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        let start = (Score(min.value), Vec::new());
        self.order
            .range((Bound::Included(start), Bound::Unbounded))
            .map(|(s, m)| (m.as_slice(), s.0))
            .skip_while(move |(_, s)| !min.admits_low(*s))
            .take_while(move |(_, s)| max.admits_high(*s))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// Remove and return the lowest (or highest) member.
    pub fn pop(&mut self, highest: bool) -> Option<(Vec<u8>, f64)> {
        let (s, m) = if highest {
            self.order.pop_last()?
        } else {
            self.order.pop_first()?
        };
        self.scores.remove(&m);
        Some((m, s.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_score_then_member() {
        let mut z = ZSet::default();
        z.insert(b"b", 1.0);
        z.insert(b"a", 1.0);
        z.insert(b"c", 0.5);
        let members: Vec<_> = z.iter().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(members, vec![b"c".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(z.rank(b"b"), Some(2));
        assert!(!z.insert(b"c", 2.0));
        assert_eq!(z.rank(b"c"), Some(2));
    }

    #[test]
    fn score_ranges_honour_exclusive_ends() {
        let mut z = ZSet::default();
        for (i, m) in [b"a", b"b", b"c"].iter().enumerate() {
            z.insert(*m, i as f64);
        }
        let lo = ScoreBound {
            value: 0.0,
            exclusive: true,
        };
        let hi = ScoreBound {
            value: 2.0,
            exclusive: false,
        };
        let got: Vec<_> = z.range_by_score(lo, hi).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(got, vec![b"b".to_vec(), b"c".to_vec()]);
    }
}
