// SPDX-License-Identifier: GPL-2.0
//! The balancer: the `mosix-balance` kthread decides, every [`TICK_MS`], whether to move one
//! process away from this node (`mcore::balance`: memory ushering first, then load), and
//! makes the move itself, so that at most one outgoing move runs at a time.
//!
//! What it decides from: this node's even run-queue average (`load::runq_even_fixed`) and
//! memory, the other nodes' gossiped loads and memory (corrected for its own moves that their
//! figures cannot show yet), and the processes running here: their decayed CPU share
//! (`procstat`), age, resident size, stay reasons and locks (a guest's lock and hint as its
//! home last said). A process of this node moves with `migration::migrate`; a guest is sent home
//! by its watcher (as `expel` does).
//!
//! # Locking
//!
//! The thread owns its state. It takes `procstat::PROCS`, `cluster::CONFIG` and the remote
//! registry one at a time, never nested, and holds a module reference (`sys::ModuleHold`)
//! while a move runs, so an `rmmod` meanwhile is held back until the move is done.

use crate::{
    cluster,
    mcore::{
        abi::NodeInfo,
        balance::{
            self,
            Flags,
            Move,
            Node,
            Proc,
            Recent,
            Tunables,
            Why, //
        },
        load::FIXED_1,
        params::{
            status,
            Param, //
        },
        placement::{
            self,
            Bin,
            Policy, //
        },
        procstat::Hint,
        stay,
    },
    migration::{
        self,
        guest, //
    },
    procstat,
    sys, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};

/// How often the balancer looks, ms.
const TICK_MS: u32 = 250;
/// The pause after a move, ms.
const AFTER_MOVE_MS: u32 = 50;
/// Processes looked at per tick (the busiest, or with memory short the biggest).
const MAX_PROCS: usize = 64;
/// Moves remembered (for the load corrections and the residency rule).
const MAX_RECENT: usize = 32;
/// How long a move is remembered, ms.
const REMEMBER_MS: i64 = 120_000;
/// Page size of the memory figures.
const PAGE: u64 = 4096;
/// Longest wait for a guest sent home to leave, ms.
const GUEST_WAIT_MS: i64 = 60_000;

/// A move made (or tried) from here.
#[derive(Clone, Copy)]
struct Made {
    pid: i32,
    /// Its effect on the loads and when it ended (`weight` 0: failed, kept only for the
    /// residency rule).
    recent: Recent,
}

/// The balancer's state, owned by its thread.
pub(crate) struct State {
    made: KVec<Made>,
    tunables: Tunables,
    /// A failure to gather the figures has been logged (once until it works again).
    failing: bool,
}

impl State {
    fn new() -> Self {
        State {
            made: KVec::new(),
            tunables: Tunables::DEFAULT,
            failing: false,
        }
    }

    /// One look; returns after the move it decided on, if any, has ended: whether it made one.
    fn tick(&mut self) -> bool {
        if !cluster::has_key() || cluster::flag(Param::Stay) {
            return false;
        }
        let now = sys::now_ms();
        self.made
            .retain(|m| now.saturating_sub(m.recent.done_ms) < REMEMBER_MS);
        let flags = Flags {
            stay: false,
            lstay: cluster::flag(Param::Lstay),
        };
        let Some((me, infos)) = crate::gossip::nodes::all_nodes() else {
            return false;
        };
        let r = self.gather(me, &infos, now).map(|(nodes, procs)| {
            let (here, peers) = (nodes.first().copied().unwrap_or_default(), &nodes[..]);
            balance::usher(&here, flags, peers, &procs, &self.tunables)
                .or_else(|| balance::decide(&here, flags, peers, &procs, &self.tunables))
                .map(|m| {
                    (
                        m,
                        procs.iter().find(|p| p.pid == m.pid).map_or(0, |p| p.home),
                    )
                })
        });
        match r {
            Ok(Some((m, home))) => {
                self.failing = false;
                self.make(m, home)
            }
            Ok(None) => {
                self.failing = false;
                false
            }
            Err(e) => {
                if !self.failing {
                    pr_warn!(
                        "balance: cannot gather the figures (error {})\n",
                        e.to_errno()
                    );
                }
                self.failing = true;
                false
            }
        }
    }

