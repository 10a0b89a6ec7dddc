//! MariaDB servers of a test's own: `mariadb-install-db` into a temporary folder, `mariadbd`
//! with the test's settings on free loopback ports, stopped (and the folder removed) when
//! dropped, also when the test fails. The shared server is never touched.
//!
//! Used by `migrate-mysql/tests/tls.rs` (a server with a certificate) and
//! `tests/tests/galera.rs` (a three-node cluster), which includes this file by path.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer (a Galera joiner first copies the donor's data).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Whether this process runs as root (then `mariadbd` runs as the `mysql` user, which must
/// own the server's folder: rsync's daemon, which Galera's state transfer starts, cannot
/// write as root's stand-in `nobody`).
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// What to start.
pub struct Settings {
    /// The name, for messages and file names.
    pub name: String,
    /// Lines for the `[mysqld]` section, after the ones every server gets (folder, socket,
    /// port, loopback address).
    pub lines: Vec<String>,
    /// Give the server a fresh data folder (`mariadb-install-db`); without it the folder is
    /// left empty (a Galera joiner receives the donor's).
    pub initialize: bool,
    /// Arguments after `--defaults-file` (`--wsrep-new-cluster`).
    pub args: Vec<String>,
}

/// A running server.
pub struct MariaDb {
    /// The name it was started with.
    pub name: String,
    /// Its client port on 127.0.0.1.
    pub port: u16,
    /// Whether it is a Galera node (`wsrep_on=ON` in its settings).
    cluster: bool,
    dir: tempfile::TempDir,
    child: Child,
}

impl MariaDb {
    /// Start a server and wait until it answers; the error says why not (with the end of the
    /// server's log).
    pub fn start(settings: Settings) -> Result<MariaDb, String> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("migrate-{}-", settings.name))
            .tempdir()
            .map_err(|e| format!("temporary folder: {e}"))?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let root = running_as_root();
        let cluster = settings.lines.iter().any(|l| l == "wsrep_on=ON");
        let user = if root { "mysql" } else { "" };
        let port = free_port();
        let mut cnf = vec![
            "[mysqld]".to_string(),
            format!("datadir={}", data.display()),
            format!("socket={}", dir.path().join("mysqld.sock").display()),
            format!("pid-file={}", dir.path().join("mysqld.pid").display()),
            format!("log-error={}", log_file(dir.path()).display()),
            format!("port={port}"),
            "bind-address=127.0.0.1".to_string(),
            "skip-name-resolve".to_string(),
            "innodb_buffer_pool_size=32M".to_string(),
            "innodb_log_file_size=8M".to_string(),
        ];
        if root {
            cnf.push(format!("user={user}"));
        }
        cnf.extend(settings.lines);
        let defaults = dir.path().join("my.cnf");
        std::fs::write(&defaults, cnf.join("\n") + "\n").map_err(|e| format!("my.cnf: {e}"))?;
        if settings.initialize {
            let mut install = Command::new("mariadb-install-db");
            install
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .args([
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--innodb-log-file-size=8M",
                ]);
            if root {
                install.arg(format!("--user={user}"));
            }
            let out = install
                .output()
                .map_err(|e| format!("running mariadb-install-db: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "mariadb-install-db failed: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        if root {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err(format!("chown -R {user} {} failed", dir.path().display()));
            }
        }
        let child = Command::new(mariadbd())
            .arg(format!("--defaults-file={}", defaults.display()))
            .args(&settings.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting mariadbd: {e}"))?;
        let mut server = MariaDb {
            name: settings.name,
            port,
            cluster,
            dir,
            child,
        };
        server.wait_until_ready()?;
        Ok(server)
    }

    /// `mysql://root@127.0.0.1:PORT/DATABASE` (and the query, when not empty).
    pub fn url(&self, database: &str, query: &str) -> String {
        let mut url = format!("mysql://root@127.0.0.1:{}/{database}", self.port);
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// The server's folder (its files: `my.cnf`, `error.log`, `data/`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn wait_until_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let url = self.url("mysql", "");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) while starting:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if answers(&url, self.cluster) {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "{} did not answer within {} s:\n{}",
                    self.name,
                    START_TIMEOUT.as_secs(),
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(log_file(self.dir.path())).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        // SIGTERM first, so the server (and any state-transfer script it started) ends
        // cleanly; SIGKILL when it takes too long.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_file(dir: &Path) -> PathBuf {
    dir.join("error.log")
}

/// `mariadbd`: on the path, else where Debian puts it.
fn mariadbd() -> PathBuf {
    ["/usr/sbin/mariadbd", "/usr/libexec/mariadbd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("mariadbd"))
}

/// Whether `url` takes a connection and answers (and, on a Galera node, is ready for
/// clients: a server built with Galera support says `wsrep_ready` OFF outside a cluster).
fn answers(url: &str, cluster: bool) -> bool {
    use mysql_async::prelude::Queryable;
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    runtime.block_on(async {
        let Ok(Ok(mut conn)) =
            tokio::time::timeout(Duration::from_secs(5), mysql_async::Conn::from_url(url)).await
        else {
            return false;
        };
        let ready: Result<Vec<(String, String)>, _> =
            conn.query("SHOW STATUS LIKE 'wsrep_ready'").await;
        let _ = conn.disconnect().await;
        match ready {
            Ok(rows) => !cluster || rows.iter().any(|(_, value)| value == "ON"),
            Err(_) => false,
        }
    })
}
