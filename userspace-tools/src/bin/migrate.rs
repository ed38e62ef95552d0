//! `migrate PID {NODE|home|balance}`: openMosix's manual migration.

use clap::Parser;
use mosix_tools::dev::Device;
use mosix_tools::{exit, run, ToolError, EXIT_CODES_HELP};

const LONG_ABOUT: &str = "\
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
struct Args {
    /// The process.
    pid: i32,
    /// A node id, `home` or `balance`.
    to: String,
}

fn main() {
    let a = Args::parse();
    run("migrate", || body(a))
}

fn body(a: Args) -> Result<i32, ToolError> {
    let node = match a.to.as_str() {
        "home" => 0,
        "balance" => -1,
        n => match n.parse::<i32>() {
            Ok(v) if v > 0 => v,
            _ => return Err(ToolError::usage(format!("`{n}` is not a node id, `home` or `balance`"))),
        },
    };
    let dev = Device::open()?;
    match dev.migrate(a.pid, node) {
        Ok(()) => Ok(exit::OK),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
            let why = std::fs::read_to_string(format!("/proc/mosix/pid/{}/cantmove", a.pid)).unwrap_or_default();
            let why: Vec<&str> = why.lines().map(|l| l.split_whitespace().next().unwrap_or(l)).collect();
            Err(ToolError::failed(format!(
                "process {} cannot move: {}",
                a.pid,
                if why.is_empty() { "busy".to_string() } else { why.join(", ") }
            )))
        }
        Err(e) if e.raw_os_error() == Some(libc::EREMOTE) => Err(ToolError::failed(format!(
            "process {} is a guest on this node: from here it can only go home (migrate {} home); \
             move it on from its home node",
            a.pid, a.pid
        ))),
        Err(e) => Err(ToolError::io(&format!("migrating process {} to {}", a.pid, a.to), e)),
    }
}
