//! No silent wrong result from an ordinary mistake: an empty or blank target (an unset shell
//! variable), a mistyped branch label or id, a `.sql` file whose sections cannot be read one
//! way. Each is refused with a clear message, and the database is left exactly as it was.

mod common;

use common::{Backend, Project, TestDb};

/// Everything a test can see of the database: its schema, version rows and rows of
/// `tenants`; for SQLite, the file's bytes too.
type State = (
    Vec<String>,
    Option<Vec<String>>,
    Vec<String>,
    Option<Vec<u8>>,
);

fn state(db: &TestDb) -> State {
    let tenants = if db.tables().iter().any(|t| t == "tenants") {
        db.tenants()
    } else {
        Vec::new()
    };
    (
        db.schema(),
        db.versions(),
        tenants,
        db.sqlite_path()
            .filter(|p| p.exists())
            .map(|p| std::fs::read(p).expect("the SQLite file")),
    )
}

/// `(arguments, what the message must hold)`: each is refused and changes nothing.
const REFUSED: &[(&[&str], &str)] = &[
    (
        &["downgrade", ""],
        "Can't locate revision identified by '': the target is empty; give head, heads, base, a revision id",
    ),
    (
        &["downgrade", "  "],
        "Can't locate revision identified by '  ': the target is empty",
    ),
    (&["stamp", ""], "Can't locate revision identified by '': the target is empty"),
    (&["upgrade", ""], "Can't locate revision identified by '': the target is empty"),
    (&["show", ""], "Can't locate revision identified by '': the revision is empty"),
    (
        &["downgrade", "tenants@"],
        "Can't locate revision identified by 'tenants@': the target is empty",
    ),
    (
        &["downgrade", "nosuch@base"],
        "Can't locate revision identified by 'nosuch': No such branch: 'nosuch' (this history has no branch labels)",
    ),
    (
        &["stamp", "nosuch@base"],
        "No such branch: 'nosuch' (this history has no branch labels)",
    ),
    (
        &["upgrade", "nosuch@head"],
        "No such branch: 'nosuch' (this history has no branch labels)",
    ),
    (
        &["upgrade", "hed"],
        "Can't locate revision identified by 'hed': No such revision or branch 'hed'; please ensure at least four characters are present for partial revision identifier matches (did you mean 'head'?)",
    ),
    (
        &["downgrade", "1975ea83b713"],
        "Can't locate revision identified by '1975ea83b713': No such revision or branch '1975ea83b713' (did you mean '1975ea83b712'?)",
    ),
];

fn mistakes_are_refused_and_change_nothing(db: TestDb) {
    let project = Project::example(&db.url);
    project.migrate(&["upgrade", "head"]).ok();
    let before = state(&db);
    for (args, want) in REFUSED {
        let run = project.migrate(args);
        let message = run.failed();
        assert!(
            message.contains(want),
            "`migrate {}`: expected {want:?} in\n{message}",
            args.join(" ")
        );
        assert_eq!(
            state(&db),
            before,
            "`migrate {}` changed the database",
            args.join(" ")
        );
    }
    // The offline forms too.
    let message = project.migrate(&["downgrade", "head:", "--sql"]).failed();
    assert!(message.contains("the target is empty"), "{message}");
}

per_backend!(mistakes_are_refused_and_change_nothing);

/// The file: a plain upgrade section (`CREATE TABLE orders`) beside a PostgreSQL-only
/// one (`CREATE EXTENSION`). It used to be recorded as applied on PostgreSQL without creating
/// `orders`; now every command refuses the folder, naming the fix, and nothing runs.
fn a_generic_section_beside_a_dialect_section_is_refused(db: TestDb) {
    let project = Project::empty();
    project.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    );
    project.write(
        "m/versions/a_orders.sql",
        "-- orders\n-- Revision ID: a1a1a1a1a1a1\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE orders (id INT);\n\n-- migrate:upgrade dialect=postgresql\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\n\n-- migrate:downgrade\nDROP TABLE orders;\n",
    );
    let before = state(&db);
    for args in [&["upgrade", "head"][..], &["check"], &["heads"]] {
        let message = project.migrate(args).failed();
        assert!(
            message.starts_with("m/versions/a_orders.sql:5:1: this `-- migrate:upgrade` section names no dialect, but the upgrade also has sections for postgresql (line 8)"),
            "`migrate {}`: {message}",
            args.join(" ")
        );
        assert!(
            message.contains("`-- migrate:upgrade dialect=sqlite,mysql` to run this one only where no other section is given, or `dialect=sqlite,postgresql,mysql` to run it everywhere"),
            "{message}"
        );
    }
    assert_eq!(state(&db), before);

    // Said explicitly, it runs as written.
    project.write(
        "m/versions/a_orders.sql",
        "-- orders\n-- Revision ID: a1a1a1a1a1a1\n-- Revises:\n\n-- migrate:upgrade dialect=sqlite,postgresql,mysql\nCREATE TABLE orders (id INT);\n\n-- migrate:upgrade dialect=postgresql\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\n\n-- migrate:downgrade\nDROP TABLE orders;\n",
    );
    project.migrate(&["upgrade", "head"]).ok();
    assert!(db.tables().contains(&"orders".to_string()));
}

per_backend!(a_generic_section_beside_a_dialect_section_is_refused);

/// On MariaDB a failing first statement says that nothing of that migration ran before it,
/// and a committed migration before it is named with correct grammar.
#[test]
fn mysql_partial_failure_wording_when_the_first_statement_fails() {
    let Some(db) = TestDb::fresh(Backend::Mysql) else {
        return;
    };
    let project = Project::empty();
    project.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    );
    project.write(
        "m/versions/a_first.sql",
        "-- first\n-- Revision ID: a1000000\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE first_t (id INT);\n\n-- migrate:downgrade\nDROP TABLE first_t;\n",
    );
    project.write(
        "m/versions/b_broken.sql",
        "-- broken\n-- Revision ID: b2000000\n-- Revises: a1000000\n\n-- migrate:upgrade\nCREATE TABLE first_t (id INT);\nCREATE TABLE second_t (id INT);\n\n-- migrate:downgrade\nDROP TABLE second_t;\n",
    );
    let message = project.migrate(&["upgrade", "head"]).failed();
    assert!(
        message.starts_with("m/versions/b_broken.sql:6: statement 1 of revision b2000000 (upgrade) failed: ERROR 1050 (42S01): Table 'first_t' already exists"),
        "{message}"
    );
    assert!(
        message.contains("mysql commits DDL implicitly: no earlier statement of this migration ran; 1 migration (a1000000) was committed before it; the version table still names the last completed migration (a1000000). Fix the revision"),
        "{message}"
    );
    assert!(!message.contains("statements 1 to 0"), "{message}");
    assert_eq!(db.versions(), Some(vec!["a1000000".to_string()]));
}
