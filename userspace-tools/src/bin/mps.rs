//! `mps`: `ps` with openMosix's NODE column.

use clap::Parser;
use mosix_tools::cli::mps::Args;
use mosix_tools::ps::{all_pids, read_proc, render};
use mosix_tools::{exit, run, ToolError};

fn main() {
    let args = Args::parse();
    run("mps", || body(args))
}

fn body(a: Args) -> Result<i32, ToolError> {
    let (pids, named) = if a.pids.is_empty() {
        (
            all_pids(&a.proc)
                .map_err(|e| ToolError::failed(format!("cannot list {}: {e}", a.proc.display())))?,
            false,
        )
    } else {
        (a.pids.clone(), true)
    };
    let mut procs = Vec::new();
    let mut missing = false;
    for pid in pids {
        match read_proc(&a.proc, &a.mosix, pid) {
            Some(p) => procs.push(p),
            None if named => {
                eprintln!("mps: no process {pid}");
                missing = true;
            }
            // Gone while we listed.
            None => {}
        }
    }
    // SAFETY: sysconf has no preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100);
    let width = a
        .width
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(0);
    print!("{}", render(&procs, hz, width));
    Ok(if missing { exit::FAILED } else { exit::OK })
}
