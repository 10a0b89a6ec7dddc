//! Whether a connection reaches the server directly or through a pooler (PgBouncer,
//! Odyssey, pgcat, a cloud proxy), which decides the lock `lock_mode=auto` takes.
//!
//! No pooler announces itself (PgBouncer declines to, on purpose), so the test is the other
//! way round: a direct connection is one whose server saw the very address `migrate`
//! connected to. The server's own view (`inet_server_addr()`, `inet_server_port()`, its
//! `port` setting) is compared with the URL's host, its resolved addresses, and the port.
//! Anything else (a pooler on another port or host, a TCP hop to a Unix socket, a NAT or
//! port forward) counts as pooled, and the lock that holds everywhere is taken: mistaking a
//! direct connection for a pooled one costs one connection, the reverse costs the lock.

use std::net::IpAddr;

use crate::url::Host;

/// The query that reads [`SessionFacts`]: one round trip, simple protocol, text results.
pub(crate) const SESSION_FACTS_QUERY: &str = "SELECT current_database()::text, \
     current_schema()::text, pg_backend_pid()::text, host(inet_server_addr()), \
     inet_server_port()::text, current_setting('port', true)";

/// What the server says about the session that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionFacts {
    /// `current_database()`.
    pub database: String,
    /// `current_schema()`: `None` when the search path names no existing schema.
    pub schema: Option<String>,
    /// `pg_backend_pid()`.
    pub pid: i32,
    /// `inet_server_addr()`: the address the server was reached at, `None` over a Unix socket.
    pub server_addr: Option<IpAddr>,
    /// `inet_server_port()`, `None` over a Unix socket.
    pub server_port: Option<u16>,
    /// The server's `port` setting (also the number in its socket's file name).
    pub port_setting: Option<u16>,
}

impl SessionFacts {
    /// Read the row of [`SESSION_FACTS_QUERY`]; `None` when it is not the row that query
    /// returns.
    pub(crate) fn from_row(row: &[Option<String>]) -> Option<SessionFacts> {
        let [database, schema, pid, addr, port, setting] = row else {
            return None;
        };
        Some(SessionFacts {
            database: database.clone()?,
            schema: schema.clone(),
            pid: pid.as_deref()?.parse().ok()?,
            server_addr: addr.as_deref().and_then(|a| a.parse().ok()),
            server_port: port.as_deref().and_then(|p| p.parse().ok()),
            port_setting: setting.as_deref().and_then(|p| p.parse().ok()),
        })
    }
}

/// Why the connection does not look direct, or `None` when the server saw exactly what
/// `migrate` connected to: `host`/`port` from the URL, `resolved` the addresses the host
/// name stands for (empty when it could not be resolved, which counts as not direct).
pub(crate) fn pooler_evidence(
    host: &Host,
    port: u16,
    resolved: &[IpAddr],
    facts: &SessionFacts,
) -> Option<String> {
    match host {
        Host::Tcp(_) => {
            let Some(addr) = facts.server_addr else {
                return Some(
                    "migrate connected over TCP but the server was reached through a Unix socket"
                        .into(),
                );
            };
            if facts.server_port != Some(port) {
                return Some(format!(
                    "migrate connected to port {port} but the server was reached at port {}",
                    describe_port(facts.server_port)
                ));
            }
            let addr = addr.to_canonical();
            if !resolved.iter().any(|r| r.to_canonical() == addr) {
                return Some(format!(
                    "the server was reached at {addr}, which is not an address of the host migrate connected to"
                ));
            }
            None
        }
        Host::Socket(_) => {
            if let Some(addr) = facts.server_addr {
                return Some(format!(
                    "migrate connected through a Unix socket but the server was reached at {addr}"
                ));
            }
            if facts.port_setting != Some(port) {
                return Some(format!(
                    "migrate connected to the socket of port {port} but the server listens on port {}",
                    describe_port(facts.port_setting)
                ));
            }
            None
        }
    }
}

fn describe_port(port: Option<u16>) -> String {
    port.map_or_else(|| "(unknown)".to_string(), |p| p.to_string())
}

