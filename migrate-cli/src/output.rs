//! The lines `current`, `heads`, `branches`, `history` and `show` print on stdout, exactly as
//! Alembic 1.20 prints them (`Script.cmd_format`, `Script.log_entry`, `Script._head_only` in
//! alembic/script/base.py), so scripts written around Alembic's output keep working.
//!
//! Formatting works on [`Entry`], a plain view of one revision and its place in the graph, so
//! it can be tested on hand-built values; the orderings come from the core's revision map.
//!
//! One deliberate difference: Alembic keeps a revision's children and branch labels in Python
//! sets and prints them in hash order, which changes from run to run; these are printed in the
//! order the entry holds them (the core's stable order).

use std::path::Path;

/// One revision as the listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The revision id.
    pub id: &'a str,
    /// `down_revision`: the parents (empty for a base).
    pub down_revisions: &'a [String],
    /// `depends_on`, as declared.
    pub depends_on: &'a [String],
    /// Branch labels, own and inherited.
    pub branch_labels: Vec<&'a str>,
    /// The whole docstring / header text.
    pub longdoc: &'a str,
    /// The file.
    pub path: &'a Path,
    /// Children through `down_revision` (Alembic's `nextrev`).
    pub children: Vec<&'a str>,
    /// Whether another revision depends on this one (`depends_on`).
    pub has_dependents: bool,
    /// Alembic's `_db_current_indicator`: `(current)` for `history -i`.
    pub current: bool,
}

impl Entry<'_> {
    /// No child through `down_revision` (Alembic's `is_head`).
    pub fn is_head(&self) -> bool {
        self.children.is_empty()
    }

    /// No child and nothing depending on it (Alembic's `_is_real_head`).
    pub fn is_real_head(&self) -> bool {
        self.children.is_empty() && !self.has_dependents
    }

    /// More than one child (Alembic's `is_branch_point`).
    pub fn is_branch_point(&self) -> bool {
        self.children.len() > 1
    }

    /// More than one parent (Alembic's `is_merge_point`).
    pub fn is_merge_point(&self) -> bool {
        self.down_revisions.len() > 1
    }

    /// The docstring stripped, as Alembic's `Script.longdoc`.
    fn long_doc(&self) -> &str {
        self.longdoc.trim()
    }

    /// The docstring's first paragraph, as Alembic's `Script.doc`.
    pub fn doc(&self) -> &str {
        let long = self.long_doc();
        long.split("\n\n").next().unwrap_or(long)
    }

    /// `<base>` or the comma-joined parents (Alembic's `_format_down_revision`).
    fn down_text(&self) -> String {
        if self.down_revisions.is_empty() {
            "<base>".to_string()
        } else {
            self.down_revisions.join(", ")
        }
    }
}

/// Which parts a short line holds (Alembic's `_head_only` arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// ` (label, ...)` after the id.
    pub branches: bool,
    /// `, message` at the end.
    pub doc: bool,
    /// `parents -> ` before the id.
    pub parents: bool,
    /// ` (branchpoint)` / ` (mergepoint)`.
    pub tree_indicators: bool,
}

/// The short form of one revision (Alembic's `Script._head_only`).
pub fn short_line(entry: &Entry, parts: Parts) -> String {
    let mut text = String::new();
    push_short_line(&mut text, entry, parts);
    text
}

/// [`short_line`], appended to `out` (a long `history` builds its lines in one buffer).
pub fn push_short_line(out: &mut String, entry: &Entry, parts: Parts) {
    if parts.parents {
        push_down_text(out, entry);
        if !entry.depends_on.is_empty() {
            out.push_str(" (");
            push_joined(out, entry.depends_on.iter().map(String::as_str));
            out.push(')');
        }
        out.push_str(" -> ");
    }
    out.push_str(entry.id);
    if parts.branches && !entry.branch_labels.is_empty() {
        out.push_str(" (");
        push_joined(out, entry.branch_labels.iter().copied());
        out.push(')');
    }
    if entry.is_real_head() {
        out.push_str(" (head)");
    }
    if entry.is_head() && !entry.is_real_head() {
        out.push_str(" (effective head)");
    }
    if entry.current {
        out.push_str(" (current)");
    }
    if parts.tree_indicators {
        if entry.is_branch_point() {
            out.push_str(" (branchpoint)");
        }
        if entry.is_merge_point() {
            out.push_str(" (mergepoint)");
        }
    }
    if parts.doc {
        out.push_str(", ");
        out.push_str(entry.doc());
    }
}

