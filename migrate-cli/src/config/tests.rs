//! Precedence, files and environments, each on a scratch folder.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vars {
    let process: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Vars::new(process, HashMap::new())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

fn load_in(dir: &Path, flags: &Flags, env: &[(&str, &str)]) -> Result<Settings, CliError> {
    load(dir, flags, vars(env))
}

fn url_of(s: &Settings) -> Option<String> {
    s.url.as_ref().map(|u| u.url.clone())
}

#[test]
fn migrate_toml_in_the_working_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migrate.toml",
        "script_location = \"migrations\"\nurl = \"sqlite:///app.db\"\nversion_table = \"versions\"\n\
         transaction_per_migration = true\nlock_timeout = 5\nrevision_format = \"py\"\n",
    );
    let s = load_in(dir.path(), &Flags::default(), &[]).unwrap();
    assert_eq!(s.script_location.as_deref(), Some(Path::new("migrations")));
    assert_eq!(
        s.version_locations,
        vec![PathBuf::from("migrations/versions")]
    );
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///app.db"));
    assert_eq!(s.version_table, "versions");
    assert!(s.transaction_per_migration);
    assert_eq!(s.lock_timeout, Duration::from_secs(5));
    assert_eq!(s.revision_format, Some(RevisionFormat::Python));
    assert_eq!(s.environment, None);
}

#[test]
fn defaults_apply_when_keys_are_absent() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", "script_location = \"m\"\n");
    let s = load_in(dir.path(), &Flags::default(), &[]).unwrap();
    assert_eq!(s.version_table, "alembic_version");
    assert_eq!(s.version_table_schema, None);
    assert!(!s.transaction_per_migration);
    assert!(!s.recursive_version_locations);
    assert_eq!(s.lock_timeout, Duration::from_secs(60));
    assert_eq!(s.revision_format, None);
    assert_eq!(s.url, None);
}

#[test]
fn unknown_toml_key_is_an_error_listing_known_keys() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", "script_locaton = \"m\"\n");
    let err = load_in(dir.path(), &Flags::default(), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("script_locaton") && err.contains("known keys"),
        "{err}"
    );
}

#[test]
fn migrate_variables_beat_files_and_flags_beat_everything() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migrate.toml",
        "script_location = \"m\"\nurl = \"sqlite:///file.db\"\nversion_table = \"from_file\"\n",
    );
    let s = load_in(dir.path(), &Flags::default(), &[]).unwrap();
    assert_eq!(s.url.as_ref().unwrap().source, "url in migrate.toml");

    let env = [
        ("MIGRATE_URL", "sqlite:///migrate_url.db"),
        ("MIGRATE_VERSION_TABLE", "from_env"),
        ("MIGRATE_SCRIPT_LOCATION", "other"),
        ("MIGRATE_TRANSACTION_PER_MIGRATION", "true"),
        ("MIGRATE_LOCK_TIMEOUT", "7"),
        ("MIGRATE_TEST_POSTGRES_URL", "postgres://not-a-setting"),
    ];
    let s = load_in(dir.path(), &Flags::default(), &env).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///migrate_url.db"));
    assert_eq!(
        s.url.as_ref().unwrap().source,
        "MIGRATE_URL in the environment"
    );
    assert_eq!(s.version_table, "from_env");
    assert_eq!(s.script_location.as_deref(), Some(Path::new("other")));
    assert!(s.transaction_per_migration);
    assert_eq!(s.lock_timeout, Duration::from_secs(7));

    let flags = Flags {
        url: Some("sqlite:///flag.db".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &env).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///flag.db"));
    assert_eq!(s.url.as_ref().unwrap().source, "--url");

    let flags = Flags {
        url: Some(" ".into()),
        ..Flags::default()
    };
    let err = load_in(dir.path(), &flags, &[]).unwrap_err().to_string();
    assert!(err.starts_with("--url is empty"), "{err}");
}

