//! Ctrl-C during `migrate upgrade`, on every backend: the binary is sent SIGINT while a
//! migration's slow statement runs on the database. The statement is cancelled there, the run
//! stops before its next statement, rolls back what is open and releases the lock; it exits 130
//! saying what had been committed and what was rolled back, and the database holds exactly
//! that: nothing on SQLite and PostgreSQL (one transaction for the run), the first migration on
//! MySQL/MariaDB (whose DDL commits itself). The same project then upgrades at once.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{output_within, Backend, Project, TestDb, PROCESS_LIMIT};

const FIRST: &str = "-- create a\n-- Revision ID: a1a1a1a1a1a1\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE a (id INT);\n\n-- migrate:downgrade\nDROP TABLE a;\n";

/// The second revision: `slow` (runs for minutes unless stopped), then a table that must not
/// be created.
fn second(slow: &str) -> String {
    format!(
        "-- slow\n-- Revision ID: b2b2b2b2b2b2\n-- Revises: a1a1a1a1a1a1\n\n-- migrate:upgrade\n{slow}\nCREATE TABLE b (id INT);\n\n-- migrate:downgrade\nDROP TABLE b;\n"
    )
}

fn slow_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000000) SELECT count(*) FROM c;",
        Backend::Postgres => "SELECT pg_sleep(600);",
        Backend::Mysql => "DO SLEEP(600);",
    }
}

fn ctrl_c_stops_the_run_and_says_what_it_left(db: TestDb) {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    );
    p.write("m/versions/a1_a.sql", FIRST);
    p.write(
        "m/versions/b2_slow.sql",
        &second(slow_statement(db.backend)),
    );

    let mut child = p.spawn(&["upgrade", "head"]);
    let (lines, reader) = common::follow_stderr(&mut child);
    // The first migration is done once its line is printed; the slow statement then runs.
    loop {
        let line = lines
            .recv_timeout(PROCESS_LIMIT)
            .expect("the first migration's line");
        if line.starts_with("Running upgrade  -> a1a1a1a1a1a1") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(700));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let out = output_within(child, Duration::from_secs(20), "the interrupted run");
    let stderr = reader.join().expect("the reader");
    assert_eq!(out.status.code(), Some(130), "{stderr}");

    let failed = stderr
        .split_once("FAILED: ")
        .map(|(_, f)| f)
        .unwrap_or_else(|| panic!("a FAILED line: {stderr}"));
    assert!(failed.starts_with("interrupted (Ctrl-C): "), "{failed}");
    assert!(
        failed.contains("revision b2b2b2b2b2b2 (upgrade)"),
        "names where it stopped: {failed}"
    );
    let tables = db.tables();
    match db.backend {
        Backend::Sqlite | Backend::Postgres => {
            assert!(failed.contains("nothing had been committed"), "{failed}");
            assert!(
                failed.contains("The transaction was rolled back"),
                "{failed}"
            );
            assert_eq!(
                db.versions(),
                None,
                "the version table's creation rolled back"
            );
            assert!(tables.is_empty(), "{tables:?}");
        }
        Backend::Mysql => {
            assert!(
                failed.contains("1 step had been committed; the version table is at a1a1a1a1a1a1"),
                "{failed}"
            );
            assert_eq!(db.versions(), Some(vec!["a1a1a1a1a1a1".to_string()]));
            assert!(tables.contains(&"a".to_string()), "{tables:?}");
            assert!(
                !tables.contains(&"b".to_string()),
                "b is never created: {tables:?}"
            );
        }
    }

    // Nothing is left running or locked. On SQLite and PostgreSQL nothing of b2 was applied,
    // so the run goes through once its slow statement is gone; on MySQL/MariaDB the history
    // knows b2 stopped after its first statement, and `--resume` finishes it from the second.
    match db.backend {
        Backend::Mysql => {
            p.migrate(&["upgrade", "--resume"]).ok();
        }
        _ => {
            p.write("m/versions/b2_slow.sql", &second(""));
            p.migrate(&["upgrade", "head"]).ok();
        }
    }
    assert_eq!(db.versions(), Some(vec!["b2b2b2b2b2b2".to_string()]));
    assert!(db.tables().contains(&"b".to_string()));
}
per_backend!(ctrl_c_stops_the_run_and_says_what_it_left);
