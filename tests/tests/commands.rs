//! The whole command set on the project's own `migrations/`, per backend: listings, upgrade,
//! downgrade, stamp, revision (both formats), merge and init, through the built binary.
//!
//! Expected stdout comes from real Alembic 1.20.1 (`/work/shared/alembic-oracle/oracle.py`) run
//! on a `.py` copy of `migrations/versions/` with the same ids, parents and header text as
//! docstrings (Alembic cannot read `.sql` files); only `Path:` lines differ, since ours name the
//! `.sql` files.

mod common;

use common::{Backend, Project, TestDb};

const TENANTS: &str = "1975ea83b712_create_the_tenants_table.sql";
const SYSTEM: &str = "8c2b4e6f1a90_insert_the_system_tenant.sql";
const SYSTEM_ROW: &str = "00000000-0000-0000-0000-000000000001|system|1";

// From the oracle: `history`.
const HISTORY: &str = "\
1975ea83b712 -> 8c2b4e6f1a90 (head), Insert the system tenant
<base> -> 1975ea83b712, Create the tenants table
";

// From the oracle: the verbose block of 8c2b4e6f1a90 (`show 8c2b`, `history -v`,
// `current -v`), with its Path line left out (filled in by `block`).
const SYSTEM_BLOCK: &str = "\
Rev: 8c2b4e6f1a90 (head)
Parent: 1975ea83b712
Path: {path}

    Insert the system tenant
    
    Revision ID: 8c2b4e6f1a90
    Revises: 1975ea83b712
    Branch Labels:
    Depends On:
    Create Date: 2026-11-25 07:31:00.000000
    
    Purpose: the application's own jobs and records run as the tenant `system`, whose id
      00000000-0000-0000-0000-000000000001 is fixed so that code can name it.
    Impact: inserts one row into tenants. Idempotent: when a row with that id already exists
      (inserted by hand, or by an earlier run of this migration) it is left as it is.
      PostgreSQL and SQLite skip the duplicate with ON CONFLICT (id) DO NOTHING; MySQL/MariaDB,
      which lack that clause, with ON DUPLICATE KEY UPDATE, which unlike INSERT IGNORE still
      fails on any other error.
    Downgrade: deletes the system tenant's row, and only that row.

";

// From the oracle: the verbose block of 1975ea83b712 (`show 19`, `history -v`).
const TENANTS_BLOCK: &str = "\
Rev: 1975ea83b712
Parent: <base>
Path: {path}

    Create the tenants table
    
    Revision ID: 1975ea83b712
    Revises:
    Branch Labels:
    Depends On:
    Create Date: 2026-11-25 07:30:00.000000
    
    Purpose: every row of the application belongs to a tenant; this table lists them:
      id                      the tenant's UUID
      name                    its display name, at most 255 characters
      is_active               false for a suspended tenant; new tenants are active
      created_at, updated_at  timestamps with time zone, defaulting to the current time
    Dialects: PostgreSQL stores id as UUID and the timestamps as TIMESTAMPTZ. MySQL/MariaDB
      and SQLite have no UUID type and keep its 36-character text form; MySQL's TIMESTAMP
      stores UTC, and SQLite keeps ISO 8601 text with an explicit +00:00 offset.
    Impact: creates one new, empty table; no existing table or data is touched.
    Downgrade: drops the table and every tenant in it.

";

/// A verbose block with its path: `migrations/versions/FILE`, relative to the working
/// directory as `script_location` is (Alembic prints the path built from script_location).
fn block(template: &str, file: &str) -> String {
    template.replace("{path}", &format!("migrations/versions/{file}"))
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    lines
}

/// The declared types of tenants' columns, as the database reports them.
fn tenant_types(db: &TestDb) -> Vec<String> {
    match db.backend {
        Backend::Sqlite => db.column("SELECT type FROM pragma_table_info('tenants') ORDER BY cid"),
        Backend::Postgres => db.column(
            "SELECT data_type FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = 'tenants' ORDER BY ordinal_position",
        ),
        Backend::Mysql => db.column(
            "SELECT column_type FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = 'tenants' ORDER BY ordinal_position",
        ),
    }
}

