//! `mosmon` drawn from fixed `/proc/mosix` trees with ratatui's test backend, compared with
//! the screens in `tests/snapshots/` (regenerate with `UPDATE_SNAPSHOTS=1 cargo test`), and
//! `--once`/`--json` of the real binary on the same trees.

use mosix_tools::mon::{buffer_text, read_snapshot, KeyAction, Layout, Monitor, View};
use ratatui::{backend::TestBackend, Terminal};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One node's files: (id, status, cpus, load, speed, mem, rmem, tmem, util, age).
type Row = (u32, u32, i64, i64, i64, i64, i64, i64, i64, i64);

/// Writes a `/proc/mosix` tree.
fn tree(dir: &Path, self_id: u32, nodes: &[Row]) {
    std::fs::create_dir_all(dir.join("admin")).unwrap();
    std::fs::write(dir.join("admin/mospe"), format!("{self_id}\n")).unwrap();
    for &(id, status, cpus, load, speed, mem, rmem, tmem, util, age) in nodes {
        let d = dir.join(format!("nodes/{id}"));
        std::fs::create_dir_all(&d).unwrap();
        for (f, v) in [
            ("status", i64::from(status)),
            ("cpus", cpus),
            ("load", load),
            ("speed", speed),
            ("mem", mem),
            ("rmem", rmem),
            ("tmem", tmem),
            ("util", util),
            ("age", age),
        ] {
            std::fs::write(d.join(f), format!("{v}\n")).unwrap();
        }
    }
}

const U: i64 = -101;

/// Four nodes: two busy, one idle, one down (node 3).
fn four(dir: &Path) {
    let gib = 262_144;
    tree(
        dir,
        1,
        &[
            (1, 3, 2, 150, 10000, gib / 2, gib * 6 / 10, gib, 100, 0),
            (2, 3, 2, 37, 20000, gib / 4, gib / 3, gib, 100, 800),
            (3, 1, U, U, U, U, U, U, U, 12_345),
            (
                4,
                3,
                4,
                0,
                10000,
                gib * 3 / 2,
                gib * 7 / 4,
                gib * 2,
                100,
                1_500,
            ),
        ],
    );
}

/// `n` nodes, all up, loads rising with the id.
fn many(dir: &Path, n: u32) {
    let rows: Vec<Row> = (1..=n)
        .map(|i| {
            (
                i,
                3,
                2,
                i64::from(i * 7 % 200),
                10000,
                100_000,
                110_000,
                131_072,
                100,
                500,
            )
        })
        .collect();
    tree(dir, 1, &rows);
}

fn screen(dir: &Path, view: View, layout: Layout, w: u16, h: u16) -> String {
    let mut m = Monitor::new(view, layout);
    m.snap = read_snapshot(dir).unwrap();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(&m, f.area())).unwrap();
    buffer_text(t.backend().buffer())
}

fn check_snapshot(name: &str, got: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        got,
        want,
        "screen {name} differs from {}:\n{got}",
        path.display()
    );
}

#[test]
fn every_view_at_80x24() {
    let d = tempfile::tempdir().unwrap();
    four(d.path());
    for (name, view) in [
        ("load", View::Load),
        ("speed", View::Speed),
        ("mem", View::Mem),
        ("rmem", View::Rmem),
        ("util", View::Util),
        ("dead", View::Dead),
        ("totals", View::Totals),
    ] {
        let s = screen(d.path(), view, Layout::Auto, 80, 24);
        assert_eq!(s.lines().count(), 24);
        assert!(s.lines().all(|l| l.chars().count() <= 80));
        check_snapshot(&format!("four-{name}-auto-80x24"), &s);
    }
    check_snapshot(
        "four-load-vertical-80x24",
        &screen(d.path(), View::Load, Layout::Vertical, 80, 24),
    );
    check_snapshot(
        "four-mem-vertical-80x24",
        &screen(d.path(), View::Mem, Layout::Vertical, 80, 24),
    );
}

