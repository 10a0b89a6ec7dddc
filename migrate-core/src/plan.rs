//! The planner: from the version table's rows and a target, the ordered steps of an upgrade,
//! downgrade or stamp, each with the exact version-table change it implies (Alembic 1.20's
//! `_collect_upgrade_revisions`, `_collect_downgrade_revisions`, `_topological_sort`,
//! `_stamp_revs` and `HeadMaintainer`).

use crate::error::{Error, Result};
use crate::graph::{Node, RevisionMap};
use crate::resolve::{check_target, parse_relative, Pos, RResult, RevErr, Wording};

/// Which way a step moves. Shown (and serialized) as `upgrade` / `downgrade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Direction {
    /// Runs the revision's upgrade.
    #[serde(rename = "upgrade")]
    Up,
    /// Runs the revision's downgrade.
    #[serde(rename = "downgrade")]
    Down,
}

impl Direction {
    /// `upgrade` or `downgrade`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One change to the version table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionChange {
    /// `INSERT` a new head.
    Insert(String),
    /// `UPDATE` one head to another.
    Update {
        /// The row that is replaced.
        from: String,
        /// Its new value.
        to: String,
    },
    /// `DELETE` a head.
    Delete(String),
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision whose SQL runs; `None` for a stamp, which runs no SQL.
    pub revision: Option<String>,
    /// Up or down.
    pub direction: Direction,
    /// Version-table rows this step moves from (for display: `a, b -> c`).
    pub from: Vec<String>,
    /// Version-table rows this step moves to.
    pub to: Vec<String>,
    /// The exact changes to the version table, in order.
    pub changes: Vec<VersionChange>,
}

/// An ordered list of steps and the version table's rows after each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// The rows of the version table before the first step.
    pub start: Vec<String>,
    /// The rows of the version table after the last step.
    pub end: Vec<String>,
}

/// A range end that may be one identifier or an explicit list of revision ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spec {
    Ident(String),
    Ids(Vec<String>),
}

impl Spec {
    fn text(&self) -> String {
        match self {
            Spec::Ident(s) => s.clone(),
            Spec::Ids(ids) => ids.join(","),
        }
    }
}

/// The version table as the steps change it (Alembic's `HeadMaintainer`).
struct Heads {
    rows: Vec<String>,
}

impl Heads {
    fn contains(&self, id: &str) -> bool {
        self.rows.iter().any(|r| r == id)
    }
    fn insert(&mut self, id: &str, out: &mut Vec<VersionChange>) -> Result<()> {
        if self.contains(id) {
            return Err(Error::VersionTableMismatch {
                revision: id.to_string(),
                present: true,
            });
        }
        self.rows.push(id.to_string());
        out.push(VersionChange::Insert(id.to_string()));
        Ok(())
    }
    fn delete(&mut self, id: &str, out: &mut Vec<VersionChange>) -> Result<()> {
        let Some(at) = self.rows.iter().position(|r| r == id) else {
            return Err(Error::VersionTableMismatch {
                revision: id.to_string(),
                present: false,
            });
        };
        self.rows.remove(at);
        out.push(VersionChange::Delete(id.to_string()));
        Ok(())
    }
    fn update(&mut self, from: &str, to: &str, out: &mut Vec<VersionChange>) -> Result<()> {
        if self.contains(to) {
            return Err(Error::VersionTableMismatch {
                revision: to.to_string(),
                present: true,
            });
        }
        let Some(at) = self.rows.iter().position(|r| r == from) else {
            return Err(Error::VersionTableMismatch {
                revision: from.to_string(),
                present: false,
            });
        };
        self.rows[at] = to.to_string();
        out.push(VersionChange::Update {
            from: from.to_string(),
            to: to.to_string(),
        });
        Ok(())
    }
}

impl RevisionMap {
    fn ids(&self, nodes: &[Node]) -> Vec<String> {
        nodes.iter().map(|&n| self.id(n).to_string()).collect()
    }

