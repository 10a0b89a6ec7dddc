//! The revision graph: parents, children, dependencies, labels, heads and bases.
//!
//! Built once from the parsed revisions, validated (duplicate ids, unknown parents, cycles,
//! labels used twice), then queried by index. The semantics follow Alembic 1.20's
//! `RevisionMap`: "heads" ignore `depends_on` while "real heads" take it into account, a
//! dependency that an ancestor already depends on is dropped from a revision's immediate down
//! revisions ("normalized"), and branch labels spread to every descendant and down to the
//! nearest branch or merge point.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{GraphError, Result};
use crate::resolve::{RResult, RevErr};
use crate::revision::Revision;

/// Index of a revision inside a [`RevisionMap`].
pub(crate) type Node = usize;

/// A map keyed by revision id or branch label.
pub(crate) type IdMap = HashMap<String, Node, BuildHasherDefault<IdHasher>>;

/// The hash of [`IdMap`]: revision ids are short strings read from the project's own files, so
/// a multiply-rotate hash over 8-byte words serves (SipHash's resistance to chosen keys buys
/// nothing here and costs a fifth of building a 10,000-revision graph).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.add(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The validated graph of every revision of a project.
#[derive(Debug, Clone)]
pub struct RevisionMap {
    pub(crate) revs: Vec<Revision>,
    pub(crate) index: IdMap,
    /// Branch label -> the revision that declares it.
    pub(crate) labels: IdMap,
    /// `down_revision` as declared.
    pub(crate) down: Vec<Vec<Node>>,
    /// `depends_on`, resolved to revisions (labels replaced by their revision).
    pub(crate) deps: Vec<Vec<Node>>,
    /// `deps` minus what an ancestor already depends on.
    pub(crate) norm_deps: Vec<Vec<Node>>,
    /// Children through `down_revision` only (Alembic's `nextrev`), in file order.
    pub(crate) next: Vec<Vec<Node>>,
    /// Children through `down_revision` or `depends_on` (Alembic's `_all_nextrev`).
    pub(crate) all_next: Vec<Vec<Node>>,
    /// Own and inherited branch labels.
    pub(crate) branch_labels: Vec<BTreeSet<String>>,
    /// Own and inherited branch labels that Python computes (`cli.EXPAND_BRANCH`), as written;
    /// spread as `branch_labels` are. Empty sets (no allocation) in nearly every project.
    pub(crate) computed_labels: Vec<BTreeSet<String>>,
    /// The revisions declaring computed labels, in file order: while there is one, only a
    /// full id or a label written as a string names a revision (see
    /// [`Revision::computed_branch_labels`]).
    pub(crate) computing: Vec<Node>,
    /// Length of the longest path down to a base through `norm_down`: a revision can only be
    /// an ancestor of revisions deeper than itself.
    pub(crate) depth: Vec<u32>,
    pub(crate) heads: Vec<Node>,
    pub(crate) real_heads: Vec<Node>,
    pub(crate) bases: Vec<Node>,
}

/// A revision declaring computed branch labels, for messages: `id (expression, ...; file)`.
pub(crate) fn computed_source(rev: &Revision) -> String {
    format!(
        "{} ({}; {})",
        rev.id,
        rev.computed_branch_labels.join(", "),
        rev.path.display()
    )
}

fn describe(rev: &Revision) -> String {
    format!("{} ({})", rev.id, rev.path.display())
}

