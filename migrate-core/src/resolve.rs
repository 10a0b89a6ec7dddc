//! Identifier resolution: `head`, `heads`, `base`, full and partial ids, labels, `label@head`,
//! `label@base`, relative steps (`+N`, `-N`, `rev+N`, `label@+N`) and walks, as Alembic 1.20
//! resolves them.
//!
//! Functions here return [`RevErr`], the four kinds of failure Alembic distinguishes; the
//! public entry points turn them into [`crate::Error`] with Alembic's wording for the command
//! at hand (see [`RevErr::into_error_with`]).

use crate::error::Error;
use crate::graph::{Node, RevisionMap};

/// A failure while resolving or walking, before it is worded for a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RevErr {
    /// An identifier is empty or blank.
    Empty { argument: String },
    /// An identifier names nothing (Alembic's `ResolutionError`).
    Unknown { argument: String, message: String },
    /// A prefix names several revisions.
    Ambiguous {
        argument: String,
        candidates: Vec<String>,
    },
    /// A `label@` names no branch.
    NoBranch { label: String },
    /// An identifier that could name a label Python computes.
    Computed { argument: String },
    /// A revision asked for within a branch it is not on.
    NotInBranch {
        argument: String,
        revision: String,
        branch: String,
    },
    /// A `head`-like identifier matched several heads.
    MultipleHeads {
        heads: Vec<String>,
        argument: String,
    },
    /// The lower end of a walk is not an ancestor of the upper end.
    RangeNotAncestor { lower: String, upper: String },
    /// A relative step walks off the history (worded as Alembic words it).
    Relative { argument: String, message: String },
    /// A walk that cannot choose between several revisions.
    AmbiguousWalk(String),
    /// Any other impossible walk, worded as Alembic words it.
    Revision(String),
}

/// How a command words the failures of [`RevErr`] (Alembic's `_catch_revision_errors`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Wording<'a> {
    pub ancestor: Option<&'a str>,
    pub multiple_heads: Option<&'a str>,
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
}

/// A target given by a user: refuse an empty or blank one (an unset shell variable) before it
/// can mean `base`.
pub(crate) fn check_target(argument: &str, what: &'static str) -> Result<(), Error> {
    let after_label = argument.split_once('@').map_or(argument, |(_, rest)| rest);
    if argument.trim().is_empty() || after_label.trim().is_empty() {
        return Err(Error::EmptyTarget {
            argument: argument.to_string(),
            what,
        });
    }
    Ok(())
}

impl RevErr {
    pub(crate) fn revision(message: impl Into<String>) -> Self {
        RevErr::Revision(message.into())
    }

