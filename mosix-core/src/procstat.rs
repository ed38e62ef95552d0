// SPDX-License-Identifier: GPL-2.0
//! Per-process CPU statistics with openMosix's slow and fast decay (reference §4.3).
//!
//! Every `decayinterval` seconds the module samples each user process's total CPU time and
//! takes one decay step: the process's decayed CPU time `ran` keeps `keep`/1000 of itself and
//! gains what the process used since the last step; its decayed elapsed time `span` does the
//! same with the wall time that passed. `ran / span` is an exponentially weighted average of
//! the process's CPU share, with no bias at the start (a new process is not "idle" for its
//! first minute) and a memory set by its decay mode: `slowdecay` (975: the last ~40 steps
//! count) by default, `fastdecay` (926: ~13 steps), or none (1000: the average over the
//! process's whole observed life). The balancer uses it to tell long-running CPU-bound
//! processes from short or I/O-bound ones.
//!
//! The table is a slice sorted by pid; [`step`] merges one scan into a new table without
//! allocating, so the same code runs in the kernel and in the host tests.

use super::load::decay;

/// How a process's statistics decay (openMosix's per-process decay mode; inherited by the
/// children it forks after the mode is set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DecayMode {
    /// Keep `slowdecay`/1000 per step (the default).
    #[default]
    Slow,
    /// Keep `fastdecay`/1000 per step.
    Fast,
    /// No decay: the average over everything seen.
    None,
    /// Keep this many per mille per step (`mosrun -d`).
    Rate(u16),
}

impl DecayMode {
    /// Every mode.
    pub const ALL: [DecayMode; 3] = [DecayMode::Slow, DecayMode::Fast, DecayMode::None];

    /// The name shown in `/proc/mosix/procs` (and the `/proc/mosix/decay/` file that selects it).
    pub const fn name(self) -> &'static str {
        match self {
            DecayMode::Slow => "slow",
            DecayMode::Fast => "fast",
            DecayMode::None => "none",
            DecayMode::Rate(_) => "rate",
        }
    }

    /// The share kept per step, per mille, given the `slowdecay` and `fastdecay` parameters.
    pub fn keep(self, rates: Rates) -> u32 {
        match self {
            DecayMode::Slow => rates.slow.min(1000),
            DecayMode::Fast => rates.fast.min(1000),
            DecayMode::None => 1000,
            DecayMode::Rate(r) => u32::from(r).min(1000),
        }
    }
}

/// What the process's owner said of it (`mosrun -c`, `-i`; inherited): the balancer treats a
/// CPU job as CPU-bound from its start and leaves an I/O job where it is (memory ushering
/// still moves it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hint {
    /// Judge by the statistics.
    #[default]
    None,
    /// Heavily CPU-bound (`cpujob`).
    Cpu,
    /// I/O-bound (`iojob`).
    Io,
}

impl Hint {
    /// The name shown in `/proc/mosix/procs`.
    pub const fn name(self) -> &'static str {
        match self {
            Hint::None => "-",
            Hint::Cpu => "cpu",
            Hint::Io => "io",
        }
    }
}

/// What a migrant's home tells the node it runs on of its owner's settings, so that node's
/// balancer respects them: in the image's header (`ProcHeader::settings`) and again in every
/// heartbeat home sends (a lock set at home while the process is away reaches the remote
/// within a second). Encoded as a `u32`: bit 0 locked, bits 1-2 the hint (0 none, 1 CPU, 2 I/O).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    /// The user's lock: the process stays where it is.
    pub locked: bool,
    /// The owner's hint.
    pub hint: Hint,
}

impl Carried {
    /// Encoded size.
    pub const LEN: usize = 4;

    /// What a process's settings carry.
    pub const fn of(s: Settings) -> Carried {
        Carried {
            locked: s.locked,
            hint: s.hint,
        }
    }

    /// The wire form.
    pub const fn encode(self) -> u32 {
        let hint = match self.hint {
            Hint::None => 0,
            Hint::Cpu => 1,
            Hint::Io => 2,
        };
        self.locked as u32 | hint << 1
    }

    /// Decodes the wire form; unknown bits are ignored (an unknown hint reads as none).
    pub const fn decode(v: u32) -> Carried {
        let hint = match (v >> 1) & 3 {
            1 => Hint::Cpu,
            2 => Hint::Io,
            _ => Hint::None,
        };
        Carried {
            locked: v & 1 != 0,
            hint,
        }
    }
}

