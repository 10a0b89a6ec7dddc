//! Issue 13 item 3 and the configuration items: every run that changes a database first names
//! it and where its URL came from; ambient variables (`PGHOST`, `PGDATABASE`, an exported
//! `DATABASE_URL`) never silently move a run to another database than the project's files
//! name; `migrate config` shows every setting's source; `TEST_ENV`, Alembic's placeholder URL,
//! libpq's URL forms, global flags after the command and shell completions.

mod common;

use common::{fixture, server_url, Backend, Project, Run, TestDb, POSTGRES_VAR};

const INI: &str = "infrastructure/migrations/alembic.ini";
const HEAD: &str = "8c2b4e6f1a90";

/// HOST, PORT, USER, PASSWORD of a server URL.
fn server_parts(url: &str) -> (String, String, String, String) {
    let rest = url.split_once("://").expect("a URL").1;
    let (userinfo, hostpath) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let hostport = hostpath.split(['/', '?']).next().unwrap_or(hostpath);
    let default_port = if url.starts_with("mysql") {
        "3306"
    } else {
        "5432"
    };
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, default_port));
    (host.into(), port.into(), user.into(), password.into())
}

/// How the banner names a test database.
fn described(db: &TestDb) -> String {
    match db.backend {
        Backend::Sqlite => format!(
            "SQLite file {}",
            db.sqlite_path().expect("a SQLite file").display()
        ),
        Backend::Postgres | Backend::Mysql => {
            let (host, port, _, _) = server_parts(&db.url);
            let kind = if db.backend == Backend::Postgres {
                "PostgreSQL"
            } else {
                "MySQL"
            };
            format!("{kind} {host}:{port}/{}", db.name.as_deref().unwrap_or(""))
        }
    }
}

fn first_line(run: &Run) -> &str {
    run.stderr.lines().next().unwrap_or_default()
}

/// `upgrade`, `downgrade` and `stamp` name the database first, with `-q` too and when the
/// URL comes from the default environment; `--sql` and listings do not.
fn database_named_before_every_change(db: TestDb) {
    let p = Project::example(&db.url);
    let banner = format!("Database: {} (from url in migrate.toml)", described(&db));
    for args in [
        &["upgrade", "head"][..],
        &["downgrade", "base"],
        &["stamp", "head"],
        &["stamp", "base", "--purge"],
    ] {
        let run = p.migrate(args);
        run.ok();
        assert_eq!(
            first_line(&run),
            banner,
            "{}: {}",
            args.join(" "),
            run.stderr
        );
    }
    // -q after the command: a flag, not a target; progress silenced, the banner kept.
    let run = p.migrate(&["upgrade", "-q"]);
    run.ok();
    assert_eq!(run.stderr, format!("{banner}\n"));
    assert_eq!(db.versions(), Some(vec![HEAD.to_string()]));
    // --verbose after the command: the statements too.
    let run = p.migrate(&["downgrade", "base", "--verbose"]);
    run.ok();
    assert_eq!(first_line(&run), banner);
    assert!(run.stderr.contains("Connecting to "), "{}", run.stderr);
    assert_eq!(db.versions(), Some(vec![]));
    // Nothing to announce when nothing is changed.
    let run = p.migrate(&["upgrade", "head", "--sql"]);
    assert!(run.ok().contains("CREATE TABLE"));
    assert_eq!(run.stderr, "");
    let run = p.migrate(&["current"]);
    run.ok();
    assert!(!run.stderr.contains("Database:"), "{}", run.stderr);
}

per_backend!(database_named_before_every_change);