    /// Word the failure as Alembic's command-level error, with a hint where Alembic has none.
    /// `map` supplies the near misses for unknown identifiers.
    pub(crate) fn into_error_with(self, wording: &Wording<'_>, map: Option<&RevisionMap>) -> Error {
        match self {
            RevErr::Empty { argument } => Error::EmptyTarget {
                argument,
                what: "target",
            },
            RevErr::RangeNotAncestor { lower, upper } => {
                let start = wording.start.map(str::to_string).unwrap_or(lower);
                let end = wording.end.map(str::to_string).unwrap_or(upper);
                let template = wording.ancestor.unwrap_or(
                    "Requested range %(start)s:%(end)s does not refer to ancestor/descendant revisions along the same branch",
                );
                Error::NotReachable {
                    message: template
                        .replace("%(start)s", &start)
                        .replace("%(end)s", &end),
                }
            }
            RevErr::MultipleHeads { heads, argument } => {
                let arg = wording.end.map(str::to_string).unwrap_or(argument);
                let template = wording.multiple_heads.unwrap_or(
                    "Multiple head revisions are present for given argument '%(head_arg)s'; please specify a specific target revision, '<branchname>@%(head_arg)s' to narrow to a specific head, or 'heads' for all heads",
                );
                Error::MultipleHeads {
                    message: template.replace("%(head_arg)s", &arg),
                    argument: arg,
                    heads,
                }
            }
            RevErr::Unknown { argument, message } => Error::UnknownRevision {
                suggestions: map.map(|m| m.near_misses(&argument)).unwrap_or_default(),
                argument,
                message,
            },
            RevErr::Ambiguous {
                argument,
                candidates,
            } => Error::AmbiguousRevision {
                argument,
                candidates,
            },
            RevErr::Computed { argument } => Error::ComputedLabel {
                argument,
                labelled: map.map(|m| m.computed_label_sources()).unwrap_or_default(),
            },
            RevErr::NoBranch { label } => {
                let known = map.map(|m| m.label_names()).unwrap_or_default();
                let suggestions = crate::suggest::closest(&label, known.iter().map(String::as_str));
                Error::UnknownBranch {
                    label,
                    known,
                    suggestions,
                }
            }
            RevErr::NotInBranch {
                argument,
                revision,
                branch,
            } => Error::NotInBranch {
                argument,
                revision,
                branch,
            },
            RevErr::Relative { argument, message } => {
                Error::RelativeOutOfRange { argument, message }
            }
            RevErr::AmbiguousWalk(message) => Error::AmbiguousTarget { message },
            RevErr::Revision(message) => Error::NotReachable { message },
        }
    }
}

pub(crate) type RResult<T> = Result<T, RevErr>;

/// A position of a walk: nothing yet (before the bases / above the heads), the symbolic base,
/// or a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pos {
    Nothing,
    Base,
    Rev(Node),
}

/// A parsed relative identifier: `[label@][symbol](+|-)N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relative<'a> {
    pub label: Option<&'a str>,
    pub symbol: Option<&'a str>,
    pub digits: &'a str,
    pub steps: i64,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Match Alembic's `(?:(.+?)@)?(\w+)?((?:\+|-)\d+)` at the start of `s` (trailing text is
/// ignored, as `re.match` does).
pub(crate) fn parse_relative(s: &str) -> Option<Relative<'_>> {
    fn rest(s: &str) -> Option<(Option<&str>, &str, i64)> {
        let word_end = s.find(|c: char| !is_word(c)).unwrap_or(s.len());
        let symbol = if word_end > 0 {
            Some(&s[..word_end])
        } else {
            None
        };
        let after = &s[word_end..];
        let sign = after.chars().next()?;
        if sign != '+' && sign != '-' {
            return None;
        }
        let digits_len = after[1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len() - 1);
        if digits_len == 0 {
            return None;
        }
        let text = &after[..1 + digits_len];
        let steps: i64 = text.parse().ok()?;
        Some((symbol, text, steps))
    }
    for (at, _) in s.match_indices('@') {
        if at == 0 {
            continue;
        }
        if let Some((symbol, digits, steps)) = rest(&s[at + 1..]) {
            return Some(Relative {
                label: Some(&s[..at]),
                symbol,
                digits,
                steps,
            });
        }
    }
    rest(s).map(|(symbol, digits, steps)| Relative {
        label: None,
        symbol,
        digits,
        steps,
    })
}

/// Python's `int()` on an identifier, for `-N` style ids.
fn python_int(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() || t.contains("__") || t.ends_with('_') || t.starts_with('_') {
        return None;
    }
    t.replace('_', "").parse().ok()
}

