//! Which configuration wins when several sources name the same setting: `alembic.ini` (its
//! `[alembic]` and `[migrate]` sections) against `migrate.toml` (the working directory's and
//! the one beside the ini), the environment (`DATABASE_URL`, `MIGRATE_URL`, `.env`) against
//! `alembic.ini`'s URL, named environments from both files, and `--url`. These tests pin the
//! rules of issue 13 (README, "Configuration"): every change to them is a deliberate one, made
//! here.
//!
//! Each source names a SQLite database of its own; `stamp head` writes the version row into
//! the one that won, and nothing into the others.

mod common;

use common::{Project, TestDb};

/// A project whose sources each name a database of their own.
struct Sources {
    p: Project,
    dbs: Vec<(&'static str, TestDb)>,
}

impl Sources {
    /// The example migrations in `migrations/`, and one SQLite database per name in `names`.
    fn new(names: &[&'static str]) -> Sources {
        let p = Project::empty();
        p.copy(&common::repo_root().join("migrations"), "migrations");
        let dbs = names.iter().map(|n| (*n, TestDb::sqlite())).collect();
        Sources { p, dbs }
    }

    /// The URL of the database that `name` names.
    fn url(&self, name: &str) -> &str {
        &self
            .dbs
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no source {name}"))
            .1
            .url
    }

    /// `stamp head` with `args` before it and `env` set; the names of the databases that got
    /// the version row (the winner, alone, when the run uses one database).
    #[track_caller]
    fn stamped_by(&self, args: &[&str], env: &[(&str, &str)]) -> Vec<&'static str> {
        let mut all = args.to_vec();
        all.extend(["stamp", "head"]);
        self.p.migrate_env(&all, env).ok();
        let won: Vec<&'static str> = self
            .dbs
            .iter()
            .filter(|(_, db)| db.versions().is_some_and(|v| !v.is_empty()))
            .map(|(n, _)| *n)
            .collect();
        // Undo, so that the next run starts clean.
        for (_, db) in &self.dbs {
            if db.versions().is_some() {
                db.query("DELETE FROM alembic_version");
            }
        }
        won
    }

