//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::PRECEDENCE_HELP;

/// Alembic-compatible, SQL-first database migrations for SQLite, PostgreSQL and MySQL/MariaDB.
#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    about = "Alembic-compatible, SQL-first database migrations for SQLite, PostgreSQL and MySQL/MariaDB",
    long_about = None,
    after_long_help = PRECEDENCE_HELP,
    after_help = "Examples:\n  migrate init migrations\n  migrate revision -m \"create tenants\"\n  migrate upgrade head\n  migrate -c infrastructure/migrations/alembic.ini --env test upgrade head\n\nSee `migrate --help` for where configuration comes from."
)]
pub struct Cli {
    /// Configuration file: a migrate.toml or an alembic.ini [default: ./migrate.toml, else ./alembic.ini]
    #[arg(short = 'c', long = "config", value_name = "CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Database URL (beats every other source), e.g. postgresql://user:pass@host/db
    #[arg(long, value_name = "URL", global = true)]
    pub url: Option<String>,

    /// Named environment to use ([environments.NAME] in migrate.toml); beats MIGRATE_ENV and TEST_ENV
    #[arg(long = "env", value_name = "NAME", global = true)]
    pub env: Option<String>,

    /// The .env file to read [default: ./.env when present]
    #[arg(long = "env-file", value_name = "PATH", global = true)]
    pub env_file: Option<PathBuf>,

    /// No progress on stderr (errors, and the line naming the database a run changes, still print)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// More on stderr: where settings came from and one line per statement. After `current`,
    /// `heads`, `branches` and `history`, -v is their own (Alembic's verbose listing)
    #[arg(short, long)]
    pub verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The layout `init` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// migrate.toml on SQLite and a versions folder.
    Migrate,
    /// alembic.ini, env.py, script.py.mako and versions/, which Alembic also runs, plus a
    /// migrate.toml beside them.
    Alembic,
}

/// The format `revision` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A native .sql revision with -- migrate:upgrade / -- migrate:downgrade sections.
    Sql,
    /// An Alembic .py revision whose upgrade()/downgrade() call op.execute().
    Py,
}

/// `-v` after a command that has no verbose listing of its own: the same as `migrate -v`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct StderrVerbose {
    /// More on stderr: where settings came from and one line per statement (as `migrate -v`)
    #[arg(short, long)]
    pub verbose: bool,
}