impl RevisionMap {
    /// Every declared branch label, sorted.
    pub(crate) fn label_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.labels.keys().cloned().collect();
        names.sort();
        names
    }

    /// The revisions declaring labels Python computes, each as `id (expression, ...; file)`.
    pub(crate) fn computed_label_sources(&self) -> Vec<String> {
        self.computing
            .iter()
            .map(|&n| crate::graph::computed_source(&self.revs[n]))
            .collect()
    }

    /// The revision ids, labels and keywords closest to a mistyped identifier.
    pub(crate) fn near_misses(&self, argument: &str) -> Vec<String> {
        let word = argument.rsplit_once('@').map_or(argument, |(_, rest)| rest);
        let keywords = ["head", "heads", "base"];
        crate::suggest::closest(
            word,
            keywords
                .into_iter()
                .chain(self.revs.iter().map(|r| r.id.as_str()))
                .chain(self.labels.keys().map(String::as_str)),
        )
    }

    /// Alembic's `_resolve_revision_number`: split off a label and expand `head`, `heads`,
    /// `base`.
    pub(crate) fn resolve_number<'a>(
        &self,
        id: &'a str,
    ) -> RResult<(Vec<String>, Option<&'a str>)> {
        let (label, id) = match id.split_once('@') {
            Some((l, rest)) => (Some(l), rest),
            None => (None, id),
        };
        if id.trim().is_empty() && label.is_some() {
            return Err(RevErr::Empty {
                argument: format!("{}@{id}", label.unwrap_or_default()),
            });
        }
        if let Some(l) = label.filter(|l| !l.is_empty()) {
            // Alembic lets an unknown label through to `label@base`, which then means "every
            // branch": a typo would downgrade everything.
            self.resolve_branch(l)?;
        }
        match id {
            "heads" => match label {
                Some(l) => Ok((
                    self.filter_for_lineage(&self.heads, l, false)?
                        .into_iter()
                        .map(|n| self.id(n).to_string())
                        .collect(),
                    label,
                )),
                None => Ok((
                    self.real_heads
                        .iter()
                        .map(|&n| self.id(n).to_string())
                        .collect(),
                    label,
                )),
            },
            "head" => Ok((
                self.current_head(label)?
                    .map(|n| vec![self.id(n).to_string()])
                    .unwrap_or_default(),
                label,
            )),
            "base" | "" => Ok((Vec::new(), label)),
            other => Ok((vec![other.to_string()], label)),
        }
    }

    /// The single head (of a branch), or `MultipleHeads`.
    pub(crate) fn current_head(&self, label: Option<&str>) -> RResult<Option<Node>> {
        let heads = match label {
            Some(l) => self.filter_for_lineage(&self.heads, l, false)?,
            None => self.heads.clone(),
        };
        if heads.len() > 1 {
            return Err(RevErr::MultipleHeads {
                heads: heads.iter().map(|&n| self.id(n).to_string()).collect(),
                argument: match label {
                    Some(l) => format!("{l}@head"),
                    None => "head".to_string(),
                },
            });
        }
        Ok(heads.first().copied())
    }

    /// Keep the `targets` that share lineage with `check_against` (an identifier).
    pub(crate) fn filter_for_lineage(
        &self,
        targets: &[Node],
        check_against: &str,
        with_deps: bool,
    ) -> RResult<Vec<Node>> {
        let (ids, label) = self.resolve_number(check_against)?;
        let mut shares: Vec<Node> = Vec::new();
        if let Some(l) = label {
            if let Some(n) = self.revision_for_ident(Some(l), None)? {
                shares.push(n);
            }
        }
        for id in &ids {
            if let Some(n) = self.revision_for_ident(Some(id), None)? {
                shares.push(n);
            }
        }
        if shares.is_empty() {
            return Ok(targets.to_vec());
        }
        Ok(targets
            .iter()
            .copied()
            .filter(|&t| self.shares_lineage(t, &shares, with_deps))
            .collect())
    }

    /// True when `target` is an ancestor or descendant of (or is) one of `against`.
    pub(crate) fn shares_lineage(&self, target: Node, against: &[Node], with_deps: bool) -> bool {
        if against.is_empty() {
            return true;
        }
        let down = self.descendants(&[target], with_deps);
        let up = self.ancestors(&[target], with_deps);
        against.iter().any(|&a| down[a] || up[a])
    }

    /// A branch label (or, failing that, a revision identifier) to its revision.
    pub(crate) fn resolve_branch(&self, label: &str) -> RResult<Node> {
        if let Some(n) = self.node(label).or_else(|| self.labels.get(label).copied()) {
            return Ok(n);
        }
        match self.revision_for_ident(Some(label), None) {
            Ok(Some(n)) => Ok(n),
            Ok(None) | Err(RevErr::Unknown { .. }) | Err(RevErr::Ambiguous { .. }) => {
                Err(RevErr::NoBranch {
                    label: label.to_string(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Alembic's `_revision_for_ident`: exact id, label, or unique prefix of at least four
    /// characters; optionally checked to belong to a branch. `None` in, `None` out (base).
    pub(crate) fn revision_for_ident(
        &self,
        id: Option<&str>,
        check_branch: Option<&str>,
    ) -> RResult<Option<Node>> {
        let branch_rev = match check_branch {
            Some(b) if !b.is_empty() => Some(self.resolve_branch(b)?),
            _ => None,
        };
        let Some(id) = id else { return Ok(None) };
        let found = match self.node(id).or_else(|| self.labels.get(id).copied()) {
            Some(n) => n,
            // Alembic would look `id` up among every label first, then among prefixes of ids
            // and labels: a label only Python knows could be it.
            None if !self.computing.is_empty() => {
                return Err(RevErr::Computed {
                    argument: id.to_string(),
                })
            }
            None => {
                let mut keys: Vec<(&str, Node)> = self
                    .revs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.id.len() > 3 && r.id.starts_with(id))
                    .map(|(i, r)| (r.id.as_str(), i))
                    .collect();
                let mut label_keys: Vec<(&str, Node)> = self
                    .labels
                    .iter()
                    .filter(|(l, _)| l.len() > 3 && l.starts_with(id))
                    .map(|(l, &n)| (l.as_str(), n))
                    .collect();
                label_keys.sort();
                keys.extend(label_keys);
                if let (Some(b), Some(label)) = (branch_rev, check_branch) {
                    let _ = label;
                    keys.retain(|&(_, n)| self.shares_lineage(n, &[b], false));
                }
                match keys.len() {
                    0 => {
                        return Err(RevErr::Unknown {
                            message: format!(
                                "No such revision or branch '{}'{}",
                                id,
                                if id.chars().count() < 4 {
                                    "; please ensure at least four characters are present for partial revision identifier matches"
                                } else {
                                    ""
                                }
                            ),
                            argument: id.to_string(),
                        })
                    }
                    1 => keys[0].1,
                    _ => {
                        return Err(RevErr::Ambiguous {
                            argument: id.to_string(),
                            candidates: keys.iter().map(|(k, _)| k.to_string()).collect(),
                        });
                    }
                }
            }
        };
        if let (Some(b), Some(label)) = (branch_rev, check_branch) {
            if !self.shares_lineage(found, &[b], false) {
                return Err(RevErr::NotInBranch {
                    argument: id.to_string(),
                    revision: self.id(found).to_string(),
                    branch: label.to_string(),
                });
            }
        }
        Ok(Some(found))
    }

    /// Alembic's `get_revisions` for one identifier: several for `heads`, none for `base`.
    pub(crate) fn get_revisions(&self, id: &str) -> RResult<Vec<Pos>> {
        let (ids, label) = self.resolve_number(id)?;
        if ids.len() == 1 {
            if let Some(n) = python_int(&ids[0]) {
                if n < 0 {
                    let mut heads: Vec<Node> = self.real_heads.clone();
                    if let Some(l) = label {
                        heads.retain(|&h| self.branch_labels[h].contains(l));
                    }
                    let mut out = Vec::new();
                    for h in heads {
                        out.push(
                            self.walk(Pos::Rev(h), n, None, true)?
                                .unwrap_or(Pos::Nothing),
                        );
                    }
                    return Ok(out);
                }
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for rid in &ids {
            out.push(match self.revision_for_ident(Some(rid), label)? {
                Some(n) => Pos::Rev(n),
                None => Pos::Base,
            });
        }
        Ok(out)
    }

    /// Like [`RevisionMap::get_revisions`] on a list of exact ids (the version table's rows).
    pub(crate) fn get_revisions_of(&self, ids: &[String]) -> RResult<Vec<Node>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(n) = self.revision_for_ident(Some(id), None)? {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Alembic's `get_revision`: at most one revision, `MultipleHeads` otherwise.
    pub(crate) fn get_revision(&self, id: &str) -> RResult<Option<Node>> {
        let (ids, label) = self.resolve_number(id)?;
        if ids.len() > 1 {
            return Err(RevErr::MultipleHeads {
                heads: ids,
                argument: id.to_string(),
            });
        }
        self.revision_for_ident(ids.first().map(String::as_str), label)
    }

    /// Walk `steps` up (positive) or down (negative) from `start`. `None` means the walk left
    /// the tree (when `no_overwalk`); otherwise the walk stops where it is.
    pub(crate) fn walk(
        &self,
        start: Pos,
        steps: i64,
        label: Option<&str>,
        no_overwalk: bool,
    ) -> RResult<Option<Pos>> {
        let mut at = start;
        for _ in 0..steps.unsigned_abs() {
            let children: Vec<Pos> = if steps > 0 {
                let up: Vec<Node> = match at {
                    Pos::Nothing => self.bases.clone(),
                    Pos::Rev(n) => self.next[n].clone(),
                    Pos::Base => Vec::new(),
                };
                let up = match label {
                    Some(l) => self.filter_for_lineage(&up, l, false)?,
                    None => up,
                };
                up.into_iter().map(Pos::Rev).collect()
            } else {
                match at {
                    Pos::Base => Vec::new(),
                    Pos::Nothing => self.heads.iter().map(|&h| Pos::Rev(h)).collect(),
                    Pos::Rev(n) => {
                        if self.down[n].is_empty() {
                            vec![Pos::Base]
                        } else {
                            self.down[n].iter().map(|&d| Pos::Rev(d)).collect()
                        }
                    }
                }
            };
            match children.len() {
                0 => return Ok(if no_overwalk { None } else { Some(at) }),
                1 => at = children[0],
                _ => return Err(RevErr::AmbiguousWalk("Ambiguous walk".to_string())),
            }
        }
        Ok(Some(at))
    }

    fn pos_of(&self, n: Option<Node>) -> Pos {
        n.map(Pos::Rev).unwrap_or(Pos::Base)
    }

    /// Alembic's `_parse_downgrade_target`: the branch label of the target and the target
    /// itself (`Pos::Base` for base).
    pub(crate) fn parse_downgrade_target(
        &self,
        current: &[String],
        target: &str,
        assert_relative_length: bool,
    ) -> RResult<(Option<String>, Pos)> {
        if let Some(rel) = parse_relative(target) {
            let didnt = || RevErr::Relative {
                argument: target.to_string(),
                message: format!(
                    "Relative revision {} didn't produce {} migrations",
                    rel.digits,
                    rel.steps.abs()
                ),
            };
            if rel.steps >= 0 {
                let Some(symbol) = rel.symbol else {
                    return Err(didnt());
                };
                let start = self.pos_of(self.get_revision(symbol)?);
                return match self.walk(start, rel.steps, rel.label, assert_relative_length)? {
                    Some(p) => Ok((rel.label.map(str::to_string), p)),
                    None => Err(RevErr::Relative {
                        argument: target.to_string(),
                        message: "Walked too far".to_string(),
                    }),
                };
            }
            let relative_to_current = rel.symbol.is_none();
            let mut label = rel.label.map(str::to_string);
            let symbol: String = match rel.symbol {
                Some(s) => s.to_string(),
                None => {
                    if let Some(l) = rel.label {
                        let cur = self.get_revisions_of(current)?;
                        let mut on_branch = self.filter_for_lineage(&cur, l, false)?;
                        if on_branch.is_empty() {
                            let all = self.all_current(current)?;
                            on_branch = self.filter_for_lineage(&all, l, false)?;
                        }
                        if on_branch.len() != 1 {
                            return Err(RevErr::AmbiguousWalk(format!(
                                "Ambiguous relative downgrade on branch '{l}': {} current revisions",
                                on_branch.len()
                            )));
                        }
                        self.id(on_branch[0]).to_string()
                    } else {
                        let Some(first) = current.first() else {
                            return Err(didnt());
                        };
                        let distinct: std::collections::BTreeSet<&String> =
                            current.iter().collect();
                        if distinct.len() > 1 {
                            // Alembic warns and walks from whichever row the database returned
                            // first, which can leave a version table that contradicts the graph.
                            return Err(RevErr::AmbiguousWalk(format!(
                                "downgrade {} from multiple heads is ambiguous (current heads: {}); name the branch, as in `<branch>@{}`, or the target revision",
                                rel.digits,
                                current.join(", "),
                                rel.digits
                            )));
                        }
                        label = Some(first.clone());
                        first.clone()
                    }
                }
            };
            let start_ident = match &label {
                None => symbol.clone(),
                Some(l) => format!("{l}@{symbol}"),
            };
            let start = self.pos_of(self.get_revision(&start_ident)?);
            return match self.walk(start, rel.steps, None, assert_relative_length)? {
                Some(p) => Ok((label, p)),
                None if relative_to_current => Err(didnt()),
                None => Err(RevErr::Relative {
                    argument: target.to_string(),
                    message: "Walked too far".to_string(),
                }),
            };
        }
        let (label, symbol) = match target.rsplit_once('@') {
            Some((l, s)) if !l.is_empty() => (Some(l.to_string()), s),
            Some((_, s)) => (None, s),
            None => (None, target),
        };
        if let Some(l) = &label {
            // `nosuch@base` would otherwise downgrade every branch to base.
            self.resolve_branch(l)?;
        }
        Ok((label, self.pos_of(self.get_revision(symbol)?)))
    }

    /// Alembic's `_get_all_current`: the branch heads among the given rows and their
    /// ancestors.
    pub(crate) fn all_current(&self, ids: &[String]) -> RResult<Vec<Node>> {
        let tops = self.get_revisions_of(ids)?;
        let all = self.ancestors(&tops, true);
        let members: Vec<Node> = (0..self.revs.len()).filter(|&i| all[i]).collect();
        Ok(self.filter_into_branch_heads(&members))
    }

    /// Drop every member that has a descendant (through `down_revision`) among the members.
    ///
    /// `members` is closed under ancestry (it is what `all_current` builds), so a member has a
    /// descendant among them exactly when one of its children is a member: linear, not
    /// quadratic, in the size of the history.
    pub(crate) fn filter_into_branch_heads(&self, members: &[Node]) -> Vec<Node> {
        let mut is_member = vec![false; self.revs.len()];
        for &m in members {
            is_member[m] = true;
        }
        members
            .iter()
            .copied()
            .filter(|&m| !self.next[m].iter().any(|&c| is_member[c]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_forms_match_alembics_regex() {
        let r = parse_relative("+2").unwrap();
        assert_eq!((r.label, r.symbol, r.steps), (None, None, 2));
        let r = parse_relative("ae10-1").unwrap();
        assert_eq!((r.label, r.symbol, r.steps), (None, Some("ae10"), -1));
        let r = parse_relative("mybranch@+3").unwrap();
        assert_eq!((r.label, r.symbol, r.steps), (Some("mybranch"), None, 3));
        let r = parse_relative("mybranch@ae10+1").unwrap();
        assert_eq!(
            (r.label, r.symbol, r.digits),
            (Some("mybranch"), Some("ae10"), "+1")
        );
        assert!(parse_relative("head").is_none());
        assert!(parse_relative("ae1027a6acf").is_none());
        assert!(parse_relative("branch@head").is_none());
    }
}
