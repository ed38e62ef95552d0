//! `mosmon`'s model and drawing: a snapshot of `/proc/mosix`, the views and layouts, and a
//! ratatui widget that draws them (also into plain text, for `--once`).
//!
//! Nothing here touches the terminal, so the drawing is tested on a fixed `/proc/mosix` tree
//! with ratatui's test backend.

use mosix_core::params::{status, NodeField, UNKNOWN};
use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::{Color, Modifier, Style},
    widgets::Widget,
};
use std::{fs, io, path::Path};

/// Pages to MiB (4 KiB pages).
const PAGES_PER_MIB: i64 = 256;

/// One node as this node sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NodeRow {
    /// Node id.
    pub id: u32,
    /// Status bits.
    pub status: u32,
    /// CPUs.
    pub cpus: i64,
    /// Load (100 = one standard processor busy).
    pub load: i64,
    /// Speed (10000 = standard).
    pub speed: i64,
    /// Free memory the cluster may use, pages.
    pub mem: i64,
    /// Free memory as Linux sees it, pages.
    pub rmem: i64,
    /// Total memory, pages.
    pub tmem: i64,
    /// Utilizability, percent.
    pub util: i64,
    /// Age of the values, ms.
    pub age_ms: i64,
}

impl NodeRow {
    /// Whether the node is up.
    pub fn up(&self) -> bool {
        self.status & status::UP != 0
    }
}

/// Everything `mosmon` shows, read in one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Snapshot {
    /// This node's id (0: not configured).
    pub self_id: u32,
    /// The nodes listed under `nodes/`, by id.
    pub nodes: Vec<NodeRow>,
}

fn read_i64(path: &Path) -> Option<i64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Reads a snapshot from a `/proc/mosix` tree (`root`).
pub fn read_snapshot(root: &Path) -> io::Result<Snapshot> {
    let self_id = read_i64(&root.join("admin/mospe")).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{}/admin/mospe is missing", root.display()),
        )
    })?;
    let mut ids: Vec<u32> = fs::read_dir(root.join("nodes"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    let mut nodes = Vec::with_capacity(ids.len());
    for id in ids {
        let dir = root.join("nodes").join(id.to_string());
        let get = |f: NodeField| read_i64(&dir.join(f.name())).unwrap_or(UNKNOWN);
        nodes.push(NodeRow {
            id,
            status: u32::try_from(get(NodeField::Status)).unwrap_or(0),
            cpus: get(NodeField::Cpus),
            load: get(NodeField::Load),
            speed: get(NodeField::Speed),
            mem: get(NodeField::Mem),
            rmem: get(NodeField::Rmem),
            tmem: get(NodeField::Tmem),
            util: get(NodeField::Util),
            age_ms: get(NodeField::Age),
        });
    }
    Ok(Snapshot {
        self_id: u32::try_from(self_id).unwrap_or(0),
        nodes,
    })
}

/// What is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Load (`l`).
    Load,
    /// Speed (`s`).
    Speed,
    /// Memory used and free as the cluster may use it (`m`).
    Mem,
    /// Raw memory: used and free as Linux sees it (`r`).
    Rmem,
    /// Utilizability (`u`).
    Util,
    /// Dead nodes (`d`).
    Dead,
    /// Totals of the running machines (`t`).
    Totals,
}

impl View {
    /// The view a key selects.
    pub fn from_key(c: char) -> Option<View> {
        Some(match c {
            'l' => View::Load,
            's' => View::Speed,
            'm' => View::Mem,
            'r' => View::Rmem,
            'u' => View::Util,
            'd' => View::Dead,
            't' => View::Totals,
            _ => return None,
        })
    }

    fn title(self) -> &'static str {
        match self {
            View::Load => "load (1.00 = one standard processor busy)",
            View::Speed => "speed (10000 = standard processor) x CPUs",
            View::Mem => "memory MB: used solid, free +",
            View::Rmem => "raw memory MB (as Linux sees it): used solid, free +",
            View::Util => "utilizability %",
            View::Dead => "dead nodes",
            View::Totals => "totals of the running machines",
        }
    }
}

