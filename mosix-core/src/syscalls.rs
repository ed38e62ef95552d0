// SPDX-License-Identifier: GPL-2.0
//! Which system calls a migrated process runs where, and how their arguments travel
//! (x86_64 numbers; reference §5.3 for openMosix's split).
//!
//! A call either runs on the node where the process is ([`Place::Local`]: it only touches the
//! process itself: memory, its signal state, futexes, sleeping, clocks), or at home in the
//! deputy's context ([`Place::Home`]: anything that depends on home: files, pipes, sockets,
//! terminals, other processes, the host's identity), with its pointer arguments described
//! here so that input buffers go with the request and output buffers come back with the
//! reply: one round trip per call. A call not in the table, or one whose buffers cannot be
//! described ([`Place::GoHome`]: `fork`, `execve`, an `ioctl` of unknown shape, ...), sends
//! the process home, where it runs natively: a migrated process never gets a wrong result.

/// Where a call runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// On the node where the process is.
    Local,
    /// At home, in the deputy, with the arguments described.
    Home,
    /// Only at home as the process itself: the process goes home first.
    GoHome,
    /// Answered where the process is with the home pid (`getpid`, `gettid`: a migrated
    /// process keeps its pid).
    Emulated,
}

/// How long a buffer argument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    /// A fixed size in bytes.
    Fixed(u32),
    /// The value of argument `n` (0-based), in bytes.
    Arg(u8),
    /// The value of argument `n` times a fixed element size.
    ArgTimes(u8, u32),
    /// A NUL-terminated string (at most [`PATH_MAX`] bytes with the NUL).
    CStr,
}

/// What one argument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Not used.
    None,
    /// A plain value (number, flags, descriptor).
    Val,
    /// A pointer to data the call reads (sent with the request).
    In(Len),
    /// A pointer to data the call writes (sent back with the reply; at most what the return
    /// value says for calls like `read`, see [`Call::out_by_ret`]).
    Out(Len),
    /// A pointer to data the call reads and writes.
    InOut(Len),
}

/// The longest path carried.
pub const PATH_MAX: u32 = 4096;
/// The largest buffer carried by one forwarded call; longer transfers are split by the
/// caller's side into several calls (reads and writes may be short anyway).
pub const MAX_BUF: u32 = 256 * 1024 - 4096;

/// One system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// x86_64 number.
    pub nr: u32,
    /// Name.
    pub name: &'static str,
    /// Where it runs.
    pub place: Place,
    /// Its six arguments.
    pub args: [Arg; 6],
    /// Output buffers hold as many bytes as the (non-negative) return value says.
    pub out_by_ret: bool,
}

const N: Arg = Arg::None;
const V: Arg = Arg::Val;
const PATH: Arg = Arg::In(Len::CStr);

const fn c(nr: u32, name: &'static str, place: Place, args: [Arg; 6]) -> Call {
    Call {
        nr,
        name,
        place,
        args,
        out_by_ret: false,
    }
}

const fn r(nr: u32, name: &'static str, args: [Arg; 6]) -> Call {
    Call {
        nr,
        name,
        place: Place::Home,
        args,
        out_by_ret: true,
    }
}

const fn local(nr: u32, name: &'static str) -> Call {
    c(nr, name, Place::Local, [V, V, V, V, V, V])
}

const fn go_home(nr: u32, name: &'static str) -> Call {
    c(nr, name, Place::GoHome, [N, N, N, N, N, N])
}

const fn home(nr: u32, name: &'static str, args: [Arg; 6]) -> Call {
    c(nr, name, Place::Home, args)
}

/// Sizes of the structures carried (x86_64).
mod size {
    pub(super) const STAT: u32 = 144;
    pub(super) const STATX: u32 = 256;
    pub(super) const UTSNAME: u32 = 390;
    pub(super) const RUSAGE: u32 = 144;
    pub(super) const POLLFD: u32 = 8;
    pub(super) const TIMESPEC: u32 = 16;
    pub(super) const STATFS: u32 = 120;
    pub(super) const TERMIOS: u32 = 36;
    pub(super) const WINSIZE: u32 = 8;
}

use Len::{Arg as L, ArgTimes, Fixed};