/// The decay parameters of one step (per mille kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rates {
    /// `slowdecay`.
    pub slow: u32,
    /// `fastdecay`.
    pub fast: u32,
}

/// One user process as a scan saw it (the layout of the C shim's `struct mosix_proc_sample`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// Process id (thread group id).
    pub pid: i32,
    /// Parent's process id.
    pub ppid: i32,
    /// Start time, monotonic ns: with `pid`, the process's identity (pids are reused).
    pub start_ns: u64,
    /// CPU time of all its threads, living and dead, ns.
    pub runtime_ns: u64,
}

/// The statistics of one process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: i32,
    /// Start time (monotonic ns).
    pub start_ns: u64,
    /// Decay mode (inherited).
    pub mode: DecayMode,
    /// The user's lock: no automatic migration (inherited; openMosix's `lock`).
    pub locked: bool,
    /// The owner's hint (inherited).
    pub hint: Hint,
    /// Where the process runs: 0 = home (openMosix's `where`).
    pub node: u32,
    /// How many times it has migrated (`nmigs`).
    pub nmigs: u32,
    /// Whether a scan has seen the process (false for an entry made by a mode change between
    /// scans: its figures start at the next scan).
    pub sampled: bool,
    /// CPU time at the last scan, ns.
    pub runtime_ns: u64,
    /// Decayed CPU time, ns.
    pub ran: u64,
    /// Decayed elapsed time, ns.
    pub span: u64,
}

impl ProcStat {
    /// An entry for a process that no scan has seen yet.
    pub const fn pending(pid: i32, start_ns: u64, mode: DecayMode) -> Self {
        ProcStat {
            pid,
            start_ns,
            mode,
            locked: false,
            hint: Hint::None,
            node: 0,
            nmigs: 0,
            sampled: false,
            runtime_ns: 0,
            ran: 0,
            span: 0,
        }
    }

    /// Decayed CPU share in hundredths of one CPU (100: one CPU all the time; a process with
    /// several running threads can exceed it); 0 until the process has been watched.
    pub fn cpu(&self) -> u64 {
        self.ran
            .saturating_mul(100)
            .checked_div(self.span)
            .unwrap_or(0)
    }

    /// Forgets the figures (openMosix's `decay/clear`): the next step counts only the CPU time
    /// used after `runtime_ns`, the process's CPU time now.
    pub fn clear(&mut self, runtime_ns: u64) {
        self.ran = 0;
        self.span = 0;
        if self.sampled {
            self.runtime_ns = runtime_ns;
        }
    }

    /// What a child inherits from this process.
    pub const fn settings(&self) -> Settings {
        Settings {
            mode: self.mode,
            locked: self.locked,
            hint: self.hint,
        }
    }

    fn first_sight(s: &Sample, inherit: Settings, now_ns: u64, elapsed_ns: u64) -> Self {
        // A process born during this step counts its whole life; an older one (seen first
        // because the module was just loaded) its average share over the step's length.
        let age = now_ns.saturating_sub(s.start_ns).max(1);
        let span = age.min(elapsed_ns.max(1));
        let share = (span.saturating_mul(1000) / age).min(1000) as u32;
        let ran = decay(s.runtime_ns, share).min(span.saturating_mul(MAX_THREADS_SHARE));
        ProcStat {
            pid: s.pid,
            start_ns: s.start_ns,
            mode: inherit.mode,
            locked: inherit.locked,
            hint: inherit.hint,
            node: 0,
            nmigs: 0,
            sampled: true,
            runtime_ns: s.runtime_ns,
            ran,
            span,
        }
    }
}

/// A bound on a first sight's CPU share (a process cannot use more CPUs than exist; this only
/// keeps a corrupt start time from inventing a huge figure).
const MAX_THREADS_SHARE: u64 = 4096;

/// Finds `pid` in a table sorted by pid.
pub fn find(table: &[ProcStat], pid: i32) -> Option<usize> {
    table.binary_search_by_key(&pid, |e| e.pid).ok()
}

