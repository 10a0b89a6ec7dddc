//! Progress on stderr while migrations run: one line per migration with its duration, in the
//! spirit of Alembic's `INFO  [alembic.runtime.migration] Running upgrade a -> b, message`;
//! a progress bar only on a terminal for long runs; statement lines with `-v`; nothing with `-q`.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use migrate_core::Event;

/// How much goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// `-q`: nothing but errors.
    Quiet,
    /// One line per migration.
    Normal,
    /// `-v`: also one line per statement.
    Verbose,
}

/// Runs of at least this many migrations get a progress bar on a terminal.
const LONG_RUN: usize = 10;

/// Turns the migrator's events into stderr lines (and a bar on a terminal).
pub struct Progress {
    verbosity: Verbosity,
    /// Whether stderr is a terminal (a bar is drawn only there).
    terminal: bool,
    bar: Option<ProgressBar>,
    started: HashMap<String, String>,
    out: Box<dyn Write + Send>,
    /// The last commit: the version rows and how many steps the run had committed.
    committed: Option<(Vec<String>, usize)>,
}

impl Progress {
    /// Progress to stderr; a bar appears on a terminal once the plan turns out long.
    pub fn to_stderr(verbosity: Verbosity) -> Progress {
        use std::io::IsTerminal;
        Progress {
            verbosity,
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            started: HashMap::new(),
            committed: None,
            out: Box::new(std::io::stderr()),
        }
    }

    fn start_bar(&mut self, steps: usize) {
        if !self.terminal || self.verbosity == Verbosity::Quiet || steps < LONG_RUN {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        self.bar = Some(bar);
    }

    /// Progress written to `out`, never with a bar (tests).
    #[cfg(test)]
    fn to_writer(verbosity: Verbosity, out: Box<dyn Write + Send>) -> Progress {
        Progress {
            verbosity,
            terminal: false,
            bar: None,
            started: HashMap::new(),
            committed: None,
            out,
        }
    }

    fn line(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                // A closed stderr must not fail the run.
                let _ = writeln!(self.out, "{text}");
            }
        }
    }

    /// What the run had committed so far, in words (for an interrupted run).
    pub fn committed(&self) -> String {
        match &self.committed {
            None => "nothing had been committed".to_string(),
            Some((rows, steps)) => format!(
                "{steps} step{} had been committed; the version table is at {}",
                if *steps == 1 { "" } else { "s" },
                if rows.is_empty() {
                    "empty".to_string()
                } else {
                    rows.join(", ")
                }
            ),
        }
    }

    /// Handles one event of the run.
    pub fn event(&mut self, event: &Event) {
        if let Event::Committed { heads, steps } = event {
            self.committed = Some((heads.clone(), *steps));
        }
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        match event {
            Event::WaitingForLock { timeout, holder } => self.line(&format!(
                "Another migration holds this database's migration lock{}; waiting up to {} for it (lock_timeout)",
                holder
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default(),
                format_duration(*timeout)
            )),
            Event::Planned { migrations } => self.start_bar(*migrations),
            Event::Retrying {
                revision,
                statement,
                attempt,
                of,
                delay,
                rolled_back,
                error,
            } => {
                let what = match revision {
                    Some(rev) => format!("statement {statement} of {rev}"),
                    None => "opening the transaction".to_string(),
                };
                self.line(&format!(
                    "Lock timeout on {what} ({error}); {}retrying in {} (retry {attempt} of {of})",
                    if *rolled_back {
                        "rolled back, "
                    } else {
                        ""
                    },
                    format_duration(*delay)
                ));
            }
            Event::Adopted { revisions } => self.line(&format!(
                "Recorded the checksums of {} revision{} applied before the history existed (adopted): {}",
                revisions.len(),
                if revisions.len() == 1 { "" } else { "s" },
                revisions.join(", ")
            )),
            Event::Warning { message } => self.line(&format!("warning: {message}")),
            Event::Resuming {
                revision,
                statement,
                sql,
            } => self.line(&format!(
                "Resuming {revision} at statement {statement}{}: {}",
                match statement {
                    1 => String::new(),
                    2 => " (statement 1 stayed applied)".to_string(),
                    n => format!(" (statements 1 to {} stayed applied)", n - 1),
                },
                first_line(sql)
            )),
            Event::MigrationStarted {
                revision,
                description,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(description.clone());
                }
                if self.verbosity == Verbosity::Verbose {
                    self.line(&format!("Running {description} ..."));
                }
                self.started.insert(revision.clone(), description.clone());
            }
            Event::StatementDone {
                revision,
                index,
                elapsed,
            } if self.verbosity == Verbosity::Verbose => {
                self.line(&format!(
                    "  {revision}: statement {index} done ({})",
                    format_duration(*elapsed)
                ));
            }
            Event::MigrationFinished {
                revision,
                upgrade,
                elapsed,
            } => {
                let description = self.started.remove(revision).unwrap_or_else(|| {
                    format!(
                        "{} {revision}",
                        if *upgrade { "upgrade" } else { "downgrade" }
                    )
                });
                self.line(&format!(
                    "Running {description} ({})",
                    format_duration(*elapsed)
                ));
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::Stamped { from, to } => {
                self.line(&format!(
                    "Running stamp_revision {} -> {}",
                    from.join(", "),
                    to.join(", ")
                ));
            }
            _ => {}
        }
    }

    /// Removes the bar, if any.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// A statement's first line, cut at 80 characters, for a progress line.
fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or("").trim_end();
    match line.char_indices().nth(80) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None if sql.trim_end().contains('\n') => format!("{line} ..."),
        None => line.to_string(),
    }
}

/// `12 ms` under a second, `1.25 s` above.
pub fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(verbosity: Verbosity) -> String {
        let buffer = Buffer::default();
        let mut progress = Progress::to_writer(verbosity, Box::new(buffer.clone()));
        progress.event(&Event::MigrationStarted {
            revision: "b2".into(),
            upgrade: true,
            description: "upgrade a1 -> b2, add a column".into(),
        });
        progress.event(&Event::StatementDone {
            revision: "b2".into(),
            index: 1,
            elapsed: Duration::from_millis(3),
        });
        progress.event(&Event::MigrationFinished {
            revision: "b2".into(),
            upgrade: true,
            elapsed: Duration::from_millis(12),
        });
        progress.event(&Event::Stamped {
            from: vec![],
            to: vec!["b2".into()],
        });
        progress.finish();
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn one_line_per_migration_with_its_duration() {
        assert_eq!(
            run(Verbosity::Normal),
            "Running upgrade a1 -> b2, add a column (12 ms)\nRunning stamp_revision  -> b2\n"
        );
    }

    #[test]
    fn verbose_adds_statement_lines_and_quiet_prints_nothing() {
        assert_eq!(
            run(Verbosity::Verbose),
            "Running upgrade a1 -> b2, add a column ...\n  b2: statement 1 done (3 ms)\n\
             Running upgrade a1 -> b2, add a column (12 ms)\nRunning stamp_revision  -> b2\n"
        );
        assert_eq!(run(Verbosity::Quiet), "");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_micros(400)), "0 ms");
        assert_eq!(format_duration(Duration::from_millis(999)), "999 ms");
        assert_eq!(format_duration(Duration::from_millis(1250)), "1.25 s");
    }
}
