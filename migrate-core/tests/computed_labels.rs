//! `branch_labels` that Python computes (OpenStack's `branch_labels = (cli.EXPAND_BRANCH,)`):
//! the history loads and runs by revision id and `head`/`heads`, while any identifier that
//! could be such a label is refused instead of resolved by a guess.

mod python_common;

use migrate_core::{Error, Revision, RevisionMap};
use python_common::parse_text;

fn file(id: &str, down: &str, extra: &str) -> Revision {
    let text = format!(
        "\"\"\"{id}\"\"\"\nfrom alembic import op\nfrom neutron.db.migration import cli\n\
         from neutron.db import migration\nfrom neutron.db.migration.cli import EXPAND_BRANCH\n\n\
         revision = '{id}'\ndown_revision = {down}\n{extra}\n\n\
         def upgrade():\n    op.execute('CREATE TABLE t_{id} (x INTEGER)')\n\n\
         def downgrade():\n    op.execute('DROP TABLE t_{id}')\n"
    );
    parse_text(&format!("versions/{id}.py"), &text).unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// base 0a1b2c3d4e5f -> 1b2c3d4e5f60 (branch point) -> expand 2c3d4e5f6071 -> 3d4e5f607182,
/// and contract 4e5f60718293 -> 5f6071829304; the expand side also carries `liberty`, written as
/// a string.
fn neutron_like() -> Vec<Revision> {
    vec![
        file("0a1b2c3d4e5f", "None", ""),
        file("1b2c3d4e5f60", "'0a1b2c3d4e5f'", ""),
        file(
            "2c3d4e5f6071",
            "'1b2c3d4e5f60'",
            "branch_labels = ('liberty', cli.EXPAND_BRANCH)",
        ),
        file("3d4e5f607182", "'2c3d4e5f6071'", ""),
        file(
            "4e5f60718293",
            "'1b2c3d4e5f60'",
            "branch_labels = (migration.CONTRACT_BRANCH,)",
        ),
        file("5f6071829304", "'4e5f60718293'", ""),
    ]
}

fn code(e: &Error) -> &'static str {
    e.code()
}

#[test]
fn imported_names_are_kept_as_written_and_module_strings_are_read() {
    let revs = neutron_like();
    assert_eq!(revs[2].branch_labels, ["liberty"]);
    assert_eq!(revs[2].computed_branch_labels, ["cli.EXPAND_BRANCH"]);
    assert_eq!(revs[4].branch_labels, Vec::<String>::new());
    assert_eq!(
        revs[4].computed_branch_labels,
        ["migration.CONTRACT_BRANCH"]
    );
    let bare = file("aaaa", "None", "branch_labels = EXPAND_BRANCH");
    assert_eq!(bare.computed_branch_labels, ["EXPAND_BRANCH"]);
    let constant = file(
        "bbbb",
        "None",
        "BRANCH = 'feature'\nbranch_labels = (BRANCH,)",
    );
    assert_eq!(constant.branch_labels, ["feature"]);
    assert!(constant.computed_branch_labels.is_empty());
}

#[test]
fn names_that_are_not_imports_or_strings_stay_refused() {
    for (extra, shown) in [
        ("branch_labels = (UNBOUND,)", "(UNBOUND,)"),
        ("branch_labels = cli.label()", "cli.label()"),
        ("N = 3\nbranch_labels = (N,)", "(N,)"),
        (
            "branch_labels = (cli.EXPAND_BRANCH + 'x',)",
            "(cli.EXPAND_BRANCH + 'x',)",
        ),
    ] {
        let text = format!(
            "from neutron.db.migration import cli\nrevision = 'cccc'\ndown_revision = None\n{extra}\n"
        );
        let e = parse_text("versions/cccc.py", &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`branch_labels` must be a literal") && e.contains(shown),
            "{extra}: {e}"
        );
    }
    // Only `branch_labels` takes names: a parent still has to be written out.
    let text = "from x import cli\nrevision = 'dddd'\ndown_revision = cli.PARENT\n";
    let e = parse_text("versions/dddd.py", text)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`down_revision` must be a literal"), "{e}");
}

