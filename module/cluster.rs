// SPDX-License-Identifier: GPL-2.0
//! This node's view of the cluster: the node table, the admin parameters, node information.
//!
//! # Locking
//!
//! - [`CONFIG`] (mutex) holds the node table and `mospe`. Held briefly, never across a call
//!   into procfs that may wait for `/proc` callbacks (those take [`CONFIG`] themselves).
//! - `procfs::PROC_TREE` (mutex) serialises configuration changes and owns the `/proc` tree;
//!   it is taken *before* [`CONFIG`] (lock order: `PROC_TREE` -> `CONFIG`).
//! - The other admin parameters are atomics, read lock-free by every path.

use crate::{
    mcore::{
        abi::NodeInfo,
        load::normalised_load,
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
        Relaxed, //
    },
};

/// The node table and this node's id.
pub(crate) struct Config {
    /// The installed table (empty: not configured).
    pub(crate) table: NodeTable,
    /// This node's id; 0 = not configured.
    pub(crate) mospe: u32,
}

impl Config {
    const fn new() -> Self {
        Config { table: NodeTable::new(), mospe: 0 }
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
                pr_warn!("admin/mospe: rejected write: node {} is not in the node table\n", id);
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
            // Migration arrives with a later issue: with no process away, bringing home is
            // done at once; the documented side effect still applies.
            atomic(Param::Lstay).store(1, Relaxed);
            pr_info!("bring: no process is away from home; lstay set\n");
        }
        Param::Expel => {
            atomic(Param::Block).store(1, Relaxed);
            pr_info!("expel: no guest is here; block set\n");
        }
        _ => atomic(p).store(value, Relaxed),
    }
    Ok(())
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

/// Information about node `id` (0: this node). `ENOENT` if `id` is not in the table.
pub(crate) fn node_info(id: u32) -> Result<NodeInfo> {
    let (mospe, addr, configured) = {
        let cfg = CONFIG.lock();
        let want = if id == 0 { cfg.mospe } else { id };
        let addr = cfg.table.addr_of(want);
        if id != 0 && addr.is_none() {
            return Err(ENOENT);
        }
        (cfg.mospe, addr.unwrap_or(0), cfg.mospe != 0)
    };
    if id != 0 && id != mospe {
        // Other nodes' values arrive with load gossip.
        return Ok(NodeInfo {
            id,
            status: status::CONF,
            addr,
            cpus: UNKNOWN,
            load: UNKNOWN,
            speed: UNKNOWN,
            mem: UNKNOWN,
            rmem: UNKNOWN,
            tmem: UNKNOWN,
            util: UNKNOWN,
            age_ms: UNKNOWN,
            ..Default::default()
        });
    }
    let cpus = sys::online_cpus();
    let speed = param(Param::Speed);
    let mem = sys::meminfo();
    Ok(NodeInfo {
        id: mospe,
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
    })
}

/// Installs a validated node table (empty: unconfigure) with this node's id, then rebuilds
/// `/proc/mosix/nodes`. `mospe` must be 0 or in the table.
pub(crate) fn install_table(table: &mut NodeTable, mospe: u32) -> Result {
    if mospe != 0 && !table.contains(mospe) {
        pr_warn!("node table rejected: this node's id {} is not in it\n", mospe);
        return Err(EINVAL);
    }
    // Serialises configuration changes and gives access to the /proc tree.
    let mut tree = procfs::lock_tree();
    let (count, ids) = {
        let mut cfg = CONFIG.lock();
        core::mem::swap(&mut cfg.table, table);
        cfg.mospe = mospe;
        (cfg.table.node_count(), procfs::node_ids(&cfg.table))
    };
    if count == 0 {
        pr_info!("configuration removed: openMosix is off on this node\n");
    } else if mospe == 0 {
        pr_info!("configuration changed: {} nodes configured, this node's id not set\n", count);
    } else {
        pr_info!("configuration changed: this is node #{} (of {} configured)\n", mospe, count);
    }
    procfs::rebuild_nodes(&mut tree, ids?)
}
