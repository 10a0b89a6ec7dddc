//! Checksums of what a revision runs, stable across checkouts and versions of `migrate`.
//!
//! **Algorithm 1** (the only one so far; the history table stores the number beside every
//! checksum, so a future algorithm never makes old rows look edited):
//!
//! 1. Take the statements the revision runs in one direction on the database at hand: its
//!    sections (or `op.execute` strings) for that dialect, split into statements as they are
//!    sent, in order.
//! 2. Normalise each statement: line endings become `\n`; trailing blanks of every line are
//!    removed; lines that are empty or hold only a `--` comment are dropped.
//! 3. Hash with SHA-256 the normalised statements, each followed by one `\0` byte (so that
//!    moving text from one statement to the next changes the sum); write the digest as 64
//!    lowercase hex digits.
//!
//! So a CRLF checkout, trailing spaces, blank lines and comment lines change nothing, and any
//! change to what the database receives changes the checksum. The same revision may have
//! another checksum on another dialect (it may run other sections there).
//!
//! ```
//! use migrate_core::checksum::checksum;
//! let a = checksum(["CREATE TABLE t (id INT)", "INSERT INTO t VALUES (1)"]);
//! let b = checksum(["-- creates t\r\nCREATE TABLE t (id INT)   \r\n\r\n", "INSERT INTO t VALUES (1)"]);
//! assert_eq!(a, b);
//! assert_ne!(a, checksum(["CREATE TABLE t (id BIGINT)", "INSERT INTO t VALUES (1)"]));
//! assert_eq!(a.len(), 64);
//! ```

use sha2::{Digest, Sha256};

/// The number of the algorithm [`checksum`] implements, stored beside every checksum.
pub const CHECKSUM_VERSION: u32 = 1;

/// One statement as algorithm 1 sees it (step 2 of the module's description).
pub fn normalize(statement: &str) -> String {
    let mut out = String::with_capacity(statement.len());
    for line in statement.split('\n') {
        let line = line.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The algorithm-1 checksum of `statements`, as 64 lowercase hex digits.
pub fn checksum<'a>(statements: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for statement in statements {
        // The lines `normalize` keeps, fed to the hash as they are found (no copy).
        for line in statement.split('\n') {
            let line = line.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with("--") {
                continue;
            }
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
        }
        hasher.update([0u8]);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in hasher.finalize() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of algorithm 1 is fixed forever: a change here breaks every history table.
    /// Expected values from coreutils: `printf 'SELECT 1\n\0' | sha256sum` and
    /// `printf 'CREATE TABLE t (\n  id INT\n)\n\0INSERT INTO t VALUES (1)\n\0' | sha256sum`.
    #[test]
    fn algorithm_one_is_stable() {
        assert_eq!(
            checksum(["SELECT 1"]),
            "a44c60f6773c8e3637ca279ed60f655f5065d52b2b2c4c914d67ac42b1265ea0"
        );
        assert_eq!(
            checksum([
                "-- t\r\nCREATE TABLE t (\r\n  id INT\r\n)  ",
                "INSERT INTO t VALUES (1)"
            ]),
            "97a09f86635d571535835926fe2e83fb1429227dc480436e54f4f0145cf6566a"
        );
    }

    /// `checksum` hashes what `normalize` returns, statement by statement.
    #[test]
    fn checksum_is_the_hash_of_the_normalised_statements() {
        let statements = [
            "-- c\r\nCREATE TABLE t (\r\n  id INT  \r\n\r\n)",
            "\n",
            "SELECT 1 -- x",
        ];
        let mut hasher = Sha256::new();
        for s in statements {
            hasher.update(normalize(s).as_bytes());
            hasher.update([0u8]);
        }
        let expected: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(checksum(statements), expected);
    }

    #[test]
    fn formatting_does_not_count_but_content_does() {
        let base = checksum(["CREATE TABLE t (\n  id INT\n)"]);
        assert_eq!(base, checksum(["CREATE TABLE t (\r\n  id INT\r\n)"]));
        assert_eq!(base, checksum(["CREATE TABLE t (   \n  id INT\t\n)"]));
        assert_eq!(
            base,
            checksum(["CREATE TABLE t (\n-- the key\n  id INT\n\n)"])
        );
        assert_ne!(
            base,
            checksum(["CREATE TABLE t (\n    id INT\n)"]),
            "indentation inside is content"
        );
        assert_ne!(base, checksum(["CREATE TABLE t (\n  id INT\n)", ""]));
        assert_ne!(
            checksum(["SELECT 1", "SELECT 2"]),
            checksum(["SELECT 1\nSELECT 2"]),
            "statement boundaries count"
        );
    }
}
