// SPDX-License-Identifier: GPL-2.0
//! Sorting in place without `core`'s slice sorts.
//!
//! `core`'s sorts carry a `panic_on_ord_violation` path. The rustc Debian 13's stock kernel is
//! built with (1.85) compiles it into a form objtool cannot follow: every instantiation in the
//! module then draws "falls through to next function" warnings from the stock build. This
//! heapsort has no such path: O(n log n) comparisons, no allocation, no recursion, and no panic
//! whatever `key` returns (an inconsistent key gives some order, never a fault). Not stable.

/// Sorts `v` by `key`, ascending (equal keys in no particular order).
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    let n = v.len();
    // Make a max-heap: every parent's key at least its children's.
    let mut start = n / 2;
    while start > 0 {
        start -= 1;
        sift_down(v, start, n, &mut key);
    }
    // Move the largest to the end of the heap, one at a time.
    let mut end = n;
    while end > 1 {
        end -= 1;
        v.swap(0, end);
        sift_down(v, 0, end, &mut key);
    }
}

/// `a`'s key is less than `b`'s (false if either is out of range).
fn less<T, K: Ord>(v: &[T], a: usize, b: usize, key: &mut impl FnMut(&T) -> K) -> bool {
    match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => key(x) < key(y),
        _ => false,
    }
}

/// Restores the heap below `root` within `v[..end]` (`end <= v.len()`).
fn sift_down<T, K: Ord>(v: &mut [T], mut root: usize, end: usize, key: &mut impl FnMut(&T) -> K) {
    let end = end.min(v.len());
    loop {
        let Some(mut child) = root.checked_mul(2).and_then(|c| c.checked_add(1)) else {
            return;
        };
        if child >= end {
            return;
        }
        if child + 1 < end && less(v, child, child + 1, key) {
            child += 1;
        }
        if !less(v, root, child, key) {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn small_cases() {
        let mut e: [u8; 0] = [];
        sort_by_key(&mut e, |x| *x);
        let mut one = [7];
        sort_by_key(&mut one, |x| *x);
        assert_eq!(one, [7]);
        let mut v = [3, 1, 2, 3, 0];
        sort_by_key(&mut v, |x| *x);
        assert_eq!(v, [0, 1, 2, 3, 3]);
        let mut r = [1, 5, 2];
        sort_by_key(&mut r, |x| core::cmp::Reverse(*x));
        assert_eq!(r, [5, 2, 1]);
    }

    #[test]
    fn inconsistent_key_does_not_fault() {
        let mut n = 0u32;
        let mut v: Vec<u32> = (0..100).collect();
        sort_by_key(&mut v, |_| {
            n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            n >> 16
        });
        let mut s = v.clone();
        s.sort_unstable();
        assert_eq!(
            s,
            (0..100).collect::<Vec<_>>(),
            "a permutation of the input"
        );
    }

    proptest! {
        #[test]
        fn sorts_as_core_does(mut v in proptest::collection::vec((0u16..50, any::<u32>()), 0..300)) {
            let mut want = v.clone();
            want.sort_by_key(|e| e.0);
            sort_by_key(&mut v, |e| e.0);
            let keys: Vec<u16> = v.iter().map(|e| e.0).collect();
            let want_keys: Vec<u16> = want.iter().map(|e| e.0).collect();
            prop_assert_eq!(keys, want_keys);
            // The same elements (a permutation).
            let (mut a, mut b) = (v.clone(), want.clone());
            a.sort_unstable();
            b.sort_unstable();
            prop_assert_eq!(a, b);
        }
    }
}
