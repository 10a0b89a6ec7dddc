//! Which database URL wins, when several places name one.
//!
//! The general layering (files, `MIGRATE_*` variables, the named environment, `--url`) decides
//! most settings. The URL has three more sources that are not the project's own choice, and
//! rules of its own so that none of them silently moves a run to another database:
//!
//! - `--url`, the active named environment's `url` and `MIGRATE_URL` are explicit choices
//!   made for `migrate`: the highest of them wins outright.
//! - Otherwise the project's URL is the highest `url` of its files (`migrate.toml`,
//!   `sqlalchemy.url` or `[migrate]` of `alembic.ini`), else one built from the `POSTGRES_*`
//!   variables (the container-image convention a `.env` usually holds). `DATABASE_URL` is the
//!   process-wide convention many programs read: when it and the project's URL both exist and
//!   name different databases, that is an error saying both, not a guess; when they agree, or
//!   only one exists, that one is used.
//! - libpq's own variables (`PGHOST`, `PGDATABASE`, ...) are ambient defaults of a shell: they
//!   build a URL only when nothing above gives one, and are reported as unused otherwise.
//! - `alembic init`'s placeholder `driver://user:pass@localhost/dbname` is "no URL".

use super::vars::Vars;
use super::ConfiguredUrl;
use crate::url::{describe_url, Backend, DatabaseUrl, ServerParts};

/// The URL `alembic init` writes into `sqlalchemy.url` for the user to replace.
pub const ALEMBIC_PLACEHOLDER_URL: &str = "driver://user:pass@localhost/dbname";

/// A URL one source gives, interpolated, and how that source is named.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The URL (may hold a password).
    pub url: String,
    /// Where it came from, e.g. `url in migrate.toml`.
    pub source: String,
}

/// What the rules decided.
#[derive(Debug, Default)]
pub struct Decision {
    /// The URL to use, when there is one.
    pub url: Option<ConfiguredUrl>,
    /// Why there is none although sources gave some: two that disagree, or the placeholder.
    pub problem: Option<String>,
    /// Sources that were set but not used, for `migrate config` and `-v`.
    pub notes: Vec<String>,
}

/// Applies the rules: `explicit` is the winning URL when it came from `--url`, the named
/// environment or `MIGRATE_URL`; `from_files` the highest URL of the configuration files.
pub fn decide(explicit: Option<Candidate>, from_files: Option<Candidate>, vars: &Vars) -> Decision {
    let mut decision = Decision::default();
    let database_url = vars.non_empty("DATABASE_URL").map(|url| Candidate {
        url: url.to_string(),
        source: vars.describe("DATABASE_URL"),
    });
    let pg = variables_url(vars, &PG_NAMES, "PG*");
    let postgres = variables_url(vars, &POSTGRES_NAMES, "POSTGRES_*");

    let mut placeholder = None;
    let from_files = from_files.filter(|c| {
        let is_placeholder = c.url.trim() == ALEMBIC_PLACEHOLDER_URL;
        if is_placeholder {
            placeholder = Some(c.source.clone());
        }
        !is_placeholder
    });
    if let Some(source) = &placeholder {
        decision.notes.push(format!(
            "{source} is `alembic init`'s placeholder {ALEMBIC_PLACEHOLDER_URL}: read as no URL"
        ));
    }

    let chosen = if let Some(explicit) = explicit {
        Some(explicit)
    } else {
        let project = from_files.or_else(|| postgres.clone());
        match (database_url.clone(), project) {
            (Some(ambient), Some(project)) if same_database(&ambient.url, &project.url) => {
                decision.notes.push(format!(
                    "{} names the same database as {}",
                    ambient.source, project.source
                ));
                Some(project)
            }
            (Some(ambient), Some(project)) => {
                decision.problem = Some(format!(
                    "two database URLs are configured and they name different databases: {} names {}, and {} names {}; \
                     migrate does not choose between two databases, so nothing was run. Pass --url, set MIGRATE_URL \
                     (which beats the files), select a named environment with --env, or unset DATABASE_URL \
                     or remove the other URL so that one remains",
                    ambient.source,
                    describe_url(&ambient.url),
                    project.source,
                    describe_url(&project.url),
                ));
                return decision;
            }
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => pg.clone(),
        }
    };
    let Some(chosen) = chosen.filter(|c| !c.url.trim().is_empty()) else {
        if let Some(source) = placeholder {
            decision.problem = Some(format!(
                "no database URL is configured: {source} is still `alembic init`'s placeholder \
                 {ALEMBIC_PLACEHOLDER_URL}; replace it with the real URL, or pass --url, or set DATABASE_URL or MIGRATE_URL"
            ));
        }
        return decision;
    };
    for unused in [&database_url, &postgres, &pg].into_iter().flatten() {
        if unused.source != chosen.source
            && !decision.notes.iter().any(|n| n.starts_with(&unused.source))
        {
            decision.notes.push(format!(
                "{}: set but not used (the URL comes from {})",
                unused.source, chosen.source
            ));
        }
    }
    decision.url = Some(ConfiguredUrl {
        url: chosen.url,
        source: chosen.source,
    });
    decision
}

/// Whether two URLs name the same database (same backend URL once the scheme is made
/// canonical and the `+driver` part dropped).
fn same_database(a: &str, b: &str) -> bool {
    match (DatabaseUrl::parse(a), DatabaseUrl::parse(b)) {
        (Ok(a), Ok(b)) => a.as_backend_url() == b.as_backend_url(),
        _ => a.trim() == b.trim(),
    }
}

/// libpq's variables: host, port, user, password, database.
const PG_NAMES: [&str; 5] = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"];
/// The PostgreSQL container image's variables, in the same order.
const POSTGRES_NAMES: [&str; 5] = [
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
];

/// A `postgresql://` URL from one family of variables, when its host or database is set (a
/// lone password or port does not mean "connect here"); the source names the variables read
/// and where each came from.
fn variables_url(vars: &Vars, names: &[&str; 5], family: &str) -> Option<Candidate> {
    let get = |n: &str| vars.non_empty(n).map(String::from);
    let [host, port, user, password, database] = *names;
    if get(host).is_none() && get(database).is_none() {
        return None;
    }
    let parts = ServerParts {
        host: get(host),
        port: get(port),
        user: get(user).or_else(|| (family == "PG*").then(|| get("USER")).flatten()),
        password: get(password),
        database: get(database),
    };
    // Grouped by place: "POSTGRES_HOST, POSTGRES_DB in .env; POSTGRES_PASSWORD in the environment".
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for name in names.iter().filter(|n| get(n).is_some()) {
        let Some(place) = vars.place(name) else {
            continue;
        };
        let place = vars.place_name(place).to_string();
        match groups.iter_mut().find(|(p, _)| *p == place) {
            Some((_, list)) => list.push(name),
            None => groups.push((place, vec![name])),
        }
    }
    let read: Vec<String> = groups
        .into_iter()
        .map(|(place, list)| format!("{} in {place}", list.join(", ")))
        .collect();
    Some(Candidate {
        url: parts.to_url(Backend::Postgres),
        source: format!("{family} variables ({})", read.join("; ")),
    })
}
