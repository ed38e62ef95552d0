// SPDX-License-Identifier: GPL-2.0
//! `/proc/mosix`: the openMosix admin interface.
//!
//! ```text
//! /proc/mosix/admin/{config,mospe,block,bring,expel,lstay,stay,quiet,nomfs,gateways,
//!                    decayinterval,slowdecay,fastdecay,speed,version,
//!                    gossipinterval,gossipwindow,gossiptimeout,stats}
//! /proc/mosix/nodes/<id>/{cpus,load,mem,rmem,tmem,speed,status,util,age}
//! /proc/mosix/procs                           per-process statistics: pid decay cpu cputime_ms
//! /proc/mosix/decay/{slow,fast,nodecay,clear} write 1: the writing process's decay mode
//! ```
//!
//! The C shim owns the `proc_ops`; every file carries a cookie (see [`ProcFile`]) and its
//! callbacks land in [`mosix_proc_show`] and [`mosix_proc_write`]. Writes need
//! `CAP_SYS_ADMIN` (checked at open, `EPERM`), except to the `decay` files, which act on the
//! writer only; bad values give `EINVAL` and a log line.

use crate::{
    cluster,
    mcore::{
        map::{
            parse_map_into,
            NoResolver,
            NodeTable, //
        },
        params::{
            NodeField,
            Param, //
        },
        text::parse_i64,
    },
    procstat::{
        self,
        DecayFile, //
    },
    sys::{
        self,
        ProcEntry, //
    },
};
use core::fmt;
use kernel::{
    bindings,
    ffi::{
        c_char,
        c_int,
        c_long,
        c_ulong, //
    },
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    str::CString,
    sync::GlobalGuard,
};

/// Most node directories listed under `/proc/mosix/nodes` (the table may name 65535 nodes;
/// `mosctl` and the ioctl reach every one).
const MAX_PROC_NODES: usize = 1024;

/// Largest write a file accepts (`MOSIX_PROC_WRITE_MAX` in `mosix_shim.h`).
const WRITE_MAX: usize = 16384;

/// What a `/proc/mosix` file is, encoded in its cookie: bits 0-3 kind, 4-11 index, 12-27 id.
#[derive(Clone, Copy)]
enum ProcFile {
    Admin(Param),
    Config,
    Node(u32, NodeField),
    Stats,
    Procs,
    Decay(DecayFile),
}

impl ProcFile {
    fn cookie(self) -> usize {
        match self {
            ProcFile::Admin(p) => 1 | (p.index() << 4),
            ProcFile::Config => 2,
            ProcFile::Node(id, f) => {
                let fi = NodeField::ALL.iter().position(|x| *x == f).unwrap_or(0);
                3 | (fi << 4) | ((id as usize) << 12)
            }
            ProcFile::Stats => 4,
            ProcFile::Procs => 5,
            ProcFile::Decay(d) => 6 | (DecayFile::ALL.iter().position(|x| *x == d).unwrap_or(0) << 4),
        }
    }

    fn from_cookie(c: usize) -> Option<ProcFile> {
        let index = (c >> 4) & 0xff;
        match c & 0xf {
            1 => Param::from_u32(index as u32).map(ProcFile::Admin),
            2 => Some(ProcFile::Config),
            3 => NodeField::ALL.get(index).map(|f| ProcFile::Node((c >> 12) as u32, *f)),
            4 => Some(ProcFile::Stats),
            5 => Some(ProcFile::Procs),
            6 => DecayFile::ALL.get(index).map(|d| ProcFile::Decay(*d)),
            _ => None,
        }
    }
}

