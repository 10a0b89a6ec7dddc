//! The migration locks one connection holds, kept for an executor's `lock` and `unlock`.
//!
//! A backend locks something of its database's (an advisory-lock key, a `GET_LOCK` name, a
//! lock file), derived from the version table. One connection may hold the locks of several
//! version tables at once (a program migrating two histories through one connection), and
//! several version tables may map to the same lock (a table named with and without its
//! schema; SQLite's one file for every table of a database). [`HeldLocks`] keeps each lock
//! once, with the version tables it was taken for: locking a table already held asks the
//! database nothing, another table whose key is held joins that lock, and a lock is released
//! when the last of its tables is unlocked, never while another table still counts on it.

use crate::dialect::VersionTable;

/// The locks a connection holds, each under its key `K` (what the database locks), with the
/// value `L` needed to release it.
#[derive(Debug)]
pub struct HeldLocks<K, L> {
    entries: Vec<Entry<K, L>>,
}

#[derive(Debug)]
struct Entry<K, L> {
    key: K,
    tables: Vec<VersionTable>,
    lock: L,
}

impl<K, L> Default for HeldLocks<K, L> {
    fn default() -> Self {
        HeldLocks {
            entries: Vec::new(),
        }
    }
}

impl<K: PartialEq, L> HeldLocks<K, L> {
    /// No lock held.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a lock is held for `table` (locking it again has nothing to do).
    pub fn holds(&self, table: &VersionTable) -> bool {
        self.entries.iter().any(|e| e.tables.contains(table))
    }

    /// When the lock `key` is held already (for another spelling of the table), counts
    /// `table` as holding it too and returns `true`; `false` when it must be taken.
    pub fn join(&mut self, key: &K, table: &VersionTable) -> bool {
        match self.entries.iter_mut().find(|e| e.key == *key) {
            Some(entry) => {
                if !entry.tables.contains(table) {
                    entry.tables.push(table.clone());
                }
                true
            }
            None => false,
        }
    }

    /// Records the lock `key`, just taken for `table`.
    pub fn insert(&mut self, key: K, table: VersionTable, lock: L) {
        self.entries.push(Entry {
            key,
            tables: vec![table],
            lock,
        });
    }

    /// `table` no longer needs its lock: the key and the lock to release when no other
    /// table holds it, `None` when it was not held or is still held for another table.
    pub fn release(&mut self, table: &VersionTable) -> Option<(K, L)> {
        let at = self.entries.iter().position(|e| e.tables.contains(table))?;
        let entry = &mut self.entries[at];
        entry.tables.retain(|t| t != table);
        if !entry.tables.is_empty() {
            return None;
        }
        let entry = self.entries.remove(at);
        Some((entry.key, entry.lock))
    }

    /// Every lock held.
    pub fn locks(&self) -> impl Iterator<Item = &L> {
        self.entries.iter().map(|e| &e.lock)
    }

    /// Whether no lock is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, schema: Option<&str>) -> VersionTable {
        VersionTable {
            name: name.into(),
            schema: schema.map(String::from),
        }
    }

    #[test]
    fn each_table_keeps_its_own_lock_until_it_is_released() {
        let (a, b) = (table("a_version", None), table("b_version", None));
        let mut held = HeldLocks::new();
        assert!(!held.holds(&a));
        held.insert(1, a.clone(), "lock a");
        assert!(held.holds(&a) && !held.holds(&b));
        // Another table, another key: not held until taken.
        assert!(!held.join(&2, &b));
        held.insert(2, b.clone(), "lock b");
        assert_eq!(held.locks().count(), 2);
        assert_eq!(held.release(&b), Some((2, "lock b")));
        assert!(held.holds(&a), "releasing b leaves a's lock held");
        assert_eq!(held.release(&b), None, "b is no longer held");
        assert_eq!(held.release(&a), Some((1, "lock a")));
        assert!(held.is_empty());
    }

    #[test]
    fn tables_sharing_a_key_share_the_lock_until_the_last_is_released() {
        let plain = table("alembic_version", None);
        let qualified = table("alembic_version", Some("app"));
        let mut held = HeldLocks::new();
        held.insert(7, plain.clone(), ());
        assert!(held.join(&7, &qualified));
        assert!(held.join(&7, &qualified), "joining twice counts once");
        assert_eq!(held.locks().count(), 1);
        assert_eq!(held.release(&plain), None, "still held for the other");
        assert!(held.holds(&qualified));
        assert_eq!(held.release(&qualified), Some((7, ())));
        assert!(held.is_empty());
    }
}
