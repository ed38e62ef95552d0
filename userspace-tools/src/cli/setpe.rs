//! `setpe`'s command line.

use crate::EXIT_CODES_HELP;
use clap::{CommandFactory, Parser};

/// `setpe --help`'s description.
pub const LONG_ABOUT: &str = "\
Install (-w), print (-r), check (-c) or remove (-off) the openMosix node table.

A map has one entry a line:  FIRST-ID  ADDRESS  COUNT
COUNT consecutive nodes get ids FIRST-ID.. and addresses ADDRESS, ADDRESS+1, ...
(a range needs an IP address; a single node may be given by host name, resolved
through the system resolver).  `ID ADDRESS ALIAS` gives node ID another address.
`#` starts a comment; blank lines are ignored.  At most 256 entry lines; ids 1-65535.
The map must be the same on every node.

This node's own id is the node whose address is one of this host's interface
addresses, unless -p gives it.  Without -f, -w reads the first of /etc/mosix.map,
/etc/openmosix.map and /etc/hpc.map that exists.

Nodes authenticate each other's packets with a cluster key: one line of 32 hex
digits in a file only root may read (make one with `mosctl genkey FILE` and copy it
to every node).  -k FILE installs it; -w also installs /etc/mosix/cluster.key when
that file exists and -k is not given.  Without a key a node neither sends nor
accepts load information.

Examples:
  setpe -w -f /etc/mosix.map     install the table (and /etc/mosix/cluster.key)
  setpe -k /etc/mosix/cluster.key   install (or replace) the cluster key only
  setpe -r                       print the installed table in map format
  setpe -c -f new.map            check a map without installing it
  setpe -off                     remove the table: openMosix off on this node";

#[derive(Parser, Debug)]
#[command(name = "setpe", version, about = "Configure the openMosix node table", long_about = LONG_ABOUT,
          after_help = EXIT_CODES_HELP)]
pub struct Args {
    /// Install the table from -f FILE (or the default map file).
    #[arg(short = 'w', group = "mode")]
    pub write: bool,
    /// Same as -w (kept for openMosix compatibility).
    #[arg(short = 'W', group = "mode")]
    pub write_all: bool,
    /// Print the installed table in map format, to stdout or to -f FILE.
    #[arg(short = 'r', group = "mode")]
    pub read: bool,
    /// Remove the table: this node leaves the cluster (also spelt -off).
    #[arg(long = "off", group = "mode")]
    pub off: bool,
    /// Only check the map (and this node's place in it); install nothing.
    #[arg(short = 'c')]
    pub check: bool,
    /// The map file; `-` is standard input.
    #[arg(short = 'f', value_name = "FILE|-")]
    pub file: Option<String>,
    /// This node's own id (default: found from this host's addresses).
    #[arg(short = 'p', value_name = "ID", value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub id: Option<u32>,
    /// Maximum number of gateways between nodes.
    #[arg(short = 'g', value_name = "0|1|2", value_parser = clap::value_parser!(u32).range(0..=2))]
    pub gateways: Option<u32>,
    /// Install the cluster key from FILE (mode 0600, 32 hex digits).
    #[arg(short = 'k', value_name = "FILE")]
    pub key: Option<String>,
    /// Address family; only inet (IPv4) is supported.
    #[arg(short = 'n', value_name = "inet", default_value = "inet", value_parser = ["inet"])]
    pub family: String,
}

/// `setpe`'s command line, as it parses it (after `-off` is rewritten to `--off`).
pub fn command() -> clap::Command {
    Args::command()
}
