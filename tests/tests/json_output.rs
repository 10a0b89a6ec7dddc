//! `--format json` on every command: stdout holds exactly one document (`format_version` 1,
//! the command's name, the fields users rely on), progress stays off stderr unless `-v`, and
//! `MIGRATE_FORMAT=json` does the same. Commands that read or change a database run on SQLite,
//! PostgreSQL and MariaDB (one body each); the others run once.
//!
//! The history used: a0 (base, a branch point) -> b1 and a0 -> c2 (branch label `side`,
//! depends on b1), merged by d3.

mod common;

use common::json::{document, failure, ids, revision, revisions, steps, strings, success};
use common::{Project, TestDb};
use serde_json::Value;

const A0: &str = "a0a0a0a0a0a0";
const B1: &str = "b1b1b1b1b1b1";
const C2: &str = "c2c2c2c2c2c2";
const D3: &str = "d3d3d3d3d3d3";

/// A `.sql` revision creating the table `table` (dropped on downgrade).
fn revision_file(
    id: &str,
    message: &str,
    revises: &str,
    labels: &str,
    depends: &str,
    table: &str,
) -> String {
    format!(
        "-- {message}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n-- Branch Labels: {labels}\n-- Depends On: {depends}\n\n-- migrate:upgrade\nCREATE TABLE {table} (id INT PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE {table};\n"
    )
}

/// The branched project on `url`.
fn project(url: &str) -> Project {
    project_with(url, B1)
}

/// The branched project on `url`, c2 depending on `depends` (`""`: on nothing).
fn project_with(url: &str, depends: &str) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"migrations\"\nurl = \"{url}\"\n"),
    );
    p.write(
        &format!("migrations/versions/{A0}_base.sql"),
        &revision_file(A0, "base", "", "", "", "t_a0"),
    );
    p.write(
        &format!("migrations/versions/{B1}_main.sql"),
        &revision_file(B1, "main line", A0, "", "", "t_b1"),
    );
    p.write(
        &format!("migrations/versions/{C2}_side.sql"),
        &revision_file(C2, "side line", A0, "side", depends, "t_c2"),
    );
    p.write(
        &format!("migrations/versions/{D3}_merge.sql"),
        &revision_file(D3, "merge", &format!("{B1}, {C2}"), "", "", "t_d3"),
    );
    p
}

/// `migrate --format json ARGS` in `p`.
fn json(p: &Project, args: &[&str]) -> common::Run {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    p.migrate(&all)
}

fn rows(doc: &Value, key: &str) -> Vec<String> {
    let mut rows = strings(doc, key);
    rows.sort();
    rows
}

// ---------------------------------------------------------------------------------------------
// Commands that touch a database, on every backend

