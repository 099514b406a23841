//! `recorder completions SHELL` and the hidden `recorder man DIR`: shell
//! completions and man pages generated from the CLI definition
//! ([`recorder::cli::Cli`]), so they never drift from `--help`.
//!
//! The binary generates them itself, rather than xtask linking the
//! `recorder` crate: that would make building xtask build the eBPF programs
//! (recorder's build script), which needs the very tools `cargo xtask
//! setup` installs. This way xtask stays light, and users of the bare
//! static binary (no package) can still install completions.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;
use recorder::cli::Cli;

/// Writes the completion script for `shell` to stdout.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    // Generated into memory: clap_complete panics if its writer fails (a
    // closed pipe), and an error message is better.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "recorder", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}

/// Writes `recorder.1` and one page per visible subcommand
/// (`recorder-dump.1`, ...) into `dir`, creating it if needed.
pub fn man_pages(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("cannot write man pages into {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_pages_cover_every_visible_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        man_pages(dir.path()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for page in [
            "recorder.1",
            "recorder-bundle.1",
            "recorder-dump.1",
            "recorder-watch.1",
        ] {
            assert!(names.iter().any(|n| n == page), "{page} in {names:?}");
        }
        assert!(
            !names.iter().any(|n| n == "recorder-man.1"),
            "the hidden generator has no page: {names:?}"
        );
        let bundle = std::fs::read_to_string(dir.path().join("recorder-bundle.1")).unwrap();
        assert!(bundle.contains("redact"), "{bundle}");
    }

    #[test]
    fn completion_scripts_know_the_subcommands() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "recorder", &mut script);
            let script = String::from_utf8(script).unwrap();
            assert!(script.contains("bundle"), "{shell}: {script}");
            assert!(script.contains("keep-data"), "{shell}");
            assert!(script.contains("watch"), "{shell}");
            assert!(script.contains("errno"), "{shell}");
        }
    }
}