    fn spec_revisions(&self, spec: &Spec) -> RResult<Vec<Pos>> {
        match spec {
            Spec::Ident(s) => self.get_revisions(s),
            Spec::Ids(ids) => Ok(self
                .get_revisions_of(ids)?
                .into_iter()
                .map(Pos::Rev)
                .collect()),
        }
    }

    fn current_ids(&self, spec: &Spec) -> RResult<Vec<String>> {
        match spec {
            Spec::Ids(ids) => Ok(ids.clone()),
            Spec::Ident(s) => Ok(self
                .get_revisions(s)?
                .into_iter()
                .filter_map(|p| match p {
                    Pos::Rev(n) => Some(self.id(n).to_string()),
                    _ => None,
                })
                .collect()),
        }
    }

    /// Alembic's `_parse_upgrade_target`.
    fn parse_upgrade_target(
        &self,
        current: &Spec,
        target: &Spec,
        assert_relative_length: bool,
    ) -> RResult<Vec<Pos>> {
        let rel = match target {
            Spec::Ident(t) => parse_relative(t),
            Spec::Ids(_) => None,
        };
        let Some(rel) = rel else {
            return self.spec_revisions(target);
        };
        let didnt = || RevErr::Relative {
            argument: target.text(),
            message: format!(
                "Relative revision {} didn't produce {} migrations",
                rel.digits,
                rel.steps.abs()
            ),
        };
        if rel.steps > 0 {
            if let Some(symbol) = rel.symbol {
                let start = self
                    .get_revision(symbol)?
                    .map(Pos::Rev)
                    .unwrap_or(Pos::Base);
                return match self.walk(start, rel.steps, rel.label, assert_relative_length)? {
                    Some(p) => Ok(vec![p]),
                    None => Err(didnt()),
                };
            }
            let current_ids = self.current_ids(current)?;
            let mut start: Vec<Pos> = if current_ids.is_empty() {
                vec![Pos::Nothing]
            } else {
                self.get_revisions_of(&current_ids)?
                    .into_iter()
                    .map(Pos::Rev)
                    .collect()
            };
            if let Some(label) = rel.label {
                let cur = self.get_revisions_of(&current_ids)?;
                let on_branch = self.filter_for_lineage(&cur, label, false)?;
                start = on_branch.into_iter().map(Pos::Rev).collect();
                if start.is_empty() {
                    let below = self.ancestors(&cur, true);
                    let members: Vec<Node> = (0..self.len()).filter(|&i| below[i]).collect();
                    let active = self.filter_for_lineage(&members, label, false)?;
                    let mut is_down = vec![false; self.len()];
                    for &a in &active {
                        for d in self.norm_down(a) {
                            is_down[d] = true;
                        }
                    }
                    start = active
                        .into_iter()
                        .filter(|&a| !is_down[a])
                        .map(Pos::Rev)
                        .collect();
                    if start.is_empty() {
                        start = vec![Pos::Nothing];
                    }
                }
            }
            if start.len() > 1 {
                return Err(RevErr::AmbiguousWalk(
                    "Ambiguous upgrade from multiple current revisions".to_string(),
                ));
            }
            return match self.walk(start[0], rel.steps, rel.label, assert_relative_length)? {
                Some(p) => Ok(vec![p]),
                None => Err(didnt()),
            };
        }
        let Some(symbol) = rel.symbol else {
            return Err(didnt());
        };
        let ident = match rel.label {
            Some(l) => format!("{l}@{symbol}"),
            None => symbol.to_string(),
        };
        let start = self
            .get_revision(&ident)?
            .map(Pos::Rev)
            .unwrap_or(Pos::Base);
        match self.walk(start, rel.steps, None, assert_relative_length)? {
            Some(p) => Ok(vec![p]),
            None => Err(didnt()),
        }
    }

