//! `mosrun` and its wrappers: openMosix's option syntax (reference §3.2), parsed by hand
//! because node ids are options (`-3`) and the command's own options follow it unparsed.
//!
//! ```text
//! mosrun [-{h|ID|jID1-ID2[,ID3-ID4]...|P policy} [-F]] [-m MiB] [-{l|L|k}] [-{c|i|n|s|f|[-d dec]}] [-z] cmd [args]
//! ```
//!
//! `-P` (a placement policy) and `-m` (the expected size) are this implementation's.

use mosix_core::placement::Policy;

/// Where the program starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Where `mosrun` runs (its home); the balancer may move it later.
    Here,
    /// `-h`: at home, locked there.
    Home,
    /// `-ID`: on node ID.
    Node(u32),
    /// `-j list`: on a node picked at random among these.
    Among(Vec<u32>),
    /// `-P policy`: where the placement policy puts it (by free memory).
    Policy(Policy),
}

/// The lock (`-l`, `-L`, `-k`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// `-l`: unlocked.
    Unlock,
    /// `-L`: locked: no automatic migration.
    Lock,
    /// `-k`: as the caller is.
    Keep,
}

/// The statistics hint (`-c -i -n -s -f -d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stats {
    /// `-c`: heavily CPU-bound (`cpujob`).
    Cpu,
    /// `-i`: I/O-bound (`iojob`).
    Io,
    /// `-n`: no decay (`nodecay`).
    NoDecay,
    /// `-s`: slow decay (`slowdecay`).
    Slow,
    /// `-f`: fast decay (`fastdecay`).
    Fast,
    /// `-d dec`: keep `dec` per mille per decay step.
    Rate(u16),
}

/// What a `mosrun` command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Where to start.
    pub place: Place,
    /// `-F`: run even if the node asked for is unavailable (at home then).
    pub force: bool,
    /// The lock, with the default applied: lock when a node is named or when no statistics
    /// option is given; else keep.
    pub lock: Lock,
    /// The statistics hint, if any.
    pub stats: Option<Stats>,
    /// `-z`: the word after the program path is its `argv[0]`.
    pub argv0: bool,
    /// `-m MiB`: the memory it is expected to need (for placement).
    pub mem_mib: u64,
    /// The program and its arguments.
    pub cmd: Vec<String>,
}

