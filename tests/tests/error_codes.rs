//! Every documented error code (README, "Output and exit codes"), provoked through the binary:
//! with `--format json` the document's `error` has the code, its class and a message, and the
//! exit status is the class's (1 failed, 2 usage or configuration, 3 unavailable: worth
//! retrying; 130 after Ctrl-C); the text form prints the same `FAILED:` line with the same
//! exit status. Codes that need a server run on real ones: a closed port, another session
//! holding the migration lock or a table lock, a statement each database refuses.

mod common;

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::json::{document, failure, status_of};
use common::{output_within, Backend, Project, Run, TestDb};
use serde_json::{Map, Value};

const A1: &str = "aaaa11111111";
const A2: &str = "aaaa22222222";
const B3: &str = "bbbb33333333";

/// A `.sql` revision creating `t_<id>`; `extra` is added to its upgrade.
fn sql_revision(id: &str, revises: &str, labels: &str, extra: &str) -> String {
    format!(
        "-- revision {id}\n-- Revision ID: {id}\n-- Revises: {revises}\n-- Branch Labels: {labels}\n\n-- migrate:upgrade\nCREATE TABLE t_{id} (id INT PRIMARY KEY);\n{extra}\n-- migrate:downgrade\nDROP TABLE t_{id};\n"
    )
}

/// A project on `url` with `m/versions/` holding `files` (name, text).
fn project(url: &str, files: &[(&str, String)]) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{url}\"\n"),
    );
    std::fs::create_dir_all(p.path().join("m/versions")).expect("versions folder");
    for (name, text) in files {
        p.write(&format!("m/versions/{name}"), text);
    }
    p
}

/// a1 -> a2, and b3 (branch label `lab`) beside a2: two heads.
fn branched(url: &str) -> Project {
    project(
        url,
        &[
            ("a1.sql", sql_revision(A1, "", "", "")),
            ("a2.sql", sql_revision(A2, A1, "", "")),
            ("b3.sql", sql_revision(B3, A1, "lab", "")),
        ],
    )
}

/// a1 -> a2.
fn linear(url: &str) -> Project {
    project(
        url,
        &[
            ("a1.sql", sql_revision(A1, "", "", "")),
            ("a2.sql", sql_revision(A2, A1, "", "")),
        ],
    )
}

/// Runs `args` in `p` with `--format json` and as text: the JSON error has `code` and
/// `class`, both runs exit with the class's status and print the same `FAILED:` line.
/// Returns the error object.
#[track_caller]
fn provoke(p: &Project, args: &[&str], code: &str, class: &str) -> Map<String, Value> {
    provoke_env(p, args, &[], code, class)
}

#[track_caller]
fn provoke_env(
    p: &Project,
    args: &[&str],
    env: &[(&str, &str)],
    code: &str,
    class: &str,
) -> Map<String, Value> {
    provoke_in(p, p, args, env, code, class)
}

/// [`provoke`] with the JSON run in `p` and the text run in `q` (a project of its own when
/// the first failure changes what the second sees).
#[track_caller]
fn provoke_in(
    p: &Project,
    q: &Project,
    args: &[&str],
    env: &[(&str, &str)],
    code: &str,
    class: &str,
) -> Map<String, Value> {
    let command = command_of(args);
    let status = status_of(class);
    let mut json_args = vec!["--format", "json"];
    json_args.extend_from_slice(args);
    let run = p.migrate_env(&json_args, env);
    let error = failure(&run, command, code, class, status);
    let text = q.migrate_env(args, env);
    let line = text.failed_with(status);
    // The same words; a check's summary points at where its findings are (above, or in the
    // document).
    let first = |m: &str| {
        without_test_database_names(
            m.lines()
                .next()
                .unwrap_or_default()
                .split(" (listed ")
                .next()
                .unwrap_or_default(),
        )
    };
    assert_eq!(
        first(&line),
        first(error["message"].as_str().unwrap_or_default()),
        "`migrate {}`: text and JSON say different things",
        text.args
    );
    assert!(
        serde_json::from_str::<Value>(&text.stdout).is_err() || text.stdout.is_empty(),
        "the text form prints no JSON"
    );
    error
}