    /// Alembic's `_collect_upgrade_revisions`: the revisions to run and the targets.
    fn collect_upgrade(
        &self,
        upper: &Spec,
        lower: &Spec,
        inclusive: bool,
        implicit_base: bool,
        assert_relative_length: bool,
    ) -> RResult<(Vec<bool>, Vec<Node>)> {
        let mut targets: Vec<Node> = Vec::new();
        for p in self.parse_upgrade_target(lower, upper, assert_relative_length)? {
            match p {
                Pos::Rev(n) => targets.push(n),
                Pos::Base | Pos::Nothing => {}
            }
        }
        if let Spec::Ident(l) = lower {
            if let Some((branch, _)) = l.split_once('@') {
                let mut branch = branch.to_string();
                if let Some(br) = self.get_revision(&branch)? {
                    if self.id(br) == branch {
                        if !self.computed_labels[br].is_empty() {
                            return Err(RevErr::Computed { argument: branch });
                        }
                        let labels = &self.branch_labels[br];
                        if labels.len() != 1 {
                            return Err(RevErr::revision(format!(
                                "revision {branch} used as a branch name must carry exactly one branch label"
                            )));
                        }
                        if let Some(only) = labels.iter().next() {
                            branch = only.clone();
                        }
                    }
                }
                targets.retain(|&t| self.branch_labels[t].contains(&branch));
            }
        }
        self.check_overlap(&targets, true, true)?;
        let required = self.ancestors(&targets, true);
        let current: Vec<Pos> = self.spec_revisions(lower)?;
        let mut current_nodes: Vec<Node> = current
            .iter()
            .filter_map(|p| match p {
                Pos::Rev(n) => Some(*n),
                _ => None,
            })
            .collect();
        let names_base = current.iter().any(|p| matches!(p, Pos::Base));
        if !implicit_base && (names_base || current_nodes.iter().any(|&c| !required[c])) {
            return Err(RevErr::RangeNotAncestor {
                lower: lower.text(),
                upper: upper.text(),
            });
        }
        let mut lower_for_inclusive = lower.clone();
        if matches!(current.first(), Some(Pos::Nothing)) {
            let ids = self.current_ids(upper)?;
            let (_, p) =
                self.parse_downgrade_target(&ids, &lower.text(), assert_relative_length)?;
            match p {
                Pos::Rev(n) => {
                    current_nodes = vec![n];
                    lower_for_inclusive = Spec::Ids(vec![self.id(n).to_string()]);
                }
                _ => {
                    current_nodes = Vec::new();
                    lower_for_inclusive = Spec::Ident("base".into());
                }
            }
        }
        self.check_overlap(&current_nodes, true, true)?;
        let current_set = self.ancestors(&current_nodes, true);
        let mut needs: Vec<bool> = (0..self.len())
            .map(|i| required[i] && !current_set[i])
            .collect();
        if inclusive {
            for p in self.spec_revisions(&lower_for_inclusive)? {
                if let Pos::Rev(n) = p {
                    needs[n] = true;
                }
            }
        }
        if !current_nodes.is_empty() && !implicit_base {
            self.check_overlap(&current_nodes, false, false)?;
            let below = self.descendants(&current_nodes, false);
            for (i, need) in needs.iter_mut().enumerate() {
                *need = *need && below[i];
            }
        }
        Ok((needs, targets))
    }

    /// Alembic's `_collect_downgrade_revisions`: the revisions to undo and the current heads.
    fn collect_downgrade(
        &self,
        current: &[String],
        target: &str,
        assert_relative_length: bool,
    ) -> RResult<(Vec<bool>, Vec<Node>)> {
        let (label, target_pos) =
            self.parse_downgrade_target(current, target, assert_relative_length)?;
        let target_node = match target_pos {
            Pos::Rev(n) => Some(n),
            _ => None,
        };
        let mut roots: Vec<Node> = match target_node {
            None => self.bases.clone(),
            Some(t) => self.next[t].clone(),
        };
        if let Some(l) = &label {
            if roots.len() > 1 {
                let b = self.resolve_branch(l)?;
                let anc = self.ancestors(&[b], false);
                roots.retain(|&r| anc[r]);
                if roots.is_empty() {
                    return Err(RevErr::revision(
                        "Not a valid downgrade target from current heads",
                    ));
                }
            }
        }
        let heads = self.get_revisions_of(current)?;
        let drop = self.descendants(&roots, true);
        let active = self.ancestors(&heads, true);
        let todo: Vec<bool> = (0..self.len()).map(|i| drop[i] && active[i]).collect();
        if let Some(t) = target_node {
            if !todo.iter().any(|&b| b) && !heads.contains(&t) {
                return Err(RevErr::RangeNotAncestor {
                    lower: "Nothing to drop".into(),
                    upper: current.join(","),
                });
            }
        }
        Ok((todo, heads))
    }