/// upgrade, current, history -i, history --applied, downgrade, stamp: the steps with their
/// durations and the version rows before and after.
fn runs_and_state(db: TestDb) {
    let p = project_with(&db.url, "");

    let up = json(&p, &["upgrade", B1]);
    let doc = success(&up, "upgrade");
    assert_eq!(
        steps(&doc),
        [
            (
                A0.into(),
                "migration".into(),
                "upgrade".into(),
                vec![],
                vec![A0.to_string()]
            ),
            (
                B1.into(),
                "migration".into(),
                "upgrade".into(),
                vec![A0.to_string()],
                vec![B1.to_string()]
            ),
        ]
    );
    assert_eq!(rows(&doc, "start"), Vec::<String>::new());
    assert_eq!(rows(&doc, "heads"), [B1]);
    assert!(doc["database"].is_string(), "{doc}");
    assert_eq!(db.versions(), Some(vec![B1.to_string()]));

    let current = success(&json(&p, &["current"]), "current");
    let listed = revisions(&current);
    assert_eq!(ids(&listed), [B1]);
    assert_eq!(listed[0]["current"], true);
    assert_eq!(listed[0]["parents"], serde_json::json!([A0]));
    assert_eq!(rows(&current, "version_rows"), [B1]);

    let history = success(&json(&p, &["history", "-i"]), "history");
    let listed = revisions(&history);
    assert_eq!(listed.len(), 4);
    for (id, current) in [(A0, false), (B1, true), (C2, false), (D3, false)] {
        assert_eq!(revision(&listed, id)["current"], current, "{id}: {history}");
    }

    // The rest of the heads; the merge step moves two rows to one.
    let up = json(&p, &["upgrade", "heads"]);
    let doc = success(&up, "upgrade");
    let ran = steps(&doc);
    assert_eq!(
        ran.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        [C2, D3],
        "{doc}"
    );
    let mut merged_from = ran[1].3.clone();
    merged_from.sort();
    assert_eq!(merged_from, [B1, C2]);
    assert_eq!(rows(&doc, "start"), [B1]);
    assert_eq!(rows(&doc, "heads"), [D3]);

    let applied = success(&json(&p, &["history", "--applied"]), "history");
    let recorded = applied["rows"].as_array().expect("rows").clone();
    assert_eq!(
        recorded
            .iter()
            .map(|r| r["revision"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        [A0, B1, C2, D3],
        "{applied}"
    );
    for row in &recorded {
        assert_eq!(row["direction"], "upgrade", "{row}");
        assert_eq!(row["outcome"], "applied", "{row}");
        assert!(row["duration_ms"].as_f64().is_some(), "{row}");
        assert!(row["checksum"].is_string(), "{row}");
        strings(row, "from_versions");
        strings(row, "to_versions");
    }

    // Down to b1 takes back its descendants only: the merge, which leaves both its parents.
    let down = json(&p, &["downgrade", B1]);
    let doc = success(&down, "downgrade");
    let ran = steps(&doc);
    assert_eq!(ran.len(), 1, "{doc}");
    assert_eq!(
        (ran[0].0.as_str(), ran[0].1.as_str(), ran[0].2.as_str()),
        (D3, "migration", "downgrade")
    );
    assert_eq!(ran[0].3, [D3]);
    let mut unmerged = ran[0].4.clone();
    unmerged.sort();
    assert_eq!(unmerged, [B1, C2], "{doc}");
    assert_eq!(rows(&doc, "start"), [D3]);
    assert_eq!(rows(&doc, "heads"), [B1, C2]);
    assert_eq!(db.versions(), Some(vec![B1.to_string(), C2.to_string()]));

    // -v: progress on stderr, still one document on stdout.
    let up = json(&p, &["-v", "upgrade", "heads"]);
    up.ok();
    let doc = document(&up, "upgrade");
    assert_eq!(rows(&doc, "heads"), [D3]);
    assert!(!up.stderr.is_empty(), "-v shows progress on stderr");
    p.migrate(&["downgrade", B1]).ok();

    let stamp = json(&p, &["stamp", D3]);
    let doc = success(&stamp, "stamp");
    let ran = steps(&doc);
    assert_eq!(ran.len(), 1, "{doc}");
    assert_eq!(ran[0].1, "stamp", "{doc}");
    assert_eq!(rows(&doc, "start"), [B1, C2]);
    assert_eq!(rows(&doc, "heads"), [D3]);
    assert_eq!(db.versions(), Some(vec![D3.to_string()]));

    // MIGRATE_FORMAT=json without the flag.
    let env = p.migrate_env(&["upgrade"], &[("MIGRATE_FORMAT", "json")]);
    let doc = success(&env, "upgrade");
    assert_eq!(rows(&doc, "heads"), [D3]);
}
per_backend!(runs_and_state);

/// check (clean, then each finding of an edited applied revision), repair, lint.
fn check_repair_lint(db: TestDb) {
    let p = project(&db.url);
    success(&json(&p, &["upgrade", "heads"]), "upgrade");

    let check = success(&json(&p, &["check"]), "check");
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["database_checked"], true, "{check}");
    assert_eq!(check["findings"], serde_json::json!([]), "{check}");
    let checked: Vec<&str> = check["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(checked.len(), 4, "{check}");

    // An applied revision edited: check fails (exit 1) and names it.
    p.write(
        &format!("migrations/versions/{C2}_side.sql"),
        &revision_file(C2, "side line", A0, "side", B1, "t_c2_renamed"),
    );
    let run = json(&p, &["check"]);
    let error = failure(&run, "check", "check_failed", "failed", 1);
    assert!(error["message"]
        .as_str()
        .unwrap_or_default()
        .contains("listed above"));
    let doc = document(&run, "check");
    assert_eq!(doc["ok"], false, "{doc}");
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{doc}");
    assert_eq!(findings[0]["kind"], "checksum_mismatch", "{doc}");
    assert_eq!(findings[0]["level"], "error", "{doc}");
    assert_eq!(findings[0]["revision"], C2, "{doc}");
    assert!(findings[0]["message"].is_string(), "{doc}");

    let repair = success(&json(&p, &["repair"]), "repair");
    let repaired = repair["rows"].as_array().expect("rows");
    assert_eq!(repaired.len(), 1, "{repair}");
    assert_eq!(repaired[0]["revision"], C2, "{repair}");
    assert_eq!(repaired[0]["outcome"], "repaired", "{repair}");
    let check = success(&json(&p, &["check"]), "check");
    assert_eq!(check["ok"], true, "{check}");

    // The revisions say nothing of their purpose (a warning); on PostgreSQL and MariaDB their
    // CREATE TABLE without IF NOT EXISTS and DROP TABLE are errors: lint fails (exit 1).
    let run = json(&p, &["lint"]);
    let lint = if db.backend == common::Backend::Sqlite {
        success(&run, "lint")
    } else {
        failure(&run, "lint", "lint_failed", "failed", 1);
        document(&run, "lint")
    };
    assert_eq!(lint["revisions"], 4, "{lint}");
    assert!(
        lint["statements"].as_u64().is_some_and(|n| n >= 8),
        "{lint}"
    );
    let findings = lint["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["rule"] == "undocumented-revision"
            && f["revision"] == A0
            && f["level"] == "warn"
            && f["line"] == 1
            && f["file"]
                .as_str()
                .is_some_and(|file| file.ends_with(&format!("{A0}_base.sql")))),
        "{lint}"
    );
    assert_eq!(
        findings.iter().any(|f| f["level"] == "error"),
        db.backend != common::Backend::Sqlite,
        "{lint}"
    );
    for f in findings {
        assert!(f["message"].is_string() && f["help"].is_string(), "{f}");
    }
}
per_backend!(check_repair_lint);

/// verify, dump and drift.
fn verify_dump_drift(db: TestDb) {
    // c2 depends on nothing, so that each revision's downgrade can be run on its own.
    let p = project_with(&db.url, "");
    let verify = success(&json(&p, &["verify", "--allow-branches"]), "verify");
    assert_eq!(verify["passed"], true, "{verify}");
    let verified: Vec<&str> = verify["verified"]
        .as_array()
        .expect("verified")
        .iter()
        .map(|v| {
            assert!(v["elapsed_ms"].as_f64().is_some(), "{v}");
            v["revision"].as_str().unwrap_or_default()
        })
        .collect();
    assert_eq!(verified.len(), 4, "{verify}");
    assert_eq!(verified[0], A0, "{verify}");
    assert_eq!(verified[3], D3, "{verify}");
    assert_eq!(verify["findings"], serde_json::json!([]), "{verify}");

    success(&json(&p, &["upgrade", "heads"]), "upgrade");
    let dump = success(&json(&p, &["dump"]), "dump");
    assert_eq!(strings(&dump, "versions"), [D3]);
    let dialect = match db.backend {
        common::Backend::Sqlite => "sqlite",
        common::Backend::Postgres => "postgresql",
        common::Backend::Mysql => "mysql",
    };
    assert_eq!(dump["dialect"], dialect, "{dump}");
    let tables: Vec<&str> = dump["snapshot"]["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(tables, ["t_a0", "t_b1", "t_c2", "t_d3"], "{dump}");

    let drift = success(&json(&p, &["drift"]), "drift");
    assert_eq!(drift["drifted"], false, "{drift}");
    assert_eq!(strings(&drift, "versions"), [D3]);

    db.query("CREATE TABLE t_extra (id INT PRIMARY KEY)");
    let run = json(&p, &["drift"]);
    failure(&run, "drift", "drift", "failed", 1);
    let drift = document(&run, "drift");
    assert_eq!(drift["drifted"], true, "{drift}");
    let differences = drift["differences"].as_array().expect("differences");
    assert_eq!(differences.len(), 1, "{drift}");
    assert_eq!(differences[0]["change"], "added", "{drift}");
    assert_eq!(differences[0]["object"]["name"], "t_extra", "{drift}");
}
per_backend!(verify_dump_drift);

// ---------------------------------------------------------------------------------------------
// Commands that read only the files

#[test]
fn init_revision_merge() {
    let p = Project::empty();
    let doc = success(&json(&p, &["init", "migrations"]), "init");
    assert!(!strings(&doc, "created").is_empty(), "{doc}");
    assert!(p.path().join("migrate.toml").is_file());

    let run = json(&p, &["revision", "-m", "first", "--rev-id", A0]);
    let doc = success(&run, "revision");
    let path = doc["path"].as_str().expect("path");
    assert!(path.ends_with(&format!("{A0}_first.sql")), "{doc}");
    assert!(std::path::Path::new(path).is_file(), "{doc}");
    assert!(doc["directories_created"].is_array(), "{doc}");

    success(
        &json(&p, &["revision", "-m", "one", "--rev-id", B1]),
        "revision",
    );
    success(
        &json(
            &p,
            &[
                "revision", "-m", "two", "--rev-id", C2, "--head", A0, "--splice",
            ],
        ),
        "revision",
    );
    let doc = success(
        &json(&p, &["merge", "heads", "-m", "join", "--rev-id", D3]),
        "merge",
    );
    assert!(doc["path"]
        .as_str()
        .expect("path")
        .ends_with(&format!("{D3}_join.sql")));
    let heads = success(&json(&p, &["heads"]), "heads");
    let listed = revisions(&heads);
    assert_eq!(ids(&listed), [D3]);
    let mut parents = strings(&listed[0], "parents");
    parents.sort();
    assert_eq!(parents, [B1, C2]);
}

#[test]
fn listings_carry_revision_objects() {
    let p = project("sqlite:///unused.db");
    let heads = success(&json(&p, &["heads"]), "heads");
    let listed = revisions(&heads);
    assert_eq!(ids(&listed), [D3]);
    assert_eq!(listed[0]["is_head"], true);
    assert_eq!(listed[0]["is_merge_point"], true);

    let branches = success(&json(&p, &["branches"]), "branches");
    let listed = revisions(&branches);
    assert_eq!(ids(&listed), [A0], "{branches}");
    assert_eq!(listed[0]["is_branch_point"], true);
    let mut children = strings(&listed[0], "children");
    children.sort();
    assert_eq!(children, [B1, C2]);

    let history = success(&json(&p, &["history"]), "history");
    let listed = revisions(&history);
    assert_eq!(listed.len(), 4, "{history}");
    assert_eq!(ids(&listed)[0], D3, "newest first: {history}");
    let base = revision(&listed, A0);
    assert_eq!(base["is_base"], true);
    assert_eq!(base["is_branch_point"], true);
    assert_eq!(base["message"], "base");
    let side = revision(&listed, C2);
    assert_eq!(strings(side, "branch_labels"), ["side"]);
    assert_eq!(strings(side, "depends_on"), [B1]);
    assert_eq!(strings(side, "parents"), [A0]);
    assert!(side["path"]
        .as_str()
        .unwrap_or_default()
        .ends_with(&format!("{C2}_side.sql")));
    for rev in &listed {
        assert_eq!(
            rev["current"], false,
            "history without -i reads no database"
        );
    }

    let show = success(&json(&p, &["show", C2]), "show");
    let listed = revisions(&show);
    assert_eq!(ids(&listed), [C2], "{show}");

    let ranged = success(
        &json(&p, &["history", "-r", &format!("{B1}:{D3}")]),
        "history",
    );
    assert_eq!(ids(&revisions(&ranged)), [D3, B1], "{ranged}");
}

#[test]
fn config_lists_every_setting_with_its_source() {
    let p = project("sqlite:///x:secret@unused.db");
    p.write(
        "migrate.toml",
        "script_location = \"migrations\"\nurl = \"postgresql://app:s3cret@db.example/app\"\n",
    );
    let run = json(&p, &["config"]);
    let doc = success(&run, "config");
    assert!(
        !run.stdout.contains("s3cret"),
        "password hidden: {}",
        run.stdout
    );
    let settings = doc["settings"].as_array().expect("settings");
    let url = settings
        .iter()
        .find(|s| s["key"] == "url")
        .expect("the url setting");
    assert_eq!(url["source"], "url in migrate.toml", "{url}");
    assert!(
        url["value"]
            .as_str()
            .unwrap_or_default()
            .contains("db.example"),
        "{url}"
    );
    for s in settings {
        assert!(s["key"].is_string() && s["source"].is_string(), "{s}");
    }
}

#[test]
fn offline_scripts_are_one_document() {
    let p = project("sqlite:///unused.db");
    let up = success(&json(&p, &["upgrade", "--sql", B1]), "upgrade");
    let sql = up["sql"].as_str().expect("sql");
    assert!(sql.contains("CREATE TABLE t_a0"), "{sql}");
    assert!(sql.contains(&format!("'{B1}'")), "{sql}");
    // Byte-identical to the text form's script.
    let text = p.migrate(&["upgrade", "--sql", B1]);
    assert_eq!(sql, text.ok());

    let down = success(
        &json(&p, &["downgrade", "--sql", &format!("{B1}:base")]),
        "downgrade",
    );
    assert!(down["sql"]
        .as_str()
        .expect("sql")
        .contains("DROP TABLE t_b1"));
    let stamp = success(&json(&p, &["stamp", "--sql", D3]), "stamp");
    assert!(stamp["sql"].as_str().expect("sql").contains(D3));
    assert!(
        !p.path().join("unused.db").exists(),
        "--sql connects to nothing"
    );
}

#[test]
fn a_refused_command_line_is_a_document_too() {
    let p = project("sqlite:///unused.db");
    let run = json(&p, &["heads", "--no-such-flag"]);
    let error = failure(&run, "heads", "usage", "usage", 2);
    assert!(error["message"]
        .as_str()
        .unwrap_or_default()
        .contains("--no-such-flag"));
    let run = p.migrate_env(
        &["branches", "--no-such-flag"],
        &[("MIGRATE_FORMAT", "json")],
    );
    failure(&run, "branches", "usage", "usage", 2);
    // The text form stays clap's, with its exit status.
    let text = p.migrate(&["heads", "--no-such-flag"]);
    assert_eq!(text.code, Some(2));
    assert_eq!(text.stdout, "");
    assert!(text.stderr.contains("--no-such-flag"), "{}", text.stderr);
}

#[test]
fn completions_put_the_script_in_the_document() {
    let p = Project::empty();
    let doc = success(&json(&p, &["completions", "bash"]), "completions");
    let script = doc["script"].as_str().expect("script");
    assert!(script.contains("_migrate()"), "{script}");
    assert_eq!(script, p.migrate(&["completions", "bash"]).ok());
}
