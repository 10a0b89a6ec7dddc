//! Issue 13 items 6 and 7: `migrate revision` and `migrate merge` write what the project uses,
//! as Alembic writes it.
//!
//! The expected files are written by real Alembic 1.20.1 (`/opt/alembic-venv`) in a copy of
//! the same project, running the same commands, with its clock fixed to the instant
//! `SOURCE_DATE_EPOCH` gives `migrate` (Alembic has no such switch, so the test replaces its
//! `ScriptDirectory._generate_create_date`); file names, file bytes and the `Generating ...`
//! lines must be equal. Without Alembic the test skips, and fails under
//! `MIGRATE_TEST_REQUIRE_ALL=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{fixture, require_all, run_alembic, Project, Run, TestDb};

/// 2026-11-05 07:03:09 UTC.
const EPOCH: &str = "1793862189";

/// Runs real Alembic's command line in `dir` with its clock at [`EPOCH`].
const FIXED_CLOCK_ALEMBIC: &str = r#"
import datetime, sys
import alembic.script.base as base
base.ScriptDirectory._generate_create_date = lambda self: datetime.datetime(2026, 11, 5, 7, 3, 9)
from alembic.config import main
main(argv=sys.argv[1:], prog="alembic")
"#;

/// The venv's Python, or `None` (a failure under `MIGRATE_TEST_REQUIRE_ALL=1`).
fn alembic_python() -> Option<PathBuf> {
    let python = PathBuf::from("/opt/alembic-venv/bin/python");
    if python.is_file() {
        return Some(python);
    }
    assert!(
        !require_all(),
        "real Alembic is not installed in /opt/alembic-venv (bash /work/shared/alembic-oracle/setup.sh), \
         and MIGRATE_TEST_REQUIRE_ALL=1 requires it"
    );
    eprintln!("skipped: real Alembic not installed in /opt/alembic-venv");
    None
}

fn alembic_at_fixed_time(python: &Path, dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(python)
        .current_dir(dir)
        .arg("-c")
        .arg(FIXED_CLOCK_ALEMBIC)
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .expect("running alembic");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: format!("(alembic) {}", args.join(" ")),
    }
}

fn migrate_at_fixed_time(p: &Project, args: &[&str]) -> Run {
    p.migrate_env(args, &[("SOURCE_DATE_EPOCH", EPOCH)])
}

/// Every file under `dir`, relative, sorted, with its bytes.
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("listing a folder").flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read_to_string(&path).expect("a text file")));
            }
        }
    }
    out.sort();
    out
}

