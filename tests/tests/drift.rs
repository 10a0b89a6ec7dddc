//! Issue 18: `migrate drift` replays the revisions the live database's version table names on
//! a scratch database and compares the two catalog snapshots: a column added by hand is named
//! and the exit code is 1; a database migrated only by its revisions has no drift.

mod common;

use common::{fixture, Project, TestDb};

fn hand_added_column_is_named(db: TestDb) {
    let p = Project::example(&db.url);
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(
        p.migrate(&["drift"]).ok(),
        "no drift: the database has the schema its revisions give (8c2b4e6f1a90)\n"
    );

    db.query("ALTER TABLE tenants ADD COLUMN notes VARCHAR(20)");
    let run = p.migrate(&["drift"]);
    assert_eq!(
        run.failed(),
        "drift: 1 difference the revisions do not give (listed above)"
    );
    assert_eq!(
        run.stdout,
        "column notes on tenants is in the live database but no revision creates it\n"
    );

    let run = p.migrate(&["drift", "--format", "json"]);
    run.failed();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["drifted"], true);
    assert_eq!(doc["versions"], serde_json::json!(["8c2b4e6f1a90"]));
    assert_eq!(
        doc["differences"],
        serde_json::json!([{"object": {"kind": "column", "name": "notes", "table": "tenants"}, "change": "added"}])
    );
    // drift changes nothing on the live database.
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    assert_eq!(db.column("SELECT count(*) FROM tenants"), ["1"]);
}
per_backend!(hand_added_column_is_named);

fn several_heads_replay_without_drift(db: TestDb) {
    let p = Project::empty();
    p.copy(&fixture("alembic_project"), "alembic_project");
    let base = [
        "-c",
        "alembic_project/alembic.ini",
        "--url",
        db.url.as_str(),
    ];
    let with = |args: &[&'static str]| [&base[..], args].concat();
    p.migrate(&with(&["upgrade", "heads"])).ok();
    assert_eq!(
        p.migrate(&with(&["drift"])).ok(),
        "no drift: the database has the schema its revisions give (b1c2d3e4f5a6, c7d8e9f0a1b2)\n"
    );
    db.query("DROP VIEW account_report");
    let run = p.migrate(&with(&["drift"]));
    run.failed();
    assert_eq!(
        run.stdout,
        "view account_report is missing from the live database (its revisions create it)\n"
    );
}
per_backend!(several_heads_replay_without_drift);