/// Issue 4: a UUID key, VARCHAR(255) name, boolean flag, timestamps with time zone; the
/// dialect variants of 1975ea83b712 (CHAR(36) where there is no UUID type).
fn expected_tenant_types(backend: Backend) -> Vec<&'static str> {
    match backend {
        Backend::Sqlite => vec![
            "CHAR(36)",
            "VARCHAR(255)",
            "BOOLEAN",
            "TIMESTAMP",
            "TIMESTAMP",
        ],
        Backend::Postgres => vec![
            "uuid",
            "character varying",
            "boolean",
            "timestamp with time zone",
            "timestamp with time zone",
        ],
        Backend::Mysql => vec![
            "char(36)",
            "varchar(255)",
            "tinyint(1)",
            "timestamp(6)",
            "timestamp(6)",
        ],
    }
}

/// Listings, upgrade, downgrade and stamp on the example migrations, as Alembic does them.
fn command_set(db: TestDb) {
    let p = Project::example(&db.url);

    // Listings need no database.
    assert_eq!(p.migrate(&["heads"]).ok(), "8c2b4e6f1a90 (head)\n");
    assert_eq!(p.migrate(&["branches"]).ok(), "");
    assert_eq!(p.migrate(&["history"]).ok(), HISTORY);
    assert_eq!(
        p.migrate(&["history", "-v"]).ok(),
        block(SYSTEM_BLOCK, SYSTEM) + &block(TENANTS_BLOCK, TENANTS)
    );
    assert_eq!(
        p.migrate(&["show", "8c2b"]).ok(),
        block(SYSTEM_BLOCK, SYSTEM)
    );
    assert_eq!(
        p.migrate(&["show", "head"]).ok(),
        block(SYSTEM_BLOCK, SYSTEM)
    );
    assert_eq!(
        p.migrate(&["show", "19"]).ok(),
        block(TENANTS_BLOCK, TENANTS)
    );
    assert_eq!(p.migrate(&["history", "-r", "1975:"]).ok(), HISTORY);

    // A fresh database: no version table, nothing current.
    assert_eq!(p.migrate(&["current"]).ok(), "");
    assert_eq!(db.versions(), None);

    // upgrade head: the table, the system row, the version row; stdout stays empty, stderr
    // names the database first (issue 13), then has one line per migration (Alembic's
    // "Running upgrade" wording, then its duration).
    let run = p.migrate(&["upgrade", "head"]);
    assert_eq!(run.ok(), "");
    let mut lines = run.stderr.lines();
    let banner = lines.next().unwrap_or_default();
    assert!(
        banner.starts_with("Database: ") && banner.ends_with(" (from url in migrate.toml)"),
        "{}",
        run.stderr
    );
    let progress: Vec<&str> = lines.collect();
    assert_eq!(progress.len(), 2, "{}", run.stderr);
    assert!(
        progress[0].starts_with("Running upgrade  -> 1975ea83b712, Create the tenants table"),
        "{}",
        run.stderr
    );
    assert!(
        progress[1]
            .starts_with("Running upgrade 1975ea83b712 -> 8c2b4e6f1a90, Insert the system tenant"),
        "{}",
        run.stderr
    );
    assert!(
        progress
            .iter()
            .all(|l| l.ends_with(')') && l.contains(" (")),
        "each line ends with the duration: {}",
        run.stderr
    );
    assert!(db.tables().contains(&"tenants".to_string()));
    assert_eq!(
        db.columns("tenants"),
        ["id", "name", "is_active", "created_at", "updated_at"]
    );
    assert_eq!(db.tenants(), [SYSTEM_ROW]);
    let stamped = db.query("SELECT created_at, updated_at FROM tenants");
    assert!(
        stamped[0]
            .iter()
            .all(|v| v.as_deref().is_some_and(|t| t.starts_with("20"))),
        "created_at/updated_at default to the current time: {stamped:?}"
    );
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    assert_eq!(tenant_types(&db), expected_tenant_types(db.backend));

    // Oracle: `current`, `current -v`, `history -r current:`, `history -i` after upgrade head.
    assert_eq!(p.migrate(&["current"]).ok(), "8c2b4e6f1a90 (head)\n");
    let verbose = p.migrate(&["current", "-v"]);
    let (first, rest) = verbose.ok().split_once('\n').expect("a header line");
    assert!(
        first.starts_with("Current revision(s) for ") && first.ends_with(':'),
        "{first}"
    );
    assert_eq!(rest, block(SYSTEM_BLOCK, SYSTEM));
    assert_eq!(
        p.migrate(&["history", "-r", "current:"]).ok(),
        "1975ea83b712 -> 8c2b4e6f1a90 (head), Insert the system tenant\n"
    );
    assert_eq!(
        p.migrate(&["history", "-i"]).ok(),
        "1975ea83b712 -> 8c2b4e6f1a90 (head) (current), Insert the system tenant\n\
         <base> -> 1975ea83b712, Create the tenants table\n"
    );

    // A second upgrade is a no-op.
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.tenants(), [SYSTEM_ROW]);

    // downgrade -1 removes the row, keeps the table.
    assert_eq!(p.migrate(&["downgrade", "-1"]).ok(), "");
    assert_eq!(db.tenants(), Vec::<String>::new());
    assert_eq!(db.versions(), Some(vec!["1975ea83b712".to_string()]));
    assert_eq!(p.migrate(&["current"]).ok(), "1975ea83b712\n");

    // downgrade base drops the table; Alembic keeps the empty version table.
    p.migrate(&["downgrade", "base"]).ok();
    assert_eq!(db.tables(), ["alembic_version"]);
    assert_eq!(db.versions(), Some(vec![]));
    assert_eq!(p.migrate(&["current"]).ok(), "");

    // stamp writes the version table only.
    p.migrate(&["stamp", "head"]).ok();
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    assert_eq!(db.tables(), ["alembic_version"]);
    assert_eq!(p.migrate(&["current"]).ok(), "8c2b4e6f1a90 (head)\n");
    p.migrate(&["stamp", "--purge", "1975ea83b712"]).ok();
    assert_eq!(db.versions(), Some(vec!["1975ea83b712".to_string()]));
    assert_eq!(p.migrate(&["current"]).ok(), "1975ea83b712\n");
    p.migrate(&["stamp", "base"]).ok();
    assert_eq!(db.versions(), Some(vec![]));

    // And all the way up again.
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.tenants(), [SYSTEM_ROW]);
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
}
per_backend!(command_set);

