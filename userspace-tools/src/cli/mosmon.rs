//! `mosmon`'s command line.

use crate::EXIT_CODES_HELP;
use clap::{CommandFactory, Parser};
use std::path::PathBuf;

/// `mosmon --help`'s description.
pub const LONG_ABOUT: &str = "\
Watch the load, speed and memory of every openMosix node, as this node hears them
through load gossip: one bar per node, refreshed every second.

Keys (and the options that start with them):
  l  load (default): 1.00 = one standard processor (speed 10000) fully busy; a faster
     or multi-processor node shows less for the same work
  s  speed, with the CPU count          m  memory: used solid, free + (MB)
  r  raw memory, as Linux counts it     u  utilizability %
  d  dead nodes: configured but not heard of within the gossip timeout
  t  totals of the running machines
  w  wide layout (a column per node)    v  vertical layout (a row per node)
  a  automatic layout (default): wide when every node fits side by side
  q  quit

A node that is down shows `-` and `down`.  Works in an 80x24 terminal and uses a
larger one.  --once prints one screen as text and exits; --json prints the snapshot
for scripts.

Examples:
  mosmon                  watch the load
  mosmon -m -v            memory, one row per node
  mosmon --once -t        print the totals once
  mosmon --json | jq '.nodes[] | select(.load > 100) | .id'";

#[derive(Parser, Debug)]
#[command(name = "mosmon", version, about = "Monitor the load of the openMosix cluster", long_about = LONG_ABOUT,
          after_help = EXIT_CODES_HELP, disable_version_flag = true)]
pub struct Args {
    /// Print the version.
    #[arg(long, action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    /// Start in the load view.
    #[arg(short = 'l', group = "view")]
    pub load: bool,
    /// Start in the speed view.
    #[arg(short = 's', group = "view")]
    pub speed: bool,
    /// Start in the memory view.
    #[arg(short = 'm', group = "view")]
    pub mem: bool,
    /// Start in the raw-memory view.
    #[arg(short = 'r', group = "view")]
    pub rmem: bool,
    /// Start in the utilizability view.
    #[arg(short = 'u', group = "view")]
    pub util: bool,
    /// Start in the dead-nodes view.
    #[arg(short = 'd', group = "view")]
    pub dead: bool,
    /// Start in the totals view.
    #[arg(short = 't', group = "view")]
    pub totals: bool,
    /// Wide layout.
    #[arg(short = 'w', group = "layout")]
    pub wide: bool,
    /// Vertical layout (-V is the same).
    #[arg(short = 'v', short_alias = 'V', group = "layout")]
    pub vertical: bool,
    /// Automatic layout (the default).
    #[arg(short = 'a', group = "layout")]
    pub auto: bool,
    /// Print one screen as text and exit.
    #[arg(long)]
    pub once: bool,
    /// Print the snapshot as JSON and exit.
    #[arg(long, conflicts_with = "once")]
    pub json: bool,
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 1.0, value_parser = parse_interval)]
    pub interval: f64,
    /// Width of the --once output (default: $COLUMNS, else 80).
    #[arg(long, value_parser = clap::value_parser!(u16).range(20..=1000))]
    pub width: Option<u16>,
    /// The /proc/mosix tree to read (for tests).
    #[arg(long, default_value = "/proc/mosix", hide = true)]
    pub proc: PathBuf,
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0.1 and 3600"
        )),
    }
}

/// `mosmon`'s command line, as it parses it.
pub fn command() -> clap::Command {
    Args::command()
}
