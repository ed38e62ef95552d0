// SPDX-License-Identifier: GPL-2.0
//! Balancing decisions: which one process (if any) this node should move now, and where
//! (reference §4.4).
//!
//! # The model
//!
//! A node has `cpus` processors of speed `speed` ([`STD_SPEED`] = one standard processor) and a
//! *demand*: how many processes want a processor, in thousandths ([`Node::demand`], derived
//! from the speed-normalised load the node reports). A CPU-bound process on a node with demand
//! `D` (itself included) progresses at [`Node::rate`] = `speed/STD × min(1, cpus/D)` standard
//! processors. Moving a process is worth it when
//!
//! 1. it would progress faster there, with itself added to the target's demand, by more than
//!    the stability margin (`margin_pct`, 30% by default: KRG's 130% factor): this one rule
//!    covers load spreading, slow-to-fast moves and SMP nodes, and makes a move that would
//!    merely swap the roles of two nodes unattractive, so nothing ping-pongs;
//! 2. the time it saves pays for the move: with its expected remaining life taken equal to its
//!    age (the classic heavy-tailed life-time rule), it saves `age × (1 − rate_here/rate_there)`
//!    and the move costs `cost_fixed_ms + size / bytes_per_ms`. Young and big processes wait;
//!    long-running CPU-bound ones go first;
//! 3. the target has the memory: its available memory stays above its reserve
//!    ([`Node::reserve`]) with the process added.
//!
//! A process's *weight* is how much of a processor it wants, estimated from its decayed CPU
//! share and the share it could have had here: a process that used 25% of the processor on a
//! node with four runnable processes is CPU-bound (weight 1000), one that used 5% is not.
//! Processes under `cpu_bound_permille` (30%) are left alone by load balancing. The bar is
//! low because the decayed share lags: on a node shedding load fast, a CPU loop's average
//! share trails the share it gets now (at 50% the last exports of a spread waited seconds).
//!
//! Memory ushering ([`usher`]) is separate and comes first: a node whose available memory has
//! fallen below its reserve moves its biggest movable process to the node with the most room.
//!
//! Everything the caller knows about the processes' stay reasons, locks and the nodes' `stay`,
//! `lstay` and `block` flags arrives as the [`Proc::movable`], [`Flags`] and
//! [`Node::takes_guests`] fields.
//!
//! A guest may only go home (a move on to a third node would pass through home anyway; home's
//! own balancer then places it): for load when home is faster for it by the margin (its owner's
//! lock and hint travel with it, [`crate::procstat::Carried`]), and when this node's memory
//! runs short, even locked, as openMosix moved a locked process home in an emergency.

use super::{
    params::STD_SPEED,
    procstat::Hint, //
};

/// One node as the balancer sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// Node id.
    pub id: u32,
    /// Processors.
    pub cpus: u32,
    /// Speed ([`STD_SPEED`] = a standard processor).
    pub speed: u32,
    /// Processes that want a processor, thousandths.
    pub demand: u64,
    /// Available memory, bytes.
    pub avail: u64,
    /// Total memory, bytes.
    pub total: u64,
    /// Up, configured and not blocking: it takes guests.
    pub takes_guests: bool,
    /// Up: it takes back its own processes (which `block` does not refuse).
    pub up: bool,
}

impl Node {
    /// Demand (thousandths of a process) from a speed-normalised load (hundredths of a
    /// standard processor, as `nodes/<id>/load` shows it).
    pub fn demand_from_load(load: i64, cpus: u32, speed: u32) -> u64 {
        let load = u64::try_from(load.max(0)).unwrap_or(0);
        let num = load
            .saturating_mul(10)
            .saturating_mul(u64::from(cpus.max(1)))
            .saturating_mul(u64::from(speed.max(1)));
        num.checked_div(STD_SPEED as u64).unwrap_or(0)
    }

