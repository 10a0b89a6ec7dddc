//! The whole command set on the project's own `migrations/`, per backend: listings, upgrade,
//! downgrade, stamp, revision (both formats), merge and init, through the built binary.
//!
//! Expected output comes from real Alembic 1.20.1, replayed by `tests/alembic/gen_listings.py`
//! (sessions `example 1` to `3` of `tests/alembic/listings.txt`) on a `.py` copy of
//! `migrations/versions/` with the same ids, parents and header text as docstrings (Alembic
//! cannot read `.sql` files); only the `Path:` lines differ, since ours name the `.sql` files.

mod common;

use common::reference::{as_migrate_prints, Entry, Session};
use common::{Backend, Project, Run, TestDb};

const SYSTEM_ROW: &str = "00000000-0000-0000-0000-000000000001|system|1";

/// Runs `command` in the project and asserts that it prints what Alembic printed for it (the
/// session's next command); `current` and `branches` in any order (Python's set order).
#[track_caller]
fn same_as_alembic(p: &Project, session: &mut Session, command: &[&str]) -> Run {
    let entry = session.next(&command.join(" "));
    let run = p.migrate(command);
    entry.assert_printed(
        &run,
        p.path(),
        command == ["current"] || command == ["branches"],
    );
    run
}

/// Runs `command`, which changes the version table, and asserts that it does what Alembic's
/// did ([`Entry::assert_moved`]).
#[track_caller]
fn moves_as_alembic(p: &Project, db: &TestDb, session: &mut Session, command: &[&str]) -> Run {
    let entry = session.next(&command.join(" "));
    let run = p.migrate(command);
    entry.assert_moved(&run, db.versions());
    run
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
    let mut alembic = Session::start("example", 1);
    let listing = |alembic: &mut Session, command: &[&str]| same_as_alembic(&p, alembic, command);

    // Listings need no database.
    for command in [
        &["heads"][..],
        &["branches"],
        &["history"],
        &["history", "-v"],
        &["show", "8c2b"],
        &["show", "head"],
        &["show", "19"],
        &["history", "-r", "1975:"],
    ] {
        listing(&mut alembic, command);
    }

    // A fresh database: no version table, nothing current.
    listing(&mut alembic, &["current"]);
    assert_eq!(db.versions(), None);

    // upgrade head: the table, the system row, the version row; stdout stays empty, stderr
    // has one line per migration (Alembic's "Running upgrade" line, then its duration).
    moves_as_alembic(&p, &db, &mut alembic, &["upgrade", "head"]);
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
    assert_eq!(tenant_types(&db), expected_tenant_types(db.backend));

    // `current`, `current -v`, `history -r current:`, `history -i` after upgrade head. The
    // first line of `current -v` names the database: Alembic's URL is its own.
    listing(&mut alembic, &["current"]);
    let verbose = p.migrate(&["current", "-v"]);
    let theirs = as_migrate_prints(alembic.next("current -v").ok(), p.path());
    let (first, rest) = verbose.ok().split_once('\n').expect("a header line");
    let (their_first, their_rest) = theirs.split_once('\n').expect("a header line");
    assert!(
        their_first.starts_with("Current revision(s) for ") && their_first.ends_with(':'),
        "{their_first}"
    );
    let database = match db.sqlite_path() {
        Some(path) => path.display().to_string(),
        None => db.name.clone().expect("a server database"),
    };
    assert!(
        first.starts_with("Current revision(s) for ") && first.ends_with(&format!("{database}:")),
        "{first}"
    );
    assert_eq!(rest, their_rest);
    listing(&mut alembic, &["history", "-r", "current:"]);
    listing(&mut alembic, &["history", "-i"]);

    // A second upgrade is a no-op.
    moves_as_alembic(&p, &db, &mut alembic, &["upgrade", "head"]);
    assert_eq!(db.tenants(), [SYSTEM_ROW]);

    // downgrade -1 removes the row, keeps the table.
    moves_as_alembic(&p, &db, &mut alembic, &["downgrade", "-1"]);
    assert_eq!(db.tenants(), Vec::<String>::new());
    listing(&mut alembic, &["current"]);

    // downgrade base drops the table; Alembic keeps the empty version table.
    moves_as_alembic(&p, &db, &mut alembic, &["downgrade", "base"]);
    assert_eq!(db.tables(), ["alembic_version"]);
    listing(&mut alembic, &["current"]);

    // stamp writes the version table only.
    moves_as_alembic(&p, &db, &mut alembic, &["stamp", "head"]);
    assert_eq!(db.tables(), ["alembic_version"]);
    listing(&mut alembic, &["current"]);
    moves_as_alembic(&p, &db, &mut alembic, &["stamp", "--purge", "1975ea83b712"]);
    listing(&mut alembic, &["current"]);
    moves_as_alembic(&p, &db, &mut alembic, &["stamp", "base"]);

    // And all the way up again.
    moves_as_alembic(&p, &db, &mut alembic, &["upgrade", "head"]);
    assert_eq!(db.tenants(), [SYSTEM_ROW]);
    alembic.finish();
}
per_backend!(command_set);

