//! The one error type of `migrate-core`, as data.
//!
//! Every failure is a variant with typed fields (revision ids, file, line, statement index,
//! SQLSTATE); its `Display` is the one line (or few) a user reads, with Alembic's wording where
//! Alembic has one. [`Error::code`] is a stable, documented string for machines,
//! [`Error::class`] tells a deploy script what to do about it, and the `Serialize` form is what
//! `--format json` prints: `{"code": ..., "message": ..., ...fields}`.

use std::path::PathBuf;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::executor::{DatabaseError, DatabaseErrorKind};
use crate::plan::Direction;
use crate::report::Report;

/// What a caller can do about a failure: the classes map to distinct exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorClass {
    /// A migration or a check failed: the database refused a statement, or a check found a
    /// problem. Fix the revision (or the database) before running again.
    Failed,
    /// The command could not start: bad arguments, configuration, revision files or targets.
    /// Nothing was changed.
    Usage,
    /// The database could not be reached, or its migration lock not had in time. Worth
    /// retrying as it is.
    Unavailable,
}

/// Everything that can go wrong in the core: loading files, the graph, resolving targets,
/// planning and running migrations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A revision file is malformed (syntax, header values, directives).
    #[error("{path}:{line}:{column}: {message}{}", snippet.as_deref().map(|s| format!("\n    {s}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what is supported.
        message: String,
        /// The offending source line, when there is one.
        snippet: Option<String>,
    },
    /// The set of revisions does not form a valid history.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A target or identifier is empty or blank (an unset shell variable, say).
    #[error("Can't locate revision identified by '{argument}': the {what} is empty; give head, heads, base, a revision id (or a unique prefix of at least four characters), +N/-N, or label@head. Nothing was changed")]
    EmptyTarget {
        /// The text given (empty, or only blanks).
        argument: String,
        /// What was empty: `target`, `revision`, `branch label`, ...
        what: &'static str,
    },
    /// An identifier names no revision and no branch label.
    #[error(
        "Can't locate revision identified by '{argument}': {message}{}",
        did_you_mean(suggestions)
    )]
    UnknownRevision {
        /// The identifier as given.
        argument: String,
        /// Alembic's explanation (`No such revision or branch 'x'`).
        message: String,
        /// Close revision ids, labels and keywords.
        suggestions: Vec<String>,
    },
    /// A `label@...` names a branch label (or revision) that does not exist.
    #[error(
        "Can't locate revision identified by '{label}': No such branch: '{label}' ({}){}",
        known_labels(known),
        did_you_mean(suggestions)
    )]
    UnknownBranch {
        /// The label as given.
        label: String,
        /// The history's branch labels.
        known: Vec<String>,
        /// Close labels.
        suggestions: Vec<String>,
    },
    /// An identifier that is no full revision id and no label written as a string, in a history
    /// where some revision's `branch_labels` is computed by Python (`cli.EXPAND_BRANCH`): it
    /// could name (or be a prefix of) such a label, which `migrate` cannot know.
    #[error(
        "Can't resolve '{argument}': it is not a full revision id or a branch label written as a string, and {} computed by Python, which migrate does not run, so '{argument}' could name one of them; give the full revision id, or write the label as a string in that file",
        computed_list(labelled)
    )]
    ComputedLabel {
        /// The identifier as given.
        argument: String,
        /// The revisions declaring computed labels: `id (expression, ...; file)`.
        labelled: Vec<String>,
    },
    /// A prefix matches several revisions.
    #[error("Can't locate revision identified by '{argument}': Multiple revisions start with '{argument}': {}...", candidates.iter().take(3).map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "))]
    AmbiguousRevision {
        /// The prefix.
        argument: String,
        /// Every revision (or label) it matches.
        candidates: Vec<String>,
    },
    /// A revision was asked for within a branch it is not on.
    #[error("Can't locate revision identified by '{argument}': Revision {revision} is not a member of branch '{branch}'")]
    NotInBranch {
        /// The identifier as given.
        argument: String,
        /// The revision it resolved to.
        revision: String,
        /// The branch named.
        branch: String,
    },
    /// `head` (or a single target) was asked for while there are several heads.
    #[error("{message} (heads: {}; see `migrate heads`)", heads.join(", "))]
    MultipleHeads {
        /// The identifier as given (`head`, `label@head`).
        argument: String,
        /// The heads it matched.
        heads: Vec<String>,
        /// Alembic's sentence for the command at hand.
        message: String,
    },
    /// A relative target (`+2`, `-1`, `ae10+3`) walks past the end of the history.
    #[error("{message}")]
    RelativeOutOfRange {
        /// The identifier as given.
        argument: String,
        /// Alembic's sentence (`Relative revision -2 didn't produce 2 migrations`).
        message: String,
    },
    /// The target is not above (upgrade) or below (downgrade) the current revisions, or a
    /// range's ends are not on one line of history.
    #[error("{message}")]
    NotReachable {
        /// Alembic's sentence (`Destination X is not a valid downgrade target from current
        /// head(s)`).
        message: String,
    },
    /// A walk or relative step is ambiguous (several heads, a branch point).
    #[error("{message}")]
    AmbiguousTarget {
        /// What is ambiguous and how to be precise.
        message: String,
    },
    /// The version table's rows contradict the revision graph.
    #[error("revision {revision} {}; the table does not match the revision graph", if *present { "is already in the version table" } else { "is not in the version table" })]
    VersionTableMismatch {
        /// The revision in question.
        revision: String,
        /// True when it was unexpectedly present, false when unexpectedly missing.
        present: bool,
    },
    /// A revision's direction cannot be run by `migrate` (an Alembic operation, application
    /// code): refused before anything runs.
    #[error("{}:{line}:{column}: revision {revision} cannot be run by migrate: its {direction}() uses {construct}, which is not SQL `migrate` can compute. Apply this step with Alembic, or, when the database already has it, `migrate stamp` past it", path.display())]
    Unrunnable {
        /// The revision.
        revision: String,
        /// The direction that cannot run.
        direction: Direction,
        /// Its file.
        path: PathBuf,
        /// 1-based line of the construct.
        line: usize,
        /// 1-based column of the construct.
        column: usize,
        /// The construct, e.g. `op.create_table(...)`.
        construct: String,
    },
    /// An Alembic operation has no DDL on the database at hand (Alembic refuses it there, or
    /// `migrate` does rather than print what would not run).
    #[error("{0}")]
    NoDdl(Box<NoDdl>),
    /// A revision has no function or section for the direction asked.
    #[error("{}: revision {revision} has no {direction}; `migrate` cannot run its {direction}. Add a {} to the file, or `migrate stamp` past it if the database already is in the wanted state", path.display(), if *python { format!("`def {direction}():`") } else { format!("`-- migrate:{direction}` section") })]
    MissingDirection {
        /// The revision.
        revision: String,
        /// The missing direction.
        direction: Direction,
        /// Its file.
        path: PathBuf,
        /// Whether the file is an Alembic `.py` revision (else `.sql`).
        python: bool,
    },
    /// A revision was read for its header only and cannot be run.
    #[error("{}: revision {revision} was read for its header only, without its SQL; read the folder with `ScriptDirectory::load` (or `Contents::Full`) to run it", path.display())]
    NotRead {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
    },
    /// A revision id is longer than the version table's column holds: the migration would run
    /// and then fail to be recorded.
    #[error("revision {revision} ({}) has a {length}-character id, longer than the version table's column holds ({max}); nothing was run. Give it an id of at most {max} characters (and update the revisions naming it), or widen version_num", path.display())]
    RevisionIdTooLong {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// Its id's length in characters.
        length: usize,
        /// What the column holds.
        max: usize,
    },
    /// The database refuses writes (a standby, `read_only`): nothing was run.
    #[error("the database refuses writes ({reason}); nothing was run. Point the URL at the primary (or a writable database)")]
    ReadOnly {
        /// What the server says.
        reason: String,
    },
    /// A table of the version table's name exists but is not Alembic's.
    #[error("the version table {table} exists but {problem}; it is not the table Alembic lays out (version_num VARCHAR(32) NOT NULL). Nothing was run. Use another version_table, or fix the table")]
    VersionTableShape {
        /// The table.
        table: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A table of the history table's name (`<version_table>_history`) exists but is not the
    /// one `migrate` writes.
    #[error("the history table {table} exists but {problem}; it is not the table migrate writes its history to. Nothing was run. Rename or drop that table (migrate makes its own), or set `history = false`")]
    HistoryTableShape {
        /// The table.
        table: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The history says the run must not start: an applied revision was edited, a step failed
    /// halfway, the version table names a revision the folder lacks.
    #[error("{}", history_message(findings))]
    History {
        /// What was found, each with its revision.
        findings: Vec<crate::history::Finding>,
    },
    /// `upgrade --resume` cannot continue the failed step safely.
    #[error("cannot resume revision {revision}: {reason}; nothing was run")]
    ResumeRefused {
        /// The revision that failed halfway.
        revision: String,
        /// Why not.
        reason: String,
    },
    /// Arguments that do not fit together or are not accepted in this mode.
    #[error("{0}")]
    Usage(String),
    /// A new revision could not be created.
    #[error("{0}")]
    NewRevision(String),
    /// A statement of a migration failed; the report says what was left behind.
    #[error("{0}")]
    StatementFailed(Box<StatementFailure>),
    /// The database refused or could not be reached outside a migration's statements
    /// (connecting, the lock, the version table, a commit). `report` is there when the run had
    /// started and may have committed something.
    #[error("{}{}", error, report.as_deref().map(committed_note).unwrap_or_default())]
    Database {
        /// The backend's error.
        error: DatabaseError,
        /// What the run had committed before it, when it had started.
        report: Option<Box<Report>>,
    },
}

impl From<DatabaseError> for Error {
    fn from(error: DatabaseError) -> Self {
        Error::Database {
            error,
            report: None,
        }
    }
}

/// An Alembic operation that has no DDL on the database at hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}:{line}: revision {revision} cannot be run by migrate on {dialect}: its op.{operation}(...) has no DDL there: {reason}. Apply this step with Alembic, or, when the database already has it, `migrate stamp` past it", path.display())]
pub struct NoDdl {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: PathBuf,
    /// 1-based line of the operation.
    pub line: usize,
    /// The operation (`create_table`, ...).
    pub operation: String,
    /// The dialect (`sqlite`, `postgresql`, `mysql`).
    pub dialect: &'static str,
    /// Why.
    pub reason: String,
}

/// The failure of one statement of a migration, with where it is and what was left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementFailure {
    /// The revision whose statement failed.
    pub revision: String,
    /// Up or down.
    pub direction: Direction,
    /// The revision file.
    pub path: PathBuf,
    /// 1-based line in the file where the statement starts.
    pub line: usize,
    /// 1-based number of the statement within the migration.
    pub index: usize,
    /// The statement.
    pub statement: String,
    /// The database's error (message, SQLSTATE).
    pub error: DatabaseError,
    /// What the failure left behind.
    pub left: Left,
    /// The dialect (`sqlite`, `postgresql`, `mysql`).
    pub dialect: &'static str,
    /// What the run had committed before the failure.
    pub report: Report,
    /// Whether the history recorded the failed upgrade so that `migrate upgrade --resume` can
    /// finish it (and `migrate repair` clear it).
    pub resumable: bool,
}

