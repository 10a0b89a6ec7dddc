//! The history of what ran: `<version_table>_history`, one row per step, beside Alembic's
//! untouched `alembic_version`.
//!
//! Every step a run commits adds a row (revision, direction, the version rows before and after,
//! the checksum of what ran, times, outcome, tool version, host and user); a failed statement
//! adds one too, saying which statement was reached. Alembic ignores the table, so either tool
//! keeps working on the same database.
//!
//! Reading the history back and holding it against the revision files is a pure function,
//! [`verify`]: the findings say which applied revision was edited (its SQL now has another
//! checksum), which one is no longer in the folder, which step failed and was not resolved.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::checksum::{checksum, normalize, CHECKSUM_VERSION};
use crate::clock::Timestamp;
use crate::dialect::{Dialect, VersionTable};
use crate::error::{Error, Result};
use crate::execution::statements_of;
use crate::graph::RevisionMap;
use crate::plan::Direction;

/// The history table that goes with `version_table`: same schema, name + `_history`.
pub fn history_table(version_table: &VersionTable) -> VersionTable {
    VersionTable {
        name: format!("{}_history", version_table.name),
        schema: version_table.schema.clone(),
    }
}

/// How a step ended, as its row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The step's SQL and version change committed.
    Applied,
    /// A statement failed and what ran before it stayed (MySQL, `transaction=false`): the
    /// revision is half-applied until resumed or repaired.
    Failed,
    /// A statement failed and its transaction was rolled back (nothing was left); or, written
    /// by `repair --rolled-back`, the user undid a failed step.
    RolledBack,
    /// `stamp` moved the version table.
    Stamped,
    /// A revision applied before the history existed (by Alembic, or an older `migrate`):
    /// its checksum is the one its file computed when the history first saw it.
    Adopted,
    /// `repair` recorded the current checksum after a reviewed edit, or `repair --applied`
    /// declared a failed step finished.
    Repaired,
}

impl Outcome {
    /// The word stored in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled_back",
            Outcome::Stamped => "stamped",
            Outcome::Adopted => "adopted",
            Outcome::Repaired => "repaired",
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        Some(match text {
            "applied" => Outcome::Applied,
            "failed" => Outcome::Failed,
            "rolled_back" => Outcome::RolledBack,
            "stamped" => Outcome::Stamped,
            "adopted" => Outcome::Adopted,
            "repaired" => Outcome::Repaired,
            _ => return None,
        })
    }

    /// Whether this row records the checksum of a revision that is now applied.
    fn records_applied(self) -> bool {
        matches!(
            self,
            Outcome::Applied | Outcome::Adopted | Outcome::Repaired
        )
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    /// The row's number, in the order rows were written (`None` before it is written).
    pub id: Option<i64>,
    /// The revision (for a stamp: the rows it moved to, comma-separated).
    pub revision: String,
    /// Up or down.
    pub direction: Direction,
    /// How it ended.
    pub outcome: Outcome,
    /// The version rows before.
    pub from_versions: Vec<String>,
    /// The version rows after.
    pub to_versions: Vec<String>,
    /// The checksum of the statements the step runs ([`crate::checksum`]).
    pub checksum: Option<String>,
    /// The checksum algorithm's number.
    pub checksum_version: Option<u32>,
    /// On failure, the checksum of the statements before the one that failed (what
    /// `upgrade --resume` checks is unchanged).
    pub prefix_checksum: Option<String>,
    /// How many statements the step has.
    pub statements: Option<usize>,
    /// On failure, the 1-based number of the statement that failed.
    pub statement_index: Option<usize>,
    /// On failure, the database's message.
    pub error: Option<String>,
    /// When the step started (UTC).
    pub started_at: String,
    /// When it ended (UTC).
    pub finished_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<f64>,
    /// `migrate X.Y.Z`.
    pub tool_version: String,
    /// The machine that ran it.
    pub host: String,
    /// The operating-system user that ran it.
    pub os_user: String,
    /// The statements the checksum was taken of, normalised ([`crate::checksum::normalize`]),
    /// so that `check` can show what an edit changed (`None` for rows without a checksum, rows
    /// of older versions, and statements too long to keep, see [`MAX_KEPT_SQL`]).
    #[serde(skip)]
    pub statements_sql: Option<Vec<String>>,
}

