//! Interned byte strings: hosts, addresses, domains, identities, texts.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// Interned byte strings: hosts, addresses, domains, identities, texts.
///
/// Bounded whatever the input: a string is kept to its first
/// [`STRING_MAX`] bytes, and past [`STRINGS_MAX`] distinct strings (or
/// [`STRING_BYTES_MAX`] bytes of them) every new one becomes [`OVERFLOW`]
/// (counted), so a log of millions of made-up addresses or unique reply
/// texts cannot exhaust memory.
#[derive(Debug, Default)]
pub struct Interner {
    // One allocation per string, shared by the map and the list.
    map: FxHashMap<Arc<[u8]>, u32>,
    items: Vec<Arc<[u8]>>,
    /// Strings folded into [`OVERFLOW`].
    pub overflowed: u64,
    /// Bytes held by the strings.
    bytes: usize,
}

pub type Sym = u32;

/// The longest string kept (longer ones are cut): far above any address,
/// host name or reply text Postfix logs.
pub const STRING_MAX: usize = 4096;
/// Distinct strings kept.
pub const STRINGS_MAX: usize = 2_000_000;
/// Bytes the strings may hold in all.
pub const STRING_BYTES_MAX: usize = 128 << 20;
/// What every string past [`STRINGS_MAX`] becomes.
pub const OVERFLOW: Sym = 1;

impl Interner {
    pub fn new() -> Self {
        let mut i = Interner::default();
        i.intern(b""); // Sym 0 is the empty string.
        i.intern(b"(other: more distinct values than postmortem keeps)");
        i
    }

    pub fn intern(&mut self, s: &[u8]) -> Sym {
        let s = &s[..s.len().min(STRING_MAX)];
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        if self.items.len() >= STRINGS_MAX || self.bytes + s.len() > STRING_BYTES_MAX {
            self.overflowed += 1;
            return OVERFLOW;
        }
        self.bytes += s.len();
        let id = self.items.len() as Sym;
        let b: Arc<[u8]> = s.into();
        self.items.push(b.clone());
        self.map.insert(b, id);
        id
    }

    /// The symbol of a string already interned.
    pub fn lookup(&self, s: &[u8]) -> Option<Sym> {
        self.map.get(s).copied()
    }

    pub fn get(&self, id: Sym) -> &[u8] {
        self.items.get(id as usize).map_or(&[][..], |b| b)
    }

    pub fn str(&self, id: Sym) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.get(id))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.len() <= 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_bounded_in_length_and_number() {
        let mut i = Interner::new();
        let long = vec![b'a'; STRING_MAX * 3];
        let a = i.intern(&long);
        assert_eq!(i.get(a).len(), STRING_MAX);
        assert_eq!(i.intern(&long[..STRING_MAX + 1]), a);
        // Past the cap every new string is the overflow symbol.
        while i.len() < STRINGS_MAX {
            let n = i.len();
            i.intern(n.to_string().as_bytes());
        }
        assert_eq!(i.intern(b"one more"), OVERFLOW);
        assert_eq!(i.overflowed, 1);
        assert_eq!(i.intern(b"7"), i.lookup(b"7").unwrap());
    }
}
