//! An ordered map that costs one pointer while empty.
//!
//! Every connection keeps a few maps (partial multipart requests, operation groups, bundles) that
//! are empty for almost all of its life; an empty `BTreeMap` is three words, this is one, and the
//! storage goes with the last entry.

use std::collections::BTreeMap;

// The box is the point: one pointer while empty instead of the map's three words.
#[allow(clippy::box_collection)]
#[derive(Debug)]
pub(crate) struct LazyMap<K, V>(Option<Box<BTreeMap<K, V>>>);

impl<K, V> Default for LazyMap<K, V> {
    fn default() -> Self {
        LazyMap(None)
    }
}

impl<K: Ord, V> LazyMap<K, V> {
    pub fn get(&self, k: &K) -> Option<&V> {
        self.0.as_ref()?.get(k)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.0.as_mut()?.get_mut(k)
    }

    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        self.0.get_or_insert_with(Default::default).insert(k, v)
    }

    /// The value at `k`, inserting `f()` first if there is none.
    pub fn get_or_insert_with(&mut self, k: K, f: impl FnOnce() -> V) -> &mut V {
        self.0.get_or_insert_with(Default::default).entry(k).or_insert_with(f)
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        let map = self.0.as_mut()?;
        let v = map.remove(k);
        if map.is_empty() {
            self.0 = None;
        }
        v
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.0.iter().flat_map(|m| m.iter())
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.0.iter().flat_map(|m| m.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_comes_and_goes_with_the_entries() {
        let mut m = LazyMap::default();
        assert!(m.is_empty() && m.get(&1).is_none() && m.remove(&1).is_none());
        assert_eq!(m.insert(2, "b"), None);
        *m.get_or_insert_with(1, || "a") = "A";
        assert_eq!(*m.get_or_insert_with(1, || "x"), "A");
        assert_eq!(m.iter().collect::<Vec<_>>(), [(&1, &"A"), (&2, &"b")]);
        assert_eq!((m.get(&2), m.values().count()), (Some(&"b"), 2));
        assert_eq!(m.remove(&1), Some("A"));
        assert!(m.0.is_some());
        assert_eq!(m.remove(&2), Some("b"));
        assert!(m.0.is_none(), "storage released with the last entry");
    }

    #[test]
    fn is_one_pointer() {
        assert_eq!(std::mem::size_of::<LazyMap<u32, [u64; 8]>>(), std::mem::size_of::<usize>());
    }
}