/// `text` with the tests' server database names (`mt_<16 hex digits>`) as `mt_*`, so that
/// runs on two databases compare.
fn without_test_database_names(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("mt_") {
        out.push_str(&rest[..at + 3]);
        let tail = &rest[at + 3..];
        let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if hex == 16 {
            out.push('*');
            rest = &tail[16..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// The command in `args` (the first argument naming one).
fn command_of<'a>(args: &[&'a str]) -> &'a str {
    const COMMANDS: &[&str] = &[
        "init",
        "revision",
        "merge",
        "upgrade",
        "downgrade",
        "stamp",
        "current",
        "heads",
        "branches",
        "history",
        "show",
        "check",
        "repair",
        "config",
        "lint",
        "verify",
        "dump",
        "drift",
    ];
    args.iter()
        .find(|a| COMMANDS.contains(a))
        .copied()
        .expect("a command")
}

// ---------------------------------------------------------------------------------------------
// Usage and configuration (exit 2): nothing is changed

#[test]
fn config_and_usage() {
    let empty = Project::empty();
    provoke(&empty, &["heads"], "config", "usage");
    let db = TestDb::sqlite();
    let p = linear(&db.url);
    provoke(
        &p,
        &["--url", "nosuch://x", "current"],
        "invalid_url",
        "usage",
    );
    provoke(
        &p,
        &["verify", "--scratch-url", "nosuch://x"],
        "invalid_url",
        "usage",
    );
    // Arguments that do not fit together: the CLI's and the core's rules.
    provoke(&p, &["downgrade", "--sql", "head"], "usage", "usage");
    provoke(&p, &["stamp", "--sql", "--purge", "head"], "usage", "usage");
    provoke(&p, &["upgrade", "--resume"], "usage", "usage");
    // A command line clap refuses.
    let mut run = p.migrate(&["--format", "json", "heads", "--no-such-flag"]);
    failure(&run, "heads", "usage", "usage", 2);
    run = p.migrate(&["heads", "--no-such-flag"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    provoke(
        &p,
        &["revision", "-m", "again", "--rev-id", A1],
        "new_revision",
        "usage",
    );
    provoke(
        &p,
        &["dump", "-o", "no/such/folder/schema.sql"],
        "io",
        "usage",
    );
    assert_eq!(db.versions(), None, "nothing was run");
}

#[test]
fn revision_files_that_do_not_form_a_history() {
    let url = TestDb::sqlite().url;
    let case = |files: &[(&str, String)], code: &str| {
        let p = project(&url, files);
        let error = provoke(&p, &["heads"], code, "usage");
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .contains("m/versions"),
            "{error:?}"
        );
        error
    };
    let error = case(
        &[(
            "x.sql",
            "-- x\n-- Revision ID: abcd\n-- Revises:\n\n-- migrate:upgrade dialect=nosuch\nSELECT 1;\n".into(),
        )],
        "parse_error",
    );
    assert_eq!(error["line"], 5, "{error:?}");
    assert!(error["column"].is_number(), "{error:?}");
    let error = case(
        &[("x.sql", sql_revision("ab@cd", "", "", ""))],
        "invalid_revision_id",
    );
    assert_eq!(error["graph"]["kind"], "illegal_id", "{error:?}");
    case(
        &[
            ("x.sql", sql_revision(A1, "", "", "")),
            ("y.sql", sql_revision(A1, "", "", "")),
        ],
        "duplicate_revision",
    );
    case(&[("x.sql", sql_revision(A1, A1, "", ""))], "cycle");
    case(
        &[
            ("x.sql", sql_revision(A1, "", "lab", "")),
            ("y.sql", sql_revision(A2, A1, "lab", "")),
        ],
        "duplicate_branch_label",
    );
    let error = case(
        &[("x.sql", sql_revision(A1, "ffff00000000", "", ""))],
        "missing_revision",
    );
    assert_eq!(error["graph"]["missing"], "ffff00000000", "{error:?}");

    // A revision file that cannot be read as text.
    let p = project(&url, &[]);
    std::fs::write(p.path().join("m/versions/x.sql"), b"\xff\xfe-- x\n").expect("write");
    let error = provoke(&p, &["heads"], "io", "usage");
    assert_eq!(error["path"], "m/versions/x.sql", "{error:?}");
    assert!(
        error["cause"]
            .as_str()
            .unwrap_or_default()
            .contains("UTF-8"),
        "{error:?}"
    );
}

#[test]
fn targets_that_name_nothing_or_several() {
    let db = TestDb::sqlite();
    let p = branched(&db.url);
    let error = provoke(&p, &["upgrade", ""], "empty_target", "usage");
    assert_eq!(error["argument"], "", "{error:?}");
    let error = provoke(&p, &["upgrade", "nope"], "unknown_revision", "usage");
    assert_eq!(error["argument"], "nope", "{error:?}");
    let error = provoke(&p, &["upgrade", "nolab@head"], "unknown_branch", "usage");
    assert_eq!(
        error["known_labels"],
        serde_json::json!(["lab"]),
        "{error:?}"
    );
    let error = provoke(&p, &["upgrade", "aaaa"], "ambiguous_revision", "usage");
    assert_eq!(
        error["candidates"].as_array().map(Vec::len),
        Some(2),
        "{error:?}"
    );
    let error = provoke(
        &p,
        &["upgrade", &format!("lab@{A2}")],
        "not_in_branch",
        "usage",
    );
    assert_eq!(error["branch"], "lab", "{error:?}");
    let error = provoke(&p, &["upgrade", "head"], "multiple_heads", "usage");
    let mut heads: Vec<&str> = error["heads"]
        .as_array()
        .expect("heads")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    heads.sort();
    assert_eq!(heads, [A2, B3]);
    provoke(&p, &["upgrade", "+9"], "ambiguous_target", "usage");
    provoke(&p, &["downgrade", "-5"], "relative_out_of_range", "usage");
    p.migrate(&["upgrade", A2]).ok();
    provoke(&p, &["downgrade", B3], "not_reachable", "usage");
    assert_eq!(db.versions(), Some(vec![A2.to_string()]), "nothing changed");
}

/// a1, and a `.py` revision on it whose `branch_labels` Python computes: an identifier that is
/// no full id could be that label, in a target and in `depends_on`.
#[test]
fn identifiers_that_could_be_a_computed_label() {
    let db = TestDb::sqlite();
    let computed = format!(
        "from x import cli\nrevision = '{A2}'\ndown_revision = '{A1}'\n\
         branch_labels = (cli.EXPAND_BRANCH,)\n\ndef upgrade():\n    pass\n\n\
         def downgrade():\n    pass\n"
    );
    let p = project(
        &db.url,
        &[
            ("a1.sql", sql_revision(A1, "", "", "")),
            ("a2.py", computed.clone()),
        ],
    );
    let error = provoke(
        &p,
        &["upgrade", "expand@head"],
        "computed_branch_label",
        "usage",
    );
    assert_eq!(error["argument"], "expand", "{error:?}");
    assert_eq!(
        error["computed_labels"][0]
            .as_str()
            .map(|s| s.starts_with(&format!("{A2} (cli.EXPAND_BRANCH; "))),
        Some(true),
        "{error:?}"
    );
    provoke(&p, &["upgrade", "aaaa1"], "computed_branch_label", "usage");
    assert_eq!(db.versions(), None, "nothing ran");
    p.migrate(&["upgrade", "heads"]).ok();
    let depending = project(
        &db.url,
        &[
            ("a1.sql", sql_revision(A1, "", "", "")),
            ("a2.py", computed),
            (
                "b3.sql",
                format!(
                    "-- revision {B3}\n-- Revision ID: {B3}\n-- Revises: {A1}\n-- Depends On: expand\n\n\
                     -- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 1;\n"
                ),
            ),
        ],
    );
    provoke(&depending, &["heads"], "computed_branch_label", "usage");
}

#[test]
fn revisions_migrate_cannot_run() {
    let db = TestDb::sqlite();
    let python = |id: &str, upgrade: &str| {
        format!(
            "\"\"\"{id}\n\nRevision ID: {id}\nRevises:\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = None\n\n\ndef upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    pass\n"
        )
    };
    let p = project(&db.url, &[("x.py", python(A1, "do_something_else()"))]);
    let error = provoke(&p, &["upgrade"], "unrunnable_revision", "usage");
    assert_eq!(error["revision"], A1, "{error:?}");
    assert_eq!(error["direction"], "upgrade", "{error:?}");

    let p = project(
        &db.url,
        &[(
            "x.py",
            python(
                A1,
                "op.create_table(\"t\", sa.Column(\"id\", sa.Integer()), sa.Column(\"id\", sa.Integer()))",
            ),
        )],
    );
    let error = provoke(&p, &["upgrade", "--sql"], "no_ddl_for_dialect", "usage");
    assert_eq!(error["operation"], "create_table", "{error:?}");
    assert_eq!(error["dialect"], "sqlite", "{error:?}");

    let long = "abcdefabcdefabcdefabcdefabcdefabcdef"; // 36 characters
    let p = project(&db.url, &[("x.sql", sql_revision(long, "", "", ""))]);
    let error = provoke(&p, &["upgrade"], "revision_id_too_long", "usage");
    assert_eq!(error["length"], 36, "{error:?}");
    assert_eq!(error["max"], 32, "{error:?}");
    assert_eq!(db.versions(), None, "nothing was run");

    let p = project(
        &db.url,
        &[(
            "x.sql",
            format!("-- x\n-- Revision ID: {A1}\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n"),
        )],
    );
    p.migrate(&["upgrade"]).ok();
    let error = provoke(&p, &["downgrade", "base"], "missing_direction", "usage");
    assert_eq!(error["direction"], "downgrade", "{error:?}");
}

// ---------------------------------------------------------------------------------------------
// The database's state says no (exit 1, or 2 when nothing could start)

#[test]
fn version_table_and_history() {
    let db = TestDb::sqlite();
    db.query("CREATE TABLE alembic_version (x INTEGER)");
    let p = linear(&db.url);
    let error = provoke(&p, &["upgrade"], "version_table_shape", "usage");
    assert_eq!(error["table"], "alembic_version", "{error:?}");

    // Another table where the history goes: named, and nothing runs.
    let db = TestDb::sqlite();
    db.query("CREATE TABLE alembic_version_history (x INTEGER)");
    let p = linear(&db.url);
    let error = provoke(&p, &["upgrade"], "history_table_shape", "usage");
    assert_eq!(error["table"], "alembic_version_history", "{error:?}");
    assert!(
        error["problem"]
            .as_str()
            .is_some_and(|p| p.starts_with("cannot be read as migrate's history (")),
        "{error:?}"
    );
    assert_eq!(db.versions(), None, "nothing ran");

    let db = TestDb::sqlite();
    let p = linear(&db.url);
    p.migrate(&["upgrade", A1]).ok();
    p.write(
        "m/versions/a1.sql",
        &sql_revision(A1, "", "", "CREATE TABLE t_new (id INT);"),
    );
    let error = provoke(&p, &["upgrade"], "history_check", "failed");
    assert_eq!(
        error["findings"][0]["kind"], "checksum_mismatch",
        "{error:?}"
    );
    assert_eq!(error["findings"][0]["revision"], A1, "{error:?}");
    assert_eq!(db.versions(), Some(vec![A1.to_string()]), "nothing ran");
}

#[test]
fn checks_that_find_something() {
    let db = TestDb::sqlite();
    let p = linear(&db.url);
    p.migrate(&["upgrade"]).ok();
    p.write(
        "m/versions/a1.sql",
        &sql_revision(A1, "", "", "CREATE TABLE t_new (id INT);"),
    );
    provoke(&p, &["check"], "check_failed", "failed");

    let p = linear(&db.url);
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \"m\"\nurl = \"{}\"\n\n[lint]\nundocumented-revision = \"error\"\n",
            db.url
        ),
    );
    provoke(&p, &["lint"], "lint_failed", "failed");

    // A downgrade that leaves its table.
    let p = project(
        &TestDb::sqlite().url,
        &[(
            "x.sql",
            format!("-- x\n-- Revision ID: {A1}\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n\n-- migrate:downgrade\n"),
        )],
    );
    provoke(&p, &["verify"], "verify_failed", "failed");

    let db = TestDb::sqlite();
    let p = linear(&db.url);
    p.migrate(&["upgrade"]).ok();
    db.query("CREATE TABLE t_extra (id INT)");
    provoke(&p, &["drift"], "drift", "failed");
}

