//! What real Alembic printed for the test projects, as `tests/alembic/gen_listings.py` wrote it
//! into `tests/alembic/listings.txt` (regenerated and compared by `references.rs`).
//!
//! The file holds sessions (`### PROJECT session N`), each a run of commands on one fresh
//! database; a test replays a session in the same order with [`Session::next`], which checks
//! that the command is the one Alembic ran at that point.

use std::sync::OnceLock;

use super::Run;

/// What Alembic did for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The command, as typed after `alembic -c alembic.ini` (`history -r 1975:`).
    pub command: String,
    /// Its stdout, with the scratch project's folder written as `{dir}`.
    pub stdout: String,
    /// Alembic's log line for each migration it ran (`Running upgrade A -> B, message`).
    pub log: Vec<String>,
    /// The `FAILED:` message, when it failed.
    pub failed: Option<String>,
    /// After `upgrade`, `downgrade` and `stamp`: the version table's rows, sorted (`None`
    /// when the table does not exist).
    pub rows: Option<Option<Vec<String>>>,
}

impl Entry {
    /// The stdout of a command that succeeded.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert!(
            self.failed.is_none(),
            "Alembic failed `{}`: {:?}",
            self.command,
            self.failed
        );
        &self.stdout
    }

    /// Asserts that `run`, in the project folder `dir`, printed on stdout what Alembic did, as
    /// [`as_migrate_prints`] maps it; `any_order` compares the lines in any order, for listings Alembic prints in Python's
    /// set order (`current` with several heads, `branches`).
    #[track_caller]
    pub fn assert_printed(&self, run: &Run, dir: &std::path::Path, any_order: bool) {
        let expected = as_migrate_prints(self.ok(), dir);
        if any_order {
            assert_eq!(
                sorted_lines(run.ok()),
                sorted_lines(&expected),
                "`{}`",
                self.command
            );
        } else {
            assert_eq!(run.ok(), expected, "`{}`", self.command);
        }
    }

    /// Asserts that `run`, a command that changes the version table, left the rows Alembic
    /// left (`rows`, as the database now holds them), printed nothing on stdout, and logged
    /// Alembic's "Running ..." line for each step on stderr (a migration's with its duration
    /// added).
    #[track_caller]
    pub fn assert_moved(&self, run: &Run, rows: Option<Vec<String>>) {
        let command = &self.command;
        assert_eq!(run.ok(), "", "`{command}` prints nothing on stdout");
        assert_eq!(rows, self.rows(), "`{command}`");
        // migrate first names the database it changes (a line Alembic does not print).
        let mut lines = run.stderr.lines().peekable();
        let banner = lines.next_if(|l| l.starts_with("Database: "));
        assert!(
            banner.is_some(),
            "`{command}` names its database first: {}",
            run.stderr
        );
        // ... and says once when it records the checksums of revisions applied before its
        // history existed (adopted), another line of its own.
        let progress: Vec<&str> = lines
            .filter(|l| !l.starts_with("Recorded the checksums of "))
            .collect();
        assert_eq!(
            progress.len(),
            self.log.len(),
            "`{command}`: {}",
            run.stderr
        );
        for (ours, theirs) in progress.iter().zip(&self.log) {
            if theirs.starts_with("Running stamp_revision") {
                assert_eq!(ours, theirs, "`{command}`");
            } else {
                assert!(
                    ours.starts_with(theirs.as_str()) && ours.ends_with(')'),
                    "`{command}`: {ours:?} is not Alembic's {theirs:?} and a duration"
                );
            }
        }
    }

    /// The rows after a command that changes the version table.
    #[track_caller]
    pub fn rows(&self) -> Option<Vec<String>> {
        self.rows
            .clone()
            .unwrap_or_else(|| panic!("`{}` reads no rows", self.command))
    }
}

/// Alembic's stdout as `migrate` prints it: the same text, with each `Path:` line naming the
/// `.sql` file where Alembic read a `.py` copy of it (the example project). Both print the
/// file's resolved absolute path (`{dir}/migrations/versions/...` in the reference), so `{dir}`
/// becomes `dir`, the project folder resolved.
pub fn as_migrate_prints(alembic: &str, dir: &std::path::Path) -> String {
    let dir = dir.canonicalize().expect("the project folder");
    alembic
        .lines()
        .map(|line| match line.strip_prefix("Path: {dir}/") {
            Some(path) => format!(
                "Path: {}/{}.sql\n",
                dir.display(),
                path.strip_suffix(".py").expect("a .py file")
            ),
            None => format!("{line}\n"),
        })
        .collect()
}

/// The lines of `text`, sorted.
pub fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    lines
}

/// The sessions of the file: `(project, number)` and the session's commands.
type Sessions = Vec<((String, usize), Vec<Entry>)>;

fn sessions() -> &'static Sessions {
    static PARSED: OnceLock<Sessions> = OnceLock::new();
    PARSED.get_or_init(|| parse(include_str!("../../alembic/listings.txt")))
}

fn parse(text: &str) -> Sessions {
    let mut out: Sessions = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("### ") {
            let (project, number) = rest.split_once(" session ").expect("### PROJECT session N");
            let number = number.parse().expect("a session number");
            out.push(((project.to_string(), number), Vec::new()));
            continue;
        }
        let entries = &mut out.last_mut().expect("a session header first").1;
        if let Some(rest) = line.strip_prefix("=== ") {
            let (_, command) = rest.split_once(" | ").expect("=== PROJECT | COMMAND");
            entries.push(Entry {
                command: command.to_string(),
                stdout: String::new(),
                log: Vec::new(),
                failed: None,
                rows: None,
            });
            continue;
        }
        let entry = entries.last_mut().expect("a command header first");
        if let Some(message) = line.strip_prefix("--- log: ") {
            entry.log.push(message.to_string());
        } else if let Some(message) = line.strip_prefix("--- failed: ") {
            entry.failed = Some(message.to_string());
        } else if line == "--- rows (no table)" {
            entry.rows = Some(None);
        } else if let Some(rows) = line.strip_prefix("--- rows") {
            entry.rows = Some(Some(rows.split_whitespace().map(str::to_string).collect()));
        } else {
            entry.stdout.push_str(line);
            entry.stdout.push('\n');
        }
    }
    out
}

/// A session of the reference, replayed command by command.
pub struct Session {
    project: String,
    entries: std::slice::Iter<'static, Entry>,
}

impl Session {
    /// Session `number` (from 1) of `project`.
    #[track_caller]
    pub fn start(project: &str, number: usize) -> Session {
        let (_, entries) = sessions()
            .iter()
            .find(|((p, n), _)| p == project && *n == number)
            .unwrap_or_else(|| panic!("no session {number} of {project} in listings.txt"));
        Session {
            project: project.to_string(),
            entries: entries.iter(),
        }
    }

    /// What Alembic did for the session's next command, which must be `command`.
    #[track_caller]
    pub fn next(&mut self, command: &str) -> &'static Entry {
        let entry = self.entries.next().unwrap_or_else(|| {
            panic!(
                "the {} session ran no more commands; `{command}` is not in listings.txt",
                self.project
            )
        });
        assert_eq!(
            entry.command, command,
            "the test replays the {} session out of order",
            self.project
        );
        entry
    }

    /// Asserts that every command of the session was replayed.
    #[track_caller]
    pub fn finish(mut self) {
        if let Some(entry) = self.entries.next() {
            panic!(
                "the {} session goes on with `{}`, which the test did not replay",
                self.project, entry.command
            );
        }
    }
}
