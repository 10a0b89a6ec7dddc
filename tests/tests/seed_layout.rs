//! Issue 9: the seed's own setup runs unchanged. The layout `infrastructure/migrations/`
//! (`alembic.ini` with `script_location = infrastructure/migrations` and an empty
//! `sqlalchemy.url`, an `env.py` that reads `.env`, `versions/` with the two seed revisions as
//! `.py`), a `.env` holding POSTGRES_HOST/PORT/USER/PASSWORD/DB, and:
//!
//! - `migrate -c infrastructure/migrations/alembic.ini upgrade head` migrates the database
//!   `.env` names, with nothing added;
//! - `TEST_ENV=true` with no `test` environment fails and touches no database;
//! - with `[environments.test]` written once in `migrate.toml` at the project root,
//!   `TEST_ENV=true migrate ...` migrates the test database;
//! - real Alembic (when installed) still runs the same folder afterwards.

mod common;

use std::process::{Command, Stdio};

use common::reference::Session;
use common::{alembic, fixture, random_name, server_url, Project, TestDb, POSTGRES_VAR};

const INI: &str = "infrastructure/migrations/alembic.ini";
const SYSTEM_ROW: &str = "00000000-0000-0000-0000-000000000001|system|1";

/// USER, PASSWORD, HOST, PORT of the server URL.
fn server_parts(url: &str) -> (String, String, String, String) {
    let rest = url.split_once("://").expect("a URL").1;
    let (userinfo, hostpath) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let hostport = hostpath.split(['/', '?']).next().unwrap_or(hostpath);
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    (user.into(), password.into(), host.into(), port.into())
}

/// Real Alembic run the seed's way: from the project root, PYTHONPATH=., env.py reading .env.
fn seed_alembic(p: &Project, args: &[&str], test_env: bool) -> Option<common::Run> {
    let alembic = alembic()?;
    let mut cmd = Command::new(alembic);
    cmd.current_dir(p.path())
        .args(["-c", INI])
        .args(args)
        .env("PYTHONPATH", p.path())
        .stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("POSTGRES_") || name.starts_with("PG") || name == "TEST_ENV" {
            cmd.env_remove(name);
        }
    }
    if test_env {
        cmd.env("TEST_ENV", "true");
    }
    let out = cmd.output().expect("running alembic");
    Some(common::Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: format!("(alembic) {}", args.join(" ")),
    })
}

/// The `.env` of the seed: the server's parts and the production database's name.
fn write_dotenv(p: &Project, server: &str, database: &str) {
    let (user, password, host, port) = server_parts(server);
    p.write(
        ".env",
        &format!(
            "POSTGRES_HOST={host}\nPOSTGRES_PORT={port}\nPOSTGRES_USER={user}\nPOSTGRES_PASSWORD={password}\nPOSTGRES_DB={database}\n"
        ),
    );
}