    /// The nodes (this one first) and the processes running here, as the decision wants them.
    fn gather(&self, me: u32, infos: &[NodeInfo], now: i64) -> Result<(KVec<Node>, KVec<Proc>)> {
        let recent: KVec<Recent> = {
            let mut v = KVec::with_capacity(self.made.len(), GFP_KERNEL)?;
            for m in self.made.iter().filter(|m| m.recent.weight > 0) {
                v.push(m.recent, GFP_KERNEL)?;
            }
            v
        };
        let mut nodes = KVec::with_capacity(infos.len(), GFP_KERNEL)?;
        for (i, n) in infos.iter().enumerate() {
            let u32_of = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
            let (cpus, speed) = (u32_of(n.cpus).max(1), u32_of(n.speed).max(1));
            let up = n.status & status::UP != 0;
            let (demand, measured) = if i == 0 {
                // The average lags a departure by a second: what runs now bounds it.
                let now_running = u64::from(sys::count_runnable()).saturating_mul(1000);
                (
                    (crate::load::runq_even_fixed().saturating_mul(1000) / FIXED_1)
                        .min(now_running),
                    now,
                )
            } else {
                (
                    Node::demand_from_load(n.load, cpus, speed),
                    now.saturating_sub(n.age_ms.max(0)),
                )
            };
            nodes.push(
                Node {
                    id: n.id,
                    cpus,
                    speed,
                    demand: balance::adjusted(demand, n.id, me, measured, &recent),
                    avail: bytes(n.mem),
                    total: bytes(n.tmem),
                    takes_guests: up && n.status & status::BLOCK == 0,
                    up,
                },
                GFP_KERNEL,
            )?;
        }
        let short = nodes.first().is_some_and(|h| h.avail < h.reserve());
        Ok((nodes, self.procs(now, short)?))
    }

    /// The processes running here that the balancer may consider: the busiest (with memory
    /// short: the biggest) first.
    fn procs(&self, now: i64, short: bool) -> Result<KVec<Proc>> {
        let guests = guest::guest_list(MAX_PROCS);
        let now_ns = sys::now_ns();
        // (pid, start, cpu, hint) of the processes running here, from the statistics table.
        let mut here: KVec<(i32, u64, u32, Hint)> = KVec::new();
        procstat::with_table(|t| {
            for e in t.iter().filter(|e| e.sampled && e.node == 0) {
                here.push(
                    (
                        e.pid,
                        e.start_ns,
                        u32::try_from(e.cpu()).unwrap_or(u32::MAX),
                        e.hint,
                    ),
                    GFP_KERNEL,
                )?;
            }
            Ok::<(), Error>(())
        })?;
        if !short {
            // Only CPU users (and CPU jobs) matter for load; the busiest first.
            here.retain(|e| e.2 > 0 || e.3 == Hint::Cpu);
            crate::mcore::sort::sort_by_key(&mut here, |e| core::cmp::Reverse(e.2));
        }
        let mut procs = KVec::with_capacity(here.len().min(MAX_PROCS * 4), GFP_KERNEL)?;
        for &(pid, start, cpu, hint) in here.iter().take(MAX_PROCS * 4) {
            // A process that has gone, or whose pid was reused, is skipped.
            let Ok(size) = sys::proc_rss(pid) else {
                continue;
            };
            let movable = match procstat::cantmove(pid) {
                Ok(bits) => stay::movable(bits),
                Err(_) => continue,
            };
            let mut since = self
                .made
                .iter()
                .rev()
                .find(|m| m.pid == pid)
                .map_or(u64::MAX, |m| ms(now - m.recent.done_ms));
            let (mut home, mut movable, mut hint) = (0, movable, hint);
            if let Some(g) = guests.iter().find(|g| g.pid == pid) {
                // A guest: its owner's lock and hint as home says; it arrived by a move.
                (home, hint) = (g.home, g.carried.hint);
                movable &= !g.carried.locked;
                since = since.min(now_ns.saturating_sub(g.arrived_ns) / 1_000_000);
            }
            procs.push(
                Proc {
                    pid,
                    home,
                    cpu,
                    age_ms: now_ns.saturating_sub(start) / 1_000_000,
                    size,
                    since_move_ms: since,
                    movable,
                    hint,
                },
                GFP_KERNEL,
            )?;
        }
        if short {
            crate::mcore::sort::sort_by_key(&mut procs, |p| core::cmp::Reverse(p.size));
            procs.truncate(MAX_PROCS);
        }
        Ok(procs)
    }

