//! Properties of the balancing and placement decisions on arbitrary figures (they run in the
//! kernel on what gossip and the process table say): they never panic, and a decision always
//! respects the rules: an eligible process, a usable target, clearly faster there, room there.

use mosix_core::balance::{
    adjusted, decide, usher, weight, Flags, Node, Proc, Recent, Tunables, Why,
};
use mosix_core::placement::{choose, make_room, Bin, Policy, Resident};
use mosix_core::procstat::Hint;
use proptest::prelude::*;

fn nodes() -> impl Strategy<Value = Vec<Node>> {
    let node = (
        0u32..6,
        0u32..5,
        0u32..40_000,
        0u64..10_000,
        0u64..(1 << 34),
        0u64..(1 << 34),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(id, cpus, speed, demand, avail, total, takes, up)| Node {
            id,
            cpus,
            speed,
            demand,
            avail,
            total,
            takes_guests: takes && up,
            up,
        });
    prop::collection::vec(node, 1..7)
}

fn procs() -> impl Strategy<Value = Vec<Proc>> {
    let p = (
        1i32..50,
        0u32..4,
        0u32..300,
        0u64..100_000,
        0u64..(1 << 33),
        any::<u64>(),
        any::<bool>(),
        0usize..3,
    )
        .prop_map(
            |(pid, home, cpu, age_ms, size, since, movable, hint)| Proc {
                pid,
                home,
                cpu,
                age_ms,
                size,
                since_move_ms: since,
                movable,
                hint: [Hint::None, Hint::Cpu, Hint::Io][hint],
            },
        );
    // Distinct pids, as on a node.
    prop::collection::vec(p, 0..12).prop_map(|mut v| {
        for (i, p) in v.iter_mut().enumerate() {
            p.pid = i as i32 + 1;
        }
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn decisions_follow_the_rules(
        nodes in nodes(), procs in procs(), stay in any::<bool>(), lstay in any::<bool>(),
        margin in 0u32..200, bpm in 0u64..100_000,
    ) {
        let here = nodes[0];
        let flags = Flags { stay, lstay };
        let t = Tunables { margin_pct: margin, bytes_per_ms: bpm, ..Tunables::DEFAULT };
        for p in &procs {
            prop_assert!(weight(p, &here) <= 1000);
        }
        if let Some(m) = decide(&here, flags, &nodes, &procs, &t) {
            let p = procs.iter().find(|p| p.pid == m.pid).unwrap();
            // A process of this node goes to any node taking guests, a guest only home.
            let to = nodes.iter().find(|n| n.id == m.to && n.id != here.id
                && if p.home == 0 { n.takes_guests } else { n.id == p.home && n.up });
            prop_assert!(to.is_some(), "a usable target");
            prop_assert!(p.movable && !stay && !(lstay && p.home == 0) && p.hint != Hint::Io);
            prop_assert!(m.rates.1 as u128 * 100 > m.rates.0 as u128 * (100 + u128::from(margin)));
            prop_assert_eq!(m.why != Why::Memory, true);
        }
        if let Some(m) = usher(&here, flags, &nodes, &procs, &t) {
            prop_assert!(here.avail < here.reserve());
            let p = procs.iter().find(|p| p.pid == m.pid).unwrap();
            prop_assert!(p.movable && !stay);
            let ok = nodes.iter().any(|n| n.id == m.to && n.id != here.id && n.fits(p.size)
                && if p.home == 0 { n.takes_guests } else { n.id == p.home && n.up });
            prop_assert!(ok, "a target with room");
        }
    }

    #[test]
    fn adjustments_never_panic(d in any::<u64>(), id in 0u32..4, me in 0u32..4, at in any::<i64>(),
                               recent in prop::collection::vec((0u32..4, any::<u64>(), any::<i64>(), any::<(u64, u64)>()), 0..6)) {
        let r: Vec<Recent> = recent.into_iter().map(|(to, weight, done_ms, before)| Recent { to, weight, done_ms, before }).collect();
        let _ = adjusted(d, id, me, at, &r);
    }

    #[test]
    fn placement_picks_a_usable_node_with_room(
        bins in prop::collection::vec((0u64..1000, any::<bool>()), 0..8),
        size in 0u64..1200, cursor in 0usize..10, policy in 0i64..5,
        procs in prop::collection::vec((0usize..9, 0u64..800, any::<bool>()), 0..12),
    ) {
        let bins: Vec<Bin> = bins.into_iter().map(|(free, usable)| Bin { free, usable }).collect();
        let policy = Policy::from_index(policy).unwrap();
        let mut c = cursor;
        if let Some(i) = choose(policy, &bins, size, &mut c) {
            prop_assert!(bins[i].usable);
            if policy != Policy::RoundRobin {
                prop_assert!(bins[i].free >= size);
            }
        }
        let res: Vec<Resident> = procs.into_iter().map(|(node, size, movable)| Resident { node, size, movable }).collect();
        if let Some((k, to)) = make_room(&bins, &res, size) {
            let p = res[k];
            prop_assert!(p.movable && to != p.node && bins[to].usable && bins[to].free >= p.size);
            prop_assert!(bins[p.node].free + p.size >= size);
        }
    }
}