    /// The rate, in millionths of a standard processor, at which a CPU-bound process
    /// progresses here when the demand (itself included) is `demand` thousandths.
    pub fn rate(&self, demand: u64) -> u64 {
        let speed_ppm = u64::from(self.speed).saturating_mul(1_000_000) / STD_SPEED as u64;
        let demand = demand.max(1000);
        let cpus = u64::from(self.cpus.max(1)).saturating_mul(1000);
        if cpus >= demand {
            speed_ppm
        } else {
            speed_ppm.saturating_mul(cpus) / demand
        }
    }

    /// Memory the balancer keeps free here: an eighth of it. Below this a node ushers a
    /// process away, and no process is moved in if it would take the node below it.
    pub fn reserve(&self) -> u64 {
        self.total / 8
    }

    /// Whether a process of `size` bytes fits here above the reserve.
    pub fn fits(&self, size: u64) -> bool {
        self.avail > size.saturating_add(self.reserve())
    }
}

/// This node's own admin flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `stay`: no automatic move away from this node.
    pub stay: bool,
    /// `lstay`: this node's own processes stay; guests may leave.
    pub lstay: bool,
}

/// A process running on this node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Proc {
    /// Its pid here.
    pub pid: i32,
    /// 0: a process of this node; else a guest whose home is this node.
    pub home: u32,
    /// Decayed CPU share, hundredths of a processor.
    pub cpu: u32,
    /// How long it has run here (guests: since they arrived), ms.
    pub age_ms: u64,
    /// Bytes its image would carry.
    pub size: u64,
    /// Time since its last move (or failed attempt), ms; `u64::MAX` if never.
    pub since_move_ms: u64,
    /// No stay reason, no lock.
    pub movable: bool,
    /// The owner's hint: a CPU job counts as CPU-bound from its start; an I/O job is not
    /// moved for load.
    pub hint: Hint,
}

/// Balancing parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunables {
    /// The target must be this much faster for the process, percent.
    pub margin_pct: u32,
    /// No process younger than this moves for load (its statistics are not yet meaningful).
    pub min_age_ms: u64,
    /// No process moves again this soon after a move.
    pub residency_ms: u64,
    /// Fixed cost of a migration, ms.
    pub cost_fixed_ms: u64,
    /// Measured migration throughput, bytes per ms.
    pub bytes_per_ms: u64,
    /// Weight (thousandths of a processor wanted) from which a process counts as CPU-bound.
    pub cpu_bound_permille: u64,
    /// The remaining life assumed for a process hinted as a CPU job while it is younger, ms.
    pub cpu_job_life_ms: u64,
}

impl Tunables {
    /// The defaults.
    pub const DEFAULT: Tunables = Tunables {
        margin_pct: 30,
        min_age_ms: 500,
        residency_ms: 5000,
        cost_fixed_ms: 200,
        bytes_per_ms: 40_000,
        cpu_bound_permille: 300,
        cpu_job_life_ms: 30_000,
    };

    /// The estimated time to move `size` bytes, ms.
    pub fn cost_ms(&self, size: u64) -> u64 {
        self.cost_fixed_ms
            .saturating_add(size.checked_div(self.bytes_per_ms.max(1)).unwrap_or(0))
    }
}

impl Default for Tunables {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a process moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// It gets more of a processor there.
    Load,
    /// The same share of a faster processor.
    Speed,
    /// This node is running out of memory.
    Memory,
}

impl Why {
    /// A word for the log.
    pub const fn name(self) -> &'static str {
        match self {
            Why::Load => "load",
            Why::Speed => "speed",
            Why::Memory => "memory",
        }
    }
}

/// A decision: move process `pid` to node `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// The process (its pid here).
    pub pid: i32,
    /// The target node.
    pub to: u32,
    /// Why.
    pub why: Why,
    /// Its weight, thousandths of a processor (what it adds to the target's demand).
    pub weight: u64,
    /// Its rate here and there, millionths of a standard processor.
    pub rates: (u64, u64),
    /// Time saved minus the estimated cost of the move, ms.
    pub score: u64,
    /// The demands of this node and of the target as the decision saw them.
    pub demands: (u64, u64),
}

/// Whether `p` may be moved by the balancer at all, given this node's flags.
fn eligible(p: &Proc, flags: Flags) -> bool {
    p.movable && !flags.stay && !(flags.lstay && p.home == 0)
}