/// `<base>` or the comma-joined parents, appended to `out`.
fn push_down_text(out: &mut String, entry: &Entry) {
    if entry.down_revisions.is_empty() {
        out.push_str("<base>");
    } else {
        push_joined(out, entry.down_revisions.iter().map(String::as_str));
    }
}

fn push_joined<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
}

/// The verbose block of one revision, ending with a newline (Alembic's `Script.log_entry`).
pub fn log_entry(entry: &Entry) -> String {
    let mut out = format!("Rev: {}", entry.id);
    if entry.is_head() {
        out.push_str(" (head)");
    }
    if entry.is_branch_point() {
        out.push_str(" (branchpoint)");
    }
    if entry.is_merge_point() {
        out.push_str(" (mergepoint)");
    }
    if entry.current {
        out.push_str(" (current)");
    }
    out.push('\n');
    if entry.is_merge_point() {
        out.push_str(&format!("Merges: {}\n", entry.down_text()));
    } else {
        out.push_str(&format!("Parent: {}\n", entry.down_text()));
    }
    if !entry.depends_on.is_empty() {
        out.push_str(&format!(
            "Also depends on: {}\n",
            entry.depends_on.join(", ")
        ));
    }
    if entry.is_branch_point() {
        out.push_str(&format!("Branches into: {}\n", entry.children.join(", ")));
    }
    if !entry.branch_labels.is_empty() {
        out.push_str(&format!(
            "Branch names: {}\n",
            entry.branch_labels.join(", ")
        ));
    }
    // Alembic prints the file's resolved absolute path (`file_path.resolve()`), whatever
    // `script_location` says.
    let resolved = std::fs::canonicalize(entry.path)
        .or_else(|_| std::path::absolute(entry.path))
        .unwrap_or_else(|_| entry.path.to_path_buf());
    out.push_str(&format!("Path: {}\n", resolved.display()));
    let body: Vec<String> = entry
        .long_doc()
        .lines()
        .map(|line| format!("    {line}"))
        .collect();
    out.push_str(&format!("\n{}\n", body.join("\n")));
    out
}

/// What `history` prints for one revision (without the final newline), appended to `out`.
pub fn push_history_item(out: &mut String, entry: &Entry, verbose: bool) {
    if verbose {
        out.push_str(&log_entry(entry));
    } else {
        push_short_line(
            out,
            entry,
            Parts {
                branches: true,
                doc: true,
                parents: true,
                tree_indicators: true,
            },
        )
    }
}

/// What `heads` prints for one head.
pub fn heads_item(entry: &Entry, verbose: bool) -> String {
    if verbose {
        log_entry(entry)
    } else {
        short_line(
            entry,
            Parts {
                branches: true,
                doc: false,
                parents: false,
                tree_indicators: false,
            },
        )
    }
}

/// What `current` prints for one current revision.
pub fn current_item(entry: &Entry, verbose: bool) -> String {
    if verbose {
        log_entry(entry)
    } else {
        short_line(
            entry,
            Parts {
                branches: false,
                doc: false,
                parents: false,
                tree_indicators: true,
            },
        )
    }
}

/// The first line of `current -v`.
pub fn current_header(redacted_url: &str) -> String {
    format!("Current revision(s) for {redacted_url}:")
}

/// What `branches` prints for one branch point and its children (`children` in the order of
/// `point.children`).
pub fn branches_item(point: &Entry, children: &[Entry], verbose: bool) -> String {
    let head = if verbose {
        log_entry(point)
    } else {
        short_line(
            point,
            Parts {
                branches: true,
                doc: false,
                parents: false,
                tree_indicators: true,
            },
        )
    };
    let indent = " ".repeat(point.id.chars().count());
    let lines: Vec<String> = children
        .iter()
        .map(|child| {
            format!(
                "{indent} -> {}",
                short_line(
                    child,
                    Parts {
                        branches: true,
                        doc: verbose,
                        parents: false,
                        tree_indicators: true,
                    },
                )
            )
        })
        .collect();
    format!("{head}\n{}\n", lines.join("\n"))
}

/// What `show` prints for one revision.
pub fn show_item(entry: &Entry) -> String {
    log_entry(entry)
}