/// One decay step: merges a scan into the old table, writing the new one into `out` and
/// returning its length.
///
/// `old` must be sorted by pid; `samples` is sorted here. Every sampled process gets an entry:
/// a known one (same pid and start time) decays by its mode's rate and adds the CPU time used
/// since the last scan; a new one inherits its parent's [`Settings`] (inherited across `fork`,
/// as in openMosix) unless a change already made it a pending entry. Processes
/// that are gone are dropped, except pending entries newer than the scan (`scan_ns`, when the
/// scan began): their process started after the scan looked. `out` must hold
/// `samples.len()` plus the number of pending entries of `old`; entries that do not fit are
/// dropped. The result is sorted by pid.
pub fn step(
    old: &[ProcStat],
    samples: &mut [Sample],
    rates: Rates,
    scan_ns: u64,
    elapsed_ns: u64,
    out: &mut [ProcStat],
) -> usize {
    super::sort::sort_by_key(samples, |s| s.pid);
    let mut n = 0;
    for s in samples.iter() {
        let Some(slot) = out.get_mut(n) else { break };
        let known = find(old, s.pid)
            .and_then(|i| old.get(i))
            .filter(|e| e.start_ns == s.start_ns);
        *slot = match known {
            Some(e) if e.sampled => {
                let keep = e.mode.keep(rates);
                ProcStat {
                    runtime_ns: s.runtime_ns,
                    ran: decay(e.ran, keep)
                        .saturating_add(s.runtime_ns.saturating_sub(e.runtime_ns)),
                    span: decay(e.span, keep).saturating_add(elapsed_ns),
                    ..*e
                }
            }
            // A pending entry keeps where the process runs (it may have moved before any scan).
            Some(e) => ProcStat {
                node: e.node,
                nmigs: e.nmigs,
                ..ProcStat::first_sight(s, e.settings(), scan_ns, elapsed_ns)
            },
            None => {
                let parent = find(old, s.ppid).and_then(|i| old.get(i));
                ProcStat::first_sight(
                    s,
                    parent.map(|p| p.settings()).unwrap_or_default(),
                    scan_ns,
                    elapsed_ns,
                )
            }
        };
        n += 1;
    }
    let sampled = n;
    for e in old.iter().filter(|e| !e.sampled && e.start_ns >= scan_ns) {
        if find(&out[..sampled], e.pid).is_some() {
            continue;
        }
        let Some(slot) = out.get_mut(n) else { break };
        *slot = *e;
        n += 1;
    }
    if n > sampled {
        super::sort::sort_by_key(&mut out[..n], |e| e.pid);
    }
    n
}

/// What a process passes on to the children it forks: decay mode and lock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Decay mode.
    pub mode: DecayMode,
    /// The user's lock.
    pub locked: bool,
    /// The owner's hint.
    pub hint: Hint,
}

/// The settings of a process: its entry's, else (a process no scan has seen yet) what it will
/// inherit from its parent, else the defaults.
pub fn settings_of(table: &[ProcStat], pid: i32, start_ns: u64, ppid: i32) -> Settings {
    let own = find(table, pid)
        .and_then(|i| table.get(i))
        .filter(|e| e.start_ns == start_ns);
    let parent = || find(table, ppid).and_then(|i| table.get(i));
    own.or_else(parent)
        .map(|e| e.settings())
        .unwrap_or_default()
}

/// A change a process (or its owner) makes between scans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// New decay mode.
    pub mode: Option<DecayMode>,
    /// New lock.
    pub lock: Option<bool>,
    /// New hint.
    pub hint: Option<Hint>,
    /// Forget the figures (`decay/clear`); the process's CPU time now.
    pub clear: Option<u64>,
    /// The process now runs on this node (0 = home); a change counts a migration.
    pub node: Option<u32>,
}

impl Change {
    fn apply_to(&self, e: &mut ProcStat) {
        if let Some(m) = self.mode {
            e.mode = m;
        }
        if let Some(l) = self.lock {
            e.locked = l;
        }
        if let Some(h) = self.hint {
            e.hint = h;
        }
        if let Some(runtime_ns) = self.clear {
            e.clear(runtime_ns);
        }
        if let Some(n) = self.node.filter(|n| *n != e.node) {
            e.node = n;
            e.nmigs = e.nmigs.saturating_add(1);
        }
    }
}