// ---------------------------------------------------------------------------------------------
// On every backend: the server refuses, is unreachable, or is busy

/// A statement the database refuses (exit 1), with its SQLSTATE where the database gives one.
fn statement_failed(db: TestDb) {
    let files = [
        ("a1.sql", sql_revision(A1, "", "", "")),
        (
            "a2.sql",
            sql_revision(A2, A1, "", "INSERT INTO no_such_table VALUES (1);"),
        ),
    ];
    let p = project(&db.url, &files);
    // On MariaDB the failed step stays recorded (its DDL committed itself), and the next run
    // stops on that: the text form runs on a database of its own.
    let other = TestDb::fresh(db.backend).expect("a second database");
    let q = project(&other.url, &files);
    let error = provoke_in(&p, &q, &["upgrade"], &[], "statement_failed", "failed");
    assert_eq!(error["revision"], A2, "{error:?}");
    assert_eq!(error["statement_index"], 2, "{error:?}");
    assert_eq!(error["line"], 8, "{error:?}");
    // Statement 1 stays applied only where DDL commits itself (MariaDB): only there is there
    // something to resume from; elsewhere the migration was rolled back whole.
    assert_eq!(
        error["resumable"],
        db.backend == Backend::Mysql,
        "{error:?}"
    );
    assert!(error["database_message"].is_string(), "{error:?}");
    match db.backend {
        Backend::Sqlite => assert!(error["sqlstate"].is_null(), "{error:?}"),
        Backend::Postgres => assert_eq!(error["sqlstate"], "42P01", "{error:?}"),
        Backend::Mysql => assert_eq!(error["sqlstate"], "42S02", "{error:?}"),
    }
    assert!(error["report"]["heads"].is_array(), "{error:?}");
}
per_backend!(statement_failed);

