//! Offline scripts, whole: what `migrate upgrade A:B --sql`, `downgrade B:A --sql` and `stamp
//! --sql` print against what real Alembic prints for the same range, for SQLite, PostgreSQL and
//! MySQL, on the fixture projects: `alembic_project` (two roots, a merge, a dependency),
//! `seed_project` (the seed's own layout), and `offline_project` (an `autocommit_block`, two
//! statements in one migration) with its default settings, `transaction_per_migration` and a
//! custom version table in a schema.
//!
//! The scripts are compared byte for byte after two normalisations, applied to both sides:
//!
//! - on SQLite, migrate's `BEGIN;` and `COMMIT;` are left out: Alembic's SQLite support has
//!   `transactional_ddl = False` and writes no transaction statements, where migrate runs a
//!   SQLite script in the transaction an online run has;
//! - where one step changes several version rows (a merge, or undoing one), its version
//!   statements are compared by what they do (rows removed, rows added): which parent row
//!   Alembic updates and which it inserts or deletes follows Python's set order, which changes
//!   from run to run.
//!
//! Alembic runs in one Python process per test; a missing Alembic skips the tests (a failure
//! under `MIGRATE_TEST_REQUIRE_ALL=1`).

mod common;

use std::path::Path;

use common::{alembic, alembic_runs, fixture, Project};

/// The dialects, with the URL each side is given (nothing is connected to).
const DIALECTS: &[(&str, &str, &str)] = &[
    ("sqlite", "sqlite:///offline.db", "sqlite:///offline.db"),
    (
        "postgresql",
        "postgresql://app@db.example/app",
        "postgresql+psycopg2://app@db.example/app",
    ),
    (
        "mysql",
        "mysql://app@db.example/app",
        "mysql+pymysql://app@db.example/app",
    ),
];

/// One script to compare: the ini (relative to the project), the dialect, the command.
struct Case {
    ini: String,
    dialect: &'static str,
    ours_url: &'static str,
    alembic_url: &'static str,
    args: Vec<String>,
}

