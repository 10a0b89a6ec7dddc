//! Issue 15, "Done when": the history table `alembic_version_history`, the checksums of what
//! ran and what `check`, `upgrade`, `repair`, `upgrade --resume` and `history --applied` make of
//! them, on every backend, as a user sees them (exit status, messages, database state).
//!
//! - an edited applied revision: `check` exits 1 naming it, its file and the statements that
//!   differ; `upgrade` refuses naming the way out and changes nothing; `checksum_mismatch =
//!   "warn"` lets it go on with a warning;
//! - CRLF, trailing blanks and comment-only lines are no edit;
//! - `repair` records the edit (a `repaired` row) and `check` passes;
//! - a deleted applied file is named;
//! - MariaDB: statement 2 of 3 fails -> the history says so, `upgrade` refuses, the fixed file
//!   `upgrade --resume`s from statement 2, an edited statement 1 refuses; `repair --applied` /
//!   `--rolled-back` clear the failed state;
//! - revisions real Alembic applied are adopted once, and Alembic keeps working afterwards;
//! - 8 concurrent `upgrade head` runs write one `applied` row per revision;
//! - `stamp` writes `stamped` rows, `downgrade` rows with their direction.
//!
//! (`interrupt.rs` resumes a Ctrl-C'd MySQL run; `configuration.rs` lists the settings.)

mod common;

use common::{alembic, fixture, run_alembic, wait, Backend, Project, Run, TestDb, HISTORY_TABLE};

const A1: &str = "a1a1a1a1a1a1";
const B2: &str = "b2b2b2b2b2b2";
const C3: &str = "c3c3c3c3c3c3";

const A1_FILE: &str = "m/versions/a1_accounts.sql";
const B2_FILE: &str = "m/versions/b2_plans.sql";
const C3_FILE: &str = "m/versions/c3_notes.sql";

/// Two statements: a table and a row in it.
const A1_SQL: &str = "-- accounts\n-- Revision ID: a1a1a1a1a1a1\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE accounts (id INT PRIMARY KEY, name VARCHAR(40));\nINSERT INTO accounts (id, name) VALUES (1, 'first');\n\n-- migrate:downgrade\nDROP TABLE accounts;\n";
const B2_SQL: &str = "-- plans\n-- Revision ID: b2b2b2b2b2b2\n-- Revises: a1a1a1a1a1a1\n\n-- migrate:upgrade\nCREATE TABLE plans (id INT PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE plans;\n";
const C3_SQL: &str = "-- notes\n-- Revision ID: c3c3c3c3c3c3\n-- Revises: b2b2b2b2b2b2\n\n-- migrate:upgrade\nCREATE TABLE notes (id INT PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE notes;\n";

/// `A1_SQL` with another value inserted: what the database receives changes.
fn a1_edited() -> String {
    A1_SQL.replace("(1, 'first')", "(1, 'renamed')")
}

/// A project `m/` on `db` holding `files`.
fn project(db: &TestDb, files: &[(&str, &str)]) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    );
    for (path, text) in files {
        p.write(path, text);
    }
    p
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The history as `revision direction outcome` lines (the table must exist).
fn history(db: &TestDb) -> Vec<String> {
    db.history()
        .unwrap_or_else(|| panic!("{HISTORY_TABLE} does not exist"))
}

/// The lines of `check`'s stdout that start with `error:`.
fn check_errors(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect()
}

