//! Tables a fold appends to instead of looking a key up per record: each
//! record is pushed as it comes (no hashing, no probing of a table larger
//! than the caches) and equal keys are merged in sorted runs, when the
//! list has doubled since the last merge (so memory follows the distinct
//! keys, not the records) and when the table is taken.

use super::order::sort_merging;

/// Below this many records a list is never merged before it is taken.
const FIRST_MERGE: usize = 1 << 16;

/// Records by key, merged with `merge(kept, later)` (which must not
/// depend on the order of the records).
#[derive(Debug, Clone)]
pub(crate) struct Pending<K, V> {
    items: Vec<(K, V)>,
    /// The length at which the next merge runs.
    merge_at: usize,
    merge: fn(&mut V, &V),
}

impl<K: Ord + Copy, V> Pending<K, V> {
    /// An empty table merging equal keys' values with `merge`.
    pub(crate) fn new(merge: fn(&mut V, &V)) -> Self {
        Pending {
            items: Vec::new(),
            merge_at: FIRST_MERGE,
            merge,
        }
    }

    /// Adds one record.
    pub(crate) fn push(&mut self, key: K, value: V) {
        self.items.push((key, value));
        if self.items.len() >= self.merge_at {
            self.merge_runs();
            self.merge_at = self.items.len().saturating_mul(2).max(FIRST_MERGE);
        }
    }

    /// Records held (a key may be held more than once).
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    fn merge_runs(&mut self) {
        let merge = self.merge;
        sort_merging(
            &mut self.items,
            |(k, _)| *k,
            |kept, later| merge(&mut kept.1, &later.1),
        );
    }

    /// The records as held: keys may repeat, in no particular order.
    pub(crate) fn into_records(self) -> Vec<(K, V)> {
        self.items
    }

    /// Every key once, its records merged, in key order.
    pub(crate) fn into_merged(mut self) -> Vec<(K, V)> {
        self.merge_runs();
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_merge_whenever_the_list_doubles_and_when_taken() {
        let mut p: Pending<u32, u64> = Pending::new(|a, b| *a += b);
        for i in 0..(FIRST_MERGE as u32 + 10) {
            p.push(i % 7, 1);
        }
        // The first merge ran at FIRST_MERGE records: 7 keys left, then 10 more.
        assert_eq!(p.len(), 17);
        let merged = p.into_merged();
        assert_eq!(merged.len(), 7);
        assert_eq!(
            merged.iter().map(|(_, n)| n).sum::<u64>(),
            FIRST_MERGE as u64 + 10
        );
        assert!(merged.windows(2).all(|w| w[0].0 < w[1].0));
        let mut q: Pending<u32, u64> = Pending::new(|a, b| *a += b);
        q.push(3, 1);
        q.push(3, 2);
        assert_eq!(q.into_records(), vec![(3, 1), (3, 2)]);
    }
}