/// A database that cannot be reached (exit 3: worth retrying).
fn connect_failed(db: TestDb) {
    let url = match db.backend {
        // A folder that does not exist.
        Backend::Sqlite => "sqlite:////nonexistent-folder/x/test.db".to_string(),
        // A closed port on the test server's host.
        Backend::Postgres => "postgresql://postgres@127.0.0.1:1/test".to_string(),
        Backend::Mysql => "mysql://root@127.0.0.1:1/test".to_string(),
    };
    let p = linear(&url);
    provoke(&p, &["upgrade"], "connect_failed", "unavailable");
    provoke(&p, &["current"], "connect_failed", "unavailable");
}
per_backend!(connect_failed);

/// Another session holds the migration lock past `lock_timeout` (exit 3).
fn lock_timeout(db: TestDb) {
    use common::executors::{connect, runtime};
    let p = linear(&db.url);
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \"m\"\nurl = \"{}\"\nlock_timeout = 1\n",
            db.url
        ),
    );
    let rt = runtime();
    let table = migrate_core::VersionTable::default();
    let mut holder = rt.block_on(connect(&db));
    rt.block_on(holder.lock(&table, Duration::ZERO))
        .expect("the lock is free");
    provoke(&p, &["upgrade"], "lock_timeout", "unavailable");
    rt.block_on(holder.unlock(&table)).expect("unlock");
    p.migrate(&["upgrade"]).ok();
}
per_backend!(lock_timeout);

