//! Names looked up by hash while compiling: a scenario of 100,000 programs or globals is
//! validated in time proportional to its size, not to its square.

use std::collections::HashMap;

/// Names in the order they were first given, each with its index.
#[derive(Debug, Default)]
pub(super) struct NameIndex {
    list: Vec<String>,
    index: HashMap<String, u32>,
}

impl NameIndex {
    /// The index of `name`, if it was given.
    pub(super) fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The index of `name`, given now if it was not yet.
    pub(super) fn intern(&mut self, name: &str) -> u32 {
        if let Some(i) = self.get(name) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        i
    }

    /// The names, in the order given.
    pub(super) fn names(&self) -> &[String] {
        &self.list
    }

    /// The names, in the order given, taken out.
    pub(super) fn into_names(self) -> Vec<String> {
        self.list
    }
}

impl<S: AsRef<str>> FromIterator<S> for NameIndex {
    fn from_iter<T: IntoIterator<Item = S>>(iter: T) -> Self {
        let mut out = NameIndex::default();
        for name in iter {
            out.intern(name.as_ref());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::NameIndex;

    #[test]
    fn interns_in_order() {
        let mut n: NameIndex = ["a", "b"].into_iter().collect();
        assert_eq!(n.get("b"), Some(1));
        assert_eq!(n.intern("c"), 2);
        assert_eq!(n.intern("a"), 0);
        assert_eq!(n.get("d"), None);
        assert_eq!(n.names(), ["a", "b", "c"]);
    }
}