/// Parses a node list `1-3,5` (ids 1..=65535).
pub fn parse_list(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let id = |t: &str| match t.trim().parse::<u32>() {
            Ok(v) if (1..=65535).contains(&v) => Ok(v),
            _ => Err(format!(
                "`{t}` in node list `{s}` is not a node id (1-65535)"
            )),
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (id(a)?, id(b)?);
                if a > b {
                    return Err(format!("range `{part}` in node list `{s}` runs backwards"));
                }
                if b - a >= 65535 || out.len() + (b - a) as usize > 65535 {
                    return Err(format!("node list `{s}` is too long"));
                }
                out.extend(a..=b);
            }
            None => out.push(id(part)?),
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Parses `mosrun`'s arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Plan, String> {
    let mut place = None;
    let (mut force, mut lock, mut stats, mut argv0, mut mem_mib) = (false, None, None, false, 0u64);
    let mut i = 0;
    let set_place = |place: &mut Option<Place>, p: Place| match place {
        Some(old) => Err(format!("two placements given ({old:?} and {p:?})")),
        None => {
            *place = Some(p);
            Ok(())
        }
    };
    let set_stats = |stats: &mut Option<Stats>, s: Stats| match stats {
        Some(old) => Err(format!("two statistics options given ({old:?} and {s:?})")),
        None => {
            *stats = Some(s);
            Ok(())
        }
    };
    while let Some(a) = args.get(i) {
        let Some(opt) = a.strip_prefix('-') else {
            break;
        };
        if opt == "-" {
            i += 1;
            break;
        }
        i += 1;
        match opt {
            "h" => set_place(&mut place, Place::Home)?,
            "F" => force = true,
            "l" | "L" | "k" => {
                if lock.is_some() {
                    return Err("only one of -l, -L, -k".into());
                }
                lock = Some(match opt {
                    "l" => Lock::Unlock,
                    "L" => Lock::Lock,
                    _ => Lock::Keep,
                });
            }
            "c" => set_stats(&mut stats, Stats::Cpu)?,
            "i" => set_stats(&mut stats, Stats::Io)?,
            "n" => set_stats(&mut stats, Stats::NoDecay)?,
            "s" => set_stats(&mut stats, Stats::Slow)?,
            "f" => set_stats(&mut stats, Stats::Fast)?,
            "z" => argv0 = true,
            "P" => {
                let v = args
                    .get(i)
                    .ok_or("-P needs a policy: rr, bestfit, nextfit, smallest or here")?;
                i += 1;
                let p = Policy::from_name(v).ok_or_else(|| {
                    format!("-P {v}: the policies are rr, bestfit, nextfit, smallest and here")
                })?;
                set_place(&mut place, Place::Policy(p))?;
            }
            "m" => {
                let v = args.get(i).ok_or("-m needs a size in MiB")?;
                i += 1;
                mem_mib = v
                    .parse::<u64>()
                    .ok()
                    .filter(|m| *m < 1 << 40)
                    .ok_or_else(|| format!("-m {v}: a size in MiB"))?;
            }
            "d" => {
                let v = args
                    .get(i)
                    .ok_or("-d needs a decay rate (per mille kept, 0-1000)")?;
                i += 1;
                match v.parse::<u16>() {
                    Ok(r) if r <= 1000 => set_stats(&mut stats, Stats::Rate(r))?,
                    _ => return Err(format!("-d {v}: the decay rate is per mille kept, 0-1000")),
                }
            }
            "t" | "e" | "E" | "r" | "R" => {
                return Err(format!(
                    "-{opt} is not supported by this mosrun (see mosrun --help)"
                ))
            }
            _ if opt.starts_with('j') => {
                let list = if opt.len() > 1 {
                    opt[1..].to_string()
                } else {
                    i += 1;
                    args.get(i - 1)
                        .cloned()
                        .ok_or("-j needs a node list, e.g. -j1-3,5")?
                };
                set_place(&mut place, Place::Among(parse_list(&list)?))?;
            }
            _ if opt.bytes().all(|b| b.is_ascii_digit()) && !opt.is_empty() => {
                match opt.parse::<u32>() {
                    Ok(id) if (1..=65535).contains(&id) => set_place(&mut place, Place::Node(id))?,
                    _ => return Err(format!("-{opt}: node ids are 1-65535")),
                }
            }
            _ => return Err(format!("unknown option -{opt} (see mosrun --help)")),
        }
    }
    let cmd: Vec<String> = args[i.min(args.len())..].to_vec();
    if cmd.is_empty() {
        return Err("no command given".into());
    }
    if argv0 && cmd.len() < 2 {
        return Err("-z needs the program path and the name it runs as".into());
    }
    let place = place.unwrap_or(Place::Here);
    let named = matches!(place, Place::Home | Place::Node(_) | Place::Among(_));
    let lock = lock.unwrap_or(if named || stats.is_none() {
        Lock::Lock
    } else {
        Lock::Keep
    });
    Ok(Plan {
        place,
        force,
        lock,
        stats,
        argv0,
        mem_mib,
        cmd,
    })
}

/// The `mosrun` arguments a wrapper stands for, given its name and its own arguments;
/// `None` if `name` is no wrapper.
pub fn wrapper_args(name: &str, args: &[String]) -> Option<Result<Vec<String>, String>> {
    let pre: &[&str] = match name {
        "nomig" => &["-L"],
        "runhome" => &["-h"],
        "cpujob" => &["-c"],
        "iojob" => &["-i"],
        "nodecay" => &["-n"],
        "slowdecay" => &["-s"],
        "fastdecay" => &["-f"],
        "runon" => {
            return Some(match args.first() {
                Some(id) if id.parse::<u32>().is_ok_and(|v| (1..=65535).contains(&v)) => {
                    let mut v = vec![format!("-{id}"), "--".to_string()];
                    v.extend(args[1..].iter().cloned());
                    Ok(v)
                }
                _ => Err("usage: runon NODE command [args]".to_string()),
            })
        }
        _ => return None,
    };
    let mut v: Vec<String> = pre.iter().map(|s| s.to_string()).collect();
    v.push("--".into());
    v.extend(args.iter().cloned());
    Some(Ok(v))
}

