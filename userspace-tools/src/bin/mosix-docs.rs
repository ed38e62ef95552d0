//! `mosix-docs --out DIR`: writes the tools' man pages and shell completions, made from the
//! clap definitions the tools parse their arguments with ([`mosix_tools::cli`]). A build
//! helper (`make docs`), not installed.
//!
//! ```text
//! DIR/man/TOOL.SECTION                  one page a tool (section 8: needs root), and
//! DIR/man/mosctl-COMMAND.8              one a mosctl subcommand
//! DIR/completions/bash/TOOL
//! DIR/completions/zsh/_TOOL
//! DIR/completions/fish/TOOL.fish
//! ```

use clap::{Arg, Command, Parser, ValueHint};
use clap_complete::Shell;
use clap_mangen::roff::{bold, italic, roman, Roff};
use clap_mangen::Man;
use mosix_tools::cli::{Tool, TOOLS};
use mosix_tools::{exit, run, ToolError};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "mosix-docs",
    version,
    about = "Write the openMosix tools' man pages and shell completions"
)]
struct Args {
    /// The directory to write man/ and completions/ into (made if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn main() {
    let args = Args::parse();
    run("mosix-docs", || body(&args.out))
}

fn body(out: &Path) -> Result<i32, ToolError> {
    for tool in TOOLS {
        for (name, text) in man_pages(&tool) {
            write(&out.join("man").join(name), &text)?;
        }
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let (dir, file) = match shell {
                Shell::Bash => ("bash", tool.name.to_string()),
                Shell::Zsh => ("zsh", format!("_{}", tool.name)),
                _ => ("fish", format!("{}.fish", tool.name)),
            };
            let mut cmd = (tool.command)();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, tool.name, &mut text);
            let no_files = cmd
                .get_positionals()
                .all(|a| a.get_value_hint() == ValueHint::Other);
            if text.is_empty() && shell == Shell::Fish && no_files {
                // Nothing to offer (mosix-adopt: no options, a token): at least no file names.
                text = format!("complete -c {} -f\n", tool.name).into_bytes();
            }
            write(&out.join("completions").join(dir).join(file), &text)?;
        }
    }
    Ok(exit::OK)
}

/// Writes one file, making its directory, and prints its path.
fn write(path: &Path, text: &[u8]) -> Result<(), ToolError> {
    let r = match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir),
        None => Ok(()),
    };
    r.and_then(|()| std::fs::write(path, text))
        .map_err(|e| ToolError::failed(format!("cannot write {}: {e}", path.display())))?;
    println!("{}", path.display());
    Ok(())
}

/// A tool's man pages, file name and text: its own, then one per subcommand.
fn man_pages(tool: &Tool) -> Vec<(String, Vec<u8>)> {
    let mut cmd = (tool.command)().disable_help_subcommand(true);
    cmd.build();
    let see_also: Vec<String> = TOOLS
        .iter()
        .filter(|t| t.name != tool.name && t.name != "mosix-adopt")
        .map(|t| format!("{}({})", t.name, t.section))
        .collect();
    let mut pages = vec![(
        format!("{}.{}", tool.name, tool.section),
        man_page(&cmd, tool, None, &see_also),
    )];
    let exit_status = cmd.get_after_help().map(|h| h.to_string());
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub
            .get_display_name()
            .unwrap_or_else(|| sub.get_name())
            .to_string();
        let text = man_page(
            sub,
            tool,
            exit_status.as_deref(),
            &[format!("{}({})", tool.name, tool.section)],
        );
        pages.push((format!("{name}.{}", tool.section), text));
    }
    pages
}