/// `check` passes: exit 0, no error line.
#[track_caller]
fn check_passes(p: &Project) {
    let run = p.migrate(&["check"]);
    run.ok();
    assert!(check_errors(&run).is_empty(), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// 1. An edited applied revision

fn edited_revision_is_named_by_check_and_stops_upgrade(db: TestDb) {
    let p = project(&db, &[(A1_FILE, A1_SQL), (B2_FILE, B2_SQL)]);
    p.migrate(&["upgrade", A1]).ok();
    check_passes(&p);
    p.write(A1_FILE, &a1_edited());

    let run = p.migrate(&["check"]);
    assert_eq!(
        run.failed_with(1),
        "the database's history has 1 error (listed above)"
    );
    let errors = check_errors(&run);
    assert_eq!(errors.len(), 1, "{}", run.stdout);
    assert!(
        errors[0].starts_with(&format!(
            "error: {A1_FILE}: revision {A1} was edited after it ran: its SQL now has checksum "
        )),
        "{}",
        errors[0]
    );
    // The statements that differ, old and new.
    assert!(
        run.stdout
            .contains("\n    - statement 2: INSERT INTO accounts (id, name) VALUES (1, 'first')\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "\n    + statement 2: INSERT INTO accounts (id, name) VALUES (1, 'renamed')\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("CREATE TABLE accounts"),
        "the unchanged statement is not part of the diff: {}",
        run.stdout
    );

    // upgrade refuses before anything runs, naming the revision, its file and the way out.
    let refused = p.migrate(&["upgrade", "head"]).failed_with(1);
    assert!(
        refused.starts_with("the history stops this run before anything runs (1 finding):"),
        "{refused}"
    );
    assert!(
        refused.contains(&format!("{A1_FILE}: revision {A1} was edited after it ran")),
        "{refused}"
    );
    assert!(refused.contains("`migrate repair`"), "{refused}");
    assert!(refused.contains("add a new revision"), "{refused}");
    assert_eq!(db.versions(), Some(strings(&[A1])));
    assert!(!db.tables().contains(&"plans".to_string()));
    assert_eq!(history(&db), strings(&["a1a1a1a1a1a1 upgrade applied"]));
    // downgrade refuses too.
    p.migrate(&["downgrade", "base"]).failed_with(1);
    assert_eq!(db.versions(), Some(strings(&[A1])));

    // checksum_mismatch = "warn": the run goes on and says what it found.
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \"m\"\nurl = \"{}\"\nchecksum_mismatch = \"warn\"\n",
            db.url
        ),
    );
    let run = p.migrate(&["upgrade", "head"]);
    run.ok();
    assert!(
        run.stderr.contains(&format!(
            "warning: {A1_FILE}: revision {A1} was edited after it ran"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(db.versions(), Some(strings(&[B2])));
    assert!(db.tables().contains(&"plans".to_string()));
    // check still tells the truth: the edit is still there.
    p.migrate(&["check"]).failed_with(1);
}
per_backend!(edited_revision_is_named_by_check_and_stops_upgrade);

// ---------------------------------------------------------------------------------------------
// 2. Formatting is no edit

fn line_endings_blanks_and_comments_are_no_edit(db: TestDb) {
    let p = project(&db, &[(A1_FILE, A1_SQL), (B2_FILE, B2_SQL)]);
    p.migrate(&["upgrade", A1]).ok();

    let crlf = A1_SQL.replace('\n', "\r\n");
    let trailing = A1_SQL.replace(");\n", ");  \t\n");
    let comment_between = A1_SQL.replace("INSERT", "-- the first account\n\nINSERT");
    let comment_after = A1_SQL.replace(
        "'first');\n",
        "'first');\n-- a note after the last statement\n",
    );
    let all = comment_between
        .replace("'first');\n", "'first');\n   -- indented note\n")
        .replace(");\n", ");   \n")
        .replace('\n', "\r\n");
    for (what, text) in [
        ("CRLF", &crlf),
        ("trailing blanks", &trailing),
        ("a comment line between statements", &comment_between),
        ("a comment line after the last statement", &comment_after),
        ("all of them", &all),
    ] {
        assert_ne!(text, A1_SQL, "{what}: the file changes");
        p.write(A1_FILE, text);
        let run = p.migrate(&["check"]);
        assert_eq!(run.code, Some(0), "{what}:\n{}{}", run.stdout, run.stderr);
        assert!(check_errors(&run).is_empty(), "{what}: {}", run.stdout);
    }
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[B2])));
    assert_eq!(
        history(&db),
        strings(&[
            "a1a1a1a1a1a1 upgrade applied",
            "b2b2b2b2b2b2 upgrade applied"
        ]),
        "no repair, no adoption"
    );
}
per_backend!(line_endings_blanks_and_comments_are_no_edit);

// ---------------------------------------------------------------------------------------------
// 3. repair

fn repair_records_a_reviewed_edit(db: TestDb) {
    let p = project(&db, &[(A1_FILE, A1_SQL), (B2_FILE, B2_SQL)]);
    p.migrate(&["upgrade", A1]).ok();
    p.write(A1_FILE, &a1_edited());
    p.migrate(&["check"]).failed_with(1);

    assert_eq!(
        p.migrate(&["repair"]).ok(),
        format!("recorded repaired upgrade of {A1}\n")
    );
    check_passes(&p);
    assert_eq!(
        history(&db),
        strings(&[
            "a1a1a1a1a1a1 upgrade applied",
            "a1a1a1a1a1a1 upgrade repaired"
        ])
    );
    // Recording the checksum moves no version: before and after are the version rows.
    let text = p.migrate(&["history", "--applied"]).ok().to_string();
    let repaired = text.lines().nth(1).unwrap_or_default();
    assert!(
        repaired.contains(&format!(" upgrade {A1} {A1} -> {A1} repaired (")),
        "{text}"
    );
    let sums = db.column(&format!(
        "SELECT checksum FROM {HISTORY_TABLE} WHERE revision = '{A1}' ORDER BY id"
    ));
    assert_eq!(sums.len(), 2);
    assert_ne!(sums[0], sums[1], "the repaired row has the new checksum");
    assert_eq!(
        p.migrate(&["repair"]).ok(),
        "nothing to repair: every applied revision's checksum matches its file\n"
    );
    assert_eq!(history(&db).len(), 2, "nothing to repair writes nothing");
    assert_eq!(
        db.versions(),
        Some(strings(&[A1])),
        "repair moves no version"
    );

    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[B2])));
    // Going back to the original text is an edit again.
    p.write(A1_FILE, A1_SQL);
    p.migrate(&["check"]).failed_with(1);
}
per_backend!(repair_records_a_reviewed_edit);

// ---------------------------------------------------------------------------------------------
// 4. A deleted applied file