/// A project template that uses what custom `script.py.mako` files use: filters, `repr`,
/// conditionals, a loop, `<%text>`, `##` comments and a joined line.
const CUSTOM_MAKO: &str = r#"## Rendered by migrate and by Alembic alike.
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
% if branch_labels:
Starts the branch: ${branch_labels | comma,n}
% endif
"""
from alembic import op

# Literal Mako: <%text>${up_revision}</%text>, \
joined to the line above.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}
% for label in branch_labels or ():
BRANCH_${label} = ${repr(label)}
% endfor
% if depends_on:
# Needs ${depends_on | comma,n} first.
% elif not down_revision:
# A base revision.
% else:
# Follows ${down_revision | comma,n}.
% endif


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
"#;

const CUSTOM_INI: &str = "\
[alembic]
script_location = %(here)s
file_template = %%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s
truncate_slug_length = 12
sqlalchemy.url = sqlite:///unused.db
";

#[test]
fn custom_template_file_template_and_slug_length_as_alembic_writes_them() {
    let Some(python) = alembic_python() else {
        return;
    };
    let ours = Project::empty();
    let theirs = Project::empty();
    for p in [&ours, &theirs] {
        p.write("db/alembic.ini", CUSTOM_INI);
        p.write("db/script.py.mako", CUSTOM_MAKO);
        p.write("db/versions/.keep", "");
    }
    let steps: &[&[&str]] = &[
        &[
            "revision",
            "-m",
            "create the accounts table",
            "--rev-id",
            "a1a1a1a1a1a1",
        ],
        &[
            "revision",
            "-m",
            "add plans",
            "--rev-id",
            "b2b2b2b2b2b2",
            "--branch-label",
            "billing",
            "--depends-on",
            "a1a1",
        ],
        &[
            "revision",
            "-m",
            "Second branch: audit!",
            "--rev-id",
            "c3c3c3c3c3c3",
            "--head",
            "a1a1a1a1a1a1",
            "--splice",
        ],
        &[
            "merge",
            "heads",
            "-m",
            "merge billing and audit",
            "--rev-id",
            "d4d4d4d4d4d4",
        ],
        &["revision", "--rev-id", "e5e5e5e5e5e5"],
    ];
    for step in steps {
        let mut args = vec!["-c", "db/alembic.ini"];
        args.extend_from_slice(step);
        let mine = migrate_at_fixed_time(&ours, &args);
        let real = alembic_at_fixed_time(&python, theirs.path(), &args);
        let real_out = real.ok().replace(
            &theirs.path().display().to_string(),
            &ours.path().display().to_string(),
        );
        assert_eq!(mine.ok(), real_out, "{}", step.join(" "));
    }
    let written = tree(&ours.path().join("db/versions"));
    assert_eq!(written, tree(&theirs.path().join("db/versions")));
    // The names show the template and the 12-character slug at work (as checked above).
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            ".keep",
            "2026_11_05_a1a1a1a1a1a1_create_the_.py",
            "2026_11_05_b2b2b2b2b2b2_add_plans.py",
            "2026_11_05_c3c3c3c3c3c3_second_.py",
            "2026_11_05_d4d4d4d4d4d4_merge_.py",
            "2026_11_05_e5e5e5e5e5e5_.py",
        ]
    );
}

/// The issue's case: an Alembic project (`-c alembic.ini`, only `.py` revisions) gets a `.py`
/// revision from its own `script.py.mako`, and Alembic's `current` and `downgrade` work after
/// `migrate upgrade head` (with a `.sql` file they failed with "Can't locate revision").
#[test]
fn alembic_project_gets_python_revisions_alembic_runs() {
    let Some(python) = alembic_python() else {
        return;
    };
    let alembic = python.with_file_name("alembic");
    let db = TestDb::sqlite();
    let ours = Project::empty();
    let theirs = Project::empty();
    for p in [&ours, &theirs] {
        p.copy(&fixture("alembic_project"), "alembic_project");
    }
    let args = [
        "-c",
        "alembic_project/alembic.ini",
        "revision",
        "-m",
        "add invoices",
        "--rev-id",
        "f6f6f6f6f6f6",
        "--head",
        "audit@head",
    ];
    migrate_at_fixed_time(&ours, &args).ok();
    alembic_at_fixed_time(&python, theirs.path(), &args).ok();
    let file = "alembic_project/versions/f6f6f6f6f6f6_add_invoices.py";
    assert_eq!(ours.read(file), theirs.read(file));

    ours.migrate(&[
        "-c",
        "alembic_project/alembic.ini",
        "--url",
        &db.url,
        "upgrade",
        "heads",
    ])
    .ok();
    let current = run_alembic(
        &alembic,
        ours.path(),
        "alembic_project/alembic.ini",
        &db.url,
        &["current"],
    );
    assert!(
        current.ok().contains("f6f6f6f6f6f6 (head)"),
        "{}",
        current.stdout
    );
    run_alembic(
        &alembic,
        ours.path(),
        "alembic_project/alembic.ini",
        &db.url,
        &["downgrade", "audit@-1"],
    )
    .ok();
    assert!(!db
        .versions()
        .unwrap_or_default()
        .contains(&"f6f6f6f6f6f6".to_string()));
}

#[test]
fn format_follows_the_project_unless_configured() {
    // A migrate.toml project whose folder holds only .py revisions: .py.
    let p = Project::empty();
    p.copy(&fixture("alembic_project/versions"), "m/versions");
    p.write("migrate.toml", "script_location = \"m\"\n");
    let out = p.migrate(&[
        "revision",
        "-m",
        "next",
        "--rev-id",
        "aa01",
        "--head",
        "audit@head",
    ]);
    assert!(
        out.ok().ends_with("/m/versions/aa01_next.py ...  done\n"),
        "{}",
        out.stdout
    );
    // A .sql revision among them (--format decides over everything): the folder is mixed,
    // so the native default, .sql, follows.
    p.migrate(&[
        "revision",
        "-m",
        "then",
        "--rev-id",
        "aa02",
        "--head",
        "aa01",
        "--revision-format",
        "sql",
    ])
    .ok();
    assert!(p.path().join("m/versions/aa02_then.sql").is_file());
    p.migrate(&[
        "revision", "-m", "after", "--rev-id", "aa03", "--head", "aa02",
    ])
    .ok();
    assert!(p.path().join("m/versions/aa03_after.sql").is_file());
    // revision_format decides over the folder.
    p.write(
        "migrate.toml",
        "script_location = \"m\"\nrevision_format = \"py\"\n",
    );
    p.migrate(&[
        "revision", "-m", "py one", "--rev-id", "aa04", "--head", "aa03",
    ])
    .ok();
    assert!(p.path().join("m/versions/aa04_py_one.py").is_file());

    // An alembic.ini project (here the `init --layout alembic` scaffold, empty): .py, from the
    // scaffold's own script.py.mako.
    let p = Project::empty();
    p.migrate(&["init", "--layout", "alembic", "db"]).ok();
    p.migrate(&[
        "-c",
        "db/alembic.ini",
        "revision",
        "-m",
        "first",
        "--rev-id",
        "bb01",
    ])
    .ok();
    let text = p.read("db/versions/bb01_first.py");
    assert!(
        text.starts_with("\"\"\"first\n\nRevision ID: bb01\nRevises: \n")
            && text.contains("revision = 'bb01'\ndown_revision = None\n")
            && text.contains("def upgrade():\n    # Plain SQL keeps the revision runnable by migrate: op.execute(\"CREATE TABLE ...\")\n    pass\n"),
        "{text}"
    );
    // [migrate] revision_format = sql in the ini beats the ini rule.
    let ini = p.read("db/alembic.ini") + "\n[migrate]\nrevision_format = sql\n";
    p.write("db/alembic.ini", &ini);
    p.migrate(&[
        "-c",
        "db/alembic.ini",
        "revision",
        "-m",
        "second",
        "--rev-id",
        "bb02",
    ])
    .ok();
    assert!(p.path().join("db/versions/bb02_second.sql").is_file());
}

#[test]
fn an_id_longer_than_the_version_column_is_refused_at_revision_and_merge() {
    let db = TestDb::sqlite();
    let p = Project::example(&db.url);
    let before = p.files("migrations/versions");
    let long = "a".repeat(33);
    for args in [
        vec!["revision", "-m", "x", "--rev-id", long.as_str()],
        vec!["merge", "heads", "-m", "x", "--rev-id", long.as_str()],
    ] {
        let message = p.migrate(&args).failed();
        assert_eq!(
            message,
            format!(
                "revision id '{long}' is 33 characters long, but the version table's version_num column holds at \
                 most 32 (VARCHAR(32)), so upgrading to it would fail; choose a shorter --rev-id"
            ),
            "{}",
            args.join(" ")
        );
        assert_eq!(p.files("migrations/versions"), before, "nothing written");
    }
    // 32 is fine, and upgrades.
    let ok = "b".repeat(32);
    p.migrate(&["revision", "-m", "x", "--rev-id", &ok]).ok();
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(vec![ok]));
}

#[test]
fn a_template_beyond_the_subset_is_refused_by_construct_and_line() {
    let p = Project::empty();
    p.copy(&fixture("alembic_project"), "a");
    let mako = p.read("a/script.py.mako");
    p.write(
        "a/script.py.mako",
        &format!("{mako}\n<%\n    names = config.get_main_option('databases')\n%>\n"),
    );
    let before = p.files("a/versions");
    let message = p
        .migrate(&[
            "-c",
            "a/alembic.ini",
            "revision",
            "-m",
            "x",
            "--head",
            "audit@head",
        ])
        .failed();
    let line = mako.lines().count() + 2;
    assert!(
        message.ends_with(&format!(
            "a/script.py.mako:{line}: `<% %>` (a Python block) is beyond the part of Mako migrate renders \
             (${{...}} over the template's variables, % if/elif/else/endif, % for/endfor, <%text>, <%doc> and ## comments); \
             write this revision with `alembic revision`, or keep script.py.mako to that part"
        )),
        "{message}"
    );
    assert_eq!(p.files("a/versions"), before);
}
