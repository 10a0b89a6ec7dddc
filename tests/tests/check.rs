//! `migrate check` and refused revisions: a revision written with an Alembic operation
//! `migrate` does not compile (`op.bulk_insert`) stays in
//! the graph for listings and `stamp`, while `upgrade` through it is refused by file, line and
//! construct before anything runs.

mod common;

use common::{Project, TestDb};

const ALEMBIC_OPS: &str = r#""""create accounts with Alembic operations

Revision ID: bb22bb22bb22
Revises: aa11aa11aa11
"""
from alembic import op
import sqlalchemy as sa

revision = "bb22bb22bb22"
down_revision = "aa11aa11aa11"
branch_labels = None
depends_on = None


def upgrade():
    op.bulk_insert(sa.table("accounts", sa.column("id")), [{"id": 1}])


def downgrade():
    op.drop_table("accounts")
"#;

const PLAIN_SQL: &str = r#""""create plans

Revision ID: aa11aa11aa11
Revises:
"""
from alembic import op

revision = "aa11aa11aa11"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE plans (id INTEGER PRIMARY KEY)")
"#;

/// An empty SQLite database and a project on it whose revisions are in `m/versions`.
fn sqlite_project() -> (TestDb, Project) {
    let db = TestDb::sqlite();
    let project = Project::empty();
    let url = format!("sqlite:///{}", db.sqlite_path().unwrap().display());
    project.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{url}\"\n"),
    );
    (db, project)
}

#[test]
fn check_lists_what_migrate_cannot_run_and_upgrade_refuses_it_before_running_anything() {
    let (db, project) = sqlite_project();
    project
        .write("m/versions/aa11_create_plans.py", PLAIN_SQL)
        .write("m/versions/bb22_accounts.py", ALEMBIC_OPS);

    let run = project.migrate(&["check"]);
    let message = run.failed();
    assert_eq!(
        message,
        "2 of 2 revisions cannot be run by migrate in one direction or both (listed above)"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].starts_with("bb22bb22bb22: upgrade cannot run: "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("m/versions/bb22_accounts.py:16:5"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("op.bulk_insert"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("aa11aa11aa11: upgrade ok; downgrade cannot run: "),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("has no downgrade"), "{}", lines[1]);

    // Listings see the whole graph.
    assert_eq!(project.migrate(&["heads"]).ok(), "bb22bb22bb22 (head)\n");

    // upgrade head is refused while planning: not even the first, runnable revision runs.
    let refused = project.migrate(&["upgrade", "head"]).failed();
    assert!(
        refused.contains(
            "m/versions/bb22_accounts.py:16:5: revision bb22bb22bb22 cannot be run by migrate"
        ),
        "{refused}"
    );
    assert!(refused.contains("stamp"), "{refused}");
    assert_eq!(
        db.versions(),
        None,
        "nothing ran, not even the version table's creation"
    );

    // The runnable part, then stamp past the revision the database got from Alembic.
    project.migrate(&["upgrade", "aa11aa11aa11"]).ok();
    project.migrate(&["stamp", "head"]).ok();
    assert_eq!(db.versions(), Some(vec!["bb22bb22bb22".to_string()]));
    assert_eq!(project.migrate(&["current"]).ok(), "bb22bb22bb22 (head)\n");
}

/// A `downgrade()` whose one error only folding finds (a bytes literal next to a str one,
/// which CPython refuses when it compiles the file, not when it tokenizes it).
const DOWNGRADE_FOLD_ERROR: &str =
    "\n\ndef downgrade():\n    op.execute(b\"DROP TABLE \" \"plans\")\n";

/// `upgrade --sql` folds only `upgrade()` (and `downgrade --sql` only `downgrade()`): an error
/// that only folding finds in the other direction does not stop the script, while `check`,
/// the online commands and the direction's own script still refuse the file.
#[test]
fn an_offline_script_folds_only_its_own_direction_and_check_still_reads_both() {
    let (db, project) = sqlite_project();
    project.write(
        "m/versions/aa11_create_plans.py",
        &format!("{PLAIN_SQL}{DOWNGRADE_FOLD_ERROR}"),
    );
    let error = "m/versions/aa11_create_plans.py:19:31:";
    let cause = "invalid Python: cannot mix bytes and nonbytes literals";

    let run = project.migrate(&["upgrade", "head", "--sql"]);
    let script = run.ok();
    assert!(
        script.contains("CREATE TABLE plans (id INTEGER PRIMARY KEY);"),
        "{script}"
    );

    for args in [
        &["check"][..],
        &["downgrade", "head:base", "--sql"],
        &["upgrade", "head"],
    ] {
        let message = project.migrate(args).failed();
        assert!(message.contains(error), "{args:?}: {message}");
        assert!(message.contains(cause), "{args:?}: {message}");
    }
    assert_eq!(db.versions(), None, "the online upgrade ran nothing");
}
