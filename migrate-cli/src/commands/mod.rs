//! The commands, each a thin layer: settings in, core calls, output out.

mod config;
mod dump;
mod lint;
mod listing;
mod migrate;
mod revision;
mod verify;

use std::future::Future;
use std::path::{Path, PathBuf};

use migrate_core::{
    Contents, Executor, MigrateOptions, RevisionMap, ScriptDirectory, VersionTable,
};

use crate::backend;
use crate::cli::{Cli, Command, OutputFormat};
use crate::config::{Flags, Settings, Vars};
use crate::error::CliError;
use crate::init;
use crate::progress::Verbosity;
use crate::render::Output;
use crate::url::{describe_url, DatabaseUrl};

/// What every command works from.
pub struct Context {
    /// The settings merged from every source.
    pub settings: Settings,
    /// How much goes to stderr.
    pub verbosity: Verbosity,
    /// What stdout holds.
    pub format: OutputFormat,
}

impl Context {
    /// Where a failing check's findings are, for its one-line error: `above` (text on
    /// stdout), or `in the JSON document on stdout`.
    pub fn listed_where(&self) -> &'static str {
        match self.format {
            OutputFormat::Text => "above",
            OutputFormat::Json => "in the JSON document on stdout",
        }
    }

    /// Reads the revision files of the configured version locations into a graph: in full
    /// for commands that run SQL, their headers only for the others.
    ///
    /// The graph lives until the process ends and is never freed: each command builds it once,
    /// and returning its thousands of small allocations to the allocator just before exiting
    /// costs about as much as building the graph (5 ms for 10,000 revisions).
    pub fn map(&self, contents: Contents) -> Result<&'static RevisionMap, CliError> {
        self.check_script_location()?;
        load_map(
            &self.settings.version_locations,
            self.settings.recursive_version_locations,
            contents,
        )
    }

    /// [`Context::map`] on another thread while `work` (connecting, reading the version
    /// table) runs here: the two wait on different things (files and the CPU; the database),
    /// so together they take about as long as the longer one. A failure to read the files wins
    /// over `work`'s, as if they had run in turn, and stops `work` at once.
    pub async fn map_alongside<T>(
        &self,
        contents: Contents,
        work: impl Future<Output = Result<T, CliError>>,
    ) -> Result<(&'static RevisionMap, T), CliError> {
        self.check_script_location()?;
        let locations = self.settings.version_locations.clone();
        let recursive = self.settings.recursive_version_locations;
        let mut loading =
            tokio::task::spawn_blocking(move || load_map(&locations, recursive, contents));
        let joined = |done: Result<Result<_, CliError>, tokio::task::JoinError>| {
            done.map_err(|e| CliError::config(format!("reading the revision files failed: {e}")))?
        };
        tokio::pin!(work);
        tokio::select! {
            loaded = &mut loading => {
                let map = joined(loaded)?;
                Ok((map, work.await?))
            }
            done = &mut work => {
                let map = joined(loading.await)?;
                Ok((map, done?))
            }
        }
    }

    fn check_script_location(&self) -> Result<(), CliError> {
        let location = self.settings.require_script_location()?;
        if !location.is_dir() {
            return Err(CliError::config(format!(
                "Path doesn't exist: {}.  Please use the 'init' command to create a new scripts folder.",
                location.display()
            )));
        }
        Ok(())
    }

    /// The configured database URL, parsed.
    pub fn database_url(&self) -> Result<DatabaseUrl, CliError> {
        let configured = self.settings.require_url()?;
        DatabaseUrl::parse(&configured.url).map_err(|error| CliError::ConfiguredUrl {
            error,
            from: configured.source.to_string(),
        })
    }

    /// The migrator's options from the settings.
    pub fn options(&self) -> MigrateOptions {
        MigrateOptions {
            version_table: VersionTable {
                name: self.settings.version_table.clone(),
                schema: self.settings.version_table_schema.clone(),
            },
            transaction_per_migration: self.settings.transaction_per_migration,
            lock_timeout: self.settings.lock_timeout,
            ddl_lock_timeout: self.settings.ddl_lock_timeout,
            statement_timeout: self.settings.statement_timeout,
            ddl_retries: self.settings.ddl_retries,
            history: self.settings.history,
            checksum_mismatch: self.settings.checksum_mismatch,
            ..MigrateOptions::default()
        }
    }

    /// Connects to the configured database.
    pub async fn connect(&self) -> Result<(DatabaseUrl, Box<dyn Executor>), CliError> {
        let url = self.database_url()?;
        if self.verbosity == Verbosity::Verbose {
            eprintln!("Connecting to {}", url.redacted());
        }
        let exec = backend::connect(&url).await?;
        Ok((url, exec))
    }
}

