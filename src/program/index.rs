//! Names looked up by hash while compiling: a scenario of 100,000 programs or globals is
//! validated in time proportional to its size, not to its square.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Names in the order they were first given, each with its index: owned (`String`, the names a
/// compile interns) or borrowed from the scenario (`&str`: a million program names are not
/// copied twice more to be looked up).
#[derive(Debug)]
pub(super) struct NameIndex<S = String> {
    list: Vec<S>,
    index: HashMap<S, u32>,
}

impl<S> Default for NameIndex<S> {
    fn default() -> Self {
        NameIndex {
            list: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<S: Borrow<str> + Hash + Eq + Clone> NameIndex<S> {
    /// The index of `name`, if it was given.
    pub(super) fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The index of `name`, given now if it was not yet.
    fn insert(&mut self, name: S) -> u32 {
        if let Some(i) = self.get(name.borrow()) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(name.clone());
        self.index.insert(name, i);
        i
    }

    /// The names, in the order given.
    pub(super) fn names(&self) -> &[S] {
        &self.list
    }

    /// The names, in the order given, taken out.
    pub(super) fn into_names(self) -> Vec<S> {
        self.list
    }
}

impl NameIndex<String> {
    /// The index of `name`, given now if it was not yet.
    pub(super) fn intern(&mut self, name: &str) -> u32 {
        match self.get(name) {
            Some(i) => i,
            None => self.insert(name.to_owned()),
        }
    }
}

impl<'a> FromIterator<&'a str> for NameIndex<&'a str> {
    fn from_iter<T: IntoIterator<Item = &'a str>>(iter: T) -> Self {
        let iter = iter.into_iter();
        let mut out = NameIndex {
            list: Vec::with_capacity(iter.size_hint().0),
            index: HashMap::with_capacity(iter.size_hint().0),
        };
        for name in iter {
            out.insert(name);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::NameIndex;

    #[test]
    fn interns_in_order() {
        let borrowed: NameIndex<&str> = ["a", "b", "a"].into_iter().collect();
        assert_eq!(borrowed.names(), ["a", "b"]);
        assert_eq!(borrowed.get("b"), Some(1));
        let mut n = NameIndex::default();
        n.intern("a");
        n.intern("b");
        assert_eq!(n.get("b"), Some(1));
        assert_eq!(n.intern("c"), 2);
        assert_eq!(n.intern("a"), 0);
        assert_eq!(n.get("d"), None);
        assert_eq!(n.names(), ["a", "b", "c"]);
    }
}