/// The most bytes of statement text a row keeps (in `statements_sql`, so that it fits a
/// `TEXT` column on every backend); longer revisions keep only their checksum.
pub const MAX_KEPT_SQL: usize = 60_000;

/// The columns, in the order every statement names them.
const COLUMNS: [&str; 18] = [
    "revision",
    "direction",
    "outcome",
    "from_versions",
    "to_versions",
    "checksum",
    "checksum_version",
    "prefix_checksum",
    "statements",
    "statement_index",
    "error",
    "started_at",
    "finished_at",
    "duration_ms",
    "tool_version",
    "host",
    "os_user",
    "statements_sql",
];

/// Who and where: what every row written by this process says.
#[derive(Debug, Clone)]
pub struct Origin {
    /// `migrate X.Y.Z`.
    pub tool_version: String,
    /// The host name.
    pub host: String,
    /// The operating-system user.
    pub os_user: String,
}

impl Origin {
    /// This process's.
    pub fn here() -> Origin {
        Origin {
            tool_version: format!("migrate {}", env!("CARGO_PKG_VERSION")),
            host: whoami::hostname().unwrap_or_else(|_| "unknown".to_string()),
            os_user: whoami::username().unwrap_or_else(|_| "unknown".to_string()),
        }
    }
}

impl HistoryRow {
    /// A row written now by this process.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        origin: &Origin,
        revision: String,
        direction: Direction,
        outcome: Outcome,
        from_versions: Vec<String>,
        to_versions: Vec<String>,
        checksum: Option<String>,
        started: Timestamp,
        duration: std::time::Duration,
    ) -> HistoryRow {
        HistoryRow {
            id: None,
            revision,
            direction,
            outcome,
            from_versions,
            to_versions,
            checksum_version: checksum.as_ref().map(|_| CHECKSUM_VERSION),
            checksum,
            prefix_checksum: None,
            statements: None,
            statement_index: None,
            error: None,
            started_at: started.iso(),
            finished_at: started.plus(duration).iso(),
            duration_ms: Some((duration.as_secs_f64() * 1_000_000.0).round() / 1000.0),
            tool_version: origin.tool_version.clone(),
            host: origin.host.clone(),
            os_user: origin.os_user.clone(),
            statements_sql: None,
        }
    }

    /// This row with `statements` (the texts its checksum was taken of) kept, normalised.
    pub fn keeping<'a>(mut self, statements: impl IntoIterator<Item = &'a str>) -> HistoryRow {
        self.statements_sql = Some(statements.into_iter().map(normalize).collect());
        self
    }
}

/// What separates the statements in `statements_sql` (ASCII record separator, which SQL
/// text does not hold; were one there, only the diff `check` shows would be off).
const SQL_SEPARATOR: char = '\u{1e}';

/// `statements_sql` as stored: the statements, each followed by [`SQL_SEPARATOR`]; NULL when
/// longer than [`MAX_KEPT_SQL`].
fn kept_sql(statements: &Option<Vec<String>>) -> Option<String> {
    let statements = statements.as_ref()?;
    let mut text = String::new();
    for statement in statements {
        text.push_str(statement);
        text.push(SQL_SEPARATOR);
    }
    (text.len() <= MAX_KEPT_SQL).then_some(text)
}

/// [`kept_sql`] read back.
fn parse_kept_sql(text: &str) -> Vec<String> {
    let mut statements: Vec<String> = text.split(SQL_SEPARATOR).map(str::to_string).collect();
    statements.pop(); // after the last separator
    statements
}

/// `CREATE TABLE` of the history table.
pub fn create_table_sql(dialect: &dyn Dialect, table: &VersionTable) -> String {
    let history = history_table(table);
    let ts = dialect.timestamp_type();
    format!(
        "CREATE TABLE {} (\n    {}, \n    revision VARCHAR(255) NOT NULL, \n    direction VARCHAR(16) NOT NULL, \n    outcome VARCHAR(16) NOT NULL, \n    from_versions TEXT NOT NULL, \n    to_versions TEXT NOT NULL, \n    checksum VARCHAR(64), \n    checksum_version INTEGER, \n    prefix_checksum VARCHAR(64), \n    statements INTEGER, \n    statement_index INTEGER, \n    error TEXT, \n    started_at {ts} NOT NULL, \n    finished_at {ts} NOT NULL, \n    duration_ms DOUBLE PRECISION, \n    tool_version VARCHAR(64) NOT NULL, \n    host VARCHAR(255) NOT NULL, \n    os_user VARCHAR(255) NOT NULL, \n    statements_sql TEXT\n)",
        dialect.version_table_name(&history),
        dialect.history_id_column(),
    )
}