#[cfg(test)]
mod tests {
    //! Expected strings were taken from Alembic 1.20.1 through
    //! /work/shared/alembic-oracle/oracle.py on the same graph written as `.py` files:
    //! a1 (base, branch point) -> b2 (label `feature`), c3; d4 merges b2 and c3; e5 is a second
    //! base (label `other`) and f6 follows it, depending on b2; g7 is a base whose only
    //! successor h8 merely depends on it (an "effective head").
    use super::*;

    /// One `history` line on its own.
    fn history_item(entry: &Entry, verbose: bool) -> String {
        let mut text = String::new();
        push_history_item(&mut text, entry, verbose);
        text
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    struct Fixture {
        none: Vec<String>,
        a1: Vec<String>,
        b2c3: Vec<String>,
        e5: Vec<String>,
        b2: Vec<String>,
        path: std::path::PathBuf,
    }

    fn fixture() -> Fixture {
        Fixture {
            none: vec![],
            a1: ids(&["a1a1a1a1a1a1"]),
            b2c3: ids(&["b2b2b2b2b2b2", "c3c3c3c3c3c3"]),
            e5: ids(&["e5e5e5e5e5e5"]),
            b2: ids(&["b2b2b2b2b2b2"]),
            path: "/srv/app/migrations/versions/x.py".into(),
        }
    }

    const A1_DOC: &str = "create tenants\n\nPurpose: a longer explanation\nover two lines.\n\nRevision ID: a1a1a1a1a1a1\nRevises: None\nCreate Date: 2026-11-25 07:30:00.123456\n\n";

    fn a1(f: &Fixture) -> Entry<'_> {
        Entry {
            id: "a1a1a1a1a1a1",
            down_revisions: &f.none,
            depends_on: &f.none,
            branch_labels: vec![],
            longdoc: A1_DOC,
            path: &f.path,
            children: vec!["b2b2b2b2b2b2", "c3c3c3c3c3c3"],
            has_dependents: false,
            current: false,
        }
    }