/// The commands, as Alembic names them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new project: configuration and a versions folder.
    #[command(
        after_help = "Examples:\n  migrate init migrations\n  migrate init --layout alembic infrastructure/migrations"
    )]
    Init(InitArgs),
    /// Create a new revision file.
    #[command(
        after_help = "Examples:\n  migrate revision -m \"create tenants\"\n  migrate revision -m \"add index\" --format py\n  migrate revision -m \"audit tables\" --head base --branch-label audit\n  migrate revision -m \"hotfix\" --head ae1027a6acf --splice"
    )]
    Revision(RevisionArgs),
    /// Create a revision that merges several heads.
    #[command(
        after_help = "Examples:\n  migrate merge heads -m \"merge feature branches\"\n  migrate merge 27c6a30d7c24 ae1027a6acf -m \"merge\""
    )]
    Merge(MergeArgs),
    /// Upgrade to a later version.
    #[command(
        after_help = "Examples:\n  migrate upgrade head\n  migrate upgrade +1\n  migrate upgrade ae1027a6acf\n  migrate upgrade base:head --sql > upgrade.sql"
    )]
    Upgrade(UpgradeArgs),
    /// Revert to a previous version.
    #[command(
        after_help = "Examples:\n  migrate downgrade -1\n  migrate downgrade base\n  migrate downgrade head:base --sql > downgrade.sql"
    )]
    Downgrade(DowngradeArgs),
    /// Set the version table to the given revisions without running any migration.
    #[command(
        after_help = "Examples:\n  migrate stamp head\n  migrate stamp --purge ae1027a6acf\n  migrate stamp base:head --sql"
    )]
    Stamp(StampArgs),
    /// Show the revisions the database is at.
    #[command(after_help = "Example:\n  migrate current -v")]
    Current(VerboseArgs),
    /// Show the heads of the revision history.
    #[command(after_help = "Example:\n  migrate heads --resolve-dependencies")]
    Heads(HeadsArgs),
    /// Show the branch points of the revision history.
    #[command(after_help = "Example:\n  migrate branches -v")]
    Branches(VerboseArgs),
    /// List revisions, newest first.
    #[command(
        after_help = "Examples:\n  migrate history\n  migrate history -r base:ae1027a6acf -v\n  migrate history -r current: -i"
    )]
    History(HistoryArgs),
    /// Show the revision(s) an identifier names.
    #[command(
        after_help = "Examples:\n  migrate show head\n  migrate show ae10\n  migrate show current"
    )]
    Show(ShowArgs),
    /// Say, for every revision, whether `migrate` can run its upgrade and downgrade (exit code
    /// 1 when any cannot be run).
    #[command(
        after_help = "Example:\n  migrate check\n\nA revision migrate cannot run (an Alembic operation such as op.create_table, a\ncall into the application) stays usable for listings and stamp; apply it with\nAlembic, or `migrate stamp` past it when the database already has it."
    )]
    Check,
    /// Print every resolved setting and where it came from (passwords hidden).
    #[command(
        after_help = "Examples:\n  migrate config\n  migrate -c infrastructure/migrations/alembic.ini config --env test"
    )]
    Config,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  migrate completions bash > ~/.local/share/bash-completion/completions/migrate\n  migrate completions zsh > ~/.zfunc/_migrate\n  migrate completions fish > ~/.config/fish/completions/migrate.fish"
    )]
    Completions(CompletionsArgs),
    /// Check revisions for unsafe or non-rerunnable SQL and the project's practices (exit code
    /// 1 on any error-level finding).
    #[command(
        after_help = "Examples:\n  migrate lint\n  migrate lint --pending\n  migrate lint ae1027a6acf --format json\n\nRules and levels: [lint] in migrate.toml (rule = \"error\" | \"warn\" | \"off\",\npostgres_version = \"15\"); silence one statement with a comment line before it:\n-- migrate:lint-ignore RULE[,RULE] (.sql) or # migrate:lint-ignore RULE (.py)."
    )]
    Lint(LintArgs),
    /// Prove every revision on a scratch database: upgrade, downgrade and upgrade again, each
    /// compared with a catalog snapshot (exit code 1 naming the first revision that fails).
    #[command(
        after_help = "Examples:\n  migrate verify\n  migrate verify heads --allow-branches\n  migrate verify --from prod-copy.db --data\n  migrate --url postgresql://app@db/app verify --scratch-url postgresql://app@db/app_verify\n\nThe scratch database is SQLite in memory (or a copy of --from FILE), or on PostgreSQL\nand MySQL a temporary database created on the configured server and dropped afterwards."
    )]
    Verify(VerifyArgs),
    /// Print the schema of the database as canonical DDL that recreates it.
    #[command(
        after_help = "Examples:\n  migrate dump\n  migrate dump -o schema.sql\n\nWith `schema_dump = \"schema.sql\"` in the configuration, upgrade and downgrade write\nit after every run."
    )]
    Dump(DumpArgs),
    /// Compare the database with its revisions replayed on a scratch database (exit code 1
    /// naming each object that differs).
    #[command(after_help = "Examples:\n  migrate drift\n  migrate drift --format json")]
    Drift(DriftArgs),
}

impl Command {
    /// Whether `-v` was given after a command that has no verbose listing of its own.
    pub fn stderr_verbose(&self) -> bool {
        match self {
            Command::Init(a) => a.stderr.verbose,
            Command::Revision(a) => a.stderr.verbose,
            Command::Merge(a) => a.stderr.verbose,
            Command::Upgrade(a) => a.stderr.verbose,
            Command::Downgrade(a) => a.stderr.verbose,
            Command::Stamp(a) => a.stderr.verbose,
            Command::Show(a) => a.stderr.verbose,
            _ => false,
        }
    }