/// How bars are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One column per node, bars grow upwards (`w`).
    Wide,
    /// One row per node, bars grow rightwards (`v`).
    Vertical,
    /// Wide if every node fits side by side, else vertical (`a`).
    Auto,
}

impl Layout {
    /// The layout a key selects.
    pub fn from_key(c: char) -> Option<Layout> {
        Some(match c {
            'w' => Layout::Wide,
            'v' => Layout::Vertical,
            'a' => Layout::Auto,
            _ => return None,
        })
    }
}

/// One node's bar: up to two segments (solid, then `+`), and the value as text.
struct Bar {
    id: u32,
    up: bool,
    solid: i64,
    plus: i64,
    text: String,
}

fn mib(pages: i64) -> i64 {
    pages.max(0) / PAGES_PER_MIB
}

fn bars(snap: &Snapshot, view: View) -> (Vec<Bar>, i64) {
    let bars: Vec<Bar> = snap
        .nodes
        .iter()
        .map(|n| {
            let (solid, plus, text) = match view {
                View::Load => (
                    n.load.max(0),
                    0,
                    format!("{}.{:02}", n.load.max(0) / 100, n.load.max(0) % 100),
                ),
                View::Speed => (n.speed.max(0), 0, format!("{} x{}", n.speed, n.cpus)),
                View::Mem | View::Rmem => {
                    let free = if view == View::Mem { n.mem } else { n.rmem };
                    let (t, f) = (mib(n.tmem), mib(free));
                    (t - f, f, format!("{}/{}", t - f, t))
                }
                View::Util => (n.util.max(0), 0, format!("{}%", n.util)),
                View::Dead | View::Totals => (0, 0, String::new()),
            };
            if n.up() {
                Bar {
                    id: n.id,
                    up: true,
                    solid,
                    plus,
                    text,
                }
            } else {
                Bar {
                    id: n.id,
                    up: false,
                    solid: 0,
                    plus: 0,
                    text: "down".into(),
                }
            }
        })
        .collect();
    let top = bars.iter().map(|b| b.solid + b.plus).max().unwrap_or(0);
    let floor = match view {
        View::Load | View::Util => 100,
        _ => 1,
    };
    (bars, top.max(floor))
}

fn color(view: View) -> Color {
    match view {
        View::Load => Color::Green,
        View::Speed => Color::Cyan,
        View::Mem | View::Rmem => Color::Blue,
        View::Util => Color::Magenta,
        View::Dead => Color::Red,
        View::Totals => Color::White,
    }
}

/// The monitor's state: what it shows and how.
pub struct Monitor {
    /// The current view.
    pub view: View,
    /// The current layout.
    pub layout: Layout,
    /// The latest snapshot.
    pub snap: Snapshot,
    /// Why the last read failed, if it did.
    pub error: Option<String>,
}

/// What a key press asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// Redraw (a view or layout changed, or the key was unknown).
    Redraw,
    /// Quit.
    Quit,
}

impl Monitor {
    /// A monitor showing `view` in `layout`.
    pub fn new(view: View, layout: Layout) -> Monitor {
        Monitor {
            view,
            layout,
            snap: Snapshot::default(),
            error: None,
        }
    }

    /// Handles a key: `l s m r u d t` views, `w v a` layouts, `q` quits.
    pub fn key(&mut self, c: char) -> KeyAction {
        if c == 'q' || c == 'Q' {
            return KeyAction::Quit;
        }
        if let Some(v) = View::from_key(c) {
            self.view = v;
        } else if let Some(l) = Layout::from_key(c) {
            self.layout = l;
        }
        KeyAction::Redraw
    }