/// Another session holds a lock on the table a migration alters past `ddl_lock_timeout`, with
/// no retries (exit 3).
fn ddl_lock_timeout(db: TestDb) {
    db.query("CREATE TABLE t (id INT PRIMARY KEY)");
    let p = project(
        &db.url,
        &[(
            "a1.sql",
            format!("-- add c\n-- Revision ID: {A1}\n-- Revises:\n\n-- migrate:upgrade\nALTER TABLE t ADD COLUMN c INT;\n\n-- migrate:downgrade\nALTER TABLE t DROP COLUMN c;\n"),
        )],
    );
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \"m\"\nurl = \"{}\"\nddl_lock_timeout = 1\nddl_retries = 0\n",
            db.url
        ),
    );
    let (locked_tx, locked) = mpsc::channel();
    let (done_tx, done) = mpsc::channel::<()>();
    let (backend, url) = (db.backend, db.url.clone());
    let holder = std::thread::spawn(move || {
        common::executors::runtime().block_on(async move {
            match backend {
                Backend::Postgres => {
                    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                        .await
                        .expect("connect");
                    tokio::spawn(conn);
                    client
                        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                        .await
                        .expect("lock");
                    locked_tx.send(()).expect("signal");
                    let _ = done.recv_timeout(Duration::from_secs(60));
                    client.batch_execute("COMMIT").await.expect("commit");
                }
                _ => {
                    use mysql_async::prelude::Queryable;
                    let mut conn = mysql_async::Conn::from_url(url.as_str())
                        .await
                        .expect("connect");
                    conn.query_drop("START TRANSACTION").await.expect("begin");
                    conn.query_drop("SELECT * FROM t").await.expect("read");
                    locked_tx.send(()).expect("signal");
                    let _ = done.recv_timeout(Duration::from_secs(60));
                    conn.query_drop("COMMIT").await.expect("commit");
                    let _ = conn.disconnect().await;
                }
            }
        })
    });
    locked
        .recv_timeout(Duration::from_secs(30))
        .expect("the table lock is taken");
    let error = provoke(&p, &["upgrade"], "ddl_lock_timeout", "unavailable");
    assert_eq!(error["revision"], A1, "{error:?}");
    done_tx.send(()).expect("release");
    holder.join().expect("the holder");
    assert!(!db.columns("t").contains(&"c".to_string()));
}
/// The servers' tests of [`ddl_lock_timeout`] (SQLite has no table locks: its one lock is the
/// database's, see [`lock_timeout`]).
mod ddl_lock_timeout_on {
    use super::common::TestDb;

