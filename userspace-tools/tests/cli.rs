//! The tools' command lines on the host: no kernel needed for these paths.

use std::io::Write;
use std::process::{Command, Output};

fn tool(name: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let exe = match name {
        "setpe" => env!("CARGO_BIN_EXE_setpe"),
        "mps" => env!("CARGO_BIN_EXE_mps"),
        _ => env!("CARGO_BIN_EXE_mosctl"),
    };
    let mut child = Command::new(exe)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn setpe_checks_the_seed_map() {
    let o = tool(
        "setpe",
        &["-c", "-p", "1", "-f", "-"],
        Some("1 192.168.0.254 1\n2 192.168.0.1 253\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("254 nodes, this is node #1"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn setpe_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.map");
    std::fs::write(&p, "# ok\n1 10.0.0.1 2\n\n0 10.0.0.9 1\n").unwrap();
    let o = tool("setpe", &["-c", "-f", p.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        format!(
            "setpe: {}:4: node id 0 is not allowed (ids are 1-65535)\n",
            p.display()
        )
    );
}

#[test]
fn setpe_own_address_missing() {
    // This host's addresses are not 10.250.x.
    let o = tool("setpe", &["-c", "-f", "-"], Some("1 10.250.0.1 4\n"));
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(
        e.starts_with("setpe: the supplied table is well-formatted, but my IP address ("),
        "{e}"
    );
    assert!(e.ends_with(") is not there!\n"), "{e}");
}

#[test]
fn setpe_finds_itself_through_loopback() {
    let o = tool(
        "setpe",
        &["-c", "-f", "-"],
        Some("1 10.250.0.1 4\n9 127.0.0.1 1\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("5 nodes, this is node #9"));
}

#[test]
fn setpe_usage_errors() {
    assert_eq!(tool("setpe", &[], None).status.code(), Some(2));
    assert_eq!(tool("setpe", &["-w", "-r"], None).status.code(), Some(2));
    assert_eq!(
        tool("setpe", &["-g", "3", "-c"], None).status.code(),
        Some(2)
    );
    assert_eq!(
        tool("setpe", &["-p", "0", "-c"], None).status.code(),
        Some(2)
    );
    let o = tool(
        "setpe",
        &["-p", "7", "-c", "-f", "-"],
        Some("1 10.0.0.1 2\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("node 7 (given with -p) is not in the table"));
}

#[test]
fn help_reads_like_a_man_page() {
    let o = tool("setpe", &["--help"], None);
    let h = text(&o.stdout);
    assert!(
        h.contains("FIRST-ID  ADDRESS  COUNT") && h.contains("EXIT STATUS"),
        "{h}"
    );
    let o = tool("mosctl", &["--help"], None);
    let h = text(&o.stdout);
    for c in [
        "stay",
        "nolstay",
        "expel",
        "bring",
        "getload",
        "isup",
        "whois",
        "setdecay",
        "EXIT STATUS",
    ] {
        assert!(h.contains(c), "mosctl --help lacks {c}");
    }
}

#[test]
fn legacy_single_dash_options() {
    let v = mosix_tools::rewrite_legacy_args(
        ["setpe", "-off", "-f", "x"].iter().map(|s| s.to_string()),
        &["off"],
    );
    assert_eq!(v, ["setpe", "--off", "-f", "x"]);
}

#[test]
fn tools_without_the_module_exit_3() {
    if std::path::Path::new("/dev/mosix").exists() {
        return;
    }
    let o = tool("mosctl", &["status"], None);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("mosix.ko is not loaded"));
    assert_eq!(tool("setpe", &["-r"], None).status.code(), Some(3));
}

#[test]
fn mps_lists_this_process_with_a_node_column() {
    let me = std::process::id().to_string();
    let o = tool("mps", &["1", &me], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let mut lines = out.lines();
    assert_eq!(
        lines
            .next()
            .map(|h| h.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["PID", "TTY", "NODE", "STAT", "TIME", "COMMAND"])
    );
    let row = lines
        .find(|l| l.split_whitespace().next() == Some(me.as_str()))
        .expect("own row");
    // Without the module the node is -1 (openMosix: not running here); with it, 0 (home).
    let node = row.split_whitespace().nth(2).unwrap();
    assert!(node == "-1" || node == "0", "{row}");
    let o = tool("mps", &["999999999"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("no process 999999999"));
    assert!(text(&tool("mps", &["--help"], None).stdout).contains("EXIT STATUS"));
}