/// `revision` in both formats, a branch with `--splice`, `merge heads`, and running through
/// them. Expected lines from the oracle, replaying the same commands with the same --rev-id.
fn revision_and_merge(db: TestDb) {
    let p = Project::example(&db.url);
    // `revision` prints the absolute path as the working directory spells it (symlinks
    // resolved, as getcwd does).
    let versions = p
        .path()
        .canonicalize()
        .expect("the project folder")
        .join("migrations/versions");

    let out = p.migrate(&["revision", "-m", "add plans", "--rev-id", "aaaaaaaaaaa1"]);
    let file = versions.join("aaaaaaaaaaa1_add_plans.sql");
    assert_eq!(
        out.ok(),
        format!("Generating {} ...  done\n", file.display())
    );
    let text = p.read("migrations/versions/aaaaaaaaaaa1_add_plans.sql");
    assert!(text.starts_with("-- add plans\n"), "{text}");
    assert!(text.contains("-- Revision ID: aaaaaaaaaaa1\n"), "{text}");
    assert!(text.contains("-- Revises: 8c2b4e6f1a90\n"), "{text}");
    assert!(text.contains("-- migrate:upgrade\n"), "{text}");
    assert!(text.contains("-- migrate:downgrade\n"), "{text}");

    let out = p.migrate(&[
        "revision",
        "-m",
        "add billing",
        "--rev-id",
        "bbbbbbbbbbb2",
        "--head",
        "8c2b4e6f1a90",
        "--splice",
        "--format",
        "py",
    ]);
    let file = versions.join("bbbbbbbbbbb2_add_billing.py");
    assert_eq!(
        out.ok(),
        format!("Generating {} ...  done\n", file.display())
    );
    let text = p.read("migrations/versions/bbbbbbbbbbb2_add_billing.py");
    assert!(text.contains("revision: str = 'bbbbbbbbbbb2'"), "{text}");
    assert!(
        text.contains("down_revision: Union[str, Sequence[str], None] = '8c2b4e6f1a90'"),
        "{text}"
    );

    // Oracle: heads, branches and history with the two new heads.
    assert_eq!(
        p.migrate(&["heads"]).ok(),
        "aaaaaaaaaaa1 (head)\nbbbbbbbbbbb2 (head)\n"
    );
    assert_eq!(
        p.migrate(&["branches"]).ok(),
        "8c2b4e6f1a90 (branchpoint)\n             -> aaaaaaaaaaa1 (head)\n             -> bbbbbbbbbbb2 (head)\n\n"
    );
    assert_eq!(
        p.migrate(&["history"]).ok(),
        "8c2b4e6f1a90 -> aaaaaaaaaaa1 (head), add plans\n\
         8c2b4e6f1a90 -> bbbbbbbbbbb2 (head), add billing\n\
         1975ea83b712 -> 8c2b4e6f1a90 (branchpoint), Insert the system tenant\n\
         <base> -> 1975ea83b712, Create the tenants table\n"
    );

    // `upgrade head` with two heads is Alembic's error; `heads` runs both.
    let message = p.migrate(&["upgrade", "head"]).failed();
    assert!(
        message.starts_with("Multiple head revisions are present for given argument 'head'; please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads"),
        "{message}"
    );
    assert_eq!(db.versions(), None, "a refused upgrade creates nothing");
    p.migrate(&["upgrade", "heads"]).ok();
    assert_eq!(
        db.versions(),
        Some(vec!["aaaaaaaaaaa1".to_string(), "bbbbbbbbbbb2".to_string()])
    );
    // Alembic prints these two in set order; compare them as a set.
    assert_eq!(
        sorted_lines(p.migrate(&["current"]).ok()),
        ["aaaaaaaaaaa1 (head)", "bbbbbbbbbbb2 (head)"]
    );

    let out = p.migrate(&[
        "merge",
        "heads",
        "-m",
        "merge plans and billing",
        "--rev-id",
        "ccccccccccc3",
    ]);
    let file = versions.join("ccccccccccc3_merge_plans_and_billing.sql");
    assert_eq!(
        out.ok(),
        format!("Generating {} ...  done\n", file.display())
    );
    assert_eq!(p.migrate(&["heads"]).ok(), "ccccccccccc3 (head)\n");
    assert_eq!(
        p.migrate(&["history"]).ok(),
        "aaaaaaaaaaa1, bbbbbbbbbbb2 -> ccccccccccc3 (head) (mergepoint), merge plans and billing\n\
         8c2b4e6f1a90 -> aaaaaaaaaaa1, add plans\n\
         8c2b4e6f1a90 -> bbbbbbbbbbb2, add billing\n\
         1975ea83b712 -> 8c2b4e6f1a90 (branchpoint), Insert the system tenant\n\
         <base> -> 1975ea83b712, Create the tenants table\n"
    );

    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(vec!["ccccccccccc3".to_string()]));
    assert_eq!(
        p.migrate(&["current"]).ok(),
        "ccccccccccc3 (head) (mergepoint)\n"
    );
    p.migrate(&["downgrade", "8c2b4e6f1a90"]).ok();
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    assert_eq!(p.migrate(&["current"]).ok(), "8c2b4e6f1a90 (branchpoint)\n");
    assert_eq!(db.tenants(), [SYSTEM_ROW]);
}
per_backend!(revision_and_merge);