    /// The layout used in an area `width` wide: wide if every node gets a column.
    pub fn effective_layout(&self, width: u16) -> Layout {
        match self.layout {
            Layout::Auto
                if self.snap.nodes.len() * 2 + usize::from(AXIS_W) <= usize::from(width) =>
            {
                Layout::Wide
            }
            Layout::Auto => Layout::Vertical,
            l => l,
        }
    }

    /// Draws the whole screen into `buf` (header, body, key help).
    fn draw(&self, area: Rect, buf: &mut Buffer) {
        if area.height < 3 || area.width < 20 {
            buf.set_stringn(
                area.x,
                area.y,
                "mosmon: terminal too small",
                usize::from(area.width),
                Style::default(),
            );
            return;
        }
        let up = self.snap.nodes.iter().filter(|n| n.up()).count();
        let who = if self.snap.self_id == 0 {
            "this node is not configured".to_string()
        } else {
            format!("node #{}", self.snap.self_id)
        };
        let head = format!(
            "mosmon - {} - {}, {} of {} nodes up",
            self.view.title(),
            who,
            up,
            self.snap.nodes.len()
        );
        let bold = Style::default().add_modifier(Modifier::BOLD);
        buf.set_stringn(area.x, area.y, &head, usize::from(area.width), bold);
        let help = "l)oad s)peed m)em r)aw u)til d)ead t)otal  w)ide v)ert a)uto  q)uit";
        let foot = match &self.error {
            Some(e) => format!("{e}  [{help}]"),
            None => help.to_string(),
        };
        let dim = Style::default().fg(if self.error.is_some() {
            Color::Red
        } else {
            Color::DarkGray
        });
        buf.set_stringn(
            area.x,
            area.bottom() - 1,
            &foot,
            usize::from(area.width),
            dim,
        );
        let body = Rect {
            x: area.x,
            y: area.y + 1,
            width: area.width,
            height: area.height - 2,
        };
        match self.view {
            View::Dead => self.draw_dead(body, buf),
            View::Totals => self.draw_totals(body, buf),
            _ => match self.effective_layout(body.width) {
                Layout::Wide => self.draw_wide(body, buf),
                _ => self.draw_vertical(body, buf),
            },
        }
    }

    fn draw_vertical(&self, area: Rect, buf: &mut Buffer) {
        let (bars, top) = bars(&self.snap, self.view);
        let idw = bars.iter().map(|b| digits(b.id)).max().unwrap_or(1).max(4);
        let textw = bars.iter().map(|b| b.text.len()).max().unwrap_or(0).max(4);
        let barw = usize::from(area.width).saturating_sub(idw + textw + 3);
        let rows = usize::from(area.height);
        let shown = if bars.len() > rows {
            rows.saturating_sub(1)
        } else {
            bars.len()
        };
        let fg = Style::default().fg(color(self.view));
        for (k, b) in bars.iter().take(shown).enumerate() {
            let y = area.y + k as u16;
            let mut line = format!("{:>idw$} ", b.id);
            let (s, p) = scale2(b.solid, b.plus, top, barw);
            buf.set_string(area.x, y, &line, Style::default());
            let x0 = area.x + line.len() as u16;
            if b.up {
                buf.set_string(x0, y, "█".repeat(s), fg);
                buf.set_string(x0 + s as u16, y, "+".repeat(p), fg);
            } else {
                buf.set_string(x0, y, "-", Style::default().fg(Color::Red));
            }
            line = format!("{:>textw$}", b.text);
            let st = if b.up {
                Style::default()
            } else {
                Style::default().fg(Color::Red)
            };
            buf.set_string(area.x + (idw + 1 + barw + 1) as u16, y, &line, st);
        }
        if shown < bars.len() {
            let msg = format!(
                "... {} more nodes: a taller terminal shows them",
                bars.len() - shown
            );
            buf.set_stringn(
                area.x,
                area.y + shown as u16,
                msg,
                usize::from(area.width),
                Style::default(),
            );
        }
    }

