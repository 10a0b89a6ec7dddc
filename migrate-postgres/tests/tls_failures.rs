//! How TLS fails, as users meet it: an `sslrootcert` that does not exist or holds no PEM
//! certificate, and `sslmode=require` (and `verify-*`) against a server that has no TLS (an
//! instance of the test's own, started with `ssl=off`). Where libpq has the case, the outcome
//! is libpq's (checked with `psql` against the same server). Each is a connect error on one line,
//! naming what to fix, without the password; `prefer` and `disable` still reach that server.

use migrate_core::DatabaseErrorKind;
use migrate_postgres::PostgresExecutor;
use migrate_tests::instance::PostgresInstance;
use migrate_tests::servers::{server_url, POSTGRES_VAR};

const SECRET: &str = "s3cret-tls";

/// `url` with `query` as its query and [`SECRET`] as the password.
fn with(url: &str, query: &str) -> String {
    let mut u = url::Url::parse(url).expect("a URL");
    u.set_query(Some(query));
    u.set_password(Some(SECRET)).expect("a password");
    u.to_string()
}

/// The connect error of `url`: one line, kind Connect, no password; returns its message.
async fn connect_error(url: &str) -> String {
    let err = PostgresExecutor::connect(url)
        .await
        .expect_err("the connection is refused");
    assert_eq!(err.kind, DatabaseErrorKind::Connect, "{}", err.message);
    assert!(!err.message.contains('\n'), "one line: {}", err.message);
    assert!(!err.message.contains(SECRET), "{}", err.message);
    err.message
}

#[tokio::test]
async fn a_missing_sslrootcert_is_named() {
    let Some(server) = server_url(POSTGRES_VAR) else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("no-such-ca.pem");
    for mode in ["verify-ca", "verify-full"] {
        let url = with(
            &server,
            &format!("sslmode={mode}&sslrootcert={}", missing.display()),
        );
        let message = connect_error(&url).await;
        assert!(
            message.contains(&format!("cannot read sslrootcert {}", missing.display())),
            "{mode}: {message}"
        );
    }
    // As libpq: `require` checks the chain only when the root file exists, so a missing one
    // leaves it encrypting without a check (psql connects the same way).
    let url = with(
        &server,
        &format!("sslmode=require&sslrootcert={}", missing.display()),
    );
    PostgresExecutor::connect(&url)
        .await
        .expect("require without a root file connects, as libpq does");
}

#[tokio::test]
async fn an_sslrootcert_without_a_pem_certificate_is_named() {
    let Some(server) = server_url(POSTGRES_VAR) else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let not_pem = dir.path().join("ca.der");
    std::fs::write(&not_pem, [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82]).expect("writing");
    let key_only = dir.path().join("key.pem");
    std::fs::write(
        &key_only,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB8x\n-----END PRIVATE KEY-----\n",
    )
    .expect("writing");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are notes, not a certificate\n").expect("writing");
    for (file, mode) in [
        (&not_pem, "verify-full"),
        (&key_only, "verify-ca"),
        (&text, "verify-full"),
    ] {
        let url = with(
            &server,
            &format!("sslmode={mode}&sslrootcert={}", file.display()),
        );
        let message = connect_error(&url).await;
        assert!(
            message.contains(&format!("sslrootcert {}", file.display())),
            "names the file: {message}"
        );
        assert!(
            message.contains("no usable PEM certificate") || message.contains("cannot read"),
            "says what is wrong: {message}"
        );
    }
}

#[tokio::test]
async fn require_against_a_server_without_tls_is_refused_and_prefer_falls_back() {
    let Some(instance) = PostgresInstance::start(&["ssl=off"]) else {
        return;
    };
    for mode in ["require", "verify-ca", "verify-full"] {
        let message = connect_error(&with(&instance.url, &format!("sslmode={mode}"))).await;
        assert!(
            message.contains("TLS") || message.contains("SSL"),
            "{mode}: says TLS is what failed: {message}"
        );
        assert!(
            message.contains(&format!("127.0.0.1:{}", instance.port)),
            "{mode}: names the server: {message}"
        );
    }
    for query in ["sslmode=prefer", "sslmode=disable", "application_name=t"] {
        let exec = PostgresExecutor::connect(&with(&instance.url, query))
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        let ssl: bool = exec
            .client()
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!(!ssl, "{query}: in plain text");
    }
}