    /// Alembic's `_topological_sort`: revisions from the heads down, each branch walked as
    /// far as it can before another head that depends on it is taken up.
    ///
    /// Alembic keeps the full ancestor set of every current head and rebuilds one at each
    /// branch or merge, which is quadratic on branchy histories. Here a candidate is known to
    /// be free when none of its children in the walk is still pending (the same condition),
    /// and only a blocked candidate asks which head, in Alembic's order, stands above it,
    /// with a walk bounded by depth: the order is Alembic's, the cost linear in practice.
    fn topological_sort(&self, todo_set: &[bool], heads: &[Node]) -> Vec<Node> {
        let mut todo = todo_set.to_vec();
        let mut remaining = todo.iter().filter(|&&b| b).count();
        // Pending children in the walk, per revision.
        let mut pending = vec![0usize; self.len()];
        for c in (0..self.len()).filter(|&c| todo[c]) {
            for p in self.norm_down(c) {
                pending[p] += 1;
            }
        }
        let mut current: Vec<Node> = Vec::new();
        for &h in heads {
            if todo[h] && !current.contains(&h) {
                current.push(h);
            }
        }
        current.sort_unstable();
        let mut stamp = (vec![0u32; self.len()], 0u32);
        let mut out = Vec::with_capacity(remaining);
        let mut idx = 0usize;
        while !current.is_empty() {
            let candidate = current[idx];
            if pending[candidate] > 0 {
                let blocked_by = (0..current.len())
                    .find(|&i| i != idx && self.reaches(current[i], candidate, &mut stamp));
                if let Some(other) = blocked_by {
                    idx = other;
                    continue;
                }
            }
            if todo[candidate] {
                out.push(candidate);
                todo[candidate] = false;
                remaining -= 1;
                for p in self.norm_down(candidate) {
                    pending[p] = pending[p].saturating_sub(1);
                }
            }
            let to_add: Vec<Node> = self
                .norm_down(candidate)
                .into_iter()
                .filter(|&r| todo[r] && !current.contains(&r))
                .collect();
            match to_add.split_first() {
                None => {
                    current.remove(idx);
                    idx = idx.saturating_sub(1);
                }
                Some((&first, rest)) => {
                    current[idx] = first;
                    current.extend_from_slice(rest);
                }
            }
        }
        debug_assert_eq!(remaining, 0);
        out
    }

    fn upgrade_changes(&self, r: Node, heads: &mut Heads) -> Result<Vec<VersionChange>> {
        let mut out = Vec::new();
        let id = self.id(r);
        let downs: Vec<String> = self.ids(&self.norm_down(r));
        let present: Vec<&String> = downs.iter().filter(|d| heads.contains(d)).collect();
        if downs.is_empty() || present.is_empty() {
            heads.insert(id, &mut out)?;
        } else if downs.len() > 1 && present.len() > 1 {
            let others: Vec<String> = heads
                .rows
                .iter()
                .filter(|h| !downs.contains(h))
                .cloned()
                .collect();
            let from: Vec<String> = if others.is_empty() {
                downs
                    .iter()
                    .filter(|d| heads.contains(d))
                    .cloned()
                    .collect()
            } else {
                let other_nodes = self
                    .get_revisions_of(&others)
                    .map_err(|e| e.into_error_with(&Wording::default(), Some(self)))?;
                let anc = self.ancestors(&other_nodes, true);
                downs
                    .iter()
                    .filter(|d| self.node(d).is_some_and(|n| !anc[n]) && heads.contains(d))
                    .cloned()
                    .collect()
            };
            let Some((last, rest)) = from.split_last() else {
                return Err(Error::NotReachable {
                    message: format!("cannot merge into {id}: no parent is a head"),
                });
            };
            for d in rest {
                heads.delete(d, &mut out)?;
            }
            heads.update(last, id, &mut out)?;
        } else {
            let from = if downs.len() == 1 {
                downs[0].clone()
            } else {
                present[0].clone()
            };
            heads.update(&from, id, &mut out)?;
        }
        Ok(out)
    }

