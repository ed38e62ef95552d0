// SPDX-License-Identifier: GPL-2.0
//! This node's view of the cluster: the node table, the admin parameters, node information.
//!
//! # Locking
//!
//! - [`CONFIG`] (mutex) holds the node table, `mospe`, the gossip view (one slot per table
//!   node), the cluster key and the packet counters. Held briefly (the gossip thread takes it
//!   once per packet), never across a call into procfs that may wait for `/proc` callbacks
//!   (those take [`CONFIG`] themselves) and never across a socket call.
//! - `procfs::PROC_TREE` (mutex) serialises configuration changes and owns the `/proc` tree;
//!   it is taken *before* [`CONFIG`] (lock order: `PROC_TREE` -> `CONFIG`).
//! - The other admin parameters are atomics, read lock-free by every path.

use crate::{
    mcore::{
        gossip::{
            Counters,
            Gossip,
            Slot, //
        },
        link::LinkCounters,
        mac::KEY_LEN,
        map::NodeTable,
        params::Param,
    },
    sys, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        Atomic,
        Full,
        Relaxed, //
    },
};

/// The node table, this node's id and what this node knows of the others.
///
/// # Invariants
///
/// `view` has one slot per node of `table`, in [`NodeTable::index_of`] order.
pub(crate) struct Config {
    /// The installed table (empty: not configured).
    pub(crate) table: NodeTable,
    /// This node's id; 0 = not configured.
    pub(crate) mospe: u32,
    /// What this node last heard of every node.
    view: KVVec<Slot>,
    /// The cluster key; without one, gossip is neither sent nor accepted.
    key: Option<[u8; KEY_LEN]>,
    /// Gossip packet counters.
    counters: Counters,
    /// Link (TCP) counters.
    link: LinkCounters,
}

