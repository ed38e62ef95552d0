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

/// `SCHED_FIFO` (Linux's uapi scheduling policy number).
pub const SCHED_FIFO: u32 = 1;
/// `SCHED_RR`.
pub const SCHED_RR: u32 = 2;
/// `SCHED_DEADLINE`.
pub const SCHED_DEADLINE: u32 = 6;

/// The facts of a process's kernel state that decide its stay reasons (the module gathers
/// them; this decides).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TaskFacts {
    /// A kernel thread.
    pub kthread: bool,
    /// The global init.
    pub init: bool,
    /// Threads in its thread group.
    pub threads: u32,
    /// Its scheduling policy (`SCHED_*`).
    pub policy: u32,
    /// It has I/O port rights (`ioperm` or `iopl`).
    pub io_ports: bool,
    /// A 32-bit (ia32/x32) process.
    pub addr32: bool,
    /// Some area is locked in memory (`VM_LOCKED`).
    pub vm_locked: bool,
    /// Some area maps device memory (`VM_IO`, `VM_PFNMAP`, `VM_MIXEDMAP`), not counting the
    /// kernel's own named special mappings (`[vdso]`, `[vvar]`, `[uprobes]`).
    pub vm_device: bool,
    /// Some area may be shared (`VM_MAYSHARE`).
    pub vm_shared: bool,
}

/// The stay reasons that `f` shows (the user's lock is not among them: it is the module's).
pub const fn from_facts(f: &TaskFacts) -> u32 {
    let mut bits = 0;
    if f.kthread || f.init {
        bits |= SYSTEM;
    }
    if f.threads > 1 {
        bits |= CLONE;
    }
    if matches!(f.policy, SCHED_FIFO | SCHED_RR | SCHED_DEADLINE) {
        bits |= RT;
    }
    if f.io_ports {
        bits |= IOPL;
    }
    if f.addr32 {
        bits |= COMPAT;
    }
    if f.vm_locked {
        bits |= MLOCK;
    }
    if f.vm_device {
        bits |= DEV;
    }
    if f.vm_shared {
        bits |= SHARED;
    }
    bits
}

/// Whether a process with these reasons may move away from where it runs (home is always
/// allowed for a process that is away).
pub const fn movable(bits: u32) -> bool {
    bits == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn each_fact_gives_exactly_its_reason() {
        let none = TaskFacts {
            threads: 1,
            ..TaskFacts::default()
        };
        assert_eq!(from_facts(&none), 0);
        let one = |f: TaskFacts| from_facts(&f);
        assert_eq!(
            one(TaskFacts {
                kthread: true,
                ..none
            }),
            SYSTEM
        );
        assert_eq!(one(TaskFacts { init: true, ..none }), SYSTEM);
        assert_eq!(one(TaskFacts { threads: 2, ..none }), CLONE);
        assert_eq!(one(TaskFacts { threads: 0, ..none }), 0);
        for (policy, bits) in [
            (0, 0),
            (SCHED_FIFO, RT),
            (SCHED_RR, RT),
            (3, 0),
            (5, 0),
            (SCHED_DEADLINE, RT),
        ] {
            assert_eq!(one(TaskFacts { policy, ..none }), bits, "policy {policy}");
        }
        assert_eq!(
            one(TaskFacts {
                io_ports: true,
                ..none
            }),
            IOPL
        );
        assert_eq!(
            one(TaskFacts {
                addr32: true,
                ..none
            }),
            COMPAT
        );
        assert_eq!(
            one(TaskFacts {
                vm_locked: true,
                ..none
            }),
            MLOCK
        );
        assert_eq!(
            one(TaskFacts {
                vm_device: true,
                ..none
            }),
            DEV
        );
        assert_eq!(
            one(TaskFacts {
                vm_shared: true,
                ..none
            }),
            SHARED
        );
    }

    fn facts() -> impl Strategy<Value = TaskFacts> {
        (
            any::<[bool; 7]>(),
            0u32..4,
            prop_oneof![0u32..8, any::<u32>()],
        )
            .prop_map(|(b, threads, policy)| TaskFacts {
                kthread: b[0],
                init: b[1],
                threads,
                policy,
                io_ports: b[2],
                addr32: b[3],
                vm_locked: b[4],
                vm_device: b[5],
                vm_shared: b[6],
            })
    }

    proptest! {
        /// The reasons of a set of facts are the union of each fact's alone, never the user's
        /// lock, and none blocks a move when no fact is set.
        #[test]
        fn reasons_are_the_union_of_the_facts(f in facts()) {
            let none = TaskFacts { threads: 1, ..TaskFacts::default() };
            let parts = [
                TaskFacts { kthread: f.kthread, ..none },
                TaskFacts { init: f.init, ..none },
                TaskFacts { threads: f.threads, ..none },
                TaskFacts { policy: f.policy, ..none },
                TaskFacts { io_ports: f.io_ports, ..none },
                TaskFacts { addr32: f.addr32, ..none },
                TaskFacts { vm_locked: f.vm_locked, ..none },
                TaskFacts { vm_device: f.vm_device, ..none },
                TaskFacts { vm_shared: f.vm_shared, ..none },
            ];
            let union = parts.iter().fold(0, |a, p| a | from_facts(p));
            prop_assert_eq!(from_facts(&f), union);
            prop_assert_eq!(from_facts(&f) & USER_LOCK, 0);
            prop_assert_eq!(movable(from_facts(&f)), from_facts(&f) == 0);
        }
    }

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
