//! `mosrun`'s command line. `mosrun` parses it by hand ([`crate::mosrun::parse`]): node ids
//! are options (`-3`), `-h` means "at home", and the program's own options follow it
//! unparsed, none of which clap can say. [`HELP`] is its `--help`; [`command`] describes the
//! same command line to clap, from [`HELP`], for the man page and the shell completions (the
//! tests below check it against the parser).

use crate::EXIT_CODES_HELP;
use clap::{Arg, ArgAction, ArgGroup, Command, ValueHint};
use mosix_core::placement::Policy;

/// `mosrun --help` (followed by [`EXIT_CODES_HELP`]).
pub const HELP: &str = "\
mosrun - run a program with openMosix placement and balancing settings

SYNOPSIS
  mosrun [-{h|ID|jID1-ID2[,ID3-ID4]...|P POLICY} [-F]] [-m MIB] [-{l|L|k}] [-{c|i|n|s|f|d DEC}] [-z]
         cmd [args]
  nomig cmd [args]       run here, locked (no automatic migration)       = mosrun -L
  runhome cmd [args]     run at home, locked                              = mosrun -h
  runon ID cmd [args]    move to node ID at once and lock it there        = mosrun -ID
  cpujob cmd [args]      a heavily CPU-bound job: the balancer may move it
                         from its start                                   = mosrun -c
  iojob cmd [args]       an I/O-bound job: not moved to balance the load  = mosrun -i
  nodecay | slowdecay | fastdecay cmd [args]   its statistics' decay      = mosrun -n | -s | -f

DESCRIPTION
  The program replaces mosrun (same pid, parent and files), so a shell's job control and
  wait() see it as they would see the program itself.  Its settings are inherited by the
  processes it forks.

  Placement (at start):
    -h          at home (this node), locked there.
    -ID         on node ID: the program starts here and moves there at once.
    -jLIST      on a node picked at random from LIST: ids and ranges, e.g. -j2-4,7.
    -P POLICY   where a placement policy puts it, by the nodes' free memory: rr (round
                robin), bestfit (the fullest node with room), nextfit (this policy's last
                node while it has room, else the next), smallest (best fit; the memory
                balancer makes room later), here.  Without a placement option, mosrun
                (not its wrappers) uses the node's default, /proc/mosix/admin/placement
                (0 here, 1 rr, 2 bestfit, 3 nextfit, 4 smallest).
    -m MIB      the memory the program will need, for -P (default 0: unknown).
    -F          if the node asked for is down, blocking or unknown, run at home instead
                of failing.
  Lock:
    -l          unlocked: the balancer may move it.
    -L          locked: it moves only when asked (migrate, expel, bring).
    -k          keep the caller's lock.
    Default: locked when a placement is given or when no statistics option is given;
    otherwise kept.  With -ID or -j the lock is set once the program runs there.
  Statistics (how the balancer judges it):
    -c          heavily CPU-bound: counts as a CPU job from its start.
    -i          I/O-bound: not moved for load (memory ushering may still move it).
    -n, -s, -f  no, slow (the default) or fast decay of its CPU statistics.
    -d DEC      keep DEC per mille of the statistics per decay interval.
  -z            the word after the program path is the name it runs as (argv[0]).
  -t, -e, -E, -r, -R of openMosix's mosrun are not supported; -P and -m are this
  implementation's.

EXAMPLES
  mosrun -c ./simulate          a CPU job the cluster may spread at once
  runon 3 ./render frame7       render on node 3 and keep it there
  mosrun -j2-4 -F ./job         on node 2, 3 or 4, or here if none of them is up
  nomig ./server                keep a server where it started
  mosrun -P bestfit -m 200 ./big   start where 200 MiB fit most tightly
";

/// The text of [`HELP`]'s section `name`: the lines after its heading up to the next
/// heading, without their first two spaces of indentation.
fn section(name: &str) -> String {
    let body: Vec<&str> = HELP
        .lines()
        .skip_while(|l| *l != name)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect();
    body.join("\n").trim_end().to_string()
}

