//! `migrate PID {NODE|home|balance}`: openMosix's manual migration.

use clap::Parser;
use mosix_tools::cli::migrate::Args;
use mosix_tools::dev::Device;
use mosix_tools::{exit, run, ToolError};

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
            _ => {
                return Err(ToolError::usage(format!(
                    "`{n}` is not a node id, `home` or `balance`"
                )))
            }
        },
    };
    let dev = Device::open()?;
    match dev.migrate(a.pid, node) {
        Ok(()) => Ok(exit::OK),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
            let why = std::fs::read_to_string(format!("/proc/mosix/pid/{}/cantmove", a.pid))
                .unwrap_or_default();
            let why: Vec<&str> = why
                .lines()
                .map(|l| l.split_whitespace().next().unwrap_or(l))
                .collect();
            Err(ToolError::failed(format!(
                "process {} cannot move: {}",
                a.pid,
                if why.is_empty() {
                    "busy".to_string()
                } else {
                    why.join(", ")
                }
            )))
        }
        Err(e) if e.raw_os_error() == Some(libc::EREMOTE) => Err(ToolError::failed(format!(
            "process {} is a guest on this node: from here it can only go home (migrate {} home); \
             move it on from its home node",
            a.pid, a.pid
        ))),
        Err(e) => Err(ToolError::io(
            &format!("migrating process {} to {}", a.pid, a.to),
            e,
        )),
    }
}
