//! `migrate`: Alembic-compatible, SQL-first database migrations for SQLite, PostgreSQL and
//! MySQL/MariaDB.
//!
//! The binary is thin: [`cli`] reads the command line, [`config`] merges the settings
//! (files, environment, `.env`, named environments, flags), [`url`] picks the backend,
//! [`commands`] calls `migrate-core` and returns each result as data, [`render`] prints it as
//! Alembic's text ([`output`] holds the listing formats) or as one JSON document and chooses the
//! exit code, and [`progress`] reports runs on stderr. A failure ends as one `FAILED: ...` line
//! on stderr (or the document's `error`) and exit code 1 (a migration or check failed), 2
//! (usage, configuration, input) or 3 (database unreachable, lock not had: worth retrying).

/// Write to stdout; a closed pipe ends the process with success, as `head` expects.
fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("FAILED: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

mod backend;
mod cli;
mod commands;
mod config;
mod error;
mod init;
mod output;
mod progress;
mod render;
mod url;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(render::command_line_failure(e)),
    };
    let (command, format) = (cli.command.name(), cli.format);
    let result = std::env::current_dir()
        .map_err(|e| error::CliError::io("cannot read the working directory", e))
        .and_then(|cwd| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| error::CliError::io("cannot start the async runtime", e))
                .and_then(|runtime| runtime.block_on(commands::run(cli, &cwd)))
        });
    ExitCode::from(render::finish(command, format, result))
}
