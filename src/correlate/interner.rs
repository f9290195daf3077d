//! Interned byte strings: hosts, addresses, domains, identities, texts.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// Interned byte strings: hosts, addresses, domains, identities, texts.
#[derive(Debug, Default)]
pub struct Interner {
    // One allocation per string, shared by the map and the list.
    map: FxHashMap<Arc<[u8]>, u32>,
    items: Vec<Arc<[u8]>>,
}

pub type Sym = u32;

impl Interner {
    pub fn new() -> Self {
        let mut i = Interner::default();
        i.intern(b""); // Sym 0 is the empty string.
        i
    }

    pub fn intern(&mut self, s: &[u8]) -> Sym {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
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
        self.items.len() <= 1
    }
}
