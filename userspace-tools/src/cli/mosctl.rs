//! `mosctl`'s command line.

use crate::EXIT_CODES_HELP;
use clap::{CommandFactory, Parser, Subcommand};

/// `mosctl --help`'s description.
pub const LONG_ABOUT: &str = "\
Administer this openMosix node and query any node, as openMosix's mosctl.

Setting a mode needs root (CAP_SYS_ADMIN); queries do not.  Each query prints the
same value as the matching /proc/mosix file (memory in 4 KiB pages; a negative value
is -errno: the node has not been heard from within the gossip timeout).  Values of
other nodes are what this node last heard through load gossip; `status ID` shows
how old they are.  ID defaults to this node.

Examples:
  mosctl lstay                 local processes stay here (as in rc.local)
  mosctl status                this node's configuration and modes
  mosctl getload 3             node 3's load (100 = one standard processor busy)
  mosctl --json status 2       the same, for scripts
  mosctl whois 10.0.0.7        which node has this address
  mosctl genkey /etc/mosix/cluster.key   make a cluster key (copy it to every node)
  mosctl setkey                install /etc/mosix/cluster.key
  mosctl stats                 gossip packet counters (sent, received, dropped)";

#[derive(Parser, Debug)]
#[command(name = "mosctl", version, about = "Administer and query openMosix nodes", long_about = LONG_ABOUT,
          after_help = EXIT_CODES_HELP)]
pub struct Args {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// No automatic migration away from this node.
    Stay,
    /// Allow automatic migration away again (also -stay).
    Nostay,
    /// Local processes do not leave automatically; guests may.
    Lstay,
    /// Local processes may leave automatically again (also -lstay).
    Nolstay,
    /// Refuse arriving guests.
    Block,
    /// Accept arriving guests again (also -block).
    Noblock,
    /// Stop sending load information to other nodes.
    Quiet,
    /// Send load information again (also -quiet).
    Noquiet,
    /// Deny access to this node's files through MFS.
    Nomfs,
    /// Allow MFS access again.
    Mfs,
    /// Send every guest away, and block new ones; returns when all are gone.
    Expel,
    /// Bring home every process of this node running elsewhere, and lstay; returns when done.
    Bring,
    /// Show the tunable parameters.
    Gettune,
    /// Show the decay parameters: interval (s), slow and fast (per mille kept each interval).
    Getdecay,
    /// Set the decay parameters.
    Setdecay {
        /// Seconds between decay steps (1-3600).
        interval: i64,
        /// Per mille kept each step, slow mode (0-1000; default 975).
        slow: i64,
        /// Per mille kept each step, fast mode (0-1000; default 926).
        fast: i64,
    },
    /// Show a node's speed (10000 = standard processor).
    Getspeed { id: Option<u32> },
    /// Set this node's speed.
    Setspeed { speed: i64 },
    /// Show a node's load (100 = one standard processor busy).
    Getload { id: Option<u32> },
    /// Show a node's free memory as openMosix may use it (pages).
    Getmem { id: Option<u32> },
    /// Show a node's free memory as Linux sees it (pages).
    Getfree { id: Option<u32> },
    /// Show a node's utilizability (percent).
    Getutil { id: Option<u32> },
    /// Is the node up? Prints yes or no (exit 0 or 1).
    Isup { id: Option<u32> },
    /// Show a node's status and configuration.
    Status { id: Option<u32> },
    /// Map between node ids, addresses and host names.
    Whois {
        /// A node id, an IP address or a host name (default: this node).
        what: Option<String>,
    },
    /// Install the cluster key that authenticates gossip (needs root).
    Setkey {
        /// Key file: 32 hex digits, mode 0600 (default /etc/mosix/cluster.key).
        file: Option<String>,
    },
    /// Remove the cluster key: this node stops sending and accepting gossip.
    Clearkey,
    /// Write a new random cluster key to FILE (mode 0600).
    Genkey {
        /// Where to write it.
        file: String,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Show the gossip and link counters (from /proc/mosix/admin/stats).
    Stats,
    /// Test the authenticated link (TCP) to a node: connect, then echo frames (needs root).
    Linktest {
        /// The node's id.
        id: u32,
        /// Round trips.
        #[arg(short = 'c', long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        count: u32,
        /// Bytes per frame (at most 262144).
        #[arg(short = 's', long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(0..=262_144))]
        size: u32,
    },
    /// Send a process's memory image to a node, which checks it; the process stays here
    /// and keeps running (the first half of a migration, for tests and measurements).
    Imagetest {
        /// The process.
        pid: i32,
        /// The node's id.
        id: u32,
    },
}

/// `mosctl`'s command line, as it parses it.
pub fn command() -> clap::Command {
    Args::command()
}
