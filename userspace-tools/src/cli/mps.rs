//! `mps`'s command line.

use crate::EXIT_CODES_HELP;
use clap::{CommandFactory, Parser};
use std::path::PathBuf;

/// `mps --help`'s description.
pub const LONG_ABOUT: &str = "\
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
pub struct Args {
    /// Only these processes (default: all). A pid that does not exist makes the exit status 1.
    pub pids: Vec<i32>,
    /// Cut lines to this many columns (default: $COLUMNS when set, else no limit).
    #[arg(long, short = 'w')]
    pub width: Option<usize>,
    /// The /proc tree to read (for tests).
    #[arg(long, default_value = "/proc", hide = true)]
    pub proc: PathBuf,
    /// The /proc/mosix tree to read (for tests).
    #[arg(long, default_value = "/proc/mosix", hide = true)]
    pub mosix: PathBuf,
}

/// `mps`'s command line, as it parses it.
pub fn command() -> clap::Command {
    Args::command()
}