    fn b2(f: &Fixture) -> Entry<'_> {
        Entry {
            id: "b2b2b2b2b2b2",
            down_revisions: &f.a1,
            depends_on: &f.none,
            branch_labels: vec!["feature"],
            longdoc: "add feature\n\nRevision ID: b2b2b2b2b2b2\n",
            path: &f.path,
            children: vec!["d4d4d4d4d4d4"],
            has_dependents: true,
            current: false,
        }
    }

    fn c3(f: &Fixture) -> Entry<'_> {
        Entry {
            id: "c3c3c3c3c3c3",
            down_revisions: &f.a1,
            depends_on: &f.none,
            branch_labels: vec![],
            longdoc: "add column",
            path: &f.path,
            children: vec!["d4d4d4d4d4d4"],
            has_dependents: false,
            current: false,
        }
    }

    fn d4(f: &Fixture) -> Entry<'_> {
        Entry {
            id: "d4d4d4d4d4d4",
            down_revisions: &f.b2c3,
            depends_on: &f.none,
            branch_labels: vec!["feature"],
            longdoc: "merge heads\n\nRevision ID: d4d4d4d4d4d4\nRevises: (\"b2b2b2b2b2b2\", \"c3c3c3c3c3c3\")\nCreate Date: 2026-11-25 07:30:00.123456\n\n",
            path: &f.path,
            children: vec![],
            has_dependents: false,
            current: false,
        }
    }

    fn f6(f: &Fixture) -> Entry<'_> {
        Entry {
            id: "f6f6f6f6f6f6",
            down_revisions: &f.e5,
            depends_on: &f.b2,
            branch_labels: vec!["other"],
            longdoc: "depends on feature",
            path: &f.path,
            children: vec![],
            has_dependents: false,
            current: false,
        }
    }

    #[test]
    fn history_lines_match_alembic() {
        let f = fixture();
        assert_eq!(
            history_item(&d4(&f), false),
            "b2b2b2b2b2b2, c3c3c3c3c3c3 -> d4d4d4d4d4d4 (feature) (head) (mergepoint), merge heads"
        );
        assert_eq!(
            history_item(&f6(&f), false),
            "e5e5e5e5e5e5 (b2b2b2b2b2b2) -> f6f6f6f6f6f6 (other) (head), depends on feature"
        );
        assert_eq!(
            history_item(&b2(&f), false),
            "a1a1a1a1a1a1 -> b2b2b2b2b2b2 (feature), add feature"
        );
        assert_eq!(
            history_item(&a1(&f), false),
            "<base> -> a1a1a1a1a1a1 (branchpoint), create tenants"
        );
    }

    #[test]
    fn verbose_entries_match_alembic() {
        let f = fixture();
        assert_eq!(
            log_entry(&a1(&f)),
            "Rev: a1a1a1a1a1a1 (branchpoint)\n\
             Parent: <base>\n\
             Branches into: b2b2b2b2b2b2, c3c3c3c3c3c3\n\
             Path: /srv/app/migrations/versions/x.py\n\
             \n    create tenants\n    \n    Purpose: a longer explanation\n    over two lines.\n    \n    \
             Revision ID: a1a1a1a1a1a1\n    Revises: None\n    Create Date: 2026-11-25 07:30:00.123456\n"
        );
        assert_eq!(
            log_entry(&d4(&f)),
            "Rev: d4d4d4d4d4d4 (head) (mergepoint)\n\
             Merges: b2b2b2b2b2b2, c3c3c3c3c3c3\n\
             Branch names: feature\n\
             Path: /srv/app/migrations/versions/x.py\n\
             \n    merge heads\n    \n    Revision ID: d4d4d4d4d4d4\n    Revises: (\"b2b2b2b2b2b2\", \"c3c3c3c3c3c3\")\n    \
             Create Date: 2026-11-25 07:30:00.123456\n"
        );
        assert_eq!(
            show_item(&f6(&f)),
            "Rev: f6f6f6f6f6f6 (head)\nParent: e5e5e5e5e5e5\nAlso depends on: b2b2b2b2b2b2\n\
             Branch names: other\nPath: /srv/app/migrations/versions/x.py\n\n    depends on feature\n"
        );
    }

    #[test]
    fn heads_lines_match_alembic() {
        let f = fixture();
        assert_eq!(heads_item(&d4(&f), false), "d4d4d4d4d4d4 (feature) (head)");
        assert_eq!(heads_item(&f6(&f), false), "f6f6f6f6f6f6 (other) (head)");
    }

    #[test]
    fn branches_block_matches_alembic() {
        let f = fixture();
        let children = [b2(&f), c3(&f)];
        assert_eq!(
            branches_item(&a1(&f), &children, false),
            "a1a1a1a1a1a1 (branchpoint)\n             -> b2b2b2b2b2b2 (feature)\n             -> c3c3c3c3c3c3\n"
        );
        let verbose = branches_item(&a1(&f), &children, true);
        assert!(verbose.starts_with("Rev: a1a1a1a1a1a1 (branchpoint)\nParent: <base>\n"));
        assert!(verbose.ends_with(
            "Create Date: 2026-11-25 07:30:00.123456\n\n             -> b2b2b2b2b2b2 (feature), add feature\n             -> c3c3c3c3c3c3, add column\n"
        ));
    }

    #[test]
    fn effective_head_and_current_indicators() {
        let f = fixture();
        // g7 has no child through down_revision but h8 depends on it.
        let g7 = Entry {
            id: "g7g7g7g7g7g7",
            down_revisions: &f.none,
            depends_on: &f.none,
            branch_labels: vec![],
            longdoc: "g7",
            path: &f.path,
            children: vec![],
            has_dependents: true,
            current: true,
        };
        assert_eq!(
            history_item(&g7, false),
            "<base> -> g7g7g7g7g7g7 (effective head) (current), g7"
        );
        assert_eq!(
            current_item(&g7, false),
            "g7g7g7g7g7g7 (effective head) (current)"
        );
        assert!(log_entry(&g7).starts_with("Rev: g7g7g7g7g7g7 (head) (current)\n"));
    }

    #[test]
    fn current_lines_leave_out_branch_labels() {
        let f = fixture();
        assert_eq!(
            current_item(&d4(&f), false),
            "d4d4d4d4d4d4 (head) (mergepoint)"
        );
        assert_eq!(current_item(&c3(&f), false), "c3c3c3c3c3c3");
        assert_eq!(
            current_header("postgresql://u:***@h/db"),
            "Current revision(s) for postgresql://u:***@h/db:"
        );
    }
}