    #[test]
    fn postgres() {
        if let Some(db) = TestDb::postgres() {
            super::ddl_lock_timeout(db);
        }
    }

    #[test]
    fn mysql() {
        if let Some(db) = TestDb::mysql() {
            super::ddl_lock_timeout(db);
        }
    }
}

/// Ctrl-C during a migration's statement: exit 130, code `interrupted` (class failed).
fn interrupted(db: TestDb) {
    let db_backend = db.backend;
    let slow = match db.backend {
        Backend::Sqlite => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000000) SELECT count(*) FROM c;",
        Backend::Postgres => "SELECT pg_sleep(600);",
        Backend::Mysql => "DO SLEEP(600);",
    };
    // Each format on a database of its own: on MariaDB the interrupted step's CREATE TABLE
    // committed itself, and the next run would stop on that.
    let dbs = [db, TestDb::fresh(db_backend).expect("a second database")];
    for (format, db) in ["json", "text"].into_iter().zip(&dbs) {
        let p = project(&db.url, &[("a1.sql", sql_revision(A1, "", "", slow))]);
        let mut child = p.spawn(&["--format", format, "-v", "upgrade"]);
        let (lines, reader) = common::follow_stderr(&mut child);
        // -v prints each statement as it is done; the slow one is the second.
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .expect("the slow statement starts");
            if line.contains("statement 1 done") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(700));
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let out = output_within(child, Duration::from_secs(30), "the interrupted run");
        let stderr = reader.join().expect("the reader");
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
            args: format!("--format {format} -v upgrade"),
        };
        assert_eq!(run.code, Some(130), "{run:?}");
        assert!(
            run.stderr.contains("FAILED: interrupted (Ctrl-C): "),
            "{run:?}"
        );
        if format == "json" {
            let doc = document(&run, "upgrade");
            assert_eq!(doc["error"]["code"], "interrupted", "{doc}");
            assert_eq!(doc["error"]["class"], "failed", "{doc}");
        } else {
            assert!(run.stdout.is_empty(), "{run:?}");
        }
    }
}
per_backend!(interrupted);

