//! The keyspace: keys to typed values, with expiry. Expired keys are removed lazily when
//! touched and actively by [`Db::sweep`], which reads an index ordered by deadline, so
//! dead keys never pile up and a sweep never scans live ones.

use std::collections::{BTreeSet, HashMap, VecDeque};

use indexmap::{IndexMap, IndexSet};

use super::reply::{wrongtype, Fail};
use super::streams::Stream;
use super::zset::ZSet;

/// A value of one of the Redis types.
#[derive(Debug, Clone)]
pub(crate) enum Obj {
    Str(Vec<u8>),
    /// Insertion order, like a small Redis hash (listpack).
    Hash(IndexMap<Vec<u8>, Vec<u8>>),
    List(VecDeque<Vec<u8>>),
    Set(IndexSet<Vec<u8>>),
    ZSet(ZSet),
    Stream(Stream),
}

impl Obj {
    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Obj::Str(_) => "string",
            Obj::Hash(_) => "hash",
            Obj::List(_) => "list",
            Obj::Set(_) => "set",
            Obj::ZSet(_) => "zset",
            Obj::Stream(_) => "stream",
        }
    }

    /// Containers that became empty are deleted, as in Redis (streams are not).
    fn is_empty_container(&self) -> bool {
        match self {
            Obj::Str(_) | Obj::Stream(_) => false,
            Obj::Hash(h) => h.is_empty(),
            Obj::List(l) => l.is_empty(),
            Obj::Set(s) => s.is_empty(),
            Obj::ZSet(z) => z.is_empty(),
        }
    }
}

/// Picks one type out of an [`Obj`]: how typed lookups say which type they want.
pub(crate) trait Kind: Sized {
    /// The type's value inside `obj`, or `None` when `obj` is another type.
    fn pick(obj: &mut Obj) -> Option<&mut Self>;
    /// A new, empty value of this type.
    fn empty() -> Obj;
}

