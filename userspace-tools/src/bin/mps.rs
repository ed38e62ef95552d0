//! `mps`: `ps` with openMosix's NODE column.

use clap::Parser;
use mosix_tools::ps::{all_pids, read_proc, render};
use mosix_tools::{exit, run, ToolError, EXIT_CODES_HELP};
use std::path::PathBuf;

const LONG_ABOUT: &str = "\
List processes as ps does, with openMosix's NODE column: the node each process runs on.

Columns: PID, TTY (controlling terminal, ? for none), NODE (0 = at home on this node,
N = migrated to node N, -1 = openMosix is not running here), STAT (R running, S
sleeping, D in uninterruptible wait, T stopped, Z zombie), TIME (user + system CPU
time, minutes:seconds), COMMAND (the command line; [name] for kernel threads).

A process gets its /proc/mosix/pid/<pid>/ directory within a second of its start;
until then it is shown at home (0), which is where every process starts.

Examples:
  mps                  every process
  mps 1 $$             init and this shell
  mps | awk '$3 > 0'   the processes that are away";

#[derive(Parser, Debug)]
#[command(name = "mps", version, about = "List processes with the node they run on", long_about = LONG_ABOUT,
          after_help = EXIT_CODES_HELP)]
struct Args {
    /// Only these processes (default: all). A pid that does not exist makes the exit status 1.
    pids: Vec<i32>,
    /// Cut lines to this many columns (default: $COLUMNS when set, else no limit).
    #[arg(long, short = 'w')]
    width: Option<usize>,
    /// The /proc tree to read (for tests).
    #[arg(long, default_value = "/proc", hide = true)]
    proc: PathBuf,
    /// The /proc/mosix tree to read (for tests).
    #[arg(long, default_value = "/proc/mosix", hide = true)]
    mosix: PathBuf,
}

fn main() {
    let args = Args::parse();
    run("mps", || body(args))
}

fn body(a: Args) -> Result<i32, ToolError> {
    let (pids, named) = if a.pids.is_empty() {
        (all_pids(&a.proc).map_err(|e| ToolError::failed(format!("cannot list {}: {e}", a.proc.display())))?, false)
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
    let width = a.width.or_else(|| std::env::var("COLUMNS").ok()?.parse().ok()).unwrap_or(0);
    print!("{}", render(&procs, hz, width));
    Ok(if missing { exit::FAILED } else { exit::OK })
}
