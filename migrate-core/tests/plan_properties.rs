//! Properties of the planner over random revision graphs (roots, branches, merges of two and
//! three parents, `depends_on` across branches).

use std::collections::BTreeSet;

mod support;

use migrate_core::{Direction, Revision, RevisionMap, VersionChange};
use proptest::prelude::*;
use support::{strs, RevisionExt};

fn rev(id: String, down: Vec<String>, deps: Vec<String>) -> Revision {
    support::rev(&id, &strs(&down)).depends_on(&strs(&deps))
}

/// Build a graph from random choices: each new revision is a root, a child of one earlier
/// revision, or a merge of two or three unrelated earlier ones, sometimes with a dependency.
fn graph(choices: &[(u8, u8, u8, u8)]) -> RevisionMap {
    let mut revs: Vec<Revision> = Vec::new();
    let mut anc: Vec<BTreeSet<usize>> = Vec::new();
    for (i, &(kind, a, b, dep)) in choices.iter().enumerate() {
        let id = format!("r{i:03}x");
        let mut parents: Vec<usize> = Vec::new();
        if i > 0 && kind % 5 != 0 {
            parents.push(a as usize % i);
            if kind % 5 >= 3 {
                for extra in [b as usize % i, dep as usize % i] {
                    let related = parents
                        .iter()
                        .any(|&p| p == extra || anc[p].contains(&extra) || anc[extra].contains(&p));
                    if !related && (parents.len() < 2 || kind % 5 == 4) {
                        parents.push(extra);
                    }
                }
            }
        }
        let mut mine: BTreeSet<usize> = BTreeSet::new();
        for &p in &parents {
            mine.insert(p);
            mine.extend(anc[p].iter().copied());
        }
        let mut deps = Vec::new();
        if i > 1 && dep % 4 == 0 {
            let d = (dep as usize / 4) % i;
            if !mine.contains(&d) {
                deps.push(revs[d].id.clone());
                mine.insert(d);
                mine.extend(anc[d].iter().copied());
            }
        }
        anc.push(mine);
        revs.push(rev(
            id,
            parents.iter().map(|&p| revs[p].id.clone()).collect(),
            deps,
        ));
    }
    RevisionMap::new(revs).expect("generated graphs are valid")
}

/// Every row exists, no row is below another, and the applied set is exactly what the rows
/// imply (the rows and everything they stand on, dependencies included).
fn assert_consistent(map: &RevisionMap, rows: &[String], applied: &BTreeSet<String>) {
    let unique: BTreeSet<&String> = rows.iter().collect();
    assert_eq!(unique.len(), rows.len(), "duplicate rows {rows:?}");
    let mut implied: BTreeSet<String> = BTreeSet::new();
    for r in rows {
        assert!(map.get(r).is_some(), "unknown row {r}");
        let mut todo = vec![r.clone()];
        while let Some(x) = todo.pop() {
            if implied.insert(x.clone()) {
                todo.extend(
                    map.normalized_down_revisions(&x)
                        .iter()
                        .map(|s| s.to_string()),
                );
            }
        }
    }
    for r in rows {
        let mut below = implied.clone();
        below.remove(r);
        // r must not be implied by another row.
        let mut others: BTreeSet<String> = BTreeSet::new();
        for o in rows.iter().filter(|o| *o != r) {
            let mut todo = vec![o.clone()];
            while let Some(x) = todo.pop() {
                if others.insert(x.clone()) {
                    todo.extend(
                        map.normalized_down_revisions(&x)
                            .iter()
                            .map(|s| s.to_string()),
                    );
                }
            }
        }
        assert!(
            !others.contains(r),
            "row {r} is below another row in {rows:?}"
        );
    }
    assert_eq!(&implied, applied, "rows {rows:?} do not match what ran");
}