/// `Generating PATH ...  done` as `migrate` prints it for what Alembic generated: the same
/// line, with the absolute path of the project (symlinks resolved, as getcwd does) and the
/// file in the format `migrate` wrote.
fn generating(p: &Project, alembic: &Entry, format: &str) -> String {
    let dir = p.path().canonicalize().expect("the project folder");
    let line = alembic.ok().replace("{dir}", &dir.display().to_string());
    if format == "sql" {
        line.replace(".py ...", ".sql ...")
    } else {
        line
    }
}

/// `revision` in both formats, a branch with `--splice`, `merge heads`, and running through
/// them, as Alembic does (the same commands with the same `--rev-id`s, session `example 2`).
fn revision_and_merge(db: TestDb) {
    let p = Project::example(&db.url);
    let mut alembic = Session::start("example", 2);

    let command = ["revision", "-m", "add plans", "--rev-id", "aaaaaaaaaaa1"];
    let out = p.migrate(&command);
    let theirs = alembic.next("revision -m 'add plans' --rev-id aaaaaaaaaaa1");
    assert_eq!(out.ok(), generating(&p, theirs, "sql"));
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
        "--revision-format",
        "py",
    ]);
    let theirs = alembic
        .next("revision -m 'add billing' --rev-id bbbbbbbbbbb2 --head 8c2b4e6f1a90 --splice");
    assert_eq!(out.ok(), generating(&p, theirs, "py"));
    let text = p.read("migrations/versions/bbbbbbbbbbb2_add_billing.py");
    assert!(text.contains("revision: str = 'bbbbbbbbbbb2'"), "{text}");
    assert!(
        text.contains("down_revision: Union[str, Sequence[str], None] = '8c2b4e6f1a90'"),
        "{text}"
    );

    // heads, branches and history with the two new heads.
    for command in [&["heads"][..], &["branches"], &["history"]] {
        same_as_alembic(&p, &mut alembic, command);
    }

    // `upgrade head` with two heads is Alembic's error; `heads` runs both. Alembic creates
    // the (empty) version table before it refuses; `migrate` refuses while planning and
    // creates nothing.
    let message = p.migrate(&["upgrade", "head"]).failed();
    let theirs = alembic.next("upgrade head");
    let refusal = theirs.failed.as_deref().expect("Alembic refuses");
    assert!(
        message.starts_with(refusal),
        "{message}\nAlembic: {refusal}"
    );
    assert_eq!(theirs.rows(), Some(vec![]));
    assert_eq!(db.versions(), None, "a refused upgrade creates nothing");
    moves_as_alembic(&p, &db, &mut alembic, &["upgrade", "heads"]);
    same_as_alembic(&p, &mut alembic, &["current"]);

    let out = p.migrate(&[
        "merge",
        "heads",
        "-m",
        "merge plans and billing",
        "--rev-id",
        "ccccccccccc3",
    ]);
    let theirs = alembic.next("merge heads -m 'merge plans and billing' --rev-id ccccccccccc3");
    assert_eq!(out.ok(), generating(&p, theirs, "sql"));
    same_as_alembic(&p, &mut alembic, &["heads"]);
    same_as_alembic(&p, &mut alembic, &["history"]);

    moves_as_alembic(&p, &db, &mut alembic, &["upgrade", "head"]);
    same_as_alembic(&p, &mut alembic, &["current"]);
    moves_as_alembic(&p, &db, &mut alembic, &["downgrade", "8c2b4e6f1a90"]);
    same_as_alembic(&p, &mut alembic, &["current"]);
    assert_eq!(db.tenants(), [SYSTEM_ROW]);
    alembic.finish();
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