    /// The parents a downgrade of `r` leaves in the version table (Alembic's
    /// `_unmerge_to_revisions`).
    fn unmerge_to(&self, r: Node, heads: &Heads) -> Result<Vec<String>> {
        let downs = self.norm_down(r);
        let others: Vec<String> = heads
            .rows
            .iter()
            .filter(|h| h.as_str() != self.id(r))
            .cloned()
            .collect();
        if others.is_empty() && downs.len() == 1 {
            // A single parent is never its own ancestor: the common, linear case, in O(1).
            return Ok(vec![self.id(downs[0]).to_string()]);
        }
        let anc = if !others.is_empty() {
            let nodes = self
                .get_revisions_of(&others)
                .map_err(|e| e.into_error_with(&Wording::default(), Some(self)))?;
            self.ancestors(&nodes, true)
        } else {
            let mut anc = vec![false; self.len()];
            for &d in &downs {
                let a = self.ancestors(&[d], true);
                for (i, &is) in a.iter().enumerate() {
                    if is && i != d {
                        anc[i] = true;
                    }
                }
            }
            anc
        };
        // Deliberately stricter than Alembic: a parent that is itself below another parent
        // (a `depends_on` naming a descendant of `down_revision`) is not inserted, since the
        // version table would then hold a row below another row. Alembic 1.20 inserts it.
        let mut below_other_parent = vec![false; self.len()];
        if downs.len() > 1 {
            for &d in &downs {
                let a = self.ancestors(&[d], true);
                for (i, &is) in a.iter().enumerate() {
                    if is && i != d {
                        below_other_parent[i] = true;
                    }
                }
            }
        }
        Ok(downs
            .into_iter()
            .filter(|&d| !anc[d] && !below_other_parent[d])
            .map(|d| self.id(d).to_string())
            .collect())
    }

    fn downgrade_changes(&self, r: Node, heads: &mut Heads) -> Result<Vec<VersionChange>> {
        let mut out = Vec::new();
        let id = self.id(r).to_string();
        let downs = self.ids(&self.norm_down(r));
        if heads.contains(&id) && (downs.is_empty() || self.unmerge_to(r, heads)?.is_empty()) {
            heads.delete(&id, &mut out)?;
        } else if heads.contains(&id) && downs.len() > 1 {
            let to = self.unmerge_to(r, heads)?;
            if let Some((last, rest)) = to.split_last() {
                for ins in rest {
                    heads.insert(ins, &mut out)?;
                }
                heads.update(&id, last, &mut out)?;
            }
        } else {
            let to = if downs.len() == 1 {
                downs[0].clone()
            } else {
                match downs.iter().find(|d| heads.contains(d)) {
                    Some(d) => d.clone(),
                    None => {
                        return Err(Error::AmbiguousTarget {
                            message: format!(
                                "Can't do an UPDATE because downrevision is ambiguous ({id})"
                            ),
                        })
                    }
                }
            };
            heads.update(&id, &to, &mut out)?;
        }
        Ok(out)
    }

