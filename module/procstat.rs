// SPDX-License-Identifier: GPL-2.0
//! Per-process CPU statistics: the table of `mcore::procstat`, its decay steps (taken by the
//! load sampler every `decayinterval` seconds) and the decay-mode changes that processes make
//! through `/proc/mosix/decay/*`.
//!
//! # Locking
//!
//! [`PROCS`] is a leaf: nothing else is taken while it is held. It is held for one step
//! (a merge and one allocation) or one `/proc` read.

use crate::{
    cluster,
    mcore::{
        params::Param,
        procfile::DecayFile,
        procstat::{
            self,
            Carried,
            Change,
            DecayMode,
            Placement,
            ProcStat,
            Rates,
            Sample,
            Settings, //
        },
    },
    sys, //
};
use kernel::prelude::*;

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init_lock` in the module initialiser before first use.
    pub(crate) unsafe(uninit) static PROCS: Mutex<KVVec<ProcStat>> = KVVec::new();
}

/// Initialises the table lock.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before any other function here.
pub(crate) unsafe fn init_lock() {
    // SAFETY: Called once before first use (function contract).
    unsafe { PROCS.init() };
}

/// Runs `f` on the table (sorted by pid). For `/proc/mosix/procs` and the balancer.
pub(crate) fn with_table<R>(f: impl FnOnce(&[ProcStat]) -> R) -> R {
    f(&PROCS.lock())
}

/// The decay parameters now.
fn rates() -> Rates {
    let get = |p| u32::try_from(cluster::param(p)).unwrap_or(1000);
    Rates {
        slow: get(Param::SlowDecay),
        fast: get(Param::FastDecay),
    }
}

/// How often the table is refreshed (at most; `decayinterval` if shorter, which it cannot be
/// at its 1 s minimum).
const SCAN_NS: u64 = 1_000_000_000;

/// Scans the processes every second and takes a decay step every `decayinterval`; owned by
/// the load sampler thread.
pub(crate) struct Stepper {
    samples: KVVec<Sample>,
    /// When the last scan began (monotonic ns).
    last_ns: u64,
    /// When the last decay step was taken.
    last_decay_ns: u64,
    /// Whether a failure has been logged (logged once until a step succeeds).
    failing: bool,
    /// Called after each scan, outside [`PROCS`], with the pids sampled (`/proc/mosix/pid/`
    /// follows them).
    on_scan: fn(&[i32]) -> Result,
}

impl Stepper {
    /// A stepper whose first step counts from now; `on_scan` gets the sampled pids after
    /// each scan.
    pub(crate) fn new(on_scan: fn(&[i32]) -> Result) -> Self {
        let now = sys::now_ns();
        Stepper {
            samples: KVVec::new(),
            last_ns: now,
            last_decay_ns: now,
            failing: false,
            on_scan,
        }
    }

    /// Scans if a second has passed since the last scan, decaying if `decayinterval` has.
    pub(crate) fn tick(&mut self) {
        let now = sys::now_ns();
        let interval_ns = u64::try_from(cluster::param(Param::DecayInterval))
            .unwrap_or(1)
            .saturating_mul(1_000_000_000);
        // Ticks come every 100 ms: allow for their jitter.
        let due = |since: u64, period: u64| {
            now.saturating_sub(since).saturating_add(50_000_000) >= period
        };
        if !due(self.last_ns, SCAN_NS.min(interval_ns)) {
            return;
        }
        // Between decay steps a scan only adds (keeps 1000 per mille): new and gone processes
        // and the figures follow within a second whatever `decayinterval` is.
        let decaying = due(self.last_decay_ns, interval_ns);
        let rates = if decaying {
            rates()
        } else {
            Rates {
                slow: 1000,
                fast: 1000,
            }
        };
        match self.step(now, rates).and_then(|()| self.sync_proc()) {
            Ok(()) => self.failing = false,
            Err(e) => {
                if !self.failing {
                    pr_warn!("process statistics: scan failed ({:?}); figures are stale until it succeeds\n", e);
                }
                self.failing = true;
            }
        }
        if decaying {
            self.last_decay_ns = now;
        }
    }

    /// Hands the sampled pids to `on_scan` (outside [`PROCS`]: `/proc/mosix/pid/` follows them,
    /// and removing a directory waits for its readers, which take it).
    fn sync_proc(&mut self) -> Result {
        let mut pids = KVVec::with_capacity(self.samples.len(), GFP_KERNEL)?;
        with_table(|t| {
            for e in t.iter().filter(|e| e.sampled) {
                // Within capacity: the table holds no more sampled entries than samples.
                pids.push(e.pid, GFP_KERNEL)?;
            }
            Ok::<(), Error>(())
        })?;
        (self.on_scan)(&pids)
    }

    fn step(&mut self, scan_ns: u64, rates: Rates) -> Result {
        sys::sample_procs(&mut self.samples)?;
        let elapsed = scan_ns.saturating_sub(self.last_ns);
        let mut procs = PROCS.lock();
        let pending = procs.iter().filter(|e| !e.sampled).count();
        let mut out = KVVec::new();
        out.resize(
            self.samples.len().saturating_add(pending),
            ProcStat::default(),
            GFP_KERNEL,
        )?;
        let n = procstat::step(&procs, &mut self.samples, rates, scan_ns, elapsed, &mut out);
        out.truncate(n);
        *procs = out;
        self.last_ns = scan_ns;
        Ok(())
    }
}

/// The decay mode a `/proc/mosix/decay/` file sets (`clear` sets none).
fn decay_mode(f: DecayFile) -> Option<DecayMode> {
    match f {
        DecayFile::Slow => Some(DecayMode::Slow),
        DecayFile::Fast => Some(DecayMode::Fast),
        DecayFile::NoDecay => Some(DecayMode::None),
        DecayFile::Clear => None,
    }
}

/// What reading a decay file tells the reader: 1 if the reader's process is in its mode.
pub(crate) fn decay_read(f: DecayFile) -> u8 {
    let (pid, ppid, start) = sys::current_proc();
    u8::from(decay_mode(f) == Some(settings(pid, start, ppid).mode))
}

/// Applies a decay file to the writing process (and, through inheritance, the children it
/// forks from now on).
pub(crate) fn decay_apply(f: DecayFile) -> Result {
    let (pid, ppid, start) = sys::current_proc();
    let clear = (f == DecayFile::Clear).then(sys::current_runtime_ns);
    change(
        pid,
        start,
        ppid,
        &Change {
            mode: decay_mode(f),
            clear,
            ..Change::default()
        },
    )
}

/// The settings (decay mode, lock) of a process, as it has them or will inherit them.
pub(crate) fn settings(pid: i32, start_ns: u64, ppid: i32) -> Settings {
    procstat::settings_of(&PROCS.lock(), pid, start_ns, ppid)
}

/// Why process `pid` cannot move: the stay bits its kernel state shows plus the user's
/// lock (`cantmove`; 0 = it may move).
pub(crate) fn cantmove(pid: i32) -> Result<u32> {
    let bits = crate::mcore::stay::from_facts(&sys::task_facts(pid)?);
    let (ppid, start) = sys::proc_ident(pid)?;
    let locked = settings(pid, start, ppid).locked;
    Ok(bits
        | if locked {
            crate::mcore::stay::USER_LOCK
        } else {
            0
        })
}

/// The lock and hint process `pid` of this node carries when it migrates (defaults if it is
/// gone).
pub(crate) fn carried(pid: i32) -> Carried {
    sys::proc_ident(pid).map_or(Carried::default(), |(ppid, start)| {
        Carried::of(settings(pid, start, ppid))
    })
}

/// `(where, nmigs)` of a process.
pub(crate) fn whereabouts(pid: i32, start_ns: u64) -> (u32, u32) {
    let procs = PROCS.lock();
    procstat::find(&procs, pid)
        .and_then(|i| procs.get(i))
        .filter(|e| e.start_ns == start_ns)
        .map_or((0, 0), |e| (e.node, e.nmigs))
}

/// Changes a process's settings (making its entry if no scan has seen it yet).
pub(crate) fn change(pid: i32, start_ns: u64, ppid: i32, c: &Change) -> Result {
    let mut procs = PROCS.lock();
    match procstat::change(&mut procs, pid, start_ns, ppid, c) {
        Placement::Updated(_) => Ok(()),
        Placement::Insert(i, e) => {
            procs.reserve(1, GFP_KERNEL)?;
            procs.insert_within_capacity(i, e).map_err(|_| ENOMEM)
        }
    }
}

/// Frees the table when the module goes (after the sampler has stopped).
pub(crate) struct Registration;

impl Drop for Registration {
    fn drop(&mut self) {
        let table = core::mem::replace(&mut *PROCS.lock(), KVVec::new());
        drop(table);
    }
}
