//! `mosmon`: openMosix's cluster monitor, one bar per node, live from `/proc/mosix`.

use clap::Parser;
use mosix_tools::cli::mosmon::Args;
use mosix_tools::mon::{read_snapshot, render_text, KeyAction, Layout, Monitor, View};
use mosix_tools::{exit, rewrite_legacy_args, run, ToolError};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::time::{Duration, Instant};

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
            ToolError::new(
                exit::UNAVAILABLE,
                format!(
                    "cannot read {}: {e} (is mosix.ko loaded?)",
                    a.proc.display()
                ),
            )
        })?;
        if a.json {
            println!(
                "{}",
                serde_json::to_string(&m.snap).map_err(|e| ToolError::failed(e.to_string()))?
            );
        } else {
            let width = a
                .width
                .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
                .unwrap_or(80);
            print!("{}", render_text(&m, width, 3));
        }
        return Ok(exit::OK);
    }
    let mut term = ratatui::try_init()
        .map_err(|e| ToolError::failed(format!("cannot use the terminal: {e}")))?;
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
