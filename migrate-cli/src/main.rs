//! `migrate`: Alembic-compatible, SQL-first database migrations for SQLite, PostgreSQL and
//! MySQL/MariaDB.
//!
//! The binary is thin: [`cli`] reads the command line, [`config`] merges the settings
//! (files, environment, `.env`, named environments, flags), [`url`] picks the backend,
//! [`commands`] calls `migrate-core`, [`output`] prints Alembic's listing formats on stdout and
//! [`progress`] reports runs on stderr. Any error ends as one `FAILED: ...` line on stderr and
//! exit code 1.

/// `println!` for stdout that ends the process quietly when the reader has gone
/// (`migrate history -v | head`) instead of panicking; other write errors fail cleanly.
macro_rules! println {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` with the same care as [`println!`].
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

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
mod url;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = std::env::current_dir()
        .map_err(|e| error::CliError::io("cannot read the working directory", e))
        .and_then(|cwd| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| error::CliError::io("cannot start the async runtime", e))
                .and_then(|runtime| runtime.block_on(commands::run(cli, &cwd)))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Every message is built password-free; scrubbing again costs nothing.
            eprintln!("FAILED: {}", url::scrub_passwords(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}