fn apply(
    map: &RevisionMap,
    rows: &mut Vec<String>,
    applied: &mut BTreeSet<String>,
    plan: &migrate_core::Plan,
    ran: &mut Vec<(String, Direction)>,
) {
    assert_eq!(&plan.start, rows);
    for step in &plan.steps {
        let id = step
            .revision
            .clone()
            .expect("upgrade/downgrade steps name a revision");
        match step.direction {
            Direction::Up => assert!(applied.insert(id.clone()), "{id} applied twice"),
            Direction::Down => assert!(applied.remove(&id), "{id} undone but never applied"),
        }
        for c in &step.changes {
            match c {
                VersionChange::Insert(v) => rows.push(v.clone()),
                VersionChange::Delete(v) => rows.retain(|r| r != v),
                VersionChange::Update { from, to } => {
                    let at = rows
                        .iter()
                        .position(|r| r == from)
                        .expect("updated row exists");
                    rows[at] = to.clone();
                }
            }
        }
        ran.push((id, step.direction));
    }
    assert_eq!(&plan.end, rows);
    assert_consistent(map, rows, applied);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn upgrade_heads_then_downgrade_base_runs_everything_once_each_way(
        choices in prop::collection::vec(any::<(u8, u8, u8, u8)>(), 1..14)
    ) {
        let map = graph(&choices);
        let (mut rows, mut applied, mut ran) = (Vec::new(), BTreeSet::new(), Vec::new());
        let up = map.plan_upgrade(&rows, "heads").unwrap();
        apply(&map, &mut rows, &mut applied, &up, &mut ran);
        prop_assert_eq!(applied.len(), map.len());
        let down = map.plan_downgrade(&rows, "base").unwrap();
        apply(&map, &mut rows, &mut applied, &down, &mut ran);
        prop_assert!(rows.is_empty());
        prop_assert_eq!(ran.len(), 2 * map.len());
        // Nothing is left to do at either end.
        prop_assert!(map.plan_downgrade(&rows, "base").unwrap().steps.is_empty());
    }

    #[test]
    fn any_upgrade_then_relative_downgrade_keeps_the_table_consistent(
        choices in prop::collection::vec(any::<(u8, u8, u8, u8)>(), 1..14),
        moves in prop::collection::vec((any::<u8>(), 1u8..4, any::<bool>()), 1..8)
    ) {
        let map = graph(&choices);
        let ids: Vec<String> = map.revisions().iter().map(|r| r.id.clone()).collect();
        let (mut rows, mut applied, mut ran) = (Vec::new(), BTreeSet::new(), Vec::new());
        // Shown by the test harness when a case fails: the graph, then each command.
        for r in map.revisions() {
            eprintln!("{} down={:?} deps={:?}", r.id, r.down_revisions, r.depends_on);
        }
        for (pick, n, up) in moves {
            if up {
                eprintln!("upgrade {}", ids[pick as usize % ids.len()]);
            } else {
                eprintln!("downgrade -{n}");
            }
            let plan = if up {
                map.plan_upgrade(&rows, &ids[pick as usize % ids.len()])
            } else {
                map.plan_downgrade(&rows, &format!("-{n}"))
            };
            match plan {
                Ok(plan) => apply(&map, &mut rows, &mut applied, &plan, &mut ran),
                // An upgrade to a revision of the graph is always possible.
                Err(e) if up => panic!("upgrade refused: {e}"),
                // Alembic refuses some relative downgrades: from several rows (we refuse all
                // of those, where Alembic only warns), and walks that overrun the base or
                // meet a branch point; an error, never a broken table.
                Err(e) => {
                    let e = e.to_string();
                    let expected = if rows.len() > 1 {
                        e.contains("from multiple heads is ambiguous")
                    } else {
                        e == format!("Relative revision -{n} didn't produce {n} migrations")
                            || e == "Ambiguous walk"
                    };
                    prop_assert!(expected, "rows {:?}: downgrade -{} refused: {}", rows, n, e);
                }
            }
        }
        let down = map.plan_downgrade(&rows, "base").unwrap();
        apply(&map, &mut rows, &mut applied, &down, &mut ran);
        prop_assert!(rows.is_empty() && applied.is_empty());
    }
}
