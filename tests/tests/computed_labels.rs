//! A history whose `branch_labels` come from an imported module, as OpenStack writes them
//! (`branch_labels = (cli.EXPAND_BRANCH,)`), run by `migrate` and by real Alembic on the same
//! files: Alembic imports the module (`nlabels/cli.py` beside `alembic.ini`), `migrate` never
//! runs Python. Both reach the same version rows and tables; `migrate` lists the labels as
//! their expressions and refuses identifiers that could be one of them.

mod common;

use common::{alembic, run_alembic, Project, TestDb};

const INI: &str = "alembic_project/alembic.ini";

fn revision(id: &str, down: &str, labels: &str) -> String {
    format!(
        "\"\"\"{id}\n\nRevision ID: {id}\nRevises: {down}\n\"\"\"\nfrom alembic import op\n\
         from nlabels import cli\n\nrevision = '{id}'\ndown_revision = {down}\n\
         branch_labels = {labels}\ndepends_on = None\n\n\n\
         def upgrade():\n    op.execute('CREATE TABLE t_{id} (x INTEGER)')\n\n\n\
         def downgrade():\n    op.execute('DROP TABLE t_{id}')\n"
    )
}

/// base 0a1b2c3d4e5f -> branch point 1b2c3d4e5f60 -> expand 2c3d4e5f6071 -> 3d4e5f607182, and
/// contract 4e5f60718293 -> 5f6071829304.
fn project() -> Project {
    let p = Project::empty();
    for file in ["alembic.ini", "env.py"] {
        let text = std::fs::read_to_string(common::fixture("alembic_project").join(file))
            .expect("the Alembic fixture");
        p.write(&format!("alembic_project/{file}"), &text);
    }
    p.write("nlabels/__init__.py", "");
    p.write(
        "nlabels/cli.py",
        "EXPAND_BRANCH = 'expand'\nCONTRACT_BRANCH = 'contract'\n",
    );
    for (id, down, labels) in [
        ("0a1b2c3d4e5f", "None", "None"),
        ("1b2c3d4e5f60", "'0a1b2c3d4e5f'", "None"),
        ("2c3d4e5f6071", "'1b2c3d4e5f60'", "(cli.EXPAND_BRANCH,)"),
        ("3d4e5f607182", "'2c3d4e5f6071'", "None"),
        ("4e5f60718293", "'1b2c3d4e5f60'", "(cli.CONTRACT_BRANCH,)"),
        ("5f6071829304", "'4e5f60718293'", "None"),
    ] {
        p.write(
            &format!("alembic_project/versions/{id}_r.py"),
            &revision(id, down, labels),
        );
    }
    p
}

#[test]
fn computed_labels_run_as_alembic_runs_them_and_never_resolve_by_guess() {
    let Some(alembic) = alembic() else {
        return;
    };
    let p = project();
    let ours = TestDb::sqlite();
    let theirs = TestDb::sqlite();

    // Listings: the labels appear as their expressions where Alembic prints their values.
    let heads = p.migrate(&["-c", INI, "--url", &ours.url, "heads"]);
    let alembic_heads = run_alembic(&alembic, p.path(), INI, &theirs.url, &["heads"]);
    let mut expected: Vec<String> = alembic_heads
        .ok()
        .lines()
        .map(|l| {
            l.replace("(expand)", "(cli.EXPAND_BRANCH)")
                .replace("(contract)", "(cli.CONTRACT_BRANCH)")
        })
        .collect();
    let mut got: Vec<String> = heads.ok().lines().map(str::to_string).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        got.iter()
            .any(|l| l == "3d4e5f607182 (cli.EXPAND_BRANCH) (head)"),
        "{got:?}"
    );

    // `upgrade heads`: the same rows and tables as Alembic's.
    p.migrate(&["-c", INI, "--url", &ours.url, "upgrade", "heads"])
        .ok();
    run_alembic(&alembic, p.path(), INI, &theirs.url, &["upgrade", "heads"]).ok();
    let mut rows = ours.versions().expect("a version table");
    rows.sort();
    assert_eq!(rows, ["3d4e5f607182", "5f6071829304"]);
    let mut alembic_rows = theirs.versions().expect("Alembic's version table");
    alembic_rows.sort();
    assert_eq!(rows, alembic_rows);
    assert_eq!(ours.tables(), theirs.tables());

    // Alembic resolves `expand@head` through the imported value; migrate cannot know it, so
    // it refuses rather than guess, and says what to write instead.
    let refused = p
        .migrate(&["-c", INI, "--url", &ours.url, "downgrade", "expand@-1"])
        .failed();
    assert!(
        refused.contains("Can't resolve 'expand'")
            && refused.contains("2c3d4e5f6071 (cli.EXPAND_BRANCH;")
            && refused.contains("give the full revision id"),
        "{refused}"
    );
    assert_eq!(ours.versions().map(|r| r.len()), Some(2));
    // By revision id, the same step Alembic takes by label.
    run_alembic(
        &alembic,
        p.path(),
        INI,
        &theirs.url,
        &["downgrade", "expand@-1"],
    )
    .ok();
    p.migrate(&["-c", INI, "--url", &ours.url, "downgrade", "2c3d4e5f6071"])
        .ok();
    assert_eq!(ours.versions(), theirs.versions());
    assert_eq!(ours.tables(), theirs.tables());

    // And down to the base, as Alembic does.
    run_alembic(&alembic, p.path(), INI, &theirs.url, &["downgrade", "base"]).ok();
    p.migrate(&["-c", INI, "--url", &ours.url, "downgrade", "base"])
        .ok();
    assert_eq!(ours.versions(), Some(vec![]));
    assert_eq!(ours.tables(), theirs.tables());
}