/// The README's `.env` walkthrough (the seed layout: `alembic.ini` with an empty
/// `sqlalchemy.url`, `.env` holding `POSTGRES_*`) run with stray variables in the shell:
/// `PGHOST`/`PGDATABASE`/`PGUSER` still migrate the database `.env` names; a `DATABASE_URL`
/// naming another database fails loudly and changes nothing anywhere.
#[test]
fn readme_env_walkthrough_ignores_stray_libpq_variables_and_refuses_a_stray_database_url() {
    let Some(server) = server_url(POSTGRES_VAR) else {
        return;
    };
    let Some(app) = TestDb::postgres() else {
        return;
    };
    let Some(stray) = TestDb::postgres() else {
        return;
    };
    let (host, port, user, password) = server_parts(&server);
    let app_name = app.name.clone().unwrap_or_default();
    let stray_name = stray.name.clone().unwrap_or_default();
    let p = Project::empty();
    p.copy(&fixture("seed_project"), ".");
    p.write(
        ".env",
        &format!(
            "POSTGRES_HOST={host}\nPOSTGRES_PORT={port}\nPOSTGRES_USER={user}\nPOSTGRES_PASSWORD={password}\nPOSTGRES_DB={app_name}\n"
        ),
    );
    // A shell set up for psql against the other database.
    let libpq = [
        ("PGHOST", host.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", user.as_str()),
        ("PGDATABASE", stray_name.as_str()),
    ];
    let run = p.migrate_env(&["-c", INI, "upgrade", "head"], &libpq);
    run.ok();
    assert!(
        first_line(&run).starts_with(&format!(
            "Database: PostgreSQL {host}:{port}/{app_name} (from POSTGRES_* variables ("
        )) && first_line(&run).ends_with(" in .env))"),
        "{}",
        run.stderr
    );
    assert_eq!(app.versions(), Some(vec![HEAD.to_string()]));
    assert!(
        stray.tables().is_empty(),
        "the PGDATABASE database is untouched"
    );
    // `-v` says the libpq variables were not used.
    let run = p.migrate_env(&["-c", INI, "-v", "current"], &libpq);
    run.ok();
    assert!(
        run.stderr.contains("Note: PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE in the environment): set but not used"),
        "{}",
        run.stderr
    );

    // A stray DATABASE_URL: refused, naming both, before anything connects.
    let app_schema = app.schema();
    let run = p.migrate_env(
        &["-c", INI, "downgrade", "base"],
        &[("DATABASE_URL", stray.url.as_str())],
    );
    let message = run.failed();
    assert!(
        message.starts_with(&format!(
            "two database URLs are configured and they name different databases: DATABASE_URL in the environment names \
             PostgreSQL {host}:{port}/{stray_name}, and POSTGRES_* variables"
        )) && message.contains(&format!("names PostgreSQL {host}:{port}/{app_name}"))
            && message.contains("nothing was run"),
        "{message}"
    );
    assert!(!run.stderr.contains("Database:"), "{}", run.stderr);
    assert_eq!(app.schema(), app_schema, "the .env database is unchanged");
    assert_eq!(app.versions(), Some(vec![HEAD.to_string()]));
    assert!(
        stray.tables().is_empty(),
        "the DATABASE_URL database is untouched"
    );
    // --url settles it.
    p.migrate_env(
        &["-c", INI, "--url", &stray.url, "stamp", "head"],
        &[("DATABASE_URL", app.url.as_str())],
    )
    .ok();
    assert_eq!(stray.versions(), Some(vec![HEAD.to_string()]));
}

/// An exported `DATABASE_URL` does not silently beat the explicit `sqlalchemy.url` of the
/// `alembic.ini` given with `-c` (it used to); `MIGRATE_URL` and `--url` are the overrides.
#[test]
fn database_url_never_silently_beats_the_ini_given_with_c() {
    let p = Project::empty();
    p.copy(
        &common::repo_root().join("migrations/versions"),
        "db/versions",
    );
    p.write(
        "db/alembic.ini",
        "[alembic]\nscript_location = db\nsqlalchemy.url = sqlite:///app.db\n",
    );
    let env = [("DATABASE_URL", "sqlite:///other.db")];
    let message = p
        .migrate_env(&["-c", "db/alembic.ini", "upgrade", "head"], &env)
        .failed();
    assert_eq!(
        message,
        "two database URLs are configured and they name different databases: DATABASE_URL in the environment names \
         SQLite file other.db, and sqlalchemy.url in [alembic] of db/alembic.ini names SQLite file app.db; migrate \
         does not choose between two databases, so nothing was run. Pass --url, set MIGRATE_URL (which beats the \
         files), select a named environment with --env, or unset DATABASE_URL or remove the other URL so that one remains"
    );
    assert!(!p.path().join("app.db").exists() && !p.path().join("other.db").exists());
    // The same URL twice is no conflict.
    let run = p.migrate_env(
        &["-c", "db/alembic.ini", "upgrade", "head"],
        &[("DATABASE_URL", "sqlite:///app.db")],
    );
    run.ok();
    assert_eq!(
        first_line(&run),
        "Database: SQLite file app.db (from sqlalchemy.url in [alembic] of db/alembic.ini)"
    );
    let app_bytes = std::fs::read(p.path().join("app.db")).unwrap();
    // MIGRATE_URL is migrate's own, explicit: it decides.
    let mut with_override = env.to_vec();
    with_override.push(("MIGRATE_URL", "sqlite:///other.db"));
    let run = p.migrate_env(&["-c", "db/alembic.ini", "upgrade", "head"], &with_override);
    run.ok();
    assert_eq!(
        first_line(&run),
        "Database: SQLite file other.db (from MIGRATE_URL in the environment)"
    );
    assert_eq!(std::fs::read(p.path().join("app.db")).unwrap(), app_bytes);
}

#[test]
fn config_command_shows_every_setting_and_its_source() {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        "script_location = \"migrations\"\nurl = \"postgresql://app:hunter2@db/shop?sslpassword=k3y\"\nlock_timeout = 5\n\
         [environments.test]\nurl = \"sqlite:///test.db\"\n",
    );
    p.write(".env", "MIGRATE_VERSION_TABLE=versions\n");
    let run = p.migrate_env(&["config"], &[("PGHOST", "elsewhere")]);
    assert_eq!(
        run.ok(),
        "\
config_file                 = migrate.toml  (found in the working directory)
environment                 = (not set)  (none chosen (--env, MIGRATE_ENV, TEST_ENV))
script_location             = migrations  (script_location in migrate.toml)
url                         = postgresql://app:***@db/shop?sslpassword=***  (url in migrate.toml)
version_locations           = migrations/versions  (default: <script_location>/versions)
recursive_version_locations = false  (default)
version_table               = versions  (MIGRATE_VERSION_TABLE in .env)
version_table_schema        = (not set)  (not set)
transaction_per_migration   = false  (default)
lock_timeout                = 5  (lock_timeout in migrate.toml)
revision_format             = (not set)  (not set)
file_template               = (not set)  (not set)
truncate_slug_length        = (not set)  (not set)
schema_dump                 = (not set)  (not set)
note: PG* variables (PGHOST in the environment): set but not used (the URL comes from url in migrate.toml)
"
        .replace("config_file                 = migrate.toml", &format!(
            "config_file                 = {}",
            p.path().join("migrate.toml").display()
        ))
    );
    assert!(!run.stdout.contains("hunter2") && !run.stdout.contains("k3y"));
    // Global flags after the command; the environment's source.
    let out = p.migrate(&["config", "--env", "test"]).ok().to_string();
    assert!(
        out.contains("environment                 = test  (chosen by --env)\n")
            && out.contains("url                         = sqlite:///test.db  (url in [environments.test] of migrate.toml)\n"),
        "{out}"
    );
}

