//! New revision files: the `.py` output equals what Alembic 1.20.1 writes, and both formats
//! read back as the revision they describe.
//!
//! `tests/fixtures/render/*.py` were written by `alembic revision` / `alembic merge` (Alembic
//! 1.20.1, default template): a first revision, one with a branch label and `--depends-on`, a
//! second root (`--head base`) and a merge of the two heads.

use std::path::Path;

use migrate_core::python::parse_python_revision;
use migrate_core::render::{file_name, render_python, render_sql, NewRevision};
use migrate_core::sqlfile::parse_sql_revision;
use migrate_core::ScriptFormat;

#[test]
fn python_files_are_byte_identical_to_alembics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/render");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let rev = parse_python_revision(&path, &text).unwrap();
        let create_date = text
            .lines()
            .find_map(|l| l.strip_prefix("Create Date: "))
            .unwrap()
            .to_string();
        let new = NewRevision {
            id: rev.id.clone(),
            message: rev.message.clone(),
            down_revisions: rev.down_revisions.clone(),
            branch_labels: rev.branch_labels.clone(),
            depends_on: rev.depends_on.clone(),
            create_date,
        };
        assert_eq!(render_python(&new), text, "{}", path.display());
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(file_name(&rev.id, &rev.message, ScriptFormat::Python), name);
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn sql_files_read_back_as_the_revision_they_describe() {
    let new = NewRevision {
        id: "4d4d4d4d4d4d".into(),
        message: "merge roots".into(),
        down_revisions: vec!["2b7f4c1d9e00".into(), "3c3c3c3c3c3c".into()],
        branch_labels: vec!["core".into()],
        depends_on: vec!["1975ea83b712".into()],
        create_date: "2026-11-25 08:10:03.364516".into(),
    };
    let text = render_sql(&new);
    let rev = parse_sql_revision(Path::new("x.sql"), &text).unwrap();
    assert_eq!(rev.id, new.id);
    assert_eq!(rev.message, new.message);
    assert_eq!(rev.down_revisions, new.down_revisions);
    assert_eq!(rev.branch_labels, new.branch_labels);
    assert_eq!(rev.depends_on, new.depends_on);
    let up = rev.upgrade.blocks_for("sqlite").unwrap();
    assert!(
        migrate_core::split(&up[0].sql, Default::default()).is_empty(),
        "the example is a comment"
    );
    assert!(rev.downgrade.blocks_for("sqlite").is_some());
}