#[test]
fn seed_layout_runs_unchanged_with_env_file_and_test_env() {
    let Some(server) = server_url(POSTGRES_VAR) else {
        return;
    };
    // The production database, and the test one whose name the team's env.py derives.
    let name = random_name();
    let Some(prod) = TestDb::postgres_named(&name) else {
        return;
    };
    let Some(test) = TestDb::postgres_named(&format!("{name}_test")) else {
        return;
    };
    let p = Project::empty();
    p.copy(&fixture("seed_project"), ".");
    write_dotenv(&p, &server, &name);
    let (_, _, host, port) = server_parts(&server);

    // Listings read the folder as Alembic does (session `seed 1` of the reference).
    let mut alembic = Session::start("seed", 1);
    for command in ["heads", "history"] {
        alembic
            .next(command)
            .assert_printed(&p.migrate(&["-c", INI, command]), p.path(), false);
    }
    alembic.finish();

    // Production: nothing added to the seed's files.
    let run = p.migrate(&["-c", INI, "upgrade", "head"]);
    run.ok();
    assert!(
        !run.stderr.contains("Using environment"),
        "no environment banner for the default: {}",
        run.stderr
    );
    assert_eq!(prod.tenants(), [SYSTEM_ROW]);
    assert_eq!(prod.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    assert!(test.tables().is_empty(), "the test database is untouched");

    // TEST_ENV=true with no test environment: a clear error, no database touched.
    let run = p.migrate_env(&["-c", INI, "upgrade", "head"], &[("TEST_ENV", "true")]);
    let message = run.failed();
    assert!(message.contains("environment `test`"), "{message}");
    assert!(
        message.contains("TEST_ENV"),
        "says what chose it: {message}"
    );
    assert!(
        message.contains("[environments.test]"),
        "says how to define it: {message}"
    );
    assert!(test.tables().is_empty(), "the test database is untouched");
    assert_eq!(prod.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));

    // The one block of configuration the team writes once, filled from .env.
    p.write(
        "migrate.toml",
        "[environments.test]\nurl = \"postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@${POSTGRES_HOST}:${POSTGRES_PORT}/${POSTGRES_DB}_test\"\n",
    );
    let run = p.migrate_env(&["-c", INI, "upgrade", "head"], &[("TEST_ENV", "true")]);
    run.ok();
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("Using environment 'test'") && first.contains(&format!("{name}_test")),
        "the first stderr line names the environment and the database: {}",
        run.stderr
    );
    assert!(first.contains(&host) && first.contains(&port), "{first}");
    assert_eq!(test.tenants(), [SYSTEM_ROW]);
    assert_eq!(test.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    assert_eq!(prod.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));

    // An explicit --env beats TEST_ENV: an undefined one is refused before connecting.
    let message = p
        .migrate_env(
            &["-c", INI, "--env", "staging", "downgrade", "base"],
            &[("TEST_ENV", "true")],
        )
        .failed();
    assert!(message.contains("staging"), "{message}");
    assert_eq!(test.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));

    // Alembic itself still runs the folder, on both databases, and agrees.
    if let Some(run) = seed_alembic(&p, &["current"], false) {
        assert_eq!(run.ok(), "8c2b4e6f1a90 (head)\n");
    }
    if let Some(run) = seed_alembic(&p, &["downgrade", "base"], true) {
        run.ok();
        assert!(!test.tables().contains(&"tenants".to_string()));
        assert_eq!(test.versions(), Some(vec![]));
        // And migrate takes it back up after Alembic.
        p.migrate_env(&["-c", INI, "upgrade", "head"], &[("TEST_ENV", "true")])
            .ok();
        assert_eq!(test.tenants(), [SYSTEM_ROW]);
    }
}

/// Issue 9 item 4: `init --layout alembic` scaffolds the same layout, which `migrate` runs for
/// production and `TEST_ENV=true` with nothing but `.env`, and which real Alembic also runs.
#[test]
fn init_layout_alembic_runs_with_both_tools() {
    let Some(server) = server_url(POSTGRES_VAR) else {
        return;
    };
    let name = random_name();
    let Some(prod) = TestDb::postgres_named(&name) else {
        return;
    };
    let Some(test) = TestDb::postgres_named(&format!("{name}_test")) else {
        return;
    };
    let p = Project::empty();
    p.migrate(&["init", "--layout", "alembic", "infrastructure/migrations"])
        .ok();
    for file in ["alembic.ini", "env.py", "script.py.mako", "migrate.toml"] {
        assert!(
            p.path()
                .join("infrastructure/migrations")
                .join(file)
                .is_file(),
            "init wrote {file}"
        );
    }
    p.copy(
        &fixture("seed_project/infrastructure/migrations/versions"),
        "infrastructure/migrations/versions",
    );
    write_dotenv(&p, &server, &name);

    p.migrate(&["-c", INI, "upgrade", "head"]).ok();
    assert_eq!(prod.tenants(), [SYSTEM_ROW]);
    assert!(test.tables().is_empty());
    p.migrate_env(&["-c", INI, "upgrade", "head"], &[("TEST_ENV", "true")])
        .ok();
    assert_eq!(test.tenants(), [SYSTEM_ROW]);
    assert_eq!(test.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));

    if let Some(run) = seed_alembic(&p, &["current"], false) {
        assert_eq!(run.ok(), "8c2b4e6f1a90 (head)\n");
    }
    if let Some(run) = seed_alembic(&p, &["downgrade", "base"], true) {
        run.ok();
        assert_eq!(test.versions(), Some(vec![]));
        assert_eq!(prod.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
    }
}