/// The nodes `p` may go to: any other node that takes guests, or its home if it is a guest.
fn targets<'a>(
    p: &'a Proc,
    here: &'a Node,
    peers: &'a [Node],
) -> impl Iterator<Item = &'a Node> + 'a {
    peers.iter().filter(move |n| {
        n.id != here.id
            && if p.home == 0 {
                n.takes_guests
            } else {
                n.id == p.home && n.up
            }
    })
}

/// How much of a processor `p` wants, thousandths: its CPU share over the share it could have
/// had here.
pub fn weight(p: &Proc, here: &Node) -> u64 {
    let could = here.rate(here.demand).saturating_mul(STD_SPEED as u64)
        / u64::from(here.speed.max(1))
        / 1000;
    let used = u64::from(p.cpu).saturating_mul(10);
    used.saturating_mul(1000)
        .checked_div(could.max(1))
        .unwrap_or(0)
        .min(1000)
}

/// The best load move from this node, if any is worth making.
pub fn decide(
    here: &Node,
    flags: Flags,
    peers: &[Node],
    procs: &[Proc],
    t: &Tunables,
) -> Option<Move> {
    let mut best: Option<(Move, u64)> = None;
    let rate_here = here.rate(here.demand);
    for p in procs
        .iter()
        .filter(|p| eligible(p, flags) && p.hint != Hint::Io)
    {
        let cpu_job = p.hint == Hint::Cpu;
        if (p.age_ms < t.min_age_ms && !cpu_job) || p.since_move_ms < t.residency_ms {
            continue;
        }
        if !cpu_job && weight(p, here) < t.cpu_bound_permille {
            continue;
        }
        // A CPU-bound process is one runnable process wherever it runs: it adds a whole one
        // to the target's demand (its share here only says it is CPU-bound; counting that
        // share instead made a node export one job too many to an idle target).
        let w = RUNNABLE;
        // The expected remaining life: its age (a CPU job: at least `cpu_job_life_ms`).
        let life = if cpu_job {
            p.age_ms.max(t.cpu_job_life_ms)
        } else {
            p.age_ms
        };
        let cost = t.cost_ms(p.size);
        for n in targets(p, here, peers) {
            let after = n.demand.saturating_add(w);
            let rate_there = n.rate(after);
            if rate_there.saturating_mul(100)
                <= rate_here.saturating_mul(100 + u64::from(t.margin_pct))
            {
                continue;
            }
            if !n.fits(p.size) {
                continue;
            }
            let saved =
                life.saturating_mul(rate_there - rate_here.min(rate_there)) / rate_there.max(1);
            if saved <= cost {
                continue;
            }
            let score = saved - cost;
            // Ties: the less loaded target, then the lower id (a deterministic choice).
            let better = match &best {
                None => true,
                Some((b, b_after)) => {
                    score > b.score || (score == b.score && (after, n.id) < (*b_after, b.to))
                }
            };
            if better {
                let contended = here.demand > u64::from(here.cpus).saturating_mul(1000);
                let why = if contended { Why::Load } else { Why::Speed };
                let demands = (here.demand, n.demand);
                best = Some((
                    Move {
                        pid: p.pid,
                        to: n.id,
                        why,
                        weight: w,
                        rates: (rate_here, rate_there),
                        score,
                        demands,
                    },
                    after,
                ));
            }
        }
    }
    best.map(|(m, _)| m)
}