#[test]
fn test_env_is_true_or_false_and_anything_else_is_refused() {
    let p = Project::example("sqlite:///prod.db");
    let toml = p.read("migrate.toml") + "[environments.test]\nurl = \"sqlite:///test.db\"\n";
    p.write("migrate.toml", &toml);
    for unclear in ["1", "yes", "on"] {
        let message = p
            .migrate_env(&["upgrade", "head"], &[("TEST_ENV", unclear)])
            .failed();
        assert!(
            message.starts_with(&format!(
                "TEST_ENV in the environment is set to `{unclear}`"
            )),
            "{message}"
        );
        assert!(!p.path().join("prod.db").exists() && !p.path().join("test.db").exists());
    }
    let run = p.migrate_env(&["upgrade", "head"], &[("TEST_ENV", "TRUE")]);
    run.ok();
    assert_eq!(
        first_line(&run),
        "Using environment 'test' (chosen by TEST_ENV=true): SQLite file test.db (from url in [environments.test] of migrate.toml)"
    );
    for off in ["false", "0", ""] {
        let run = p.migrate_env(&["stamp", "base"], &[("TEST_ENV", off)]);
        run.ok();
        assert_eq!(
            first_line(&run),
            "Database: SQLite file prod.db (from url in migrate.toml)"
        );
    }
}

