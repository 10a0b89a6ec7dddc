//! The failures users meet, each asserted on its message (the `FAILED: ` line on stderr) and a
//! non-zero exit code. Alembic's wording, where Alembic has the case, comes from the reference
//! `tests/alembic/gen_listings.py` wrote (Alembic exits 255 with `FAILED: <message>`).

mod common;

use common::reference::Session;
use common::{fixture, server_url, Backend, Project, TestDb, MYSQL_VAR, POSTGRES_VAR};

/// A password given in a URL must never be printed.
const SECRET: &str = "s3cr3t-pw";

fn assert_no_secret(run: &common::Run) {
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "the password was printed:\n{}{}",
        run.stdout,
        run.stderr
    );
}

/// A project with one trivial Alembic revision, so commands get as far as the database.
fn one_revision_project() -> Project {
    let p = Project::empty();
    p.write("migrate.toml", "script_location = \"migrations\"\n");
    p.write(
        "migrations/versions/0a0a0a0a0a0a_first.py",
        "\"\"\"first\"\"\"\nfrom alembic import op\n\nrevision = \"0a0a0a0a0a0a\"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE first_table (id INTEGER PRIMARY KEY)\")\n\n\ndef downgrade():\n    op.execute(\"DROP TABLE first_table\")\n",
    );
    p
}

#[test]
fn malformed_url_is_one_line_listing_accepted_schemes() {
    let p = one_revision_project();
    let run = p.migrate(&["--url", "not a url", "current"]);
    let message = run.failed();
    assert!(
        message.starts_with("malformed database URL `not a url`"),
        "{message}"
    );
    assert!(
        message.contains("accepted schemes: sqlite:///"),
        "{message}"
    );
    assert!(
        message.contains("postgresql://") && message.contains("mysql://"),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
}

#[test]
fn unknown_scheme_lists_accepted_schemes_without_the_password() {
    let p = one_revision_project();
    let url = format!("oracle://scott:{SECRET}@db.example.com/orcl");
    let run = p.migrate(&["--url", &url, "upgrade", "head"]);
    let message = run.failed();
    assert!(
        message.starts_with("unsupported database URL scheme `oracle`"),
        "{message}"
    );
    assert!(message.contains("accepted schemes:"), "{message}");
    assert!(message.contains("scott:***@db.example.com"), "{message}");
    assert_no_secret(&run);
}

#[test]
fn unreachable_postgres_server_names_it_without_the_password() {
    let p = one_revision_project();
    let url = format!("postgresql://app:{SECRET}@127.0.0.1:1/app");
    let run = p.migrate(&["--url", &url, "upgrade", "head"]);
    let message = run.failed();
    assert!(message.contains("127.0.0.1"), "names the server: {message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert_no_secret(&run);
}

#[test]
fn unreachable_mysql_server_names_it_without_the_password() {
    let p = one_revision_project();
    let url = format!("mysql://app:{SECRET}@127.0.0.1:1/app");
    let run = p.migrate(&["--url", &url, "upgrade", "head"]);
    let message = run.failed();
    assert!(message.contains("127.0.0.1"), "names the server: {message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert_no_secret(&run);
}

/// `scheme://nosuchuser:SECRET@host:port/db` on the server named by `var`.
fn unknown_user_url(var: &str) -> Option<String> {
    let server = server_url(var)?;
    let (scheme, rest) = server.split_once("://").expect("a URL");
    let host_and_path = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    Some(format!("{scheme}://nosuchuser:{SECRET}@{host_and_path}"))
}

#[test]
fn unknown_postgres_user_is_refused_without_the_password() {
    // The local server trusts every password, so the unknown user is what is refused.
    let Some(url) = unknown_user_url(POSTGRES_VAR) else {
        return;
    };
    let p = one_revision_project();
    let run = p.migrate(&["--url", &url, "current"]);
    let message = run.failed();
    assert!(message.contains("nosuchuser"), "names the user: {message}");
    assert_no_secret(&run);
}

#[test]
fn wrong_mysql_password_is_refused_without_the_password() {
    let Some(server) = server_url(MYSQL_VAR) else {
        return;
    };
    let (scheme, rest) = server.split_once("://").expect("a URL");
    let host_and_path = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let p = one_revision_project();
    for user in ["root", "nosuchuser"] {
        let url = format!("{scheme}://{user}:{SECRET}@{host_and_path}");
        let run = p.migrate(&["--url", &url, "current"]);
        let message = run.failed();
        assert!(message.contains("Access denied"), "{message}");
        assert!(message.contains(user), "names the user: {message}");
        assert_no_secret(&run);
    }
}

#[test]
fn unknown_revision_uses_alembics_wording() {
    let db = TestDb::sqlite();
    let p = Project::example(&db.url);
    let mut alembic = Session::start("example", 3);
    for args in [["upgrade", "abcdef123456"], ["show", "abcdef123456"]] {
        let message = p.migrate(&args).failed();
        let theirs = alembic.next(&args.join(" "));
        let refusal = theirs.failed.as_deref().expect("Alembic refuses");
        assert!(
            message.starts_with(refusal),
            "{message}\nAlembic: {refusal}"
        );
    }
    alembic.finish();
    // Alembic has created the version table by then; `migrate` refuses first.
    assert_eq!(db.versions(), None, "nothing was created");
}

/// Two roots whose ids share the prefix `abcd` (`tests/fixtures/ambiguous`).
fn ambiguous_project(url: &str) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"migrations\"\nurl = \"{url}\"\n"),
    );
    p.copy(&fixture("ambiguous/versions"), "migrations/versions");
    p
}