    /// Plan `upgrade TARGET` from the version table's `current` rows.
    ///
    /// ```
    /// # use migrate_core::{RevisionMap, Revision, Migration, ScriptFormat, VersionChange};
    /// # let rev = |id: &str, down: &[&str]| Revision { id: id.into(),
    /// #     down_revisions: down.iter().map(|s| s.to_string()).collect(), branch_labels: vec![], computed_branch_labels: vec![],
    /// #     depends_on: vec![], message: String::new(), doc: String::new(), path: id.into(),
    /// #     format: ScriptFormat::Sql, upgrade: Migration::Sql(vec![]),
    /// #     downgrade: Migration::Sql(vec![]) };
    /// let map = RevisionMap::new(vec![rev("aaaa", &[]), rev("bbbb", &["aaaa"])]).unwrap();
    /// let plan = map.plan_upgrade(&[], "head").unwrap();
    /// let ran: Vec<_> = plan.steps.iter().map(|s| s.revision.clone().unwrap()).collect();
    /// assert_eq!(ran, ["aaaa", "bbbb"]);
    /// assert_eq!(plan.steps[1].changes, [VersionChange::Update { from: "aaaa".into(), to: "bbbb".into() }]);
    /// assert_eq!(plan.end, ["bbbb"]);
    /// ```
    pub fn plan_upgrade(&self, current: &[String], target: &str) -> Result<Plan> {
        check_target(target, "target")?;
        let wording = Wording {
            ancestor: Some(
                "Destination %(end)s is not a valid upgrade target from current head(s)",
            ),
            end: Some(target),
            ..Wording::default()
        };
        refuse_range(target)?;
        let (needs, targets) = self
            .collect_upgrade(
                &Spec::Ident(target.to_string()),
                &Spec::Ids(current.to_vec()),
                false,
                true,
                true,
            )
            .map_err(|e| e.into_error_with(&wording, Some(self)))?;
        let mut order = self.topological_sort(&needs, &targets);
        order.reverse();
        self.steps_for(current, &order, Direction::Up)
    }

    /// Plan `downgrade TARGET` from the version table's `current` rows.
    pub fn plan_downgrade(&self, current: &[String], target: &str) -> Result<Plan> {
        check_target(target, "target")?;
        let wording = Wording {
            ancestor: Some(
                "Destination %(end)s is not a valid downgrade target from current head(s)",
            ),
            end: Some(target),
            ..Wording::default()
        };
        refuse_range(target)?;
        let (todo, heads) = self
            .collect_downgrade(current, target, true)
            .map_err(|e| e.into_error_with(&wording, Some(self)))?;
        let order = self.topological_sort(&todo, &heads);
        self.steps_for(current, &order, Direction::Down)
    }

    fn steps_for(&self, current: &[String], order: &[Node], direction: Direction) -> Result<Plan> {
        let mut heads = Heads {
            rows: current.to_vec(),
        };
        let mut steps = Vec::with_capacity(order.len());
        for &r in order {
            let changes = match direction {
                Direction::Up => self.upgrade_changes(r, &mut heads)?,
                Direction::Down => self.downgrade_changes(r, &mut heads)?,
            };
            let id = self.id(r).to_string();
            let downs = self.ids(&self.norm_down(r));
            let (from, to) = match direction {
                Direction::Up => (downs, vec![id.clone()]),
                Direction::Down => (vec![id.clone()], downs),
            };
            steps.push(Step {
                revision: Some(id),
                direction,
                from,
                to,
                changes,
            });
        }
        Ok(Plan {
            steps,
            start: current.to_vec(),
            end: heads.rows,
        })
    }

    /// Plan `stamp TARGETS` (`--purge` empties the table first, so `current` is ignored).
    pub fn plan_stamp(&self, current: &[String], targets: &[String], purge: bool) -> Result<Plan> {
        for target in targets {
            check_target(target, "target")?;
        }
        let wording = Wording {
            multiple_heads: Some(
                "Multiple heads are present; please specify a single target revision",
            ),
            ..Wording::default()
        };
        let current: Vec<String> = if purge { Vec::new() } else { current.to_vec() };
        let targets: Vec<String> = if targets.is_empty() {
            vec!["base".to_string()]
        } else {
            targets.to_vec()
        };
        let stamp = self
            .stamp_steps(&current, &targets)
            .map_err(|e| e.into_error_with(&wording, Some(self)))?;
        let mut heads = Heads {
            rows: current.clone(),
        };
        let mut steps = Vec::new();
        for (from, to, up, branch_move) in stamp {
            let mut out = Vec::new();
            if !up && branch_move {
                heads.delete(&from[0], &mut out)?;
            } else if up
                && (branch_move || from.iter().any(|f| !heads.contains(f)))
                && to.iter().any(|t| !heads.contains(t))
            {
                heads.insert(&to[0], &mut out)?;
            } else if from.len() > 1 {
                let (last, rest) = from
                    .split_last()
                    .ok_or_else(|| Error::Usage("empty stamp".into()))?;
                for d in rest {
                    heads.delete(d, &mut out)?;
                }
                heads.update(last, &to[0], &mut out)?;
            } else {
                heads.update(&from[0], &to[0], &mut out)?;
            }
            steps.push(Step {
                revision: None,
                direction: if up { Direction::Up } else { Direction::Down },
                from,
                to,
                changes: out,
            });
        }
        Ok(Plan {
            steps,
            start: current,
            end: heads.rows,
        })
    }