    /// Makes move `m` of a process whose home is `home` (0: this node) and waits for its end;
    /// whether the process moved.
    fn make(&mut self, m: Move, home: u32) -> bool {
        let Some(_hold) = sys::ModuleHold::take() else {
            return false;
        };
        let (here, there) = (m.rates.0 / 10_000, m.rates.1 / 10_000);
        match m.why {
            Why::Memory => pr_info!("balance: memory short: moving process {} to node {}\n", m.pid, m.to),
            why => pr_info!(
                "balance: moving process {} to node {} ({}: {}% of a processor here, {}% there; demands {}.{:02} here, {}.{:02} there)\n",
                m.pid,
                m.to,
                why.name(),
                here,
                there,
                m.demands.0 / 1000,
                m.demands.0 % 1000 / 10,
                m.demands.1 / 1000,
                m.demands.1 % 1000 / 10
            ),
        }
        let t0 = sys::now_ms();
        let ok = if home != 0 {
            self.send_home(m.pid)
        } else {
            match migration::migrate(m.pid, i32::try_from(m.to).unwrap_or(-1)) {
                Ok(f) => {
                    self.learn(f.bytes, f.total_ns);
                    true
                }
                // `migrate` logs why.
                Err(_) => false,
            }
        };
        let done_ms = sys::now_ms();
        if ok {
            pr_info!(
                "balance: process {} now on node {} ({} ms)\n",
                m.pid,
                m.to,
                done_ms - t0
            );
        }
        if self.made.len() >= MAX_RECENT {
            self.made.remove(0).ok();
        }
        let recent = Recent {
            weight: if ok { m.weight } else { 0 },
            ..Recent::of(&m, done_ms)
        };
        let _ = self.made.push(Made { pid: m.pid, recent }, GFP_KERNEL);
        ok
    }

    /// Sends guest `pid` home and waits until it has left.
    fn send_home(&self, pid: i32) -> bool {
        if !guest::send_guest_home(pid) {
            return false;
        }
        let t0 = sys::now_ms();
        while sys::now_ms() - t0 < GUEST_WAIT_MS && !sys::should_stop() {
            if !guest::guest_list(usize::MAX).iter().any(|g| g.pid == pid) {
                return true;
            }
            sys::sleep_ms(20);
        }
        false
    }

    /// Learns the migration throughput from a move of `bytes` that took `ns`.
    fn learn(&mut self, bytes: u64, ns: u64) {
        const LEARN_FROM: u64 = 4 << 20;
        let ms = ns / 1_000_000;
        if bytes >= LEARN_FROM && ms > 0 {
            let t = &mut self.tunables;
            t.bytes_per_ms = (3 * t.bytes_per_ms + bytes / ms) / 4;
        }
    }
}

/// The node last chosen by round robin or next fit (`place`).
static CURSOR: Atomic<u32> = Atomic::new(0);

/// Where a new process of `size` bytes should start by placement policy `policy` (-1: this
/// node's default, `admin/placement`): a node id, 0 for here. Free memory counts above each
/// node's reserve; nodes that are down or block take nothing. `EINVAL` for an unknown policy.
pub(crate) fn place(policy: i32, size: u64) -> Result<u32> {
    let v = if policy < 0 {
        cluster::param(Param::Placement)
    } else {
        i64::from(policy)
    };
    let Some(policy) = Policy::from_index(v) else {
        pr_warn!("/dev/mosix: PLACE rejected: no placement policy {}\n", v);
        return Err(EINVAL);
    };
    let Some((me, infos)) = crate::gossip::nodes::all_nodes() else {
        return Ok(0);
    };
    let mut bins = KVec::with_capacity(infos.len(), GFP_KERNEL)?;
    for n in infos.iter() {
        let node = Node {
            avail: bytes(n.mem),
            total: bytes(n.tmem),
            ..Node::default()
        };
        let up = n.status & status::UP != 0;
        let usable = up && (n.id == me || n.status & status::BLOCK == 0);
        bins.push(
            Bin {
                free: node.avail.saturating_sub(node.reserve()),
                usable,
            },
            GFP_KERNEL,
        )?;
    }
    let last = CURSOR.load(Relaxed);
    let mut cursor = infos.iter().position(|n| n.id == last).unwrap_or(0);
    let chosen = placement::choose(policy, &bins, size, &mut cursor)
        .and_then(|i| infos.get(i))
        .map_or(me, |n| n.id);
    if matches!(policy, Policy::RoundRobin | Policy::NextFit) {
        CURSOR.store(chosen, Relaxed);
    }
    Ok(if chosen == me { 0 } else { chosen })
}

/// Bytes of a memory figure in pages (negative: unknown, 0).
fn bytes(pages: i64) -> u64 {
    u64::try_from(pages.max(0))
        .unwrap_or(0)
        .saturating_mul(PAGE)
}

/// A non-negative ms difference.
fn ms(d: i64) -> u64 {
    u64::try_from(d).unwrap_or(0)
}

/// The balancer thread's function.
fn run(st: &mut State) {
    while !sys::should_stop() {
        // After a move, look again soon: the next one may be due at once.
        let moved = st.tick();
        sys::sleep_ms(if moved { AFTER_MOVE_MS } else { TICK_MS });
    }
}

/// The running balancer; stops it on drop (after the move it is making, if any).
pub(crate) struct Balancer {
    _thread: sys::Thread<State>,
}

impl Balancer {
    /// Starts the balancer thread.
    pub(crate) fn start() -> Result<Balancer> {
        Ok(Balancer {
            _thread: sys::Thread::start(c"mosix-balance", State::new(), run)?,
        })
    }
}
