// SPDX-License-Identifier: GPL-2.0
//! Why a process cannot migrate: openMosix's stay-reason bits (reference §5.6) with their
//! 2.6 names, plus the reasons this implementation adds.
//!
//! `cantmove` shows one reason per line, the weightiest first, each as `name 0xBIT`; a process
//! that may move shows nothing. Any bit blocks every move, `migrate` included (openMosix 2.6:
//! `DSTAY` blocks even manual moves; a locked process "moves only in emergencies, and then only
//! to home"); [`USER_LOCK`] is lifted by writing 0 to `lock`.

/// Maps a file through a remote ("monkey") inode. Kept for the numbering; no MFS here.
pub const MONKEY: u32 = 0x1;
/// Maps a device (`VM_IO`, `VM_PFNMAP`, `VM_MIXEDMAP`).
pub const DEV: u32 = 0x2;
/// vm86 mode (32-bit x86 only; never set on x86_64).
pub const VM86: u32 = 0x4;
/// Daemon process (unused in openMosix too).
pub const DAEMON: u32 = 0x8;
/// Privileged in/out instructions.
pub const PRIV: u32 = 0x10;
/// Locked memory (`mlock`, `VM_LOCKED`).
pub const MLOCK: u32 = 0x20;
/// Shares its memory with other tasks: threads, or `CLONE_VM` children.
pub const CLONE: u32 = 0x40;
/// Real-time or deadline scheduling.
pub const RT: u32 = 0x80;
/// `iopl`/`ioperm` port access.
pub const IOPL: u32 = 0x100;
/// init, or a kernel thread.
pub const SYSTEM: u32 = 0x200;
/// Shared memory: SysV or POSIX shared memory, or any shared mapping (`MAP_SHARED`): pages
/// others can write cannot be carried to another node (this implementation's reason).
pub const SHARED: u32 = 0x800;
/// A 32-bit (ia32/x32) process: its system calls arrive with other numbers (this
/// implementation's reason).
pub const COMPAT: u32 = 0x1000;
/// The user's lock (`lock` = 1, `mosrun -h`, ...): no automatic migration.
pub const USER_LOCK: u32 = 0x8000_0000;

/// Every reason with its name, weightiest first (the order of `cantmove`).
pub const REASONS: [(u32, &str); 14] = [
    (SYSTEM, "system"),
    (CLONE, "clone_vm"),
    (SHARED, "shared_mem"),
    (DEV, "mmap_dev"),
    (MLOCK, "mem_lock"),
    (RT, "rt_sched"),
    (IOPL, "direct_io"),
    (PRIV, "priv_inst"),
    (VM86, "VM86_mode"),
    (COMPAT, "compat_32bit"),
    (MONKEY, "monkey"),
    (DAEMON, "daemon"),
    (USER_LOCK, "user_lock"),
    // The external reasons of 2.6 share one line.
    (EXTERNAL, "extern"),
];

/// openMosix 2.6's external reasons `extern_1..4`.
pub const EXTERNAL: u32 = 0x0f00_0000;

/// The reasons set in `bits`, weightiest first, as `(bit, name)`. Unknown bits are named
/// `other`.
pub fn reasons(bits: u32) -> impl Iterator<Item = (u32, &'static str)> {
    let known = REASONS.iter().fold(0, |a, (b, _)| a | b);
    REASONS
        .iter()
        .filter(move |(b, _)| bits & b != 0)
        .map(move |(b, n)| (bits & b, *n))
        .chain(Some((bits & !known, "other")).filter(|(b, _)| *b != 0))
}

/// Whether a process with these reasons may move away from where it runs (home is always
/// allowed for a process that is away).
pub const fn movable(bits: u32) -> bool {
    bits == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn names_follow_weight_and_unknown_bits_are_other() {
        let v: Vec<_> = reasons(MLOCK | CLONE | USER_LOCK | 0x4000).collect();
        assert_eq!(
            v,
            [
                (CLONE, "clone_vm"),
                (MLOCK, "mem_lock"),
                (USER_LOCK, "user_lock"),
                (0x4000, "other")
            ]
        );
        assert_eq!(reasons(0).count(), 0);
        assert_eq!(
            reasons(0x0300_0000).collect::<Vec<_>>(),
            [(0x0300_0000, "extern")]
        );
    }

    #[test]
    fn bits_are_distinct_and_openmosix_numbered() {
        let mut seen = 0u32;
        for (b, _) in REASONS {
            assert_eq!(seen & b, 0, "{b:#x} overlaps");
            seen |= b;
        }
        assert_eq!(
            (DEV, MLOCK, CLONE, RT, SYSTEM, USER_LOCK),
            (0x2, 0x20, 0x40, 0x80, 0x200, 0x8000_0000)
        );
    }

    #[test]
    fn any_reason_blocks() {
        assert!(movable(0));
        assert!(!movable(USER_LOCK) && !movable(CLONE) && !movable(0x4000));
    }
}
