//! Issue 13 item 5: a secret in a URL's query (`password`, `sslpassword`, a token) is hidden
//! wherever the CLI prints the URL, like the userinfo password: the banner, `-v`'s
//! `Database:` and `Connecting to` lines, `current -v`, `migrate config`, and every error
//! (whether or not the backend accepts the parameter).

mod common;

use common::{Project, Run, TestDb};

const SECRETS: [&str; 3] = ["Qx7-secret-param", "Sx7-ssl-secret", "Tx7-token"];

fn assert_hidden(run: &Run) {
    for secret in SECRETS {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "`migrate {}` printed {secret}:\n--- stdout\n{}--- stderr\n{}",
            run.args,
            run.stdout,
            run.stderr
        );
    }
}

/// `url` with the secret parameters added to its query.
fn with_secret_query(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}password={}&sslpassword={}&auth_token={}",
        SECRETS[0], SECRETS[1], SECRETS[2]
    )
}

fn never_printed(db: TestDb) {
    let p = Project::example("sqlite:///unused.db");
    let url = with_secret_query(&db.url);
    let runs = [
        p.migrate(&["--url", &url, "-v", "upgrade", "head"]),
        p.migrate(&["--url", &url, "-v", "current", "-v"]),
        p.migrate(&["--url", &url, "stamp", "head", "-v"]),
        p.migrate(&["--url", &url, "config"]),
        p.migrate_env(&["-v", "history", "-i"], &[("MIGRATE_URL", url.as_str())]),
    ];
    for run in &runs {
        assert_hidden(run);
    }
    // The lines that name the URL show where the secrets were.
    let verbose = &runs[0].stderr;
    assert!(
        verbose.contains("password=***&sslpassword=***&auth_token=***"),
        "{verbose}"
    );
    assert!(
        runs[3]
            .stdout
            .contains("password=***&sslpassword=***&auth_token=***  (--url)"),
        "{}",
        runs[3].stdout
    );
}

per_backend!(never_printed);

/// Two URLs that disagree are both described in the error, without their secrets.
#[test]
fn conflicting_urls_are_named_without_their_secrets() {
    let p = Project::example(&format!(
        "postgresql://app:{}@db.internal/shop?sslpassword={}",
        SECRETS[0], SECRETS[1]
    ));
    let run = p.migrate_env(
        &["upgrade", "head"],
        &[(
            "DATABASE_URL",
            &format!(
                "mysql://root:{}@other/db?auth_token={}",
                SECRETS[0], SECRETS[2]
            ),
        )],
    );
    let message = run.failed();
    assert!(
        message.contains("names MySQL other:3306/db")
            && message.contains("names PostgreSQL db.internal:5432/shop"),
        "{message}"
    );
    assert_hidden(&run);
}