/// The table, sorted by number.
pub const CALLS: &[Call] = &[
    r(0, "read", [V, Arg::Out(L(2)), V, N, N, N]),
    home(1, "write", [V, Arg::In(L(2)), V, N, N, N]),
    home(2, "open", [PATH, V, V, N, N, N]),
    home(3, "close", [V, N, N, N, N, N]),
    home(4, "stat", [PATH, Arg::Out(Fixed(size::STAT)), N, N, N, N]),
    home(5, "fstat", [V, Arg::Out(Fixed(size::STAT)), N, N, N, N]),
    home(6, "lstat", [PATH, Arg::Out(Fixed(size::STAT)), N, N, N, N]),
    home(
        7,
        "poll",
        [Arg::InOut(ArgTimes(1, size::POLLFD)), V, V, N, N, N],
    ),
    home(8, "lseek", [V, V, V, N, N, N]),
    local(9, "mmap"),
    local(10, "mprotect"),
    local(11, "munmap"),
    local(12, "brk"),
    local(13, "rt_sigaction"),
    local(14, "rt_sigprocmask"),
    local(15, "rt_sigreturn"),
    go_home(16, "ioctl"),
    r(17, "pread64", [V, Arg::Out(L(2)), V, V, N, N]),
    home(18, "pwrite64", [V, Arg::In(L(2)), V, V, N, N]),
    go_home(19, "readv"),
    go_home(20, "writev"),
    home(21, "access", [PATH, V, N, N, N, N]),
    home(22, "pipe", [Arg::Out(Fixed(8)), N, N, N, N, N]),
    go_home(23, "select"),
    local(24, "sched_yield"),
    local(25, "mremap"),
    local(26, "msync"),
    local(27, "mincore"),
    local(28, "madvise"),
    home(32, "dup", [V, N, N, N, N, N]),
    home(33, "dup2", [V, V, N, N, N, N]),
    local(34, "pause"),
    local(35, "nanosleep"),
    local(37, "alarm"),
    c(39, "getpid", Place::Emulated, [N, N, N, N, N, N]),
    go_home(56, "clone"),
    go_home(57, "fork"),
    go_home(58, "vfork"),
    go_home(59, "execve"),
    local(60, "exit"),
    home(
        61,
        "wait4",
        [
            V,
            Arg::Out(Fixed(4)),
            V,
            Arg::Out(Fixed(size::RUSAGE)),
            N,
            N,
        ],
    ),
    home(62, "kill", [V, V, N, N, N, N]),
    home(63, "uname", [Arg::Out(Fixed(size::UTSNAME)), N, N, N, N, N]),
    home(72, "fcntl", [V, V, V, N, N, N]),
    home(73, "flock", [V, V, N, N, N, N]),
    home(74, "fsync", [V, N, N, N, N, N]),
    home(75, "fdatasync", [V, N, N, N, N, N]),
    home(76, "truncate", [PATH, V, N, N, N, N]),
    home(77, "ftruncate", [V, V, N, N, N, N]),
    r(79, "getcwd", [Arg::Out(L(1)), V, N, N, N, N]),
    home(80, "chdir", [PATH, N, N, N, N, N]),
    home(81, "fchdir", [V, N, N, N, N, N]),
    home(82, "rename", [PATH, PATH, N, N, N, N]),
    home(83, "mkdir", [PATH, V, N, N, N, N]),
    home(84, "rmdir", [PATH, N, N, N, N, N]),
    home(85, "creat", [PATH, V, N, N, N, N]),
    home(86, "link", [PATH, PATH, N, N, N, N]),
    home(87, "unlink", [PATH, N, N, N, N, N]),
    home(88, "symlink", [PATH, PATH, N, N, N, N]),
    r(89, "readlink", [PATH, Arg::Out(L(2)), V, N, N, N]),
    home(90, "chmod", [PATH, V, N, N, N, N]),
    home(91, "fchmod", [V, V, N, N, N, N]),
    home(92, "chown", [PATH, V, V, N, N, N]),
    home(95, "umask", [V, N, N, N, N, N]),
    local(96, "gettimeofday"),
    home(97, "getrlimit", [V, Arg::Out(Fixed(16)), N, N, N, N]),
    local(98, "getrusage"),
    home(99, "sysinfo", [Arg::Out(Fixed(112)), N, N, N, N, N]),
    local(100, "times"),
    local(102, "getuid"),
    local(104, "getgid"),
    local(107, "geteuid"),
    local(108, "getegid"),
    home(109, "setpgid", [V, V, N, N, N, N]),
    home(110, "getppid", [N, N, N, N, N, N]),
    home(111, "getpgrp", [N, N, N, N, N, N]),
    home(112, "setsid", [N, N, N, N, N, N]),
    home(121, "getpgid", [V, N, N, N, N, N]),
    home(124, "getsid", [V, N, N, N, N, N]),
    local(127, "rt_sigpending"),
    local(128, "rt_sigtimedwait"),
    local(130, "rt_sigsuspend"),
    local(131, "sigaltstack"),
    home(
        137,
        "statfs",
        [PATH, Arg::Out(Fixed(size::STATFS)), N, N, N, N],
    ),
    home(
        138,
        "fstatfs",
        [V, Arg::Out(Fixed(size::STATFS)), N, N, N, N],
    ),
    local(158, "arch_prctl"),
    c(186, "gettid", Place::Emulated, [N, N, N, N, N, N]),
    local(201, "time"),
    local(202, "futex"),
    r(217, "getdents64", [V, Arg::Out(L(2)), V, N, N, N]),
    local(218, "set_tid_address"),
    local(228, "clock_gettime"),
    local(229, "clock_getres"),
    local(230, "clock_nanosleep"),
    local(231, "exit_group"),
    go_home(232, "epoll_wait"),
    home(257, "openat", [V, PATH, V, V, N, N]),
    home(258, "mkdirat", [V, PATH, V, N, N, N]),
    home(
        262,
        "newfstatat",
        [V, PATH, Arg::Out(Fixed(size::STAT)), V, N, N],
    ),
    home(263, "unlinkat", [V, PATH, V, N, N, N]),
    home(264, "renameat", [V, PATH, V, PATH, N, N]),
    r(267, "readlinkat", [V, PATH, Arg::Out(L(3)), V, N, N]),
    home(269, "faccessat", [V, PATH, V, N, N, N]),
    home(
        271,
        "ppoll",
        [
            Arg::InOut(ArgTimes(1, size::POLLFD)),
            V,
            Arg::In(Fixed(size::TIMESPEC)),
            N,
            N,
            N,
        ],
    ),
    local(273, "set_robust_list"),
    local(274, "get_robust_list"),
    home(292, "dup3", [V, V, V, N, N, N]),
    home(293, "pipe2", [Arg::Out(Fixed(8)), V, N, N, N, N]),
    home(
        302,
        "prlimit64",
        [V, V, Arg::In(Fixed(16)), Arg::Out(Fixed(16)), N, N],
    ),
    r(318, "getrandom", [Arg::Out(L(1)), V, V, N, N, N]),
    go_home(322, "execveat"),
    home(
        332,
        "statx",
        [V, PATH, V, V, Arg::Out(Fixed(size::STATX)), N],
    ),
    local(334, "rseq"),
    go_home(435, "clone3"),
    home(439, "faccessat2", [V, PATH, V, V, N, N]),
];