/// Where a change lands in a table sorted by pid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The process has an entry at this index (updated).
    Updated(usize),
    /// The process has no entry: insert the entry given at this index.
    Insert(usize, ProcStat),
}

/// Applies a change to process `pid` (started at `start_ns`, child of `ppid`), or says which
/// pending entry to insert where: the settings it would inherit from its parent, changed. An
/// entry of an older process with the same pid is replaced the same way.
pub fn change(
    table: &mut [ProcStat],
    pid: i32,
    start_ns: u64,
    ppid: i32,
    change: &Change,
) -> Placement {
    let inherit = |t: &[ProcStat]| {
        let s = find(t, ppid)
            .and_then(|i| t.get(i))
            .map(|p| p.settings())
            .unwrap_or_default();
        let mut e = ProcStat::pending(pid, start_ns, s.mode);
        e.locked = s.locked;
        e.hint = s.hint;
        change.apply_to(&mut e);
        e
    };
    match table.binary_search_by_key(&pid, |e| e.pid) {
        Ok(i) => {
            let fresh = inherit(table);
            if let Some(e) = table.get_mut(i) {
                if e.start_ns == start_ns {
                    change.apply_to(e);
                } else {
                    *e = fresh;
                }
            }
            Placement::Updated(i)
        }
        Err(i) => Placement::Insert(i, inherit(table)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{vec, vec::Vec};

    const S: u64 = 1_000_000_000;
    const RATES: Rates = Rates {
        slow: 975,
        fast: 926,
    };

    fn sample(pid: i32, ppid: i32, start_ns: u64, runtime_ns: u64) -> Sample {
        Sample {
            pid,
            ppid,
            start_ns,
            runtime_ns,
        }
    }

    /// Runs one step, returning the new table.
    fn run(old: &[ProcStat], mut samples: Vec<Sample>, now: u64, elapsed: u64) -> Vec<ProcStat> {
        let pending = old.iter().filter(|e| !e.sampled).count();
        let mut out = std::vec![ProcStat::default(); samples.len() + pending];
        let n = step(old, &mut samples, RATES, now, elapsed, &mut out);
        out.truncate(n);
        out
    }

    /// Simulates a process born 0.5 s before the first scan that uses `shares[i]` per mille
    /// of a CPU in step i (and `shares[0]` before the first scan); returns `cpu()` per step.
    fn simulate(mode: DecayMode, shares: &[u64]) -> Vec<u64> {
        let mut t = vec![ProcStat::pending(7, 0, mode)];
        let (mut now, mut rt) = (S / 2, shares[0] * S / 2000);
        t = run(&t, vec![sample(7, 1, 0, rt)], now, S);
        let mut cpus = Vec::new();
        for share in shares {
            now += S;
            rt += share * S / 1000;
            t = run(&t, vec![sample(7, 1, 0, rt)], now, S);
            cpus.push(t[0].cpu());
        }
        cpus
    }

    #[test]
    fn a_hog_reads_one_cpu_and_an_idle_process_zero() {
        let hog = simulate(DecayMode::Slow, &[1000; 30]);
        assert!(hog.iter().all(|&c| (99..=100).contains(&c)), "{hog:?}");
        let idle = simulate(DecayMode::Slow, &[0; 30]);
        assert!(idle[29] <= 2, "{idle:?}");
        let half = simulate(DecayMode::Fast, &[500; 30]);
        assert!(half[29].abs_diff(50) <= 1, "{half:?}");
    }

    #[test]
    fn fast_forgets_sooner_than_slow_and_none_never() {
        let mut pattern = vec![1000u64; 60];
        pattern.extend([0u64; 20]);
        let slow = simulate(DecayMode::Slow, &pattern);
        let fast = simulate(DecayMode::Fast, &pattern);
        let none = simulate(DecayMode::None, &pattern);
        // Ten idle seconds after a minute of work: fast has forgotten more than half of it,
        // slow about a fifth, none only in proportion to the time (60/70).
        assert!(fast[69] < 50, "fast {}", fast[69]);
        assert!((70..=85).contains(&slow[69]), "slow {}", slow[69]);
        assert!(none[69].abs_diff(6000 / 70) <= 2, "none {}", none[69]);
        assert!(fast[79] < slow[79] && slow[79] < none[79]);
        // Half-lives in steps of idleness, from a full CPU: slow 28, fast 10 (as load::decay).
        let slow_half = slow[60..].iter().position(|&c| c < 50).unwrap_or(99);
        let fast_half = fast[60..].iter().position(|&c| c < 50).unwrap_or(99);
        assert!(fast_half < slow_half, "{fast_half} {slow_half}");
    }

    #[test]
    fn new_processes_inherit_the_parent_mode_and_start_unbiased() {
        let old = vec![
            ProcStat {
                locked: true,
                sampled: true,
                span: S,
                ..ProcStat::pending(10, 5, DecayMode::Fast)
            },
            ProcStat {
                sampled: true,
                span: S,
                ..ProcStat::pending(20, 6, DecayMode::None)
            },
        ];
        // pid 30 (child of 10) was born 0.5 s before the scan and ran all the time; pid 40
        // (child of an unknown parent) is old and used 1% on average.
        let now = 1000 * S;
        let t = run(
            &old,
            vec![
                sample(40, 99, 0, 10 * S),
                sample(30, 10, now - S / 2, S / 2),
                sample(10, 1, 5, 0),
                sample(20, 1, 6, 0),
            ],
            now,
            S,
        );
        assert_eq!(
            t.iter().map(|e| e.pid).collect::<Vec<_>>(),
            [10, 20, 30, 40],
            "sorted"
        );
        assert_eq!(
            (t[2].mode, t[2].locked),
            (DecayMode::Fast, true),
            "inherited"
        );
        assert_eq!(t[2].cpu(), 100, "born during the step, busy all its life");
        assert_eq!(
            (t[3].mode, t[3].locked),
            (DecayMode::Slow, false),
            "default"
        );
        assert_eq!(
            t[3].cpu(),
            1,
            "an old process starts at its lifetime average"
        );
    }

    #[test]
    fn reused_pids_and_gone_processes() {
        let mut t = run(
            &[],
            vec![sample(5, 1, 100, 0), sample(6, 1, 100, 0)],
            100 + S,
            S,
        );
        t[0].mode = DecayMode::Fast;
        // pid 5 is a new process now; pid 6 is gone.
        let t2 = run(&t, vec![sample(5, 1, 200, S / 2)], 200 + S, S);
        assert_eq!(t2.len(), 1);
        assert_eq!(t2[0].start_ns, 200);
        assert_eq!(t2[0].mode, DecayMode::Slow, "not the old process's mode");
        assert_eq!(t2[0].cpu(), 50);
    }

    fn set(t: &mut Vec<ProcStat>, pid: i32, start: u64, ppid: i32, c: Change) {
        if let Placement::Insert(i, e) = change(t, pid, start, ppid, &c) {
            t.insert(i, e);
        }
    }

    fn mode(m: DecayMode) -> Change {
        Change {
            mode: Some(m),
            ..Change::default()
        }
    }

    #[test]
    fn changes_between_scans() {
        let now = 10 * S;
        let mut t = run(&[], vec![sample(5, 1, 0, 0)], now, S);
        // Known process: updated in place.
        assert_eq!(
            change(&mut t, 5, 0, 1, &mode(DecayMode::Fast)),
            Placement::Updated(0)
        );
        assert_eq!(t[0].mode, DecayMode::Fast);
        // Unknown: the caller inserts the pending entry where told.
        set(&mut t, 3, now + 1, 1, mode(DecayMode::None));
        set(&mut t, 9, now - S, 1, mode(DecayMode::Fast));
        assert_eq!(t.iter().map(|e| e.pid).collect::<Vec<_>>(), [3, 5, 9]);
        assert_eq!(t[0], ProcStat::pending(3, now + 1, DecayMode::None));
        // The next scan began before pid 3 started and does not list it: it is kept. Pid 9
        // started before the scan and is not listed: it is gone.
        let t2 = run(&t, vec![sample(5, 1, 0, S)], now + 1, S);
        assert_eq!(
            t2.iter().map(|e| (e.pid, e.sampled)).collect::<Vec<_>>(),
            [(3, false), (5, true)]
        );
        // A scan that sees pid 3 gives it figures and keeps its mode, and where it runs (a
        // process may migrate before any scan has seen it).
        let mut t2 = t2;
        set(
            &mut t2,
            3,
            now + 1,
            1,
            Change {
                node: Some(2),
                ..Change::default()
            },
        );
        let t3 = run(
            &t2,
            vec![sample(5, 1, 0, S), sample(3, 5, now + 1, S / 4)],
            now + 1 + S / 2,
            S,
        );
        assert_eq!(t3[0].mode, DecayMode::None);
        assert_eq!((t3[0].node, t3[0].nmigs), (2, 1));
        assert!(t3[0].sampled && t3[0].cpu() == 50, "{:?}", t3[0]);
        // clear forgets the figures, and the CPU time used before it.
        let mut t4 = t3.clone();
        set(
            &mut t4,
            5,
            0,
            1,
            Change {
                clear: Some(3 * S),
                ..Change::default()
            },
        );
        assert_eq!((t4[1].ran, t4[1].span, t4[1].cpu()), (0, 0, 0));
        let t5 = run(
            &t4,
            vec![sample(5, 1, 0, 3 * S), sample(3, 5, now + 1, S / 4)],
            now + 1 + S,
            S,
        );
        assert_eq!(t5[1].cpu(), 0, "idle since the clear");
        // A lock on pid 5 (fast); a new process with pid 3 (child of 5) replaces the old
        // entry and inherits 5's settings, then its own change.
        set(
            &mut t4,
            5,
            0,
            1,
            Change {
                lock: Some(true),
                ..Change::default()
            },
        );
        set(&mut t4, 3, 77, 5, Change::default());
        assert_eq!(
            (t4[0].start_ns, t4[0].mode, t4[0].locked, t4[0].sampled),
            (77, DecayMode::Fast, true, false)
        );
        // Location: a move counts, a repeated one does not; a scan keeps both.
        set(
            &mut t4,
            5,
            0,
            1,
            Change {
                node: Some(3),
                ..Change::default()
            },
        );
        set(
            &mut t4,
            5,
            0,
            1,
            Change {
                node: Some(3),
                ..Change::default()
            },
        );
        assert_eq!((t4[1].node, t4[1].nmigs), (3, 1));
        let t6 = run(&t4, vec![sample(5, 1, 0, 3 * S)], now + 2 * S, S);
        assert_eq!((t6[0].node, t6[0].nmigs), (3, 1));
        // A process no scan has seen yet has the settings it will inherit.
        let fast_locked = Settings {
            mode: DecayMode::Fast,
            locked: true,
            hint: Hint::None,
        };
        assert_eq!(settings_of(&t4, 3, 77, 1), fast_locked, "own entry");
        assert_eq!(settings_of(&t4, 4, 1, 5), fast_locked, "parent's");
        assert_eq!(
            settings_of(&t4, 3, 78, 99),
            Settings::default(),
            "stale own entry, unknown parent"
        );
    }

    #[test]
    fn small_output_and_extremes_do_not_panic() {
        let mut samples = vec![
            sample(1, 0, u64::MAX, u64::MAX),
            sample(2, 1, 0, u64::MAX),
            sample(-1, -1, 0, 0),
        ];
        let mut out = [ProcStat::default(); 2];
        let n = step(
            &[],
            &mut samples,
            Rates {
                slow: 5000,
                fast: 0,
            },
            0,
            0,
            &mut out,
        );
        assert_eq!(n, 2);
        let old = out;
        let n = step(&old, &mut samples, RATES, u64::MAX, u64::MAX, &mut out);
        assert_eq!(n, 2);
        assert!(out.iter().all(|e| e.cpu() <= 100 * MAX_THREADS_SHARE));
    }

    #[test]
    fn carried_round_trips() {
        for locked in [false, true] {
            for hint in [Hint::None, Hint::Cpu, Hint::Io] {
                let c = Carried { locked, hint };
                assert_eq!(Carried::decode(c.encode()), c);
            }
        }
        assert_eq!(Carried::decode(0), Carried::default());
        assert_eq!(
            Carried::decode(0xffff_fff7),
            Carried {
                locked: true,
                hint: Hint::None
            },
            "unknown hint 3"
        );
        let s = Settings {
            mode: DecayMode::Fast,
            locked: true,
            hint: Hint::Io,
        };
        assert_eq!(
            Carried::of(s),
            Carried {
                locked: true,
                hint: Hint::Io
            }
        );
    }
}
