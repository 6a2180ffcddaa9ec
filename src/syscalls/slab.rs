//! A tiny index arena: values live in a `Vec`, freed slots are reused.
//! Indices instead of `Rc` keep the whole kernel a plain `Clone` tree.

/// An arena of `T` addressed by `usize` keys.
#[derive(Clone, Debug)]
pub(crate) struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// Stores `v`, returning its key.
    pub fn insert(&mut self, v: T) -> usize {
        if let Some(i) = self.free.pop() {
            self.items[i] = Some(v);
            i
        } else {
            self.items.push(Some(v));
            self.items.len() - 1
        }
    }

    /// Removes and returns the value at `k`.
    pub fn remove(&mut self, k: usize) -> Option<T> {
        let v = self.items.get_mut(k)?.take();
        if v.is_some() {
            self.free.push(k);
        }
        v
    }

    /// The value at `k`.
    pub fn get(&self, k: usize) -> Option<&T> {
        self.items.get(k)?.as_ref()
    }

    /// The stored values with their keys, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(k, v)| Some((k, v.as_ref()?)))
    }

    /// The value at `k`, mutably.
    pub fn get_mut(&mut self, k: usize) -> Option<&mut T> {
        self.items.get_mut(k)?.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_slots() {
        let mut s = Slab::default();
        let a = s.insert(1);
        let b = s.insert(2);
        assert_eq!(s.remove(a), Some(1));
        assert_eq!(s.remove(a), None);
        let c = s.insert(3);
        assert_eq!(c, a);
        assert_eq!(s.get(b), Some(&2));
    }
}