fn deleted_applied_file_is_named(db: TestDb) {
    let p = project(
        &db,
        &[(A1_FILE, A1_SQL), (B2_FILE, B2_SQL), (C3_FILE, C3_SQL)],
    );
    p.migrate(&["upgrade", "head"]).ok();
    check_passes(&p);

    // The head's file: the version table names a revision the folder does not know.
    std::fs::remove_file(p.path().join(C3_FILE)).expect("removing c3");
    let run = p.migrate(&["check"]);
    assert_eq!(
        run.failed_with(1),
        "the database's history has 1 error (listed above)"
    );
    assert_eq!(
        check_errors(&run),
        [format!("error: the version table names revision {C3}, which no file in the version locations declares (deleted, or another project's folder)")]
    );
    let refused = p.migrate(&["upgrade", "head"]).failed();
    assert!(refused.contains(C3), "{refused}");

    // A file in the middle: the revision after it names it.
    p.write(C3_FILE, C3_SQL);
    std::fs::remove_file(p.path().join(B2_FILE)).expect("removing b2");
    let message = p.migrate(&["check"]).failed_with(2);
    assert_eq!(
        message,
        format!(
            "Revision {B2} referenced from {C3} is not present; fix `-- Revises:` in {C3_FILE}"
        )
    );
    p.write(B2_FILE, B2_SQL);
    check_passes(&p);

    // Stamped back to a1, the revisions after it are no longer applied: deleting their files
    // is no error (a warning at most: the history saw them run).
    p.migrate(&["stamp", A1]).ok();
    std::fs::remove_file(p.path().join(C3_FILE)).expect("removing c3");
    std::fs::remove_file(p.path().join(B2_FILE)).expect("removing b2");
    let run = p.migrate(&["check"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(check_errors(&run).is_empty(), "{}", run.stdout);
}
per_backend!(deleted_applied_file_is_named);

// ---------------------------------------------------------------------------------------------
// 5. MariaDB: a failed statement, resume and repair

/// Three statements; the second refers to a table that does not exist unless `fixed`.
/// Statement 1 creates a table, so running it twice fails.
fn three_statements(first: &str, second: &str) -> String {
    format!(
        "-- three steps\n-- Revision ID: b2b2b2b2b2b2\n-- Revises: a1a1a1a1a1a1\n\n-- migrate:upgrade\n{first}\n{second}\nCREATE TABLE step_three (id INT);\n\n-- migrate:downgrade\nDROP TABLE step_three;\nDROP TABLE step_one;\n"
    )
}

const STEP_ONE: &str = "CREATE TABLE step_one (id INT);";
const BROKEN_TWO: &str = "INSERT INTO no_such_table (id) VALUES (1);";
const FIXED_TWO: &str = "INSERT INTO step_one (id) VALUES (2);";

/// A MariaDB project whose b2 failed at statement 2, leaving statement 1 applied.
fn half_applied(db: &TestDb) -> Project {
    let p = project(
        db,
        &[
            (A1_FILE, A1_SQL),
            (B2_FILE, &three_statements(STEP_ONE, BROKEN_TWO)),
        ],
    );
    let message = p.migrate(&["upgrade", "head"]).failed_with(1);
    assert!(
        message.starts_with(&format!(
            "{B2_FILE}:7: statement 2 of revision {B2} (upgrade) failed: "
        )),
        "{message}"
    );
    assert!(
        message.contains("migrate upgrade --resume"),
        "the failure names the way out: {message}"
    );
    assert_eq!(db.versions(), Some(strings(&[A1])));
    let tables = db.tables();
    assert!(tables.contains(&"step_one".to_string()), "{tables:?}");
    assert!(!tables.contains(&"step_three".to_string()), "{tables:?}");
    p
}

#[test]
fn mysql_failed_statement_is_recorded_and_resumed() {
    let Some(db) = TestDb::fresh(Backend::Mysql) else {
        return;
    };
    let p = half_applied(&db);
    // The same failure as JSON, on a database of its own: it says the revision can be resumed.
    let other = TestDb::fresh(Backend::Mysql).expect("a second MariaDB database");
    let q = project(
        &other,
        &[
            (A1_FILE, A1_SQL),
            (B2_FILE, &three_statements(STEP_ONE, BROKEN_TWO)),
        ],
    );
    let run = q.migrate(&["--format", "json", "upgrade", "head"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let error = &json["error"];
    assert_eq!(error["code"], "statement_failed", "{json}");
    assert_eq!(error["statement_index"], 2, "{json}");
    assert_eq!(error["left"]["state"], "implicit_commit", "{json}");
    assert_eq!(error["left"]["ran_before"], 1, "{json}");
    assert_eq!(error["resumable"], true, "{json}");
    assert_eq!(
        history(&db),
        strings(&[
            "a1a1a1a1a1a1 upgrade applied",
            "b2b2b2b2b2b2 upgrade failed"
        ])
    );

    // history --applied, text: one line per row, the failed one with its statement and error.
    let text = p.migrate(&["history", "--applied"]).ok().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(&format!(" upgrade {A1} <base> -> {A1} applied (")),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(&format!(" upgrade {B2} {A1} -> {B2} failed (")),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(", at statement 2)"), "{}", lines[1]);
    assert!(lines[1].contains("no_such_table"), "{}", lines[1]);

    // history --applied, JSON.
    let json: serde_json::Value = serde_json::from_str(
        p.migrate(&["--format", "json", "history", "--applied"])
            .ok(),
    )
    .expect("JSON");
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{json}");
    let failed = &rows[1];
    assert_eq!(failed["revision"], B2);
    assert_eq!(failed["direction"], "upgrade");
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["statement_index"], 2);
    assert_eq!(failed["statements"], 3);
    assert_eq!(failed["from_versions"], serde_json::json!([A1]));
    assert!(
        failed["error"]
            .as_str()
            .unwrap_or("")
            .contains("no_such_table"),
        "{failed}"
    );
    // Its times are the step's: statement 1 (a CREATE TABLE) took a measurable time.
    assert!(
        failed["duration_ms"].as_f64().unwrap_or(0.0) > 0.0,
        "{failed}"
    );
    assert!(
        failed["started_at"].as_str() < failed["finished_at"].as_str(),
        "{failed}"
    );
    assert_eq!(rows[0]["outcome"], "applied");
    assert_eq!(rows[0]["checksum_version"], 1);

    // check and upgrade name the failed step and the way out.
    let run = p.migrate(&["check"]);
    run.failed_with(1);
    let errors = check_errors(&run);
    assert_eq!(errors.len(), 1, "{}", run.stdout);
    assert!(
        errors[0].starts_with(&format!(
            "error: the upgrade of {B2} failed at statement 2 on "
        )),
        "{}",
        errors[0]
    );
    let refused = p.migrate(&["upgrade", "head"]).failed_with(1);
    assert!(
        refused.contains(&format!("the upgrade of {B2} failed at statement 2")),
        "{refused}"
    );
    assert!(refused.contains("migrate upgrade --resume"), "{refused}");
    assert_eq!(db.versions(), Some(strings(&[A1])));

    // Statement 2 fixed, but statement 1 edited too: --resume refuses, nothing runs.
    p.write(
        B2_FILE,
        &three_statements("CREATE TABLE step_one (id BIGINT);", FIXED_TWO),
    );
    let refused = p.migrate(&["upgrade", "--resume"]).failed_with(2);
    assert_eq!(
        refused,
        format!("cannot resume revision {B2}: statement 1 changed since it ran; finish or undo the step by hand and say so with `migrate repair --applied` or `--rolled-back`; nothing was run")
    );
    assert_eq!(db.column("SELECT COUNT(*) FROM step_one"), ["0"]);
    assert!(!db.tables().contains(&"step_three".to_string()));

    // Only statement 2 fixed (with a comment and CRLF, which do not count): --resume runs
    // statements 2 and 3 only; statement 1 running again would fail (the table exists).
    p.write(
        B2_FILE,
        &three_statements(
            &format!("-- made by the first run\r\n{STEP_ONE}"),
            FIXED_TWO,
        ),
    );
    let run = p.migrate(&["upgrade", "--resume"]);
    run.ok();
    assert!(
        run.stderr.contains(&format!(
            "Resuming {B2} at statement 2 (statement 1 stayed applied): {}",
            FIXED_TWO
                .lines()
                .next()
                .unwrap()
                .trim_end()
                .trim_end_matches(';')
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("Running upgrade {A1} -> {B2}, three steps")),
        "{}",
        run.stderr
    );
    assert_eq!(db.versions(), Some(strings(&[B2])));
    assert_eq!(
        db.column("SELECT id FROM step_one"),
        ["2"],
        "statement 2 ran once"
    );
    assert!(db.tables().contains(&"step_three".to_string()));
    assert_eq!(
        history(&db),
        strings(&[
            "a1a1a1a1a1a1 upgrade applied",
            "b2b2b2b2b2b2 upgrade failed",
            "b2b2b2b2b2b2 upgrade applied"
        ])
    );
    check_passes(&p);
    // Nothing is left to resume.
    let nothing = p.migrate(&["upgrade", "--resume"]).failed_with(2);
    assert!(nothing.starts_with("nothing to resume"), "{nothing}");
}

#[test]
fn mysql_repair_applied_and_rolled_back_clear_a_failed_step() {
    let Some(db) = TestDb::fresh(Backend::Mysql) else {
        return;
    };
    // --applied: the user finished statements 2 and 3 by hand.
    let p = half_applied(&db);
    db.query("CREATE TABLE step_three (id INT)");
    let out = p.migrate(&["repair", "--applied"]).ok().to_string();
    assert!(out.contains(B2), "{out}");
    assert_eq!(
        db.versions(),
        Some(strings(&[B2])),
        "the version table moved"
    );
    assert_eq!(
        history(&db),
        strings(&[
            "a1a1a1a1a1a1 upgrade applied",
            "b2b2b2b2b2b2 upgrade failed",
            "b2b2b2b2b2b2 upgrade repaired"
        ])
    );
    check_passes(&p);
    let message = p.migrate(&["repair", "--applied"]).failed_with(2);
    assert_eq!(
        message,
        "no failed step is recorded in the history; nothing to repair"
    );

    // --rolled-back: the user undid statement 1 by hand; the fixed revision then runs whole.
    let Some(db) = TestDb::fresh(Backend::Mysql) else {
        return;
    };
    let p = half_applied(&db);
    db.query("DROP TABLE step_one");
    let out = p.migrate(&["repair", "--rolled-back"]).ok().to_string();
    assert!(out.contains(B2), "{out}");
    assert_eq!(
        db.versions(),
        Some(strings(&[A1])),
        "the version table stays"
    );
    assert_eq!(
        history(&db),
        strings(&[
            "a1a1a1a1a1a1 upgrade applied",
            "b2b2b2b2b2b2 upgrade failed",
            "b2b2b2b2b2b2 upgrade rolled_back"
        ])
    );
    check_passes(&p);
    p.write(B2_FILE, &three_statements(STEP_ONE, FIXED_TWO));
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[B2])));
    assert_eq!(db.column("SELECT id FROM step_one"), ["2"]);
}

