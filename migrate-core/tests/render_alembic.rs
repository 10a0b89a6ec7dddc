//! `render_python` and `file_name` against real Alembic 1.20.1 output.
//!
//! Every expected file comes from `tests/alembic/render_cases.txt`, which
//! `tests/alembic/gen_render_cases.py` has Alembic write (`alembic init`, then `alembic
//! revision` and `alembic merge` through `alembic.command`, with `--head`, `--splice`, branch
//! labels, a tuple of two labels, dependencies, and awkward messages), with each case's create
//! date in place of the clock's; the fields the renderer is given are read back from the files
//! with Python's `ast`. `references.rs` checks that the file regenerates unchanged.

use migrate_core::render::{file_name, render_python, NewRevision};
use migrate_core::ScriptFormat;

/// One file Alembic wrote, and what the renderer is given for it.
struct Case {
    file: String,
    revision: NewRevision,
    text: String,
}

fn cases() -> Vec<Case> {
    let data = include_str!("alembic/render_cases.txt");
    let mut lines = data.split_inclusive('\n');
    let mut cases = Vec::new();
    while let Some(header) = lines.next() {
        let id = header
            .strip_prefix("=== ")
            .unwrap_or_else(|| panic!("expected a case, got {header:?}"))
            .trim_end();
        let mut field = |name: &str| -> Vec<String> {
            let line = lines.next().expect("a field line").trim_end_matches('\n');
            let mut parts = line.split('\t');
            assert_eq!(parts.next(), Some(name), "{id}: {line:?}");
            parts.map(str::to_string).collect()
        };
        let message = field("message").concat();
        let down_revisions = field("down");
        let branch_labels = field("labels");
        let depends_on = field("depends");
        let create_date = field("date").concat();
        let file = field("file").concat();
        let count: usize = lines
            .next()
            .and_then(|l| l.trim_end().strip_prefix("text "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{id}: a text line count"));
        let text: String = lines.by_ref().take(count).collect();
        cases.push(Case {
            file,
            revision: NewRevision {
                id: id.to_string(),
                message,
                down_revisions,
                branch_labels,
                depends_on,
                create_date,
            },
            text,
        });
    }
    cases
}

#[test]
fn python_files_equal_what_alembic_writes() {
    for case in cases() {
        assert_eq!(render_python(&case.revision), case.text, "{}", case.file);
    }
}

#[test]
fn cases_cover_base_parent_merge_labels_and_dependencies() {
    let cases = cases();
    assert_eq!(cases.len(), 12);
    let any = |f: &dyn Fn(&NewRevision) -> bool| cases.iter().any(|c| f(&c.revision));
    assert!(any(&|r| r.down_revisions.is_empty()));
    assert!(any(&|r| r.down_revisions.len() == 2));
    assert!(any(&|r| r.branch_labels.len() == 1));
    assert!(any(&|r| r.branch_labels.len() == 2));
    assert!(any(&|r| r.depends_on.len() == 1));
    assert!(any(&|r| r.depends_on.len() == 2));
    assert!(any(&|r| r.message.is_empty()));
}

#[test]
fn file_names_equal_what_alembic_writes() {
    for case in cases() {
        let r = &case.revision;
        assert_eq!(
            file_name(&r.id, &r.message, ScriptFormat::Python),
            case.file,
            "message {:?}",
            r.message
        );
        let sql = file_name(&r.id, &r.message, ScriptFormat::Sql);
        assert_eq!(sql, case.file.replace(".py", ".sql"));
    }
}