/// Issue 9 item 2, as issue 13 changed it: where the URL comes from when the ini has none:
/// `--url`, then the project's POSTGRES_* variables (the process environment beats `.env`) or
/// `DATABASE_URL`, refused when the two differ, and libpq's PG* variables only when nothing
/// else names a database (they used to beat POSTGRES_*). Item 3: `--env test`,
/// `MIGRATE_ENV=test` and `TEST_ENV=true` pick the same environment.
#[test]
fn url_sources_in_documented_order() {
    let Some(server) = server_url(POSTGRES_VAR) else {
        return;
    };
    let dbs: Vec<TestDb> = (0..6).filter_map(|_| TestDb::postgres()).collect();
    if dbs.len() < 6 {
        return;
    }
    let names: Vec<&str> = dbs
        .iter()
        .map(|d| d.name.as_deref().unwrap_or(""))
        .collect();
    let (user, password, host, port) = server_parts(&server);
    let p = Project::empty();
    p.copy(&fixture("seed_project"), ".");
    // .env names the container-image database (dbs[0]) and the libpq one (dbs[1]).
    p.write(
        ".env",
        &format!(
            "POSTGRES_HOST={host}\nPOSTGRES_PORT={port}\nPOSTGRES_USER={user}\nPOSTGRES_PASSWORD={password}\nPOSTGRES_DB={}\n",
            names[0]
        ),
    );
    let stamp = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["-c", INI];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["stamp", "head"]);
        p.migrate_env(&args, env).ok();
    };
    let stamped = |i: usize| dbs[i].versions() == Some(vec!["8c2b4e6f1a90".to_string()]);

    // POSTGRES_* from .env alone.
    stamp(&[], &[]);
    assert!(stamped(0), "POSTGRES_* from .env");

    // The process environment beats .env.
    stamp(&[("POSTGRES_DB", names[1])], &[]);
    assert!(
        stamped(1),
        "POSTGRES_DB from the process environment beats .env"
    );

    // libpq's variables do not beat the project's POSTGRES_*: the run stays on dbs[0].
    let pg_url_env = [
        ("PGHOST", host.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", user.as_str()),
        ("PGDATABASE", names[2]),
    ];
    stamp(&pg_url_env, &[]);
    assert_eq!(
        dbs[2].versions(),
        None,
        "PGDATABASE does not beat POSTGRES_DB"
    );

    // A DATABASE_URL naming another database than POSTGRES_* is refused, nothing stamped.
    let url3 = dbs[3].url.clone();
    let message = p
        .migrate_env(&["-c", INI, "stamp", "head"], &[("DATABASE_URL", &url3)])
        .failed();
    assert!(
        message.starts_with("two database URLs are configured"),
        "{message}"
    );
    assert_eq!(dbs[3].versions(), None);

    // --url beats DATABASE_URL.
    let url4 = dbs[4].url.clone();
    stamp(&[("DATABASE_URL", &url3)], &["--url", &url4]);
    assert!(stamped(4), "--url beats DATABASE_URL");

    // Without POSTGRES_* in .env: DATABASE_URL beats PG*, and PG* alone build the URL.
    p.write(".env", "");
    stamp(&[("DATABASE_URL", &url3), ("PGDATABASE", names[2])], &[]);
    assert!(stamped(3), "DATABASE_URL beats PG*");
    stamp(&pg_url_env, &[]);
    assert!(stamped(2), "PG* alone build the URL");

    // The three ways to pick the test environment reach the same database.
    p.write(
        "migrate.toml",
        &format!("[environments.test]\nurl = \"{}\"\n", dbs[5].url),
    );
    for (env, extra) in [
        (vec![("TEST_ENV", "true")], vec![]),
        (vec![("MIGRATE_ENV", "test")], vec![]),
        (vec![], vec!["--env", "test"]),
    ] {
        let mut args = vec!["-c", INI];
        args.extend_from_slice(&extra);
        args.extend_from_slice(&["stamp", "base"]);
        p.migrate_env(&["-c", INI, "--env", "test", "stamp", "head"], &[])
            .ok();
        assert!(stamped(5));
        let run = p.migrate_env(&args, &env);
        run.ok();
        assert_eq!(
            dbs[5].versions(),
            Some(vec![]),
            "{env:?} {extra:?} picked the test environment"
        );
        assert!(
            run.stderr.starts_with("Using environment 'test'"),
            "{}",
            run.stderr
        );
    }
    // Nothing else was touched along the way.
    for i in 0..5 {
        assert!(stamped(i), "database {i} kept its stamp");
    }
}