    /// Alembic's `_stamp_revs`: (from, to, is_upgrade, branch_move) per step.
    #[allow(clippy::type_complexity)]
    fn stamp_steps(
        &self,
        current: &[String],
        targets: &[String],
    ) -> RResult<Vec<(Vec<String>, Vec<String>, bool, bool)>> {
        let heads = self.get_revisions_of(current)?;
        let mut filtered: Vec<Node> = Vec::new();
        for t in targets {
            for h in self.filter_for_lineage(&heads, t, true)? {
                if !filtered.contains(&h) {
                    filtered.push(h);
                }
            }
        }
        let mut dests: Vec<Option<Node>> = Vec::new();
        for t in targets {
            for p in self.get_revisions(t)? {
                if let Pos::Rev(n) = p {
                    dests.push(Some(n));
                }
            }
        }
        if dests.is_empty() {
            dests.push(None);
        }
        let mut steps = Vec::new();
        for dest in dests {
            let Some(d) = dest else {
                for &h in &filtered {
                    steps.push((vec![self.id(h).to_string()], Vec::new(), false, true));
                }
                continue;
            };
            if filtered.contains(&d) {
                continue;
            }
            let below = self.descendants(&[d], true);
            let above = self.ancestors(&[d], true);
            let todo = self.ids(&filtered);
            let to = vec![self.id(d).to_string()];
            if filtered.iter().any(|&h| below[h]) {
                steps.push((todo, to, false, false));
            } else if filtered.iter().any(|&h| above[h]) {
                steps.push((todo, to, true, false));
            } else {
                steps.push((Vec::new(), to, true, true));
            }
        }
        Ok(steps)
    }

    /// The revisions `history -r START:END` lists, newest first, in Alembic's order.
    /// `current` stands in for the word `current` at either end.
    pub fn history(
        &self,
        range: Option<&str>,
        current: &[String],
    ) -> Result<Vec<&crate::Revision>> {
        let (base, head) = match range {
            None => (None, None),
            Some(r) => match r.trim().split_once(':') {
                Some((b, h)) if !h.contains(':') => {
                    for end in [b, h] {
                        if !end.is_empty() {
                            check_target(end, "range end")?;
                        }
                    }
                    (
                        Some(b).filter(|s| !s.is_empty()),
                        Some(h).filter(|s| !s.is_empty()),
                    )
                }
                _ => {
                    return Err(Error::Usage(
                        "History range requires [start]:[end], [start]:, or :[end]".into(),
                    ))
                }
            },
        };
        let resolve_end = |end: Option<&str>, default: &str| -> Spec {
            match end {
                Some("current") if !current.is_empty() => Spec::Ids(current.to_vec()),
                Some("current") | None => Spec::Ident(default.to_string()),
                Some(s) => Spec::Ident(s.to_string()),
            }
        };
        let lower = resolve_end(base, "base");
        let upper = resolve_end(head, "heads");
        self.walk_revisions(&lower, &upper)
    }

