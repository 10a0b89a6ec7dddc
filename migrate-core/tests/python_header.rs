//! The header of Alembic revision files, one fixture per form people write.
//!
//! Ids, parents, labels, dependencies and messages were checked against Alembic 1.20.1 via
//! `/work/shared/alembic-oracle/oracle.py tests/fixtures/python/headers sqlite:// history -v`
//! (and `history`, whose text after the comma is `Revision.message`).

mod python_common;

use migrate_core::{Migration, ScriptFormat, SqlBlock};
use python_common::parse_fixture;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn sql(m: &Migration) -> Vec<&str> {
    match m {
        Migration::Sql(blocks) => blocks.iter().map(|b: &SqlBlock| b.sql.as_str()).collect(),
        other => panic!("expected SQL, got {other:?}"),
    }
}

#[test]
fn plain_header_as_alembic_writes_it() {
    let r = parse_fixture("headers/h1_plain.py");
    assert_eq!(r.id, "h1");
    assert!(r.down_revisions.is_empty() && r.branch_labels.is_empty() && r.depends_on.is_empty());
    // `alembic history`: "<base> -> h1, Plain header"
    assert_eq!(r.message, "Plain header");
    // `alembic history -v` prints the longdoc (the stripped docstring).
    assert_eq!(
        r.doc,
        "Plain header\n\nRevision ID: h1\nRevises:\nCreate Date: 2026-11-25 07:30:00.000000"
    );
    assert_eq!(r.format, ScriptFormat::Python);
    assert_eq!(r.upgrade, Migration::Sql(vec![]));
    assert_eq!(r.downgrade, Migration::Sql(vec![]));
}

#[test]
fn typing_annotations_and_a_docstring_after_blank_lines() {
    let r = parse_fixture("headers/h2_typing.py");
    assert_eq!(r.id, "h2");
    assert_eq!(r.down_revisions, strings(&["h1"]));
    // `alembic history`: "h1 -> h2, Annotated with typing after blank lines  \nsecond line ..."
    assert_eq!(
        r.message,
        "Annotated with typing after blank lines  \nsecond line of the first paragraph"
    );
    assert_eq!(
        r.doc,
        "Annotated with typing after blank lines  \nsecond line of the first paragraph\n\nRevision ID: h2"
    );
}

#[test]
fn pipe_annotations_future_import_one_line_bodies_and_no_docstring() {
    let r = parse_fixture("headers/h3_pipe.py");
    assert_eq!(r.id, "h3");
    assert_eq!(r.down_revisions, strings(&["h2"]));
    assert_eq!(r.branch_labels, strings(&["feature"]));
    // `alembic history`: "h2 -> h3 (feature) (branchpoint), " (empty message)
    assert_eq!(r.message, "");
    assert_eq!(r.doc, "");
    assert_eq!(r.upgrade, Migration::Sql(vec![]));
    assert_eq!(r.downgrade, Migration::Sql(vec![]));
}

#[test]
fn u_strings_and_chained_assignment() {
    let r = parse_fixture("headers/h4_chained.py");
    assert_eq!(r.id, "h4");
    assert_eq!(r.down_revisions, strings(&["h3"]));
    assert!(r.branch_labels.is_empty() && r.depends_on.is_empty());
    assert_eq!(r.message, "One line docstring with a \u{e9} escape");
    assert_eq!(sql(&r.upgrade), ["SELECT 4"]);
    assert_eq!(sql(&r.downgrade), ["SELECT -4"]);
}

#[test]
fn semicolon_joined_statements() {
    let r = parse_fixture("headers/h5_semicolons.py");
    assert_eq!(r.id, "h5");
    assert_eq!(r.down_revisions, strings(&["h3"]));
    assert_eq!(r.message, "Semicolons; on one line");
    assert_eq!(sql(&r.upgrade), ["SELECT 5", "SELECT 55"]);
    assert_eq!(r.downgrade, Migration::Sql(vec![]));
}

#[test]
fn tuples_lists_parenthesized_strings_and_a_concatenated_docstring() {
    let r = parse_fixture("headers/h6_merge.py");
    assert_eq!(r.id, "h6");
    // `alembic history -v`: "Merges: h4, h5", "Also depends on: h1"
    assert_eq!(r.down_revisions, strings(&["h4", "h5"]));
    assert_eq!(r.depends_on, strings(&["h1"]));
    assert_eq!(r.branch_labels, strings(&["merged"]));
    assert_eq!(r.message, "Merge heads");
}

#[test]
fn a_module_full_of_other_things_still_gives_its_header() {
    let r = parse_fixture("headers/h7_busy.py");
    assert_eq!(r.id, "h7");
    assert_eq!(r.down_revisions, strings(&["h6"]));
    assert_eq!(r.branch_labels, strings(&["later"]));
    assert!(r.depends_on.is_empty());
    assert_eq!(r.message, "Busy module\twith helpers");
    assert_eq!(
        r.doc,
        "Busy module\twith helpers\n\nEverything else a module may hold."
    );
    assert_eq!(sql(&r.upgrade), ["SELECT 7"]);
    assert_eq!(sql(&r.downgrade), ["SELECT -7"]);
}

#[test]
fn legacy_file_named_by_its_revision_id() {
    // Alembic 1.20.1 (`Script._from_path`): without a `revision` variable, a file named
    // `<hex>.py` takes its id from the name.
    let r = python_common::parse_text("versions/ae1027a6acf.py", "down_revision = None\n").unwrap();
    assert_eq!(r.id, "ae1027a6acf");
    assert!(
        python_common::parse_text("versions/ae1027a6acf_add.py", "down_revision = None\n").is_err()
    );
}

#[test]
fn colons_that_are_not_bind_parameters_fold() {
    let text = "from alembic import op\nrevision = 'c'\ndef upgrade():\n    op.execute(\"SELECT '10:30', x::int, 'a:b', ':'\")\n";
    let r = python_common::parse_text("colons.py", text).unwrap();
    assert_eq!(sql(&r.upgrade), ["SELECT '10:30', x::int, 'a:b', ':'"]);
}
