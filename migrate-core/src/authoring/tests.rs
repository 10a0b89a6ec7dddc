//! The rules of [`prepare`] and [`choose_format`] on small folders.

use std::path::Path;

use super::*;
use crate::script::ScriptDirectory;

/// A `.sql` (or, with `py`, `.py`) revision file's text.
fn revision_text(id: &str, down: &str, py: bool) -> String {
    if py {
        let down = if down.is_empty() {
            "None".to_string()
        } else {
            format!("'{down}'")
        };
        format!("\"\"\"r {id}\"\"\"\nrevision = '{id}'\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n")
    } else {
        format!("-- r {id}\n--\n-- Revision ID: {id}\n-- Revises: {down}\n\n-- migrate:upgrade\n\n-- migrate:downgrade\n")
    }
}

/// `versions/` under a temporary folder holding `revisions` (id, parent, is_py).
fn project(revisions: &[(&str, &str, bool)]) -> (tempfile::TempDir, RevisionMap, ProjectLayout) {
    let dir = tempfile::tempdir().unwrap();
    let versions = dir.path().join("versions");
    std::fs::create_dir_all(&versions).unwrap();
    for (id, down, py) in revisions {
        let ext = if *py { "py" } else { "sql" };
        std::fs::write(
            versions.join(format!("{id}_r.{ext}")),
            revision_text(id, down, *py),
        )
        .unwrap();
    }
    let map = ScriptDirectory::load(std::slice::from_ref(&versions), false)
        .and_then(ScriptDirectory::into_map)
        .unwrap();
    let layout = ProjectLayout {
        version_locations: vec![versions],
        script_location: Some(dir.path().to_path_buf()),
        ..ProjectLayout::default()
    };
    (dir, map, layout)
}

fn request(rev_id: &str, parents: Parents) -> RevisionRequest {
    RevisionRequest {
        message: Some("Add the accounts table".into()),
        rev_id: Some(rev_id.into()),
        parents,
        branch_labels: Vec::new(),
        depends_on: Vec::new(),
        version_path: None,
        format: ScriptFormat::Sql,
        // 2026-11-05 07:03:09.120034
        create_date: CreateDate::from_unix(1_793_862_189, 120_034),
    }
}

fn head() -> Parents {
    Parents::Head {
        head: "head".into(),
        splice: false,
    }
}

#[test]
fn ids_are_refused_with_alembics_words_and_the_version_columns_length() {
    // Alembic 1.20.1: `alembic revision --rev-id 'a@b-c:d+e'` fails with this message.
    assert_eq!(
        check_revision_id("a@b-c:d+e").unwrap_err().to_string(),
        "Character(s) '+, -, :, @' not allowed in revision identifier 'a@b-c:d+e'"
    );
    assert_eq!(
        check_revision_id("a b,c").unwrap_err().to_string(),
        "Character(s) ' , ,' not allowed in revision identifier 'a b,c'"
    );
    let longest = "a".repeat(MAX_REVISION_ID_LENGTH);
    assert!(check_revision_id(&longest).is_ok());
    let too_long = "b".repeat(33);
    assert_eq!(
        check_revision_id(&too_long).unwrap_err().to_string(),
        format!(
            "revision id '{too_long}' is 33 characters long, but the version table's version_num column holds at \
             most 32 (VARCHAR(32)), so upgrading to it would fail; choose a shorter --rev-id"
        )
    );
    // Characters, not bytes.
    assert!(check_revision_id(&"é".repeat(32)).is_ok());
}

#[test]
fn a_new_revision_builds_on_the_head_in_the_only_version_location() {
    let (_dir, map, layout) = project(&[("a1", "", false), ("b2", "a1", false)]);
    let prepared = prepare(&map, &layout, request("c3", head())).unwrap();
    assert_eq!(
        prepared.path,
        layout.version_locations[0].join("c3_add_the_accounts_table.sql")
    );
    assert!(
        prepared.text.contains("-- Revises: b2\n"),
        "{}",
        prepared.text
    );
    assert!(prepared.new_directories.is_empty());
    prepared.write().unwrap();
    // Written once: a second write of the same file is refused.
    assert!(matches!(
        prepared.write(),
        Err(AuthoringError::FileExists { .. })
    ));
    // The id is now taken.
    let map = ScriptDirectory::load(&layout.version_locations, false)
        .and_then(ScriptDirectory::into_map)
        .unwrap();
    let err = prepare(&map, &layout, request("c3", head())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Revision c3 is already present; choose another --rev-id"
    );
}

#[test]
fn merges_refuse_a_revision_named_twice() {
    let (_dir, map, layout) =
        project(&[("a1", "", false), ("b2", "a1", false), ("c3", "a1", false)]);
    let merge = |revs: &[&str]| {
        prepare(
            &map,
            &layout,
            request(
                "m4",
                Parents::Merge(revs.iter().map(|s| s.to_string()).collect()),
            ),
        )
    };
    let prepared = merge(&["heads"]).unwrap();
    assert!(
        prepared.text.contains("-- Revises: b2, c3\n"),
        "{}",
        prepared.text
    );
    assert_eq!(
        merge(&["b2", "heads"]).unwrap_err().to_string(),
        "Duplicate head revisions specified"
    );
}

