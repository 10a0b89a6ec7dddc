//! Loading the revision graph: the errors users meet, labels, heads and bases.

mod support;

use migrate_core::{Revision, RevisionMap};
use support::RevisionExt;

/// A `.py` revision `versions/{id}.py`, as the load errors name files.
fn rev(id: &str, down: &[&str]) -> Revision {
    support::rev(id, down).python()
}

fn err(revs: Vec<Revision>) -> String {
    RevisionMap::new(revs).unwrap_err().to_string()
}

#[test]
fn a_duplicate_id_names_both_files() {
    let mut second = rev("aaaa", &[]);
    second.path = "versions/other.py".into();
    let e = err(vec![rev("aaaa", &[]), second]);
    assert!(e.contains("Revision aaaa is present more than once"), "{e}");
    assert!(
        e.contains("versions/aaaa.py") && e.contains("versions/other.py"),
        "{e}"
    );
}

#[test]
fn an_unknown_parent_names_the_file() {
    let e = err(vec![rev("aaaa", &[]), rev("bbbb", &["zzzz"])]);
    assert!(
        e.contains("Revision zzzz referenced from bbbb is not present"),
        "{e}"
    );
    assert!(e.contains("versions/bbbb.py"), "{e}");
    let mut dep = rev("bbbb", &["aaaa"]);
    dep.depends_on = vec!["nope".into()];
    let e = err(vec![rev("aaaa", &[]), dep]);
    assert!(
        e.contains("Revision nope referenced from bbbb") && e.contains("depends_on"),
        "{e}"
    );
}

#[test]
fn cycles_are_load_errors() {
    // Messages as Alembic 1.20 words them ("Cycle is detected in revisions (...)").
    let e = err(vec![rev("aaaa", &["bbbb"]), rev("bbbb", &["aaaa"])]);
    assert!(e.starts_with("Cycle is detected in revisions"), "{e}");
    let e = err(vec![
        rev("root", &[]),
        rev("aaaa", &["root", "bbbb"]),
        rev("bbbb", &["aaaa"]),
    ]);
    assert!(e.starts_with("Cycle is detected in revisions"), "{e}");
    // With no head left, Alembic (and migrate) name every revision.
    assert!(
        e.contains("aaaa (versions/aaaa.py)") && e.contains("root ("),
        "{e}"
    );
    let e = err(vec![rev("aaaa", &["aaaa"])]);
    assert!(
        e.starts_with("Self-loop is detected in revisions (aaaa)"),
        "{e}"
    );
    let mut a = rev("aaaa", &[]);
    a.depends_on = vec!["bbbb".into()];
    let mut b = rev("bbbb", &[]);
    b.depends_on = vec!["aaaa".into()];
    let e = err(vec![a, b]);
    assert!(
        e.starts_with("Dependency cycle is detected in revisions"),
        "{e}"
    );
}

#[test]
fn a_label_used_twice_is_an_error() {
    let mut a = rev("aaaa", &[]);
    a.branch_labels = vec!["core".into()];
    let mut b = rev("bbbb", &[]);
    b.branch_labels = vec!["core".into()];
    let e = err(vec![a, b]);
    assert!(
        e.starts_with("Branch name 'core' in revision bbbb already used by revision aaaa"),
        "{e}"
    );
}

#[test]
fn illegal_characters_in_an_id_are_refused() {
    let e = err(vec![rev("ab-cd", &[])]);
    assert!(
        e.starts_with("Character(s) '-' not allowed in revision identifier 'ab-cd'"),
        "{e}"
    );
}

#[test]
fn labels_spread_down_the_branch_and_to_descendants() {
    // Checked against Alembic 1.20.1 (`history` shows `(core)` on core0001..0003 only).
    let mut c1 = rev("core0001", &[]);
    c1.branch_labels = vec!["core".into()];
    let mut f1 = rev("feat0001", &["core0002"]);
    f1.branch_labels = vec!["feature".into()];
    let map = RevisionMap::new(vec![
        c1,
        rev("core0002", &["core0001"]),
        rev("core0003", &["core0002"]),
        f1,
        rev("feat0002", &["feat0001"]),
    ])
    .unwrap();
    assert_eq!(map.branch_labels("core0001"), ["core"]);
    assert_eq!(map.branch_labels("core0003"), ["core"]);
    assert_eq!(map.branch_labels("feat0002"), ["core", "feature"]);
    assert!(map.is_branch_point("core0002"));
    assert_eq!(
        map.heads()
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["core0003", "feat0002"]
    );
    assert_eq!(map.bases().len(), 1);
}

#[test]
fn resolution_errors_use_alembics_wording() {
    let map = RevisionMap::new(vec![
        rev("ae1027a6acf", &[]),
        rev("ae10bbbbbbb", &["ae1027a6acf"]),
        rev("ae10ccccccc", &["ae1027a6acf"]),
    ])
    .unwrap();
    let e = map.plan_upgrade(&[], "ae10").unwrap_err().to_string();
    assert!(e.starts_with("Can't locate revision identified by 'ae10': Multiple revisions start with 'ae10': 'ae1027a6acf', 'ae10bbbbbbb', 'ae10ccccccc'"), "{e}");
    let e = map.plan_upgrade(&[], "head").unwrap_err().to_string();
    assert!(
        e.contains("Multiple head revisions are present for given argument 'head'"),
        "{e}"
    );
    assert!(
        e.contains("'heads' for all heads") && e.contains("ae10bbbbbbb, ae10ccccccc"),
        "{e}"
    );
    let e = map.plan_upgrade(&[], "ffff").unwrap_err().to_string();
    assert!(
        e.starts_with("Can't locate revision identified by 'ffff'"),
        "{e}"
    );
    let e = map.plan_upgrade(&[], "+2").unwrap_err().to_string();
    assert_eq!(e, "Ambiguous walk");
    let linear = RevisionMap::new(vec![rev("aaaa", &[]), rev("bbbb", &["aaaa"])]).unwrap();
    let e = linear.plan_upgrade(&[], "+4").unwrap_err().to_string();
    assert_eq!(e, "Relative revision +4 didn't produce 4 migrations");
    let e = map
        .plan_downgrade(&["ae1027a6acf".into()], "ae10bbbb")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Destination ae10bbbb is not a valid downgrade target from current head(s)"
    );
}

#[test]
fn new_revisions_go_on_a_head_unless_spliced() {
    let map = RevisionMap::new(vec![rev("aaaa", &[]), rev("bbbb", &["aaaa"])]).unwrap();
    assert_eq!(map.new_revision_parents("head", false).unwrap(), ["bbbb"]);
    assert_eq!(
        map.new_revision_parents("base", false).unwrap(),
        Vec::<String>::new()
    );
    let e = map
        .new_revision_parents("aaaa", false)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "Revision aaaa is not a head revision; please specify --splice to create a new branch from this revision");
    assert_eq!(map.new_revision_parents("aaaa", true).unwrap(), ["aaaa"]);
}
