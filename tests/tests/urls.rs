//! The URL forms the CLI reads reach the backend they name, parsed once (by
//! `migrate_core::url`, the rules' only home): MySQL over its Unix socket in SQLAlchemy's
//! empty-host form (which the CLI refused while migrate-mysql accepted it), and an empty MySQL
//! host without a socket refused before anything connects, with both ways out named (where
//! the drivers themselves disagree: PyMySQL connects to localhost over TCP, mysqlclient to
//! the default socket).

mod common;

use std::path::Path;

use common::{Project, TestDb};
use migrate_core::url::DatabaseUrl;
use migrate_tests::need::skip;

#[test]
fn mysql_through_its_unix_socket_in_sqlalchemys_form() {
    let Some(db) = TestDb::mysql() else { return };
    let socket = db.column("SELECT @@socket").remove(0);
    if !Path::new(&socket).exists() {
        skip(&format!(
            "the MariaDB server's socket {socket} (a server on this machine)"
        ));
        return;
    }
    let name = db.name.clone().expect("a database name");
    let parsed = DatabaseUrl::parse(&db.url).expect("the test server's URL parses");
    let server = parsed.server().expect("a server URL");
    let userinfo = match (&server.user, &server.password) {
        (Some(user), Some(password)) => format!("{user}:{password}@"),
        (Some(user), None) => format!("{user}@"),
        _ => String::new(),
    };
    let url = format!("mysql+pymysql://{userinfo}/{name}?unix_socket={socket}");
    let p = Project::example(&url);
    let run = p.migrate(&["upgrade", "head"]);
    run.ok();
    assert!(
        run.stderr.contains(&format!(
            "Database: MySQL socket {socket}/{name} (from url in migrate.toml)"
        )),
        "{}",
        run.stderr
    );
    let heads = p.migrate(&["heads"]);
    let head = heads.ok().split_whitespace().next().expect("a head");
    assert_eq!(db.versions(), Some(vec![head.to_string()]));
}

#[test]
fn an_empty_mysql_host_without_a_socket_is_refused_before_connecting() {
    let p = Project::example("sqlite:///unused.db");
    for url in ["mysql://root:s3cret@/test", "mariadb+pymysql:///test"] {
        let message = p.migrate(&["--url", url, "upgrade", "head"]).failed();
        assert!(
            message.starts_with("malformed database URL `") && message.contains("no host"),
            "{url}: {message}"
        );
        assert!(message.contains("?unix_socket=PATH"), "{url}: {message}");
        assert!(!message.contains("s3cret"), "{url}: {message}");
    }
    assert!(!p.path().join("unused.db").exists());
}