/// What a failed statement left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
#[non_exhaustive]
pub enum Left {
    /// The run's one transaction was rolled back: nothing was applied.
    NothingApplied,
    /// The failing migration was rolled back; the migrations in the report stay committed.
    MigrationRolledBack,
    /// The statement ran outside a transaction (a `transaction=false` section or an
    /// `autocommit_block`): the statements of that section before it stay applied.
    OutsideTransaction {
        /// How many statements of this migration ran before it.
        ran_before: usize,
    },
    /// The database commits DDL implicitly (MySQL): the statements before it may have been
    /// applied and are not undone.
    ImplicitCommit {
        /// How many statements of this migration ran before it.
        ran_before: usize,
    },
}

impl std::fmt::Display for StatementFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let heads = rows_text(&self.report.heads);
        write!(
            f,
            "{}:{}: statement {} of revision {} ({}) failed: {}\n    {}\n",
            self.path.display(),
            self.line,
            self.index,
            self.revision,
            self.direction,
            self.error.message,
            first_line(&self.statement)
        )?;
        let done: Vec<&str> = self
            .report
            .applied
            .iter()
            .map(|a| a.revision.as_str())
            .collect();
        let before = if done.is_empty() {
            "no migration was committed before it".to_string()
        } else {
            format!(
                "{} committed before it",
                migrations_were(&done, self.report.applied.len())
            )
        };
        match self.left {
            Left::NothingApplied => write!(
                f,
                "The transaction was rolled back: nothing was applied and the version table is unchanged ({heads})."
            ),
            Left::MigrationRolledBack => write!(
                f,
                "This migration was rolled back; {before}; the version table is at {heads}."
            ),
            Left::OutsideTransaction { ran_before } => write!(
                f,
                "The statement ran outside a transaction (a transaction=false section or an autocommit block): {}; {before}; the version table still names the last completed migration ({heads}). {}",
                statements_before(ran_before, "ran before it and stays applied", "ran before it and stay applied"),
                self.way_out(ran_before)
            ),
            Left::ImplicitCommit { ran_before } => write!(
                f,
                "{} commits DDL implicitly: {}; {before}; the version table still names the last completed migration ({heads}). {}",
                self.dialect,
                statements_before(ran_before, "may have been applied and is not undone", "may have been applied and are not undone"),
                self.way_out(ran_before)
            ),
        }
    }
}

