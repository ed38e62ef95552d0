// SPDX-License-Identifier: GPL-2.0
//! Placement of a new process by memory (`mosrun -P`, `admin/placement`), the policies of the
//! memory-ushering study: round robin, best fit, next fit, and migrate-smallest (best fit,
//! and when no node has room, first move the smallest process that makes room).
//!
//! The same functions run in the module (which keeps the round-robin / next-fit cursor of its
//! node) and in the host simulation `placement-sim`, which compares the policies.

/// A placement policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Start where `mosrun` runs (the balancer may move it later).
    #[default]
    Here,
    /// The next node in turn, whatever its memory.
    RoundRobin,
    /// The node with the least free memory that still has room.
    BestFit,
    /// The current node while it has room, else the next one that has.
    NextFit,
    /// Best fit; when no node has room, move the smallest process that makes room first.
    MigrateSmallest,
}

impl Policy {
    /// Every policy, in `admin/placement` order (0-4).
    pub const ALL: [Policy; 5] = [
        Policy::Here,
        Policy::RoundRobin,
        Policy::BestFit,
        Policy::NextFit,
        Policy::MigrateSmallest,
    ];

    /// The name `mosrun -P` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Policy::Here => "here",
            Policy::RoundRobin => "rr",
            Policy::BestFit => "bestfit",
            Policy::NextFit => "nextfit",
            Policy::MigrateSmallest => "smallest",
        }
    }

    /// The policy of a name.
    pub fn from_name(s: &str) -> Option<Policy> {
        Self::ALL.iter().copied().find(|p| p.name() == s)
    }

    /// The policy of an `admin/placement` value.
    pub fn from_index(v: i64) -> Option<Policy> {
        usize::try_from(v)
            .ok()
            .and_then(|i| Self::ALL.get(i))
            .copied()
    }

    /// Its `admin/placement` value.
    pub fn index(self) -> i64 {
        Self::ALL
            .iter()
            .position(|p| *p == self)
            .map_or(0, |i| i as i64)
    }
}

/// A node as placement sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bin {
    /// Free memory (bytes, or any unit the caller uses throughout).
    pub free: u64,
    /// Up and taking processes.
    pub usable: bool,
}

/// The node (index into `bins`) for a new process of `size`, by `policy`; `cursor` is the
/// index last chosen (round robin and next fit move it). `None`: start here (`Here`), or no
/// node has room (best fit, next fit, migrate-smallest: see [`make_room`]), or none is usable.
pub fn choose(policy: Policy, bins: &[Bin], size: u64, cursor: &mut usize) -> Option<usize> {
    let n = bins.len();
    let fits = |b: &Bin| b.usable && b.free >= size;
    let pick = match policy {
        Policy::Here => None,
        Policy::RoundRobin => (1..=n).map(|k| (*cursor + k) % n).find(|&i| bins[i].usable),
        Policy::BestFit | Policy::MigrateSmallest => bins
            .iter()
            .enumerate()
            .filter(|(_, b)| fits(b))
            .min_by_key(|(i, b)| (b.free, *i))
            .map(|(i, _)| i),
        Policy::NextFit => (0..n).map(|k| (*cursor + k) % n).find(|&i| fits(&bins[i])),
    };
    if let (Some(i), Policy::RoundRobin | Policy::NextFit) = (pick, policy) {
        *cursor = i;
    }
    pick
}

/// A running process as [`make_room`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resident {
    /// The node (index) it runs on.
    pub node: usize,
    /// Its size.
    pub size: u64,
    /// Whether it may be moved.
    pub movable: bool,
}

/// Migrate-smallest when no node has room for `size`: the smallest movable process whose
/// move (to the best-fitting other node) leaves its node with room. Returns
/// `(process index, to)`; the new process then goes where the moved one was.
pub fn make_room(bins: &[Bin], procs: &[Resident], size: u64) -> Option<(usize, usize)> {
    let mut best: Option<(u64, usize, usize)> = None;
    for (k, p) in procs.iter().enumerate() {
        let Some(from) = bins.get(p.node) else {
            continue;
        };
        if !p.movable || !from.usable || from.free.saturating_add(p.size) < size {
            continue;
        }
        if best.is_some_and(|(s, _, _)| s <= p.size) {
            continue;
        }
        let to = bins
            .iter()
            .enumerate()
            .filter(|(i, b)| *i != p.node && b.usable && b.free >= p.size)
            .min_by_key(|(i, b)| (b.free, *i))
            .map(|(i, _)| i);
        if let Some(to) = to {
            best = Some((p.size, k, to));
        }
    }
    best.map(|(_, k, to)| (k, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bins(free: &[u64]) -> std::vec::Vec<Bin> {
        free.iter()
            .map(|&f| Bin {
                free: f,
                usable: true,
            })
            .collect()
    }

    #[test]
    fn policies() {
        let b = bins(&[10, 50, 30, 5]);
        let mut c = 0;
        assert_eq!(choose(Policy::BestFit, &b, 20, &mut c), Some(2));
        assert_eq!(choose(Policy::BestFit, &b, 60, &mut c), None);
        assert_eq!(choose(Policy::Here, &b, 1, &mut c), None);
        // Round robin ignores memory and skips unusable nodes.
        let mut rb = b.clone();
        rb[2].usable = false;
        let picks: std::vec::Vec<_> = (0..4)
            .filter_map(|_| choose(Policy::RoundRobin, &rb, 1000, &mut c))
            .collect();
        assert_eq!(picks, [1, 3, 0, 1]);
        // Next fit stays on the current node while it has room.
        let mut c = 0;
        assert_eq!(choose(Policy::NextFit, &b, 8, &mut c), Some(0));
        assert_eq!(choose(Policy::NextFit, &b, 20, &mut c), Some(1));
        assert_eq!(choose(Policy::NextFit, &b, 4, &mut c), Some(1));
        assert_eq!(choose(Policy::NextFit, &b, 40, &mut c), Some(1));
        assert_eq!(choose(Policy::NextFit, &b, 60, &mut c), None);
        assert_eq!(c, 1, "a failed next fit leaves the cursor");
        assert_eq!(choose(Policy::RoundRobin, &[], 1, &mut c), None);
        for p in Policy::ALL {
            assert_eq!(Policy::from_name(p.name()), Some(p));
            assert_eq!(Policy::from_index(p.index()), Some(p));
        }
        assert_eq!(Policy::from_index(5), None);
        assert_eq!(Policy::from_index(-1), None);
    }

    #[test]
    fn migrate_smallest() {
        // Nobody has 40 free; node 0 would with its 15 moved out (to node 1, the best fit).
        let b = bins(&[30, 20, 35]);
        let procs = [
            Resident {
                node: 0,
                size: 15,
                movable: true,
            },
            Resident {
                node: 0,
                size: 50,
                movable: true,
            },
            Resident {
                node: 2,
                size: 10,
                movable: true,
            },
            Resident {
                node: 2,
                size: 4,
                movable: true,
            },
        ];
        assert_eq!(
            make_room(&b, &procs, 40),
            Some((2, 1)),
            "the smallest that is enough: 10 from node 2"
        );
        assert_eq!(make_room(&b, &procs[..2], 40), Some((0, 1)));
        let locked = [Resident {
            movable: false,
            ..procs[0]
        }];
        assert_eq!(make_room(&b, &locked, 40), None);
        // Nowhere to put it.
        assert_eq!(make_room(&bins(&[30, 5]), &procs[..1], 40), None);
        assert_eq!(
            make_room(
                &b,
                &[Resident {
                    node: 9,
                    size: 1,
                    movable: true
                }],
                1
            ),
            None
        );
    }
}