/// A server that refuses writes (PostgreSQL: `default_transaction_read_only`): refused before
/// anything runs.
#[test]
fn read_only() {
    let Some(db) = TestDb::postgres() else { return };
    let name = db.name.clone().expect("a server database");
    db.query(&format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on"
    ));
    let p = linear(&db.url);
    let error = provoke(&p, &["upgrade"], "read_only", "usage");
    assert!(
        error["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("read"),
        "{error:?}"
    );
}

/// A step that failed halfway on MariaDB (DDL commits itself), then its first statement edited:
/// `upgrade --resume` refuses.
#[test]
fn resume_refused() {
    let Some(db) = TestDb::mysql() else { return };
    let p = project(
        &db.url,
        &[(
            "a1.sql",
            sql_revision(A1, "", "", "INSERT INTO no_such_table VALUES (1);"),
        )],
    );
    p.migrate(&["upgrade"]).failed_with(1);
    p.write(
        "m/versions/a1.sql",
        &sql_revision(A1, "", "", "INSERT INTO no_such_table VALUES (1);")
            .replace("(id INT PRIMARY KEY)", "(id INT PRIMARY KEY, other INT)"),
    );
    let error = provoke(&p, &["upgrade", "--resume"], "resume_refused", "usage");
    assert_eq!(error["revision"], A1, "{error:?}");
}

/// The server ends the migration's session mid-statement (PostgreSQL: `pg_terminate_backend`,
/// MariaDB: `KILL`): `connection_lost`, worth retrying (exit 3).
fn connection_lost(db: TestDb) {
    let slow = match db.backend {
        Backend::Sqlite => unreachable!("SQLite has no server to end the session"),
        Backend::Postgres => "SELECT pg_sleep(600);",
        Backend::Mysql => "DO SLEEP(600);",
    };
    let backend = db.backend;
    let dbs = [db, TestDb::fresh(backend).expect("a second database")];
    let mut seen = Vec::new();
    for (format, db) in ["json", "text"].into_iter().zip(&dbs) {
        let p = project(&db.url, &[("a1.sql", sql_revision(A1, "", "", slow))]);
        let child = p.spawn(&["--format", format, "upgrade"]);
        // Wait until the slow statement runs, then end its session from another one.
        let waiting = match backend {
            Backend::Postgres => "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND datname = current_database() AND pid <> pg_backend_pid()",
            _ => "SELECT id FROM information_schema.processlist WHERE info LIKE 'DO SLEEP%' AND db = DATABASE() AND id <> CONNECTION_ID()",
        };
        let started = std::time::Instant::now();
        let session = loop {
            if let Some(id) = db.column(waiting).into_iter().next() {
                break id;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the slow statement runs"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        match backend {
            Backend::Postgres => {
                db.query(&format!("SELECT pg_terminate_backend({session})"));
            }
            _ => {
                db.query(&format!("KILL {session}"));
            }
        }
        let out = output_within(
            child,
            Duration::from_secs(60),
            "the run whose session ended",
        );
        seen.push(Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: format!("--format {format} upgrade"),
        });
    }
    let error = failure(&seen[0], "upgrade", "connection_lost", "unavailable", 3);
    assert_eq!(error["revision"], A1, "{error:?}");
    let line = seen[1].failed_with(3);
    assert!(
        line.contains("statement 2 of revision aaaa11111111"),
        "{line}"
    );
}
/// The servers' tests of [`connection_lost`].
mod connection_lost_on {
    use super::common::TestDb;