/// Issue 9 item 2: the URL may also live in a `[migrate]` section of `alembic.ini` (Alembic
/// ignores sections it does not know), with `[migrate:test]` for the test environment, and a
/// `.env` may be named with `--env-file`; real Alembic still reads the ini.
#[test]
fn migrate_sections_in_alembic_ini_and_env_file() {
    let Some(prod) = TestDb::postgres() else {
        return;
    };
    let Some(test) = TestDb::postgres() else {
        return;
    };
    let Some(other) = TestDb::postgres() else {
        return;
    };
    let p = Project::empty();
    p.copy(&fixture("seed_project"), ".");
    let ini = p.read(INI)
        + &format!(
            "\n[migrate]\nurl = {}\n\n[migrate:test]\nurl = {}\n",
            prod.url, test.url
        );
    p.write(INI, &ini);

    p.migrate(&["-c", INI, "upgrade", "head"]).ok();
    assert_eq!(prod.tenants(), [SYSTEM_ROW]);
    p.migrate_env(&["-c", INI, "upgrade", "head"], &[("TEST_ENV", "true")])
        .ok();
    assert_eq!(test.tenants(), [SYSTEM_ROW]);

    // A DATABASE_URL (here from a named .env file) naming another database than the ini's
    // [migrate] url is refused, naming both (issue 13: it used to win silently); MIGRATE_URL
    // from that file is an explicit choice and beats the ini.
    p.write("config/other.env", &format!("DATABASE_URL={}\n", other.url));
    let message = p
        .migrate(&["-c", INI, "--env-file", "config/other.env", "stamp", "head"])
        .failed();
    assert!(
        message.contains("DATABASE_URL in config/other.env")
            && message.contains("url in [migrate] of infrastructure/migrations/alembic.ini"),
        "{message}"
    );
    assert_eq!(other.versions(), None);
    p.write("config/other.env", &format!("MIGRATE_URL={}\n", other.url));
    p.migrate(&["-c", INI, "--env-file", "config/other.env", "stamp", "head"])
        .ok();
    assert_eq!(other.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));

    if let Some(run) = seed_alembic(&p, &["heads"], false) {
        assert_eq!(run.ok(), "8c2b4e6f1a90 (head)\n");
    }
}

/// A password holding URL delimiters (`@ : / # %`), put into a URL by `${POSTGRES_PASSWORD}` in
/// migrate.toml as the README shows: the URL built from the variables is used, the
/// interpolated one refused, and no part of the password is printed (the banner and the
/// error redact the whole of it).
#[test]
fn password_with_url_delimiters_is_never_printed() {
    let Some(server) = server_url(POSTGRES_VAR) else {
        return;
    };
    let Some(test) = TestDb::postgres() else {
        return;
    };
    let (user, _, host, port) = server_parts(&server);
    let name = test.name.clone().unwrap_or_default();
    let p = Project::empty();
    p.copy(&fixture("seed_project"), ".");
    p.write(
        ".env",
        &format!(
            "POSTGRES_HOST={host}\nPOSTGRES_PORT={port}\nPOSTGRES_USER={user}\nPOSTGRES_PASSWORD=p@ss:w/rd#1%\nPOSTGRES_DB={name}\n"
        ),
    );
    p.write(
        "migrate.toml",
        "[environments.test]\nurl = \"postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@${POSTGRES_HOST}:${POSTGRES_PORT}/${POSTGRES_DB}\"\n",
    );
    // Without TEST_ENV the URL is built from the POSTGRES_* variables, which migrate encodes
    // itself: it connects. With it, the interpolated URL holds the raw delimiters and is
    // refused as malformed. Either way the password shows as `***` and nowhere else.
    let built = p.migrate_env(&["-c", INI, "-v", "current"], &[]);
    built.ok();
    assert!(
        built
            .stderr
            .contains(&format!("postgresql://{user}:***@{host}:{port}/{name}")),
        "{}",
        built.stderr
    );
    let interpolated = p.migrate_env(&["-c", INI, "-v", "current"], &[("TEST_ENV", "true")]);
    let message = interpolated.failed();
    assert!(
        message.starts_with("malformed database URL `postgresql://") && message.contains(":***@"),
        "{message}"
    );
    for run in [&built, &interpolated] {
        for fragment in ["p@ss", "ss:w", "w/rd", "rd#1"] {
            assert!(
                !run.stdout.contains(fragment) && !run.stderr.contains(fragment),
                "part of the password ({fragment}) was printed:\n{}{}",
                run.stdout,
                run.stderr
            );
        }
    }
}
