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
        abi::NodeInfo,
        gossip::{
            Counters,
            Gossip,
            LoadEntry,
            Slot, //
        },
        link::LinkCounters,
        load::normalised_load,
        mac::KEY_LEN,
        map::NodeTable,
        params::{
            status,
            Param,
            UNKNOWN, //
        },
    },
    procfs,
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

/// Status bits a node reports about itself in gossip (the rest are this node's opinion).
const REPORTED: u32 = status::STAY | status::LSTAY | status::BLOCK | status::QUIET | status::NOMFS;

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init` in the module initialiser before first use.
    pub(crate) unsafe(uninit) static CONFIG: Mutex<Config> = Config::new();
}

/// The admin parameters other than `mospe` (indexed by [`Param::index`]).
static PARAMS: [Atomic<i64>; Param::COUNT] = [const { Atomic::new(0) }; Param::COUNT];

/// Module release for `admin/version` and the ABI: major << 16 | minor << 8 | patch.
pub(crate) const RELEASE: u32 = 0x00_01_00;

/// Initialises the global state.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before any other function here.
pub(crate) unsafe fn init() {
    // SAFETY: Called once before first use (function contract).
    unsafe { CONFIG.init() };
    // SAFETY: Same contract.
    unsafe { procfs::init_lock() };
    // SAFETY: Same contract.
    unsafe { crate::procstat::init_lock() };
    // SAFETY: Same contract.
    unsafe { crate::remote::init_lock() };
    // SAFETY: Called once, from the module initialiser, before anything uses the registry.
    unsafe { crate::deputy::init_lock() };
    // SAFETY: Same contract.
    unsafe { crate::migrate::init_lock() };
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
        Param::Bring => {
            // Keep local processes home from now on, then bring the ones away back.
            atomic(Param::Lstay).store(1, Relaxed);
            match crate::migrate::bring_all() {
                (0, 0) => pr_info!("bring: no process is away from home; lstay set\n"),
                (home, 0) => pr_info!("bring: {} process(es) brought home; lstay set\n", home),
                (home, left) => {
                    pr_warn!(
                        "bring: {} process(es) brought home, {} still away; lstay set\n",
                        home,
                        left
                    );
                    return Err(EAGAIN);
                }
            }
        }
        Param::Expel => {
            // Take no new guests, then send the ones here home. Fully ordered: an arriving
            // migrant is counted before the link thread reads `block` (see
            // `remote::expel_all`), so it is refused or waited for.
            atomic(Param::Block).xchg(1, Full);
            match crate::remote::expel_all() {
                (0, 0) => pr_info!("expel: no guest is here; block set\n"),
                (gone, 0) => pr_info!("expel: {} guest(s) sent home; block set\n", gone),
                (gone, left) => {
                    pr_warn!(
                        "expel: {} guest(s) sent home, {} still here; block set\n",
                        gone,
                        left
                    );
                    return Err(EAGAIN);
                }
            }
        }
        _ => atomic(p).store(value, Relaxed),
    }
    Ok(())
}

/// Brings every process of this node that is away home and sends every guest home
/// (`bring` and `expel`: `lstay` and `block` stay set); returns when done (or after their
/// timeouts, logged).
pub(crate) fn evacuate(why: &str) {
    pr_info!("{}: bringing processes home and sending guests home\n", why);
    let _ = set_param(Param::Bring, 1);
    let _ = set_param(Param::Expel, 1);
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

/// This node's status bits.
fn local_status(configured: bool) -> u32 {
    let mut s = status::UP;
    if configured {
        s |= status::CONF;
    }
    for (p, bit) in [
        (Param::Stay, status::STAY),
        (Param::Lstay, status::LSTAY),
        (Param::Block, status::BLOCK),
        (Param::Quiet, status::QUIET),
        (Param::Nomfs, status::NOMFS),
    ] {
        if flag(p) {
            s |= bit;
        }
    }
    s
}

/// This node's fresh gossip entry (`id` is filled in by the sender).
pub(crate) fn own_entry() -> LoadEntry {
    let n = local_info(0, 0, true);
    let u32_of = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    LoadEntry {
        id: 0,
        status: n.status & REPORTED,
        cpus: u32_of(n.cpus),
        speed: u32_of(n.speed),
        load: u32_of(n.load),
        util: u32_of(n.util),
        mem: u64::try_from(n.mem.max(0)).unwrap_or(0),
        rmem: u32_of(n.rmem),
        tmem: u32_of(n.tmem),
        age_ms: 0,
        reserved: 0,
    }
}

/// This node's own information, measured now.
fn local_info(id: u32, addr: u32, configured: bool) -> NodeInfo {
    let cpus = sys::online_cpus();
    let speed = param(Param::Speed);
    let mem = sys::meminfo();
    NodeInfo {
        id,
        status: local_status(configured),
        addr,
        cpus: i64::from(cpus),
        load: normalised_load(crate::load::runq_fixed(), cpus, speed),
        speed,
        mem: mem.available,
        rmem: mem.free,
        tmem: mem.total,
        util: 100,
        age_ms: 0,
        ..Default::default()
    }
}

/// What this node last heard of another node: its values while it is up, `-errno` (and no
/// `UP` bit) once it is down or if it was never heard of.
fn remote_info(id: u32, addr: u32, slot: Option<&Slot>, now_ms: i64, timeout_ms: i64) -> NodeInfo {
    let s = slot.copied().unwrap_or_default();
    let up = s.is_up(now_ms, timeout_ms);
    let e = &s.entry;
    let mut st = status::CONF;
    if up {
        st |= status::UP | (e.status & REPORTED);
    }
    let v = |x: i64| if up { x } else { UNKNOWN };
    NodeInfo {
        id,
        status: st,
        addr,
        cpus: v(i64::from(e.cpus)),
        load: v(i64::from(e.load)),
        speed: v(i64::from(e.speed)),
        mem: v(i64::try_from(e.mem).unwrap_or(i64::MAX)),
        rmem: v(i64::from(e.rmem)),
        tmem: v(i64::from(e.tmem)),
        util: v(i64::from(e.util)),
        age_ms: if s.known { s.age(now_ms) } else { UNKNOWN },
        ..Default::default()
    }
}

/// Information about node `id` (0: this node). `ENOENT` if `id` is not in the table.
pub(crate) fn node_info(id: u32) -> Result<NodeInfo> {
    let timeout_ms = timeout_ms();
    let cfg = CONFIG.lock();
    let me = cfg.mospe;
    let want = if id == 0 { me } else { id };
    let addr = cfg.table.addr_of(want);
    if id != 0 && addr.is_none() {
        return Err(ENOENT);
    }
    let addr = addr.unwrap_or(0);
    if id != 0 && id != me {
        let slot = cfg.table.index_of(id).and_then(|i| cfg.view.get(i));
        return Ok(remote_info(id, addr, slot, sys::now_ms(), timeout_ms));
    }
    drop(cfg);
    Ok(local_info(me, addr, me != 0))
}

/// This node's id and what it knows of every configured node (itself first); `None` if this
/// node is not configured.
pub(crate) fn all_nodes() -> Option<(u32, KVec<NodeInfo>)> {
    let (me, ids) = {
        let cfg = CONFIG.lock();
        let mut ids = KVec::with_capacity(cfg.table.node_count() as usize, GFP_KERNEL).ok()?;
        for id in cfg.table.ids().filter(|id| *id != cfg.mospe) {
            ids.push(id, GFP_KERNEL).ok()?;
        }
        (cfg.mospe, ids)
    };
    if me == 0 {
        return None;
    }
    let mut nodes = KVec::with_capacity(ids.len() + 1, GFP_KERNEL).ok()?;
    nodes.push(node_info(0).ok()?, GFP_KERNEL).ok()?;
    for id in ids {
        if let Ok(n) = node_info(id) {
            nodes.push(n, GFP_KERNEL).ok()?;
        }
    }
    Some((me, nodes))
}

/// The node where a process would run best now, as `migrate PID balance` asks: the up node
/// that takes guests with the lowest speed-normalised load, if lower than this node's; else
/// this node. `None` if this node is not configured.
pub(crate) fn best_node() -> Option<u32> {
    let (me, nodes) = all_nodes()?;
    let mut best = (me, nodes.first()?.load);
    for n in nodes.iter().skip(1) {
        let usable = n.status & status::UP != 0 && n.status & status::BLOCK == 0 && n.load >= 0;
        if usable && n.load < best.1 {
            best = (n.id, n.load);
        }
    }
    Some(best.0)
}

/// Installs a validated node table (empty: unconfigure) with this node's id, then rebuilds
/// `/proc/mosix/nodes`. `mospe` must be 0 or in the table.
pub(crate) fn install_table(table: &mut NodeTable, mospe: u32) -> Result {
    if mospe != 0 && !table.contains(mospe) {
        pr_warn!(
            "node table rejected: this node's id {} is not in it\n",
            mospe
        );
        return Err(EINVAL);
    }
    // Leaving the cluster (`setpe -off`, or a table without this node's id): every process
    // of this node comes home and every guest goes home first, as in openMosix.
    if mospe == 0 && param(Param::Mospe) != 0 {
        evacuate("leaving the cluster");
    }
    // The new view, allocated before taking the lock (65535 nodes take about 5 MiB).
    let n = table.node_count() as usize;
    let mut view = KVVec::with_capacity(n, GFP_KERNEL)?;
    view.resize(n, Slot::default(), GFP_KERNEL)?;
    // Serialises configuration changes and gives access to the /proc tree.
    let mut tree = procfs::lock_tree();
    let (count, ids) = {
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
        (cfg.table.node_count(), procfs::node_ids(&cfg.table))
    };
    drop(view);
    if count == 0 {
        pr_info!("configuration removed: openMosix is off on this node\n");
    } else if mospe == 0 {
        pr_info!(
            "configuration changed: {} nodes configured, this node's id not set\n",
            count
        );
    } else {
        pr_info!(
            "configuration changed: this is node #{} (of {} configured)\n",
            mospe,
            count
        );
    }
    procfs::rebuild_nodes(&mut tree, ids?)
}
