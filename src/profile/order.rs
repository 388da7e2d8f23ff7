//! Orders for the profile tables: sort small (key, index) pairs rather than
//! the records themselves, then move each record once. Equal keys keep
//! their index order, so the result is what a stable sort by key gives.
//! Keys of several ids are packed into one integer ([`packed`]).

use super::table::HostId;

/// The indices of `keys` in key order, equal keys by index.
pub(crate) fn order_by<K: Ord>(keys: impl Iterator<Item = K>) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = keys.enumerate().map(|(i, k)| (k, i as u32)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The inverse of an order: `map[old] = new` for `order[new] = old`.
pub(crate) fn inverse(order: &[u32]) -> Vec<u32> {
    let mut map = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        if let Some(slot) = map.get_mut(old as usize) {
            *slot = new as u32;
        }
    }
    map
}

/// `items` moved into `order` (`order[new] = old`), without copies.
/// When `order` is a permutation of the indices (as [`order_by`] gives)
/// the items are swapped into place, cycle by cycle, so no second table
/// of items is ever held; otherwise each listed item is moved once into
/// a new table and the unlisted ones are dropped.
pub(crate) fn take_in_order<T>(mut items: Vec<T>, order: &[u32]) -> Vec<T> {
    if permute_in_place(&mut items, order) {
        return items;
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(order.len());
    for &old in order {
        if let Some(item) = slots.get_mut(old as usize).and_then(Option::take) {
            out.push(item);
        }
    }
    out
}

/// Puts `items[order[new]]` at `new` for every `new` by swaps, when
/// `order` is a permutation of `0..items.len()`; false (items untouched)
/// when it is not.
fn permute_in_place<T>(items: &mut [T], order: &[u32]) -> bool {
    let n = items.len();
    if order.len() != n {
        return false;
    }
    let mut listed = vec![false; n];
    for &old in order {
        match listed.get_mut(old as usize) {
            Some(seen) if !*seen => *seen = true,
            _ => return false,
        }
    }
    // `listed` now marks every index; reused as "not yet in place".
    for start in 0..n {
        if !listed.get(start).copied().unwrap_or(false) {
            continue;
        }
        let mut at = start;
        loop {
            if let Some(slot) = listed.get_mut(at) {
                *slot = false;
            }
            let from = order.get(at).map_or(start, |&o| o as usize);
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
    true
}

/// Sorts `items` by `key`, then merges each run of equal keys into its
/// first record with `merge(kept, later)`.
pub(crate) fn sort_merging<T, K: Ord>(
    items: &mut Vec<T>,
    key: impl Fn(&T) -> K,
    merge: impl Fn(&mut T, &T),
) {
    let order = order_by(items.iter().map(&key));
    *items = take_in_order(std::mem::take(items), &order);
    items.dedup_by(|later, kept| {
        let same = key(later) == key(kept);
        if same {
            merge(kept, later);
        }
        same
    });
}

/// Three ids as one sort key, ordered as the tuple `(a, b, c)` is (`c`
/// takes up to 64 bits).
pub(crate) fn packed(a: u32, b: u32, c: u64) -> u128 {
    (u128::from(a) << 96) | (u128::from(b) << 64) | u128::from(c)
}

/// An optional host id as a number that sorts as the option does (`None`
/// first).
pub(crate) fn opt_host(h: Option<HostId>) -> u64 {
    h.map_or(0, |h| u64::from(h.0) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_stable_and_runs_merge_into_their_first_record() {
        let keys = [3u8, 1, 3, 0, 1];
        let order = order_by(keys.iter().copied());
        assert_eq!(order, vec![3, 1, 4, 0, 2]);
        let rotated = order_by([2u8, 0, 1].into_iter());
        assert_eq!(rotated, vec![1, 2, 0]);
        assert_eq!(inverse(&rotated), vec![2, 0, 1]);
        let moved = take_in_order(vec!['d', 'b', 'e', 'a', 'c'], &order);
        assert_eq!(moved, vec!['a', 'b', 'c', 'd', 'e']);
        // In place (a permutation) and by moves (not one) agree.
        let n = 1000u32;
        let keys: Vec<u32> = (0..n).map(|i| i.wrapping_mul(2_654_435_761) % 97).collect();
        let order = order_by(keys.iter().copied());
        let items: Vec<u32> = (0..n).collect();
        let mut swapped = items.clone();
        assert!(permute_in_place(&mut swapped, &order));
        assert_eq!(swapped, order);
        assert_eq!(take_in_order(items.clone(), &order), order);
        let partial = [4u32, 2, 2, 7];
        assert!(!permute_in_place(&mut items.clone(), &partial));
        assert_eq!(take_in_order(items, &partial), vec![4, 2, 7]);
        // (key, count): equal keys merge, counts add, the first keeps its place.
        let mut items = vec![(2, 1), (1, 10), (2, 100), (0, 1000), (1, 5)];
        sort_merging(&mut items, |x| x.0, |kept, later| kept.1 += later.1);
        assert_eq!(items, vec![(0, 1000), (1, 15), (2, 101)]);
    }
}