/// `init DIR` scaffolds a project that works at once: listings, a first revision, upgrade.
#[test]
fn init_scaffolds_a_working_sqlite_project() {
    let p = Project::empty();
    let out = p.migrate(&["init", "migrations"]);
    let stdout = out.ok();
    assert!(stdout.contains("Creating directory "), "{stdout}");
    assert!(p.path().join("migrations/versions").is_dir());
    let toml = p.read("migrate.toml");
    assert!(toml.contains("script_location = \"migrations\""), "{toml}");

    assert_eq!(p.migrate(&["heads"]).ok(), "");
    p.migrate(&["revision", "-m", "first", "--rev-id", "0123456789ab"])
        .ok();
    assert_eq!(p.migrate(&["heads"]).ok(), "0123456789ab (head)\n");
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(p.migrate(&["current"]).ok(), "0123456789ab (head)\n");

    // A second init into the same, now non-empty, folder is refused.
    let message = p.migrate(&["init", "migrations"]).failed();
    assert!(
        message.contains("already exists and is not empty"),
        "{message}"
    );
}

/// The repository's own `migrate.toml` and `migrations/` work with nothing else: the README's
/// main-job command, run from a copy of the repository root.
#[test]
fn root_migrate_toml_upgrades_a_sqlite_file() {
    let p = Project::empty();
    p.copy(&common::repo_root().join("migrations"), "migrations");
    std::fs::copy(
        common::repo_root().join("migrate.toml"),
        p.path().join("migrate.toml"),
    )
    .expect("copying migrate.toml");
    p.migrate(&["upgrade", "head"]).ok();
    let db = TestDb::sqlite_at(&p.path().join("migrate.db"), None);
    assert_eq!(db.tenants(), [SYSTEM_ROW]);
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
}

