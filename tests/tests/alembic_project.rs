//! An existing Alembic project (`tests/fixtures/alembic_project/`: `alembic.ini`, `env.py` and
//! `.py` revisions with two roots, a branch, a merge and a `depends_on`) run by `migrate -c
//! alembic.ini --url URL`: listings, upgrade, inspection, downgrade on every backend; then the
//! interoperability check of issue 4: `migrate` upgrades and real Alembic downgrades the same
//! database, and the reverse, leaving the same schema and `alembic_version` as Alembic alone.
//!
//! Expected output comes from real Alembic 1.20.1 run on the same folder: recorded by
//! `tests/alembic/gen_listings.py` (regenerated and compared by `references.rs`), or run here
//! when a test compares with Alembic directly.

mod common;

use common::reference::{sorted_lines, Session};
use common::{alembic, alembic_stdouts, fixture, run_alembic, Project, Run, TestDb};

const INI: &str = "alembic_project/alembic.ini";

fn project() -> Project {
    let p = Project::empty();
    p.copy(&fixture("alembic_project"), "alembic_project");
    p
}

fn migrate(p: &Project, db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["-c", INI, "--url", &db.url];
    all.extend_from_slice(args);
    p.migrate(&all)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Runs `command` and asserts that it prints what Alembic printed (the session's next
/// command); `current` and `branches` in any order (Python's set order).
#[track_caller]
fn same_as_alembic(p: &Project, db: &TestDb, session: &mut Session, command: &[&str]) {
    let entry = session.next(&command.join(" "));
    let run = migrate(p, db, command);
    entry.assert_printed(
        &run,
        p.path(),
        command == ["current"] || command == ["branches"],
    );
}

/// Runs `command`, which changes the version table, and asserts that it does what Alembic's
/// did: the same rows, Alembic's "Running ..." lines.
#[track_caller]
fn moves_as_alembic(p: &Project, db: &TestDb, session: &mut Session, command: &[&str]) {
    let entry = session.next(&command.join(" "));
    let run = migrate(p, db, command);
    entry.assert_moved(&run, db.versions());
}

/// The listings, then up and down through the branches, the merge and the dependency, as
/// Alembic did (session `alembic_project 1` of `tests/alembic/listings.txt`).
fn alembic_project_up_and_down(db: TestDb) {
    let p = project();
    let mut alembic = Session::start("alembic_project", 1);
    for command in [&["heads"][..], &["branches"], &["history"]] {
        same_as_alembic(&p, &db, &mut alembic, command);
    }

    // `upgrade head` refuses (two heads) with Alembic's words. Alembic has created an empty
    // version table by then; `migrate` refuses while planning and creates nothing.
    let message = migrate(&p, &db, &["upgrade", "head"]).failed();
    let theirs = alembic.next("upgrade head");
    let refusal = theirs.failed.as_deref().expect("Alembic refuses");
    assert!(
        message.starts_with(refusal),
        "{message}\nAlembic: {refusal}"
    );
    assert_eq!(theirs.rows(), Some(vec![]));
    assert_eq!(db.versions(), None);

    moves_as_alembic(&p, &db, &mut alembic, &["upgrade", "heads"]);
    assert_eq!(
        db.tables(),
        ["accounts", "alembic_version", "audit_log", "orders"]
    );
    assert_eq!(db.views(), ["account_report"]);
    assert_eq!(db.columns("accounts"), ["id", "name", "email"]);
    assert_eq!(db.column("SELECT COUNT(*) FROM orders"), ["2"]);
    assert_eq!(db.column("SELECT name FROM account_report"), ["first"]);
    same_as_alembic(&p, &db, &mut alembic, &["current"]);
    same_as_alembic(&p, &db, &mut alembic, &["history", "-r", "current:"]);

    // Down to the branch point runs orders, the merge, the view (it depends on the email
    // column), email and the audit log.
    moves_as_alembic(&p, &db, &mut alembic, &["downgrade", "3f2a1b0c9d8e"]);
    assert_eq!(db.tables(), ["accounts", "alembic_version"]);
    assert!(db.views().is_empty());
    assert_eq!(db.columns("accounts"), ["id", "name"]);
    same_as_alembic(&p, &db, &mut alembic, &["current"]);

    moves_as_alembic(&p, &db, &mut alembic, &["downgrade", "base"]);
    assert_eq!(db.tables(), ["alembic_version"]);

    // `reporting@head` runs accounts, email and the view, and records only c7d8e9f0a1b2 (its
    // dependency is implied); `downgrade -1` then leaves the dependency's row.
    moves_as_alembic(&p, &db, &mut alembic, &["upgrade", "reporting@head"]);
    assert_eq!(db.views(), ["account_report"]);
    same_as_alembic(&p, &db, &mut alembic, &["current"]);
    moves_as_alembic(&p, &db, &mut alembic, &["downgrade", "-1"]);
    assert!(db.views().is_empty());
    alembic.finish();
}
per_backend!(alembic_project_up_and_down);

/// Issue 4: `migrate` upgrades to the heads and leaves what Alembic would leave; real Alembic
/// then downgrades that database cleanly; and the reverse (Alembic up, `migrate` down).
fn interop_with_real_alembic(ours: TestDb) {
    let Some(alembic) = alembic() else {
        return;
    };
    let Some(theirs) = TestDb::fresh(ours.backend) else {
        return;
    };
    let p = project();

    migrate(&p, &ours, &["upgrade", "heads"]).ok();
    run_alembic(&alembic, p.path(), INI, &theirs.url, &["upgrade", "heads"]).ok();
    assert_eq!(
        ours.schema(),
        theirs.schema(),
        "the same schema as Alembic's"
    );
    assert_eq!(ours.versions(), theirs.versions());
    assert_eq!(
        ours.versions(),
        Some(strings(&["b1c2d3e4f5a6", "c7d8e9f0a1b2"]))
    );

    // Alembic reads what `migrate` wrote, and takes it down.
    let current = run_alembic(&alembic, p.path(), INI, &ours.url, &["current"]);
    assert_eq!(
        sorted_lines(current.ok()),
        ["b1c2d3e4f5a6 (head)", "c7d8e9f0a1b2 (head)"]
    );
    run_alembic(&alembic, p.path(), INI, &ours.url, &["downgrade", "base"]).ok();
    assert_eq!(ours.versions(), Some(vec![]));
    assert_eq!(ours.tables(), ["alembic_version"]);

    // The reverse: `migrate` reads what Alembic wrote, and takes it down.
    assert_eq!(
        sorted_lines(migrate(&p, &theirs, &["current"]).ok()),
        ["b1c2d3e4f5a6 (head)", "c7d8e9f0a1b2 (head)"]
    );
    migrate(&p, &theirs, &["downgrade", "base"]).ok();
    assert_eq!(theirs.versions(), Some(vec![]));
    assert_eq!(theirs.tables(), ["alembic_version"]);
    assert_eq!(ours.schema(), theirs.schema());

    // Half way, each way: migrate up one branch, Alembic finishes; Alembic's rows read back.
    migrate(&p, &ours, &["upgrade", "reporting@head"]).ok();
    run_alembic(&alembic, p.path(), INI, &ours.url, &["upgrade", "heads"]).ok();
    assert_eq!(
        ours.versions(),
        Some(strings(&["b1c2d3e4f5a6", "c7d8e9f0a1b2"]))
    );
    migrate(&p, &ours, &["downgrade", "base"]).ok();
    assert_eq!(ours.tables(), ["alembic_version"]);
}
per_backend!(interop_with_real_alembic);

/// The `sqlalchemy.url` an Alembic project already has, `+driver` included
/// (`postgresql+psycopg2://`, `mysql+pymysql://`, `sqlite+pysqlite://`), works unchanged.
fn driver_url_in_alembic_ini(db: TestDb) {
    let p = project();
    let (scheme, rest) = db.url.split_once("://").expect("a URL");
    let driver = match db.backend {
        common::Backend::Sqlite => "sqlite+pysqlite",
        common::Backend::Postgres => "postgresql+psycopg2",
        common::Backend::Mysql => "mysql+pymysql",
    };
    assert!(!scheme.contains('+'));
    let ini = p.read(INI).replace(
        "sqlalchemy.url =\n",
        &format!("sqlalchemy.url = {driver}://{rest}\n"),
    );
    p.write(INI, &ini);
    p.migrate(&["-c", INI, "upgrade", "heads"]).ok();
    assert_eq!(
        db.versions(),
        Some(strings(&["b1c2d3e4f5a6", "c7d8e9f0a1b2"]))
    );
}
per_backend!(driver_url_in_alembic_ini);

/// `text` with what Alembic prints in Python set order made comparable: the items of
/// `Branches into:` lines sorted, then the lines sorted.
fn set_order_free(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| match line.strip_prefix("Branches into: ") {
            Some(items) => {
                let mut items: Vec<&str> = items.split(", ").collect();
                items.sort();
                format!("Branches into: {}", items.join(", "))
            }
            None => line.to_string(),
        })
        .collect();
    lines.sort();
    lines
}

/// Every listing against real Alembic on the same folder (paths included, as both resolve
/// `%(here)s`), offline and then against one SQLite database both read: byte for byte, except
/// where Alembic prints a revision's children or the current heads in Python set order (which
/// changes from run to run); those are compared line by line, in any order.
#[test]
fn listings_match_real_alembic() {
    let Some(alembic) = alembic() else {
        return;
    };
    let db = TestDb::sqlite();
    let p = project();
    // (arguments, whether Alembic's output depends on set order)
    let listings: &[(&[&str], bool)] = &[
        (&["heads"], false),
        (&["heads", "-v"], false),
        (&["heads", "--resolve-dependencies"], false),
        (&["branches"], true),
        (&["branches", "-v"], true),
        (&["history"], false),
        (&["history", "-v"], true),
        (&["history", "-r", "5d4c:b1c2"], false),
        (&["history", "-r", "reporting@base:"], false),
        (&["show", "heads"], false),
        (&["show", "5d4c"], false),
        (&["show", "3f2a"], true),
        (&["show", "audit@head"], false),
        (&["show", "base"], true),
    ];
    let compare = |runs: &[(&[&str], bool)]| {
        let args: Vec<&[&str]> = runs.iter().map(|(args, _)| *args).collect();
        let theirs = alembic_stdouts(&alembic, p.path(), INI, &db.url, &args);
        for ((args, set_order), theirs) in runs.iter().zip(theirs) {
            let ours = migrate(&p, &db, args);
            if *set_order {
                assert_eq!(
                    set_order_free(ours.ok()),
                    set_order_free(&theirs),
                    "`{}`",
                    args.join(" ")
                );
            } else {
                assert_eq!(ours.ok(), theirs, "`{}`", args.join(" "));
            }
        }
    };
    compare(listings);
    run_alembic(&alembic, p.path(), INI, &db.url, &["upgrade", "heads"]).ok();
    compare(&[
        (&["current"], true),
        (&["current", "-v"], true),
        (&["history", "-i"], false),
        (&["history", "-r", "current:"], false),
        (&["show", "current"], true),
    ]);
}

/// `revision --revision-format py` and `merge --revision-format py` write files real Alembic reads and runs:
/// Alembic's listings agree with ours and it upgrades through them.
#[test]
fn python_revisions_written_by_migrate_are_alembics() {
    let Some(alembic) = alembic() else {
        return;
    };
    let db = TestDb::sqlite();
    let p = project();
    migrate(
        &p,
        &db,
        &[
            "revision",
            "-m",
            "add invoices",
            "--rev-id",
            "d0d0d0d0d0d0",
            "--head",
            "audit@head",
            "--depends-on",
            "c7d8e9f0a1b2",
            "--revision-format",
            "py",
        ],
    )
    .ok();
    migrate(
        &p,
        &db,
        &[
            "merge",
            "heads",
            "-m",
            "merge everything",
            "--rev-id",
            "e0e0e0e0e0e0",
            "--revision-format",
            "py",
        ],
    )
    .ok();
    let runs: &[&[&str]] = &[&["heads"], &["history"], &["show", "e0e0"]];
    let theirs = alembic_stdouts(&alembic, p.path(), INI, &db.url, runs);
    for (args, theirs) in runs.iter().zip(theirs) {
        assert_eq!(migrate(&p, &db, args).ok(), theirs, "`{}`", args.join(" "));
    }
    // As Alembic prints it (checked above): the new revision depends on c7d8e9f0a1b2, which
    // is no longer a real head, so `merge heads` had one head to build on.
    assert_eq!(
        migrate(&p, &db, &["heads"]).ok(),
        "c7d8e9f0a1b2 (reporting) (effective head)\ne0e0e0e0e0e0 (audit) (head)\n"
    );
    // Alembic upgrades through the new files; `migrate` leaves the same rows on its own.
    run_alembic(&alembic, p.path(), INI, &db.url, &["upgrade", "heads"]).ok();
    let ours = TestDb::sqlite();
    migrate(&p, &ours, &["upgrade", "heads"]).ok();
    assert_eq!(ours.versions(), db.versions());
    assert_eq!(ours.schema(), db.schema());
    migrate(&p, &db, &["downgrade", "base"]).ok();
    assert_eq!(db.tables(), ["alembic_version"]);
}
