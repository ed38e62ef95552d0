//! `mps`: `ps` with openMosix's NODE column. Reads `/proc/<pid>/stat` and `cmdline`, and
//! `/proc/mosix/pid/<pid>/where` for the node a process runs on (0 = home).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// One process as `mps` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    /// Process id.
    pub pid: i32,
    /// Controlling terminal as `/proc/<pid>/stat` encodes it (`tty_nr`).
    pub tty_nr: u32,
    /// Node it runs on: 0 = home, -1 = openMosix not running here.
    pub node: i64,
    /// State letter (`R`, `S`, `D`, `Z`, `T`, ...).
    pub state: char,
    /// User + system CPU time in clock ticks.
    pub ticks: u64,
    /// Command line, or `[comm]` for a process without one (kernel threads, zombies).
    pub command: String,
}

/// The fields of `/proc/<pid>/stat` that `mps` uses: (comm, state, tty_nr, utime + stime).
/// `comm` may hold spaces and parentheses: the last `)` ends it.
pub fn parse_stat(stat: &str) -> Option<(String, char, u32, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); tty_nr is field 7, utime 14, stime 15.
    let state = rest.first()?.chars().next()?;
    let tty_nr = rest.get(4)?.parse::<i64>().ok()? as u32;
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, state, tty_nr, utime + stime))
}

/// A terminal name from `tty_nr` (`?` for none), as `ps` writes it.
pub fn tty_name(tty_nr: u32) -> String {
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        0 => "?".into(),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        5 if minor == 1 => "console".into(),
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        _ => format!("{major},{minor}"),
    }
}

/// CPU time as `ps` prints it: `M:SS` (minutes may grow).
pub fn cpu_time(ticks: u64, hz: u64) -> String {
    let s = ticks / hz.max(1);
    format!("{}:{:02}", s / 60, s % 60)
}

/// Reads one process from a `/proc` tree (`proc`), with its node from `mosix` (the
/// `/proc/mosix` tree; absent: openMosix is not running, node -1). `None` if it is gone.
pub fn read_proc(proc: &Path, mosix: &Path, pid: i32) -> Option<Proc> {
    let dir = proc.join(pid.to_string());
    let (comm, state, tty_nr, ticks) = parse_stat(&fs::read_to_string(dir.join("stat")).ok()?)?;
    let cmdline = fs::read(dir.join("cmdline")).unwrap_or_default();
    let command = if cmdline.is_empty() {
        format!("[{comm}]")
    } else {
        let parts: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        parts.join(" ")
    };
    let node = if mosix.join("pid").is_dir() {
        // A process without a directory (a kernel thread, or one younger than a decay
        // interval) runs here, at home.
        fs::read_to_string(mosix.join("pid").join(pid.to_string()).join("where"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    } else {
        -1
    };
    Some(Proc {
        pid,
        tty_nr,
        node,
        state,
        ticks,
        command,
    })
}

/// Every process id in a `/proc` tree, ascending.
pub fn all_pids(proc: &Path) -> std::io::Result<Vec<i32>> {
    let mut pids: Vec<i32> = fs::read_dir(proc)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// The table `mps` prints: openMosix's header `PID TTY NODE STAT TIME COMMAND`.
pub fn render(procs: &[Proc], hz: u64, width: usize) -> String {
    let mut out = format!(
        "{:>5} {:<8} {:>4} {:<4} {:>6} COMMAND\n",
        "PID", "TTY", "NODE", "STAT", "TIME"
    );
    for p in procs {
        let mut line = String::new();
        let _ = write!(
            line,
            "{:>5} {:<8} {:>4} {:<4} {:>6} {}",
            p.pid,
            tty_name(p.tty_nr),
            p.node,
            p.state,
            cpu_time(p.ticks, hz),
            p.command
        );
        if width > 0 && line.chars().count() > width {
            line = line.chars().take(width).collect();
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_comm() {
        let s =
            "42 (a) b (c)) S 1 42 42 34816 42 4194304 100 0 0 0 250 150 0 0 20 0 1 0 99 1000 10";
        assert_eq!(parse_stat(s), Some(("a) b (c)".into(), 'S', 34816, 400)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) R 0"), None);
    }

    #[test]
    fn tty_names_and_times() {
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name(34816), "pts/0");
        assert_eq!(tty_name((4 << 8) | 1), "tty1");
        assert_eq!(tty_name((4 << 8) | 64), "ttyS0");
        assert_eq!(cpu_time(0, 100), "0:00");
        assert_eq!(cpu_time(12_345, 100), "2:03");
    }

    #[test]
    fn reads_a_fixed_tree() {
        let t = tempfile::tempdir().unwrap();
        let proc = t.path().join("proc");
        let mosix = t.path().join("mosix");
        fs::create_dir_all(proc.join("7")).unwrap();
        fs::write(
            proc.join("7/stat"),
            "7 (hog) R 1 7 7 0 -1 0 0 0 0 0 500 100 0 0 20 0 1 0 1 1 1",
        )
        .unwrap();
        fs::write(proc.join("7/cmdline"), b"/bin/hog\0-x\0").unwrap();
        fs::create_dir_all(proc.join("2")).unwrap();
        fs::write(
            proc.join("2/stat"),
            "2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0",
        )
        .unwrap();
        fs::write(proc.join("2/cmdline"), b"").unwrap();
        fs::create_dir_all(proc.join("self")).unwrap();
        assert_eq!(all_pids(&proc).unwrap(), [2, 7]);
        let p = read_proc(&proc, &mosix, 7).unwrap();
        assert_eq!(
            (p.node, p.command.as_str(), p.ticks),
            (-1, "/bin/hog -x", 600)
        );
        fs::create_dir_all(mosix.join("pid/7")).unwrap();
        fs::write(mosix.join("pid/7/where"), "3\n").unwrap();
        let procs = [
            read_proc(&proc, &mosix, 2).unwrap(),
            read_proc(&proc, &mosix, 7).unwrap(),
        ];
        assert_eq!(
            render(&procs, 100, 0),
            "  PID TTY      NODE STAT   TIME COMMAND\n    2 ?           0 S      0:00 [kthreadd]\n    7 ?           3 R      0:06 /bin/hog -x\n"
        );
        assert_eq!(
            render(&procs, 100, 21).lines().nth(2),
            Some("    7 ?           3 R")
        );
        assert!(read_proc(&proc, &mosix, 99).is_none());
    }
}