/// The `ioctl` requests whose shapes are known (anything else sends the process home).
pub const IOCTLS: &[(u32, Arg)] = &[
    (0x5401, Arg::Out(Fixed(size::TERMIOS))), // TCGETS
    (0x5402, Arg::In(Fixed(size::TERMIOS))),  // TCSETS
    (0x5403, Arg::In(Fixed(size::TERMIOS))),  // TCSETSW
    (0x5404, Arg::In(Fixed(size::TERMIOS))),  // TCSETSF
    (0x5413, Arg::Out(Fixed(size::WINSIZE))), // TIOCGWINSZ
    (0x5414, Arg::In(Fixed(size::WINSIZE))),  // TIOCSWINSZ
    (0x540f, Arg::Out(Fixed(4))),             // TIOCGPGRP
    (0x541b, Arg::Out(Fixed(4))),             // FIONREAD
];

/// The table entry of call `nr`; a call that is not there goes home.
pub fn lookup(nr: u64) -> Call {
    let miss = Call {
        nr: u32::MAX,
        name: "unknown",
        place: Place::GoHome,
        args: [N; 6],
        out_by_ret: false,
    };
    u32::try_from(nr)
        .ok()
        .and_then(|nr| CALLS.binary_search_by_key(&nr, |c| c.nr).ok())
        .and_then(|i| CALLS.get(i))
        .copied()
        .unwrap_or(miss)
}

/// Whether a `Home` call that blocks at home may be stopped so that the process can go home
/// (and make it again there): the calls that wait without limit and, stopped, have done
/// nothing: reads, `poll`, `wait4` and lock waits (`flock`, `fcntl`'s `F_SETLKW`). Not the
/// writes (stopped after part of their data has gone to a full pipe or socket they return a
/// short count, which without a signal the program never sees), nor `close` (it has closed
/// before it says `EINTR`), nor `open` (on a network file system a stopped create may have
/// been made): the move waits for them.
pub fn stops_for_move(nr: u64) -> bool {
    matches!(nr, 0 | 7 | 17 | 61 | 72 | 73 | 271)
}

/// Whether call `nr`, stopped at home for the move home, ended with `ret` before doing
/// anything, so that it is made again at home: a restart code (the kernel itself would make
/// such a call again after a signal), or `EINTR` from a read (a socket read with a receive
/// timeout: it read nothing, or it would return the count).
pub fn remade_after_stop(nr: u64, ret: i64) -> bool {
    const EINTR: i64 = 4;
    matches!(-ret, 512 | 513 | 514 | 516) || (ret == -EINTR && matches!(nr, 0 | 17))
}

