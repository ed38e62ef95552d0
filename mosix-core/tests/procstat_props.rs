//! Properties of the per-process decay step on arbitrary scans (the kernel's view of the
//! process list changes between any two steps): it never panics, the table stays sorted with
//! one entry per process seen, and figures stay within what a process can use.

use mosix_core::procstat::{
    change, find, step, Change, DecayMode, Placement, ProcStat, Rates, Sample,
};
use proptest::prelude::*;

fn scans() -> impl Strategy<Value = Vec<Vec<Sample>>> {
    let sample =
        (0i32..40, 0i32..40, 0u64..4, 0u64..3_000_000_000).prop_map(|(pid, ppid, start, rt)| {
            Sample {
                pid,
                ppid,
                start_ns: start,
                runtime_ns: rt,
            }
        });
    prop::collection::vec(prop::collection::vec(sample, 0..40), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn steps_keep_a_sorted_bounded_table(
        scans in scans(), slow in 0u32..1200, fast in 0u32..1200,
        modes in prop::collection::vec((0i32..40, 0usize..3), 0..10),
    ) {
        let rates = Rates { slow, fast };
        let mut table: Vec<ProcStat> = Vec::new();
        let mut now = 10_000_000_000u64;
        for mut scan in scans {
            for &(pid, m) in &modes {
                let c = Change { mode: Some(DecayMode::ALL[m]), lock: Some(m == 1), hint: None, clear: None, node: Some(m as u32) };
                if let Placement::Insert(i, e) = change(&mut table, pid, now + 1, 1, &c) {
                    table.insert(i, e);
                }
            }
            let pending = table.iter().filter(|e| !e.sampled).count();
            let mut out = vec![ProcStat::default(); scan.len() + pending];
            let n = step(&table, &mut scan, rates, now, 1_000_000_000, &mut out);
            out.truncate(n);
            prop_assert!(out.windows(2).all(|w| w[0].pid <= w[1].pid), "sorted");
            for s in &scan {
                prop_assert!(find(&out, s.pid).is_some(), "every sampled process has an entry");
            }
            for e in &out {
                // Even from inconsistent scans (CPU time going backwards, duplicate pids),
                // the CPU share stays bounded.
                prop_assert!(e.cpu() <= 100 * 4096, "{:?}", e);
            }
            table = out;
            now += 1_000_000_000;
        }
    }
}