/// Reads the version locations into a graph that is never freed (see [`Context::map`]).
fn load_map(
    locations: &[PathBuf],
    recursive: bool,
    contents: Contents,
) -> Result<&'static RevisionMap, CliError> {
    let dir = ScriptDirectory::load_with(locations, recursive, contents)?;
    Ok(Box::leak(Box::new(dir.into_map()?)))
}

/// Runs the command line in `cwd` with the process environment; the result for
/// [`crate::render::finish`].
pub async fn run(cli: Cli, cwd: &Path) -> Result<Output, CliError> {
    let verbose = cli.verbose || cli.command.stderr_verbose();
    if cli.quiet && verbose {
        return Err(CliError::Usage(
            "-q (no progress) and -v (more progress) contradict each other: give one".to_string(),
        ));
    }
    let json = cli.format == OutputFormat::Json;
    let verbosity = if cli.quiet || (json && !verbose) {
        // With --format json, stdout's document says everything; stderr stays quiet unless -v.
        Verbosity::Quiet
    } else if verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    match &cli.command {
        Command::Init(args) => {
            let lines = init::init(cwd, &args.directory, args.layout)?;
            #[derive(serde::Serialize)]
            struct Created<'l> {
                created: &'l [String],
            }
            let mut text = lines.join("\n");
            text.push('\n');
            return Output::new(text, &Created { created: &lines });
        }
        Command::Completions(args) => {
            let script =
                String::from_utf8_lossy(&crate::cli::completion_script(args.shell)).into_owned();
            #[derive(serde::Serialize)]
            struct Script<'s> {
                script: &'s str,
            }
            return Output::new(script.clone(), &Script { script: &script });
        }
        _ => {}
    }
    let flags = Flags {
        config_file: cli.config.clone(),
        url: cli.url.clone(),
        env: cli.env.clone(),
        env_file: cli.env_file.clone(),
    };
    let settings = crate::config::load(cwd, &flags, Vars::from_process())?;
    if json && !verbose {
        // The document names the database (`database`, `database_source`).
    } else if cli.command.changes_database() {
        // Said before anything connects, on every run that changes a database, -q or not:
        // the one line that shows a run is about to touch another database than intended.
        if settings.url.is_some() {
            eprintln!("{}", database_banner(&settings));
        }
    } else if let Some(line) = environment_banner(&settings) {
        eprintln!("{line}");
    }
    if verbosity == Verbosity::Verbose {
        for line in settings_report(&settings) {
            eprintln!("{line}");
        }
    }
    let ctx = Context {
        settings,
        verbosity,
        format: cli.format,
    };
    match cli.command {
        Command::Init(_) | Command::Completions(_) => Ok(Output::default()),
        Command::Revision(args) => revision::revision(&ctx, &args),
        Command::Merge(args) => revision::merge(&ctx, &args),
        Command::Upgrade(args) => {
            migrate::upgrade(&ctx, &args.revision, args.sql, args.resume).await
        }
        Command::Downgrade(args) => migrate::downgrade(&ctx, &args.revision, args.sql).await,
        Command::Stamp(args) => migrate::stamp(&ctx, &args.revisions, args.sql, args.purge).await,
        Command::Current(args) => listing::current(&ctx, args.verbose).await,
        Command::Heads(args) => listing::heads(&ctx, args.verbose, args.resolve_dependencies),
        Command::Branches(args) => listing::branches(&ctx, args.verbose),
        Command::History(args) if args.applied => listing::applied(&ctx).await,
        Command::History(args) => {
            listing::history(
                &ctx,
                args.rev_range.as_deref(),
                args.verbose,
                args.indicate_current,
            )
            .await
        }
        Command::Show(args) => listing::show(&ctx, &args.revision).await,
        Command::Check(args) => listing::check(&ctx, args.offline, args.single_head).await,
        Command::Repair(args) => migrate::repair(&ctx, args.applied, args.rolled_back).await,
        Command::Config => config::show(&ctx),
        Command::Lint(args) => lint::lint(&ctx, &args).await,
        Command::Verify(args) => verify::verify(&ctx, &args).await,
        Command::Dump(args) => dump::dump(&ctx, &args).await,
        Command::Drift(args) => verify::drift(&ctx, &args).await,
    }
}