/// One `INSERT` of all `rows`.
pub fn insert_sql(dialect: &dyn Dialect, table: &VersionTable, rows: &[HistoryRow]) -> String {
    let text = |v: &str| dialect.string_literal(v);
    let opt_text = |v: &Option<String>| v.as_deref().map_or("NULL".to_string(), text);
    let opt_num = |v: Option<usize>| v.map_or("NULL".to_string(), |n| n.to_string());
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        dialect.version_table_name(&history_table(table)),
        COLUMNS.join(", ")
    );
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let values = [
            text(&row.revision),
            text(row.direction.name()),
            text(row.outcome.as_str()),
            text(&row.from_versions.join(",")),
            text(&row.to_versions.join(",")),
            opt_text(&row.checksum),
            row.checksum_version
                .map_or("NULL".to_string(), |v| v.to_string()),
            opt_text(&row.prefix_checksum),
            opt_num(row.statements),
            opt_num(row.statement_index),
            opt_text(&row.error),
            dialect.timestamp_literal(&row.started_at),
            dialect.timestamp_literal(&row.finished_at),
            row.duration_ms
                .map_or("NULL".to_string(), |d| format!("{d}")),
            text(&row.tool_version),
            text(&row.host),
            text(&row.os_user),
            opt_text(&kept_sql(&row.statements_sql)),
        ];
        sql.push('(');
        sql.push_str(&values.join(", "));
        sql.push(')');
    }
    sql
}

/// `SELECT` of every row, oldest first, times as ISO text; without `kept`, for a table made
/// before `statements_sql` existed, that column reads as NULL.
pub fn select_sql(dialect: &dyn Dialect, table: &VersionTable, kept: bool) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|c| match *c {
            "started_at" | "finished_at" => dialect.timestamp_text(c),
            "statements_sql" if !kept => "NULL".to_string(),
            other => other.to_string(),
        })
        .collect();
    format!(
        "SELECT id, {} FROM {} ORDER BY id",
        columns.join(", "),
        dialect.version_table_name(&history_table(table))
    )
}

/// Adds `statements_sql` to a history table made before it existed (the same statement on
/// every backend).
pub fn add_kept_sql_column(dialect: &dyn Dialect, table: &VersionTable) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN statements_sql TEXT",
        dialect.version_table_name(&history_table(table))
    )
}