/// The ambiguous prefix, `head` with several heads, then `heads`, as Alembic words and does
/// them (session `ambiguous 1` of the reference). Alembic's command layer hides the
/// resolver's "Multiple revisions start with 'abcd'"; we keep its words and add the detail.
#[test]
fn ambiguous_prefix_and_several_heads_use_alembics_wording() {
    let db = TestDb::sqlite();
    let p = ambiguous_project(&db.url);
    let mut alembic = Session::start("ambiguous", 1);
    for args in [
        &["upgrade", "abcd"][..],
        &["show", "abcd"],
        &["upgrade", "head"],
    ] {
        let message = p.migrate(args).failed();
        let theirs = alembic.next(&args.join(" "));
        let refusal = theirs.failed.as_deref().expect("Alembic refuses");
        assert!(
            message.starts_with(refusal),
            "{message}\nAlembic: {refusal}"
        );
        if args[1] == "abcd" {
            assert!(
                message.contains("Multiple revisions start with 'abcd'"),
                "{message}"
            );
        }
        assert_eq!(db.versions(), None, "refused before anything is created");
    }
    let run = p.migrate(&["upgrade", "heads"]);
    alembic
        .next("upgrade heads")
        .assert_moved(&run, db.versions());
    alembic.finish();
}

#[test]
fn malformed_sql_revision_names_file_line_and_directive() {
    let db = TestDb::sqlite();
    let p = one_revision_project();
    p.write(
        "migrations/versions/0b0b0b0b0b0b_second.sql",
        "-- second\n--\n-- Revision ID: 0b0b0b0b0b0b\n-- Revises: 0a0a0a0a0a0a\n\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:downgrad\nSELECT 2;\n",
    );
    for args in [vec!["heads"], vec!["--url", &db.url, "upgrade", "head"]] {
        let message = p.migrate(&args).failed();
        assert!(
            message.contains("0b0b0b0b0b0b_second.sql:9:"),
            "file and line: {message}"
        );
        assert!(message.contains("migrate:downgrad"), "{message}");
    }
    assert_eq!(db.versions(), None, "nothing ran");
}

