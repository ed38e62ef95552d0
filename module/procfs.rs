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
//! /proc/mosix/pid/<pid>/{where,lock,nmigs,cantmove,goto}   per user process
//! ```
//!
//! The C shim owns the `proc_ops`; every file carries a cookie (see [`ProcFile`]) and its
//! callbacks land in [`mosix_proc_show`] and [`mosix_proc_write`]. Writes need
//! `CAP_SYS_ADMIN` (checked at open, `EPERM`), except to the `decay` files, which act on the
//! writer only, and to `pid/<pid>/lock`, which the process's owner may write (openMosix's
//! `migrate` rule); bad values give `EINVAL` and a log line.
//!
//! `pid/` follows the process table: directories are made and removed after each decay step
//! ([`sync_pids`]), so a process gets its directory within a second of its start.

mod nodes;
mod pid;

pub(crate) use nodes::*;
pub(crate) use pid::*;

use crate::{
    cluster,
    mcore::procstat::{
        Change,
        Settings, //
    },
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
        procfile::{
            DecayFile,
            PidField,
            ProcFile, //
        },
        stay,
        text::parse_i64,
    },
    procstat,
    sys::{
        self,
        ProcEntry, //
    },
};
use core::fmt;
use kernel::{
    ffi::c_ulong, prelude::*, seq_file::SeqFile, seq_print, str::CString, sync::GlobalGuard,
};

/// Largest write a file accepts (`MOSIX_PROC_WRITE_MAX` in `shim/mosix_shim.h`).
const WRITE_MAX: usize = 16384;

/// The `/proc/mosix` tree.
///
/// # Invariants
///
/// `nodes` and `pids` are children of `root`, every `pid_dirs` entry a child of `pids`
/// (sorted by pid); fields drop in declaration order, so children go first.
pub(crate) struct ProcTree {
    pid_dirs: KVVec<(i32, ProcEntry)>,
    pids: ProcEntry,
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
        sys::register_proc(sys::ProcHandlers {
            show: show_cookie,
            write: write_cookie,
            may_write: may_write_cookie,
        });
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
        let pids = ProcEntry::mkdir(c"pid", Some(&root))?;
        // INVARIANT: `nodes` and `pids` are children of `root`; no pid directories yet.
        *PROC_TREE.lock() = Some(ProcTree {
            pid_dirs: KVVec::new(),
            pids,
            nodes: Some(nodes),
            root,
        });
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
            let v = crate::gossip::nodes::node_info(id)
                .map(|n| f.get(&n))
                .unwrap_or(crate::mcore::params::UNKNOWN);
            seq_print!(seq, "{}\n", v);
        }
        ProcFile::Stats => {
            seq_print!(seq, "key {}\n", u8::from(cluster::has_key()));
            for (name, v) in cluster::counters().named() {
                seq_print!(seq, "{} {}\n", name, v);
            }
            for (name, v) in cluster::link_counters().named() {
                seq_print!(seq, "{} {}\n", name, v);
            }
        }
        ProcFile::Procs => procstat::with_table(|t| {
            for e in t {
                seq_print!(
                    seq,
                    "{} {} {} {}\n",
                    e.pid,
                    e.mode.name(),
                    e.cpu(),
                    e.runtime_ns / 1_000_000
                );
            }
        }),
        ProcFile::Decay(d) => seq_print!(seq, "{}\n", procstat::decay_read(d)),
        ProcFile::Pid(pid, f) => match f {
            PidField::Where | PidField::Nmigs | PidField::Goto => {
                let (_, start) = sys::proc_ident(pid)?;
                let (node, nmigs) = procstat::whereabouts(pid, start);
                let v = if f == PidField::Nmigs { nmigs } else { node };
                seq_print!(seq, "{}\n", v);
            }
            PidField::Lock => seq_print!(seq, "{}\n", u8::from(pid_settings(pid)?.0.locked)),
            PidField::Cantmove => {
                for (bit, name) in stay::reasons(procstat::cantmove(pid)?) {
                    seq_print!(seq, "{} {:#x}\n", name, bit);
                }
            }
        },
    }
    Ok(())
}

