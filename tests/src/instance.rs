//! A PostgreSQL server of the test's own, for what the shared server cannot show (it has TLS
//! on, and its settings are not ours to change): a fresh cluster in a temporary folder
//! (`initdb`), started on a free loopback port with the given settings (`pg_ctl`), trusting
//! local logins, and stopped when the value is dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::need::skip;

/// A running PostgreSQL instance of the test's own.
pub struct PostgresInstance {
    bin: PathBuf,
    data: PathBuf,
    /// The loopback port it listens on.
    pub port: u16,
    /// Its URL, as the `postgres` user on the `postgres` database.
    pub url: String,
    _dir: tempfile::TempDir,
}

/// The folder holding `initdb` and `pg_ctl`: on `PATH`, else the newest
/// `/usr/lib/postgresql/*/bin`.
fn server_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

/// Whether this process runs as root, where PostgreSQL's tools refuse to run.
pub(crate) fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file we just made is our effective user.
    tempfile::tempfile()
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.uid() == 0)
}

impl PostgresInstance {
    /// Starts an instance with `settings` (`-c name=value` each, e.g. `ssl=off`); `None` after
    /// [`skip`]ping when PostgreSQL's server programs are not installed.
    #[track_caller]
    pub fn start(settings: &[&str]) -> Option<PostgresInstance> {
        let Some(bin) = server_bin() else {
            skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("migrate-pg-")
            .tempdir()
            .expect("a temporary folder");
        let data = dir.path().join("data");
        let root = is_root();
        if root {
            // initdb and postgres refuse root: the cluster belongs to the postgres user.
            run(
                Command::new("chown").arg("postgres").arg(dir.path()),
                "chown",
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        run(
            tool(&bin, "initdb", root)
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-N", "-D"])
                .arg(&data),
            "initdb",
        );
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            dir.path().display()
        );
        for setting in settings {
            options.push_str(&format!(" -c {setting}"));
        }
        run(
            tool(&bin, "pg_ctl", root)
                .args(["-w", "-t", "30", "-D"])
                .arg(&data)
                .args(["-o", &options, "-l"])
                .arg(dir.path().join("server.log"))
                .arg("start"),
            "pg_ctl start",
        );
        Some(PostgresInstance {
            bin,
            data,
            port,
            url: format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
            _dir: dir,
        })
    }
}

impl Drop for PostgresInstance {
    fn drop(&mut self) {
        let _ = tool(&self.bin, "pg_ctl", is_root())
            .args(["-w", "-t", "30", "-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `bin/name`, run as the postgres user when we are root.
fn tool(bin: &Path, name: &str, root: bool) -> Command {
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(bin.join(name));
        cmd
    } else {
        Command::new(bin.join(name))
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