#[test]
fn malformed_python_revision_names_file_and_line() {
    let p = one_revision_project();
    p.write(
        "migrations/versions/0c0c0c0c0c0c_broken.py",
        "\"\"\"broken\"\"\"\nrevision = \"0c0c0c0c0c0c\"\ndown_revision = (\"0a0a0a0a0a0a\"\nbranch_labels = None\n",
    );
    let message = p.migrate(&["heads"]).failed();
    assert!(message.contains("0c0c0c0c0c0c_broken.py:"), "{message}");
}

/// A first revision that works and a second whose second statement fails, in both formats.
fn failing_project(url: &str, format: &str) -> Project {
    let p = one_revision_project();
    p.write(
        "migrate.toml",
        &format!("script_location = \"migrations\"\nurl = \"{url}\"\n"),
    );
    if format == "py" {
        p.write(
            "migrations/versions/0d0d0d0d0d0d_second.py",
            "\"\"\"second\"\"\"\nfrom alembic import op\n\nrevision = \"0d0d0d0d0d0d\"\ndown_revision = \"0a0a0a0a0a0a\"\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute(\"INSERT INTO first_table (id) VALUES (1)\")\n    op.execute(\"INSERT INTO no_such_table (id) VALUES (2)\")\n\n\ndef downgrade():\n    op.execute(\"DELETE FROM first_table\")\n",
        );
    } else {
        p.write(
            "migrations/versions/0d0d0d0d0d0d_second.sql",
            "-- second\n--\n-- Revision ID: 0d0d0d0d0d0d\n-- Revises: 0a0a0a0a0a0a\n\n-- migrate:upgrade\nINSERT INTO first_table (id) VALUES (1);\nINSERT INTO no_such_table (id) VALUES (2);\n\n-- migrate:downgrade\nDELETE FROM first_table;\n",
        );
    }
    p
}

/// The message names the file and the statement; on PostgreSQL and SQLite nothing of the run
/// is left, on MariaDB (which commits DDL at once) the version table names the last completed
/// migration and the message says so.
fn assert_failing_statement(db: &TestDb, format: &str) {
    let p = failing_project(&db.url, format);
    let run = p.migrate(&["upgrade", "head"]);
    let message = run.failed();
    assert!(
        message.contains(&format!("0d0d0d0d0d0d_second.{format}")),
        "names the file: {message}"
    );
    assert!(
        message.contains("INSERT INTO no_such_table (id) VALUES (2)"),
        "names the statement: {message}"
    );
    match db.backend {
        Backend::Sqlite | Backend::Postgres => {
            assert!(
                !db.tables().contains(&"first_table".to_string()),
                "the whole run was rolled back: {:?}",
                db.tables()
            );
            assert_eq!(
                db.versions(),
                None,
                "the version table's creation was rolled back too"
            );
        }
        Backend::Mysql => {
            assert_eq!(db.versions(), Some(vec!["0a0a0a0a0a0a".to_string()]));
            assert!(
                message.contains("0a0a0a0a0a0a"),
                "says where it stopped: {message}"
            );
        }
    }
}

fn failing_statement_py(db: TestDb) {
    assert_failing_statement(&db, "py");
}
per_backend!(failing_statement_py);

fn failing_statement_sql(db: TestDb) {
    assert_failing_statement(&db, "sql");
}
per_backend!(failing_statement_sql);

/// `migrate history -v | head -c 1`: the reader goes away; `migrate` stops quietly, without a
/// panic or a backtrace. The listing is made larger than a pipe's buffer so that a write after
/// the reader is gone is certain.
#[test]
fn closed_stdout_pipe_is_not_a_panic() {
    let p = Project::empty();
    p.write("migrate.toml", "script_location = \"migrations\"\n");
    let padding = "Long description line of this revision, to make history -v large.\n".repeat(30);
    let mut down = "None".to_string();
    for n in 1..=60 {
        let id = format!("beef{n:08x}");
        p.write(
            &format!("migrations/versions/{id}_r.py"),
            &format!(
                "\"\"\"rev {n}\n\n{padding}\"\"\"\nrevision = \"{id}\"\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
            ),
        );
        down = format!("\"{id}\"");
    }
    let mut child = common::migrate_command(p.path(), &["history", "-v"], &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting migrate");
    // Read one byte, as `head -c 1` does, then go away.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("the listing starts");
    drop(stdout);
    let out = common::output_within(child, common::PROCESS_LIMIT, "`migrate history -v`");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(&first, b"R", "the listing began with `Rev: `");
    // Today: a quiet success, as when the reader took everything it wanted.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr, "",
        "nothing on stderr: no panic, no backtrace, no error"
    );
}