/// `mosrun`'s command line, for the documentation: the synopsis (with the wrappers, the same
/// program under other names) and the description are those of [`HELP`]; `-ID` (a node id as
/// an option) is there but is no clap argument.
pub fn command() -> Command {
    let flag = |id: &'static str, short: char, help: &'static str| {
        Arg::new(id)
            .short(short)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let about = HELP
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("mosrun - "))
        .unwrap_or_default();
    Command::new("mosrun")
        .version(env!("CARGO_PKG_VERSION"))
        .about(about)
        .override_usage(section("SYNOPSIS"))
        .long_about(section("DESCRIPTION"))
        .after_help(format!("EXAMPLES:\n  {}\n\n{EXIT_CODES_HELP}", section("EXAMPLES").replace('\n', "\n  ")))
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args([
            flag("home", 'h', "Run at home (this node), locked there."),
            Arg::new("among")
                .short('j')
                .value_name("LIST")
                .help("Run on a node picked at random from LIST: ids and ranges, e.g. -j2-4,7."),
            Arg::new("policy")
                .short('P')
                .value_name("POLICY")
                .value_parser(Policy::ALL.map(Policy::name))
                .help("Run where the placement policy POLICY puts it, by the nodes' free memory."),
            Arg::new("mem")
                .short('m')
                .value_name("MIB")
                .value_parser(clap::value_parser!(u64))
                .help("The memory the program will need, for -P (default 0: unknown)."),
            flag("force", 'F', "If the node asked for is down, blocking or unknown, run at home instead of failing."),
            flag("unlock", 'l', "Unlocked: the balancer may move it."),
            flag("lock", 'L', "Locked: it moves only when asked (migrate, expel, bring)."),
            flag("keep", 'k', "Keep the caller's lock."),
            flag("cpu", 'c', "Heavily CPU-bound: counts as a CPU job from its start."),
            flag("io", 'i', "I/O-bound: not moved for load."),
            flag("nodecay", 'n', "No decay of its CPU statistics."),
            flag("slowdecay", 's', "Slow decay of its CPU statistics (the default)."),
            flag("fastdecay", 'f', "Fast decay of its CPU statistics."),
            Arg::new("decay")
                .short('d')
                .value_name("DEC")
                .value_parser(clap::value_parser!(u16).range(0..=1000))
                .help("Keep DEC per mille of the statistics per decay interval."),
            flag("argv0", 'z', "The word after the program path is the name it runs as (argv[0])."),
            Arg::new("help").long("help").action(ArgAction::Help).help("Print help."),
            Arg::new("version").long("version").action(ArgAction::Version).help("Print the version."),
            Arg::new("command")
                .value_name("cmd")
                .required(true)
                .num_args(1..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .value_hint(ValueHint::CommandWithArguments)
                .help("The program and its arguments."),
        ])
        .groups([
            ArgGroup::new("placement").args(["home", "among", "policy"]),
            ArgGroup::new("locking").args(["unlock", "lock", "keep"]),
            ArgGroup::new("statistics").args(["cpu", "io", "nodecay", "slowdecay", "fastdecay", "decay"]),
        ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mosrun::parse;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    /// A value the parser takes for each option with one.
    fn sample(short: char) -> Option<&'static str> {
        match short {
            'j' => Some("1-2"),
            'P' => Some("rr"),
            'm' => Some("64"),
            'd' => Some("990"),
            _ => None,
        }
    }

    #[test]
    fn command_matches_the_parser_and_the_help() {
        let cmd = command();
        let shorts: Vec<char> = cmd.get_arguments().filter_map(Arg::get_short).collect();
        for c in ('a'..='z').chain('A'..='Z') {
            let takes_value = sample(c).is_some();
            let line = match sample(c) {
                Some(v) => format!("-{c} {v} prog argv0"),
                None => format!("-{c} prog argv0"),
            };
            let documented = shorts.contains(&c);
            assert_eq!(
                parse(&words(&line)).is_ok(),
                documented,
                "mosrun {line}: parser and command() differ"
            );
            if documented {
                assert!(
                    HELP.contains(&format!("-{c}")),
                    "HELP does not mention -{c}"
                );
                let arg = cmd
                    .get_arguments()
                    .find(|a| a.get_short() == Some(c))
                    .unwrap();
                assert_eq!(arg.get_action().takes_values(), takes_value, "-{c}");
            }
        }
    }

    #[test]
    fn command_has_the_help_sections() {
        let cmd = command();
        assert!(cmd
            .get_overridden_usage()
            .unwrap()
            .to_string()
            .contains("runon ID cmd [args]"));
        for w in crate::mosrun::WRAPPERS {
            assert!(
                cmd.get_overridden_usage().unwrap().to_string().contains(w),
                "synopsis lacks {w}"
            );
        }
        let long = cmd.get_long_about().unwrap().to_string();
        assert!(
            long.starts_with("The program replaces mosrun") && long.ends_with("implementation's."),
            "{long}"
        );
        assert!(cmd
            .get_after_help()
            .unwrap()
            .to_string()
            .contains("\n  runon 3 ./render frame7"));
    }
}