    /// `stamp head` with `args` and `env` must fail and stamp no database; its message.
    #[track_caller]
    fn refused_by(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut all = args.to_vec();
        all.extend(["stamp", "head"]);
        let message = self.p.migrate_env(&all, env).failed();
        for (name, db) in &self.dbs {
            assert!(
                db.versions().unwrap_or_default().is_empty(),
                "{name} was stamped"
            );
        }
        message
    }
}

/// An `alembic.ini` at `path` reading `migrations/` and naming `url` (and `extra` lines).
fn alembic_ini(url: &str, extra: &str) -> String {
    format!("[alembic]\nscript_location = migrations\nsqlalchemy.url = {url}\n{extra}")
}

#[test]
fn with_c_alembic_ini_the_working_directorys_migrate_toml_url_wins() {
    let s = Sources::new(&["ini", "ini_migrate", "toml"]);
    s.p.write("alembic.ini", &alembic_ini(s.url("ini"), ""));
    assert_eq!(s.stamped_by(&["-c", "alembic.ini"], &[]), ["ini"]);

    s.p.write(
        "alembic.ini",
        &alembic_ini(
            s.url("ini"),
            &format!("\n[migrate]\nurl = {}\n", s.url("ini_migrate")),
        ),
    );
    assert_eq!(
        s.stamped_by(&["-c", "alembic.ini"], &[]),
        ["ini_migrate"],
        "[migrate] beats [alembic]"
    );

    s.p.write("migrate.toml", &format!("url = \"{}\"\n", s.url("toml")));
    assert_eq!(
        s.stamped_by(&["-c", "alembic.ini"], &[]),
        ["toml"],
        "migrate.toml beats alembic.ini"
    );
}

#[test]
fn beside_the_ini_a_migrate_toml_beats_the_working_directorys() {
    let s = Sources::new(&["ini", "toml_cwd", "toml_beside"]);
    s.p.write(
        "config/alembic.ini",
        &alembic_ini(s.url("ini"), "").replace(
            "script_location = migrations",
            "script_location = %(here)s/../migrations",
        ),
    );
    s.p.write(
        "migrate.toml",
        &format!("url = \"{}\"\n", s.url("toml_cwd")),
    );
    assert_eq!(
        s.stamped_by(&["-c", "config/alembic.ini"], &[]),
        ["toml_cwd"]
    );
    s.p.write(
        "config/migrate.toml",
        &format!("url = \"{}\"\n", s.url("toml_beside")),
    );
    assert_eq!(
        s.stamped_by(&["-c", "config/alembic.ini"], &[]),
        ["toml_beside"]
    );
}

/// `--url` and `MIGRATE_URL` are explicit and beat the files. `DATABASE_URL`, which a shell or
/// a container often holds for something else, is used only when the project names no
/// database or names the same one: naming another is an error that touches no database.
#[test]
fn explicit_sources_beat_the_files_and_a_differing_database_url_is_refused() {
    let s = Sources::new(&[
        "ini",
        "toml",
        "database_url",
        "migrate_url",
        "dotenv",
        "flag",
    ]);
    s.p.write("alembic.ini", &alembic_ini(s.url("ini"), ""));
    let ini = ["-c", "alembic.ini"];
    let database_url = [("DATABASE_URL", s.url("database_url"))];
    let message = s.refused_by(&ini, &database_url);
    assert!(
        message.contains("two database URLs are configured and they name different databases: DATABASE_URL in the environment names SQLite file"),
        "{message}"
    );
    // The same DATABASE_URL as the ini's is no conflict.
    assert_eq!(
        s.stamped_by(&ini, &[("DATABASE_URL", s.url("ini"))]),
        ["ini"]
    );

    // From a .env in the working directory, the same.
    s.p.write(".env", &format!("DATABASE_URL={}\n", s.url("dotenv")));
    let message = s.refused_by(&ini, &[]);
    assert!(message.contains("DATABASE_URL"), "{message}");
    std::fs::remove_file(s.p.path().join(".env")).unwrap();

    // MIGRATE_URL beats the files and DATABASE_URL.
    let both = [
        ("DATABASE_URL", s.url("database_url")),
        ("MIGRATE_URL", s.url("migrate_url")),
    ];
    assert_eq!(s.stamped_by(&ini, &both), ["migrate_url"]);

    // With a migrate.toml beside the ini, its url is the project's; --url beats everything.
    s.p.write("migrate.toml", &format!("url = \"{}\"\n", s.url("toml")));
    assert_eq!(s.stamped_by(&ini, &[]), ["toml"]);
    assert_eq!(
        s.stamped_by(&["-c", "alembic.ini", "--url", s.url("flag")], &both),
        ["flag"]
    );
}

#[test]
fn without_c_migrate_toml_is_read_and_alembic_ini_is_not() {
    let s = Sources::new(&["ini", "toml"]);
    s.p.write("alembic.ini", &alembic_ini(s.url("ini"), ""));
    assert_eq!(
        s.stamped_by(&[], &[]),
        ["ini"],
        "alone, the working directory's alembic.ini is read"
    );
    s.p.write(
        "migrate.toml",
        &format!(
            "script_location = \"migrations\"\nurl = \"{}\"\n",
            s.url("toml")
        ),
    );
    assert_eq!(s.stamped_by(&[], &[]), ["toml"]);
    // The ini's [migrate] section does not count either then.
    s.p.write(
        "alembic.ini",
        &alembic_ini(
            s.url("ini"),
            &format!("\n[migrate]\nurl = {}\n", s.url("ini")),
        ),
    );
    assert_eq!(s.stamped_by(&[], &[]), ["toml"]);
}

#[test]
fn a_named_environment_in_migrate_toml_beats_the_ini_and_the_environment() {
    let s = Sources::new(&["ini", "ini_test", "toml_test", "database_url"]);
    s.p.write(
        "alembic.ini",
        &alembic_ini(
            s.url("ini"),
            &format!("\n[migrate:test]\nurl = {}\n", s.url("ini_test")),
        ),
    );
    let ini = ["-c", "alembic.ini"];
    let test_env = [("TEST_ENV", "true")];
    assert_eq!(s.stamped_by(&ini, &test_env), ["ini_test"]);
    let with_database_url = [
        ("TEST_ENV", "true"),
        ("DATABASE_URL", s.url("database_url")),
    ];
    assert_eq!(
        s.stamped_by(&ini, &with_database_url),
        ["ini_test"],
        "choosing an environment is explicit: its URL beats DATABASE_URL"
    );
    s.p.write(
        "migrate.toml",
        &format!("[environments.test]\nurl = \"{}\"\n", s.url("toml_test")),
    );
    assert_eq!(s.stamped_by(&ini, &test_env), ["toml_test"]);
}

#[test]
fn beside_an_ini_migrate_toml_supplies_only_url_and_environments() {
    // The version table is the ini's: a migrate.toml beside it naming another is refused.
    let s = Sources::new(&["ini"]);
    s.p.write(
        "alembic.ini",
        &alembic_ini(s.url("ini"), "version_table = ini_versions\n"),
    );
    s.p.write("migrate.toml", "version_table = \"toml_versions\"\n");
    let message =
        s.p.migrate(&["-c", "alembic.ini", "stamp", "head"])
            .failed();
    assert!(
        message.contains("migrate.toml: `version_table` comes from the alembic.ini beside it"),
        "{message}"
    );
    let db = &s.dbs[0].1;
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    std::fs::remove_file(s.p.path().join("migrate.toml")).unwrap();
    s.p.migrate(&["-c", "alembic.ini", "stamp", "head"]).ok();
    assert!(
        db.tables().contains(&"ini_versions".to_string()),
        "{:?}",
        db.tables()
    );
    // ... while MIGRATE_VERSION_TABLE, from the environment, is read.
    s.p.migrate_env(
        &["-c", "alembic.ini", "stamp", "head"],
        &[("MIGRATE_VERSION_TABLE", "env_versions")],
    )
    .ok();
    assert!(
        db.tables().contains(&"env_versions".to_string()),
        "{:?}",
        db.tables()
    );
}