/// A password in the URL never reaches stdout or stderr, whatever the verbosity. The local
/// PostgreSQL trusts every password, so the run succeeds with one in the URL.
#[test]
fn password_never_printed_postgres() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let secret = "pw-never-shown-7c1";
    let (scheme, rest) = db.url.split_once("://").expect("a URL");
    let (userinfo, host) = rest.rsplit_once('@').expect("a user in the test URL");
    let user = userinfo.split(':').next().unwrap_or(userinfo);
    let url = format!("{scheme}://{user}:{secret}@{host}");
    let p = Project::example(&url);
    for args in [
        vec!["-v", "upgrade", "head"],
        vec!["-v", "current", "-v"],
        vec!["-v", "history", "-i"],
        vec!["-v", "downgrade", "base"],
        vec!["-v", "upgrade", "nosuchrev"],
    ] {
        let run = p.migrate(&args);
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "`migrate {}` printed the password:\n{}{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
    }
    assert_eq!(db.versions(), Some(vec![]), "the runs did happen");
}

/// Flags may follow the revisions, as with Alembic (`alembic stamp head --purge`,
/// `alembic stamp head --sql`): they are flags, never revision identifiers.
#[test]
fn stamp_flags_after_revisions() {
    let db = TestDb::sqlite();
    let p = Project::example(&db.url);
    p.migrate(&["stamp", "head"]).ok();
    p.migrate(&["stamp", "1975ea83b712", "--purge"]).ok();
    assert_eq!(db.versions(), Some(vec!["1975ea83b712".to_string()]));
    let script = p.migrate(&["stamp", "head", "--sql"]);
    assert!(script.ok().contains("8c2b4e6f1a90"), "{}", script.stdout);
    assert_eq!(
        db.versions(),
        Some(vec!["1975ea83b712".to_string()]),
        "--sql touches nothing"
    );
}