#[test]
fn alembic_init_placeholder_url_is_no_url() {
    // `alembic init` writes this sqlalchemy.url for the user to replace.
    let p = Project::empty();
    p.copy(
        &common::repo_root().join("migrations/versions"),
        "alembic/versions",
    );
    p.write(
        "alembic.ini",
        "[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = driver://user:pass@localhost/dbname\n",
    );
    let message = p.migrate(&["upgrade", "head"]).failed();
    assert!(
        message.starts_with(
            "no database URL is configured: sqlalchemy.url in [alembic] of alembic.ini is still `alembic init`'s placeholder"
        ),
        "{message}"
    );
    assert_eq!(p.migrate(&["heads"]).ok(), format!("{HEAD} (head)\n"));
    let run = p.migrate_env(
        &["upgrade", "head"],
        &[("DATABASE_URL", "sqlite:///real.db")],
    );
    run.ok();
    assert!(p.path().join("real.db").is_file());
}

/// libpq's own URL forms reach the CLI's URL parsing: the Unix-socket form with an empty host
/// migrates through the socket; `options=-csearch_path%3D...` is accepted (here offline).
#[test]
fn libpq_socket_and_options_urls_are_accepted() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let (_, port, user, _) = server_parts(&db.url);
    let socket_dir = "/var/run/postgresql";
    if !std::path::Path::new(&format!("{socket_dir}/.s.PGSQL.{port}")).exists() {
        assert!(
            !common::require_all(),
            "no PostgreSQL socket in {socket_dir}, and MIGRATE_TEST_REQUIRE_ALL=1 requires this test"
        );
        eprintln!("skipped: no PostgreSQL socket in {socket_dir}");
        return;
    }
    let name = db.name.clone().unwrap_or_default();
    let socket_url = format!("postgresql://{user}@/{name}?host={socket_dir}&port={port}");
    let p = Project::example("sqlite:///unused.db");
    let run = p.migrate(&["--url", &socket_url, "upgrade", "head"]);
    run.ok();
    assert_eq!(
        first_line(&run),
        format!("Database: PostgreSQL {socket_dir}:{port}/{name} (from --url)")
    );
    assert_eq!(db.versions(), Some(vec![HEAD.to_string()]));
    let options_url = format!("{}?options=-csearch_path%3Dtenant_a%2Cpublic", db.url);
    let script = p.migrate(&["--url", &options_url, "upgrade", "head", "--sql"]);
    assert!(
        script.ok().contains("CREATE TABLE tenants"),
        "{}",
        script.stdout
    );
}

#[test]
fn flags_after_the_command_and_their_limits() {
    let db = TestDb::sqlite();
    let p = Project::example("sqlite:///unused.db");
    // Every global option after the command.
    p.migrate(&["upgrade", "head", "--url", &db.url, "-q"]).ok();
    assert_eq!(db.versions(), Some(vec![HEAD.to_string()]));
    // After a listing command, -v is its own verbose listing, as in Alembic.
    let out = p
        .migrate(&["history", "-v", "--url", &db.url])
        .ok()
        .to_string();
    assert!(out.starts_with(&format!("Rev: {HEAD} (head)\n")), "{out}");
    // -q and -v together contradict each other.
    let message = p
        .migrate(&["upgrade", "-q", "-v", "--url", &db.url])
        .failed();
    assert!(
        message.contains("-q") && message.contains("-v"),
        "{message}"
    );
}

#[test]
fn shell_completions_cover_the_commands() {
    let p = Project::empty();
    for (shell, marker) in [
        ("bash", "complete -F _migrate"),
        ("zsh", "#compdef migrate"),
        ("fish", "complete -c migrate"),
    ] {
        let out = p.migrate(&["completions", shell]).ok().to_string();
        assert!(out.contains(marker), "{shell}: {out}");
        for word in [
            "upgrade",
            "downgrade",
            "revision",
            "completions",
            "env-file",
        ] {
            assert!(out.contains(word), "{shell} completes {word}");
        }
    }
    let run = p.migrate(&["completions", "cmd.exe"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("bash") && run.stderr.contains("zsh"),
        "{}",
        run.stderr
    );
}