#[test]
fn computed_labels_spread_like_labels_and_heads_and_ids_still_resolve() {
    let map = RevisionMap::new(neutron_like()).unwrap();
    assert_eq!(
        map.computed_branch_labels("3d4e5f607182"),
        ["cli.EXPAND_BRANCH"]
    );
    assert_eq!(map.branch_labels("3d4e5f607182"), ["liberty"]);
    assert_eq!(
        map.computed_branch_labels("5f6071829304"),
        ["migration.CONTRACT_BRANCH"]
    );
    assert!(map.computed_branch_labels("0a1b2c3d4e5f").is_empty());

    let ran = |target: &str| -> Vec<String> {
        let plan = map.plan_upgrade(&[], target).unwrap();
        plan.steps
            .iter()
            .filter_map(|s| s.revision.clone())
            .collect()
    };
    assert_eq!(ran("heads").len(), 6);
    assert_eq!(
        ran("3d4e5f607182"),
        [
            "0a1b2c3d4e5f",
            "1b2c3d4e5f60",
            "2c3d4e5f6071",
            "3d4e5f607182"
        ]
    );
    assert_eq!(ran("liberty@head").last().unwrap(), "3d4e5f607182");
    assert_eq!(ran("1b2c3d4e5f60").len(), 2);
    let at_heads = map
        .plan_upgrade(&["3d4e5f607182".into(), "5f6071829304".into()], "heads")
        .unwrap();
    assert!(at_heads.steps.is_empty());
    let down = map
        .plan_downgrade(&["3d4e5f607182".into(), "5f6071829304".into()], "base")
        .unwrap();
    assert_eq!(down.steps.len(), 6);
}

#[test]
fn identifiers_that_could_be_a_computed_label_are_refused_naming_the_files() {
    let map = RevisionMap::new(neutron_like()).unwrap();
    for target in ["expand@head", "contract", "3d4e5f", "expand@+1"] {
        let e = map.plan_upgrade(&[], target).unwrap_err();
        assert_eq!(code(&e), "computed_branch_label", "{target}: {e}");
        let shown = e.to_string();
        assert!(
            shown.contains(&format!(
                "Can't resolve '{}'",
                target.split('@').next().unwrap()
            )) || shown.contains(&format!("Can't resolve '{target}'")),
            "{target}: {shown}"
        );
        assert!(
            shown.contains("2c3d4e5f6071 (cli.EXPAND_BRANCH; versions/2c3d4e5f6071.py)")
                && shown
                    .contains("4e5f60718293 (migration.CONTRACT_BRANCH; versions/4e5f60718293.py)")
                && shown.contains("give the full revision id"),
            "{target}: {shown}"
        );
    }
    // A full revision id before `@` names its branch by lineage, which needs no label.
    let plan = map.plan_upgrade(&[], "4e5f60718293@head").unwrap();
    assert_eq!(plan.end, ["5f6071829304"]);
}

#[test]
fn a_dependency_on_an_unknown_name_may_be_a_computed_label() {
    let mut revs = neutron_like();
    let mut dep = file("6071829304a5", "'3d4e5f607182'", "depends_on = 'contract'");
    dep.depends_on = vec!["contract".into()];
    revs.push(dep);
    let e = RevisionMap::new(revs).unwrap_err();
    assert_eq!(code(&e), "computed_branch_label", "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("Revision contract referenced from 6071829304a5")
            && shown.contains("depend on the revision id"),
        "{shown}"
    );
    // Without computed labels the same name is a missing revision, as before.
    let plain = vec![
        file("0a1b2c3d4e5f", "None", ""),
        file("6071829304a5", "'0a1b2c3d4e5f'", "depends_on = 'contract'"),
    ];
    let e = RevisionMap::new(plain).unwrap_err();
    assert_eq!(code(&e), "missing_revision", "{e}");
}
