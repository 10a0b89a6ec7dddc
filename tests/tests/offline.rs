//! Offline mode: the script `upgrade --sql` / `downgrade --sql` prints, fed to the database's
//! own client (`sqlite3`, `psql`, `mariadb`), leaves the same tables and version table as an
//! online run. A missing client skips the test with a message on stderr (a failure under
//! `MIGRATE_TEST_REQUIRE_ALL=1`; `.ci/run` installs the clients).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{fixture, output_within, program, Backend, Project, TestDb, PROCESS_LIMIT};

/// The database's own client, reading a script on stdin and stopping at the first error; `None`
/// after skipping when it is not installed.
fn client(db: &TestDb) -> Option<Command> {
    match db.backend {
        Backend::Sqlite => {
            let mut cmd = Command::new(program("sqlite3")?);
            cmd.args(["-bail"])
                .arg(db.sqlite_path().expect("a SQLite file"));
            Some(cmd)
        }
        Backend::Postgres => {
            let mut cmd = Command::new(program("psql")?);
            cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url]);
            Some(cmd)
        }
        Backend::Mysql => {
            // mysql://USER[:PASSWORD]@HOST[:PORT]/DB
            let rest = db.url.split_once("://").expect("a URL").1;
            let (userinfo, hostpath) = rest.rsplit_once('@').unwrap_or(("root", rest));
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let (hostport, database) = hostpath.split_once('/').expect("a database");
            let database = database.split('?').next().unwrap_or(database);
            let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
            let mut cmd = Command::new(program("mariadb")?);
            cmd.args(["--host", host, "--port", port, "--user", user]);
            if !password.is_empty() {
                cmd.arg(format!("--password={password}"));
            }
            cmd.arg(database);
            Some(cmd)
        }
    }
}

/// What the client made of a script: whether it ran it all, and what it said on stderr.
struct Fed {
    success: bool,
    stderr: String,
}