/// On SQLite and PostgreSQL a failed statement leaves nothing: no failed state, nothing to
/// resume, the fixed file simply runs.
fn transactional_failure_leaves_nothing_to_resume(db: TestDb) {
    let p = project(
        &db,
        &[
            (A1_FILE, A1_SQL),
            (B2_FILE, &three_statements(STEP_ONE, BROKEN_TWO)),
        ],
    );
    p.migrate(&["upgrade", "head"]).failed_with(1);
    assert!(!db.tables().contains(&"step_one".to_string()));
    check_passes(&p);
    let nothing = p.migrate(&["upgrade", "--resume"]).failed_with(2);
    assert!(nothing.starts_with("nothing to resume"), "{nothing}");
    p.write(B2_FILE, &three_statements(STEP_ONE, FIXED_TWO));
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[B2])));
}

/// A `transaction=false` section is half-applied on every backend when its statement 2
/// fails: recorded and resumed as on MySQL.
fn outside_a_transaction_is_resumed_too(db: TestDb) {
    let revision = three_statements(STEP_ONE, BROKEN_TWO).replace(
        "-- migrate:upgrade\n",
        "-- migrate:upgrade transaction=false\n",
    );
    let p = project(&db, &[(A1_FILE, A1_SQL), (B2_FILE, &revision)]);
    let message = p.migrate(&["upgrade", "head"]).failed_with(1);
    let left = match db.backend {
        // MySQL says what it says of any of its failures: DDL commits itself.
        Backend::Mysql => "mysql commits DDL implicitly: statement 1 of this migration may have been applied",
        _ => "The statement ran outside a transaction (a transaction=false section or an autocommit block): statement 1 of this migration ran before it and stays applied",
    };
    assert!(message.contains(left), "{message}");
    assert!(message.contains("`migrate upgrade --resume`"), "{message}");
    assert!(db.tables().contains(&"step_one".to_string()));
    assert_eq!(
        history(&db),
        strings(&[
            "a1a1a1a1a1a1 upgrade applied",
            "b2b2b2b2b2b2 upgrade failed"
        ])
    );
    p.migrate(&["upgrade", "head"]).failed_with(1);
    p.write(B2_FILE, &revision.replace(BROKEN_TWO, FIXED_TWO));
    p.migrate(&["upgrade", "--resume"]).ok();
    assert_eq!(db.versions(), Some(strings(&[B2])));
    assert_eq!(db.column("SELECT id FROM step_one"), ["2"]);
    assert!(db.tables().contains(&"step_three".to_string()));
}