#[test]
fn database_url_is_used_when_no_file_names_a_url_or_when_both_agree() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", "script_location = \"m\"\n");
    let s = load_in(
        dir.path(),
        &Flags::default(),
        &[("DATABASE_URL", "sqlite:///dburl.db")],
    )
    .unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///dburl.db"));
    assert_eq!(
        s.url.as_ref().unwrap().source,
        "DATABASE_URL in the environment"
    );

    write(
        dir.path(),
        "migrate.toml",
        "script_location = \"m\"\nurl = \"postgresql+psycopg2://app@db/shop\"\n",
    );
    let s = load_in(
        dir.path(),
        &Flags::default(),
        &[("DATABASE_URL", "postgres://app@db/shop")],
    )
    .unwrap();
    assert_eq!(s.url.as_ref().unwrap().source, "url in migrate.toml");
    assert_eq!(
        s.notes,
        ["DATABASE_URL in the environment names the same database as url in migrate.toml"]
    );
}

#[test]
fn database_url_and_a_file_url_that_differ_are_an_error_naming_both() {
    // The case: an exported DATABASE_URL and an explicit sqlalchemy.url in the
    // alembic.ini given with -c.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "db/alembic.ini",
        "[alembic]\nscript_location = db\nsqlalchemy.url = postgresql://app:s3cret@prod-db/shop\n",
    );
    let flags = Flags {
        config_file: Some("db/alembic.ini".into()),
        ..Flags::default()
    };
    let env = [("DATABASE_URL", "postgresql://me:hunter2@localhost/scratch")];
    let s = load_in(dir.path(), &flags, &env).unwrap();
    assert_eq!(s.url, None);
    let err = s.require_url().unwrap_err().to_string();
    assert!(
        err.starts_with(
            "two database URLs are configured and they name different databases: \
             DATABASE_URL in the environment names PostgreSQL localhost:5432/scratch, and \
             sqlalchemy.url in [alembic] of db/alembic.ini names PostgreSQL prod-db:5432/shop; \
             migrate does not choose between two databases, so nothing was run."
        ),
        "{err}"
    );
    assert!(
        err.contains("--url") && err.contains("MIGRATE_URL"),
        "{err}"
    );
    assert!(!err.contains("s3cret") && !err.contains("hunter2"), "{err}");
    // Listings that need no database still work.
    assert!(s.require_script_location().is_ok());

    // An explicit choice settles it: --url, MIGRATE_URL or a named environment.
    let with_flag = Flags {
        url: Some("sqlite:///x.db".into()),
        ..flags.clone()
    };
    assert_eq!(
        url_of(&load_in(dir.path(), &with_flag, &env).unwrap()).as_deref(),
        Some("sqlite:///x.db")
    );
    let mut with_migrate_url = env.to_vec();
    with_migrate_url.push(("MIGRATE_URL", "sqlite:///m.db"));
    let s = load_in(dir.path(), &flags, &with_migrate_url).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///m.db"));
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("DATABASE_URL in the environment: set but not used")),
        "{:?}",
        s.notes
    );
}

#[test]
fn database_url_and_postgres_variables_that_differ_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", "script_location = \"m\"\n");
    write(
        dir.path(),
        ".env",
        "POSTGRES_HOST=db\nPOSTGRES_USER=app\nPOSTGRES_DB=shop\n",
    );
    let s = load_in(
        dir.path(),
        &Flags::default(),
        &[("DATABASE_URL", "postgresql://app@elsewhere/other")],
    )
    .unwrap();
    let err = s.require_url().unwrap_err().to_string();
    assert!(
        err.contains("DATABASE_URL in the environment names PostgreSQL elsewhere:5432/other")
            && err.contains(
                "POSTGRES_* variables (POSTGRES_HOST, POSTGRES_USER, POSTGRES_DB in .env) names PostgreSQL db:5432/shop"
            ),
        "{err}"
    );
}