impl StatementFailure {
    /// Whether `migrate upgrade --resume` can finish this revision from the failed statement:
    /// the history recorded the failed upgrade and statements before it stayed applied (on
    /// MySQL/MariaDB, or in a section run outside a transaction).
    pub fn can_resume(&self) -> bool {
        let ran_before = match self.left {
            Left::OutsideTransaction { ran_before } | Left::ImplicitCommit { ran_before } => {
                ran_before
            }
            Left::NothingApplied | Left::MigrationRolledBack => 0,
        };
        self.resumable && ran_before > 0
    }

    /// What to do after a failure that left `ran_before` statements of the migration applied.
    fn way_out(&self, ran_before: usize) -> String {
        if ran_before == 0 {
            "Fix the revision, then run the command again.".to_string()
        } else if self.can_resume() {
            format!(
                "Fix statement {} (leave those before it as they are), then `migrate upgrade --resume` runs the revision from it; or undo or finish the revision by hand and say so with `migrate repair --rolled-back` or `--applied`.",
                self.index
            )
        } else {
            "Undo or finish those statements by hand, fix the revision, then run the command again."
                .to_string()
        }
    }
}

/// What the statements of this migration before the failing one did: `(one, many)` are the
/// verb phrases for one statement and for several (`stays applied`, `stay applied`).
fn statements_before(ran_before: usize, one: &str, many: &str) -> String {
    match ran_before {
        0 => "no earlier statement of this migration ran".to_string(),
        1 => format!("statement 1 of this migration {one}"),
        n => format!("statements 1 to {n} of this migration {many}"),
    }
}