#[test]
fn sqlite_failure_leaves_nothing_to_resume() {
    if let Some(db) = TestDb::fresh(Backend::Sqlite) {
        transactional_failure_leaves_nothing_to_resume(db);
    }
}

#[test]
fn postgres_failure_leaves_nothing_to_resume() {
    if let Some(db) = TestDb::fresh(Backend::Postgres) {
        transactional_failure_leaves_nothing_to_resume(db);
    }
}
per_backend!(outside_a_transaction_is_resumed_too);

// ---------------------------------------------------------------------------------------------
// 6. Revisions real Alembic applied

/// An Alembic revision whose upgrade runs `statements`.
fn alembic_revision(id: &str, down: Option<&str>, table: &str) -> String {
    let down = down.map_or("None".to_string(), |d| format!("{d:?}"));
    format!(
        "\"\"\"create {table}\n\nRevision ID: {id}\nRevises:\n\"\"\"\nfrom alembic import op\n\nrevision = {id:?}\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE {table} (id INT)\")\n    op.execute(\"INSERT INTO {table} (id) VALUES (1)\")\n\n\ndef downgrade():\n    op.execute(\"DROP TABLE {table}\")\n"
    )
}

const P1: &str = "d1d1d1d1d1d1";
const P2: &str = "d2d2d2d2d2d2";
const P3: &str = "d3d3d3d3d3d3";
const P4: &str = "d4d4d4d4d4d4";
const P5: &str = "d5d5d5d5d5d5";
const INI: &str = "al/alembic.ini";