macro_rules! kind {
    ($t:ty, $variant:ident, $empty:expr) => {
        impl Kind for $t {
            fn pick(obj: &mut Obj) -> Option<&mut Self> {
                match obj {
                    Obj::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn empty() -> Obj {
                Obj::$variant($empty)
            }
        }
    };
}
kind!(Vec<u8>, Str, Vec::new());
kind!(IndexMap<Vec<u8>, Vec<u8>>, Hash, IndexMap::new());
kind!(VecDeque<Vec<u8>>, List, VecDeque::new());
kind!(IndexSet<Vec<u8>>, Set, IndexSet::new());
kind!(ZSet, ZSet, ZSet::default());
kind!(Stream, Stream, Stream::default());

/// One key's value and deadline (Unix ms).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub obj: Obj,
    pub expire_at: Option<u64>,
}

/// One database.
#[derive(Debug, Default)]
pub(crate) struct Db {
    map: HashMap<Vec<u8>, Entry>,
    /// Every key with a deadline, ordered by it: what the active sweep reads.
    expires: BTreeSet<(u64, Vec<u8>)>,
}

impl Db {
    /// Remove `key` if its deadline has passed; true when it did.
    fn expire_if_due(&mut self, key: &[u8], now: u64) -> bool {
        let due = matches!(self.map.get(key), Some(Entry { expire_at: Some(t), .. }) if *t <= now);
        if due {
            self.remove(key);
        }
        due
    }

    /// A live key's entry.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        self.expire_if_due(key, now);
        self.map.get_mut(key)
    }

    /// Whether a live key exists.
    pub fn exists(&mut self, key: &[u8], now: u64) -> bool {
        self.get(key, now).is_some()
    }

    /// A live key's value as type `T`: `Ok(None)` when missing, WRONGTYPE when another type.
    pub fn typed<T: Kind>(&mut self, key: &[u8], now: u64) -> Result<Option<&mut T>, Fail> {
        match self.get(key, now) {
            None => Ok(None),
            Some(e) => T::pick(&mut e.obj).map(Some).ok_or_else(wrongtype),
        }
    }

    /// A live key's value as type `T`, created empty (without deadline) when missing.
    pub fn typed_or_create<T: Kind>(&mut self, key: &[u8], now: u64) -> Result<&mut T, Fail> {
        if !self.exists(key, now) {
            self.map.insert(
                key.to_vec(),
                Entry {
                    obj: T::empty(),
                    expire_at: None,
                },
            );
        }
        let entry = self.map.get_mut(key).expect("just ensured");
        T::pick(&mut entry.obj).ok_or_else(wrongtype)
    }

    /// Delete a container left empty by a write.
    pub fn drop_if_empty(&mut self, key: &[u8]) {
        if self
            .map
            .get(key)
            .is_some_and(|e| e.obj.is_empty_container())
        {
            self.remove(key);
        }
    }

    /// Store `obj` under `key`, replacing any value, with deadline `expire_at`.
    pub fn insert(&mut self, key: &[u8], obj: Obj, expire_at: Option<u64>) {
        self.remove(key);
        if let Some(t) = expire_at {
            self.expires.insert((t, key.to_vec()));
        }
        self.map.insert(key.to_vec(), Entry { obj, expire_at });
    }

    /// Delete a key (live or not); its entry if there was one.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = self.map.remove(key)?;
        if let Some(t) = entry.expire_at {
            self.expires.remove(&(t, key.to_vec()));
        }
        Some(entry)
    }

    /// Set or clear the deadline of an existing key; false when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> bool {
        let Some(entry) = self.map.get_mut(key) else {
            return false;
        };
        if let Some(old) = entry.expire_at.take() {
            self.expires.remove(&(old, key.to_vec()));
        }
        entry.expire_at = at;
        if let Some(t) = at {
            self.expires.insert((t, key.to_vec()));
        }
        true
    }

    /// How many keys are stored, expired-but-not-yet-swept ones included (as DBSIZE).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// How many keys carry a deadline.
    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    /// Every stored key, live or not (callers filter with [`Db::get`]).
    pub fn keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.map.keys()
    }

    /// Delete everything.
    pub fn clear(&mut self) {
        self.map.clear();
        self.expires.clear();
    }

    /// Delete up to `max` keys whose deadline is at or before `now`; how many it deleted.
    pub fn sweep(&mut self, now: u64, max: usize) -> usize {
        let mut removed = 0;
        while removed < max {
            let Some((t, key)) = self.expires.first().cloned() else {
                break;
            };
            if t > now {
                break;
            }
            self.remove(&key);
            removed += 1;
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_keys_vanish_lazily_and_by_sweep() {
        let mut db = Db::default();
        db.insert(b"a", Obj::Str(b"1".to_vec()), Some(100));
        db.insert(b"b", Obj::Str(b"2".to_vec()), Some(200));
        db.insert(b"c", Obj::Str(b"3".to_vec()), None);
        assert!(db.exists(b"a", 99));
        assert!(!db.exists(b"a", 100));
        assert_eq!(db.len(), 2);
        assert_eq!(db.sweep(150, 10), 0);
        assert_eq!(db.sweep(250, 10), 1);
        assert_eq!(db.len(), 1);
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn replacing_a_key_drops_its_old_deadline() {
        let mut db = Db::default();
        db.insert(b"a", Obj::Str(b"1".to_vec()), Some(100));
        db.insert(b"a", Obj::Str(b"2".to_vec()), None);
        assert_eq!(db.volatile_len(), 0);
        assert!(db.exists(b"a", 1_000));
    }

    #[test]
    fn typed_lookups_refuse_other_types() {
        let mut db = Db::default();
        db.insert(b"s", Obj::Str(b"x".to_vec()), None);
        assert!(db.typed::<VecDeque<Vec<u8>>>(b"s", 0).is_err());
        assert!(db.typed::<Vec<u8>>(b"s", 0).unwrap().is_some());
        assert!(db.typed::<ZSet>(b"none", 0).unwrap().is_none());
    }
}