/// Memory ushering: if this node's available memory is below its reserve, a movable process
/// that fits elsewhere, to the node with the most room: the smallest whose move ends the
/// shortage with half a reserve to spare (migrate-smallest: the cheapest move that does; the
/// spare keeps a tiny process from being moved while a growing one deepens the shortage),
/// else the biggest.
pub fn usher(
    here: &Node,
    flags: Flags,
    peers: &[Node],
    procs: &[Proc],
    t: &Tunables,
) -> Option<Move> {
    let deficit = here.reserve().checked_sub(here.avail).filter(|d| *d > 0)?;
    let deficit = deficit.saturating_add(here.reserve() / 2);
    // Preference: enough (smallest first), then not enough (biggest first); then more room.
    let rank = |size: u64| {
        if size >= deficit {
            (0, size)
        } else {
            (1, u64::MAX - size)
        }
    };
    let mut best: Option<(Move, u64, u64)> = None;
    for p in procs
        .iter()
        .filter(|p| eligible(p, flags) && p.since_move_ms >= t.residency_ms.min(1000))
    {
        for n in targets(p, here, peers).filter(|n| n.fits(p.size)) {
            let room = n.avail - n.reserve() - p.size;
            let better = match &best {
                None => true,
                Some((_, size, b_room)) => {
                    (rank(p.size), u64::MAX - room) < (rank(*size), u64::MAX - *b_room)
                }
            };
            if better {
                let demands = (here.demand, n.demand);
                let m = Move {
                    pid: p.pid,
                    to: n.id,
                    why: Why::Memory,
                    weight: weight(p, here),
                    rates: (0, 0),
                    score: 0,
                    demands,
                };
                best = Some((m, p.size, room));
            }
        }
    }
    best.map(|(m, _, _)| m)
}

/// A move this node made recently, whose effect the loads it hears may not show yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recent {
    /// The target.
    pub to: u32,
    /// The process's weight.
    pub weight: u64,
    /// When the move ended, ms (any monotonic clock).
    pub done_ms: i64,
    /// The demands of this node and of the target when the move was decided.
    pub before: (u64, u64),
}

impl Recent {
    /// The record of move `m`, ended at `done_ms`.
    pub fn of(m: &Move, done_ms: i64) -> Recent {
        Recent {
            to: m.to,
            weight: m.weight,
            done_ms,
            before: m.demands,
        }
    }
}

/// What one runnable process adds to a node's demand, thousandths.
const RUNNABLE: u64 = 1000;

/// How long after a move a node's load average shows it (the averages reach 94% of a step in
/// a second), ms.
pub const SETTLE_MS: i64 = 1500;

