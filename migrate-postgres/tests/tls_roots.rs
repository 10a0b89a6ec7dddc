//! `sslrootcert` in every `sslmode`, against a PostgreSQL server of the test's own whose
//! certificate a CA made by the test signed (openssl), with the CA's file, another CA's, a
//! file holding no certificate, a missing file and none. The reference is libpq: `psql` makes
//! each connection too, and `migrate` must connect exactly when psql does, encrypted exactly
//! when psql is. Above all `require` with a root file checks the chain, as `verify-ca` does:
//! another CA's file or a garbage file refuses the connection.

use std::path::Path;
use std::process::{Command, Stdio};

use migrate_core::DatabaseErrorKind;
use migrate_postgres::PostgresExecutor;
use migrate_tests::certs::Certificates;
use migrate_tests::instance::PostgresInstance;
use migrate_tests::need::{program, skip};
use migrate_tests::wait::{output_within, PROCESS_LIMIT};

const SSL_QUERY: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

/// What a connection came to: refused, or connected in plaintext or encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Refused,
    Plaintext,
    Encrypted,
}

/// psql's outcome for the libpq connection string `conninfo`, with a home folder of its own
/// (so no `~/.postgresql/root.crt` takes part).
fn psql(psql: &Path, conninfo: &str, home: &Path) -> Outcome {
    let child = Command::new(psql)
        .args([conninfo, "-X", "-A", "-t", "-c", SSL_QUERY])
        .env("HOME", home)
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql starts");
    let out = output_within(child, PROCESS_LIMIT, "psql");
    match String::from_utf8_lossy(&out.stdout).trim() {
        _ if !out.status.success() => Outcome::Refused,
        "t" => Outcome::Encrypted,
        "f" => Outcome::Plaintext,
        other => panic!("psql printed {other:?}"),
    }
}

/// migrate's outcome for `url`; a refusal is a one-line connect error.
async fn migrate(url: &str) -> (Outcome, Option<String>) {
    match PostgresExecutor::connect(url).await {
        Err(e) => {
            assert_eq!(e.kind, DatabaseErrorKind::Connect, "{url}: {}", e.message);
            assert!(!e.message.contains('\n'), "one line: {}", e.message);
            (Outcome::Refused, Some(e.message))
        }
        Ok(exec) => {
            let ssl: bool = exec
                .client()
                .query_one(SSL_QUERY, &[])
                .await
                .expect("the session answers")
                .get(0);
            let outcome = if ssl {
                Outcome::Encrypted
            } else {
                Outcome::Plaintext
            };
            (outcome, None)
        }
    }
}

#[tokio::test]
async fn sslrootcert_is_checked_in_every_mode_as_libpq_checks_it() {
    let Some(psql_bin) = program("psql") else {
        return;
    };
    let certs = match Certificates::new() {
        Ok(certs) => certs,
        Err(why) => return skip(&format!("cannot make certificates: {why}")),
    };
    let key = match certs.private_copy("localhost.key", "server.key", "postgres") {
        Ok(key) => key,
        Err(why) => return skip(&format!("cannot install the server key: {why}")),
    };
    std::fs::write(
        certs.path("garbage.pem"),
        "these are notes, not a certificate\n",
    )
    .expect("writing");
    let Some(server) = PostgresInstance::start(&[
        "ssl=on",
        &format!("ssl_cert_file={}", certs.path("localhost.pem").display()),
        &format!("ssl_key_file={}", key.display()),
    ]) else {
        return;
    };
    let home = tempfile::tempdir().expect("a home folder for psql");
    let roots = [
        ("the CA's file", Some("ca.pem")),
        ("another CA's file", Some("other-ca.pem")),
        ("a file without a certificate", Some("garbage.pem")),
        ("a missing file", Some("missing.pem")),
        ("no file", None),
    ];
    let mut seen = Vec::new();
    for mode in [
        "disable",
        "allow",
        "prefer",
        "require",
        "verify-ca",
        "verify-full",
    ] {
        for (what, root) in roots {
            let root = root.map(|file| certs.path(file));
            let mut conninfo = format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode={mode}",
                server.port
            );
            let mut url = format!("{}?sslmode={mode}", server.url);
            if let Some(root) = &root {
                conninfo.push_str(&format!(" sslrootcert={}", root.display()));
                url.push_str(&format!("&sslrootcert={}", root.display()));
            }
            let expected = psql(&psql_bin, &conninfo, home.path());
            let (outcome, message) = migrate(&url).await;
            if mode == "allow" {
                // libpq's `allow` tries plaintext first; migrate's is `prefer` (TLS first, see
                // SslMode::Allow), so only whether it connects is compared.
                assert_eq!(
                    outcome == Outcome::Refused,
                    expected == Outcome::Refused,
                    "sslmode={mode} with {what}: migrate {outcome:?}, psql {expected:?} ({message:?})"
                );
            } else {
                assert_eq!(
                    outcome, expected,
                    "sslmode={mode} with {what}: migrate {outcome:?}, psql {expected:?} ({message:?})"
                );
            }
            if let Some(message) = message {
                assert!(
                    message.contains(&format!("127.0.0.1:{}", server.port)),
                    "names the server: {message}"
                );
            }
            seen.push((mode, what, outcome));
        }
    }
    // What libpq decided, spelled out for the bug this guards against: `require` with a root
    // file checks the chain.
    let outcome = |mode: &str, what: &str| {
        seen.iter()
            .find(|(m, w, _)| *m == mode && *w == what)
            .map(|(_, _, o)| *o)
    };
    assert_eq!(
        outcome("require", "the CA's file"),
        Some(Outcome::Encrypted)
    );
    assert_eq!(
        outcome("require", "another CA's file"),
        Some(Outcome::Refused)
    );
    assert_eq!(
        outcome("require", "a file without a certificate"),
        Some(Outcome::Refused)
    );
    assert_eq!(outcome("require", "no file"), Some(Outcome::Encrypted));
    assert_eq!(
        outcome("require", "a missing file"),
        Some(Outcome::Encrypted)
    );
    // `prefer` falls back to plaintext when the check fails, as libpq does.
    assert_eq!(
        outcome("prefer", "another CA's file"),
        Some(Outcome::Plaintext)
    );

    // The refusals say what to fix.
    let url = |mode: &str, file: &str| {
        format!(
            "{}?sslmode={mode}&sslrootcert={}",
            server.url,
            certs.path(file).display()
        )
    };
    let (_, message) = migrate(&url("require", "other-ca.pem")).await;
    let message = message.expect("refused");
    assert!(
        message.contains("sslmode=require")
            && message.contains("does not hold the CA that signed the server's certificate"),
        "{message}"
    );
    let (_, message) = migrate(&url("require", "garbage.pem")).await;
    let message = message.expect("refused");
    assert!(
        message.contains("holds no usable PEM certificate")
            && message.contains(&certs.path("garbage.pem").display().to_string()),
        "{message}"
    );
}