impl RevisionMap {
    /// Build and validate the graph of `revisions` (in the order their files were read).
    ///
    /// Fails, naming the files involved, on a duplicate revision id, a `down_revision` or
    /// `depends_on` naming an unknown revision, a branch label used twice, an illegal character
    /// in an id, and cycles.
    ///
    /// ```
    /// use migrate_core::{RevisionMap, Revision, Migration, ScriptFormat};
    /// let rev = |id: &str, down: &[&str]| Revision {
    ///     id: id.into(),
    ///     down_revisions: down.iter().map(|s| s.to_string()).collect(),
    ///     branch_labels: vec![], computed_branch_labels: vec![], depends_on: vec![],
    ///     message: format!("rev {id}"), doc: String::new(),
    ///     path: format!("{id}.sql").into(), format: ScriptFormat::Sql,
    ///     upgrade: Migration::Sql(vec![]), downgrade: Migration::Sql(vec![]),
    /// };
    /// let map = RevisionMap::new(vec![rev("a1", &[]), rev("b2", &["a1"]), rev("c3", &["a1"])]).unwrap();
    /// let heads: Vec<&str> = map.heads().iter().map(|r| r.id.as_str()).collect();
    /// assert_eq!(heads, ["b2", "c3"]);
    /// assert!(map.is_branch_point("a1"));
    /// ```
    pub fn new(revisions: Vec<Revision>) -> Result<RevisionMap> {
        let n = revisions.len();
        let mut index = IdMap::with_capacity_and_hasher(n, Default::default());
        for (i, rev) in revisions.iter().enumerate() {
            if rev.id.is_empty() {
                return Err(GraphError::EmptyId {
                    path: rev.path.clone(),
                }
                .into());
            }
            let is_illegal = |c: char| matches!(c, '@' | '-' | '+' | ':');
            if rev.id.contains(is_illegal) {
                let illegal: BTreeSet<char> = rev.id.chars().filter(|&c| is_illegal(c)).collect();
                return Err(GraphError::IllegalId {
                    id: rev.id.clone(),
                    chars: illegal.into_iter().collect(),
                    path: rev.path.clone(),
                }
                .into());
            }
            if let Some(&prev) = index.get(&rev.id) {
                return Err(GraphError::DuplicateRevision {
                    id: rev.id.clone(),
                    first: revisions[prev].path.clone(),
                    second: rev.path.clone(),
                }
                .into());
            }
            index.insert(rev.id.clone(), i);
        }
        for rev in &revisions {
            if rev.down_revisions.contains(&rev.id) {
                return Err(GraphError::SelfLoop {
                    id: rev.id.clone(),
                    path: rev.path.clone(),
                }
                .into());
            }
            if rev.depends_on.contains(&rev.id) {
                return Err(GraphError::DependencySelfLoop {
                    id: rev.id.clone(),
                    path: rev.path.clone(),
                }
                .into());
            }
        }

        // Branch labels (declared ones) live in the same namespace as revision ids.
        let mut labels = IdMap::default();
        for (i, rev) in revisions.iter().enumerate() {
            for label in &rev.branch_labels {
                let taken = labels
                    .get(label)
                    .copied()
                    .or_else(|| index.get(label).copied());
                if let Some(other) = taken {
                    return Err(GraphError::DuplicateLabel {
                        label: label.clone(),
                        revision: rev.id.clone(),
                        other: revisions[other].id.clone(),
                        path: rev.path.clone(),
                        other_path: revisions[other].path.clone(),
                    }
                    .into());
                }
                labels.insert(label.clone(), i);
            }
        }

        let lookup = |name: &str| {
            index
                .get(name)
                .copied()
                .or_else(|| labels.get(name).copied())
        };
        let mut down = Vec::with_capacity(n);
        let mut deps = Vec::with_capacity(n);
        for rev in &revisions {
            let mut d = Vec::with_capacity(rev.down_revisions.len());
            for parent in &rev.down_revisions {
                match index.get(parent) {
                    Some(&p) => {
                        if !d.contains(&p) {
                            d.push(p)
                        }
                    }
                    None => {
                        return Err(GraphError::MissingRevision {
                            missing: parent.clone(),
                            revision: rev.id.clone(),
                            field: match rev.format {
                                crate::revision::ScriptFormat::Python => "down_revision",
                                crate::revision::ScriptFormat::Sql => "-- Revises:",
                            },
                            path: rev.path.clone(),
                        }
                        .into())
                    }
                }
            }
            let mut dp = Vec::with_capacity(rev.depends_on.len());
            for dep in &rev.depends_on {
                match lookup(dep) {
                    Some(p) => {
                        if !dp.contains(&p) {
                            dp.push(p)
                        }
                    }
                    None if revisions
                        .iter()
                        .any(|r| !r.computed_branch_labels.is_empty()) =>
                    {
                        return Err(GraphError::DependsOnComputedLabel {
                            missing: dep.clone(),
                            revision: rev.id.clone(),
                            path: rev.path.clone(),
                            labelled: revisions
                                .iter()
                                .filter(|r| !r.computed_branch_labels.is_empty())
                                .map(computed_source)
                                .collect(),
                        }
                        .into())
                    }
                    None => {
                        return Err(GraphError::MissingRevision {
                            missing: dep.clone(),
                            revision: rev.id.clone(),
                            field: match rev.format {
                                crate::revision::ScriptFormat::Python => "depends_on",
                                crate::revision::ScriptFormat::Sql => "-- Depends On:",
                            },
                            path: rev.path.clone(),
                        }
                        .into())
                    }
                }
            }
            down.push(d);
            deps.push(dp);
        }

        let mut next = vec![Vec::new(); n];
        let mut all_next = vec![Vec::new(); n];
        for i in 0..n {
            for &p in &down[i] {
                next[p].push(i);
                if !all_next[p].contains(&i) {
                    all_next[p].push(i);
                }
            }
            for &p in &deps[i] {
                if !all_next[p].contains(&i) {
                    all_next[p].push(i);
                }
            }
        }
        let (mut heads, mut real_heads, mut bases, mut real_bases) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            if next[i].is_empty() {
                heads.push(i);
            }
            if all_next[i].is_empty() {
                real_heads.push(i);
            }
            if down[i].is_empty() {
                bases.push(i);
                if revisions[i].depends_on.is_empty() {
                    real_bases.push(i);
                }
            }
        }

