//! Loading the revision graph: the errors users meet, labels, heads and bases. Alembic's words
//! for each error come from `tests/alembic/graph_errors.txt`, which `gen_graph_errors.py` has
//! Alembic 1.20.1 write for the same revisions (regenerated and compared by `references.rs`).

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

/// What Alembic 1.20.1 said for a case of `tests/alembic/graph_errors.txt` (written by
/// `gen_graph_errors.py`, on the same revisions as the test builds).
struct Alembic {
    warnings: Vec<String>,
    /// The error's first line; `None` when Alembic accepted the case.
    error: Option<String>,
    /// Whether Alembic names the case's two revisions in either order.
    either_order: bool,
}

fn alembic(case: &str) -> Alembic {
    let text = include_str!("alembic/graph_errors.txt");
    let block = text
        .split("=== ")
        .find_map(|b| b.strip_prefix(case).and_then(|b| b.strip_prefix('\n')))
        .unwrap_or_else(|| panic!("no case {case} in graph_errors.txt"));
    let mut said = Alembic {
        warnings: vec![],
        error: None,
        either_order: false,
    };
    for line in block.lines() {
        if let Some(w) = line.strip_prefix("warning: ") {
            said.warnings.push(w.to_string());
        } else if let Some(e) = line.strip_prefix("error: ") {
            said.error = Some(e.to_string());
        } else if line == "note: either order" {
            said.either_order = true;
        } else {
            assert_eq!(line, "ok", "{case}");
        }
    }
    said
}

/// `message` without the ` (versions/...)` file names `migrate` adds after revision ids.
fn without_files(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(at) = rest.find(" (versions/") {
        out.push_str(&rest[..at]);
        rest = rest[at..].split_once(')').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

/// Asserts that `ours` says what Alembic's error for `case` says, in its words (files and a
/// hint may follow, and file names may follow revision ids).
#[track_caller]
fn uses_alembics_words(case: &str, ours: &str) {
    let said = alembic(case);
    let theirs = said
        .error
        .unwrap_or_else(|| panic!("Alembic accepts {case}"));
    let ours_plain = without_files(ours);
    let matches = |theirs: &str| ours_plain.starts_with(theirs);
    let swapped = || {
        let (a, b) = ("in revision ", " already used by revision ");
        let (head, rest) = theirs.split_once(a)?;
        let (first, second) = rest.split_once(b)?;
        Some(format!("{head}{a}{second}{b}{first}"))
    };
    assert!(
        matches(&theirs) || (said.either_order && swapped().is_some_and(|s| matches(&s))),
        "{case}:\n  ours:    {ours}\n  Alembic: {theirs}"
    );
}

#[test]
fn a_duplicate_id_names_both_files() {
    let mut second = rev("aaaa", &[]);
    second.path = "versions/other.py".into();
    let e = err(vec![rev("aaaa", &[]), second]);
    // Alembic only warns, and keeps one of the two; `migrate` refuses, in the warning's words.
    let said = alembic("duplicate_id");
    assert_eq!(said.error, None);
    assert!(e.starts_with(&said.warnings[0]), "{e}");
    assert!(
        e.contains("versions/aaaa.py") && e.contains("versions/other.py"),
        "{e}"
    );
}

#[test]
fn an_unknown_parent_names_the_file() {
    let e = err(vec![rev("aaaa", &[]), rev("bbbb", &["zzzz"])]);
    // Alembic warns, naming the revision by its repr, then fails with a bare KeyError;
    // `migrate` refuses with the warning's sentence and the revision's id.
    let said = alembic("unknown_parent");
    assert_eq!(said.error.as_deref(), Some("'zzzz'"));
    let warning = said.warnings[0].replace("zzzz -> bbbb (head), rev bbbb", "bbbb");
    assert_eq!(warning, "Revision zzzz referenced from bbbb is not present");
    assert!(e.starts_with(&warning), "{e}");
    assert!(e.contains("versions/bbbb.py"), "{e}");
    // An unknown `depends_on` is a bare KeyError in Alembic: the sentence is ours.
    assert_eq!(
        alembic("unknown_dependency").error.as_deref(),
        Some("'nope'")
    );
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
    let e = err(vec![rev("aaaa", &["bbbb"]), rev("bbbb", &["aaaa"])]);
    uses_alembics_words("cycle", &e);
    let e = err(vec![
        rev("root", &[]),
        rev("aaaa", &["root", "bbbb"]),
        rev("bbbb", &["aaaa"]),
    ]);
    // With no head left, Alembic (and migrate) name every revision; migrate adds the files.
    uses_alembics_words("cycle_without_head", &e);
    assert!(
        e.contains("aaaa (versions/aaaa.py)") && e.contains("root ("),
        "{e}"
    );
    let e = err(vec![rev("aaaa", &["aaaa"])]);
    uses_alembics_words("self_loop", &e);
    let mut a = rev("aaaa", &[]);
    a.depends_on = vec!["bbbb".into()];
    let mut b = rev("bbbb", &[]);
    b.depends_on = vec!["aaaa".into()];
    uses_alembics_words("dependency_cycle", &err(vec![a, b]));
}

#[test]
fn a_label_used_twice_is_an_error() {
    let mut a = rev("aaaa", &[]);
    a.branch_labels = vec!["core".into()];
    let mut b = rev("bbbb", &[]);
    b.branch_labels = vec!["core".into()];
    uses_alembics_words("label_used_twice", &err(vec![a, b]));
}

#[test]
fn illegal_characters_in_an_id_are_refused() {
    uses_alembics_words("illegal_character", &err(vec![rev("ab-cd", &[])]));
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
    uses_alembics_words("ambiguous_prefix", &e);
    // Alembic's command layer hides the resolver's detail; `migrate` adds it.
    assert!(
        e.contains(
            ": Multiple revisions start with 'ae10': 'ae1027a6acf', 'ae10bbbbbbb', 'ae10ccccccc'"
        ),
        "{e}"
    );
    let e = map.plan_upgrade(&[], "head").unwrap_err().to_string();
    uses_alembics_words("multiple_heads", &e);
    assert!(
        e.contains("ae10bbbbbbb, ae10ccccccc"),
        "names the heads: {e}"
    );
    let e = map.plan_upgrade(&[], "ffff").unwrap_err().to_string();
    uses_alembics_words("unknown_revision", &e);
    let e = map.plan_upgrade(&[], "+2").unwrap_err().to_string();
    uses_alembics_words("relative_past_branch", &e);
    let linear = RevisionMap::new(vec![rev("aaaa", &[]), rev("bbbb", &["aaaa"])]).unwrap();
    let e = linear.plan_upgrade(&[], "+4").unwrap_err().to_string();
    uses_alembics_words("relative_overrun", &e);
    let e = map
        .plan_downgrade(&["ae1027a6acf".into()], "ae10bbbb")
        .unwrap_err()
        .to_string();
    uses_alembics_words("downgrade_not_below", &e);
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
    uses_alembics_words("new_revision_not_on_a_head", &e);
    assert_eq!(map.new_revision_parents("aaaa", true).unwrap(), ["aaaa"]);
}