    /// Whether the command changes a database (so it first says which): `upgrade`,
    /// `downgrade` and `stamp`, unless `--sql` prints a script instead.
    pub fn changes_database(&self) -> bool {
        match self {
            Command::Upgrade(a) => !a.sql,
            Command::Downgrade(a) => !a.sql,
            Command::Stamp(a) => !a.sql,
            _ => false,
        }
    }
}

/// `completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The completion script for `shell`, generated from the command line's definition.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "migrate", &mut script);
    script
}

/// How `lint` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// `file:line: level[rule]: message`, then `  = help: ...`.
    Text,
    /// One JSON document: {"format_version":1,"findings":[...]}.
    Json,
}

/// `lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Revisions to check (ids, prefixes, head, heads, label@head) [default: every revision].
    #[arg(value_name = "REV")]
    pub revisions: Vec<String>,
    /// Only the revisions the configured database does not have yet.
    #[arg(long, conflicts_with = "revisions")]
    pub pending: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

/// How `verify`, `dump` and `drift` print their result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Lines for people (for `dump`: the DDL).
    Text,
    /// One JSON document on stdout.
    Json,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The revision to verify up to [default: head, or heads with --allow-branches].
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Accept a folder with several heads.
    #[arg(long = "allow-branches")]
    pub allow_branches: bool,
    /// Run on an in-memory copy of this SQLite database file (its schema and version rows).
    #[arg(long, value_name = "FILE", conflicts_with = "scratch_url")]
    pub from: Option<PathBuf>,
    /// Run on this database instead of a temporary one (it is used as found and not dropped).
    #[arg(long = "scratch-url", value_name = "URL")]
    pub scratch_url: Option<String>,
    /// Keep the rows of the --from copy (verify against a copy of production data).
    #[arg(long, requires = "from")]
    pub data: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format (`json`: the catalog snapshot).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Replay the revisions on this database instead of a temporary one (used as found, not
    /// dropped; it should be empty).
    #[arg(long = "scratch-url", value_name = "URL")]
    pub scratch_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `init DIR`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to create (relative to the working directory).
    pub directory: PathBuf,
    /// What to scaffold.
    #[arg(long, value_enum, default_value_t = Layout::Migrate)]
    pub layout: Layout,
    /// `-v` for stderr.
    #[command(flatten)]
    pub stderr: StderrVerbose,
}

/// `revision`.
#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// The revision's message (the first line `history` shows).
    #[arg(short, long)]
    pub message: Option<String>,
    /// The revision id to use instead of a generated one.
    #[arg(long = "rev-id", value_name = "ID")]
    pub rev_id: Option<String>,
    /// The revision to build on.
    #[arg(long, value_name = "REV", default_value = "head")]
    pub head: String,
    /// Allow --head to name a revision that is not a head (starts a new branch).
    #[arg(long)]
    pub splice: bool,
    /// A branch label for the new revision.
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_label: Vec<String>,
    /// A revision or label the new revision depends on (repeatable).
    #[arg(long = "depends-on", value_name = "REV")]
    pub depends_on: Vec<String>,
    /// The folder to write into, one of the version locations.
    #[arg(long = "version-path", value_name = "DIR")]
    pub version_path: Option<PathBuf>,
    /// The file format [default: revision_format from the configuration, else .py for an
    /// alembic.ini or a folder of only .py revisions, else sql].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// `-v` for stderr.
    #[command(flatten)]
    pub stderr: StderrVerbose,
}

/// `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The revisions to merge (`heads` for all).
    #[arg(required = true, value_name = "REVS")]
    pub revisions: Vec<String>,
    /// The merge revision's message.
    #[arg(short, long)]
    pub message: Option<String>,
    /// The revision id to use instead of a generated one.
    #[arg(long = "rev-id", value_name = "ID")]
    pub rev_id: Option<String>,
    /// A branch label for the merge revision.
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_label: Vec<String>,
    /// The file format [default: revision_format from the configuration, else .py for an
    /// alembic.ini or a folder of only .py revisions, else sql].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// `-v` for stderr.
    #[command(flatten)]
    pub stderr: StderrVerbose,
}