fn alembic_applied_revisions_are_adopted_once(db: TestDb) {
    let Some(alembic) = alembic() else { return };
    let p = Project::empty();
    for file in ["alembic.ini", "env.py", "script.py.mako"] {
        p.write(
            &format!("al/{file}"),
            &std::fs::read_to_string(fixture("alembic_project").join(file)).expect("fixture"),
        );
    }
    p.write("al/versions/d1_one.py", &alembic_revision(P1, None, "one"));
    p.write(
        "al/versions/d2_two.py",
        &alembic_revision(P2, Some(P1), "two"),
    );
    let alembic_run = |args: &[&str]| run_alembic(&alembic, p.path(), INI, &db.url, args);
    let migrate = |args: &[&str]| {
        let mut all = vec!["-c", INI, "--url", &db.url];
        all.extend_from_slice(args);
        p.migrate(&all)
    };

    alembic_run(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[P2])));
    assert_eq!(db.history(), None, "Alembic knows no history table");

    // check before the first migrate run: nothing wrong, the two are not recorded yet.
    let run = migrate(&["check"]);
    run.ok();
    assert!(check_errors(&run).is_empty(), "{}", run.stdout);
    for id in [P1, P2] {
        assert!(
            run.stdout.contains(&format!(
                "note: revision {id} is applied but has no checksum yet"
            )),
            "{}",
            run.stdout
        );
    }

    // The first migrate run adopts both and says so once.
    p.write(
        "al/versions/d3_three.py",
        &alembic_revision(P3, Some(P2), "three"),
    );
    let run = migrate(&["upgrade", "head"]);
    run.ok();
    let said = format!(
        "Recorded the checksums of 2 revisions applied before the history existed (adopted): {P2}, {P1}"
    );
    let alt = format!(
        "Recorded the checksums of 2 revisions applied before the history existed (adopted): {P1}, {P2}"
    );
    assert_eq!(
        run.stderr.matches(&said).count() + run.stderr.matches(&alt).count(),
        1,
        "{}",
        run.stderr
    );
    let text = migrate(&["history", "--applied"]).ok().to_string();
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains(&format!(" -> {P2} adopted ("))),
        "adoption moves no version: {text}"
    );
    let mut adopted = history(&db);
    adopted[..2].sort();
    assert_eq!(
        adopted,
        strings(&[
            "d1d1d1d1d1d1 upgrade adopted",
            "d2d2d2d2d2d2 upgrade adopted",
            "d3d3d3d3d3d3 upgrade applied"
        ])
    );
    // Once: the next runs say nothing of it.
    let again = migrate(&["upgrade", "head"]);
    again.ok();
    assert!(!again.stderr.contains("adopted"), "{}", again.stderr);
    let run = migrate(&["check"]);
    run.ok();
    assert!(!run.stdout.contains("note:"), "{}", run.stdout);
    assert_eq!(history(&db).len(), 3);
    // The adopted checksum is the file's: an edit of an adopted revision is caught.
    let original = p.read("al/versions/d1_one.py");
    p.write(
        "al/versions/d1_one.py",
        &original.replace("VALUES (1)", "VALUES (5)"),
    );
    migrate(&["check"]).failed_with(1);
    p.write("al/versions/d1_one.py", &original);

    // Alembic still reads and moves the database migrate touched.
    assert_eq!(alembic_run(&["current"]).ok(), format!("{P3} (head)\n"));
    p.write(
        "al/versions/d4_four.py",
        &alembic_revision(P4, Some(P3), "four"),
    );
    alembic_run(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[P4])));
    assert_eq!(db.column("SELECT id FROM four"), ["1"]);
    assert_eq!(alembic_run(&["current"]).ok(), format!("{P4} (head)\n"));
    // ... and migrate adopts what Alembic added at its next run that migrates (a run at
    // head changes nothing and reads no history); check notes it until then.
    let run = migrate(&["check"]);
    run.ok();
    assert!(
        run.stdout.contains(&format!(
            "note: revision {P4} is applied but has no checksum yet"
        )),
        "{}",
        run.stdout
    );
    p.write(
        "al/versions/d5_five.py",
        &alembic_revision(P5, Some(P4), "five"),
    );
    let run = migrate(&["upgrade", "head"]);
    run.ok();
    assert!(
        run.stderr.contains(&format!(
            "Recorded the checksums of 1 revision applied before the history existed (adopted): {P4}"
        )),
        "{}",
        run.stderr
    );
    // Alembic downgrades through what migrate ran.
    alembic_run(&["downgrade", "base"]).ok();
    assert_eq!(db.versions(), Some(Vec::new()));
    assert!(!db.tables().contains(&"one".to_string()));
}
per_backend!(alembic_applied_revisions_are_adopted_once);

// ---------------------------------------------------------------------------------------------
// 7. Concurrent runs

const REVISIONS: usize = 20;
const PROCESSES: usize = 8;

fn concurrent_id(n: usize) -> String {
    format!("e0e0{n:08x}")
}

