//! Certificates made for a test with `openssl`, for the TLS tests of every backend: two
//! certificate authorities, and server certificates signed by the first.
//!
//! | file | what |
//! |---|---|
//! | `ca.pem`, `ca.key` | the authority that signs the server certificates |
//! | `other-ca.pem` | an authority that signed nothing the servers present |
//! | `localhost.pem`, `localhost.key` | a server certificate for `localhost` and `127.0.0.1` |
//! | `elsewhere.pem`, `elsewhere.key` | a server certificate for `db.elsewhere.example` only |
//!
//! The folder and its files are readable by every user, since a server started by a test
//! run as root runs as another user (PostgreSQL also wants its key private to that user:
//! see [`Certificates::private_copy`]).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder of certificates, removed when the value is dropped.
pub struct Certificates {
    dir: tempfile::TempDir,
}

impl Certificates {
    /// Makes the certificates; the error says which openssl step failed and why.
    pub fn new() -> Result<Certificates, String> {
        let dir = tempfile::Builder::new()
            .prefix("migrate-tls-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let certs = Certificates { dir };
        certs.authority("ca")?;
        certs.authority("other-ca")?;
        certs.server("localhost", "DNS:localhost,IP:127.0.0.1")?;
        certs.server("elsewhere", "DNS:db.elsewhere.example")?;
        Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(certs.dir.path())
            .status()
            .map_err(|e| e.to_string())?;
        Ok(certs)
    }

    /// The path of `file` in the folder (`ca.pem`, `localhost.key`, ...).
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// A copy of `file` named `copy`, readable by `owner` alone (mode 0600; owned by `owner`
    /// when this process runs as root): a server's private key, as PostgreSQL requires it.
    pub fn private_copy(&self, file: &str, copy: &str, owner: &str) -> Result<PathBuf, String> {
        use std::os::unix::fs::PermissionsExt;
        let to = self.path(copy);
        std::fs::copy(self.path(file), &to).map_err(|e| format!("copying {file}: {e}"))?;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("chmod {copy}: {e}"))?;
        if crate::instance::is_root() {
            let status = Command::new("chown")
                .arg(owner)
                .arg(&to)
                .status()
                .map_err(|e| format!("chown {copy}: {e}"))?;
            if !status.success() {
                return Err(format!("chown {owner} {copy} failed"));
            }
        }
        Ok(to)
    }

    /// A CA: `NAME.pem`, `NAME.key`.
    fn authority(&self, name: &str) -> Result<(), String> {
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=migrate test {name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ],
        )
    }

    /// A server certificate signed by `ca` for the subject alternative names `san`:
    /// `NAME.pem`, `NAME.key`.
    fn server(&self, name: &str, san: &str) -> Result<(), String> {
        let dir = self.dir.path();
        std::fs::write(
            dir.join(format!("{name}.ext")),
            format!("subjectAltName={san}\n"),
        )
        .map_err(|e| e.to_string())?;
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        )?;
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.pem"),
            ],
        )
    }
}

/// Runs openssl with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| format!("running openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
