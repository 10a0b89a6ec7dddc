//! Reading version folders: which files, in which order, how much of each, and which error
//! when files are broken.

use std::fs;
use std::path::{Path, PathBuf};

use migrate_core::migrator::unrunnable_reason;
use migrate_core::{Contents, Direction, Error, Migration, ScriptDirectory};

fn sql_file(dir: &Path, name: &str, id: &str, down: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join(name),
        format!(
            "-- revision {id}\n--\n-- Revision ID: {id}\n-- Revises: {down}\n\n-- migrate:upgrade\nCREATE TABLE t_{id} (id INTEGER);\n\n-- migrate:downgrade\nDROP TABLE t_{id};\n"
        ),
    )
    .unwrap();
}

/// A version folder holding one file `name` with `text`.
fn folder_with(name: &str, text: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("versions");
    fs::create_dir_all(&v).unwrap();
    fs::write(v.join(name), text).unwrap();
    (tmp, v)
}

fn names(dir: &ScriptDirectory, root: &Path) -> Vec<String> {
    dir.revisions()
        .iter()
        .map(|r| {
            r.path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn files_in_name_order_then_sub_folders_when_recursive() {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("versions");
    // Python's sorted() orders names by code point: upper case before lower case, `é` after
    // `z`; sub-folders come after the folder's own files, in the same order.
    sql_file(&v, "b_two.sql", "b2", "");
    sql_file(&v, "B_upper.sql", "bu", "");
    sql_file(&v, "é_accent.sql", "ea", "");
    sql_file(&v, "z_last.sql", "zl", "");
    sql_file(&v.join("sub2"), "a.sql", "s2a", "");
    sql_file(&v.join("sub1"), "b.sql", "s1b", "");
    sql_file(&v.join("sub1"), "a.sql", "s1a", "");
    sql_file(&v.join("sub1/deeper"), "a.sql", "s1da", "");
    sql_file(&v.join("__pycache__"), "cached.sql", "pc", "");
    fs::write(v.join("__init__.py"), "").unwrap();
    fs::write(v.join(".hidden.sql"), "not a revision").unwrap();
    fs::write(v.join("notes.txt"), "not a revision").unwrap();

    let flat = ScriptDirectory::load(std::slice::from_ref(&v), false).unwrap();
    assert_eq!(
        names(&flat, &v),
        ["B_upper.sql", "b_two.sql", "z_last.sql", "é_accent.sql"]
    );
    let deep = ScriptDirectory::load(std::slice::from_ref(&v), true).unwrap();
    assert_eq!(
        names(&deep, &v),
        [
            "B_upper.sql",
            "b_two.sql",
            "z_last.sql",
            "é_accent.sql",
            "sub1/a.sql",
            "sub1/b.sql",
            "sub1/deeper/a.sql",
            "sub2/a.sql"
        ]
    );
}

#[cfg(unix)]
#[test]
fn links_to_folders_are_not_entered_so_a_loop_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("versions");
    sql_file(&v, "a.sql", "a1", "");
    sql_file(&tmp.path().join("elsewhere"), "x.sql", "x1", "");
    std::os::unix::fs::symlink(&v, v.join("loop")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere"), v.join("linked")).unwrap();
    // A link to a file is read like a file, as Alembic's os.walk lists it among the files.
    std::os::unix::fs::symlink(tmp.path().join("elsewhere/x.sql"), v.join("b_link.sql")).unwrap();

    let dir = ScriptDirectory::load(std::slice::from_ref(&v), true).unwrap();
    assert_eq!(names(&dir, &v), ["a.sql", "b_link.sql"]);
}

#[test]
fn a_folder_inside_another_location_is_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("versions");
    sql_file(&v, "a.sql", "a1", "");
    sql_file(&v.join("team"), "b.sql", "b1", "a1");
    let locations: Vec<PathBuf> = vec![v.clone(), v.join("team"), v.join("../versions/team")];
    let map = ScriptDirectory::load(&locations, true)
        .unwrap()
        .into_map()
        .expect("no revision is present twice");
    assert_eq!(map.revisions().len(), 2);
}

#[test]
fn header_only_reads_the_same_headers_and_no_sql() {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("versions");
    sql_file(&v, "a.sql", "a1", "");
    sql_file(&v, "b.sql", "b1", "a1");
    fs::write(
        v.join("c.py"),
        "\"\"\"add c\n\nRevision ID: c1\n\"\"\"\nfrom alembic import op\nrevision = 'c1'\ndown_revision = 'b1'\nbranch_labels = ('feature',)\ndepends_on = None\n\ndef upgrade():\n    op.execute(\"CREATE TABLE c (id INTEGER)\")\n\ndef downgrade():\n    op.execute(\"DROP TABLE c\")\n",
    )
    .unwrap();

    let full = ScriptDirectory::load_with(std::slice::from_ref(&v), false, Contents::Full).unwrap();
    let header =
        ScriptDirectory::load_with(std::slice::from_ref(&v), false, Contents::Header).unwrap();
    assert_eq!(full.revisions().len(), 3);
    for (f, h) in full.revisions().iter().zip(header.revisions()) {
        assert_eq!(
            (&f.id, &f.down_revisions, &f.branch_labels, &f.depends_on),
            (&h.id, &h.down_revisions, &h.branch_labels, &h.depends_on)
        );
        assert_eq!((&f.message, &f.doc, &f.path), (&h.message, &h.doc, &h.path));
        assert!(matches!(f.upgrade, Migration::Sql(_)));
        assert_eq!(h.upgrade, Migration::NotRead);
        assert_eq!(h.downgrade, Migration::NotRead);
        let why = unrunnable_reason(h, Direction::Up)
            .expect("a header-only revision is refused")
            .to_string();
        assert!(why.contains("header only"), "{why}");
        assert!(why.contains(&h.id), "{why}");
    }
}

#[test]
fn a_header_read_still_checks_sql_directives() {
    let (_tmp, v) = folder_with(
        "a.sql",
        b"-- broken body\n-- Revision ID: a1\n\n-- migrate:upgrade dialect=oracle\nSELECT 1;\n",
    );
    for contents in [Contents::Header, Contents::Full] {
        let err =
            ScriptDirectory::load_with(std::slice::from_ref(&v), false, contents).unwrap_err();
        assert!(err.to_string().contains("a.sql:4:"), "{err}");
        assert!(
            err.to_string().contains("unknown dialect `oracle`"),
            "{err}"
        );
    }
}

#[test]
fn a_header_read_does_not_fold_python_bodies() {
    // Only folding the body finds that it cannot be run.
    let (_tmp, v) = folder_with(
        "a.py",
        b"revision = 'a1'\ndown_revision = None\n\ndef upgrade():\n    op.execute('x' + )\n",
    );
    let header =
        ScriptDirectory::load_with(std::slice::from_ref(&v), false, Contents::Header).unwrap();
    assert_eq!(header.revisions()[0].upgrade, Migration::NotRead);
    let full = ScriptDirectory::load(std::slice::from_ref(&v), false).unwrap();
    match &full.revisions()[0].upgrade {
        Migration::Unrunnable(u) => assert_eq!((u.line, u.column), (5, 5)),
        other => panic!("expected an unrunnable upgrade, got {other:?}"),
    }
}

#[test]
fn of_many_broken_files_the_first_in_order_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("versions");
    let count = 3_000;
    for i in 0..count {
        sql_file(&v, &format!("r{i:05}.sql"), &format!("r{i:05}"), "");
    }
    for broken in [700, 701, 1_900, 2_999] {
        fs::write(
            v.join(format!("r{broken:05}.sql")),
            "-- no id here\nSELECT 1;\n",
        )
        .unwrap();
    }
    // Files are read by several threads; the error must not depend on which finishes first.
    for _ in 0..5 {
        let err = ScriptDirectory::load(std::slice::from_ref(&v), false).unwrap_err();
        match &err {
            Error::Parse { path, .. } => assert!(path.ends_with("r00700.sql"), "{err}"),
            other => panic!("expected a parse error, got {other}"),
        }
    }
    fs::remove_file(v.join("r00700.sql")).unwrap();
    let err = ScriptDirectory::load(std::slice::from_ref(&v), false).unwrap_err();
    assert!(err.to_string().contains("r00701.sql"), "{err}");
}

#[test]
fn many_files_keep_their_order_when_read_in_parallel() {
    let tmp = tempfile::tempdir().unwrap();
    let v = tmp.path().join("versions");
    for i in 0..2_500 {
        let down = if i == 0 {
            String::new()
        } else {
            format!("r{:05}", i - 1)
        };
        sql_file(&v, &format!("r{i:05}.sql"), &format!("r{i:05}"), &down);
    }
    let dir = ScriptDirectory::load(std::slice::from_ref(&v), false).unwrap();
    let ids: Vec<&str> = dir.revisions().iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<String> = (0..2_500).map(|i| format!("r{i:05}")).collect();
    assert_eq!(ids, expected);
    let map = dir.into_map().unwrap();
    assert_eq!(map.heads()[0].id, "r02499");
}

#[test]
fn a_file_that_is_not_utf8_is_named() {
    let (_tmp, v) = folder_with("latin1.sql", b"-- caf\xe9\n-- Revision ID: a1\n");
    let err = ScriptDirectory::load(std::slice::from_ref(&v), false).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("latin1.sql"), "{text}");
    assert!(text.contains("not valid UTF-8 (byte 6)"), "{text}");
}
