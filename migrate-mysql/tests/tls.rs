//! TLS to MySQL/MariaDB (`ssl-mode`, `ssl-ca`) against a MariaDB server of the test's own,
//! started with a certificate the test makes (openssl, through the kit's `certs`): the
//! server's own session status (`Ssl_cipher`) says whether a connection is encrypted.

#[path = "support/mariadb.rs"]
mod mariadb;

use mariadb::{MariaDb, Settings};
use migrate_core::{DatabaseErrorKind, Executor};
use migrate_mysql::MysqlExecutor;
use migrate_tests::certs::Certificates;
use mysql_async::prelude::Queryable;

fn require_all() -> bool {
    std::env::var("MIGRATE_TEST_REQUIRE_ALL").as_deref() == Ok("1")
}

/// `None` after saying why the test skips (a failure under `MIGRATE_TEST_REQUIRE_ALL=1`).
fn skip<T>(why: &str) -> Option<T> {
    assert!(
        !require_all(),
        "{why}, and MIGRATE_TEST_REQUIRE_ALL=1 requires the TLS tests"
    );
    println!("skipped: {why}");
    None
}

/// The certificates and a server presenting `server.pem` (first the one for localhost).
fn start() -> Option<(Certificates, MariaDb)> {
    let certs = match Certificates::new() {
        Ok(certs) => certs,
        Err(why) => return skip(&format!("cannot make certificates: {why}")),
    };
    for file in ["pem", "key"] {
        if let Err(e) = std::fs::copy(
            certs.path(&format!("localhost.{file}")),
            certs.path(&format!("server.{file}")),
        ) {
            return skip(&format!("cannot copy the certificate: {e}"));
        }
    }
    let settings = Settings {
        name: "tls".into(),
        lines: vec![
            format!("ssl_cert={}", certs.path("server.pem").display()),
            format!("ssl_key={}", certs.path("server.key").display()),
        ],
        initialize: true,
        args: Vec::new(),
    };
    match MariaDb::start(settings) {
        Ok(server) => Some((certs, server)),
        Err(why) => skip(&format!("cannot start MariaDB: {why}")),
    }
}

/// The cipher of the session (`Ssl_cipher`, empty when not encrypted) of a connection to
/// `url`, or the connection's error.
async fn cipher(url: &str) -> Result<String, migrate_core::DatabaseError> {
    let mut exec = MysqlExecutor::connect(url).await?;
    let status: Vec<(String, String)> = exec
        .conn_mut()
        .query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .expect("reading the session status");
    exec.execute("SELECT 1").await.expect("the session works");
    Ok(status
        .into_iter()
        .next()
        .map(|(_, cipher)| cipher)
        .unwrap_or_default())
}

#[test]
fn ssl_modes_against_a_server_with_its_own_certificate() {
    let Some((certs, server)) = start() else {
        return;
    };
    let ca = certs.path("ca.pem");
    let other_ca = certs.path("other-ca.pem");
    let url =
        |host: &str, query: String| format!("mysql://root@{host}:{}/mysql?{query}", server.port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let encrypted = |query: String| {
        let cipher = runtime
            .block_on(cipher(&url("127.0.0.1", query.clone())))
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        assert!(!cipher.is_empty(), "{query}: the session is not encrypted");
    };
    let refused = |host: &str, query: String| {
        let err = runtime
            .block_on(cipher(&url(host, query.clone())))
            .expect_err(&query);
        assert_eq!(err.kind, DatabaseErrorKind::Connect, "{query}: {err}");
        assert!(!err.message.contains('\n'), "{err}");
        err.message
    };

    let plain = runtime
        .block_on(cipher(&url("127.0.0.1", "ssl-mode=DISABLED".into())))
        .unwrap();
    assert_eq!(plain, "", "DISABLED does not encrypt");
    // The default, PREFERRED, encrypts when the server offers TLS.
    encrypted(String::new());
    // REQUIRED encrypts, whoever signed the certificate.
    encrypted("ssl-mode=REQUIRED".into());
    encrypted(format!("ssl-mode=REQUIRED&ssl-ca={}", other_ca.display()));
    // The server's certificate names localhost and 127.0.0.1, signed by ca.pem.
    encrypted(format!("ssl-mode=VERIFY_CA&ssl-ca={}", ca.display()));
    encrypted(format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", ca.display()));
    let cipher_by_name = runtime
        .block_on(cipher(&url(
            "localhost",
            format!("ssl_mode=verify_identity&ssl_ca={}", ca.display()),
        )))
        .unwrap();
    assert!(!cipher_by_name.is_empty());

    // Another CA's file, or none (the public web roots): the chain is not trusted.
    let message = refused(
        "127.0.0.1",
        format!("ssl-mode=VERIFY_CA&ssl-ca={}", other_ca.display()),
    );
    assert!(
        message.contains("(ssl-mode=VERIFY_CA)")
            && message.contains("does not hold the CA that signed the server's certificate"),
        "{message}"
    );
    let message = refused("127.0.0.1", "ssl-mode=VERIFY_IDENTITY".into());
    assert!(message.contains("ssl-ca=PATH"), "{message}");

    // Now the server presents a certificate of the same CA made for another host.
    for file in ["pem", "key"] {
        std::fs::copy(
            certs.path(&format!("elsewhere.{file}")),
            certs.path(&format!("server.{file}")),
        )
        .expect("replacing the server's certificate");
    }
    runtime.block_on(async {
        let mut admin = MysqlExecutor::connect(&url("127.0.0.1", "ssl-mode=DISABLED".into()))
            .await
            .expect("an admin connection");
        admin.execute("FLUSH SSL").await.expect("FLUSH SSL");
    });
    let message = refused(
        "127.0.0.1",
        format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", ca.display()),
    );
    assert!(message.contains("made for another host"), "{message}");
    // VERIFY_CA checks the chain only.
    encrypted(format!("ssl-mode=VERIFY_CA&ssl-ca={}", ca.display()));
}
