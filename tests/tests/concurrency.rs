//! Issue 3: eight `migrate upgrade head` processes started at once against one database apply
//! every migration exactly once. Each of the 50 revisions inserts its id into `applied_log`;
//! afterwards every process has exited 0, the log holds every revision exactly once and the
//! version table names the last one.

mod common;

use common::{wait, Project, TestDb};

const REVISIONS: usize = 50;
const PROCESSES: usize = 8;

fn revision_id(n: usize) -> String {
    format!("c0c0{n:08x}")
}

/// A project of `REVISIONS` linear Alembic revisions; the first creates the log table.
fn fifty_revision_project(url: &str) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"migrations\"\nurl = \"{url}\"\n"),
    );
    for n in 1..=REVISIONS {
        let id = revision_id(n);
        let down = if n == 1 {
            "None".to_string()
        } else {
            format!("\"{}\"", revision_id(n - 1))
        };
        let create = if n == 1 {
            "    op.execute(\"CREATE TABLE applied_log (revision VARCHAR(32) NOT NULL)\")\n"
        } else {
            ""
        };
        p.write(
            &format!("migrations/versions/{id}_step_{n}.py"),
            &format!(
                "\"\"\"step {n}\"\"\"\nfrom alembic import op\n\nrevision = \"{id}\"\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{create}    op.execute(\"INSERT INTO applied_log (revision) VALUES ('{id}')\")\n\n\ndef downgrade():\n    op.execute(\"DELETE FROM applied_log WHERE revision = '{id}'\")\n"
            ),
        );
    }
    p
}

fn eight_processes_apply_each_revision_once(db: TestDb) {
    let p = fifty_revision_project(&db.url);
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| p.spawn(&["upgrade", "head"]))
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        wait(child, &format!("upgrade head (process {i})")).ok();
    }

    let counts =
        db.query("SELECT revision, COUNT(*) FROM applied_log GROUP BY revision ORDER BY revision");
    let expected: Vec<Vec<Option<String>>> = (1..=REVISIONS)
        .map(|n| vec![Some(revision_id(n)), Some("1".to_string())])
        .collect();
    assert_eq!(counts, expected, "every revision exactly once");
    assert_eq!(db.versions(), Some(vec![revision_id(REVISIONS)]));
}
per_backend!(eight_processes_apply_each_revision_once);
