//! Shared plumbing of the openMosix tools: `/dev/mosix` access with the ABI check, local
//! addresses, errors and exit codes.

pub mod cli;
pub mod dev;
pub mod key;
pub mod mon;
pub mod mosrun;
pub mod net;
pub mod ps;

use std::fmt;
use std::io;

/// Exit codes every tool uses; documented in each tool's `--help`.
pub mod exit {
    /// Success (or "yes").
    pub const OK: i32 = 0;
    /// The operation failed, or the answer is "no" (for example `mosctl isup`).
    pub const FAILED: i32 = 1;
    /// Bad arguments or bad input (a malformed map).
    pub const USAGE: i32 = 2;
    /// openMosix is not available: module not loaded, ABI mismatch, node not configured.
    pub const UNAVAILABLE: i32 = 3;
}

/// The text every tool's `--help` ends with.
pub const EXIT_CODES_HELP: &str = "\
EXIT STATUS:
  0  success (for isup: the node is up)
  1  the operation failed (for isup: the node is down)
  2  bad arguments or bad input
  3  openMosix is not available (mosix.ko not loaded, tool/module ABI mismatch, not configured)";

/// A tool error: a message and an exit code.
#[derive(Debug)]
pub struct ToolError {
    /// What to print after `tool: `.
    pub msg: String,
    /// The exit code (see [`exit`]).
    pub code: i32,
}

impl ToolError {
    /// An error with an explicit code.
    pub fn new(code: i32, msg: impl Into<String>) -> Self {
        ToolError {
            msg: msg.into(),
            code,
        }
    }

    /// A failed operation (exit 1).
    pub fn failed(msg: impl Into<String>) -> Self {
        Self::new(exit::FAILED, msg)
    }

    /// Bad input (exit 2).
    pub fn usage(msg: impl Into<String>) -> Self {
        Self::new(exit::USAGE, msg)
    }

    /// A failed kernel request, with errno explained.
    pub fn io(what: &str, e: io::Error) -> Self {
        let hint = match e.raw_os_error() {
            Some(libc::EPERM) => " (needs root: CAP_SYS_ADMIN)",
            Some(libc::EINVAL) => " (the kernel log says why: dmesg | grep mosix)",
            Some(libc::ENOTTY) => " (the module does not know this request: tool and module versions differ)",
            Some(libc::EKEYREJECTED) => " (the nodes' cluster keys differ)",
            Some(libc::EBUSY) => " (busy: for a process, it cannot move: see /proc/mosix/pid/PID/cantmove)",
            Some(libc::ESRCH) => " (no such process)",
            Some(libc::EAGAIN) => " (try again: the process is stopped, traced or exiting)",
            Some(libc::ENOKEY) => " (no cluster key installed: mosctl setkey)",
            Some(libc::EXDEV) => " (the nodes' CPUs differ: xsave features or size)",
            Some(libc::ENONET) => " (this node is not configured: setpe)",
            Some(libc::ENOENT) => " (no such node in the table)",
            Some(libc::ECONNREFUSED) => " (the node takes no links now, or its cluster key or node table differs: see dmesg)",
            _ => "",
        };
        Self::failed(format!("{what}: {e}{hint}"))
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

/// Runs a tool's main body: prints `tool: message` on error and exits with its code.
pub fn run(tool: &str, body: impl FnOnce() -> Result<i32, ToolError>) -> ! {
    let code = match body() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{tool}: {e}");
            e.code
        }
    };
    std::process::exit(code)
}

/// Rewrites openMosix's single-dash long options (`-off`) into clap's `--off`.
pub fn rewrite_legacy_args(args: impl Iterator<Item = String>, long: &[&str]) -> Vec<String> {
    args.map(|a| match a.strip_prefix('-') {
        Some(rest) if !rest.starts_with('-') && long.contains(&rest) => format!("--{rest}"),
        _ => a,
    })
    .collect()
}