/// `upgrade`.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Target: head, heads, an id, +N, label@head; START:END with --sql.
    #[arg(
        default_value = "head",
        value_name = "REVISION",
        allow_hyphen_values = true
    )]
    pub revision: String,
    /// Print the SQL script on stdout instead of connecting.
    #[arg(long)]
    pub sql: bool,
    /// `-v` for stderr.
    #[command(flatten)]
    pub stderr: StderrVerbose,
}

/// `downgrade`.
#[derive(Debug, Args)]
pub struct DowngradeArgs {
    /// Target: base, an id, -N, label@base; FROM:TO with --sql.
    #[arg(value_name = "REVISION", allow_hyphen_values = true)]
    pub revision: String,
    /// Print the SQL script on stdout instead of connecting.
    #[arg(long)]
    pub sql: bool,
    /// `-v` for stderr.
    #[command(flatten)]
    pub stderr: StderrVerbose,
}

/// `stamp`.
#[derive(Debug, Args)]
pub struct StampArgs {
    /// The revisions the version table should hold; [START:]END with --sql.
    #[arg(required = true, value_name = "REVISIONS")]
    pub revisions: Vec<String>,
    /// Print the SQL script on stdout instead of connecting.
    #[arg(long)]
    pub sql: bool,
    /// Delete every row of the version table first.
    #[arg(long)]
    pub purge: bool,
    /// `-v` for stderr.
    #[command(flatten)]
    pub stderr: StderrVerbose,
}

/// `current`, `branches`.
#[derive(Debug, Args)]
pub struct VerboseArgs {
    /// Show every detail (Alembic's verbose blocks).
    #[arg(short, long)]
    pub verbose: bool,
}

/// `heads`.
#[derive(Debug, Args)]
pub struct HeadsArgs {
    /// Show every detail (Alembic's verbose blocks).
    #[arg(short, long)]
    pub verbose: bool,
    /// Treat depends_on as a down revision (leaves out "effective heads").
    #[arg(long = "resolve-dependencies")]
    pub resolve_dependencies: bool,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Range START:END, START: or :END (`current` reads the database).
    #[arg(
        short = 'r',
        long = "rev-range",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub rev_range: Option<String>,
    /// Show every detail (Alembic's verbose blocks).
    #[arg(short, long)]
    pub verbose: bool,
    /// Mark the revisions the database is at with (current).
    #[arg(short = 'i', long = "indicate-current")]
    pub indicate_current: bool,
}