/// A node's demand given the recent moves that its figure, measured at `measured_ms`, may not
/// show yet: a target counts at least what it had when the move was decided plus the process
/// (a figure that already shows the process is not counted twice), this node (`self_id`) at
/// most what it had minus the process. (This node's figure is also bounded by its runnable
/// count now, which shows a departure at once but also counts every light task waiting
/// behind the CPU loops: with that bound alone a polling shell once made a node of three
/// loops look like four, and it exported a third job to a node with two.)
pub fn adjusted(demand: u64, id: u32, self_id: u32, measured_ms: i64, recent: &[Recent]) -> u64 {
    let mut d = demand;
    for r in recent
        .iter()
        .filter(|r| measured_ms < r.done_ms.saturating_add(SETTLE_MS))
    {
        if r.to == id {
            d = d.max(r.before.1.saturating_add(r.weight));
        } else if id == self_id {
            d = d.min(r.before.0.saturating_sub(r.weight));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const MIB: u64 = 1 << 20;

    fn node(id: u32, jobs: u64) -> Node {
        Node {
            id,
            cpus: 1,
            speed: STD_SPEED as u32,
            demand: jobs * 1000,
            avail: 400 * MIB,
            total: 512 * MIB,
            takes_guests: true,
            up: true,
        }
    }

    fn job(pid: i32, cpu: u32) -> Proc {
        Proc {
            pid,
            home: 0,
            cpu,
            age_ms: 5000,
            size: MIB,
            since_move_ms: u64::MAX,
            movable: true,
            hint: Hint::None,
        }
    }

    /// Runs the balancer of every node until nothing moves (each node makes one move per round,
    /// loads exact): returns the jobs per node and the number of moves.
    fn settle(mut jobs: Vec<u64>, cpus: &[u32], speeds: &[u32]) -> (Vec<u64>, usize) {
        let t = Tunables::DEFAULT;
        let mut moves = 0;
        for _round in 0..100 {
            let nodes: Vec<Node> = (0..jobs.len())
                .map(|i| Node {
                    cpus: cpus[i],
                    speed: speeds[i],
                    ..node(i as u32 + 1, jobs[i])
                })
                .collect();
            let mut moved = false;
            for i in 0..jobs.len() {
                let here = nodes[i];
                let share = here.rate(here.demand) * 100 / 1_000_000 * STD_SPEED as u64
                    / u64::from(here.speed);
                let procs: Vec<Proc> = (0..jobs[i]).map(|k| job(k as i32, share as u32)).collect();
                if let Some(m) = decide(&here, Flags::default(), &nodes, &procs, &t) {
                    jobs[i] -= 1;
                    jobs[m.to as usize - 1] += 1;
                    moves += 1;
                    moved = true;
                    break;
                }
            }
            if !moved {
                return (jobs, moves);
            }
        }
        panic!("no settling: {jobs:?}");
    }

    #[test]
    fn n_jobs_spread_over_k_nodes_and_settle() {
        let std = STD_SPEED as u32;
        for k in 2..=8usize {
            let mut start = std::vec![0u64; k];
            start[0] = 2 * k as u64;
            let (end, moves) = settle(start, &std::vec![1; k], &std::vec![std; k]);
            assert!(end.iter().all(|j| *j == 2), "k={k}: {end:?}");
            assert_eq!(moves, 2 * k - 2, "each job moves at most once");
        }
        // Odd counts end within one of the mean.
        let (end, _) = settle(std::vec![7, 0, 0], &[1, 1, 1], &[std; 3]);
        assert!(end.iter().all(|j| (2..=3).contains(j)), "{end:?}");
    }

    #[test]
    fn smp_and_speed() {
        let std = STD_SPEED as u32;
        // A two-processor node keeps two CPU loops before exporting one.
        let (end, _) = settle(std::vec![2, 0], &[2, 1], &[std, std]);
        assert_eq!(end, [2, 0]);
        let (end, _) = settle(std::vec![4, 0], &[2, 1], &[std, std]);
        assert_eq!(end, [3, 1]);
        // A lone process moves from a slow node to an idle node twice as fast.
        let (end, _) = settle(std::vec![1, 0], &[1, 1], &[std, 2 * std]);
        assert_eq!(end, [0, 1]);
        // But not to one only 20% faster (the margin).
        let (end, _) = settle(std::vec![1, 0], &[1, 1], &[std, std * 6 / 5]);
        assert_eq!(end, [1, 0]);
        let here = Node {
            speed: std,
            ..node(1, 1)
        };
        let m = decide(
            &here,
            Flags::default(),
            &[
                here,
                Node {
                    speed: 2 * std,
                    ..node(2, 0)
                },
            ],
            &[job(1, 100)],
            &Tunables::DEFAULT,
        );
        assert_eq!(m.map(|m| m.why), Some(Why::Speed));
    }

    #[test]
    fn what_stays() {
        let here = node(1, 4);
        let peers = [here, node(2, 0)];
        let t = Tunables::DEFAULT;
        let go = |procs: &[Proc], flags: Flags, peers: &[Node]| {
            decide(&here, flags, peers, procs, &t).map(|m| (m.pid, m.to))
        };
        assert_eq!(go(&[job(7, 25)], Flags::default(), &peers), Some((7, 2)));
        // Locked or stay reasons.
        assert_eq!(
            go(
                &[Proc {
                    movable: false,
                    ..job(7, 25)
                }],
                Flags::default(),
                &peers
            ),
            None
        );
        // Node flags: stay keeps everything; lstay keeps own processes, not guests.
        assert_eq!(
            go(
                &[job(7, 25)],
                Flags {
                    stay: true,
                    lstay: false
                },
                &peers
            ),
            None
        );
        assert_eq!(
            go(
                &[job(7, 25)],
                Flags {
                    stay: false,
                    lstay: true
                },
                &peers
            ),
            None
        );
        // A guest goes home when home is faster for it (lstay keeps only this node's own
        // processes), not when it is locked, and nowhere else.
        let guest = Proc {
            home: 2,
            ..job(8, 25)
        };
        assert_eq!(go(&[guest], Flags::default(), &peers), Some((8, 2)));
        assert_eq!(
            go(
                &[guest],
                Flags {
                    stay: false,
                    lstay: true
                },
                &peers
            ),
            Some((8, 2))
        );
        assert_eq!(
            go(
                &[Proc {
                    movable: false,
                    ..guest
                }],
                Flags::default(),
                &peers
            ),
            None
        );
        assert_eq!(
            go(
                &[Proc { home: 3, ..guest }],
                Flags::default(),
                &[here, node(2, 0), node(3, 4)]
            ),
            None
        );
        assert_eq!(
            go(
                &[Proc { home: 3, ..guest }],
                Flags::default(),
                &[here, node(2, 0), node(3, 2)]
            ),
            Some((8, 3))
        );
        // Blocked targets receive nothing.
        let blocked = [
            here,
            Node {
                takes_guests: false,
                ..node(2, 0)
            },
        ];
        assert_eq!(go(&[job(7, 25)], Flags::default(), &blocked), None);
        // I/O-bound, young, just moved: stay.
        assert_eq!(go(&[job(7, 5)], Flags::default(), &peers), None);
        assert_eq!(
            go(
                &[Proc {
                    age_ms: 400,
                    ..job(7, 25)
                }],
                Flags::default(),
                &peers
            ),
            None
        );
        assert_eq!(
            go(
                &[Proc {
                    since_move_ms: 1000,
                    ..job(7, 25)
                }],
                Flags::default(),
                &peers
            ),
            None
        );
        // The target lacks memory.
        let full = [
            here,
            Node {
                avail: 80 * MIB,
                ..node(2, 0)
            },
        ];
        assert_eq!(
            go(
                &[Proc {
                    size: 30 * MIB,
                    ..job(7, 25)
                }],
                Flags::default(),
                &full
            ),
            None
        );
        // Big processes wait until they have run long enough to pay for the move.
        let big = Proc {
            size: 200 * MIB,
            ..job(7, 25)
        };
        assert_eq!(go(&[big], Flags::default(), &peers), None);
        assert_eq!(
            go(
                &[Proc {
                    age_ms: 60_000,
                    ..big
                }],
                Flags::default(),
                &peers
            ),
            Some((7, 2))
        );
        // Hints: a CPU job goes at once, an I/O job stays.
        let young = Proc {
            age_ms: 0,
            cpu: 0,
            ..job(7, 0)
        };
        assert_eq!(go(&[young], Flags::default(), &peers), None);
        assert_eq!(
            go(
                &[Proc {
                    hint: Hint::Cpu,
                    ..young
                }],
                Flags::default(),
                &peers
            ),
            Some((7, 2))
        );
        assert_eq!(
            go(
                &[Proc {
                    hint: Hint::Io,
                    ..job(7, 25)
                }],
                Flags::default(),
                &peers
            ),
            None
        );
        // Of several, the oldest goes first.
        assert_eq!(
            go(
                &[
                    job(7, 25),
                    Proc {
                        age_ms: 9000,
                        ..job(9, 25)
                    }
                ],
                Flags::default(),
                &peers
            ),
            Some((9, 2))
        );
    }

    #[test]
    fn ushering() {
        let t = Tunables::DEFAULT;
        let here = Node {
            avail: 40 * MIB,
            ..node(1, 1)
        };
        let procs = [
            Proc {
                size: 300 * MIB,
                ..job(7, 100)
            },
            Proc {
                size: 10 * MIB,
                ..job(8, 100)
            },
        ];
        let roomy = Node {
            avail: 450 * MIB,
            total: 1024 * MIB,
            ..node(3, 3)
        };
        let peers = [
            here,
            Node {
                avail: 200 * MIB,
                ..node(2, 0)
            },
            roomy,
        ];
        let m = usher(&here, Flags::default(), &peers, &procs, &t);
        assert_eq!(m.map(|m| (m.pid, m.to, m.why)), Some((7, 3, Why::Memory)));
        // Nobody has room for the big one: the small one goes.
        let m = usher(&here, Flags::default(), &peers[..2], &procs, &t);
        assert_eq!(m.map(|m| (m.pid, m.to)), Some((8, 2)));
        // The smallest that ends the shortage (24 MiB short, 32 to spare) goes: 60 MiB, not
        // 300, nor 30.
        let three = [
            procs[0],
            procs[1],
            Proc {
                size: 60 * MIB,
                ..job(9, 100)
            },
            Proc {
                size: 30 * MIB,
                ..job(10, 100)
            },
        ];
        let m = usher(&here, Flags::default(), &peers, &three, &t);
        assert_eq!(
            m.map(|m| (m.pid, m.to)),
            Some((9, 3)),
            "the roomiest target"
        );
        // Enough memory: nothing.
        assert_eq!(
            usher(&node(1, 1), Flags::default(), &peers, &procs, &t),
            None
        );
        // Locked processes stay.
        let locked = [Proc {
            movable: false,
            ..procs[0]
        }];
        assert_eq!(usher(&here, Flags::default(), &peers, &locked, &t), None);
        // A guest goes home (even if home blocks guests, even under lstay), and nowhere else.
        let guest = [Proc {
            home: 2,
            ..procs[1]
        }];
        let blocked = [
            here,
            Node {
                takes_guests: false,
                ..node(2, 0)
            },
            roomy,
        ];
        let m = usher(
            &here,
            Flags {
                stay: false,
                lstay: true,
            },
            &blocked,
            &guest,
            &t,
        );
        assert_eq!(m.map(|m| (m.pid, m.to)), Some((8, 2)));
        assert_eq!(
            usher(
                &here,
                Flags {
                    stay: true,
                    lstay: false
                },
                &blocked,
                &guest,
                &t
            ),
            None
        );
        let down = [
            here,
            Node {
                takes_guests: false,
                up: false,
                ..node(2, 0)
            },
            roomy,
        ];
        assert_eq!(usher(&here, Flags::default(), &down, &guest, &t), None);
    }

    #[test]
    fn weights_and_demands() {
        let std = STD_SPEED as u32;
        let here = node(1, 4);
        assert_eq!(weight(&job(1, 25), &here), 1000);
        assert_eq!(weight(&job(1, 5), &here), 200);
        assert_eq!(weight(&job(1, 100), &node(1, 1)), 1000);
        assert_eq!(Node::demand_from_load(100, 1, std), 1000);
        assert_eq!(Node::demand_from_load(100, 2, std), 2000);
        assert_eq!(Node::demand_from_load(50, 1, 2 * std), 1000);
        assert_eq!(Node::demand_from_load(-101, 1, std), 0);
        assert_eq!(
            Node::demand_from_load(i64::MAX, u32::MAX, u32::MAX),
            u64::MAX / STD_SPEED as u64
        );
        // Node 1 (demand 4) moved a process to node 2 (demand 0.5).
        let r = [Recent {
            to: 2,
            weight: 1000,
            done_ms: 10_000,
            before: (4000, 500),
        }];
        assert_eq!(
            adjusted(500, 2, 1, 10_500, &r),
            1500,
            "not shown yet: added"
        );
        assert_eq!(adjusted(1400, 2, 1, 10_500, &r), 1500);
        assert_eq!(
            adjusted(1600, 2, 1, 10_500, &r),
            1600,
            "already shown: not twice"
        );
        assert_eq!(
            adjusted(500, 2, 1, 12_000, &r),
            500,
            "a settled figure as it is"
        );
        assert_eq!(
            adjusted(4000, 1, 1, 10_500, &r),
            3000,
            "here: at most what was left"
        );
        assert_eq!(adjusted(2500, 1, 1, 10_500, &r), 2500);
        assert_eq!(adjusted(500, 3, 1, 10_500, &r), 500);
        // No arithmetic panics at the extremes.
        let n = Node {
            cpus: 0,
            speed: 0,
            demand: u64::MAX,
            ..node(1, 0)
        };
        assert_eq!(n.rate(u64::MAX), 0);
        let _ = weight(
            &Proc {
                cpu: u32::MAX,
                ..job(1, 0)
            },
            &n,
        );
    }
}