/// The rows of [`select_sql`], read as text, into history rows; `table` names the history
/// table in an error.
pub fn parse_rows(table: &str, rows: Vec<Vec<Option<String>>>) -> Result<Vec<HistoryRow>> {
    let bad = |what: &str| Error::HistoryTableShape {
        table: table.to_string(),
        problem: format!("holds a row that is not migrate's ({what})"),
    };
    rows.into_iter()
        .map(|r| {
            if r.len() != COLUMNS.len() + 1 {
                return Err(bad("wrong number of columns"));
            }
            let get = |i: usize| r[i].clone();
            let list = |i: usize| {
                get(i)
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            let num = |i: usize| get(i).and_then(|v| v.trim().parse::<usize>().ok());
            Ok(HistoryRow {
                id: get(0).and_then(|v| v.parse().ok()),
                revision: get(1).unwrap_or_default(),
                direction: match get(2).as_deref() {
                    Some("upgrade") => Direction::Up,
                    Some("downgrade") => Direction::Down,
                    _ => return Err(bad("direction")),
                },
                outcome: get(3)
                    .as_deref()
                    .and_then(Outcome::parse)
                    .ok_or_else(|| bad("outcome"))?,
                from_versions: list(4),
                to_versions: list(5),
                checksum: get(6),
                checksum_version: get(7).and_then(|v| v.trim().parse().ok()),
                prefix_checksum: get(8),
                statements: num(9),
                statement_index: num(10),
                error: get(11),
                started_at: get(12).unwrap_or_default(),
                finished_at: get(13).unwrap_or_default(),
                duration_ms: get(14).and_then(|v| v.trim().parse().ok()),
                tool_version: get(15).unwrap_or_default(),
                host: get(16).unwrap_or_default(),
                os_user: get(17).unwrap_or_default(),
                statements_sql: get(18).map(|t| parse_kept_sql(&t)),
            })
        })
        .collect()
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Worth knowing; nothing to fix.
    Info,
    /// Worth a look; does not fail `check`.
    Warning,
    /// Fails `check`, and stops `upgrade`/`downgrade` (unless relaxed).
    Error,
}

/// What holding the history against the revision files found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// An applied revision's file now computes other SQL than what ran.
    ChecksumMismatch {
        /// The revision.
        revision: String,
        /// Its file.
        path: std::path::PathBuf,
        /// The checksum recorded when it ran.
        recorded: String,
        /// The checksum its file computes now.
        current: String,
        /// The statements that differ, as `- statement N: ...` (what ran) and
        /// `+ statement N: ...` (what the file has now) lines; empty when the row kept no
        /// statements (written by an older `migrate`, or too long).
        diff: Vec<String>,
    },
    /// The version table names a revision the folder does not hold (its file was deleted, or
    /// the folder is another project's).
    UnknownRevision {
        /// The revision.
        revision: String,
    },
    /// The history says a revision was applied and not undone, but its file is gone (and so
    /// the version table, which would otherwise name it or a revision after it, no longer
    /// counts it as applied).
    AppliedFileMissing {
        /// The revision.
        revision: String,
    },
    /// A step failed halfway and nobody said what is true since (`upgrade --resume`,
    /// `repair --applied` or `repair --rolled-back`).
    FailedStep {
        /// The revision.
        revision: String,
        /// Up or down.
        direction: Direction,
        /// The statement that failed.
        statement_index: Option<usize>,
        /// The database's message.
        error: Option<String>,
        /// When.
        at: String,
    },
    /// An applied revision has no checksum yet (applied by Alembic or before the history
    /// existed): the next run that migrates records it as adopted.
    Unrecorded {
        /// The revision.
        revision: String,
    },
}

impl Finding {
    /// How serious it is.
    pub fn level(&self) -> Level {
        match self {
            Finding::ChecksumMismatch { .. }
            | Finding::UnknownRevision { .. }
            | Finding::FailedStep { .. } => Level::Error,
            // The version table no longer names it (else its row or a child's reference
            // would be unknown): moved back by another tool, so worth a look, not an error.
            Finding::AppliedFileMissing { .. } => Level::Warning,
            Finding::Unrecorded { .. } => Level::Info,
        }
    }

    /// The revision it is about.
    pub fn revision(&self) -> &str {
        match self {
            Finding::ChecksumMismatch { revision, .. }
            | Finding::UnknownRevision { revision }
            | Finding::AppliedFileMissing { revision }
            | Finding::FailedStep { revision, .. }
            | Finding::Unrecorded { revision } => revision,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::ChecksumMismatch {
                revision,
                path,
                recorded,
                current,
                diff,
            } => {
                write!(
                    f,
                    "{}: revision {revision} was edited after it ran: its SQL now has checksum {} (recorded {}); never edit an applied revision: revert the edit and add a new revision, or, after review, record the new checksum with `migrate repair`",
                    path.display(),
                    &current[..12.min(current.len())],
                    &recorded[..12.min(recorded.len())]
                )?;
                for line in diff {
                    write!(f, "\n    {line}")?;
                }
                Ok(())
            }
            Finding::UnknownRevision { revision } => write!(
                f,
                "the version table names revision {revision}, which no file in the version locations declares (deleted, or another project's folder)"
            ),
            Finding::AppliedFileMissing { revision } => write!(
                f,
                "revision {revision} ran (the history says so, with no downgrade since) and its file is gone; the version table no longer names it, so it was undone outside migrate (by Alembic, or by hand) or the folder is another project's"
            ),
            Finding::FailedStep {
                revision,
                direction,
                statement_index,
                error,
                at,
            } => write!(
                f,
                "the {direction} of {revision} failed at {} on {at}{} and was left half-applied; fix the revision, then `migrate upgrade --resume`, or say what is true with `migrate repair --applied` / `--rolled-back`",
                statement_index.map_or("a statement".to_string(), |i| format!("statement {i}")),
                error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            ),
            Finding::Unrecorded { revision } => write!(
                f,
                "revision {revision} is applied but has no checksum yet (applied by Alembic or before the history existed); the next run that migrates records it as adopted"
            ),
        }
    }
}

