//! The advisory-lock key every replica computes for the same version table.

/// FNV-1a, 64 bits: small, stable across builds and platforms (unlike `std`'s hashers).
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

/// The `pg_advisory_lock` key of the version table `table` in `schema` of `database`: the
/// FNV-1a 64 hash of `migrate:` + database + NUL + schema + NUL + table, as a signed bigint.
pub fn advisory_lock_key(database: &str, schema: &str, table: &str) -> i64 {
    let text = format!("migrate:{database}\0{schema}\0{table}");
    i64::from_ne_bytes(fnv1a_64(text.as_bytes()).to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn key_depends_on_every_part() {
        let base = advisory_lock_key("app", "public", "alembic_version");
        assert_eq!(base, advisory_lock_key("app", "public", "alembic_version"));
        assert_ne!(base, advisory_lock_key("app2", "public", "alembic_version"));
        assert_ne!(base, advisory_lock_key("app", "tenant", "alembic_version"));
        assert_ne!(base, advisory_lock_key("app", "public", "other_version"));
    }
}