/// The wrappers' names.
pub const WRAPPERS: [&str; 8] = [
    "nomig",
    "runhome",
    "runon",
    "cpujob",
    "iojob",
    "nodecay",
    "slowdecay",
    "fastdecay",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Plan, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&v)
    }

    #[test]
    fn options() {
        let a = p("-3 prog x -y").unwrap();
        assert_eq!(
            (a.place, a.lock, a.cmd),
            (
                Place::Node(3),
                Lock::Lock,
                vec!["prog".into(), "x".into(), "-y".into()]
            )
        );
        let a = p("-h -F prog").unwrap();
        assert_eq!((a.place, a.force), (Place::Home, true));
        let a = p("-j1-3,5 prog").unwrap();
        assert_eq!(a.place, Place::Among(vec![1, 2, 3, 5]));
        assert_eq!(p("-j 2,1 prog").unwrap().place, Place::Among(vec![1, 2]));
        // Lock defaults: plain mosrun locks; a statistics option alone keeps.
        assert_eq!(p("prog").unwrap().lock, Lock::Lock);
        assert_eq!(p("-c prog").unwrap().lock, Lock::Keep);
        assert_eq!(p("-c -2 prog").unwrap().lock, Lock::Lock);
        assert_eq!(p("-l prog").unwrap().lock, Lock::Unlock);
        assert_eq!(p("-c -l prog").unwrap().stats, Some(Stats::Cpu));
        assert_eq!(p("-d 990 prog").unwrap().stats, Some(Stats::Rate(990)));
        assert!(p("-z /bin/sh sh -c x").unwrap().argv0);
        assert_eq!(p("-- -3").unwrap().cmd, vec!["-3".to_string()]);
        let a = p("-P nextfit -m 64 -c prog").unwrap();
        assert_eq!(
            (a.place, a.mem_mib, a.lock),
            (Place::Policy(Policy::NextFit), 64, Lock::Keep)
        );
    }

    #[test]
    fn errors_say_what() {
        for (line, want) in [
            ("", "no command"),
            ("-3", "no command"),
            ("-0 prog", "1-65535"),
            ("-70000 prog", "1-65535"),
            ("-h -3 prog", "two placements"),
            ("-l -L prog", "only one"),
            ("-c -i prog", "two statistics"),
            ("-d 2000 prog", "per mille"),
            ("-d", "needs a decay"),
            ("-j3-1 prog", "backwards"),
            ("-jx prog", "not a node id"),
            ("-q prog", "unknown option -q"),
            ("-e prog", "not supported"),
            ("-z prog", "-z needs"),
            ("-P worst prog", "the policies are"),
            ("-P", "-P needs"),
            ("-m x prog", "a size in MiB"),
            ("-P rr -2 prog", "two placements"),
        ] {
            let e = p(line).unwrap_err();
            assert!(e.contains(want), "{line:?}: {e}");
        }
    }

    #[test]
    fn wrappers() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let w = wrapper_args("runon", &args(&["2", "prog", "-x"]))
            .unwrap()
            .unwrap();
        assert_eq!(parse(&w).unwrap().place, Place::Node(2));
        assert_eq!(parse(&w).unwrap().cmd, args(&["prog", "-x"]));
        assert!(wrapper_args("runon", &args(&["x", "prog"]))
            .unwrap()
            .is_err());
        let w = wrapper_args("nomig", &args(&["prog"])).unwrap().unwrap();
        assert_eq!(
            (parse(&w).unwrap().place, parse(&w).unwrap().lock),
            (Place::Here, Lock::Lock)
        );
        let w = wrapper_args("cpujob", &args(&["-3"])).unwrap().unwrap();
        assert_eq!(
            parse(&w).unwrap().cmd,
            args(&["-3"]),
            "a wrapper's arguments are the command"
        );
        assert_eq!(
            parse(&wrapper_args("runhome", &args(&["p"])).unwrap().unwrap())
                .unwrap()
                .place,
            Place::Home
        );
        assert!(wrapper_args("mosrun", &args(&["p"])).is_none());
        for name in WRAPPERS {
            assert!(wrapper_args(name, &args(&["1", "p"])).is_some());
        }
    }
}
