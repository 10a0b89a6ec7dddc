//! `migrate lint`: the project's practices and lock safety, checked before a revision ships.
//!
//! The rules work on the SQL the readers compute (`.sql` sections, the folded
//! `op.execute(...)` strings of `.py` files, and their Alembic operations as the target's
//! dialect renders them), split with the dialect's [`SplitRules`] and parsed with
//! sqlparser-rs, with every finding mapped back to its file and line. Nothing here reads a
//! file or a database: the caller hands over the revisions, the comments of `.py` files (for
//! suppressions, see [`comments`]), the [`LintOptions`] and the target's dialect.
//!
//! ```
//! use migrate_core::lint::{lint, LintOptions, Target};
//! use migrate_core::{RevisionMap, sqlfile::parse_sql_revision};
//! # use migrate_core::{Dialect, split::SplitRules};
//! # struct Pg;
//! # impl Dialect for Pg {
//! #     fn name(&self) -> &'static str { "postgresql" }
//! #     fn quote_identifier(&self, i: &str) -> String { i.to_string() }
//! #     fn transactional_ddl(&self) -> bool { true }
//! #     fn split_rules(&self) -> SplitRules { SplitRules::postgresql() }
//! # }
//! let rev = parse_sql_revision("1_a.sql".as_ref(), "-- add an index\n-- Revision ID: a1\n\
//!     -- Purpose: faster lookups.\n-- migrate:upgrade\nCREATE INDEX i ON t (a);\n\
//!     -- migrate:downgrade\nDROP INDEX IF EXISTS i;\n").unwrap();
//! let map = RevisionMap::new(vec![rev]).unwrap();
//! let revs: Vec<_> = map.revisions().iter().collect();
//! let report = lint(&map, &revs, &[], &LintOptions::new(Target::Postgresql), &Pg);
//! let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.name()).collect();
//! assert!(rules.contains(&"require-concurrent-index-creation"));
//! ```
//!
//! [`SplitRules`]: crate::SplitRules

mod mysql;
mod parse;
mod postgres;
mod project;
pub mod rules;
mod source;
mod sqlite;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::graph::RevisionMap;
use crate::revision::Revision;
pub use rules::{Applies, Rule};
pub use source::{comments, Comment};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Level {
    /// Worth a look; `migrate lint` still succeeds.
    Warn,
    /// Fails `migrate lint` (exit code 1).
    Error,
}

impl Level {
    /// `warn` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// What the configuration says about one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// Report at this level.
    On(Level),
    /// Do not check.
    Off,
}

impl Setting {
    /// Reads `error`, `warn` (or `warning`) or `off`.
    pub fn parse(text: &str) -> Option<Setting> {
        match text.trim().to_ascii_lowercase().as_str() {
            "error" => Some(Setting::On(Level::Error)),
            "warn" | "warning" => Some(Setting::On(Level::Warn)),
            "off" => Some(Setting::Off),
            _ => None,
        }
    }
}

/// The database the revisions are linted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgresql,
    /// MySQL or MariaDB.
    Mysql,
}

impl Target {
    /// The dialect name revision files use (`sqlite`, `postgresql`, `mysql`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Sqlite => "sqlite",
            Target::Postgresql => "postgresql",
            Target::Mysql => "mysql",
        }
    }

    /// The target a [`crate::Dialect`] stands for, by its name.
    pub fn of(dialect: &dyn crate::Dialect) -> Option<Target> {
        match dialect.name() {
            "sqlite" => Some(Target::Sqlite),
            "postgresql" => Some(Target::Postgresql),
            "mysql" => Some(Target::Mysql),
            _ => None,
        }
    }
}

/// A server version, as `postgres_version = "15.4"` or `mysql_version = "10.11-mariadb"` give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
    /// True for MariaDB (its versions are not MySQL's).
    pub mariadb: bool,
}

impl ServerVersion {
    /// A version from its numbers.
    pub const fn new(major: u32, minor: u32, patch: u32) -> ServerVersion {
        ServerVersion {
            major,
            minor,
            patch,
            mariadb: false,
        }
    }