/// The last row that records each revision as applied (with a checksum), and the failures
/// not resolved since.
#[derive(Debug, Default)]
pub struct Summary<'r> {
    /// Per revision: the latest row with a checksum that says it is applied, unless a later
    /// downgrade undid it.
    pub applied: HashMap<&'r str, &'r HistoryRow>,
    /// Failed steps with no later row for the same revision.
    pub unresolved: Vec<&'r HistoryRow>,
}

/// Reads the history rows in order.
pub fn summarize(rows: &[HistoryRow]) -> Summary<'_> {
    let mut applied: HashMap<&str, &HistoryRow> = HashMap::new();
    let mut failed: BTreeMap<&str, &HistoryRow> = BTreeMap::new();
    for row in rows {
        let rev = row.revision.as_str();
        if row.outcome == Outcome::Failed {
            failed.insert(rev, row);
            continue;
        }
        failed.remove(rev);
        match (row.direction, row.outcome) {
            (Direction::Up, outcome) if outcome.records_applied() && row.checksum.is_some() => {
                applied.insert(rev, row);
            }
            (Direction::Down, Outcome::Applied) => {
                applied.remove(rev);
            }
            // A stamp back takes the rows it left out of what is applied.
            (Direction::Down, Outcome::Stamped) => {
                for left in &row.from_versions {
                    if !row.to_versions.contains(left) {
                        applied.remove(left.as_str());
                    }
                }
            }
            _ => {}
        }
    }
    let mut unresolved: Vec<&HistoryRow> = failed.into_values().collect();
    unresolved.sort_by_key(|r| r.id);
    Summary {
        applied,
        unresolved,
    }
}

/// The checksum of one direction of `rev` on `dialect`, or `None` when `migrate` cannot
/// compute its SQL.
pub fn revision_checksum(
    map: &RevisionMap,
    id: &str,
    direction: Direction,
    dialect: &dyn Dialect,
) -> Option<String> {
    let rev = map.get(id)?;
    let statements = statements_of(rev, direction, dialect).ok()?;
    Some(checksum(statements.iter().map(|s| s.text.as_str())))
}

/// The statements of one direction of `rev` on `dialect`, or `None` when `migrate` cannot
/// compute its SQL.
pub fn revision_statements(
    map: &RevisionMap,
    id: &str,
    direction: Direction,
    dialect: &dyn Dialect,
) -> Option<Vec<String>> {
    let rev = map.get(id)?;
    let statements = statements_of(rev, direction, dialect).ok()?;
    Some(statements.into_iter().map(|s| s.text).collect())
}

/// The most lines a mismatch's diff shows.
const MAX_DIFF_LINES: usize = 12;