/// One man page: title, NAME, OPTIONS and SUBCOMMANDS as clap_mangen renders them; our
/// SYNOPSIS (see [`synopsis`]) and DESCRIPTION (see [`help_text`]); the text after the help
/// (`after_help`, or `inherited` for a subcommand) as sections of their own (its `HEADING:`
/// lines: EXIT STATUS, EXAMPLES); VERSION; SEE ALSO.
fn man_page(cmd: &Command, tool: &Tool, inherited: Option<&str>, see_also: &[String]) -> Vec<u8> {
    let man = Man::new(cmd.clone())
        .section(tool.section)
        .date(date())
        .source(format!("openMosix {}", env!("CARGO_PKG_VERSION")))
        .manual("openMosix");
    let mut out = Vec::new();
    let mut part = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut text = Vec::new();
        render(&mut text).expect("writing to a Vec");
        // Each part starts with the same two-line preamble; one is enough.
        let text = match text.strip_prefix(ROFF_PREAMBLE.as_bytes()) {
            Some(rest) if !out.is_empty() => rest.to_vec(),
            _ => text,
        };
        out.extend(text);
    };
    part(&|w| man.render_title(w));
    part(&|w| man.render_name_section(w));
    part(&|w| synopsis(cmd).to_writer(w));
    let mut roff = Roff::default();
    roff.control("SH", ["DESCRIPTION"]);
    if let Some(text) = cmd.get_long_about().or_else(|| cmd.get_about()) {
        help_text(&mut roff, &text.to_string());
    }
    part(&|w| roff.to_writer(w));
    if tool.options_listed && cmd.get_arguments().any(|a| !a.is_hide_set()) {
        part(&|w| man.render_options_section(w));
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        part(&|w| man.render_subcommands_section(w));
    }
    let mut roff = Roff::default();
    if let Some(text) = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|t| t.to_string())
    {
        sections(&mut roff, &text);
    } else if let Some(text) = inherited {
        sections(&mut roff, text);
    }
    if let Some(v) = cmd.get_version() {
        roff.control("SH", ["VERSION"]);
        roff.text([roman(v)]);
    }
    if !see_also.is_empty() {
        roff.control("SH", ["SEE ALSO"]);
        roff.text([roman(see_also.join(", "))]);
    }
    part(&|w| roff.to_writer(w));
    out
}

/// The pages' date, YYYY-MM-DD: of $SOURCE_DATE_EPOCH (reproducible builds), else today.
fn date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(0, |d| d.as_secs() as i64)
        });
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// What the `roff` crate starts its every output with.
const ROFF_PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// The SYNOPSIS section: the usage the command gives, or the options with their values
/// (`[-f FILE|-]`), then the operands, then the subcommand.
fn synopsis(cmd: &Command) -> Roff {
    let mut roff = Roff::default();
    roff.control("SH", ["SYNOPSIS"]);
    if let Some(usage) = cmd.get_overridden_usage() {
        help_text(&mut roff, &usage.to_string());
        return roff;
    }
    let mut line = vec![bold(cmd.get_bin_name().unwrap_or_else(|| cmd.get_name()))];
    let visible = |a: &&Arg| !a.is_hide_set();
    for a in cmd
        .get_arguments()
        .filter(|a| !a.is_positional())
        .filter(visible)
    {
        let flag = match (a.get_short(), a.get_long()) {
            (Some(s), Some(l)) => format!("-{s}|--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => continue,
        };
        line.extend([
            roman(if a.is_required_set() { " " } else { " [" }),
            bold(flag),
        ]);
        if a.get_action().takes_values() {
            if let Some(names) = a.get_value_names() {
                line.extend([roman(" "), italic(names.join(" "))]);
            }
        }
        if !a.is_required_set() {
            line.push(roman("]"));
        }
    }
    for a in cmd.get_positionals().filter(visible) {
        let name = a
            .get_value_names()
            .map_or_else(|| a.get_id().to_string(), |n| n.join(" "));
        let many = a.get_num_args().is_some_and(|n| n.max_values() > 1);
        line.extend([
            roman(if a.is_required_set() { " " } else { " [" }),
            italic(name),
        ]);
        line.push(roman(match (many, a.is_required_set()) {
            (true, true) => "...",
            (true, false) => "...]",
            (false, true) => "",
            (false, false) => "]",
        }));
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        line.extend([roman(" "), italic("COMMAND")]);
    }
    roff.text(line);
    roff
}

/// Help text as man sections: a line `HEADING:` (capitals, not indented) starts one; the
/// text between them as [`help_text`] renders it.
fn sections(roff: &mut Roff, text: &str) {
    let mut body = String::new();
    let mut in_section = false;
    for line in text.lines() {
        let heading = line
            .strip_suffix(':')
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_uppercase() || c == ' '));
        if let Some(h) = heading {
            help_text(roff, &std::mem::take(&mut body));
            roff.control("SH", [h]);
            in_section = true;
        } else {
            if !in_section {
                roff.control("SH", ["NOTES"]);
                in_section = true;
            }
            body.push_str(line);
            body.push('\n');
        }
    }
    help_text(roff, &body);
}

/// Help text as roff: paragraphs (between empty lines) of prose are filled; a paragraph
/// with an indented line (examples, tables) keeps its lines as they are.
fn help_text(roff: &mut Roff, text: &str) {
    let mut first = true;
    for para in text.trim_matches('\n').split("\n\n") {
        if para.trim().is_empty() {
            continue;
        }
        if !first {
            roff.control("PP", []);
        }
        first = false;
        let lines: Vec<&str> = para.lines().collect();
        let verbatim = lines.iter().any(|l| l.starts_with(' '));
        if verbatim {
            roff.control("nf", []);
        }
        for line in lines {
            roff.text([roman(line)]);
        }
        if verbatim {
            roff.control("fi", []);
        }
    }
}
