// SPDX-License-Identifier: GPL-2.0
//! What this node knows of every node: itself measured now, the others as gossip last told
//! (`/proc/mosix/nodes`, `mosctl`, the balancer, `migrate PID balance`).

use crate::{
    cluster,
    mcore::{
        abi::NodeInfo,
        gossip::{
            LoadEntry,
            Slot, //
        },
        load::normalised_load,
        params::{
            status,
            Param,
            UNKNOWN, //
        },
    },
    sys, //
};
use kernel::prelude::*;

/// Status bits a node reports about itself in gossip (the rest are this node's opinion).
const REPORTED: u32 = status::STAY | status::LSTAY | status::BLOCK | status::QUIET | status::NOMFS;

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
        if cluster::flag(p) {
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
    let speed = cluster::param(Param::Speed);
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
    let timeout_ms = cluster::timeout_ms();
    let l = cluster::lookup(id);
    if id != 0 && l.addr.is_none() {
        return Err(ENOENT);
    }
    let addr = l.addr.unwrap_or(0);
    if id != 0 && id != l.me {
        return Ok(remote_info(
            id,
            addr,
            l.slot.as_ref(),
            sys::now_ms(),
            timeout_ms,
        ));
    }
    Ok(local_info(l.me, addr, l.me != 0))
}

/// This node's id and what it knows of every configured node (itself first); `None` if this
/// node is not configured.
pub(crate) fn all_nodes() -> Option<(u32, KVec<NodeInfo>)> {
    let (me, ids) = cluster::node_ids()?;
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