/// Feeds `script` to the client; `None` when the client is not installed (after skipping).
fn try_feed(db: &TestDb, script: &str) -> Option<Fed> {
    let mut cmd = client(db)?;
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {program}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("writing the script");
    let out = output_within(child, PROCESS_LIMIT, &program);
    Some(Fed {
        success: out.status.success(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Feeds `script` to the client and asserts that it ran all of it; `false` when the client
/// is not installed (after skipping).
fn feed(db: &TestDb, script: &str) -> bool {
    let Some(fed) = try_feed(db, script) else {
        return false;
    };
    assert!(
        fed.success,
        "the {:?} client refused the script:\n{}\n--- script\n{script}",
        db.backend, fed.stderr
    );
    true
}

/// The example migrations: `upgrade head --sql` and `downgrade 8c2b4e6f1a90:base --sql`.
fn example_offline_matches_online(online: TestDb) {
    let Some(offline) = TestDb::fresh(online.backend) else {
        return;
    };
    let p = Project::example(&online.url);

    p.migrate(&["upgrade", "head"]).ok();
    let script = p.migrate(&["--url", &offline.url, "upgrade", "head", "--sql"]);
    let script = script.ok();
    assert!(
        offline.tables().is_empty(),
        "--sql connects to nothing and creates nothing"
    );
    assert!(script.contains("alembic_version"), "{script}");
    if !feed(&offline, script) {
        return;
    }
    assert_eq!(offline.schema(), online.schema());
    assert_eq!(offline.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    assert_eq!(offline.tenants(), online.tenants());

    p.migrate(&["downgrade", "base"]).ok();
    let script = p.migrate(&[
        "--url",
        &offline.url,
        "downgrade",
        "8c2b4e6f1a90:base",
        "--sql",
    ]);
    feed(&offline, script.ok());
    assert_eq!(offline.schema(), online.schema());
    assert_eq!(offline.tables(), ["alembic_version"]);
    assert_eq!(offline.versions(), Some(vec![]));
}
per_backend!(example_offline_matches_online);

/// The Alembic fixture project (two roots, a merge, a dependency): `upgrade heads --sql`
/// writes the same version rows as the online run.
fn alembic_project_offline_matches_online(online: TestDb) {
    let Some(offline) = TestDb::fresh(online.backend) else {
        return;
    };
    let p = Project::empty();
    p.copy(&fixture("alembic_project"), "alembic_project");
    let ini = "alembic_project/alembic.ini";

    p.migrate(&["-c", ini, "--url", &online.url, "upgrade", "heads"])
        .ok();
    let script = p.migrate(&[
        "-c",
        ini,
        "--url",
        &offline.url,
        "upgrade",
        "heads",
        "--sql",
    ]);
    if !feed(&offline, script.ok()) {
        return;
    }
    assert_eq!(offline.schema(), online.schema());
    assert_eq!(
        offline.versions(),
        Some(vec!["b1c2d3e4f5a6".to_string(), "c7d8e9f0a1b2".to_string()])
    );
}
per_backend!(alembic_project_offline_matches_online);

/// `--sql` connects to nothing: a URL naming an unreachable server (or a SQLite file in a
/// folder that does not exist) only picks the dialect.
#[test]
fn sql_mode_connects_to_nothing() {
    let p = Project::example("sqlite:///unused.db");
    for url in [
        "sqlite:////nonexistent-folder/x.db",
        "postgresql://u:pw@127.0.0.1:1/x",
        "mysql://u:pw@127.0.0.1:1/x",
    ] {
        let script = p.migrate(&["--url", url, "upgrade", "head", "--sql"]);
        let script = script.ok();
        assert!(script.contains("tenants"), "{url}: {script}");
        assert!(script.contains("8c2b4e6f1a90"), "{url}: {script}");
        let script = p.migrate(&["--url", url, "downgrade", "8c2b4e6f1a90:base", "--sql"]);
        assert!(script.ok().contains("DROP TABLE tenants"), "{url}");
    }
    assert!(!p.path().join("unused.db").exists());
}

/// The version rows of `table` in `db` (sorted), `None` when it does not exist.
fn rows_of(db: &TestDb, table: &str) -> Option<Vec<String>> {
    if !db.tables().iter().any(|t| t == table) {
        return None;
    }
    let mut rows = db.column(&format!("SELECT version_num FROM {table}"));
    rows.sort();
    Some(rows)
}

/// `offline_project` (an `autocommit_block` between two statements, two statements in one
/// migration) with `settings` in its ini, offline and online: the script, fed to the client,
/// leaves what the online run leaves, all the way up and all the way down again.
fn offline_project_matches_online(online: &TestDb, settings: &str, version_table: &str) {
    let Some(offline) = TestDb::fresh(online.backend) else {
        return;
    };
    let p = Project::empty();
    p.copy(&fixture("offline_project"), "offline_project");
    let ini = "offline_project/alembic.ini";
    p.write(ini, &(p.read(ini) + settings));
    let run = |db: &TestDb, args: &[&str]| {
        let mut all = vec!["-c", ini, "--url", &db.url];
        all.extend_from_slice(args);
        p.migrate(&all)
    };

    run(online, &["upgrade", "head"]).ok();
    let script = run(&offline, &["upgrade", "head", "--sql"]);
    if !feed(&offline, script.ok()) {
        return;
    }
    assert_eq!(offline.schema(), online.schema());
    assert_eq!(
        offline.column("SELECT name FROM items ORDER BY id"),
        ["first", "second"]
    );
    assert_eq!(
        rows_of(&offline, version_table),
        Some(vec!["c3c3c3c3c3c3".to_string()])
    );

    run(online, &["downgrade", "base"]).ok();
    let script = run(&offline, &["downgrade", "c3c3c3c3c3c3:base", "--sql"]);
    feed(&offline, script.ok());
    assert_eq!(offline.schema(), online.schema());
    assert_eq!(offline.tables(), [version_table]);
    assert_eq!(rows_of(&offline, version_table), Some(vec![]));
}

fn autocommit_block_offline_matches_online(online: TestDb) {
    offline_project_matches_online(&online, "", "alembic_version");
}
per_backend!(autocommit_block_offline_matches_online);

fn per_migration_offline_matches_online(online: TestDb) {
    offline_project_matches_online(
        &online,
        "transaction_per_migration = true\n",
        "alembic_version",
    );
}
per_backend!(per_migration_offline_matches_online);

fn custom_version_table_offline_matches_online(online: TestDb) {
    offline_project_matches_online(
        &online,
        "version_table = tenant_versions\n",
        "tenant_versions",
    );
}
per_backend!(custom_version_table_offline_matches_online);

/// A MySQL stored routine (a `BEGIN ... END` body holding `;`) in an offline script: the
/// `mariadb` client ends a statement at every `;` unless a `DELIMITER` line says otherwise,
/// so the script must change the delimiter around the routine for the client to run it.
#[test]
fn a_stored_routine_in_a_mysql_script_runs_in_the_client() {
    let Some(online) = TestDb::mysql() else {
        return;
    };
    let Some(offline) = TestDb::mysql() else {
        return;
    };
    let p = Project::example(&online.url);
    p.write(
        "migrations/versions/f1f1f1f1f1f1_open_tenant_procedure.sql",
        "-- Open a tenant\n--\n-- Revision ID: f1f1f1f1f1f1\n-- Revises: 8c2b4e6f1a90\n\n\
         -- migrate:upgrade dialect=mysql\n\
         CREATE PROCEDURE open_tenant(IN tenant_id CHAR(36), IN tenant_name VARCHAR(255))\n\
         BEGIN\n    INSERT INTO tenants (id, name) VALUES (tenant_id, tenant_name);\n    \
         UPDATE tenants SET is_active = TRUE WHERE id = tenant_id;\nEND;\n\
         CALL open_tenant('00000000-0000-0000-0000-000000000002', 'second');\n\n\
         -- migrate:upgrade dialect=sqlite,postgresql\n\n\
         -- migrate:downgrade dialect=mysql\n\
         DELETE FROM tenants WHERE id = '00000000-0000-0000-0000-000000000002';\n\
         DROP PROCEDURE open_tenant;\n\n\
         -- migrate:downgrade dialect=sqlite,postgresql\n",
    );
    p.migrate(&["upgrade", "head"]).ok();
    let script = p.migrate(&["--url", &offline.url, "upgrade", "head", "--sql"]);
    let Some(fed) = try_feed(&offline, script.ok()) else {
        return;
    };
    assert!(
        fed.success,
        "mariadb refused the script:\n{}\n--- script\n{}",
        fed.stderr, script.stdout
    );
    assert_eq!(offline.schema(), online.schema());
    assert_eq!(offline.tenants(), online.tenants());
    assert_eq!(offline.versions(), Some(vec!["f1f1f1f1f1f1".to_string()]));
}