#[test]
fn bars_follow_the_values() {
    let d = tempfile::tempdir().unwrap();
    four(d.path());
    let s = screen(d.path(), View::Load, Layout::Vertical, 80, 24);
    let bar = |id: u32| {
        let l = s
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap()
            .to_string();
        l.matches('█').count()
    };
    // Node 1 (1.50) is the top of the scale; node 2 (0.37) about a quarter of it; node 4 none.
    assert!(bar(1) > 3 * bar(2), "{s}");
    assert!(bar(2) > 0);
    assert_eq!(bar(4), 0);
    assert!(s.contains("down"), "a dead node says so:\n{s}");
    assert!(s.contains("1.50") && s.contains("0.37"));
    let t = screen(d.path(), View::Totals, Layout::Auto, 80, 24);
    assert!(t.contains("nodes up                    3"), "{t}");
    assert!(t.contains("total load                  1.87"), "{t}");
    let dead = screen(d.path(), View::Dead, Layout::Auto, 80, 24);
    assert!(
        dead.contains("node     3: last heard of 12 s ago"),
        "{dead}"
    );
}

#[test]
fn adapts_to_the_terminal_and_the_cluster() {
    let d = tempfile::tempdir().unwrap();
    many(d.path(), 30);
    // 30 nodes do not fit side by side in 80 columns with room: auto picks... whichever fits.
    let small = screen(d.path(), View::Load, Layout::Auto, 80, 24);
    assert_eq!(small.lines().count(), 24);
    check_snapshot("thirty-load-auto-80x24", &small);
    let big = screen(d.path(), View::Load, Layout::Auto, 160, 48);
    check_snapshot("thirty-load-auto-160x48", &big);
    let e = tempfile::tempdir().unwrap();
    many(e.path(), 300);
    let s = screen(e.path(), View::Load, Layout::Auto, 80, 24);
    assert!(
        s.contains("more nodes: a taller terminal shows them"),
        "{s}"
    );
    let tiny = screen(e.path(), View::Load, Layout::Auto, 10, 2);
    assert!(tiny.starts_with("mosmon: te"));
}

#[test]
fn keys_switch_views_and_layouts() {
    let mut m = Monitor::new(View::Load, Layout::Auto);
    for (k, v) in [
        ('s', View::Speed),
        ('m', View::Mem),
        ('r', View::Rmem),
        ('u', View::Util),
        ('d', View::Dead),
        ('t', View::Totals),
        ('l', View::Load),
    ] {
        assert_eq!(m.key(k), KeyAction::Redraw);
        assert_eq!(m.view, v);
    }
    m.key('w');
    assert_eq!(m.layout, Layout::Wide);
    m.key('v');
    assert_eq!(m.layout, Layout::Vertical);
    m.key('a');
    assert_eq!(m.layout, Layout::Auto);
    m.key('x');
    assert_eq!((m.view, m.layout), (View::Load, Layout::Auto));
    assert_eq!(m.key('q'), KeyAction::Quit);
}

fn mosmon(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mosmon"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn once_and_json() {
    let d = tempfile::tempdir().unwrap();
    four(d.path());
    let p = d.path().to_str().unwrap();
    let (rc, out, _) = mosmon(&["--once", "-v", "--width", "80", "--proc", p]);
    assert_eq!(rc, 0);
    assert!(out.starts_with("mosmon - load"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("3 -") && l.ends_with("down")),
        "{out}"
    );
    let (rc, out, _) = mosmon(&["--json", "--proc", p]);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["self_id"], 1);
    assert_eq!(v["nodes"][1]["load"], 37);
    assert_eq!(v["nodes"][2]["status"], 1);
    let (rc, _, err) = mosmon(&["--once", "--proc", "/nonexistent"]);
    assert_eq!(rc, 3);
    assert!(err.contains("is mosix.ko loaded?"), "{err}");
    let (rc, _, err) = mosmon(&["--interval", "0"]);
    assert_eq!(rc, 2);
    assert!(err.contains("between 0.1 and 3600"), "{err}");
}