/// `first` (0a0a0a0a0a0a) whose downgrade's second statement fails, and `second`
/// (0d0d0d0d0d0d) on it, each creating a table.
fn failing_downgrade_project(url: &str) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"migrations\"\nurl = \"{url}\"\n"),
    );
    p.write(
        "migrations/versions/0a0a0a0a0a0a_first.py",
        "\"\"\"first\"\"\"\nfrom alembic import op\n\nrevision = \"0a0a0a0a0a0a\"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE first_table (id INTEGER PRIMARY KEY)\")\n\n\ndef downgrade():\n    op.execute(\"DROP TABLE first_table\")\n    op.execute(\"DROP TABLE missing_table\")\n",
    );
    p.write(
        "migrations/versions/0d0d0d0d0d0d_second.sql",
        "-- second\n--\n-- Revision ID: 0d0d0d0d0d0d\n-- Revises: 0a0a0a0a0a0a\n\n-- migrate:upgrade\nCREATE TABLE second_table (id INTEGER PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE second_table;\n",
    );
    p
}

/// A downgrade whose second migration fails at its second statement: the message names the
/// file, the statement and its number; SQLite and PostgreSQL undo the whole run, MariaDB
/// (DDL commits at once) keeps the first migration's downgrade and its version change and the
/// failed migration's first statement, and says so.
fn failing_downgrade(db: TestDb) {
    let p = failing_downgrade_project(&db.url);
    p.migrate(&["upgrade", "head"]).ok();
    let message = p.migrate(&["downgrade", "base"]).failed();
    assert!(
        message.contains(
            "0a0a0a0a0a0a_first.py:16: statement 2 of revision 0a0a0a0a0a0a (downgrade) failed"
        ),
        "names the file, line, statement and direction: {message}"
    );
    assert!(
        message.contains("DROP TABLE missing_table"),
        "shows the statement: {message}"
    );
    match db.backend {
        Backend::Sqlite | Backend::Postgres => {
            assert!(
                message.contains("nothing was applied")
                    && message.contains("unchanged (0d0d0d0d0d0d)"),
                "{message}"
            );
            assert_eq!(db.versions(), Some(vec!["0d0d0d0d0d0d".to_string()]));
            assert_eq!(
                db.tables(),
                ["alembic_version", "first_table", "second_table"]
            );
        }
        Backend::Mysql => {
            assert!(
                message.contains(
                    "statement 1 of this migration may have been applied and is not undone"
                ) && message.contains("(0a0a0a0a0a0a)"),
                "{message}"
            );
            assert_eq!(db.versions(), Some(vec!["0a0a0a0a0a0a".to_string()]));
            assert_eq!(db.tables(), ["alembic_version"]);
        }
    }
}
per_backend!(failing_downgrade);