    fn draw_wide(&self, area: Rect, buf: &mut Buffer) {
        let (bars, top) = bars(&self.snap, self.view);
        if bars.is_empty() {
            buf.set_string(
                area.x,
                area.y,
                "no nodes configured (setpe -w)",
                Style::default(),
            );
            return;
        }
        let idw = bars.iter().map(|b| digits(b.id)).max().unwrap_or(1);
        let textw = bars
            .iter()
            .map(|b| b.text.chars().count())
            .max()
            .unwrap_or(1);
        let avail = usize::from(area.width).saturating_sub(usize::from(AXIS_W));
        let colw = (avail / bars.len()).clamp(2, 9);
        let barw = colw - 1;
        // Ids too wide for a column are written downwards; values only where they fit.
        let id_rows = if barw >= idw { 1 } else { idw };
        let value_rows = usize::from(barw >= textw);
        let Some(h) = usize::from(area.height)
            .checked_sub(id_rows + value_rows)
            .filter(|h| *h >= 2)
        else {
            buf.set_string(
                area.x,
                area.y,
                "terminal too low for the wide layout",
                Style::default(),
            );
            return;
        };
        let axis = Style::default().fg(Color::DarkGray);
        let (topl, zero) = axis_labels(self.view, top);
        for y in 0..h {
            let label = match y {
                0 => topl.as_str(),
                _ if y == h - 1 => zero.as_str(),
                _ => "",
            };
            buf.set_string(area.x, area.y + y as u16, format!("{label:>5}|"), axis);
        }
        let fg = Style::default().fg(color(self.view));
        let red = Style::default().fg(Color::Red);
        for (k, b) in bars.iter().enumerate() {
            let x = area.x + AXIS_W + (k * colw) as u16;
            if usize::from(x) + barw > usize::from(area.right()) {
                break;
            }
            let (s, p) = scale2(b.solid, b.plus, top, h);
            for row in 0..(s + p) {
                let sym = if row < s { "█" } else { "+" };
                buf.set_string(x, area.y + (h - 1 - row) as u16, sym.repeat(barw), fg);
            }
            if !b.up {
                buf.set_string(x, area.y + h as u16 - 1, "-".repeat(barw), red);
            }
            let st = if b.up { Style::default() } else { red };
            let y0 = area.y + h as u16;
            if id_rows == 1 {
                buf.set_string(x, y0, format!("{:>barw$}", b.id), st);
            } else {
                let id = format!("{:>idw$}", b.id);
                for (r, ch) in id.chars().enumerate() {
                    buf.set_string(x + barw as u16 - 1, y0 + r as u16, ch.to_string(), st);
                }
            }
            if value_rows == 1 {
                buf.set_string(x, y0 + id_rows as u16, format!("{:>barw$}", b.text), st);
            }
        }
    }

    fn draw_dead(&self, area: Rect, buf: &mut Buffer) {
        let dead: Vec<&NodeRow> = self.snap.nodes.iter().filter(|n| !n.up()).collect();
        if dead.is_empty() {
            let msg = format!("All {} configured nodes are up.", self.snap.nodes.len());
            buf.set_string(area.x, area.y, msg, Style::default());
            return;
        }
        let mut lines = vec![format!(
            "{} of {} configured nodes are down:",
            dead.len(),
            self.snap.nodes.len()
        )];
        for n in &dead {
            lines.push(if n.age_ms >= 0 {
                format!(
                    "  node {:>5}: last heard of {} s ago",
                    n.id,
                    n.age_ms / 1000
                )
            } else {
                format!("  node {:>5}: never heard of", n.id)
            });
        }
        write_lines(area, buf, &lines);
    }