/// The addresses `host` stands for: itself when it is an IP address, else what the resolver
/// says (empty when it fails).
pub(crate) async fn resolve(host: &Host, port: u16) -> Vec<IpAddr> {
    match host {
        Host::Socket(_) => Vec::new(),
        Host::Tcp(name) => match name.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((name.as_str(), port))
                .await
                .map(|addrs| addrs.map(|a| a.ip()).collect())
                .unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn facts(addr: Option<&str>, port: Option<u16>, setting: Option<u16>) -> SessionFacts {
        SessionFacts {
            database: "app".into(),
            schema: Some("public".into()),
            pid: 42,
            server_addr: addr.map(|a| a.parse().unwrap()),
            server_port: port,
            port_setting: setting,
        }
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn reads_the_row_of_the_facts_query() {
        // What PostgreSQL 15 returns for a TCP session and for a Unix-socket one.
        let row = |v: &[Option<&str>]| v.iter().map(|s| s.map(str::to_string)).collect::<Vec<_>>();
        let tcp = SessionFacts::from_row(&row(&[
            Some("test"),
            Some("public"),
            Some("31274"),
            Some("127.0.0.1"),
            Some("5432"),
            Some("5432"),
        ]))
        .unwrap();
        assert_eq!(tcp.pid, 31274);
        assert_eq!(tcp.server_addr, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(
            (tcp.server_port, tcp.port_setting),
            (Some(5432), Some(5432))
        );
        let socket = SessionFacts::from_row(&row(&[
            Some("test"),
            None,
            Some("7"),
            None,
            None,
            Some("5432"),
        ]))
        .unwrap();
        assert_eq!((socket.schema, socket.server_addr), (None, None));
        assert_eq!(SessionFacts::from_row(&row(&[Some("test")])), None);
    }

    #[test]
    fn a_direct_tcp_connection_is_recognised() {
        let host = Host::Tcp("localhost".into());
        let resolved = ips(&["::1", "127.0.0.1"]);
        let direct = facts(Some("127.0.0.1"), Some(5432), Some(5432));
        assert_eq!(pooler_evidence(&host, 5432, &resolved, &direct), None);
        // The server may report an IPv4 client of a dual-stack socket in mapped form.
        let mapped = facts(Some("::ffff:127.0.0.1"), Some(5432), Some(5432));
        assert_eq!(pooler_evidence(&host, 5432, &resolved, &mapped), None);
    }

    #[test]
    fn a_pooler_on_another_port_or_host_is_recognised() {
        let host = Host::Tcp("127.0.0.1".into());
        let here = ips(&["127.0.0.1"]);
        // PgBouncer on 6432 in front of the server on 5432, on one machine.
        let bouncer = facts(Some("127.0.0.1"), Some(5432), Some(5432));
        let why = pooler_evidence(&host, 6432, &here, &bouncer).unwrap();
        assert!(
            why.contains("port 6432") && why.contains("port 5432"),
            "{why}"
        );
        // A pooler on its own machine, listening on the server's usual port.
        let elsewhere = facts(Some("10.0.0.5"), Some(5432), Some(5432));
        let why = pooler_evidence(&host, 5432, &here, &elsewhere).unwrap();
        assert!(why.contains("10.0.0.5"), "{why}");
        // A pooler that reaches the server through its socket.
        let via_socket = facts(None, None, Some(5432));
        assert!(pooler_evidence(&host, 5432, &here, &via_socket).is_some());
        // A host name that did not resolve cannot be proven direct.
        let named = Host::Tcp("db.internal".into());
        let direct = facts(Some("127.0.0.1"), Some(5432), Some(5432));
        assert!(pooler_evidence(&named, 5432, &[], &direct).is_some());
    }

    #[test]
    fn unix_sockets_compare_the_servers_port() {
        let host = Host::Socket(PathBuf::from("/var/run/postgresql"));
        assert_eq!(
            pooler_evidence(&host, 5432, &[], &facts(None, None, Some(5432))),
            None
        );
        // PgBouncer's socket (.s.PGSQL.6432) in front of the server's.
        assert!(pooler_evidence(&host, 6432, &[], &facts(None, None, Some(5432))).is_some());
        // A socket pooler that reaches the server over TCP.
        let tcp = facts(Some("127.0.0.1"), Some(5432), Some(5432));
        assert!(pooler_evidence(&host, 5432, &[], &tcp).is_some());
    }
}
