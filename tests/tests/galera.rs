//! Issue 16: on a MariaDB Galera cluster, runs connected to different nodes never migrate
//! together. `GET_LOCK` is one node's; `lock_mode=auto` sees `wsrep_on` and claims a lock row
//! instead, whose concurrent claims on two nodes Galera's certification turns into one
//! winner and one deadlock error.
//!
//! The test starts three nodes of its own (Debian's `galera-4` beside the installed
//! `mariadbd`): the first bootstraps the cluster, the others join it and receive its data
//! (rsync state transfer). They are stopped when the test ends, also when it fails.

mod common;
mod concurrent_runs;
#[path = "../../migrate-mysql/tests/support/mariadb.rs"]
mod mariadb;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use common::{random_name, require_all};
use concurrent_runs::{
    assert_all_succeeded, each_revision_once, log_project, revision_id, upgrade_all_at_once,
    APPLIED_COUNTS,
};
use mariadb::{free_port, MariaDb, Settings};

const NODES: usize = 3;
const REVISIONS: usize = 30;
const PROCESSES: usize = 8;

/// The Galera provider library: where `dpkg -L galera-4` says, else Debian's usual place.
fn galera_provider() -> Option<PathBuf> {
    let listed = Command::new("dpkg")
        .args(["-L", "galera-4"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    listed
        .lines()
        .map(PathBuf::from)
        .chain([PathBuf::from("/usr/lib/galera/libgalera_smm.so")])
        .find(|p| p.file_name().is_some_and(|n| n == "libgalera_smm.so") && p.is_file())
}

/// Three nodes of one cluster; dropping it stops them.
struct Cluster {
    nodes: Vec<MariaDb>,
}

impl Cluster {
    /// The cluster, or `None` when the test is skipped (a failure under
    /// `MIGRATE_TEST_REQUIRE_ALL=1`).
    fn start() -> Option<Cluster> {
        let skip = |why: String| {
            assert!(
                !require_all(),
                "cannot start a Galera cluster, and MIGRATE_TEST_REQUIRE_ALL=1 requires it: {why}"
            );
            eprintln!("skipped: cannot start a Galera cluster: {why}");
            None
        };
        let Some(provider) = galera_provider() else {
            return skip("galera-4 is not installed (apt-get install galera-4)".into());
        };
        let started = Instant::now();
        // Per node: the cluster (gcomm), incremental and full state transfer ports.
        let ports: Vec<(u16, u16, u16)> = (0..NODES)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let members: Vec<String> = ports
            .iter()
            .map(|(gcomm, _, _)| format!("127.0.0.1:{gcomm}"))
            .collect();
        let cluster_name = random_name();
        let mut nodes = Vec::new();
        for (i, (gcomm, ist, sst)) in ports.iter().enumerate() {
            let settings = Settings {
                name: format!("galera{}", i + 1),
                lines: vec![
                    "binlog_format=ROW".into(),
                    "default_storage_engine=InnoDB".into(),
                    "innodb_autoinc_lock_mode=2".into(),
                    "wsrep_on=ON".into(),
                    format!("wsrep_provider={}", provider.display()),
                    format!("wsrep_cluster_name={cluster_name}"),
                    format!("wsrep_cluster_address=gcomm://{}", members.join(",")),
                    format!("wsrep_node_address=127.0.0.1:{gcomm}"),
                    format!("wsrep_node_name=galera{}", i + 1),
                    format!(
                        "wsrep_provider_options=\"gmcast.listen_addr=tcp://127.0.0.1:{gcomm};ist.recv_addr=127.0.0.1:{ist};gcache.size=16M\""
                    ),
                    format!("wsrep_sst_receive_address=127.0.0.1:{sst}"),
                    "wsrep_sst_method=rsync".into(),
                ],
                // The first node bootstraps the cluster from a fresh data folder; the others
                // receive its data when they join.
                initialize: i == 0,
                args: if i == 0 {
                    vec!["--wsrep-new-cluster".into()]
                } else {
                    Vec::new()
                },
            };
            match MariaDb::start(settings) {
                Ok(node) => nodes.push(node),
                Err(why) => return skip(why),
            }
        }
        eprintln!(
            "{NODES} Galera nodes started in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Some(Cluster { nodes })
    }

    /// `(node, rows)` of `sql` run on every node, each read after the node has applied what
    /// the cluster committed (`wsrep_sync_wait`).
    fn query_each(&self, database: &str, sql: &str) -> Vec<Vec<Vec<Option<String>>>> {
        self.nodes
            .iter()
            .map(|node| common::mysql_query(&node.url(database, ""), &causal(sql)))
            .collect()
    }
}

/// `sql` as one statement that first waits for the cluster's commits to be applied here:
/// `mysql_query` runs one statement per connection, and `SET STATEMENT` scopes the wait to it.
fn causal(sql: &str) -> String {
    format!("SET STATEMENT wsrep_sync_wait = 1 FOR {sql}")
}

#[test]
fn eight_runs_spread_over_three_nodes_apply_every_revision_once() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let database = random_name();
    common::mysql_query(
        &cluster.nodes[0].url("mysql", ""),
        &format!("CREATE DATABASE {database}"),
    );
    let urls: Vec<String> = (0..PROCESSES)
        .map(|i| cluster.nodes[i % NODES].url(&database, ""))
        .collect();
    let project = log_project(REVISIONS, "");
    let runs = upgrade_all_at_once(&project, &urls);

    assert_all_succeeded(&runs);
    for (i, rows) in cluster
        .query_each(&database, APPLIED_COUNTS)
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            rows,
            each_revision_once(REVISIONS),
            "every revision exactly once, as node {} sees it",
            i + 1
        );
    }
    for versions in cluster.query_each(&database, "SELECT version_num FROM alembic_version") {
        assert_eq!(versions, vec![vec![Some(revision_id(REVISIONS))]]);
    }
    // auto took the lock row (not GET_LOCK), and every run gave it back.
    for holders in cluster.query_each(&database, "SELECT holder FROM alembic_version_lock") {
        assert_eq!(holders, vec![vec![None]]);
    }
}
