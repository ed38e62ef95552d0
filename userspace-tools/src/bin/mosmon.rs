//! `mosmon`: openMosix's cluster monitor, one bar per node, live from `/proc/mosix`.

use clap::Parser;
use mosix_tools::mon::{read_snapshot, render_text, KeyAction, Layout, Monitor, View};
use mosix_tools::{exit, rewrite_legacy_args, run, ToolError, EXIT_CODES_HELP};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LONG_ABOUT: &str = "\
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
struct Args {
    /// Print the version.
    #[arg(long, action = clap::ArgAction::Version)]
    version: Option<bool>,
    /// Start in the load view.
    #[arg(short = 'l', group = "view")]
    load: bool,
    /// Start in the speed view.
    #[arg(short = 's', group = "view")]
    speed: bool,
    /// Start in the memory view.
    #[arg(short = 'm', group = "view")]
    mem: bool,
    /// Start in the raw-memory view.
    #[arg(short = 'r', group = "view")]
    rmem: bool,
    /// Start in the utilizability view.
    #[arg(short = 'u', group = "view")]
    util: bool,
    /// Start in the dead-nodes view.
    #[arg(short = 'd', group = "view")]
    dead: bool,
    /// Start in the totals view.
    #[arg(short = 't', group = "view")]
    totals: bool,
    /// Wide layout.
    #[arg(short = 'w', group = "layout")]
    wide: bool,
    /// Vertical layout (-V is the same).
    #[arg(short = 'v', short_alias = 'V', group = "layout")]
    vertical: bool,
    /// Automatic layout (the default).
    #[arg(short = 'a', group = "layout")]
    auto: bool,
    /// Print one screen as text and exit.
    #[arg(long)]
    once: bool,
    /// Print the snapshot as JSON and exit.
    #[arg(long, conflicts_with = "once")]
    json: bool,
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 1.0, value_parser = parse_interval)]
    interval: f64,
    /// Width of the --once output (default: $COLUMNS, else 80).
    #[arg(long, value_parser = clap::value_parser!(u16).range(20..=1000))]
    width: Option<u16>,
    /// The /proc/mosix tree to read (for tests).
    #[arg(long, default_value = "/proc/mosix", hide = true)]
    proc: PathBuf,
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds between 0.1 and 3600")),
    }
}

fn main() {
    let args = Args::parse_from(rewrite_legacy_args(std::env::args(), &[]));
    run("mosmon", || body(args))
}

fn body(a: Args) -> Result<i32, ToolError> {
    let view = [
        (a.speed, View::Speed),
        (a.mem, View::Mem),
        (a.rmem, View::Rmem),
        (a.util, View::Util),
        (a.dead, View::Dead),
        (a.totals, View::Totals),
    ]
    .iter()
    .find(|(on, _)| *on)
    .map_or(View::Load, |(_, v)| *v);
    let layout = if a.wide {
        Layout::Wide
    } else if a.vertical {
        Layout::Vertical
    } else {
        Layout::Auto
    };
    let _ = (a.load, a.auto);
    let mut m = Monitor::new(view, layout);
    if a.once || a.json {
        m.snap = read_snapshot(&a.proc).map_err(|e| {
            ToolError::new(exit::UNAVAILABLE, format!("cannot read {}: {e} (is mosix.ko loaded?)", a.proc.display()))
        })?;
        if a.json {
            println!("{}", serde_json::to_string(&m.snap).map_err(|e| ToolError::failed(e.to_string()))?);
        } else {
            let width = a.width.or_else(|| std::env::var("COLUMNS").ok()?.parse().ok()).unwrap_or(80);
            print!("{}", render_text(&m, width, 3));
        }
        return Ok(exit::OK);
    }
    let mut term = ratatui::try_init().map_err(|e| ToolError::failed(format!("cannot use the terminal: {e}")))?;
    let r = live(&mut term, &mut m, &a);
    ratatui::restore();
    r
}

fn refresh(m: &mut Monitor, a: &Args) {
    match read_snapshot(&a.proc) {
        Ok(s) => {
            m.snap = s;
            m.error = None;
        }
        Err(e) => m.error = Some(format!("cannot read {}: {e}", a.proc.display())),
    }
}

fn live(term: &mut ratatui::DefaultTerminal, m: &mut Monitor, a: &Args) -> Result<i32, ToolError> {
    let every = Duration::from_secs_f64(a.interval);
    let io = |e: std::io::Error| ToolError::failed(format!("terminal: {e}"));
    loop {
        refresh(m, a);
        term.draw(|f| f.render_widget(&*m, f.area())).map_err(io)?;
        let deadline = Instant::now() + every;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if !event::poll(left).map_err(io)? {
                break;
            }
            match event::read().map_err(io)? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    let c = match k.code {
                        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => 'q',
                        KeyCode::Char(c) => c,
                        KeyCode::Esc => 'q',
                        _ => continue,
                    };
                    if m.key(c) == KeyAction::Quit {
                        return Ok(exit::OK);
                    }
                    term.draw(|f| f.render_widget(&*m, f.area())).map_err(io)?;
                }
                Event::Resize(..) => {
                    term.draw(|f| f.render_widget(&*m, f.area())).map_err(io)?;
                }
                _ => {}
            }
        }
    }
}
