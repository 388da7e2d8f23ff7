//! Hash maps split into parts by host, so that growing, merging and
//! draining a builder's largest tables never needs two copies of a whole
//! table at once (a resize or a merge touches one part at a time).

use rustc_hash::FxHashMap;
use std::hash::Hash;

/// Number of parts.
const PARTS: usize = 64;

/// A map from keys that start with a host index, split into [`PARTS`]
/// parts by that host.
#[derive(Debug, Clone)]
pub(crate) struct Parts<K, V> {
    parts: Vec<FxHashMap<K, V>>,
}

impl<K: Hash + Eq, V> Default for Parts<K, V> {
    fn default() -> Self {
        Parts {
            parts: (0..PARTS).map(|_| FxHashMap::default()).collect(),
        }
    }
}

/// The part a host's keys live in.
#[inline]
fn part_of(host: u32) -> usize {
    (host.wrapping_mul(0x9E37_79B9) >> 26) as usize % PARTS
}

impl<K: Hash + Eq, V> Parts<K, V> {
    /// The part holding keys of `host`.
    #[inline]
    pub(crate) fn part(&mut self, host: u32) -> &mut FxHashMap<K, V> {
        let i = part_of(host);
        // `parts` always has PARTS entries and `part_of` is below PARTS;
        // fall back to the first part rather than panic.
        let n = self.parts.len();
        &mut self.parts[i.min(n.saturating_sub(1))]
    }

    /// Entries in all parts.
    pub(crate) fn len(&self) -> usize {
        self.parts.iter().map(FxHashMap::len).sum()
    }

    /// The parts, by value: each is freed as soon as the caller drops it.
    pub(crate) fn into_parts(self) -> impl Iterator<Item = FxHashMap<K, V>> {
        self.parts.into_iter()
    }
}
