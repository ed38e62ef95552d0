// SPDX-License-Identifier: GPL-2.0
//! Numbers of the Linux x86-64 user ABI that the module, the image format and the tools share:
//! the kernel-internal restart codes a captured system call may hold, `SIGKILL`, and wait
//! statuses as `wait(2)` reports them.

/// Restart codes (negated in a system call's return value; user space never sees them).
pub const ERESTARTSYS: i64 = 512;
/// The call is made again after a signal's handler, whatever its `SA_RESTART`.
pub const ERESTARTNOINTR: i64 = 513;
/// The call is made again only if no handler ran.
pub const ERESTARTNOHAND: i64 = 514;
/// The call is made again through its restart block (`nanosleep` and the like).
pub const ERESTART_RESTARTBLOCK: i64 = 516;

/// `SIGKILL`'s number.
pub const SIGKILL: i32 = 9;

/// Wait statuses (`WIFEXITED`/`WIFSIGNALED` encodings).
pub mod wait_status {
    /// The status of a process ended by signal `sig` (no core dump).
    pub const fn killed(sig: i32) -> i32 {
        sig & 0x7f
    }

    /// The status of a process that exited with `code`.
    pub const fn exited(code: i32) -> i32 {
        (code & 0xff) << 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_as_wait_reports_them() {
        assert_eq!(wait_status::killed(SIGKILL), 9);
        assert_eq!(wait_status::exited(127), 127 << 8);
        assert_eq!(wait_status::exited(0), 0);
        assert_eq!(wait_status::exited(256 + 3), 3 << 8);
    }
}