/// The version-table change after a migration fails (here the migration drops the version
/// table): SQLite and PostgreSQL undo the whole run; MariaDB keeps what committed. Today the
/// message is the database's alone: it names neither the revision nor the version change.
fn failing_version_table_update(db: TestDb) {
    let p = one_revision_project();
    p.write(
        "migrate.toml",
        &format!("script_location = \"migrations\"\nurl = \"{}\"\n", db.url),
    );
    p.write(
        "migrations/versions/0e0e0e0e0e0e_drop_the_version_table.py",
        "\"\"\"drop the version table\"\"\"\nfrom alembic import op\n\nrevision = \"0e0e0e0e0e0e\"\ndown_revision = \"0a0a0a0a0a0a\"\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE second_table (id INTEGER PRIMARY KEY)\")\n    op.execute(\"DROP TABLE alembic_version\")\n\n\ndef downgrade():\n    op.execute(\"DROP TABLE second_table\")\n",
    );
    let message = p.migrate(&["upgrade", "head"]).failed();
    assert!(message.contains("alembic_version"), "{message}");
    match db.backend {
        Backend::Sqlite | Backend::Postgres => {
            assert_eq!(
                db.versions(),
                None,
                "the version table's creation is undone too"
            );
            assert!(db.tables().is_empty(), "{:?}", db.tables());
        }
        Backend::Mysql => {
            // first_table and its version row committed; second_table and the DROP too.
            assert_eq!(db.versions(), None);
            assert_eq!(db.tables(), ["first_table", "second_table"]);
        }
    }
}
per_backend!(failing_version_table_update);

/// A deferred foreign key that fails only at `COMMIT`, which PostgreSQL receives in the same
/// round trip as the migration's statements and its version change: the run fails with the
/// server's error and leaves nothing of the failed transaction; with a transaction per
/// migration the first migration stays applied.
#[test]
fn postgres_a_deferred_constraint_failing_at_commit_undoes_the_transaction() {
    for per_migration in [false, true] {
        let Some(db) = TestDb::postgres() else {
            return;
        };
        let p = one_revision_project();
        p.write(
            "migrate.toml",
            &format!(
                "script_location = \"migrations\"\nurl = \"{}\"\ntransaction_per_migration = {per_migration}\n",
                db.url
            ),
        );
        p.write(
            "migrations/versions/0f0f0f0f0f0f_deferred.sql",
            "-- deferred\n--\n-- Revision ID: 0f0f0f0f0f0f\n-- Revises: 0a0a0a0a0a0a\n\n-- migrate:upgrade\nCREATE TABLE child (parent INTEGER REFERENCES first_table DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO child (parent) VALUES (5);\n\n-- migrate:downgrade\nDROP TABLE child;\n",
        );
        let message = p.migrate(&["upgrade", "head"]).failed();
        assert!(message.contains("23503"), "the server's error: {message}");
        if per_migration {
            assert_eq!(db.versions(), Some(vec!["0a0a0a0a0a0a".to_string()]));
            assert_eq!(db.tables(), ["alembic_version", "first_table"]);
        } else {
            assert_eq!(db.versions(), None, "{message}");
            assert!(db.tables().is_empty(), "{:?}", db.tables());
        }
    }
}

/// TLS that cannot be had, through the binary: `sslmode=require` against a PostgreSQL server
/// without TLS (an instance of the test's own) and an `sslrootcert` that does not exist are
/// one `FAILED:` line each, naming the server or the file, without the password.
#[test]
fn tls_that_cannot_be_had_is_one_line() {
    let Some(instance) = migrate_tests::instance::PostgresInstance::start(&["ssl=off"]) else {
        return;
    };
    let p = one_revision_project();
    let with_password = instance
        .url
        .replace("postgres@", &format!("postgres:{SECRET}@"));
    let run = p.migrate(&[
        "--url",
        &format!("{with_password}?sslmode=require"),
        "upgrade",
        "head",
    ]);
    let message = run.failed();
    assert!(
        message.contains(&format!("127.0.0.1:{}", instance.port)),
        "names the server: {message}"
    );
    assert!(
        message.contains("TLS") || message.contains("SSL"),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    assert_no_secret(&run);

    let missing = p.path().join("no-such-ca.pem");
    let run = p.migrate(&[
        "--url",
        &format!(
            "{with_password}?sslmode=verify-full&sslrootcert={}",
            missing.display()
        ),
        "current",
    ]);
    let message = run.failed();
    assert!(
        message.contains(&missing.display().to_string()),
        "names the file: {message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    assert_no_secret(&run);
    // Nothing reached the server.
    let tables = migrate_tests::servers::pg_query(
        &instance.url,
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
    );
    assert_eq!(tables, [[Some("0".to_string())]]);
}