#[test]
fn libpq_variables_never_beat_the_projects_postgres_variables() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", "script_location = \"m\"\n");
    write(
        dir.path(),
        ".env",
        "POSTGRES_HOST=db\nPOSTGRES_USER=app\nPOSTGRES_DB=shop\n",
    );
    let stray = [("PGHOST", "localhost"), ("PGDATABASE", "postgres")];
    let s = load_in(dir.path(), &Flags::default(), &stray).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("postgresql://app@db:5432/shop"));
    assert_eq!(
        s.notes,
        ["PG* variables (PGHOST, PGDATABASE in the environment): set but not used \
          (the URL comes from POSTGRES_* variables (POSTGRES_HOST, POSTGRES_USER, POSTGRES_DB in .env))"]
    );
    // Nor a file's URL.
    write(
        dir.path(),
        "migrate.toml",
        "script_location = \"m\"\nurl = \"sqlite:///app.db\"\n",
    );
    let s = load_in(dir.path(), &Flags::default(), &stray).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///app.db"));
    // Alone, they still build a URL (a shell set up for psql).
    fs::remove_file(dir.path().join(".env")).unwrap();
    write(dir.path(), "migrate.toml", "script_location = \"m\"\n");
    let s = load_in(
        dir.path(),
        &Flags::default(),
        &[("PGHOST", "pg"), ("PGUSER", "me")],
    )
    .unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("postgresql://me@pg:5432/me"));
    assert_eq!(
        s.url.unwrap().source,
        "PG* variables (PGHOST, PGUSER in the environment)"
    );
}

#[test]
fn alembic_init_placeholder_url_means_no_url() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "alembic.ini",
        "[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = driver://user:pass@localhost/dbname\n",
    );
    let s = load_in(dir.path(), &Flags::default(), &[]).unwrap();
    assert_eq!(s.url, None);
    let err = s.require_url().unwrap_err().to_string();
    assert!(
        err.starts_with(
            "no database URL is configured: sqlalchemy.url in [alembic] of alembic.ini is still \
             `alembic init`'s placeholder driver://user:pass@localhost/dbname"
        ),
        "{err}"
    );
    // Another source fills in, the placeholder noted.
    let s = load_in(
        dir.path(),
        &Flags::default(),
        &[("DATABASE_URL", "sqlite:///real.db")],
    )
    .unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///real.db"));
    assert!(s.notes[0].contains("placeholder"), "{:?}", s.notes);
}

#[test]
fn every_setting_reports_its_source() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "db/alembic.ini",
        "[alembic]\nscript_location = db\nfile_template = %%(year)d_%%(rev)s_%%(slug)s\ntruncate_slug_length = 20\n\
         [migrate]\nrevision_format = sql\n",
    );
    write(dir.path(), "db/migrate.toml", "lock_timeout = 5\n");
    write(dir.path(), ".env", "MIGRATE_VERSION_TABLE=vt\n");
    let flags = Flags {
        config_file: Some("db/alembic.ini".into()),
        url: Some("postgresql://app:pw@h/db?sslpassword=k".into()),
        ..Flags::default()
    };
    let s = load_in(
        dir.path(),
        &flags,
        &[("MIGRATE_TRANSACTION_PER_MIGRATION", "yes")],
    )
    .unwrap();
    assert_eq!(
        s.file_template.as_deref(),
        Some("%(year)d_%(rev)s_%(slug)s")
    );
    assert_eq!(s.truncate_slug_length, Some(20));
    let report: Vec<(&str, Option<&str>, &str)> = s
        .resolved
        .iter()
        .map(|r| (r.key, r.value.as_deref(), r.source.as_str()))
        .collect();
    let ini = dir.path().join("db/alembic.ini");
    let ini = ini.display().to_string();
    assert_eq!(
        report,
        [
            ("config_file", Some(ini.as_str()), "-c"),
            (
                "environment",
                None,
                "none chosen (--env, MIGRATE_ENV, TEST_ENV)"
            ),
            (
                "script_location",
                Some("db"),
                "script_location in [alembic] of db/alembic.ini"
            ),
            (
                "url",
                Some("postgresql://app:***@h/db?sslpassword=***"),
                "--url"
            ),
            (
                "version_locations",
                Some("db/versions"),
                "default: <script_location>/versions"
            ),
            ("recursive_version_locations", Some("false"), "default"),
            ("version_table", Some("vt"), "MIGRATE_VERSION_TABLE in .env"),
            ("version_table_schema", None, "not set"),
            (
                "transaction_per_migration",
                Some("true"),
                "MIGRATE_TRANSACTION_PER_MIGRATION in the environment"
            ),
            ("lock_timeout", Some("5"), "lock_timeout in db/migrate.toml"),
            (
                "revision_format",
                Some("sql"),
                "revision_format in [migrate] of db/alembic.ini"
            ),
            (
                "file_template",
                Some("%(year)d_%(rev)s_%(slug)s"),
                "file_template in [alembic] of db/alembic.ini"
            ),
            (
                "truncate_slug_length",
                Some("20"),
                "truncate_slug_length in [alembic] of db/alembic.ini"
            ),
            ("schema_dump", None, "not set"),
        ]
    );
}