/// The `/proc/mosix` tree.
///
/// # Invariants
///
/// `nodes` is a child of `root`; fields drop in declaration order, so it goes first.
pub(crate) struct ProcTree {
    nodes: Option<ProcEntry>,
    root: ProcEntry,
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init_lock` in the module initialiser before first use.
    pub(crate) unsafe(uninit) static PROC_TREE: Mutex<Option<ProcTree>> = None;
}

/// Initialises the tree lock.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before any other function here.
pub(crate) unsafe fn init_lock() {
    // SAFETY: Called once before first use (function contract).
    unsafe { PROC_TREE.init() };
}

/// Takes the tree lock (which also serialises configuration changes).
pub(crate) fn lock_tree() -> GlobalGuard<PROC_TREE> {
    PROC_TREE.lock()
}

/// Owns `/proc/mosix` for the module's lifetime.
pub(crate) struct Registration;

impl Registration {
    /// Creates `/proc/mosix` with its admin files and an empty `nodes` directory.
    pub(crate) fn new() -> Result<Self> {
        let root = ProcEntry::mkdir(c"mosix", None)?;
        {
            let admin = root.subdir(c"admin")?;
            admin.file(c"config", 0o666, ProcFile::Config.cookie())?;
            for p in Param::ALL {
                let name = CString::try_from_fmt(fmt!("{}", p.name()))?;
                admin.file(&name, p.mode(), ProcFile::Admin(p).cookie())?;
            }
            admin.file(c"stats", 0o444, ProcFile::Stats.cookie())?;
        }
        root.file(c"procs", 0o444, ProcFile::Procs.cookie())?;
        {
            let decay = root.subdir(c"decay")?;
            for d in DecayFile::ALL {
                let name = CString::try_from_fmt(fmt!("{}", d.name()))?;
                decay.file(&name, 0o666, ProcFile::Decay(d).cookie())?;
            }
        }
        let nodes = ProcEntry::mkdir(c"nodes", Some(&root))?;
        // INVARIANT: `nodes` is a child of `root`.
        *PROC_TREE.lock() = Some(ProcTree { nodes: Some(nodes), root });
        Ok(Registration)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Take the tree out under the lock, remove it outside: removal waits for callbacks,
        // and a callback changing the configuration may be waiting for this lock.
        let tree = PROC_TREE.lock().take();
        drop(tree);
    }
}

/// The node ids to list under `/proc/mosix/nodes` (at most [`MAX_PROC_NODES`]).
pub(crate) fn node_ids(table: &NodeTable) -> Result<KVec<u32>> {
    let mut ids = KVec::new();
    for id in table.ids() {
        if ids.len() >= MAX_PROC_NODES {
            pr_info!("/proc/mosix/nodes lists the first {} nodes only\n", MAX_PROC_NODES);
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

/// Writes formatted text into a seq_file.
struct SeqWriter<'a>(&'a SeqFile);

impl fmt::Write for SeqWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        seq_print!(self.0, "{}", s);
        Ok(())
    }
}

fn show(seq: &SeqFile, file: ProcFile) -> Result {
    match file {
        ProcFile::Admin(Param::Version) => {
            let r = cluster::RELEASE;
            seq_print!(
                seq,
                "openMosix version: {}.{}.{} (mosix.ko for Linux 7.3, ABI {})\n",
                r >> 16,
                (r >> 8) & 0xff,
                r & 0xff,
                crate::mcore::abi::ABI_VERSION
            );
        }
        ProcFile::Admin(p) => seq_print!(seq, "{}\n", cluster::param(p)),
        ProcFile::Config => {
            let cfg = cluster::CONFIG.lock();
            cfg.table.write_map(&mut SeqWriter(seq)).map_err(|_| EIO)?;
        }
        ProcFile::Node(id, f) => {
            let v = cluster::node_info(id).map(|n| f.get(&n)).unwrap_or(crate::mcore::params::UNKNOWN);
            seq_print!(seq, "{}\n", v);
        }
        ProcFile::Stats => {
            seq_print!(seq, "key {}\n", u8::from(cluster::has_key()));
            for (name, v) in cluster::counters().named() {
                seq_print!(seq, "{} {}\n", name, v);
            }
        }
        ProcFile::Procs => procstat::with_table(|t| {
            for e in t {
                seq_print!(seq, "{} {} {} {}\n", e.pid, e.mode.name(), e.cpu(), e.runtime_ns / 1_000_000);
            }
        }),
        ProcFile::Decay(d) => seq_print!(seq, "{}\n", d.read()),
    }
    Ok(())
}

fn write(file: ProcFile, bytes: &[u8], total: usize) -> Result {
    let name = match file {
        ProcFile::Admin(p) => p.name(),
        ProcFile::Config => "config",
        ProcFile::Decay(d) => d.name(),
        ProcFile::Node(..) | ProcFile::Stats | ProcFile::Procs => return Err(EACCES),
    };
    if total > bytes.len() {
        pr_warn!("admin/{}: rejected write: {} bytes, at most {} in one write\n", name, total, WRITE_MAX);
        return Err(EINVAL);
    }
    match file {
        ProcFile::Admin(p) => match parse_i64(bytes) {
            Ok(v) => cluster::set_param(p, v),
            Err(e) => {
                pr_warn!("admin/{}: rejected write: {}\n", name, e);
                Err(EINVAL)
            }
        },
        ProcFile::Config => {
            let Ok(text) = core::str::from_utf8(bytes) else {
                pr_warn!("admin/config: rejected write: not UTF-8 text\n");
                return Err(EINVAL);
            };
            let mut table = KBox::new(NodeTable::new(), GFP_KERNEL)?;
            if let Err(e) = parse_map_into(text, &mut NoResolver, &mut table) {
                pr_warn!("admin/config: rejected node table: {} (the kernel takes IP addresses only; setpe resolves names)\n", e);
                return Err(EINVAL);
            }
            let mospe = match cluster::param(Param::Mospe) {
                m if m > 0 && table.contains(m as u32) => m as u32,
                _ => 0,
            };
            cluster::install_table(&mut table, mospe)
        }
        ProcFile::Decay(d) => match parse_i64(bytes) {
            Ok(1) => d.apply(),
            Ok(_) | Err(_) => {
                pr_warn!("decay/{}: rejected write: write 1 to apply it to the writing process\n", name);
                Err(EINVAL)
            }
        },
        ProcFile::Node(..) | ProcFile::Stats | ProcFile::Procs => Err(EACCES),
    }
}

/// Whether writing the file needs `CAP_SYS_ADMIN` (asked by the shim's open).
#[no_mangle]
extern "C" fn mosix_proc_write_needs_admin(cookie: c_ulong) -> bool {
    !matches!(ProcFile::from_cookie(cookie), Some(ProcFile::Decay(_)))
}

/// Show callback of every `/proc/mosix` file (called by the shim).
///
/// # Safety
///
/// `m` must be the live `seq_file` of the `show` call in progress.
#[no_mangle]
unsafe extern "C" fn mosix_proc_show(m: *mut bindings::seq_file, cookie: c_ulong) -> c_int {
    // SAFETY: `m` is live for the duration of this call (function contract).
    let seq = unsafe { SeqFile::from_raw(m) };
    let r = ProcFile::from_cookie(cookie).ok_or(EINVAL).and_then(|f| show(seq, f));
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Write callback of every `/proc/mosix` file (called by the shim).
///
/// # Safety
///
/// `buf` must point to `len` readable bytes, valid for the duration of the call; `total` is
/// the size of the user's write (which may exceed `len`).
#[no_mangle]
unsafe extern "C" fn mosix_proc_write(cookie: c_ulong, buf: *const c_char, len: usize, total: usize) -> c_long {
    // SAFETY: Guaranteed by the caller (function contract).
    let bytes = unsafe { sys::bytes_from_c(buf, len) };
    let r = ProcFile::from_cookie(cookie).ok_or(EINVAL).and_then(|f| write(f, bytes, total));
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}