    /// Alembic's `walk_revisions(base, head)`: every revision between, newest first.
    pub(crate) fn walk_revisions(
        &self,
        lower: &Spec,
        upper: &Spec,
    ) -> Result<Vec<&crate::Revision>> {
        let (start, end) = (lower.text(), upper.text());
        let wording = Wording {
            start: Some(&start),
            end: Some(&end),
            ..Wording::default()
        };
        let (needs, targets) = self
            .collect_upgrade(upper, lower, true, false, false)
            .map_err(|e| e.into_error_with(&wording, Some(self)))?;
        Ok(self
            .topological_sort(&needs, &targets)
            .into_iter()
            .map(|n| &self.revs[n])
            .collect())
    }

    /// Every revision, newest first, as `history` without a range lists them.
    pub fn walk_all(&self) -> Result<Vec<&crate::Revision>> {
        self.walk_revisions(&Spec::Ident("base".into()), &Spec::Ident("heads".into()))
    }

    /// Resolve an identifier to revisions, as `show` does: `heads` gives several, `base`
    /// none; partial ids, labels, `label@head` and relative forms are accepted.
    pub fn resolve(&self, ident: &str) -> Result<Vec<&crate::Revision>> {
        check_target(ident, "revision")?;
        let pos = self
            .get_revisions(ident)
            .map_err(|e| e.into_error_with(&Wording::default(), Some(self)))?;
        Ok(pos
            .into_iter()
            .filter_map(|p| match p {
                Pos::Rev(n) => Some(&self.revs[n]),
                _ => None,
            })
            .collect())
    }

    /// The version-table rows reduced to the revisions `current` shows (Alembic's
    /// `get_all_current`: each branch's topmost applied revision).
    pub fn current_heads(&self, rows: &[String]) -> Result<Vec<&crate::Revision>> {
        let nodes = self
            .all_current(rows)
            .map_err(|e| e.into_error_with(&Wording::default(), Some(self)))?;
        Ok(nodes.into_iter().map(|n| &self.revs[n]).collect())
    }

    /// The parents of a new revision created on `head` (`revision --head`, default `head`):
    /// Alembic's rules, including `--splice` to branch from a revision that is not a head.
    pub fn new_revision_parents(&self, head: &str, splice: bool) -> Result<Vec<String>> {
        check_target(head, "head")?;
        let wording = Wording {
            multiple_heads: Some("Multiple heads are present; please specify the head revision on which the new revision should be based, or perform a merge."),
            ..Wording::default()
        };
        let pos = self
            .get_revisions(head)
            .map_err(|e| e.into_error_with(&wording, Some(self)))?;
        let mut parents: Vec<String> = Vec::new();
        for p in pos {
            if let Pos::Rev(n) = p {
                let id = self.id(n).to_string();
                if parents.contains(&id) {
                    return Err(Error::NewRevision(
                        "Duplicate head revisions specified".into(),
                    ));
                }
                if !splice && !self.next[n].is_empty() {
                    return Err(Error::NewRevision(format!(
                        "Revision {id} is not a head revision; please specify --splice to create a new branch from this revision"
                    )));
                }
                parents.push(id);
            }
        }
        Ok(parents)
    }

    /// Resolve `depends_on` values for a new revision: labels stay labels, partial ids become
    /// full ids.
    pub fn resolve_depends_on(&self, deps: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(deps.len());
        for dep in deps {
            check_target(dep, "dependency")?;
            let n = self
                .get_revision(dep)
                .map_err(|e| e.into_error_with(&Wording::default(), Some(self)))?
                .ok_or_else(|| Error::UnknownRevision {
                    argument: dep.clone(),
                    message: "a dependency must name a revision or a branch label, not base"
                        .to_string(),
                    suggestions: Vec::new(),
                })?;
            if self.branch_labels[n].contains(dep) {
                out.push(dep.clone());
            } else {
                out.push(self.id(n).to_string());
            }
        }
        Ok(out)
    }
}

/// Refuses a `START:END` range as the target of an online `upgrade` or `downgrade`, as
/// Alembic does (a range is for `--sql` scripts only). Callers may run it before connecting.
pub fn refuse_range(target: &str) -> Result<()> {
    if target.contains(':') {
        return Err(Error::Usage(
            "Range revision not allowed (a START:END range is only accepted with --sql)".into(),
        ));
    }
    Ok(())
}