        let mut map = RevisionMap {
            revs: revisions,
            index,
            labels,
            down,
            deps,
            norm_deps: vec![Vec::new(); n],
            next,
            all_next,
            branch_labels: vec![BTreeSet::new(); n],
            computed_labels: vec![BTreeSet::new(); n],
            computing: Vec::new(),
            depth: Vec::new(),
            heads,
            real_heads,
            bases,
        };
        map.detect_cycles(&real_bases)?;
        map.normalize_depends_on();
        map.spread_branch_labels();
        map.depth = map.compute_depths();
        Ok(map)
    }

    /// Alembic's cycle check: every revision must be reachable both from a head going down and
    /// from a base going up, first through `down_revision` alone, then with dependencies.
    fn detect_cycles(&self, real_bases: &[Node]) -> Result<()> {
        let n = self.revs.len();
        if n == 0 {
            return Ok(());
        }
        let names = |nodes: Vec<Node>| {
            let mut ids: Vec<String> = nodes.iter().map(|&i| describe(&self.revs[i])).collect();
            ids.sort();
            ids
        };
        if self.heads.is_empty() || self.bases.is_empty() {
            return Err(GraphError::Cycle {
                revisions: names((0..n).collect()),
            }
            .into());
        }
        let down_space = self.reach(&self.heads, |i, todo| todo.extend(&self.down[i]));
        let up_space = self.reach(&self.bases, |i, todo| todo.extend(&self.next[i]));
        let lost: Vec<Node> = (0..n)
            .filter(|&i| !(down_space[i] && up_space[i]))
            .collect();
        if !lost.is_empty() {
            return Err(GraphError::Cycle {
                revisions: names(lost),
            }
            .into());
        }
        if self.real_heads.is_empty() || real_bases.is_empty() {
            return Err(GraphError::DependencyCycle {
                revisions: names((0..n).collect()),
            }
            .into());
        }
        let down_space = self.reach(&self.real_heads, |i, todo| {
            todo.extend(&self.down[i]);
            todo.extend(&self.deps[i]);
        });
        let up_space = self.reach(real_bases, |i, todo| todo.extend(&self.all_next[i]));
        let lost: Vec<Node> = (0..n)
            .filter(|&i| !(down_space[i] && up_space[i]))
            .collect();
        if !lost.is_empty() {
            return Err(GraphError::DependencyCycle {
                revisions: names(lost),
            }
            .into());
        }
        Ok(())
    }

    /// Every revision reachable from `from` (themselves included); `step` pushes the
    /// revisions one step away from a revision.
    fn reach(&self, from: &[Node], step: impl Fn(Node, &mut Vec<Node>)) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut todo: Vec<Node> = from.to_vec();
        while let Some(i) = todo.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            step(i, &mut todo);
        }
        seen
    }

    fn normalize_depends_on(&mut self) {
        for i in 0..self.revs.len() {
            if self.deps[i].is_empty() {
                continue;
            }
            let mut keep = self.deps[i].clone();
            let ancestors = self.reach(&[i], |j, todo| todo.extend(&self.down[j]));
            for (j, &is_ancestor) in ancestors.iter().enumerate() {
                if is_ancestor && j != i && !self.deps[j].is_empty() {
                    keep.retain(|d| !self.deps[j].contains(d));
                }
            }
            self.norm_deps[i] = keep;
        }
    }

    /// Longest-path depth of every revision through `norm_down` (0 for a base), computed
    /// parents first with an explicit stack, so a long chain cannot overflow the call stack.
    fn compute_depths(&self) -> Vec<u32> {
        const UNKNOWN: u32 = u32::MAX;
        let n = self.revs.len();
        let mut depth = vec![UNKNOWN; n];
        let mut stack: Vec<Node> = Vec::new();
        for start in 0..n {
            if depth[start] != UNKNOWN {
                continue;
            }
            stack.push(start);
            while let Some(&i) = stack.last() {
                let parents = self.down[i].iter().chain(&self.norm_deps[i]);
                let before = stack.len();
                let mut deepest = 0;
                for &p in parents {
                    match depth[p] {
                        UNKNOWN => stack.push(p),
                        d => deepest = deepest.max(d + 1),
                    }
                }
                if stack.len() == before {
                    depth[i] = deepest;
                    stack.pop();
                }
            }
        }
        depth
    }

    /// True when `target` is `from` or one of its ancestors (through `norm_down`). The walk
    /// never goes below `target`'s depth, so it only visits what lies between the two.
    pub(crate) fn reaches(&self, from: Node, target: Node, stamp: &mut (Vec<u32>, u32)) -> bool {
        let (seen, generation) = stamp;
        *generation += 1;
        let floor = self.depth[target];
        let mut todo = vec![from];
        while let Some(i) = todo.pop() {
            if i == target {
                return true;
            }
            if seen[i] == *generation || self.depth[i] <= floor {
                continue;
            }
            seen[i] = *generation;
            todo.extend(self.down[i].iter().copied());
            todo.extend(self.norm_deps[i].iter().copied());
        }
        false
    }

    fn spread_branch_labels(&mut self) {
        let declaring: Vec<Node> = (0..self.revs.len())
            .filter(|&i| {
                !self.revs[i].branch_labels.is_empty()
                    || !self.revs[i].computed_branch_labels.is_empty()
            })
            .collect();
        for i in declaring {
            let own: Vec<String> = self.revs[i].branch_labels.clone();
            let computed: Vec<String> = self.revs[i].computed_branch_labels.clone();
            if !computed.is_empty() {
                self.computing.push(i);
            }
            for j in self.labelled_by(i) {
                self.branch_labels[j].extend(own.iter().cloned());
                self.computed_labels[j].extend(computed.iter().cloned());
            }
        }
    }

    /// The revisions that carry the labels `i` declares (Alembic's spreading): `i`, every
    /// descendant through `down_revision` (walked depth first), and from the last one visited
    /// down the branch to (not including) the nearest branch or merge point.
    fn labelled_by(&self, i: Node) -> Vec<Node> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.revs.len()];
        let mut todo = vec![i];
        let mut last = i;
        while let Some(j) = todo.pop() {
            if seen[j] {
                continue;
            }
            seen[j] = true;
            todo.extend(self.next[j].iter().copied());
            out.push(j);
            last = j;
        }
        let mut parent = Some(last);
        while let Some(p) = parent {
            if self.all_next[p].len() > 1 || self.down[p].len() > 1 {
                break;
            }
            out.push(p);
            parent = self.down[p].first().copied();
        }
        out
    }

    /// `down_revision` plus the dependencies no ancestor already has (Alembic's
    /// `_normalized_down_revisions`): what an upgrade step moves the version table from.
    pub(crate) fn norm_down(&self, i: Node) -> Vec<Node> {
        let mut out = self.down[i].clone();
        for &d in &self.norm_deps[i] {
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    /// Ancestors of `targets` (themselves included), through down revisions and, when
    /// `with_deps`, normalized dependencies.
    /// The revisions a database whose version table holds `rows` has applied: the rows and
    /// every ancestor (through parents and dependencies), in file order. Rows the map does not
    /// know are left out.
    pub fn applied(&self, rows: &[String]) -> Vec<String> {
        let tops: Vec<Node> = rows.iter().filter_map(|r| self.node(r)).collect();
        let seen = self.ancestors(&tops, true);
        (0..self.revs.len())
            .filter(|&i| seen[i])
            .map(|i| self.revs[i].id.clone())
            .collect()
    }

    pub(crate) fn ancestors(&self, targets: &[Node], with_deps: bool) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut todo: Vec<Node> = targets.to_vec();
        while let Some(i) = todo.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            todo.extend(self.down[i].iter().copied());
            if with_deps {
                todo.extend(self.norm_deps[i].iter().copied());
            }
        }
        seen
    }

    /// Descendants of `targets` (themselves included), through children and, when
    /// `with_deps`, dependents.
    pub(crate) fn descendants(&self, targets: &[Node], with_deps: bool) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut todo: Vec<Node> = targets.to_vec();
        while let Some(i) = todo.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            if with_deps {
                todo.extend(self.all_next[i].iter().copied());
            } else {
                todo.extend(self.next[i].iter().copied());
            }
        }
        seen
    }

    /// Fail when one of `targets` is an ancestor (`down`) or descendant of another, as
    /// Alembic's `check=True` walks do.
    pub(crate) fn check_overlap(
        &self,
        targets: &[Node],
        with_deps: bool,
        down: bool,
    ) -> RResult<()> {
        for &t in targets {
            let reach = if down {
                self.ancestors(&[t], with_deps)
            } else {
                self.descendants(&[t], with_deps)
            };
            let overlaps: Vec<&str> = targets
                .iter()
                .filter(|&&o| o != t && reach[o])
                .map(|&o| self.revs[o].id.as_str())
                .collect();
            if !overlaps.is_empty() {
                return Err(RevErr::revision(format!(
                    "Requested revision {} overlaps with other requested revisions {}",
                    self.revs[t].id,
                    overlaps.join(", ")
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn node(&self, id: &str) -> Option<Node> {
        self.index.get(id).copied()
    }

    pub(crate) fn id(&self, i: Node) -> &str {
        &self.revs[i].id
    }

    /// Every revision, in the order the files were read.
    pub fn revisions(&self) -> &[Revision] {
        &self.revs
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.node(id).map(|i| &self.revs[i])
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.revs.len()
    }

    /// True when there is no revision at all.
    pub fn is_empty(&self) -> bool {
        self.revs.is_empty()
    }

    /// The heads: revisions no other revision revises (dependencies aside), in file order.
    pub fn heads(&self) -> Vec<&Revision> {
        self.heads.iter().map(|&i| &self.revs[i]).collect()
    }

    /// The heads when `depends_on` counts as revising ("effective heads", what the version
    /// table holds after upgrading everything).
    pub fn real_heads(&self) -> Vec<&Revision> {
        self.real_heads.iter().map(|&i| &self.revs[i]).collect()
    }

    /// The bases: revisions with no `down_revision`, in file order.
    pub fn bases(&self) -> Vec<&Revision> {
        self.bases.iter().map(|&i| &self.revs[i]).collect()
    }

    /// Revisions whose `down_revision` names `id` (Alembic's `nextrev`), in file order.
    pub fn children(&self, id: &str) -> Vec<&Revision> {
        self.node(id)
            .map(|i| self.next[i].iter().map(|&c| &self.revs[c]).collect())
            .unwrap_or_default()
    }

    /// Revisions whose `depends_on` names `id` (or one of its labels).
    pub fn dependents(&self, id: &str) -> Vec<&Revision> {
        self.node(id)
            .map(|i| {
                self.all_next[i]
                    .iter()
                    .filter(|&&c| self.deps[c].contains(&i))
                    .map(|&c| &self.revs[c])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The parents of `id` through `down_revision` and normalized dependencies.
    pub fn normalized_down_revisions(&self, id: &str) -> Vec<&str> {
        self.node(id)
            .map(|i| self.norm_down(i).into_iter().map(|d| self.id(d)).collect())
            .unwrap_or_default()
    }

    /// True when no revision revises `id` (dependencies aside).
    pub fn is_head(&self, id: &str) -> bool {
        self.node(id).is_some_and(|i| self.next[i].is_empty())
    }

    /// True when `id` revises nothing.
    pub fn is_base(&self, id: &str) -> bool {
        self.node(id).is_some_and(|i| self.down[i].is_empty())
    }

    /// True when more than one revision revises `id`.
    pub fn is_branch_point(&self, id: &str) -> bool {
        self.node(id).is_some_and(|i| self.next[i].len() > 1)
    }

    /// True when `id` revises more than one revision.
    pub fn is_merge_point(&self, id: &str) -> bool {
        self.node(id).is_some_and(|i| self.down[i].len() > 1)
    }

    /// The branch labels of `id`: its own and those inherited along its branch, sorted.
    pub fn branch_labels(&self, id: &str) -> Vec<&str> {
        self.node(id)
            .map(|i| self.branch_labels[i].iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The branch labels of `id` that Python computes, as written (`cli.EXPAND_BRANCH`): its
    /// own and those inherited along its branch, sorted. Empty unless a file declares
    /// `branch_labels` with a name imported from elsewhere.
    pub fn computed_branch_labels(&self, id: &str) -> Vec<&str> {
        self.node(id)
            .map(|i| self.computed_labels[i].iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}