/// `migrate -c INI --url URL ARGS` for every case against Alembic's `-c INI -x url=URL ARGS`,
/// in the project folder, with `env` set for Alembic's env.py.
fn compare(p: &Project, cases: &[Case], env: &[(&str, &str)]) {
    let Some(alembic) = alembic() else {
        return;
    };
    let theirs = alembic_scripts(&alembic, p.path(), cases, env);
    let mut failures = Vec::new();
    for (case, theirs) in cases.iter().zip(theirs) {
        let mut args = vec!["-c", case.ini.as_str(), "--url", case.ours_url];
        args.extend(case.args.iter().map(String::as_str));
        let ours = p.migrate(&args);
        let (ours, theirs) = (
            normalise(case.dialect, ours.ok()),
            normalise(case.dialect, &theirs),
        );
        if ours != theirs {
            failures.push(format!(
                "`{}` ({}, {}):\n--- ours\n{ours}--- Alembic\n{theirs}",
                case.args.join(" "),
                case.dialect,
                case.ini
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scripts differ from Alembic's:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Alembic's stdout for every case, run in one Python process.
fn alembic_scripts(
    alembic: &Path,
    dir: &Path,
    cases: &[Case],
    env: &[(&str, &str)],
) -> Vec<String> {
    let runs: Vec<Vec<String>> = cases
        .iter()
        .map(|c| {
            let mut args = vec![
                "-c".to_string(),
                c.ini.clone(),
                "-x".to_string(),
                format!("url={}", c.alembic_url),
            ];
            args.extend(c.args.iter().cloned());
            args
        })
        .collect();
    alembic_runs(alembic, dir, &runs, env)
}

/// `script` with the two differences the module's doc names made comparable.
fn normalise(dialect: &str, script: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    // The version statements of the current step: where they start in `out`, and how many.
    let mut step: Vec<String> = Vec::new();
    let flush = |out: &mut Vec<String>, step: &mut Vec<String>| {
        if step.len() > 1 {
            out.push(net_version_change(step));
        } else {
            out.append(step);
        }
        step.clear();
    };
    for statement in script.split("\n\n").filter(|s| !s.is_empty()) {
        if dialect == "sqlite" && (statement == "BEGIN;" || statement == "COMMIT;") {
            continue;
        }
        if is_version_change(statement) {
            step.push(statement.to_string());
            continue;
        }
        flush(&mut out, &mut step);
        out.push(statement.to_string());
    }
    flush(&mut out, &mut step);
    out.iter().map(|s| format!("{s}\n\n")).collect()
}

/// Whether `statement` inserts, updates or deletes a version row.
fn is_version_change(statement: &str) -> bool {
    statement.contains("version_num")
        && ["INSERT ", "UPDATE ", "DELETE "]
            .iter()
            .any(|verb| statement.starts_with(verb))
}

/// What a step's version statements do: `-- version rows: -REMOVED +ADDED`, sorted.
fn net_version_change(statements: &[String]) -> String {
    let quoted = |s: &str| -> Vec<String> {
        s.split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for s in statements {
        let values = quoted(s);
        if s.starts_with("INSERT ") {
            added.push(values[0].clone());
        } else if s.starts_with("DELETE ") {
            removed.push(values[0].clone());
        } else {
            // UPDATE ... SET version_num='TO' WHERE ....version_num = 'FROM'
            added.push(values[0].clone());
            removed.push(values[1].clone());
        }
    }
    removed.sort();
    added.sort();
    format!(
        "-- version rows: -{} +{}",
        removed.join(","),
        added.join(",")
    )
}

/// Every range of `ranges` for every dialect, with the ini `ini`.
fn cases(ini: &str, ranges: &[&str]) -> Vec<Case> {
    let mut cases = Vec::new();
    for (dialect, ours_url, alembic_url) in DIALECTS {
        for range in ranges {
            let mut args: Vec<String> = range.split(' ').map(str::to_string).collect();
            args.push("--sql".to_string());
            cases.push(Case {
                ini: ini.to_string(),
                dialect,
                ours_url,
                alembic_url,
                args,
            });
        }
    }
    cases
}

#[test]
fn alembic_project_scripts_are_alembics() {
    let p = Project::empty();
    p.copy(&fixture("alembic_project"), "alembic_project");
    let ranges = [
        "upgrade base:heads",
        "upgrade 3f2a1b0c9d8e:heads",
        "upgrade 5d4c3b2a1f0e:b1c2d3e4f5a6",
        "upgrade base:reporting@head",
        "downgrade b1c2d3e4f5a6:3f2a1b0c9d8e",
        "downgrade b1c2d3e4f5a6:base",
        "downgrade 9a8b7c6d5e4f:3f2a1b0c9d8e",
        "downgrade c7d8e9f0a1b2:base",
        "stamp heads",
        "stamp 3f2a1b0c9d8e:b1c2d3e4f5a6",
    ];
    compare(&p, &cases("alembic_project/alembic.ini", &ranges), &[]);
}

#[test]
fn seed_project_scripts_are_alembics() {
    // The seed's env.py builds its (PostgreSQL) URL from POSTGRES_*; nothing is connected to.
    let p = Project::empty();
    p.copy(&fixture("seed_project"), ".");
    let ini = "infrastructure/migrations/alembic.ini";
    let cases: Vec<Case> = cases(
        ini,
        &[
            "upgrade base:head",
            "upgrade 1975ea83b712:head",
            "downgrade 8c2b4e6f1a90:base",
            "stamp base:head",
        ],
    )
    .into_iter()
    .filter(|c| c.dialect == "postgresql")
    .collect();
    let env = [
        ("POSTGRES_HOST", "db.example"),
        ("POSTGRES_USER", "app"),
        ("POSTGRES_DB", "app"),
    ];
    compare(&p, &cases, &env);
}

/// `offline_project` with `settings` appended to its ini, written as `name`.
fn offline_project(p: &Project, name: &str, settings: &str) -> String {
    let ini = p.read("offline_project/alembic.ini") + settings;
    let path = format!("offline_project/{name}");
    p.write(&path, &ini);
    path
}

const OFFLINE_RANGES: &[&str] = &[
    "upgrade base:head",
    "upgrade a1a1a1a1a1a1:head",
    "upgrade base:b2b2b2b2b2b2",
    "downgrade c3c3c3c3c3c3:base",
    "downgrade c3c3c3c3c3c3:a1a1a1a1a1a1",
    "stamp base:head",
];

#[test]
fn autocommit_blocks_and_custom_version_tables_are_alembics() {
    let p = Project::empty();
    p.copy(&fixture("offline_project"), "offline_project");
    let mut all = cases("offline_project/alembic.ini", OFFLINE_RANGES);
    let custom = offline_project(
        &p,
        "custom_table.ini",
        "version_table = tenant_versions\nversion_table_schema = app\n",
    );
    all.extend(cases(&custom, OFFLINE_RANGES));
    let quoted = offline_project(
        &p,
        "quoted_table.ini",
        "version_table = Version Table\nversion_table_schema = Tenant\n",
    );
    all.extend(cases(&quoted, OFFLINE_RANGES));
    compare(&p, &all, &[]);
}

/// One transaction per migration, on MySQL (no transactions either way), SQLite (none in
/// Alembic's) and PostgreSQL, where a script from the base creates the version table inside
/// the first migration's transaction (`BEGIN; CREATE TABLE alembic_version ...; -- Running
/// upgrade -> a1a1a1a1a1a1 ...; COMMIT;`), as Alembic's does.
#[test]
fn transaction_per_migration_scripts_are_alembics() {
    let p = Project::empty();
    p.copy(&fixture("offline_project"), "offline_project");
    let ini = offline_project(
        &p,
        "per_migration.ini",
        "transaction_per_migration = true\n",
    );
    compare(&p, &cases(&ini, OFFLINE_RANGES), &[]);
}
