//! The tools' clap definitions, and the man pages and shell completions `mosix-docs` makes
//! from them.

use mosix_tools::cli::TOOLS;
use std::process::Command;

#[test]
fn every_command_passes_clap_debug_assert() {
    for tool in TOOLS {
        let cmd = (tool.command)();
        assert_eq!(cmd.get_name(), tool.name);
        cmd.debug_assert();
    }
}

/// A man page's text with roff's escaped hyphens plain and its font changes spaces.
fn plain(roff: &str) -> String {
    let mut t = roff.replace("\\-", "-");
    for font in ["\\fB", "\\fI", "\\fR", "\\fP"] {
        t = t.replace(font, " ");
    }
    t
}

/// Whether `text` has `word` with no letter, digit or hyphen right before or after it.
fn mentions(text: &str, word: &str) -> bool {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-');
    text.match_indices(word).any(|(i, _)| {
        !part(text[..i].chars().next_back()) && !part(text[i + word.len()..].chars().next())
    })
}

#[test]
fn mosix_docs_writes_man_pages_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mosix-docs"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let listed = String::from_utf8(o.stdout).unwrap();
    for tool in TOOLS {
        let page = dir
            .path()
            .join("man")
            .join(format!("{}.{}", tool.name, tool.section));
        let text = plain(
            &std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display())),
        );
        assert!(
            listed.lines().any(|l| l == page.to_str().unwrap()),
            "{} not listed",
            page.display()
        );
        // NAME names the tool.
        let name = text
            .split(".SH NAME\n")
            .nth(1)
            .and_then(|t| t.lines().next())
            .unwrap_or_default();
        assert!(
            name.starts_with(&format!("{} - ", tool.name)),
            "{}: NAME is `{name}`",
            page.display()
        );
        // It documents at least one of the tool's options (or, without options, its operand).
        let cmd = (tool.command)();
        let spellings: Vec<String> = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .flat_map(|a| {
                let mut v: Vec<String> =
                    a.get_short().map(|s| format!("-{s}")).into_iter().collect();
                v.extend(a.get_long().map(|l| format!("--{l}")));
                if a.is_positional() {
                    v.extend(
                        a.get_value_names()
                            .into_iter()
                            .flatten()
                            .map(|n| n.to_string()),
                    );
                }
                v
            })
            .collect();
        assert!(!spellings.is_empty(), "{} has no arguments", tool.name);
        assert!(
            spellings.iter().any(|s| mentions(&text, s)),
            "{} mentions none of {spellings:?}",
            page.display()
        );
        for (shell, file) in [
            ("bash", tool.name.to_string()),
            ("zsh", format!("_{}", tool.name)),
            ("fish", format!("{}.fish", tool.name)),
        ] {
            let path = dir.path().join("completions").join(shell).join(file);
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            assert!(len > 0, "{} is missing or empty", path.display());
            assert!(
                listed.lines().any(|l| l == path.to_str().unwrap()),
                "{} not listed",
                path.display()
            );
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.contains(tool.name),
                "{} does not name {}",
                path.display(),
                tool.name
            );
        }
    }
    // A page per mosctl subcommand, and the mosrun page names its wrappers.
    let mosctl = plain(&std::fs::read_to_string(dir.path().join("man/mosctl.8")).unwrap());
    for sub in (TOOLS[1].command)()
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
    {
        let page = dir.path().join(format!("man/mosctl-{}.8", sub.get_name()));
        assert!(page.exists(), "{} missing", page.display());
        assert!(mosctl.contains(&format!("mosctl-{}(8)", sub.get_name())));
    }
    let mosrun = plain(&std::fs::read_to_string(dir.path().join("man/mosrun.1")).unwrap());
    for w in mosix_tools::mosrun::WRAPPERS {
        assert!(mentions(&mosrun, w), "mosrun.1 does not name {w}");
    }
}

#[test]
fn mosix_docs_fails_clearly_when_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mosix-docs"))
        .arg("--out")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.starts_with("mosix-docs: cannot write ") && e.contains("not-a-dir/man/"),
        "{e}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mosix-docs"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "--out is required");
}