    #[test]
    fn postgres() {
        if let Some(db) = TestDb::postgres() {
            super::connection_lost(db);
        }
    }

    #[test]
    fn mysql() {
        if let Some(db) = TestDb::mysql() {
            super::connection_lost(db);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The list

/// The codes this file provokes through the binary.
const PROVOKED: &[&str] = &[
    "config",
    "invalid_url",
    "usage",
    "io",
    "new_revision",
    "parse_error",
    "invalid_revision_id",
    "duplicate_revision",
    "cycle",
    "duplicate_branch_label",
    "missing_revision",
    "empty_target",
    "unknown_revision",
    "unknown_branch",
    "computed_branch_label",
    "ambiguous_revision",
    "not_in_branch",
    "multiple_heads",
    "relative_out_of_range",
    "not_reachable",
    "ambiguous_target",
    "unrunnable_revision",
    "no_ddl_for_dialect",
    "missing_direction",
    "revision_id_too_long",
    "read_only",
    "version_table_shape",
    "history_table_shape",
    "resume_refused",
    "statement_failed",
    "history_check",
    "check_failed",
    "lint_failed",
    "verify_failed",
    "drift",
    "interrupted",
    "connect_failed",
    "lock_timeout",
    "ddl_lock_timeout",
    "connection_lost",
];

/// Codes the binary cannot be made to print on purpose, and why.
const NOT_PROVOKED: &[(&str, &str)] = &[
    (
        "not_read",
        "the binary always reads revisions with their SQL; only a library caller that loaded \
         headers only can run into it",
    ),
    (
        "version_table_mismatch",
        "the planner's own checks refuse a version table that contradicts the graph first \
         (Alembic's `overlaps with other requested revisions`, not_reachable)",
    ),
    (
        "database_error",
        "a failure of the executor's own bookkeeping (version table, history, lock queries) on \
         a healthy server; no test can make the server refuse those alone",
    ),
];

/// The quoted codes of the `fn code` bodies (and the `code: "..."` of the checks' findings)
/// of `file`.
fn codes_in_source(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(common::repo_root().join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut bodies = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("pub fn code(") {
        let body = &rest[at..];
        let end = body.find("\n    }\n").unwrap_or(body.len());
        bodies.push(&body[..end]);
        rest = &body[end..];
    }
    let mut codes = Vec::new();
    for body in bodies {
        for part in body.split("=> \"").skip(1) {
            codes.push(part.split('"').next().unwrap_or_default().to_string());
        }
        for part in body.split("\n                \"").skip(1) {
            codes.push(part.split('"').next().unwrap_or_default().to_string());
        }
    }
    for part in text.split("code: \"").skip(1) {
        codes.push(part.split('"').next().unwrap_or_default().to_string());
    }
    codes
}

#[test]
fn every_code_is_documented_and_provoked_or_said_why_not() {
    let mut in_source: Vec<String> = [
        "migrate-core/src/error.rs",
        "migrate-cli/src/error.rs",
        "migrate-cli/src/commands/lint.rs",
        "migrate-cli/src/commands/listing.rs",
        "migrate-cli/src/commands/verify.rs",
    ]
    .iter()
    .flat_map(|f| codes_in_source(f))
    .collect();
    in_source.sort();
    in_source.dedup();
    assert!(in_source.len() > 30, "the codes were read: {in_source:?}");

    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README");
    let table = readme
        .split("### Error codes")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("README has an Error codes section");
    let mut documented: Vec<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    documented.sort();
    assert_eq!(documented, in_source, "README's error codes and the code's");

    let mut covered: Vec<String> = PROVOKED
        .iter()
        .copied()
        .chain(NOT_PROVOKED.iter().map(|(c, _)| *c))
        .map(str::to_string)
        .collect();
    covered.sort();
    assert_eq!(covered, in_source, "provoked here, or said why not");
}