#[test]
fn a_migrate_toml_beside_an_ini_may_not_hold_what_the_ini_owns() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "db/alembic.ini",
        "[alembic]\nscript_location = db\n",
    );
    write(
        dir.path(),
        "db/migrate.toml",
        "script_location = \"elsewhere\"\n",
    );
    let flags = Flags {
        config_file: Some("db/alembic.ini".into()),
        ..Flags::default()
    };
    let err = load_in(dir.path(), &flags, &[]).unwrap_err().to_string();
    assert!(
        err.starts_with("db/migrate.toml: `script_location` comes from the alembic.ini beside it"),
        "{err}"
    );
}

#[test]
fn values_interpolate_from_environment_then_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migrate.toml",
        "script_location = \"m\"\nurl = \"postgresql://${PGUSER_X:-app}:${PW}@${HOST}/db\"\n",
    );
    write(dir.path(), ".env", "PW=dotenv-pw\nHOST=dotenv-host\n");
    let s = load_in(dir.path(), &Flags::default(), &[("HOST", "process-host")]).unwrap();
    assert_eq!(
        url_of(&s).as_deref(),
        Some("postgresql://app:dotenv-pw@process-host/db")
    );
}

#[test]
fn env_file_flag_names_another_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", "script_location = \"m\"\n");
    write(
        dir.path(),
        ".env",
        "DATABASE_URL=sqlite:///default-env.db\n",
    );
    write(dir.path(), "ci.env", "DATABASE_URL=sqlite:///ci.db\n");
    let s = load_in(dir.path(), &Flags::default(), &[]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///default-env.db"));
    let flags = Flags {
        env_file: Some("ci.env".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &[]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///ci.db"));
    let flags = Flags {
        env_file: Some("missing.env".into()),
        ..Flags::default()
    };
    let err = load_in(dir.path(), &flags, &[]).unwrap_err().to_string();
    assert!(err.contains("missing.env"), "{err}");
}

const TOML_WITH_TEST: &str = "\
script_location = \"m\"
url = \"sqlite:///prod.db\"

[environments.test]
url = \"sqlite:///test.db\"
version_table = \"test_versions\"

[environments.staging]
url = \"sqlite:///staging.db\"
";

#[test]
fn named_environment_is_chosen_by_flag_then_migrate_env_then_test_env() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", TOML_WITH_TEST);
    let s = load_in(dir.path(), &Flags::default(), &[("TEST_ENV", "true")]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///test.db"));
    assert_eq!(s.version_table, "test_versions");
    assert_eq!(
        s.environment,
        Some(ActiveEnvironment {
            name: "test".into(),
            chosen_by: "TEST_ENV=true".into()
        })
    );

    let s = load_in(
        dir.path(),
        &Flags::default(),
        &[("TEST_ENV", "true"), ("MIGRATE_ENV", "staging")],
    )
    .unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///staging.db"));

    let flags = Flags {
        env: Some("test".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &[("MIGRATE_ENV", "staging")]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///test.db"));
    assert_eq!(s.environment.unwrap().chosen_by, "--env");

    let s = load_in(dir.path(), &Flags::default(), &[("TEST_ENV", "false")]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///prod.db"));
}

#[test]
fn environment_block_beats_database_url_but_not_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrate.toml", TOML_WITH_TEST);
    let env = [
        ("TEST_ENV", "true"),
        ("DATABASE_URL", "sqlite:///prod-from-env.db"),
    ];
    let s = load_in(dir.path(), &Flags::default(), &env).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///test.db"));
    let flags = Flags {
        url: Some("sqlite:///flag.db".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &env).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///flag.db"));
}

#[test]
fn test_env_without_a_test_environment_fails_and_says_how_to_define_one() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migrate.toml",
        "script_location = \"m\"\nurl = \"sqlite:///prod.db\"\n",
    );
    let err = load_in(dir.path(), &Flags::default(), &[("TEST_ENV", "true")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("environment `test` (chosen by TEST_ENV=true) is not defined"),
        "{err}"
    );
    assert!(err.contains("[environments.test]"), "{err}");
    assert!(err.contains("nothing was run"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
}

#[test]
fn environments_are_interpolated_only_when_chosen() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migrate.toml",
        "script_location = \"m\"\nurl = \"sqlite:///prod.db\"\n[environments.test]\nurl = \"${UNSET_TEST_URL}\"\n",
    );
    assert!(load_in(dir.path(), &Flags::default(), &[]).is_ok());
    let err = load_in(dir.path(), &Flags::default(), &[("TEST_ENV", "true")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("${UNSET_TEST_URL}"), "{err}");
}

const SEED_INI: &str = "\
[alembic]
script_location = infrastructure/migrations
prepend_sys_path = .
path_separator = os
sqlalchemy.url =

[loggers]
keys = root,sqlalchemy,alembic
";

#[test]
fn alembic_ini_script_location_is_relative_to_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "infrastructure/migrations/alembic.ini",
        SEED_INI,
    );
    let flags = Flags {
        config_file: Some("infrastructure/migrations/alembic.ini".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &[]).unwrap();
    assert_eq!(
        s.script_location.as_deref(),
        Some(Path::new("infrastructure/migrations"))
    );
    assert_eq!(
        s.version_locations,
        vec![PathBuf::from("infrastructure/migrations/versions")]
    );
    // An empty sqlalchemy.url is "not given".
    assert_eq!(s.url, None);
}

#[test]
fn seed_layout_takes_its_url_from_postgres_variables_in_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "infrastructure/migrations/alembic.ini",
        SEED_INI,
    );
    write(
        dir.path(),
        ".env",
        "POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT=5432\nPOSTGRES_USER=postgres\nPOSTGRES_PASSWORD=pw\nPOSTGRES_DB=app\n",
    );
    let flags = Flags {
        config_file: Some("infrastructure/migrations/alembic.ini".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &[]).unwrap();
    assert_eq!(
        url_of(&s).as_deref(),
        Some("postgresql://postgres:pw@127.0.0.1:5432/app")
    );
    assert_eq!(
        s.url.unwrap().source,
        "POSTGRES_* variables (POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB in .env)"
    );

    // A stray libpq variable does not move the run (it did before issue 13).
    let s = load_in(
        dir.path(),
        &flags,
        &[("PGHOST", "pg"), ("PGDATABASE", "other"), ("PGUSER", "me")],
    )
    .unwrap();
    assert_eq!(
        url_of(&s).as_deref(),
        Some("postgresql://postgres:pw@127.0.0.1:5432/app")
    );

    // TEST_ENV with a test environment written once in migrate.toml at the project root.
    write(
        dir.path(),
        "migrate.toml",
        "[environments.test]\nurl = \"postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@${POSTGRES_HOST}:${POSTGRES_PORT}/${POSTGRES_DB}_test\"\n",
    );
    let s = load_in(dir.path(), &flags, &[("TEST_ENV", "true")]).unwrap();
    assert_eq!(
        url_of(&s).as_deref(),
        Some("postgresql://postgres:pw@127.0.0.1:5432/app_test")
    );
    assert_eq!(
        s.script_location.as_deref(),
        Some(Path::new("infrastructure/migrations"))
    );
}

#[test]
fn migrate_toml_beside_the_ini_wins_over_the_working_directorys() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "db/alembic.ini",
        "[alembic]\nscript_location = db\nsqlalchemy.url = sqlite:///ini.db\n",
    );
    write(dir.path(), "migrate.toml", "url = \"sqlite:///root.db\"\n");
    let flags = Flags {
        config_file: Some("db/alembic.ini".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &[]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///root.db"));
    write(
        dir.path(),
        "db/migrate.toml",
        "url = \"sqlite:///beside.db\"\n",
    );
    let s = load_in(dir.path(), &flags, &[]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///beside.db"));
    // The ini keeps its script_location.
    assert_eq!(s.script_location.as_deref(), Some(Path::new("db")));
}

#[test]
fn alembic_ini_here_separators_and_migrate_sections() {
    let dir = tempfile::tempdir().unwrap();
    let ini = "\
[alembic]
script_location = %(here)s/scripts
version_locations = %(here)s/a;%(here)s/b
path_separator = ;
recursive_version_locations = true
sqlalchemy.url = sqlite:///ini.db
version_table = vt

[migrate]
url = sqlite:///migrate-section.db

[migrate:test]
url = sqlite:///ini-test.db
";
    write(dir.path(), "proj/alembic.ini", ini);
    let flags = Flags {
        config_file: Some("proj/alembic.ini".into()),
        ..Flags::default()
    };
    let here = dir.path().join("proj").canonicalize().unwrap();
    let s = load_in(dir.path(), &flags, &[]).unwrap();
    assert_eq!(s.script_location, Some(here.join("scripts")));
    assert_eq!(s.version_locations, vec![here.join("a"), here.join("b")]);
    assert!(s.recursive_version_locations);
    assert_eq!(s.version_table, "vt");
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///migrate-section.db"));
    let s = load_in(dir.path(), &flags, &[("TEST_ENV", "TRUE")]).unwrap();
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///ini-test.db"));
    assert_eq!(
        s.url.unwrap().source,
        format!("url in [migrate:test] of proj/alembic.ini")
    );
}

#[test]
fn version_locations_split_as_alembic_splits_them() {
    let path = Path::new("a.ini");
    assert_eq!(
        split_locations("a b  c", Some(("path_separator", "space".into())), path).unwrap(),
        ["a", "b", "c"]
    );
    assert_eq!(
        split_locations("\na\nb", Some(("path_separator", "newline".into())), path).unwrap(),
        ["a", "b"]
    );
    assert_eq!(
        split_locations("a:b", Some(("path_separator", "os".into())), path).unwrap(),
        ["a", "b"]
    );
    assert_eq!(
        split_locations("a:b", Some(("version_path_separator", ":".into())), path).unwrap(),
        ["a", "b"]
    );
    // Legacy: no separator configured splits on commas and spaces.
    assert_eq!(
        split_locations("a, b c", None, path).unwrap(),
        ["a", "b", "c"]
    );
    let err = split_locations("a", Some(("path_separator", "comma".into())), path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'comma' is not a valid value for path_separator"),
        "{err}"
    );
}

#[test]
fn alembic_ini_in_the_working_directory_is_used_when_there_is_no_migrate_toml() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "alembic.ini",
        "[alembic]\nscript_location = alembic\nsqlalchemy.url = sqlite:///a.db\n",
    );
    let s = load_in(dir.path(), &Flags::default(), &[]).unwrap();
    assert_eq!(s.script_location.as_deref(), Some(Path::new("alembic")));
    assert_eq!(url_of(&s).as_deref(), Some("sqlite:///a.db"));
}

#[test]
fn missing_config_file_and_missing_script_location_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let flags = Flags {
        config_file: Some("nope.ini".into()),
        ..Flags::default()
    };
    let err = load_in(dir.path(), &flags, &[]).unwrap_err().to_string();
    assert!(
        err.contains("nope.ini") && err.contains("not found"),
        "{err}"
    );
    let s = load_in(dir.path(), &Flags::default(), &[]).unwrap();
    let err = s.require_script_location().unwrap_err().to_string();
    assert!(
        err.starts_with("No 'script_location' key found in configuration."),
        "{err}"
    );
    let err = s.require_url().unwrap_err().to_string();
    assert!(err.contains("DATABASE_URL"), "{err}");
}

#[test]
fn toml_paths_are_relative_to_the_toml_folder() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "conf/migrate.toml",
        "script_location = \"migrations\"\n",
    );
    let flags = Flags {
        config_file: Some("conf/migrate.toml".into()),
        ..Flags::default()
    };
    let s = load_in(dir.path(), &flags, &[]).unwrap();
    assert_eq!(
        s.script_location.as_deref(),
        Some(Path::new("conf/migrations"))
    );
}