/// `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// An identifier: an id or prefix, head, heads, label@head, current.
    #[arg(value_name = "REV", allow_hyphen_values = true)]
    pub revision: String,
    /// `-v` for stderr.
    #[command(flatten)]
    pub stderr: StderrVerbose,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_and_command_verbose_flags_are_distinct() {
        let cli =
            Cli::try_parse_from(["migrate", "-v", "history", "-v", "-r", "base:head"]).unwrap();
        assert!(cli.verbose);
        match cli.command {
            Command::History(h) => {
                assert!(h.verbose);
                assert_eq!(h.rev_range.as_deref(), Some("base:head"));
            }
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn upgrade_defaults_to_head_and_revision_to_head() {
        let cli = Cli::try_parse_from(["migrate", "upgrade"]).unwrap();
        assert!(
            matches!(cli.command, Command::Upgrade(UpgradeArgs { ref revision, sql: false, .. }) if revision == "head")
        );
        let cli = Cli::try_parse_from([
            "migrate",
            "revision",
            "-m",
            "x",
            "--depends-on",
            "a",
            "--depends-on",
            "b",
        ])
        .unwrap();
        match cli.command {
            Command::Revision(r) => {
                assert_eq!(r.head, "head");
                assert_eq!(r.depends_on, ["a", "b"]);
            }
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn relative_revisions_with_a_minus_are_values_not_flags() {
        let cli = Cli::try_parse_from(["migrate", "downgrade", "-1"]).unwrap();
        assert!(
            matches!(cli.command, Command::Downgrade(DowngradeArgs { ref revision, .. }) if revision == "-1")
        );
        let cli = Cli::try_parse_from(["migrate", "downgrade", "-2", "--sql"]).unwrap();
        assert!(
            matches!(cli.command, Command::Downgrade(DowngradeArgs { ref revision, sql: true, .. }) if revision == "-2")
        );
        let cli = Cli::try_parse_from(["migrate", "history", "-r", "-3:"]).unwrap();
        assert!(
            matches!(cli.command, Command::History(HistoryArgs { ref rev_range, .. }) if rev_range.as_deref() == Some("-3:"))
        );
        let cli = Cli::try_parse_from(["migrate", "show", "-1"]).unwrap();
        assert!(
            matches!(cli.command, Command::Show(ShowArgs { ref revision, .. }) if revision == "-1")
        );
    }

    #[test]
    fn global_flags_are_read_after_the_command_too() {
        let cli = Cli::try_parse_from([
            "migrate",
            "upgrade",
            "-q",
            "-c",
            "db/alembic.ini",
            "--url",
            "sqlite://",
            "--env",
            "test",
            "--env-file",
            "ci.env",
        ])
        .unwrap();
        assert!(cli.quiet);
        assert_eq!(
            cli.config.as_deref(),
            Some(std::path::Path::new("db/alembic.ini"))
        );
        assert_eq!(cli.url.as_deref(), Some("sqlite://"));
        assert_eq!(cli.env.as_deref(), Some("test"));
        assert_eq!(
            cli.env_file.as_deref(),
            Some(std::path::Path::new("ci.env"))
        );
        assert!(
            matches!(cli.command, Command::Upgrade(UpgradeArgs { ref revision, .. }) if revision == "head"),
            "-q is not read as the target"
        );
        for args in [
            ["migrate", "upgrade", "--verbose"],
            ["migrate", "downgrade", "-v"],
            ["migrate", "stamp", "-v"],
        ] {
            let mut args = args.to_vec();
            if args[1] != "upgrade" {
                args.insert(2, "base");
            }
            let cli = Cli::try_parse_from(&args).unwrap();
            assert!(!cli.verbose && cli.command.stderr_verbose(), "{args:?}");
        }
        // After a listing command, -v stays Alembic's verbose listing; -q is still global.
        let cli = Cli::try_parse_from(["migrate", "history", "-v", "-q"]).unwrap();
        assert!(cli.quiet && !cli.verbose && !cli.command.stderr_verbose());
        assert!(matches!(
            cli.command,
            Command::History(HistoryArgs { verbose: true, .. })
        ));
        let cli = Cli::try_parse_from(["migrate", "-v", "current"]).unwrap();
        assert!(cli.verbose);
        assert!(matches!(
            cli.command,
            Command::Current(VerboseArgs { verbose: false })
        ));
    }

    #[test]
    fn completions_are_generated_for_each_shell() {
        for (shell, marker) in [
            (clap_complete::Shell::Bash, "_migrate()"),
            (clap_complete::Shell::Zsh, "#compdef migrate"),
            (clap_complete::Shell::Fish, "complete -c migrate"),
        ] {
            let script = String::from_utf8(completion_script(shell)).unwrap();
            assert!(script.contains(marker), "{shell}: {script}");
            assert!(
                script.contains("upgrade") && script.contains("env-file"),
                "{shell}"
            );
        }
    }

    #[test]
    fn every_command_help_shows_an_example() {
        let mut cmd = Cli::command();
        for sub in cmd.get_subcommands_mut() {
            let help = sub.render_help().to_string();
            assert!(
                help.contains("migrate "),
                "{} --help has no example:\n{help}",
                sub.get_name()
            );
        }
    }
}