/// The statements that differ between `recorded` and `current` (both normalised), matched
/// as a longest common subsequence of whole statements: `- statement N: ...` for what ran and
/// is no longer there, `+ statement N: ...` for what the file has instead, each statement's
/// further lines indented under its first; at most [`MAX_DIFF_LINES`] lines.
pub fn statement_diff(recorded: &[String], current: &[String]) -> Vec<String> {
    let (n, m) = (recorded.len(), current.len());
    // lcs[i][j]: the common length of recorded[i..] and current[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if recorded[i] == current[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines = Vec::new();
    let mut push = |sign: char, index: usize, text: &str| {
        for (k, line) in text.lines().enumerate() {
            if k == 0 {
                lines.push(format!("{sign} statement {index}: {line}"));
            } else {
                lines.push(format!("{sign}   {line}"));
            }
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && recorded[i] == current[j] {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // On a tie the statement that ran goes first, then its replacement.
            push('-', i + 1, &recorded[i]);
            i += 1;
        } else {
            push('+', j + 1, &current[j]);
            j += 1;
        }
    }
    if lines.len() > MAX_DIFF_LINES {
        let more = lines.len() - MAX_DIFF_LINES;
        lines.truncate(MAX_DIFF_LINES);
        lines.push(format!(
            "... ({more} more line{})",
            if more == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// Holds the history against the revision files: `applied` are the revisions the version table
/// says are applied (the rows and their ancestors), `version_rows` the table's rows.
pub fn verify(
    map: &RevisionMap,
    dialect: &dyn Dialect,
    version_rows: &[String],
    applied: &[String],
    rows: &[HistoryRow],
) -> Vec<Finding> {
    let summary = summarize(rows);
    let mut findings = Vec::new();
    for row in version_rows {
        if map.get(row).is_none() {
            findings.push(Finding::UnknownRevision {
                revision: row.clone(),
            });
        }
    }
    for failed in &summary.unresolved {
        findings.push(Finding::FailedStep {
            revision: failed.revision.clone(),
            direction: failed.direction,
            statement_index: failed.statement_index,
            error: failed.error.clone(),
            at: failed.finished_at.clone(),
        });
    }
    for id in applied {
        let Some(rev) = map.get(id) else { continue };
        match summary.applied.get(id.as_str()) {
            Some(row) => {
                if row.checksum_version != Some(CHECKSUM_VERSION) {
                    // Another algorithm: not comparable; a later version reads it.
                    continue;
                }
                let (Some(recorded), Some(statements)) = (
                    row.checksum.as_ref(),
                    revision_statements(map, id, Direction::Up, dialect),
                ) else {
                    continue;
                };
                let current = checksum(statements.iter().map(String::as_str));
                if *recorded != current {
                    let diff = match &row.statements_sql {
                        Some(kept) => {
                            let now: Vec<String> =
                                statements.iter().map(|s| normalize(s)).collect();
                            statement_diff(kept, &now)
                        }
                        None => Vec::new(),
                    };
                    findings.push(Finding::ChecksumMismatch {
                        revision: id.clone(),
                        path: rev.path.clone(),
                        recorded: recorded.clone(),
                        current,
                        diff,
                    });
                }
            }
            None => findings.push(Finding::Unrecorded {
                revision: id.clone(),
            }),
        }
    }
    let mut gone: Vec<&str> = summary
        .applied
        .keys()
        .copied()
        .filter(|id| map.get(id).is_none() && !version_rows.iter().any(|r| r == id))
        .collect();
    gone.sort_unstable();
    for id in gone {
        findings.push(Finding::AppliedFileMissing {
            revision: id.to_string(),
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| normalize(s)).collect()
    }

    #[test]
    fn the_diff_shows_only_the_statements_that_changed() {
        let ran = texts(&[
            "CREATE TABLE t (id INT)",
            "INSERT INTO t VALUES (1)",
            "SELECT 1",
        ]);
        let now = texts(&[
            "CREATE TABLE t (id INT)",
            "INSERT INTO t VALUES (2)",
            "SELECT 1",
        ]);
        assert_eq!(
            statement_diff(&ran, &now),
            [
                "- statement 2: INSERT INTO t VALUES (1)",
                "+ statement 2: INSERT INTO t VALUES (2)"
            ]
        );
        // An added statement, and a removed one with two lines.
        let now = texts(&[
            "CREATE TABLE t (id INT)",
            "INSERT INTO t VALUES (1)",
            "SELECT 2",
            "SELECT 1",
        ]);
        assert_eq!(statement_diff(&ran, &now), ["+ statement 3: SELECT 2"]);
        let ran = texts(&["CREATE TABLE t (\n  id INT\n)", "SELECT 1"]);
        assert_eq!(
            statement_diff(&ran, &texts(&["SELECT 1"])),
            ["- statement 1: CREATE TABLE t (", "-     id INT", "-   )"]
        );
        // Long diffs are cut.
        let many: Vec<String> = (0..20).map(|n| format!("SELECT {n}\n")).collect();
        let diff = statement_diff(&many, &[]);
        assert_eq!(diff.len(), MAX_DIFF_LINES + 1);
        assert_eq!(diff[MAX_DIFF_LINES], "... (8 more lines)");
    }

    #[test]
    fn kept_statements_read_back_as_written() {
        let kept = Some(texts(&["SELECT 'a;b'", "", "INSERT INTO t VALUES ('\\')"]));
        let stored = kept_sql(&kept).expect("short enough");
        assert_eq!(Some(parse_kept_sql(&stored)), kept);
        assert_eq!(kept_sql(&Some(vec!["x".repeat(MAX_KEPT_SQL)])), None);
    }
}
