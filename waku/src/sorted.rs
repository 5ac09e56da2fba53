//! [`VecMap`] and [`VecSet`]: ordered maps and sets stored as one sorted vector.
//!
//! Drop-in replacements for the parts of `BTreeMap`/`BTreeSet` the protocol machines use, for
//! collections that stay small: the peers of one node, the topics it knows. Iteration is in
//! ascending key order, exactly as with the B-tree (determinism depends on it); a lookup is a
//! binary search in one contiguous buffer, which is much cheaper than walking B-tree nodes
//! scattered over the heap; an insertion or removal shifts the tail of the vector, which is
//! cheap for the sizes meant here (tens to a few hundred entries). Collections that grow with
//! traffic (message ids) should stay B-trees.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Index;

/// An ordered map stored as a sorted vector of keys and a parallel vector of values (a lookup
/// searches the keys alone, a few cache lines). See the [module docs](self).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct VecMap<K, V> {
    keys: Vec<K>,
    values: Vec<V>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.keys.iter().zip(&self.values))
            .finish()
    }
}

impl<K, V> VecMap<K, V> {
    /// An empty map.
    pub(crate) const fn new() -> Self {
        Self {
            keys: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    #[inline]
    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.keys.binary_search_by(|k| k.borrow().cmp(key))
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The value of `key`.
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| &self.values[i])
    }

    /// The value of `key`, mutably.
    #[inline]
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| &mut self.values[i])
    }

    /// Whether `key` is present.
    #[inline]
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the previous value.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.values[i], value)),
            Err(i) => {
                self.keys.insert(i, key);
                self.values.insert(i, value);
                None
            }
        }
    }

    /// The value of `key`, inserting `make()` first when absent (`entry().or_insert_with()`).
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.keys.insert(i, key);
                self.values.insert(i, make());
                i
            }
        };
        &mut self.values[i]
    }

    /// Removes `key`; returns its value.
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let i = self.find(key).ok()?;
        self.keys.remove(i);
        Some(self.values.remove(i))
    }

    /// Keeps the entries for which `keep` is true (visited in key order).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut kept = 0;
        for i in 0..self.keys.len() {
            if keep(&self.keys[i], &mut self.values[i]) {
                self.keys.swap(kept, i);
                self.values.swap(kept, i);
                kept += 1;
            }
        }
        self.keys.truncate(kept);
        self.values.truncate(kept);
    }

    /// Removes every entry.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
    }

    /// Entries in key order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.keys.iter().zip(&self.values)
    }

    /// Keys in order.
    pub(crate) fn keys(&self) -> std::slice::Iter<'_, K> {
        self.keys.iter()
    }

    /// Values in key order.
    pub(crate) fn values(&self) -> std::slice::Iter<'_, V> {
        self.values.iter()
    }

    /// Values in key order, mutable.
    pub(crate) fn values_mut(&mut self) -> std::slice::IterMut<'_, V> {
        self.values.iter_mut()
    }
}

impl<K: Ord, V, Q> Index<&Q> for VecMap<K, V>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    /// The value of `key`; panics when absent (as `BTreeMap` indexing does).
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for this key")
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// Later duplicates replace earlier ones, as with `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Zip<std::slice::Iter<'a, K>, std::slice::Iter<'a, V>>;

    fn into_iter(self) -> Self::IntoIter {
        self.keys.iter().zip(&self.values)
    }
}

/// An ordered set stored as a sorted vector. See the [module docs](self).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct VecSet<K> {
    items: Vec<K>,
}

impl<K> Default for VecSet<K> {
    fn default() -> Self {
        Self { items: Vec::new() }
    }
}

impl<K: fmt::Debug> fmt::Debug for VecSet<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.items.iter()).finish()
    }
}

impl<K: Ord> VecSet<K> {
    /// An empty set.
    pub(crate) const fn new() -> Self {
        Self { items: Vec::new() }
    }

    #[inline]
    fn find<Q>(&self, item: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.items.binary_search_by(|k| k.borrow().cmp(item))
    }

    /// Number of items.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Removes every item (keeping the buffer).
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    /// Whether `item` is present.
    #[inline]
    pub(crate) fn contains<Q>(&self, item: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(item).is_ok()
    }

    /// The stored item equal to `item`.
    pub(crate) fn get<Q>(&self, item: &Q) -> Option<&K>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(item).ok().map(|i| &self.items[i])
    }

    /// Adds `item`; false if it was there.
    pub(crate) fn insert(&mut self, item: K) -> bool {
        match self.find(&item) {
            Ok(_) => false,
            Err(i) => {
                self.items.insert(i, item);
                true
            }
        }
    }

    /// Removes `item`; false if it was not there.
    pub(crate) fn remove<Q>(&mut self, item: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match self.find(item) {
            Ok(i) => {
                self.items.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Items in order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, K> {
        self.items.iter()
    }
}

impl<K: Ord> Extend<K> for VecSet<K> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, iter: I) {
        for item in iter {
            self.insert(item);
        }
    }
}

impl<K: Ord> FromIterator<K> for VecSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        let mut items: Vec<K> = iter.into_iter().collect();
        items.sort();
        items.dedup();
        Self { items }
    }
}

impl<K> IntoIterator for VecSet<K> {
    type Item = K;
    type IntoIter = std::vec::IntoIter<K>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, K> IntoIterator for &'a VecSet<K> {
    type Item = &'a K;
    type IntoIter = std::slice::Iter<'a, K>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// A scripted mix of operations gives the same contents and order as the B-trees.
    #[test]
    fn behaves_like_the_b_trees() {
        let mut map: VecMap<u32, u32> = VecMap::new();
        let mut tree: BTreeMap<u32, u32> = BTreeMap::new();
        let mut set: VecSet<u32> = VecSet::new();
        let mut tree_set: BTreeSet<u32> = BTreeSet::new();
        for step in 0u32..500 {
            let key = step.wrapping_mul(2_654_435_761) % 37;
            match step % 6 {
                0 | 1 => {
                    assert_eq!(map.insert(key, step), tree.insert(key, step));
                    assert_eq!(set.insert(key), tree_set.insert(key));
                }
                2 => {
                    assert_eq!(map.remove(&key), tree.remove(&key));
                    assert_eq!(set.remove(&key), tree_set.remove(&key));
                }
                3 => {
                    *map.get_or_insert_with(key, || 7) += 1;
                    *tree.entry(key).or_insert_with(|| 7) += 1;
                }
                4 => {
                    map.retain(|k, v| (k + *v) % 5 != 0);
                    tree.retain(|k, v| (k + *v) % 5 != 0);
                }
                _ => {
                    assert_eq!(map.get(&key), tree.get(&key));
                    assert_eq!(set.contains(&key), tree_set.contains(&key));
                }
            }
            assert!(map.iter().eq(tree.iter()));
            assert!(set.iter().eq(tree_set.iter()));
            assert_eq!((map.len(), set.len()), (tree.len(), tree_set.len()));
        }
        let collected: VecSet<u32> = [5, 1, 5, 3].into_iter().collect();
        assert!(collected.iter().eq(&[1, 3, 5]));
        let strings: VecMap<String, u8> = [("b".to_string(), 1), ("a".to_string(), 2)]
            .into_iter()
            .collect();
        assert_eq!(strings["a"], 2);
        assert_eq!(strings.keys().collect::<Vec<_>>(), ["a", "b"]);
    }
}