/// `transaction=false` sections (native) and `autocommit_block()` (Alembic) run outside the
/// transaction: `CREATE INDEX CONCURRENTLY` is refused inside one on PostgreSQL.
#[test]
fn postgres_runs_concurrent_index_outside_the_transaction() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let p = Project::example(&db.url);
    p.write(
        "migrations/versions/d1d1d1d1d1d1_index_tenant_names.sql",
        "-- Index tenant names\n--\n-- Revision ID: d1d1d1d1d1d1\n-- Revises: 8c2b4e6f1a90\n\n\
         -- migrate:upgrade transaction=false\n\
         CREATE INDEX CONCURRENTLY tenants_name ON tenants (name);\n\n\
         -- migrate:downgrade transaction=false\n\
         DROP INDEX CONCURRENTLY tenants_name;\n",
    );
    p.write(
        "migrations/versions/e2e2e2e2e2e2_index_tenant_activity.py",
        "\"\"\"index tenant activity\"\"\"\nfrom alembic import op\n\nrevision = \"e2e2e2e2e2e2\"\n\
         down_revision = \"d1d1d1d1d1d1\"\nbranch_labels = None\ndepends_on = None\n\n\n\
         def upgrade():\n    with op.get_context().autocommit_block():\n        \
         op.execute(\"CREATE INDEX CONCURRENTLY tenants_active ON tenants (is_active)\")\n\n\n\
         def downgrade():\n    with op.get_context().autocommit_block():\n        \
         op.execute(\"DROP INDEX CONCURRENTLY tenants_active\")\n",
    );
    p.migrate(&["upgrade", "head"]).ok();
    let indexes =
        || db.column("SELECT indexname FROM pg_indexes WHERE tablename = 'tenants' ORDER BY 1");
    assert_eq!(
        indexes(),
        ["tenants_active", "tenants_name", "tenants_pkey"]
    );
    assert_eq!(db.versions(), Some(vec!["e2e2e2e2e2e2".to_string()]));
    p.migrate(&["downgrade", "8c2b4e6f1a90"]).ok();
    assert_eq!(indexes(), ["tenants_pkey"]);
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
}

/// Splits a shell line into words: spaces separate, double quotes group.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            _ => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// The README's quick start, run as a new user types it: every line of the first `sh` block
/// under "## Quick start", `cd` included; at the "# edit" line the new revision gets a table;
/// a trailing `# <id> (head)`-style comment is the expected stdout, `<id>` being the new
/// revision's id.
#[test]
fn readme_quick_start_step_by_step() {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README.md");
    let section = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");

    let p = Project::empty();
    let mut cwd = p.path().to_path_buf();
    let mut new_file: Option<std::path::PathBuf> = None;
    for line in block.lines() {
        let (command, comment) = match line.split_once('#') {
            Some((c, k)) => (c.trim(), k.trim()),
            None => (line.trim(), ""),
        };
        if command.is_empty() {
            if comment.starts_with("edit") {
                let path = new_file
                    .clone()
                    .expect("a revision was generated before the edit");
                let text = std::fs::read_to_string(&path).expect("the new revision");
                let text = text
                    .replace(
                        "-- migrate:upgrade\n",
                        "-- migrate:upgrade\nCREATE TABLE accounts (id INTEGER PRIMARY KEY);\n",
                    )
                    .replace(
                        "-- migrate:downgrade\n",
                        "-- migrate:downgrade\nDROP TABLE accounts;\n",
                    );
                std::fs::write(&path, text).expect("editing the revision");
            }
            continue;
        }
        let words = shell_words(command);
        match words[0].as_str() {
            "cd" => {
                cwd = cwd.join(&words[1]);
                continue;
            }
            "migrate" => {}
            other => panic!("the quick start runs `{other}`, which this test does not know"),
        }
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        let run = common::migrate_in(&cwd, &args, &[]);
        let stdout = run.ok().to_string();
        if words[1] == "revision" {
            let path = stdout
                .trim()
                .strip_prefix("Generating ")
                .and_then(|s| s.strip_suffix(" ...  done"))
                .unwrap_or_else(|| panic!("`{command}` printed {stdout:?}"));
            new_file = Some(path.into());
        }
        if comment.contains("<id>") {
            let file = new_file.as_ref().expect("a revision was generated");
            let name = file.file_name().expect("a file name").to_string_lossy();
            let id = name.split('_').next().expect("an id");
            assert_eq!(
                stdout,
                format!("{}\n", comment.replace("<id>", id)),
                "`{command}`"
            );
        }
    }
    assert!(new_file.is_some(), "the quick start wrote a revision");
}