/// `1 migration (a1) was` / `2 migrations (a1, b2) were`.
fn migrations_were(ids: &[&str], n: usize) -> String {
    if n == 1 {
        format!("1 migration ({}) was", ids.join(", "))
    } else {
        format!("{n} migrations ({}) were", ids.join(", "))
    }
}

/// The version rows for a message: `a1, b2`, or `empty`.
pub(crate) fn rows_text(rows: &[String]) -> String {
    if rows.is_empty() {
        "empty".to_string()
    } else {
        rows.join(", ")
    }
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn committed_note(report: &Report) -> String {
    let done: Vec<&str> = report.applied.iter().map(|a| a.revision.as_str()).collect();
    if done.is_empty() {
        format!(
            "\nNo migration was committed; the version table is at {}.",
            rows_text(&report.heads)
        )
    } else {
        format!(
            "\n{} committed before the failure; the version table is at {}.",
            migrations_were(&done, done.len()),
            rows_text(&report.heads)
        )
    }
}

fn history_message(findings: &[crate::history::Finding]) -> String {
    let mut text = format!(
        "the history stops this run before anything runs ({} finding{}):",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    for finding in findings {
        text.push_str("\n  ");
        text.push_str(&finding.to_string());
    }
    text
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" (did you mean '{one}'?)"),
        many => format!(
            " (did you mean one of {}?)",
            many.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn computed_list(labelled: &[String]) -> String {
    match labelled {
        [one] => format!("revision {one} declares branch_labels"),
        many => format!("revisions {} declare branch_labels", many.join(", ")),
    }
}

fn known_labels(known: &[String]) -> String {
    if known.is_empty() {
        "this history has no branch labels".to_string()
    } else {
        format!("branch labels: {}", known.join(", "))
    }
}

/// Why the revision set is not a valid history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum GraphError {
    /// A revision declares an empty id.
    #[error("{}: the revision id is empty", path.display())]
    EmptyId {
        /// The file.
        path: PathBuf,
    },
    /// A revision id holds a character Alembic refuses (`@ - + :`).
    #[error("Character(s) '{}' not allowed in revision identifier '{id}' ({})", chars.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "), path.display())]
    IllegalId {
        /// The id.
        id: String,
        /// The refused characters, sorted.
        chars: Vec<char>,
        /// The file.
        path: PathBuf,
    },
    /// Two files declare the same id.
    #[error("Revision {id} is present more than once: in {} and in {}; give one of them a new id", first.display(), second.display())]
    DuplicateRevision {
        /// The id.
        id: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// A revision revises itself.
    #[error("Self-loop is detected in revisions ({id}): {} revises itself", path.display())]
    SelfLoop {
        /// The id.
        id: String,
        /// The file.
        path: PathBuf,
    },
    /// A revision depends on itself.
    #[error("Dependency self-loop is detected in revisions ({id}): {} depends on itself", path.display())]
    DependencySelfLoop {
        /// The id.
        id: String,
        /// The file.
        path: PathBuf,
    },
    /// A branch label is declared twice, or equals a revision id.
    #[error("Branch name '{label}' in revision {revision} already used by revision {other} ({} and {})", path.display(), other_path.display())]
    DuplicateLabel {
        /// The label.
        label: String,
        /// The revision declaring it again.
        revision: String,
        /// The revision holding it first.
        other: String,
        /// The file of `revision`.
        path: PathBuf,
        /// The file of `other`.
        other_path: PathBuf,
    },
    /// A parent or dependency names a revision that is not in the folder.
    #[error("Revision {missing} referenced from {revision} is not present; fix `{field}` in {}", path.display())]
    MissingRevision {
        /// The id that is not present.
        missing: String,
        /// The revision naming it.
        revision: String,
        /// The header field naming it (`down_revision`, `-- Revises:`, `depends_on`, ...).
        field: &'static str,
        /// The file of `revision`.
        path: PathBuf,
    },
    /// A `depends_on` names neither a revision nor a label written as a string, in a history
    /// where some `branch_labels` are computed by Python: it may be one of those labels.
    #[error("Revision {missing} referenced from {revision} ({}) by `depends_on` is no revision id and no branch label written as a string, and {} computed by Python, which migrate does not run; depend on the revision id, or write the label as a string in that file", path.display(), computed_list(labelled))]
    DependsOnComputedLabel {
        /// The name that is not present.
        missing: String,
        /// The revision naming it.
        revision: String,
        /// The file of `revision`.
        path: PathBuf,
        /// The revisions declaring computed labels: `id (expression, ...; file)`.
        labelled: Vec<String>,
    },
    /// The `down_revision` links form a cycle.
    #[error("Cycle is detected in revisions ({})", revisions.join(", "))]
    Cycle {
        /// The revisions in or behind the cycle (`id (file)`), sorted.
        revisions: Vec<String>,
    },
    /// The links, dependencies included, form a cycle.
    #[error("Dependency cycle is detected in revisions ({})", revisions.join(", "))]
    DependencyCycle {
        /// The revisions in or behind the cycle (`id (file)`), sorted.
        revisions: Vec<String>,
    },
}

impl GraphError {
    /// The stable code of this failure.
    pub fn code(&self) -> &'static str {
        match self {
            GraphError::EmptyId { .. } | GraphError::IllegalId { .. } => "invalid_revision_id",
            GraphError::DuplicateRevision { .. } => "duplicate_revision",
            GraphError::SelfLoop { .. }
            | GraphError::DependencySelfLoop { .. }
            | GraphError::Cycle { .. }
            | GraphError::DependencyCycle { .. } => "cycle",
            GraphError::DuplicateLabel { .. } => "duplicate_branch_label",
            GraphError::MissingRevision { .. } => "missing_revision",
            GraphError::DependsOnComputedLabel { .. } => "computed_branch_label",
        }
    }
}

impl Error {
    /// The stable, documented code of this failure (`multiple_heads`, `unknown_revision`,
    /// `statement_failed`, `lock_timeout`, `connect_failed`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Parse { .. } => "parse_error",
            Error::Graph(g) => g.code(),
            Error::EmptyTarget { .. } => "empty_target",
            Error::UnknownRevision { .. } => "unknown_revision",
            Error::UnknownBranch { .. } => "unknown_branch",
            Error::ComputedLabel { .. } => "computed_branch_label",
            Error::AmbiguousRevision { .. } => "ambiguous_revision",
            Error::NotInBranch { .. } => "not_in_branch",
            Error::MultipleHeads { .. } => "multiple_heads",
            Error::RelativeOutOfRange { .. } => "relative_out_of_range",
            Error::NotReachable { .. } => "not_reachable",
            Error::AmbiguousTarget { .. } => "ambiguous_target",
            Error::VersionTableMismatch { .. } => "version_table_mismatch",
            Error::Unrunnable { .. } => "unrunnable_revision",
            Error::NoDdl(_) => "no_ddl_for_dialect",
            Error::MissingDirection { .. } => "missing_direction",
            Error::NotRead { .. } => "not_read",
            Error::RevisionIdTooLong { .. } => "revision_id_too_long",
            Error::ReadOnly { .. } => "read_only",
            Error::VersionTableShape { .. } => "version_table_shape",
            Error::HistoryTableShape { .. } => "history_table_shape",
            Error::History { .. } => "history_check",
            Error::ResumeRefused { .. } => "resume_refused",
            Error::Usage(_) => "usage",
            Error::NewRevision(_) => "new_revision",
            Error::StatementFailed(f) if f.error.kind == DatabaseErrorKind::LockWait => {
                "ddl_lock_timeout"
            }
            Error::StatementFailed(f) if f.error.kind == DatabaseErrorKind::ConnectionLost => {
                "connection_lost"
            }
            Error::StatementFailed(_) => "statement_failed",
            Error::Database { error, .. } => error.kind.code(),
        }
    }

    /// What a caller can do about it (the CLI's exit code).
    pub fn class(&self) -> ErrorClass {
        match self {
            // The server ended the session (or its lock wait) mid-statement: what ran is as
            // the report says, and the run may be tried again as it is.
            Error::StatementFailed(f)
                if matches!(
                    f.error.kind,
                    DatabaseErrorKind::LockWait | DatabaseErrorKind::ConnectionLost
                ) =>
            {
                ErrorClass::Unavailable
            }
            Error::StatementFailed(_)
            | Error::VersionTableMismatch { .. }
            | Error::History { .. } => ErrorClass::Failed,
            Error::Database { error, .. } => error.kind.class(),
            _ => ErrorClass::Usage,
        }
    }

    /// What the run had committed when it failed, when it had started.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Error::StatementFailed(f) => Some(&f.report),
            Error::Database { report, .. } => report.as_deref(),
            _ => None,
        }
    }
}