fn write(file: ProcFile, bytes: &[u8], total: usize) -> Result {
    let name = match file {
        ProcFile::Admin(p) => p.name(),
        ProcFile::Config => "config",
        ProcFile::Decay(d) => d.name(),
        ProcFile::Pid(_, PidField::Lock) => "lock",
        ProcFile::Pid(_, PidField::Goto) => "goto",
        ProcFile::Node(..) | ProcFile::Stats | ProcFile::Procs | ProcFile::Pid(..) => {
            return Err(EACCES)
        }
    };
    if total > bytes.len() {
        pr_warn!(
            "admin/{}: rejected write: {} bytes, at most {} in one write\n",
            name,
            total,
            WRITE_MAX
        );
        return Err(EINVAL);
    }
    match file {
        ProcFile::Admin(p) => match parse_i64(bytes) {
            Ok(v) => crate::migration::set_param(p, v),
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
            install_table(&mut table, mospe)
        }
        ProcFile::Decay(d) => match parse_i64(bytes) {
            Ok(1) => procstat::decay_apply(d),
            Ok(_) | Err(_) => {
                pr_warn!(
                    "decay/{}: rejected write: write 1 to apply it to the writing process\n",
                    name
                );
                Err(EINVAL)
            }
        },
        ProcFile::Pid(pid, PidField::Lock) => match parse_i64(bytes) {
            Ok(v @ (0 | 1)) => {
                let (_, ppid, start) = pid_settings(pid)?;
                procstat::change(
                    pid,
                    start,
                    ppid,
                    &Change {
                        lock: Some(v == 1),
                        ..Change::default()
                    },
                )
            }
            Ok(_) | Err(_) => {
                pr_warn!("pid/{}/lock: rejected write: 0 (unlock) or 1 (lock)\n", pid);
                Err(EINVAL)
            }
        },
        ProcFile::Pid(pid, PidField::Goto) => match parse_i64(bytes) {
            // Returns once the process runs there (or why it cannot).
            Ok(v) if (-1..=i64::from(i32::MAX)).contains(&v) => {
                crate::migration::migrate(pid, v as i32).map(|_| ())
            }
            Ok(_) | Err(_) => {
                pr_warn!(
                    "pid/{}/goto: rejected write: a node id, 0 (home) or -1 (the best node)\n",
                    pid
                );
                Err(EINVAL)
            }
        },
        ProcFile::Node(..) | ProcFile::Stats | ProcFile::Procs | ProcFile::Pid(..) => Err(EACCES),
    }
}

/// Whether the opener may write file `cookie`. Admin files need `CAP_SYS_ADMIN` (`EPERM`); the
/// `decay` files act on the writer; a process's `lock` may be written by its owner or root.
fn may_write_cookie(cookie: c_ulong) -> Result {
    match ProcFile::from_cookie(cookie) {
        Some(ProcFile::Decay(_)) => Ok(()),
        Some(ProcFile::Pid(pid, _)) => sys::may_control(pid),
        _ if sys::capable_sys_admin() => Ok(()),
        _ => Err(EPERM),
    }
}

/// Shows file `cookie`.
fn show_cookie(seq: &SeqFile, cookie: c_ulong) -> Result {
    ProcFile::from_cookie(cookie)
        .ok_or(EINVAL)
        .and_then(|f| show(seq, f))
}

/// Writes `bytes` (of a write of `total`) to file `cookie`.
fn write_cookie(cookie: c_ulong, bytes: &[u8], total: usize) -> Result {
    ProcFile::from_cookie(cookie)
        .ok_or(EINVAL)
        .and_then(|f| write(f, bytes, total))
}
