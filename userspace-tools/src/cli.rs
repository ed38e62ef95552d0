//! The tools' command lines: the clap definitions each tool parses its arguments with, in
//! one place so that `mosix-docs` can make the man pages and shell completions from them.
//!
//! Each module has the tool's `Args` (and subcommands) and a `command()` giving its
//! [`clap::Command`]. `mosrun` and `mosix-adopt` parse their arguments by hand (see their
//! modules); their `command()` describes the same command line for the documentation.

pub mod migrate;
pub mod mosctl;
pub mod mosix_adopt;
pub mod mosmon;
pub mod mosrun;
pub mod mps;
pub mod setpe;

/// One tool, for the documentation generator.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// The program's name.
    pub name: &'static str,
    /// Its man page section: 8 for the administrator's tools (they need root), else 1.
    pub section: &'static str,
    /// Its command line.
    pub command: fn() -> clap::Command,
    /// Whether its man page lists its options; not when its description already does
    /// (`mosrun`'s, which is its `--help`).
    pub options_listed: bool,
}

/// Every tool, in the order `--help` texts refer to them.
pub const TOOLS: [Tool; 7] = [
    Tool {
        name: "setpe",
        section: "8",
        command: setpe::command,
        options_listed: true,
    },
    Tool {
        name: "mosctl",
        section: "8",
        command: mosctl::command,
        options_listed: true,
    },
    Tool {
        name: "mosmon",
        section: "1",
        command: mosmon::command,
        options_listed: true,
    },
    Tool {
        name: "mps",
        section: "1",
        command: mps::command,
        options_listed: true,
    },
    Tool {
        name: "migrate",
        section: "1",
        command: migrate::command,
        options_listed: true,
    },
    Tool {
        name: "mosrun",
        section: "1",
        command: mosrun::command,
        options_listed: false,
    },
    Tool {
        name: "mosix-adopt",
        section: "8",
        command: mosix_adopt::command,
        options_listed: true,
    },
];