    /// Reads `15`, `15.4`, `8.0.35`, `10.11.6-MariaDB` (also `mariadb-10.11`).
    pub fn parse(text: &str) -> Option<ServerVersion> {
        let lower = text.trim().to_ascii_lowercase();
        let mariadb = lower.contains("mariadb");
        let digits = lower
            .trim_start_matches("mariadb")
            .trim_start_matches(['-', ' '])
            .split(['-', ' '])
            .next()
            .unwrap_or("");
        let mut parts = digits.split('.');
        let mut next = || -> Option<u32> { parts.next().map_or(Some(0), |p| p.parse().ok()) };
        let major = digits.split('.').next()?.parse().ok()?;
        next();
        let (minor, patch) = (next()?, next()?);
        Some(ServerVersion {
            major,
            minor,
            patch,
            mariadb,
        })
    }

    /// At least `major.minor.patch`.
    pub fn at_least(self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }
}

impl std::fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if self.mariadb {
            f.write_str("-MariaDB")?;
        }
        Ok(())
    }
}

/// What a lint run is told.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LintOptions {
    /// The database the revisions are checked for.
    pub target: Target,
    /// How the target's SQL splits into statements.
    pub split_rules: crate::SplitRules,
    /// Whether the target runs DDL inside `migrate`'s transactions.
    pub transactional_ddl: bool,
    /// The configured level of each rule; a rule not named keeps its default.
    pub levels: BTreeMap<Rule, Setting>,
    /// The server version; `None` means PostgreSQL 15 (squawk's default), MySQL 8.4 or the
    /// SQLite 3.45 that `migrate` bundles.
    pub server_version: Option<ServerVersion>,
    /// One transaction per migration (the `transaction_per_migration` setting) instead of one
    /// for the whole run.
    pub transaction_per_migration: bool,
    /// Whether `migrate` sets `lock_timeout` itself before each migration (then
    /// `require-lock-timeout` has nothing to say).
    pub sets_lock_timeout: bool,
    /// Whether `migrate` sets `statement_timeout` itself (then `require-statement-timeout`
    /// has nothing to say).
    pub sets_statement_timeout: bool,
    /// The length of the version table's `version_num` column (Alembic's `VARCHAR(32)`).
    pub version_column_length: usize,
}

impl LintOptions {
    /// The defaults for `target` (its split rules and transactions as its backend's dialect
    /// has them): every rule at its default level.
    pub fn new(target: Target) -> LintOptions {
        let (split_rules, transactional_ddl) = match target {
            Target::Sqlite => (crate::SplitRules::sqlite(), true),
            Target::Postgresql => (crate::SplitRules::postgresql(), true),
            Target::Mysql => (crate::SplitRules::mysql(), false),
        };
        LintOptions {
            target,
            split_rules,
            transactional_ddl,
            levels: BTreeMap::new(),
            server_version: None,
            transaction_per_migration: false,
            sets_lock_timeout: false,
            sets_statement_timeout: false,
            version_column_length: 32,
        }
    }

    /// The defaults for a backend's dialect: its name, split rules and transactional DDL.
    /// `None` for a dialect `lint` has no rules for.
    pub fn for_dialect(dialect: &dyn crate::Dialect) -> Option<LintOptions> {
        let mut options = LintOptions::new(Target::of(dialect)?);
        options.split_rules = dialect.split_rules();
        options.transactional_ddl = dialect.transactional_ddl();
        Some(options)
    }

    /// The level `rule` reports at for this target, `None` when it is off or does not apply.
    pub fn level(&self, rule: Rule) -> Option<Level> {
        if !rule.applies().covers(self.target.name()) {
            return None;
        }
        match self.levels.get(&rule) {
            Some(Setting::On(level)) => Some(*level),
            Some(Setting::Off) => None,
            None => rule.default_level(),
        }
    }

    /// The server version in force (the configured one, else the target's default).
    pub fn version(&self) -> ServerVersion {
        self.server_version.unwrap_or(match self.target {
            Target::Postgresql => ServerVersion::new(15, 0, 0),
            Target::Mysql => ServerVersion::new(8, 4, 0),
            Target::Sqlite => ServerVersion::new(3, 45, 0),
        })
    }
}

