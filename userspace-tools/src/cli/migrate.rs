//! `migrate`'s command line.

use crate::EXIT_CODES_HELP;
use clap::{CommandFactory, Parser};

/// `migrate --help`'s description.
pub const LONG_ABOUT: &str = "\
Move a running process to another node of the openMosix cluster, back to its home node,
or to the node that suits it best now (balance: the up node with the lowest load, if
lower than here).  The process keeps its pid, parent and files at home, where its deputy
stays; `cat /proc/mosix/pid/PID/where` and `mps` show where it runs.

Root may move any process; other users only their own (real or effective uid).  A process
that cannot move (threads, shared or locked memory, real-time scheduling, init, the user's
lock, ...) stays, and migrate prints why (the reasons of /proc/mosix/pid/PID/cantmove).

Examples:
  migrate 1234 3        move process 1234 to node 3
  migrate 1234 balance  move it where the load is lowest
  migrate 1234 home     bring it back home
A process that is away and is sent to another node goes through home.";

#[derive(Parser, Debug)]
#[command(name = "migrate", version, about = "Move a process to another node", long_about = LONG_ABOUT,
          after_help = EXIT_CODES_HELP)]
pub struct Args {
    /// The process.
    pub pid: i32,
    /// A node id, `home` or `balance`.
    pub to: String,
}

/// `migrate`'s command line, as it parses it.
pub fn command() -> clap::Command {
    Args::command()
}