    fn draw_totals(&self, area: Rect, buf: &mut Buffer) {
        let up: Vec<&NodeRow> = self.snap.nodes.iter().filter(|n| n.up()).collect();
        let sum = |f: fn(&NodeRow) -> i64| up.iter().map(|n| f(n).max(0)).sum::<i64>();
        let load = sum(|n| n.load);
        let lines = vec![
            format!("{:<28}{}", "nodes configured", self.snap.nodes.len()),
            format!("{:<28}{}", "nodes up", up.len()),
            format!("{:<28}{}", "CPUs up", sum(|n| n.cpus)),
            format!("{:<28}{}", "total speed", sum(|n| n.speed * n.cpus.max(1))),
            format!("{:<28}{}.{:02}", "total load", load / 100, load % 100),
            format!("{:<28}{} MB", "total memory", mib(sum(|n| n.tmem))),
            format!("{:<28}{} MB", "free memory (cluster)", mib(sum(|n| n.mem))),
            format!("{:<28}{} MB", "free memory (raw)", mib(sum(|n| n.rmem))),
        ];
        write_lines(area, buf, &lines);
    }
}

/// Width of the wide layout's axis.
const AXIS_W: u16 = 6;

fn digits(id: u32) -> usize {
    id.to_string().len()
}

fn axis_labels(view: View, top: i64) -> (String, String) {
    match view {
        View::Load => (format!("{}.{:02}", top / 100, top % 100), "0".into()),
        View::Mem | View::Rmem => (format!("{top}M"), "0".into()),
        View::Util => ("100%".into(), "0".into()),
        _ => (compact(top), "0".into()),
    }
}

/// A number in at most 5 characters.
fn compact(v: i64) -> String {
    if v < 100_000 {
        v.to_string()
    } else if v < 100_000_000 {
        format!("{}k", v / 1000)
    } else {
        format!("{}M", v / 1_000_000)
    }
}

/// Cells for a two-segment bar of total scale `top` in `cells` cells.
fn scale2(solid: i64, plus: i64, top: i64, cells: usize) -> (usize, usize) {
    if top <= 0 {
        return (0, 0);
    }
    let c = cells as i64;
    let s = (solid.max(0) * c / top).min(c);
    let t = ((solid.max(0) + plus.max(0)) * c / top).min(c);
    (s as usize, (t - s).max(0) as usize)
}

fn write_lines(area: Rect, buf: &mut Buffer, lines: &[String]) {
    let rows = usize::from(area.height);
    for (k, l) in lines.iter().take(rows).enumerate() {
        buf.set_stringn(
            area.x,
            area.y + k as u16,
            l,
            usize::from(area.width),
            Style::default(),
        );
    }
    if lines.len() > rows && rows > 0 {
        let msg = format!("... {} more lines", lines.len() - rows + 1);
        buf.set_stringn(
            area.x,
            area.y + rows as u16 - 1,
            msg,
            usize::from(area.width),
            Style::default(),
        );
    }
}

impl Widget for &Monitor {
    fn render(self, area: Rect, buf: &mut Buffer) {
        self.draw(area, buf);
    }
}

/// The buffer's text, one line a row, trailing blanks removed.
pub fn buffer_text(buf: &Buffer) -> String {
    let a = buf.area;
    let mut out = String::new();
    for y in a.top()..a.bottom() {
        let mut line = String::new();
        for x in a.left()..a.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Draws the monitor into plain text `width` columns wide, as tall as it needs (at least
/// `min_height` rows), for `--once`.
pub fn render_text(m: &Monitor, width: u16, min_height: u16) -> String {
    let rows = match m.view {
        View::Dead => m.snap.nodes.iter().filter(|n| !n.up()).count() + 1,
        View::Totals => 8,
        _ => match m.effective_layout(width) {
            Layout::Wide => 12,
            _ => m.snap.nodes.len(),
        },
    };
    let h = (rows as u16).saturating_add(2).max(min_height).min(4096);
    let area = Rect::new(0, 0, width, h);
    let mut buf = Buffer::empty(area);
    m.draw(area, &mut buf);
    buffer_text(&buf)
}