/// A `Home` call's buffer lengths for these argument values: `(index, bytes)` of each pointer
/// argument, or `None` if a length is out of bounds (the call then goes home). C strings
/// are measured by the caller and reported as [`PATH_MAX`] here.
pub fn buffers(call: &Call, args: &[u64; 6]) -> Option<[(usize, u32); 6]> {
    let mut out = [(usize::MAX, 0u32); 6];
    let mut total: u64 = 0;
    for (i, a) in call.args.iter().enumerate() {
        let len = match a {
            Arg::None | Arg::Val => continue,
            Arg::In(l) | Arg::Out(l) | Arg::InOut(l) => match *l {
                Len::Fixed(n) => u64::from(n),
                Len::Arg(k) => *args.get(usize::from(k))?,
                Len::ArgTimes(k, size) => args.get(usize::from(k))?.checked_mul(u64::from(size))?,
                Len::CStr => u64::from(PATH_MAX),
            },
        };
        if len > u64::from(MAX_BUF) {
            return None;
        }
        total += len;
        *out.get_mut(i)? = (i, len as u32);
    }
    (total <= 2 * u64::from(MAX_BUF)).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique() {
        assert!(
            CALLS.windows(2).all(|w| w[0].nr < w[1].nr),
            "sorted by number, no duplicates"
        );
        for c in CALLS {
            if c.place != Place::Home {
                continue;
            }
            // An output sized by the return value must have a length argument to bound it.
            if c.out_by_ret {
                assert!(
                    c.args.iter().any(|a| matches!(a, Arg::Out(Len::Arg(_)))),
                    "{}",
                    c.name
                );
            }
        }
    }

    #[test]
    fn places() {
        assert_eq!(lookup(1).place, Place::Home, "write");
        assert_eq!(lookup(0).name, "read");
        assert!(lookup(0).out_by_ret);
        assert_eq!(lookup(9).place, Place::Local, "mmap");
        assert_eq!(lookup(57).place, Place::GoHome, "fork");
        assert_eq!(lookup(59).place, Place::GoHome, "execve");
        assert_eq!(
            lookup(39).place,
            Place::Emulated,
            "getpid answers the home pid"
        );
        assert_eq!(lookup(110).place, Place::Home, "getppid");
        assert_eq!(lookup(231).place, Place::Local, "exit_group");
        assert_eq!(lookup(9999).place, Place::GoHome, "unknown calls go home");
        assert_eq!(lookup(u64::MAX).place, Place::GoHome);
    }

    #[test]
    fn what_a_move_home_stops() {
        for nr in [0, 7, 17, 61, 72, 73, 271] {
            assert!(stops_for_move(nr), "{}", lookup(nr).name);
            assert_eq!(lookup(nr).place, Place::Home, "{}", lookup(nr).name);
        }
        assert!(!stops_for_move(1), "write");
        assert!(!stops_for_move(18), "pwrite64");
        assert!(!stops_for_move(3), "close");
        assert!(!stops_for_move(2), "open");
        // No forwarded call that sends a buffer of the caller's length out (a write) is stopped.
        for c in CALLS
            .iter()
            .filter(|c| c.args.iter().any(|a| matches!(a, Arg::In(Len::Arg(_)))))
        {
            assert!(!stops_for_move(u64::from(c.nr)), "{}", c.name);
        }
        for code in [512, 513, 514, 516] {
            assert!(remade_after_stop(61, -code));
        }
        assert!(
            remade_after_stop(0, -4),
            "a read that says EINTR read nothing"
        );
        assert!(
            !remade_after_stop(3, -4),
            "close says EINTR once it has closed"
        );
        assert!(!remade_after_stop(0, 5), "a read that read");
        assert!(!remade_after_stop(0, 0));
        assert!(!remade_after_stop(61, -10), "ECHILD is an answer");
    }

    #[test]
    fn buffer_lengths() {
        let w = lookup(1);
        assert_eq!(
            buffers(&w, &[1, 0x1000, 4096, 0, 0, 0]).map(|b| b[1]),
            Some((1, 4096))
        );
        assert_eq!(
            buffers(&w, &[1, 0x1000, u64::from(MAX_BUF) + 1, 0, 0, 0]),
            None,
            "too long: go home"
        );
        let p = lookup(7);
        assert_eq!(
            buffers(&p, &[0x1000, 3, 100, 0, 0, 0]).map(|b| b[0]),
            Some((0, 24)),
            "3 pollfds"
        );
        assert_eq!(
            buffers(&p, &[0x1000, u64::MAX, 100, 0, 0, 0]),
            None,
            "overflow"
        );
        let s = lookup(262);
        let b = buffers(&s, &[0, 0x1000, 0x2000, 0, 0, 0]).unwrap();
        assert_eq!((b[1], b[2]), ((1, PATH_MAX), (2, size::STAT)));
    }
}