/// Issue 4 item 2: every key can come from `MIGRATE_<KEY>`, with no configuration file at all,
/// and a `.env` in the working directory is read; the process environment wins over it.
#[test]
fn configuration_from_environment_variables_only() {
    let db = TestDb::sqlite();
    let other = TestDb::sqlite();
    let p = Project::empty();
    p.copy(&common::repo_root().join("migrations"), "migrations");
    p.write(
        ".env",
        &format!(
            "MIGRATE_URL={}\nMIGRATE_VERSION_TABLE=from_dotenv\n",
            other.url
        ),
    );
    let env = [
        ("MIGRATE_SCRIPT_LOCATION", "migrations"),
        ("MIGRATE_URL", db.url.as_str()),
        ("MIGRATE_VERSION_TABLE", "tenant_versions"),
    ];
    p.migrate_env(&["upgrade", "head"], &env).ok();
    assert_eq!(db.tenants(), [SYSTEM_ROW]);
    assert_eq!(
        db.column("SELECT version_num FROM tenant_versions"),
        ["8c2b4e6f1a90"]
    );
    assert!(!db.tables().contains(&"alembic_version".to_string()));
    assert!(
        other.tables().is_empty(),
        "the process environment beats .env"
    );
    assert_eq!(
        p.migrate_env(&["current"], &env).ok(),
        "8c2b4e6f1a90 (head)\n"
    );
}

/// Issue 4 item 3: the URL forms that select each server backend, TLS included: `postgres://`,
/// `postgresql://` with `sslmode=require` (the local server has TLS on, with a certificate no
/// public authority signed, so `verify-full` must refuse it), `mysql://` and
/// `mariadb://` reach the same database.
#[test]
fn server_url_forms_and_tls() {
    if let Some(db) = TestDb::postgres() {
        let p = Project::example(&db.url);
        let (_, rest) = db.url.split_once("://").expect("a URL");
        let sep = if rest.contains('?') { '&' } else { '?' };
        let tls = format!("postgresql://{rest}{sep}sslmode=require");
        p.migrate(&["--url", &tls, "upgrade", "head"]).ok();
        assert_eq!(db.tenants(), [SYSTEM_ROW]);
        // TLS is really negotiated: verifying the local server's self-signed certificate
        // fails, and says so.
        let verify = format!("postgresql://{rest}{sep}sslmode=verify-full");
        let message = p.migrate(&["--url", &verify, "current"]).failed();
        assert!(message.contains("certificate"), "{message}");
        let plain = format!("postgres://{rest}");
        assert_eq!(
            p.migrate(&["--url", &plain, "current"]).ok(),
            "8c2b4e6f1a90 (head)\n"
        );
    }
    if let Some(db) = TestDb::mysql() {
        let p = Project::example(&db.url);
        let (_, rest) = db.url.split_once("://").expect("a URL");
        let mariadb = format!("mariadb://{rest}");
        p.migrate(&["--url", &mariadb, "upgrade", "head"]).ok();
        assert_eq!(db.tenants(), [SYSTEM_ROW]);
        let mysql = format!("mysql://{rest}");
        assert_eq!(
            p.migrate(&["--url", &mysql, "current"]).ok(),
            "8c2b4e6f1a90 (head)\n"
        );
    }
}