fn eight_runs_write_one_applied_row_per_revision(db: TestDb) {
    let p = project(&db, &[]);
    for n in 1..=REVISIONS {
        let id = concurrent_id(n);
        let down = if n == 1 {
            String::new()
        } else {
            concurrent_id(n - 1)
        };
        let create = if n == 1 {
            "CREATE TABLE applied_log (revision VARCHAR(32) NOT NULL);\n"
        } else {
            ""
        };
        p.write(
            &format!("m/versions/{id}_step.sql"),
            &format!("-- step {n}\n-- Revision ID: {id}\n-- Revises: {down}\n\n-- migrate:upgrade\n{create}INSERT INTO applied_log (revision) VALUES ('{id}');\n\n-- migrate:downgrade\nDELETE FROM applied_log WHERE revision = '{id}';\n"),
        );
    }
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| p.spawn(&["upgrade", "head"]))
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        wait(child, &format!("upgrade head (process {i})")).ok();
    }
    let expected: Vec<String> = (1..=REVISIONS)
        .map(|n| format!("{} upgrade applied", concurrent_id(n)))
        .collect();
    assert_eq!(
        history(&db),
        expected,
        "one applied row per revision, in order"
    );
    let counts =
        db.query("SELECT revision, COUNT(*) FROM applied_log GROUP BY revision ORDER BY revision");
    let once: Vec<Vec<Option<String>>> = (1..=REVISIONS)
        .map(|n| vec![Some(concurrent_id(n)), Some("1".to_string())])
        .collect();
    assert_eq!(counts, once, "every revision ran exactly once");
    assert_eq!(db.versions(), Some(vec![concurrent_id(REVISIONS)]));
    check_passes(&p);
}
per_backend!(eight_runs_write_one_applied_row_per_revision);

// ---------------------------------------------------------------------------------------------
// 8. stamp and downgrade rows

fn stamp_and_downgrade_write_rows(db: TestDb) {
    let p = project(&db, &[(A1_FILE, A1_SQL), (B2_FILE, B2_SQL)]);
    p.migrate(&["upgrade", "head"]).ok();
    p.migrate(&["downgrade", "-1"]).ok();
    p.migrate(&["stamp", "head"]).ok();
    p.migrate(&["stamp", "base"]).ok();
    assert_eq!(
        db.query(&format!(
            "SELECT revision, direction, outcome, from_versions, to_versions, \
             CASE WHEN checksum IS NULL THEN 'no checksum' ELSE 'checksum' END \
             FROM {HISTORY_TABLE} ORDER BY id"
        )),
        [
            [A1, "upgrade", "applied", "", A1, "checksum"],
            [B2, "upgrade", "applied", A1, B2, "checksum"],
            [B2, "downgrade", "applied", B2, A1, "checksum"],
            [B2, "upgrade", "stamped", A1, B2, "no checksum"],
            ["", "downgrade", "stamped", B2, "", "no checksum"],
        ]
        .iter()
        .map(|row| row.iter().map(|v| Some(v.to_string())).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );
    let text = p.migrate(&["history", "--applied"]).ok().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[2].contains(&format!(" downgrade {B2} {B2} -> {A1} applied (")),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains(&format!(" upgrade {B2} {A1} -> {B2} stamped (")),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].contains(&format!(" downgrade <base> {B2} -> <base> stamped (")),
        "{}",
        lines[4]
    );

    // The downgrade row took b2 out of what is applied: b2 may change before it runs again.
    p.migrate(&["stamp", A1]).ok();
    p.write(
        B2_FILE,
        &B2_SQL.replace("(id INT PRIMARY KEY)", "(id INT PRIMARY KEY, n INT)"),
    );
    check_passes(&p);
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.columns("plans"), ["id", "n"]);
}
per_backend!(stamp_and_downgrade_write_rows);

// ---------------------------------------------------------------------------------------------
// check --offline and --single-head

/// `--offline` reads no database (here one it could not reach, and one whose applied
/// revision was edited); several heads are a warning, an error with `--single-head`.
#[test]
fn check_offline_reads_no_database_and_single_head_makes_heads_an_error() {
    let db = TestDb::sqlite();
    let other = "-- other head\n-- Revision ID: cc11cc11cc11\n-- Revises: a1a1a1a1a1a1\n\n-- migrate:upgrade\nCREATE TABLE other (id INT);\n\n-- migrate:downgrade\nDROP TABLE other;\n";
    let p = project(
        &db,
        &[
            (A1_FILE, A1_SQL),
            (B2_FILE, B2_SQL),
            ("m/versions/cc11_other.sql", other),
        ],
    );
    p.migrate(&["upgrade", A1]).ok();
    p.write(A1_FILE, &a1_edited());
    let heads = "the folder has 2 heads (b2b2b2b2b2b2, cc11cc11cc11); merge them (`migrate merge heads`) or name one (`label@head`)";

    // Online: the edit is an error, the heads a warning.
    let run = p.migrate(&["check"]);
    run.failed_with(1);
    assert!(
        run.stdout.contains(&format!("warning: {heads}")),
        "{}",
        run.stdout
    );
    assert_eq!(check_errors(&run).len(), 1, "{}", run.stdout);

    // Offline: no database, so no edit; the heads stay a warning.
    let run = p.migrate(&["check", "--offline"]);
    run.ok();
    assert!(check_errors(&run).is_empty(), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("warning: {heads}")),
        "{}",
        run.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(p.migrate(&["--format", "json", "check", "--offline"]).ok())
            .expect("JSON");
    assert_eq!(json["database_checked"], false, "{json}");
    assert_eq!(json["ok"], true, "{json}");
    let unreachable = [
        "check",
        "--offline",
        "--url",
        "postgresql://nobody@127.0.0.1:1/x",
    ];
    p.migrate(&unreachable).ok();
    p.migrate(&["check", "--url", "postgresql://nobody@127.0.0.1:1/x"])
        .failed_with(3);

    // --single-head: several heads fail the check.
    let run = p.migrate(&["check", "--offline", "--single-head"]);
    assert_eq!(
        run.failed_with(1),
        "the folder has several heads (listed above)"
    );
    assert_eq!(check_errors(&run), [format!("error: {heads}")]);
}

