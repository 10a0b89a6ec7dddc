//! "Did you mean ...?": the known names closest to a mistyped one.

/// The optimal-string-alignment distance between `a` and `b` (insertions, deletions,
/// substitutions and swaps of two neighbours each cost one), or `None` once it exceeds `limit`.
fn distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; a.len() + 1];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i][0] = i;
        let mut best = rows[i][0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
            best = best.min(d);
        }
        if best > limit {
            return None;
        }
    }
    Some(rows[a.len()][b.len()]).filter(|&d| d <= limit)
}

/// Up to three of `candidates` closest to `word` (at most one edit in three characters, and
/// at least one), nearest first, then in name order.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let word = word.trim();
    if word.is_empty() {
        return Vec::new();
    }
    let limit = (word.chars().count() / 3).max(1);
    let mut found: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != word)
        .filter_map(|c| distance(word, c, limit).map(|d| (d, c)))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word() {
        let words = ["head", "heads", "base", "ae1027a6acf", "feature"];
        assert_eq!(closest("hed", words), ["head"]);
        assert_eq!(closest("haeds", words), ["heads"]);
        assert_eq!(closest("ae1027a6afc", words), ["ae1027a6acf"]);
        assert_eq!(closest("featrue", words), ["feature"]);
        assert!(closest("zzzzzz", words).is_empty());
        assert!(closest("", words).is_empty());
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("abc", "abc", 2), Some(0));
        assert_eq!(distance("abc", "acb", 2), Some(1));
        assert_eq!(distance("abc", "abd", 2), Some(1));
        assert_eq!(distance("abc", "abcde", 2), Some(2));
        assert_eq!(distance("abc", "xyz", 2), None);
    }
}