#[test]
fn file_template_names_the_file_and_makes_its_folders() {
    let (_dir, map, mut layout) = project(&[("a1", "", false)]);
    layout.file_template = Some("%(year)d/%(month).2d/%(day).2d_%(rev)s_%(slug)s".into());
    layout.truncate_slug_length = Some(10);
    let prepared = prepare(&map, &layout, request("b2", head())).unwrap();
    let folder = layout.version_locations[0].join("2026/11");
    assert_eq!(prepared.path, folder.join("05_b2_add_the_.sql"));
    assert_eq!(prepared.new_directories, std::slice::from_ref(&folder));
    prepared.write().unwrap();
    assert!(folder.join("05_b2_add_the_.sql").is_file());

    layout.file_template = Some("%(rev)d".into());
    let err = prepare(&map, &layout, request("c3", head())).unwrap_err();
    assert!(
        err.to_string().starts_with("file_template `%(rev)d`: "),
        "{err}"
    );
}

#[test]
fn version_path_must_be_a_version_location() {
    let (dir, map, layout) = project(&[("a1", "", false)]);
    let mut req = request("b2", head());
    req.version_path = Some(dir.path().join("elsewhere"));
    let err = prepare(&map, &layout, req).unwrap_err();
    assert!(
        matches!(err, AuthoringError::NotAVersionLocation { .. }),
        "{err}"
    );
    assert!(err
        .to_string()
        .ends_with("is not represented in current version locations"));

    let mut two = layout.clone();
    two.version_locations.push(dir.path().join("more"));
    let err = prepare(
        &map,
        &two,
        request(
            "b2",
            Parents::Head {
                head: "base".into(),
                splice: false,
            },
        ),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Multiple version locations present, please specify --version-path"
    );
    // With a parent, its folder.
    let prepared = prepare(&map, &two, request("b2", head())).unwrap();
    assert_eq!(
        prepared.path.parent(),
        Some(layout.version_locations[0].as_path())
    );
}

#[test]
fn format_follows_the_flag_then_the_setting_then_the_project() {
    let (_d1, only_py, _) = project(&[("a1", "", true), ("b2", "a1", true)]);
    let (_d2, mixed, _) = project(&[("a1", "", true), ("b2", "a1", false)]);
    let (_d3, empty, _) = project(&[]);
    use FormatReason::*;
    use ScriptFormat::{Python, Sql};
    assert_eq!(
        choose_format(Some(Sql), Some(Python), true, &only_py),
        (Sql, Flag)
    );
    assert_eq!(
        choose_format(None, Some(Sql), true, &only_py),
        (Sql, Configured)
    );
    assert_eq!(
        choose_format(None, None, true, &mixed),
        (Python, AlembicIni)
    );
    assert_eq!(
        choose_format(None, None, false, &only_py),
        (Python, PythonFolder)
    );
    assert_eq!(choose_format(None, None, false, &mixed), (Sql, Default));
    assert_eq!(choose_format(None, None, false, &empty), (Sql, Default));
}

#[test]
fn python_revisions_use_the_projects_template_when_there_is_one() {
    let (dir, map, layout) = project(&[("a1", "", true)]);
    let mut req = request("b2", head());
    req.format = ScriptFormat::Python;
    // No script.py.mako: Alembic's default template.
    let prepared = prepare(&map, &layout, req.clone()).unwrap();
    assert_eq!(prepared.template, None);
    assert!(prepared
        .text
        .contains("down_revision: Union[str, Sequence[str], None] = 'a1'\n"));
    std::fs::write(
        dir.path().join("script.py.mako"),
        "# ${message | n} (${up_revision} after ${down_revision | comma,n})\n% if branch_labels:\nlabels\n% endif\n",
    )
    .unwrap();
    let prepared = prepare(&map, &layout, req.clone()).unwrap();
    assert_eq!(prepared.text, "# Add the accounts table (b2 after a1)\n");
    assert_eq!(
        prepared.template.as_deref(),
        Some(dir.path().join("script.py.mako").as_path())
    );
    std::fs::write(dir.path().join("script.py.mako"), "<%! import re %>\n").unwrap();
    let err = prepare(&map, &layout, req).unwrap_err().to_string();
    let shown = Path::new(&dir.path().join("script.py.mako"))
        .display()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "{shown}:1: `<%!` (a module-level Python block) is beyond"
        )),
        "{err}"
    );
}

#[test]
fn a_branch_label_already_in_the_folder_is_refused_before_writing() {
    let (dir, _, layout) = project(&[("a1", "", true), ("b2", "a1", true)]);
    let a1 = dir.path().join("versions/a1_r.py");
    std::fs::write(
        &a1,
        "\"\"\"r a1\"\"\"\nrevision = 'a1'\ndown_revision = None\nbranch_labels = ('feat',)\ndepends_on = None\n",
    )
    .unwrap();
    let map = ScriptDirectory::load(&layout.version_locations, false)
        .and_then(ScriptDirectory::into_map)
        .unwrap();
    for label in ["feat", "b2"] {
        let mut req = request("c3", head());
        req.branch_labels = vec![label.to_string()];
        let err = prepare(&map, &layout, req).unwrap_err();
        let holder = if label == "feat" { "a1" } else { "b2" };
        assert_eq!(
            err.to_string(),
            format!(
                "Branch name '{label}' already used by revision {holder} ({}); choose another --branch-label",
                dir.path().join(format!("versions/{holder}_r.py")).display()
            )
        );
    }
    let mut req = request("c3", head());
    req.branch_labels = vec!["other".to_string()];
    assert!(prepare(&map, &layout, req).is_ok(), "a new label is fine");
}