// ---------------------------------------------------------------------------------------------
// A history table made before it kept the statements

/// A table without `statements_sql` (written by a build before it) is read as it is by
/// `check`, which then names an edit without a diff; the next run adds the column and its rows
/// keep their statements.
fn a_table_without_kept_statements_is_read_and_upgraded(db: TestDb) {
    let p = project(
        &db,
        &[(A1_FILE, A1_SQL), (B2_FILE, B2_SQL), (C3_FILE, C3_SQL)],
    );
    p.migrate(&["upgrade", A1]).ok();
    db.query(&format!(
        "ALTER TABLE {HISTORY_TABLE} DROP COLUMN statements_sql"
    ));
    let kept = |db: &TestDb| {
        db.columns(HISTORY_TABLE)
            .contains(&"statements_sql".to_string())
    };
    assert!(!kept(&db));
    check_passes(&p);
    p.write(A1_FILE, &a1_edited());
    let run = p.migrate(&["check"]);
    run.failed_with(1);
    assert_eq!(check_errors(&run).len(), 1, "{}", run.stdout);
    assert!(
        !run.stdout.contains("statement 2:"),
        "no diff without the statements: {}",
        run.stdout
    );
    assert!(!kept(&db), "check changes nothing");
    p.migrate(&["history", "--applied"]).ok();

    p.write(A1_FILE, A1_SQL);
    p.migrate(&["upgrade", B2]).ok();
    assert!(kept(&db), "the run added the column");
    p.write(
        B2_FILE,
        &B2_SQL.replace("(id INT PRIMARY KEY)", "(id BIGINT PRIMARY KEY)"),
    );
    let run = p.migrate(&["check"]);
    run.failed_with(1);
    assert!(
        run.stdout.contains("\n    - statement 1: CREATE TABLE plans (id INT PRIMARY KEY)\n    + statement 1: CREATE TABLE plans (id BIGINT PRIMARY KEY)\n"),
        "{}",
        run.stdout
    );
}
per_backend!(a_table_without_kept_statements_is_read_and_upgraded);

/// A history row the database refuses (here: a constraint added to the history table by
/// hand) fails the run, and the version table is where the message says: the version change
/// and its history rows commit together or not at all, also on MariaDB, where the
/// migration's DDL has already committed itself and left no transaction open.
fn a_refused_history_row_leaves_the_version_table_where_the_message_says(db: TestDb) {
    let p = project(&db, &[(A1_FILE, A1_SQL), (B2_FILE, B2_SQL)]);
    p.migrate(&["upgrade", A1]).ok();
    db.query(&match db.backend {
        Backend::Sqlite => format!(
            "CREATE TRIGGER refuse_b2 BEFORE INSERT ON {HISTORY_TABLE} WHEN NEW.revision = '{B2}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ),
        _ => format!(
            "ALTER TABLE {HISTORY_TABLE} ADD CONSTRAINT refuse_b2 CHECK (revision <> '{B2}')"
        ),
    });
    let message = p.migrate(&["upgrade", "head"]).failed();
    assert!(
        message.contains(&format!("the version table is at {A1}")),
        "{message}"
    );
    assert_eq!(db.versions(), Some(strings(&[A1])), "{message}");
    // With the constraint gone the run goes on (MariaDB's `plans` already exists: its DDL
    // committed, so the revision is stamped past after checking by hand).
    db.query(&match db.backend {
        Backend::Sqlite => "DROP TRIGGER refuse_b2".to_string(),
        Backend::Mysql => format!("ALTER TABLE {HISTORY_TABLE} DROP CONSTRAINT refuse_b2"),
        _ => format!("ALTER TABLE {HISTORY_TABLE} DROP CONSTRAINT refuse_b2"),
    });
    if db.backend == Backend::Mysql {
        p.migrate(&["stamp", B2]).ok();
    } else {
        p.migrate(&["upgrade", "head"]).ok();
    }
    assert_eq!(db.versions(), Some(strings(&[B2])));
}
per_backend!(a_refused_history_row_leaves_the_version_table_where_the_message_says);