impl Config {
    const fn new() -> Self {
        // INVARIANT: An empty table has no nodes and the view no slots.
        Config {
            table: NodeTable::new(),
            mospe: 0,
            view: KVVec::new(),
            key: None,
            counters: Counters::new(),
            link: LinkCounters::new(),
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init` in the module initialiser before first use.
    pub(crate) unsafe(uninit) static CONFIG: Mutex<Config> = Config::new();
}

/// The admin parameters other than `mospe` (indexed by [`Param::index`]).
static PARAMS: [Atomic<i64>; Param::COUNT] = [const { Atomic::new(0) }; Param::COUNT];

/// Module release for `admin/version` and the ABI: major << 16 | minor << 8 | patch.
pub(crate) const RELEASE: u32 = 0x00_01_00;

/// Initialises the configuration's lock and the parameters' defaults.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before any other function here.
pub(crate) unsafe fn init() {
    // SAFETY: Called once before first use (function contract).
    unsafe { CONFIG.init() };
    for p in Param::ALL {
        if let Some(a) = PARAMS.get(p.index()) {
            a.store(p.default_value(), Relaxed);
        }
    }
}

fn atomic(p: Param) -> &'static Atomic<i64> {
    // `Param::index` is always below `Param::COUNT`.
    &PARAMS[p.index() % Param::COUNT]
}

/// Reads a parameter.
pub(crate) fn param(p: Param) -> i64 {
    match p {
        Param::Mospe => i64::from(CONFIG.lock().mospe),
        Param::Version => i64::from(RELEASE),
        _ => atomic(p).load(Relaxed),
    }
}

/// Whether this node takes migrants: configured and not blocking (`block`, which `expel`
/// sets).
pub(crate) fn accepts_guests() -> bool {
    param(Param::Mospe) > 0 && !flag(Param::Block)
}

/// Whether a boolean parameter is set.
pub(crate) fn flag(p: Param) -> bool {
    param(p) != 0
}

/// Writes a parameter; rejects bad values with `EINVAL` and logs why.
pub(crate) fn set_param(p: Param, value: i64) -> Result {
    if let Err(e) = p.check(value) {
        pr_warn!("admin/{}: rejected write: {}\n", p.name(), e);
        return Err(if p == Param::Version { EACCES } else { EINVAL });
    }
    match p {
        Param::Mospe => {
            let mut cfg = CONFIG.lock();
            let id = u32::try_from(value).unwrap_or(0);
            if id != 0 && !cfg.table.contains(id) {
                drop(cfg);
                pr_warn!(
                    "admin/mospe: rejected write: node {} is not in the node table\n",
                    id
                );
                return Err(EINVAL);
            }
            cfg.mospe = id;
            drop(cfg);
            if id == 0 {
                pr_info!("openMosix disabled on this node (mospe 0)\n");
            } else {
                pr_info!("this is node #{}\n", id);
            }
        }
        // The actions (`bring`, `expel`) are the migration's: it sets `lstay`/`block` here.
        Param::Bring | Param::Expel => return Err(EINVAL),
        _ => atomic(p).store(value, Relaxed),
    }
    Ok(())
}

/// Sets boolean parameter `p` with a fully ordered store (`block` before `expel` reads who is
/// arriving: see `guest::expel_all`).
pub(crate) fn set_flag_full(p: Param) {
    atomic(p).xchg(1, Full);
}

/// The down timeout, ms.
pub(crate) fn timeout_ms() -> i64 {
    param(Param::GossipTimeout)
}

/// Runs `f` on this node's gossip state, under the configuration lock, at the current time.
pub(crate) fn with_gossip<R>(
    f: impl FnOnce(&mut Gossip<'_>, Option<&[u8; KEY_LEN]>, &mut Counters) -> R,
) -> R {
    let timeout_ms = timeout_ms();
    let mut guard = CONFIG.lock();
    let cfg = &mut *guard;
    let mut g = Gossip {
        table: &cfg.table,
        view: &mut cfg.view,
        self_id: cfg.mospe,
        now_ms: sys::now_ms(),
        timeout_ms,
    };
    f(&mut g, cfg.key.as_ref(), &mut cfg.counters)
}

/// Installs (`Some`) or removes the cluster key.
pub(crate) fn set_key(key: Option<[u8; KEY_LEN]>) {
    let had = {
        let mut cfg = CONFIG.lock();
        core::mem::replace(&mut cfg.key, key).is_some()
    };
    match (had, key.is_some()) {
        (false, true) => pr_info!("cluster key installed: load gossip is on\n"),
        (true, true) => pr_info!("cluster key replaced\n"),
        (_, false) => {
            pr_info!("cluster key removed: load gossip is off until a key is installed\n")
        }
    }
}

/// Whether a cluster key is installed.
pub(crate) fn has_key() -> bool {
    CONFIG.lock().key.is_some()
}

/// A copy of the packet counters.
pub(crate) fn counters() -> Counters {
    CONFIG.lock().counters
}

/// A copy of the link counters.
pub(crate) fn link_counters() -> LinkCounters {
    CONFIG.lock().link
}

/// Updates the link counters.
pub(crate) fn count_link(f: impl FnOnce(&mut LinkCounters)) {
    f(&mut CONFIG.lock().link)
}

/// What the link needs to know of the configuration at one moment.
pub(crate) struct LinkView {
    /// The cluster key, if any.
    pub(crate) key: Option<[u8; KEY_LEN]>,
    /// This node's id (0: not configured).
    pub(crate) mospe: u32,
    /// The peer's address in the table (for a connect: the node asked for).
    pub(crate) addr: Option<u32>,
}

/// The key, this node's id and node `id`'s address.
pub(crate) fn link_view(id: u32) -> LinkView {
    let cfg = CONFIG.lock();
    LinkView {
        key: cfg.key,
        mospe: cfg.mospe,
        addr: cfg.table.addr_of(id),
    }
}

/// What the configuration says of node `id` (0: this node), at one moment.
pub(crate) struct Lookup {
    /// This node's id (0: not configured).
    pub(crate) me: u32,
    /// The node's address, if it is in the table.
    pub(crate) addr: Option<u32>,
    /// What this node last heard of it (another node only).
    pub(crate) slot: Option<Slot>,
}

/// Looks node `id` (0: this node) up in the table and the gossip view.
pub(crate) fn lookup(id: u32) -> Lookup {
    let cfg = CONFIG.lock();
    let want = if id == 0 { cfg.mospe } else { id };
    let slot = if id != 0 && id != cfg.mospe {
        cfg.table
            .index_of(id)
            .and_then(|i| cfg.view.get(i))
            .copied()
    } else {
        None
    };
    Lookup {
        me: cfg.mospe,
        addr: cfg.table.addr_of(want),
        slot,
    }
}

/// This node's id and the ids of the other nodes in the table; `None` if memory runs out.
pub(crate) fn node_ids() -> Option<(u32, KVec<u32>)> {
    let cfg = CONFIG.lock();
    let mut ids = KVec::with_capacity(cfg.table.node_count() as usize, GFP_KERNEL).ok()?;
    for id in cfg.table.ids().filter(|id| *id != cfg.mospe) {
        ids.push(id, GFP_KERNEL).ok()?;
    }
    Some((cfg.mospe, ids))
}

/// Swaps a validated node table (empty: unconfigure) with the installed one and sets this
/// node's id, keeping what is known of the nodes that stay in `view` (one default slot per
/// node of `table`, allocated by the caller); `after` runs on the new table under the lock.
/// The caller serialises configuration changes (it holds the `/proc` tree's lock).
pub(crate) fn swap_table<R>(
    table: &mut NodeTable,
    mut view: KVVec<Slot>,
    mospe: u32,
    after: impl FnOnce(&NodeTable) -> R,
) -> R {
    let mut cfg = CONFIG.lock();
    // Keep what is known of the nodes that stay.
    for (slot, id) in view.iter_mut().zip(table.ids()) {
        if let Some(old) = cfg.table.index_of(id).and_then(|j| cfg.view.get(j)) {
            *slot = *old;
        }
    }
    core::mem::swap(&mut cfg.table, table);
    // INVARIANT: `view` has one slot per node of the table just installed.
    core::mem::swap(&mut cfg.view, &mut view);
    cfg.mospe = mospe;
    let r = after(&cfg.table);
    drop(cfg);
    // The old view goes outside the lock (65535 nodes take about 5 MiB).
    drop(view);
    r
}