impl DatabaseErrorKind {
    /// The stable code of a database failure of this kind.
    pub fn code(self) -> &'static str {
        match self {
            DatabaseErrorKind::Connect => "connect_failed",
            DatabaseErrorKind::LockTimeout => "lock_timeout",
            DatabaseErrorKind::Statement => "statement_failed",
            DatabaseErrorKind::LockWait => "ddl_lock_timeout",
            DatabaseErrorKind::ConnectionLost => "connection_lost",
            DatabaseErrorKind::Interrupted => "interrupted",
            DatabaseErrorKind::Other => "database_error",
        }
    }

    /// What a caller can do about a failure of this kind.
    pub fn class(self) -> ErrorClass {
        match self {
            DatabaseErrorKind::Connect
            | DatabaseErrorKind::LockTimeout
            | DatabaseErrorKind::LockWait
            | DatabaseErrorKind::ConnectionLost => ErrorClass::Unavailable,
            DatabaseErrorKind::Statement
            | DatabaseErrorKind::Interrupted
            | DatabaseErrorKind::Other => ErrorClass::Failed,
        }
    }
}

impl Serialize for Error {
    /// `{"code": ..., "class": ..., "message": ..., ...typed fields}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("code", self.code())?;
        m.serialize_entry("class", &self.class())?;
        m.serialize_entry("message", &self.to_string())?;
        match self {
            Error::Io { path, source } => {
                m.serialize_entry("path", path)?;
                m.serialize_entry("cause", &source.to_string())?;
            }
            Error::Parse {
                path, line, column, ..
            } => {
                m.serialize_entry("path", path)?;
                m.serialize_entry("line", line)?;
                m.serialize_entry("column", column)?;
            }
            Error::Graph(g) => m.serialize_entry("graph", g)?,
            Error::EmptyTarget { argument, what } => {
                m.serialize_entry("argument", argument)?;
                m.serialize_entry("what", what)?;
            }
            Error::UnknownRevision {
                argument,
                suggestions,
                ..
            } => {
                m.serialize_entry("argument", argument)?;
                m.serialize_entry("suggestions", suggestions)?;
            }
            Error::UnknownBranch {
                label,
                known,
                suggestions,
            } => {
                m.serialize_entry("label", label)?;
                m.serialize_entry("known_labels", known)?;
                m.serialize_entry("suggestions", suggestions)?;
            }
            Error::ComputedLabel { argument, labelled } => {
                m.serialize_entry("argument", argument)?;
                m.serialize_entry("computed_labels", labelled)?;
            }
            Error::AmbiguousRevision {
                argument,
                candidates,
            } => {
                m.serialize_entry("argument", argument)?;
                m.serialize_entry("candidates", candidates)?;
            }
            Error::NotInBranch {
                argument,
                revision,
                branch,
            } => {
                m.serialize_entry("argument", argument)?;
                m.serialize_entry("revision", revision)?;
                m.serialize_entry("branch", branch)?;
            }
            Error::MultipleHeads {
                argument, heads, ..
            } => {
                m.serialize_entry("argument", argument)?;
                m.serialize_entry("heads", heads)?;
            }
            Error::RelativeOutOfRange { argument, .. } => {
                m.serialize_entry("argument", argument)?;
            }
            Error::VersionTableMismatch { revision, present } => {
                m.serialize_entry("revision", revision)?;
                m.serialize_entry("present", present)?;
            }
            Error::Unrunnable {
                revision,
                direction,
                path,
                line,
                column,
                construct,
            } => {
                m.serialize_entry("revision", revision)?;
                m.serialize_entry("direction", direction)?;
                m.serialize_entry("path", path)?;
                m.serialize_entry("line", line)?;
                m.serialize_entry("column", column)?;
                m.serialize_entry("construct", construct)?;
            }
            Error::MissingDirection {
                revision,
                direction,
                path,
                ..
            } => {
                m.serialize_entry("revision", revision)?;
                m.serialize_entry("direction", direction)?;
                m.serialize_entry("path", path)?;
            }
            Error::NoDdl(e) => {
                m.serialize_entry("revision", &e.revision)?;
                m.serialize_entry("path", &e.path)?;
                m.serialize_entry("line", &e.line)?;
                m.serialize_entry("operation", &e.operation)?;
                m.serialize_entry("dialect", &e.dialect)?;
            }
            Error::NotRead { revision, path } => {
                m.serialize_entry("revision", revision)?;
                m.serialize_entry("path", path)?;
            }
            Error::RevisionIdTooLong {
                revision,
                path,
                length,
                max,
            } => {
                m.serialize_entry("revision", revision)?;
                m.serialize_entry("path", path)?;
                m.serialize_entry("length", length)?;
                m.serialize_entry("max", max)?;
            }
            Error::ReadOnly { reason } => m.serialize_entry("reason", reason)?,
            Error::History { findings } => m.serialize_entry("findings", findings)?,
            Error::ResumeRefused { revision, reason } => {
                m.serialize_entry("revision", revision)?;
                m.serialize_entry("reason", reason)?;
            }
            Error::VersionTableShape { table, problem }
            | Error::HistoryTableShape { table, problem } => {
                m.serialize_entry("table", table)?;
                m.serialize_entry("problem", problem)?;
            }
            Error::StatementFailed(f) => {
                m.serialize_entry("revision", &f.revision)?;
                m.serialize_entry("direction", &f.direction)?;
                m.serialize_entry("path", &f.path)?;
                m.serialize_entry("line", &f.line)?;
                m.serialize_entry("statement_index", &f.index)?;
                m.serialize_entry("statement", &f.statement)?;
                m.serialize_entry("sqlstate", &f.error.sqlstate)?;
                m.serialize_entry("database_message", &f.error.message)?;
                m.serialize_entry("left", &f.left)?;
                m.serialize_entry("resumable", &f.can_resume())?;
                m.serialize_entry("report", &f.report)?;
            }
            Error::Database { error, report } => {
                m.serialize_entry("sqlstate", &error.sqlstate)?;
                m.serialize_entry("database_message", &error.message)?;
                if let Some(report) = report {
                    m.serialize_entry("report", report)?;
                }
            }
            Error::NotReachable { .. }
            | Error::AmbiguousTarget { .. }
            | Error::Usage(_)
            | Error::NewRevision(_) => {}
        }
        m.end()
    }
}

/// `Result` with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
