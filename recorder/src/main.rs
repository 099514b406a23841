//! The `recorder` binary: command-line front end of the recording daemon
//! ([`record`]) and of the log reader commands.

mod cmd;
mod record;

use std::{io::Write as _, process::ExitCode};

use clap::{CommandFactory as _, FromArgMatches as _};
use cmd::{bundle, check, docgen, dump, read, replay};
use recorder::cli::{Cli, Command};

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Some(Command::Dump(args)) => dump::run(&args).map(|()| 0),
        Some(Command::Info(args)) => read::info(&args).map(|()| 0),
        Some(Command::Stats(args)) => read::stats(&args).map(|()| 0),
        Some(Command::Export(args)) => read::export(&args).map(|()| 0),
        Some(Command::Report(args)) => read::report(&args).map(|()| 0),
        Some(Command::Diff(args)) => read::diff(&args).map(|()| 0),
        Some(Command::Replay(args)) => replay::run(&args),
        Some(Command::Check) => check::run(),
        Some(Command::Watch(args)) => cmd::watch::run(&args),
        Some(Command::Bundle(args)) => bundle::run(&args).map(|()| 0),
        Some(Command::Completions { shell }) => docgen::completions(shell).map(|()| 0),
        Some(Command::Man { dir }) => docgen::man_pages(&dir).map(|()| 0),
        Some(Command::ResumeGuard {
            paused_fd,
            pause_on_fd,
        }) => record::pause::guard_main(paused_fd, pause_on_fd),
        None => cmd::record::with_config(cli.record, &matches).and_then(cmd::record::run),
    };
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            if is_broken_pipe(&e) {
                // `recorder dump log | head` is not an error.
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "recorder: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
