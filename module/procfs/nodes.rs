// SPDX-License-Identifier: GPL-2.0
//! `/proc/mosix/nodes/`: installing a node table and rebuilding the node directories.

use super::*;

/// Most node directories listed under `/proc/mosix/nodes` (the table may name 65535 nodes;
/// `mosctl` and the ioctl reach every one).
pub(super) const MAX_PROC_NODES: usize = 1024;

/// Installs a validated node table (empty: unconfigure) with this node's id, then rebuilds
/// `/proc/mosix/nodes`. `mospe` must be 0 or in the table. Lock order: the tree, then
/// `CONFIG` (inside [`cluster::swap_table`]).
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
    if mospe == 0 && cluster::param(Param::Mospe) != 0 {
        crate::migration::evacuate("leaving the cluster");
    }
    // The new view, allocated before taking the lock (65535 nodes take about 5 MiB).
    let n = table.node_count() as usize;
    let mut view = KVVec::with_capacity(n, GFP_KERNEL)?;
    view.resize(n, Default::default(), GFP_KERNEL)?;
    // Serialises configuration changes and gives access to the /proc tree.
    let mut tree = lock_tree();
    let (count, ids) = cluster::swap_table(table, view, mospe, |t| (t.node_count(), node_ids(t)));
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
    rebuild_nodes(&mut tree, ids?)
}

/// The node ids to list under `/proc/mosix/nodes` (at most [`MAX_PROC_NODES`]).
pub(crate) fn node_ids(table: &NodeTable) -> Result<KVec<u32>> {
    let mut ids = KVec::new();
    for id in table.ids() {
        if ids.len() >= MAX_PROC_NODES {
            pr_info!(
                "/proc/mosix/nodes lists the first {} nodes only\n",
                MAX_PROC_NODES
            );
            break;
        }
        ids.push(id, GFP_KERNEL)?;
    }
    Ok(ids)
}

/// Replaces `/proc/mosix/nodes` with one directory per id. Call with the tree lock held and
/// without [`cluster::CONFIG`] (removal waits for readers, which take it).
pub(crate) fn rebuild_nodes(tree: &mut GlobalGuard<PROC_TREE>, ids: KVec<u32>) -> Result {
    let Some(tree) = tree.as_mut() else {
        // The module is going away.
        return Ok(());
    };
    tree.nodes = None;
    let nodes = ProcEntry::mkdir(c"nodes", Some(&tree.root))?;
    for id in ids {
        let name = CString::try_from_fmt(fmt!("{}", id))?;
        let dir = nodes.subdir(&name)?;
        for f in NodeField::ALL {
            let fname = CString::try_from_fmt(fmt!("{}", f.name()))?;
            dir.file(&fname, 0o444, ProcFile::Node(id, f).cookie())?;
        }
    }
    // INVARIANT: `nodes` is a child of `tree.root`.
    tree.nodes = Some(nodes);
    Ok(())
}
