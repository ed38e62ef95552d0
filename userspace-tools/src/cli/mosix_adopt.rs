//! `mosix-adopt`'s command line: one argument, which it reads by hand (it has no terminal:
//! `mosix.ko` starts it, and it reports to the kernel log). [`command`] describes it for the
//! man page and the shell completions.

use clap::{Arg, Command, ValueHint};

/// What `mosix-adopt` logs, exiting with status 2, when its argument is missing or no token.
pub const USAGE: &str = "usage: mosix-adopt TOKEN (started by mosix.ko, not by people)";

/// The man page's description.
pub const LONG_ABOUT: &str = "\
mosix.ko starts mosix-adopt (with call_usermodehelper) on the target node of a migration.
It moves its own vDSO to where the migrant had it (the kernel cannot call mremap for it),
takes the migrant's name, and asks the module to turn it into the migrant (ADOPT), which
does not return on success.  It has no terminal: it reports to the kernel log (dmesg)
and to standard error.  Not for people.";

/// Its exit statuses.
pub const EXIT_STATUS: &str = "\
EXIT STATUS:
  none  on success: the process has become the migrant
  1     no such migration, or the adoption failed
  2     the argument is missing or is no token
  3     openMosix is not available (mosix.ko not loaded, tool/module ABI mismatch)";

/// `mosix-adopt`'s command line, for the documentation.
pub fn command() -> Command {
    Command::new("mosix-adopt")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Become a migrating process on its target node (started by mosix.ko)")
        .long_about(LONG_ABOUT)
        .after_help(EXIT_STATUS)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("token")
                .value_name("TOKEN")
                .required(true)
                .value_hint(ValueHint::Other)
                .help("The migration's token, in hex, as mosix.ko gives it."),
        )
}