/// The line naming the database (never the password) and where its URL came from, with the
/// named environment when one is active: `Database: PostgreSQL db:5432/app (from POSTGRES_*
/// variables (POSTGRES_HOST, POSTGRES_DB in .env))`, `Using environment 'test' (chosen by
/// TEST_ENV=true): SQLite file test.db (from url in [environments.test] of migrate.toml)`.
pub fn database_banner(settings: &Settings) -> String {
    let database = match &settings.url {
        Some(configured) => format!(
            "{} (from {})",
            describe_url(&configured.url),
            configured.source
        ),
        None => "no database URL configured".to_string(),
    };
    match &settings.environment {
        Some(env) => format!(
            "Using environment '{}' (chosen by {}): {database}",
            env.name, env.chosen_by
        ),
        None => format!("Database: {database}"),
    }
}

/// The first stderr line of every command when a named environment is active.
pub fn environment_banner(settings: &Settings) -> Option<String> {
    settings
        .environment
        .as_ref()
        .map(|_| database_banner(settings))
}

/// With `-v`: where the settings came from.
fn settings_report(settings: &Settings) -> Vec<String> {
    let mut lines = Vec::new();
    match &settings.config_file {
        Some(file) => lines.push(format!("Configuration: {}", file.display())),
        None => lines.push("Configuration: no file (environment and flags only)".to_string()),
    }
    if let Some(location) = &settings.script_location {
        lines.push(format!("Script location: {}", location.display()));
    }
    let locations: Vec<String> = settings
        .version_locations
        .iter()
        .map(|p: &PathBuf| p.display().to_string())
        .collect();
    if !locations.is_empty() {
        lines.push(format!("Version locations: {}", locations.join(", ")));
    }
    match &settings.url {
        Some(url) => lines.push(format!(
            "Database: {} (from {})",
            crate::url::redact(&url.url),
            url.source
        )),
        None => lines.push("Database: none configured".to_string()),
    }
    lines.extend(settings.notes.iter().map(|n| format!("Note: {n}")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ActiveEnvironment, ConfiguredUrl};
    use std::time::Duration;

    fn settings(url: Option<&str>, env: Option<&str>) -> Settings {
        Settings {
            config_file: None,
            script_location: Some("m".into()),
            version_locations: vec!["m/versions".into()],
            recursive_version_locations: false,
            url: url.map(|u| ConfiguredUrl {
                url: u.to_string(),
                source: "url in [environments.test] of migrate.toml".into(),
            }),
            url_problem: None,
            version_table: "alembic_version".into(),
            version_table_schema: None,
            transaction_per_migration: false,
            lock_timeout: Duration::from_secs(60),
            revision_format: None,
            file_template: None,
            truncate_slug_length: None,
            schema_dump: None,
            ddl_lock_timeout: None,
            statement_timeout: None,
            ddl_retries: 0,
            checksum_mismatch: Default::default(),
            history: true,
            environment: env.map(|name| ActiveEnvironment {
                name: name.into(),
                chosen_by: "TEST_ENV=true".into(),
            }),
            resolved: Vec::new(),
            notes: Vec::new(),
            lint: Default::default(),
        }
    }

    #[test]
    fn banner_names_environment_database_and_source_without_password() {
        let s = settings(
            Some("postgresql://app:hunter2@db:5433/shop_test?sslpassword=k3y"),
            Some("test"),
        );
        let line = environment_banner(&s).unwrap();
        assert_eq!(
            line,
            "Using environment 'test' (chosen by TEST_ENV=true): PostgreSQL db:5433/shop_test \
             (from url in [environments.test] of migrate.toml)"
        );
        assert!(!line.contains("hunter2") && !line.contains("k3y"));
        assert_eq!(database_banner(&s), line);
        let default = settings(Some("sqlite:///x.db"), None);
        assert_eq!(environment_banner(&default), None);
        assert_eq!(
            database_banner(&default),
            "Database: SQLite file x.db (from url in [environments.test] of migrate.toml)"
        );
    }

    #[test]
    fn settings_report_never_shows_the_password() {
        let s = settings(Some("mysql://root:hunter2@h/db?password=hunter3"), None);
        let text = settings_report(&s).join("\n");
        assert!(
            text.contains("mysql://root:***@h/db?password=***"),
            "{text}"
        );
        assert!(!text.contains("hunter2") && !text.contains("hunter3"));
    }
}