/// Which direction of a revision a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Section {
    /// The upgrade.
    Upgrade,
    /// The downgrade.
    Downgrade,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule: Rule,
    /// How serious it is.
    pub level: Level,
    /// The revision id.
    pub revision: String,
    /// The direction the statement is in; `None` for findings about the whole revision.
    pub direction: Option<Section>,
    /// The revision file.
    pub file: PathBuf,
    /// 1-based line in the file (the statement's first line, or 1 for the whole revision).
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

/// Everything one lint run found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintReport {
    /// The findings: by revision, in the order the revisions were given, then by line and rule.
    pub findings: Vec<Finding>,
    /// How many revisions were checked.
    pub revisions: usize,
    /// How many statements were checked.
    pub statements: usize,
}

impl LintReport {
    /// Whether any finding is at [`Level::Error`].
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// A finding before its level and suppressions are applied.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub rule: Rule,
    /// The statement's line, `None` for the revision as a whole.
    pub line: Option<usize>,
    pub message: String,
    pub help: String,
}

impl Raw {
    pub(crate) fn at(
        rule: Rule,
        line: usize,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Raw {
        Raw {
            rule,
            line: Some(line),
            message: message.into(),
            help: help.into(),
        }
    }
}

/// Lint `revisions` (of `map`, oldest first gives the best cross-revision checks) for
/// `options.target`. `comments` holds each `.py` revision's `# migrate:lint-ignore` comments
/// (from [`comments`]), by revision id; `.sql` files keep theirs in their sections and header.
/// `dialect` (the target's) renders the Alembic operations of `.py` revisions
/// (`op.create_index(...)`, ...) into the statements they run, which are checked like any
/// other, on the operation's line.
pub fn lint(
    map: &RevisionMap,
    revisions: &[&Revision],
    comments: &[(String, Vec<Comment>)],
    options: &LintOptions,
    dialect: &dyn crate::Dialect,
) -> LintReport {
    let mut report = LintReport {
        revisions: revisions.len(),
        ..LintReport::default()
    };
    let mut run = postgres::RunState::default();
    let comments: std::collections::HashMap<&str, &[Comment]> = comments
        .iter()
        .map(|(id, c)| (id.as_str(), c.as_slice()))
        .collect();
    for rev in revisions {
        let extra = comments.get(rev.id.as_str()).copied().unwrap_or(&[]);
        let first = report.findings.len();
        let units = [Section::Upgrade, Section::Downgrade]
            .map(|s| source::Unit::build(rev, s, options, dialect));
        let mut suppressions = source::Suppressions::of(rev, extra);
        suppressions.add_starts(units.iter().flat_map(|u| u.stmts.iter().map(|s| s.line)));
        let mut raw = project::revision_rules(map, rev, options);
        finish(rev, None, &suppressions, options, &mut raw, &mut report);
        for unit in &units {
            report.statements += unit.stmts.len();
            parse::unparsed(unit, &mut raw);
            project::statement_rules(unit, options, &mut raw);
            match options.target {
                Target::Postgresql => postgres::check(unit, options, &mut run, &mut raw),
                Target::Mysql => mysql::check(unit, options, &mut raw),
                Target::Sqlite => sqlite::check(unit, options, &mut raw),
            }
            let section = Some(unit.section);
            finish(rev, section, &suppressions, options, &mut raw, &mut report);
        }
        report.findings[first..].sort_by_key(|f| (f.line, f.rule));
    }
    report
}

/// Turn the raw findings of one revision direction (`section`; `None` for the revision's
/// own findings) into findings at their configured level, unless suppressed.
fn finish(
    rev: &Revision,
    section: Option<Section>,
    suppressions: &source::Suppressions,
    options: &LintOptions,
    raw: &mut Vec<Raw>,
    report: &mut LintReport,
) {
    for r in raw.drain(..) {
        let Some(level) = options.level(r.rule) else {
            continue;
        };
        if suppressions.covers(r.rule, r.line) {
            continue;
        }
        report.findings.push(Finding {
            rule: r.rule,
            level,
            revision: rev.id.clone(),
            direction: section,
            file: rev.path.clone(),
            line: r.line.unwrap_or(1),
            message: r.message,
            help: r.help,
        });
    }
}
